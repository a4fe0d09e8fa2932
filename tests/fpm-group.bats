# SPDX-License-Identifier: ISC
# php.group: the workers of a php-cgi pool are the children of one php-cgi,
# and share its OPcache.

bats_require_minimum_version 1.5.0
load helpers/common
load helpers/supervise
load helpers/group

# each pool with OPcache, its scripts cached at once
setup() {
	group_setup
	GROUP_LINES=("php_admin_value[opcache.enable] = 1"
	    "php_admin_value[opcache.file_update_protection] = 0")
}

# children: the pids the status page shows, sorted
children() {
	fcgi-client -s "$SOCK" -t 5000 -p SCRIPT_NAME=/status \
	    -p QUERY_STRING=full | awk '$1 == "pid:" && $2 != 0 { print $2 }' |
	    sort
}

@test "fpm-group: the workers are one php-cgi's children and see one OPcache" {
	group
	leader=$(group_pids)
	[[ -n $leader ]]
	grep -q "\[pool www\] php-cgi $leader started: its children, 3 at most, are the workers" "$LOG"
	run -0 g "t=warm"
	[[ $output == *" 3" ]]
	at_once 3
	cat "$D/at_once"
	# three processes, each a child of the one php-cgi, each seeing the
	# three scripts only one of them compiled
	[[ $(awk '{ print $1 }' "$D/at_once" | sort -u | wc -l) == 3 ]]
	for pid in $(awk '{ print $1 }' "$D/at_once"); do
		[[ $(ps -o ppid= -p "$pid" | tr -d ' ') == "$leader" ]]
		grep -q "\[pool www\] child $pid started" "$LOG"
	done
	[[ $(awk '{ print $2 }' "$D/at_once" | sort -u) == 3 ]]
	# status knows them by pid
	[[ $(children) == $(awk '{ print $1 }' "$D/at_once" | sort) ]]
}

@test "fpm-group: php.group = no runs separate workers, each its own cache" {
	group "php.group = no"
	[[ -z $(group_pids) ]]
	run -0 g "t=warm"
	at_once 3
	cat "$D/at_once"
	# the two that never ran the warm-up have only the script itself
	[[ $(awk '$2 == 1' "$D/at_once" | wc -l) == 2 ]]
}

@test "fpm-group: a killed child is logged, re-forked warm, and the pool serves on" {
	group
	run -0 g "t=warm"
	at_once 3
	victim=$(awk 'NR == 1 { print $1 }' "$D/at_once")
	kill -KILL "$victim"
	wait_for 10 grep -q "WARNING: \[pool www\] child $victim exited on signal 9 (SIGKILL) after" "$LOG"
	# its parent forked another, which we see, with the cache as it was
	wait_for 10 eval '[[ $(grep -c "\] child [0-9]* started" "$LOG") == 4 ]]'
	at_once 3
	cat "$D/at_once"
	! grep -q "^$victim " "$D/at_once"
	[[ $(awk '{ print $2 }' "$D/at_once" | sort -u) == 3 ]]
	[[ $(group_pids | wc -l) == 1 ]]
}

