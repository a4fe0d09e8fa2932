# SPDX-License-Identifier: ISC
# php.group with fpm.so, whose php-cgi forks a child when fpm-supervise
# asks: the children asked for against those alive, under churn and stops.

bats_require_minimum_version 1.5.0
load helpers/common
load helpers/supervise
load helpers/group

setup() {
	group_setup
	[[ $EXT != no ]] || skip "fpm.so not built"
}

@test "fault-fork: a php-cgi that cannot be started leaks no fd in the supervisor" {
	mkdir "$D/bin"
	printf '#!/bin/sh\nexec %s "$@"\n' "$(command -v php-cgi)" >"$D/bin/php-cgi"
	chmod 755 "$D/bin/php-cgi"
	group "command = $D/bin/php-cgi"
	leader=$(group_pids)
	at_once 3
	before=$(ls /proc/$SUP/fd | wc -l)
	# not executable: each start fails at exec (spawn_start)
	chmod 644 "$D/bin/php-cgi"
	kill -KILL "$leader"
	wait_for 10 eval '[[ $(grep -c "unable to start php-cgi" "$LOG") -ge 3 ]]'
	chmod 755 "$D/bin/php-cgi"
	wait_for 10 eval '[[ $(group_pids | wc -l) == 2 ]]'
	at_once 3
	[[ $(grep -cE '^[0-9]+ [0-9]+$' "$D/at_once") == 3 ]]
	wait_for 10 eval '[[ $(ls /proc/$SUP/fd | wc -l) -le $before ]]' ||
	    { ls -l /proc/$SUP/fd; false; }
}

@test "fault-fork: without fpm.so, a script cannot speak for php-cgi on the group socket" {
	# a record that says php-cgi forks when asked, from a program the
	# script runs, if fd 3 is a socket
	cat >"$APP/say.php" <<'PHP'
<?php
$l = @readlink('/proc/self/fd/3');
if (is_string($l) && strncmp($l, 'socket:', 7) == 0)
	exec("printf '\\110\\0\\0\\0\\1\\0\\0\\0\\3\\0\\0\\0' >&3");
echo $l ?: 'none', "\n";
PHP
	EXT=no
	group "pm = ondemand" "pm.process_idle_timeout = 1s"
	run -0 fcgi-client -s "$SOCK" -t 20000 -p REQUEST_METHOD=GET \
	    -p "SCRIPT_FILENAME=$APP/say.php" -p SCRIPT_NAME=/say.php
	echo "$output"
	[[ $output != *socket:* ]]
	# an idle php-cgi without fpm.so goes, as it did
	leader=$(group_pids)
	wait_for 10 grep -q "php-cgi $leader exited with code 0" "$LOG"
}

@test "fault-fork: ondemand: a child killed while idle leaves no spare child once the pool is idle" {
	group "pm = ondemand" "pm.process_idle_timeout = 1s"
	leader=$(group_pids)
	run -0 g ""
	victim=${output% *}
	kill -KILL "$victim"
	wait_for 10 grep -q "child $victim exited on signal 9" "$LOG"
	# its worker let go when idle, no child is left to php-cgi
	wait_for 10 total 0
	wait_for 10 eval '[[ $(kids "$leader") == 0 ]]'
	run -0 g ""
	wait_for 10 total 0
	wait_for 10 eval '[[ $(kids "$leader") == 0 ]]'
	# the same php-cgi, warm
	kill -0 "$leader"
	[[ $(group_pids | wc -l) == 1 ]]
}

@test "fault-fork: dynamic: children killed while idle leave no spare child once the pool trims" {
	group "pm = dynamic" "pm.start_servers = 1" "pm.min_spare_servers = 1" \
	    "pm.max_spare_servers = 2"
	leader=$(group_pids)
	at_once 2
	[[ $(awk '{ print $1 }' "$D/at_once" | sort -u | wc -l) == 2 ]]
	# both workers idle, their children killed: each is forked again
	for victim in $(awk '{ print $1 }' "$D/at_once"); do
		kill -KILL "$victim"
		wait_for 10 grep -q "child $victim exited on signal 9" "$LOG"
	done
	# one worker let go (a reload): its child with it
	echo "pm.max_spare_servers = 1" >>"$CONF"
	kill -USR2 "$SUP"
	wait_for 10 grep -q "configuration reloaded" "$LOG"
	wait_for 10 total 1
	wait_for 10 eval '[[ $(kids "$leader") == 1 ]]'
	run -0 g ""
}
