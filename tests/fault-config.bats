# SPDX-License-Identifier: ISC
# Faults an operator makes: -t, a start and a reload refuse the same
# configurations with the same message (FILE:LINE of the directive); a pool
# whose workers cannot start answers its queue 503 at once.

bats_require_minimum_version 1.5.0
load helpers/common

load helpers/supervise

# line TEXT: the number of the last line of $CONF that is exactly TEXT.
line() {
	grep -nxF "$1" "$CONF" | tail -1 | cut -d: -f1
}

# refused MESSAGE: -t and a start both exit 100 with this error line, and
# start nothing.
refused() {
	run -100 --separate-stderr fpm-supervise -t -y "$CONF"
	[[ $stderr == *"] ERROR: $1"$'\n'*"] ERROR: FPM initialization failed" ]]
	run -100 --separate-stderr fpm-supervise -y "$CONF"
	[[ $stderr == *"] ERROR: $1"$'\n'*"] ERROR: FPM initialization failed" ]]
	[[ ! -e $SOCK && $stderr != *"child "*" started"* ]]
	! grep -E 'AddressSanitizer|runtime error:' <<<"$stderr"
}

@test "fault-config: user = root needs -R, in -t as in a start" {
	conf "user = root"
	refused "[$CONF:$(line 'user = root')] [pool www] please specify user and group other than root. The pool has user 'root'; -R allows root."
	run -0 fpm-supervise -t -R -y "$CONF"
	conf "group = root"
	refused "[$CONF:$(line 'group = root')] [pool www] please specify user and group other than root. The pool has user 'nobody', group 'root'; -R allows root."
}

@test "fault-config: unknown users and groups fail -t, naming their line" {
	conf "user = no-such-user-fpm" "pm.max_requests = 5"
	refused "[$CONF:$(line 'user = no-such-user-fpm')] [pool www] cannot get uid for user 'no-such-user-fpm'"
	conf "group = no-such-group-fpm" "pm.max_requests = 5"
	refused "[$CONF:$(line 'group = no-such-group-fpm')] [pool www] cannot get gid for group 'no-such-group-fpm'"
}

@test "fault-config: a command that cannot be run fails -t" {
	conf "command = $D/none -x"
	refused "[$CONF:$(line "command = $D/none -x")] [pool www] unable to execute $D/none: No such file or directory"
	# PATH is searched as the workers' execvpe will (a directory nobody
	# may not search would give EACCES, as it does to execvpe)
	conf "command = no-such-program-fpm"
	PATH=$BUILDDIR/bin:/usr/bin:/bin refused "[$CONF:$(line "command = no-such-program-fpm")] [pool www] unable to execute no-such-program-fpm: No such file or directory"
	conf "command = true"
	PATH=$BUILDDIR/bin:/usr/bin:/bin run -0 fpm-supervise -t -y "$CONF"
	# not executable at all, and not by the pool's user
	printf '#!/bin/sh\nexit 0\n' >"$D/w.sh"
	chmod 644 "$D/w.sh"
	conf "command = $D/w.sh"
	refused "[$CONF:$(line "command = $D/w.sh")] [pool www] unable to execute $D/w.sh: Permission denied"
	chmod 700 "$D/w.sh"
	refused "[$CONF:$(line "command = $D/w.sh")] [pool www] unable to execute $D/w.sh: Permission denied"
	# root may run it, with -R
	conf "command = $D/w.sh" "user = root"
	run -0 fpm-supervise -t -R -y "$CONF"
	# a directory is not a program
	conf "command = $D"
	refused "[$CONF:$(line "command = $D")] [pool www] unable to execute $D: Permission denied"
}

@test "fault-config: a reload refuses what -t refuses, and keeps serving" {
	GLOBAL="pid = $D/fpm.pid"
	conf
	start
	conf "user = no-such-user-fpm"
	run -100 --separate-stderr fpm-ctl -P "$D/fpm.pid" reload
	[[ $stderr == "fpm-ctl: reload refused: [$CONF:$(line 'user = no-such-user-fpm')] [pool www] cannot get uid for user 'no-such-user-fpm'" ]]
	conf "command = $D/none"
	run -100 --separate-stderr fpm-ctl -P "$D/fpm.pid" reload
	[[ $stderr == "fpm-ctl: reload refused: [$CONF:$(line "command = $D/none")] [pool www] unable to execute $D/none: No such file or directory" ]]
	run -0 req pid=1
	[[ $output == *$'\npid='* ]]
}

@test "fault-config: numbers that overflow are too large, not negative" {
	conf "pm.max_requests = 99999999999999999999"
	refused "[$CONF:$(line 'pm.max_requests = 99999999999999999999')] unable to parse value for entry 'pm.max_requests': is too large. The most is 2147483647."
	conf "pm.max_requests = 4294967296"
	refused "[$CONF:$(line 'pm.max_requests = 4294967296')] unable to parse value for entry 'pm.max_requests': is too large. The most is 2147483647."
	conf "pm.max_requests = -1"
	refused "[$CONF:$(line 'pm.max_requests = -1')] unable to parse value for entry 'pm.max_requests': must not be less than 0"
	conf "rlimit_files = 99999999999999999999"
	refused "[$CONF:$(line 'rlimit_files = 99999999999999999999')] unable to parse value for entry 'rlimit_files': is too large"
	conf "listen.mode = 0777777777777777777777777"
	refused "[$CONF:$(line 'listen.mode = 0777777777777777777777777')] unable to parse value for entry 'listen.mode': is too large. The most is 07777."
}