@test "fpm-group: pm.max_requests recycles the child, whose successor starts warm" {
	group "pm.max_children = 1" "pm.max_requests = 2"
	run -0 g "t=warm"
	first=${output% *}
	run -0 g ""
	[[ ${output% *} == "$first" ]]
	wait_for 10 grep -q "child $first exited with code 0" "$LOG"
	run -0 g ""
	[[ ${output% *} != "$first" ]]
	# the new child never compiled fpm-group-a.php or -b.php
	[[ ${output#* } == 3 ]]
}

@test "fpm-group: emergency restart replaces the php-cgi, and its cache" {
	GLOBAL=$'emergency_restart_threshold = 2\nemergency_restart_interval = 60s'
	group
	old=$(group_pids)
	run -0 g "t=warm"
	at_once 3
	for pid in $(awk 'NR <= 2 { print $1 }' "$D/at_once"); do
		kill -SEGV "$pid"
		wait_for 10 grep -q "child $pid exited on signal 11 (SIGSEGV)" "$LOG"
	done
	wait_for 10 grep -q "failed processes threshold (2 in 60 sec) is reached" "$LOG"
	wait_for 10 eval '[[ $(group_pids | wc -l) == 2 ]]'
	wait_for 10 grep -q "php-cgi $old exited" "$LOG"
	# a new cache: only the script itself
	run -0 g ""
	[[ ${output#* } == 1 ]]
	[[ $(ps -o ppid= -p "${output% *}" | tr -d ' ') == "$(group_pids | tail -1)" ]]
}

@test "fpm-group: ondemand keeps php-cgi warm and childless; the first request forks a child" {
	[[ $EXT != no ]] || skip "fpm.so not built"
	group "pm = ondemand" "pm.process_idle_timeout = 1s"
	# php-cgi from the start, no child before a request
	wait_for 10 eval '[[ -n $(group_pids) ]]'
	leader=$(group_pids)
	wait_for 10 grep -q "php-cgi $leader started" "$LOG"
	[[ $(kids "$leader") == 0 ]]
	run -0 g "t=warm"
	first=${output% *}
	[[ $(ps -o ppid= -p "$first" | tr -d ' ') == "$leader" ]]
	wait_for 10 grep -q "\[pool www\] child $first started" "$LOG"
	# the idle child goes, its php-cgi stays
	wait_for 10 grep -q "NOTICE: \[pool www\] child $first exited with code 0" "$LOG"
	wait_for 5 pid_gone "$first"
	kill -0 "$leader"
	[[ $(kids "$leader") == 0 ]]
	# the next child sees the cache the first one filled
	run -0 g ""
	[[ ${output% *} != "$first" ]]
	[[ ${output#* } == 3 ]]
	[[ $(group_pids | wc -l) == 1 ]]
}

@test "fpm-group: an ondemand php-cgi slower to start than pm.process_idle_timeout is kept" {
	[[ $EXT != no ]] || skip "fpm.so not built"
	mkdir "$D/bin"
	# php-cgi's start-up, held until $W/go
	printf '#!/bin/sh\nwhile ! [ -e %s ]; do sleep 0.05; done\nexec %s "$@"\n' \
	    "$W/go" "$(command -v php-cgi)" >"$D/bin/php-cgi"
	chmod 755 "$D/bin/php-cgi"
	t0=$(date +%s%N)
	group "command = $D/bin/php-cgi" "pm = ondemand" \
	    "pm.process_idle_timeout = 1s"
	leader=$(group_pids)
	# a pass of the pool after the idle timeout (a reload), still starting
	wait_for 10 eval '(( $(date +%s%N) - t0 > 1500000000 ))'
	kill -USR2 "$SUP"
	wait_for 10 grep -q "configuration reloaded" "$LOG"
	touch "$W/go"
	wait_for 10 eval '[[ $(readlink "/proc/$leader/exe") == *php-cgi* ]]'
	run -0 g ""
	[[ $(ps -o ppid= -p "${output% *}" | tr -d ' ') == "$leader" ]]
	# its child goes when idle: the pool's passes have run by then
	wait_for 10 grep -q "child ${output% *} exited" "$LOG"
	kill -0 "$leader"
	[[ $(group_pids | wc -l) == 1 ]]
}

@test "fpm-group: without fpm.so, ondemand starts php-cgi with the first request, and stops it when idle" {
	EXT=no
	group "pm = ondemand" "pm.process_idle_timeout = 1s"
	[[ -z $(group_pids) ]]
	run -0 g ""
	leader=$(group_pids)
	[[ -n $leader ]]
	wait_for 10 grep -q "php-cgi $leader exited with code 0" "$LOG"
	wait_for 5 pid_gone "$leader"
	# and again
	run -0 g ""
	[[ $(group_pids | wc -l) == 2 ]]
}

@test "fpm-group: dynamic forks the children pm wants, not pm.max_children" {
	[[ $EXT != no ]] || skip "fpm.so not built"
	group "pm = dynamic" "pm.start_servers = 1" "pm.min_spare_servers = 1" \
	    "pm.max_spare_servers = 1"
	leader=$(group_pids)
	run -0 g ""
	wait_for 10 eval '[[ $(kids "$leader") == 1 ]]'
	# three at once take three children; the spares above one then go
	at_once 3
	[[ $(awk '{ print $1 }' "$D/at_once" | sort -u | wc -l) == 3 ]]
	wait_for 10 eval '[[ $(kids "$leader") == 1 ]]'
	# each let go as php-cgi lets its children go when idle
	wait_for 10 grep -q "\] child [0-9]* exited with code 0" "$LOG"
	! grep -q "exited on signal" "$LOG"
}

@test "fpm-group: a reload that changes the pool starts a new php-cgi; a request in flight completes" {
	group "pm.max_children = 2"
	old=$(group_pids)
	g "t=go&d=$W" >"$D/inflight" &
	inflight=$!
	wait_for 10 test -s "$W/busy"
	echo "env[CHANGED] = 1" >>"$CONF"
	kill -USR2 "$SUP"
	wait_for 10 eval '[[ $(group_pids | wc -l) == 2 ]]'
	# new requests go to the new php-cgi's children
	run -0 g ""
	[[ $(ps -o ppid= -p "${output% *}" | tr -d ' ') == "$(group_pids | tail -1)" ]]
	# the old one waits for its busy child
	! grep -q "php-cgi $old exited" "$LOG"
	touch "$W/go"
	wait "$inflight"
	[[ $(cat "$D/inflight") =~ ^[0-9]+\ [0-9]+$ ]]
	wait_for 10 grep -q "php-cgi $old exited with code 0" "$LOG"
}

@test "fpm-group: a graceful stop leaves no php-cgi behind" {
	group
	at_once 3
	leader=$(group_pids)
	kill -QUIT "$SUP"
	wait_for 10 pid_gone "$SUP"
	pid_gone "$leader"
	for pid in $(awk '{ print $1 }' "$D/at_once"); do
		pid_gone "$pid"
	done
	grep -q "php-cgi $leader exited with code 0" "$LOG"
}

@test "fpm-group: a binary upgrade finishes the request in flight and starts a new php-cgi" {
	GLOBAL="pid = $D/fpm.pid"
	group
	old=$(group_pids)
	g "t=go&d=$W" >"$D/inflight" &
	inflight=$!
	wait_for 10 test -s "$W/busy"
	kill -URG "$SUP"
	# in flight across the upgrade: let it go once the upgrade waits for it
	wait_for 10 grep -qF 'NOTICE: binary upgrade: finishing the requests in flight' "$LOG"
	touch "$W/go"
	wait "$inflight"
	[[ $(cat "$D/inflight") =~ ^[0-9]+\ [0-9]+$ ]]
	wait_for 10 eval '[[ $(grep -c "ready to handle connections" "$LOG") == 2 ]]'
	wait_for 10 grep -q "php-cgi $old exited" "$LOG"
	pid_gone "$old"
	kill -0 "$SUP"
	run -0 g ""
	[[ $(ps -o ppid= -p "${output% *}" | tr -d ' ') == "$(group_pids | tail -1)" ]]
}

@test "fpm-group: a fast stop ends the php-cgi and its busy child" {
	group
	g "t=go&d=$W" >"$D/inflight" &
	inflight=$!
	wait_for 10 test -s "$W/busy"
	leader=$(group_pids)
	kill -TERM "$SUP"
	wait_for 10 pid_gone "$SUP"
	wait "$inflight" || true
	pid_gone "$leader"
	# its children too, the busy one included (killed with the group)
	wait_for 5 pid_gone "$(cat "$W/busy")"
	for pid in $(worker_pids); do
		wait_for 5 pid_gone "$pid"
	done
}

@test "fpm-group: with fpm.so, the children go when fpm-supervise is killed" {
	[[ -e $BUILDDIR/php/fpm.so ]] || skip "fpm.so not built"
	group "php.extension = $BUILDDIR/php/fpm.so"
	# children that served nothing yet too: they go from their fork on
	wait_for 10 eval '[[ $(worker_pids | wc -l) == 3 ]]'
	leader=$(group_pids)
	kill -KILL "$SUP"
	wait_for 10 pid_gone "$leader"
	for pid in $(worker_pids); do
		wait_for 10 pid_gone "$pid"
	done
}