@test "fault-config: an error on a pool directive names its own line" {
	conf "pm.max_children = 0" "pm.max_requests = 5"
	refused "[$CONF:$(line 'pm.max_children = 0')] [pool www] pm.max_children must be a positive value"
	conf "ping.path = ping" "pm.max_requests = 5"
	refused "[$CONF:$(line 'ping.path = ping')] [pool www] the ping path 'ping' must start with a '/'"
}

@test "fault-config: a 1,040-character unknown user is a clean error" {
	local u
	u=$(printf 'u%.0s' {1..1040})
	conf "user = $u"
	run -100 --separate-stderr fpm-supervise -y "$CONF"
	[[ $stderr == *"] ERROR: [$CONF:$(line "user = $u")] [pool www] cannot get uid for user 'uuuu"* ]]
	[[ $stderr == *"] ERROR: FPM initialization failed" ]]
	[[ $stderr != *AddressSanitizer* && $stderr != *"runtime error:"* ]]
	# the message is cut at its buffer, not beyond
	((${#stderr_lines[0]} < 1100))
}

# A pool whose workers exit at once: the queue is answered at once, and the
# reason is logged once per back-off, not once per request.
@test "fault-config: no worker can start: queued requests get 503 at once" {
	local t0 ms n
	conf "command = $WORKER -e 1" "pm.max_children = 1" "queue.timeout = 30s"
	start
	wait_for 10 grep -qF "next start in 2.000s" "$LOG"
	t0=$(date +%s%N)
	run -0 timeout 5 fcgi-client -s "$SOCK" -t 20000 -p QUERY_STRING=pid=1
	ms=$((($(date +%s%N) - t0) / 1000000))
	[[ $output == *"Status: 503 Service Unavailable"* ]]
	[[ $output == *"503 Service Unavailable: no worker can start"* ]]
	((ms < 5000))
	for n in 1 2 3 4 5; do
		run -0 timeout 5 fcgi-client -s "$SOCK" -t 20000 -p QUERY_STRING=pid=1
		[[ $output == *"503 Service Unavailable: no worker can start"* ]]
	done
	# one line per back-off: fewer than the 6 requests
	n=$(grep -cF "[pool www] no worker can start (workers keep dying at start): answering 503" "$LOG")
	((n >= 1 && n < 6))
	status_has "listen queue:         0"
}

# words MESSAGE-LINE: the text after the level, without the location
# PHP-FPM and we put first ("[FILE:LINE] ").
words() {
	sed -n '1{s/^\[[^]]*\] [A-Z]*: //;s/^\[[^]]*:[0-9]*\] //;p;}' <<<"$1"
}

# The same mistakes, in PHP-FPM 8.2 and here: our first sentence is its
# message, whole; what we add comes as a sentence after it.
@test "fault-config: a mistake gets PHP-FPM 8.2's words, in [FILE:LINE] form" {
	local m theirs ours
	command -v php-fpm8.2 >/dev/null || skip "php-fpm8.2 is not installed"
	while IFS= read -r m; do
		printf '%s\n' "[global]" "error_log = $D/php-fpm.log" "[www]" \
		    "user = nobody" "listen = $D/php.sock" "pm = static" \
		    "pm.max_children = 2" "$m" >"$D/php-fpm.conf"
		# a bad port shows at start, not under -t: start with -F
		run timeout 10 php-fpm8.2 -n -F -y "$D/php-fpm.conf"
		((status == 78))
		theirs=$(words "$output")
		conf "$m"
		run -100 fpm-supervise -t -y "$CONF"
		[[ ${lines[0]} == *"] ERROR: [$CONF:$(line "$m")] "* ]]
		ours=$(words "$output")
		echo "$m: theirs '$theirs', ours '$ours'"
		[[ -n $theirs && ($ours == "$theirs" || $ours == "$theirs. "*) ]]
		[[ ${lines[-1]} == *"] ERROR: FPM initialization failed" ]]
	done <<-'EOF'
		php_value[] = 1
		php_admin_flag[] = on
		env[] = x
		access.suppress_path[] = ping
		access.suppress_path[k] = /ping
		bogus[k] = 1
		pm.status_path = /st*tus
		listen = 69002
		listen = 127.0.0.1:0
		user = no-such-user-fpm
		group = no-such-group-fpm
		pm.max_children = many
		pm = lazy
		catch_workers_output = maybe
		request_terminate_timeout = 5x
		rlimit_core = -3
		php_flag[display_errors] = maybe
		process.priority = 30
	EOF
}

# Not root: user and group cannot be taken, and PHP-FPM says so at NOTICE;
# a chroot is refused rather than dropped.
@test "fault-config: not root, user and group are ignored with PHP-FPM's notice" {
	[[ $(id -u) == 0 ]] && command -v setpriv >/dev/null ||
	    skip "needs root to become another user"
	conf "group = nogroup"
	run -0 setpriv --reuid=nobody --regid=nogroup --clear-groups \
	    fpm-supervise -t -y "$CONF"
	[[ ${lines[0]} == *"] NOTICE: [pool www] 'user' directive is ignored when FPM is not running as root" ]]
	[[ ${lines[1]} == *"] NOTICE: [pool www] 'group' directive is ignored when FPM is not running as root" ]]
	conf "chroot = $D"
	run -100 setpriv --reuid=nobody --regid=nogroup --clear-groups \
	    fpm-supervise -t -y "$CONF"
	[[ $output == *"] ERROR: [$CONF:$(line "chroot = $D")] [pool www] chroot needs root"* ]]
}
