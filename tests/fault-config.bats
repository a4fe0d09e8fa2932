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
	[[ $stderr == *"] ERROR: $1"$'\n'*"] ALERT: FPM initialization failed" ]]
	run -100 --separate-stderr fpm-supervise -y "$CONF"
	[[ $stderr == *"] ERROR: $1"$'\n'*"] ALERT: FPM initialization failed" ]]
	[[ ! -e $SOCK && $stderr != *"child "*" started"* ]]
	! grep -E 'AddressSanitizer|runtime error:' <<<"$stderr"
}

@test "fault-config: user = root needs -R, in -t as in a start" {
	conf "user = root"
	refused "$CONF:$(line 'user = root'): [pool www] refusing to run as root (user 'root')"
	run -0 fpm-supervise -t -R -y "$CONF"
	conf "group = root"
	refused "$CONF:$(line 'group = root'): [pool www] refusing to run as root (user 'nobody', group 'root')"
}

@test "fault-config: unknown users and groups fail -t, naming their line" {
	conf "user = no-such-user-fpm" "pm.max_requests = 5"
	refused "$CONF:$(line 'user = no-such-user-fpm'): [pool www] unknown user 'no-such-user-fpm'"
	conf "group = no-such-group-fpm" "pm.max_requests = 5"
	refused "$CONF:$(line 'group = no-such-group-fpm'): [pool www] unknown group 'no-such-group-fpm'"
}

@test "fault-config: a command that cannot be run fails -t" {
	conf "command = $D/none -x"
	refused "$CONF:$(line "command = $D/none -x"): [pool www] unable to execute $D/none: No such file or directory"
	# PATH is searched as the workers' execvpe will (a directory nobody
	# may not search would give EACCES, as it does to execvpe)
	conf "command = no-such-program-fpm"
	PATH=$BUILDDIR/bin:/usr/bin:/bin refused "$CONF:$(line "command = no-such-program-fpm"): [pool www] unable to execute no-such-program-fpm: No such file or directory"
	conf "command = true"
	PATH=$BUILDDIR/bin:/usr/bin:/bin run -0 fpm-supervise -t -y "$CONF"
	# not executable at all, and not by the pool's user
	printf '#!/bin/sh\nexit 0\n' >"$D/w.sh"
	chmod 644 "$D/w.sh"
	conf "command = $D/w.sh"
	refused "$CONF:$(line "command = $D/w.sh"): [pool www] unable to execute $D/w.sh: Permission denied"
	chmod 700 "$D/w.sh"
	refused "$CONF:$(line "command = $D/w.sh"): [pool www] unable to execute $D/w.sh: Permission denied"
	# root may run it, with -R
	conf "command = $D/w.sh" "user = root"
	run -0 fpm-supervise -t -R -y "$CONF"
	# a directory is not a program
	conf "command = $D"
	refused "$CONF:$(line "command = $D"): [pool www] unable to execute $D: Permission denied"
}

@test "fault-config: a reload refuses what -t refuses, and keeps serving" {
	GLOBAL="pid = $D/fpm.pid"
	conf
	start
	conf "user = no-such-user-fpm"
	run -100 --separate-stderr fpm-ctl -P "$D/fpm.pid" reload
	[[ $stderr == "fpm-ctl: reload refused: $CONF:$(line 'user = no-such-user-fpm'): [pool www] unknown user 'no-such-user-fpm'" ]]
	conf "command = $D/none"
	run -100 --separate-stderr fpm-ctl -P "$D/fpm.pid" reload
	[[ $stderr == "fpm-ctl: reload refused: $CONF:$(line "command = $D/none"): [pool www] unable to execute $D/none: No such file or directory" ]]
	run -0 req pid=1
	[[ $output == *$'\npid='* ]]
}

@test "fault-config: numbers that overflow are too large, not negative" {
	conf "pm.max_requests = 99999999999999999999"
	refused "$CONF:$(line 'pm.max_requests = 99999999999999999999'): invalid value '99999999999999999999' for pm.max_requests: too large (at most 2147483647)"
	conf "pm.max_requests = 4294967296"
	refused "$CONF:$(line 'pm.max_requests = 4294967296'): invalid value '4294967296' for pm.max_requests: too large (at most 2147483647)"
	conf "pm.max_requests = -1"
	refused "$CONF:$(line 'pm.max_requests = -1'): invalid value '-1' for pm.max_requests: must not be less than 0"
	conf "rlimit_files = 99999999999999999999"
	refused "$CONF:$(line 'rlimit_files = 99999999999999999999'): invalid value '99999999999999999999' for rlimit_files: too large"
	conf "listen.mode = 0777777777777777777777777"
	refused "$CONF:$(line 'listen.mode = 0777777777777777777777777'): invalid value '0777777777777777777777777' for listen.mode: too large (at most 07777)"
}

@test "fault-config: an error on a pool directive names its own line" {
	conf "pm.max_children = 0" "pm.max_requests = 5"
	refused "$CONF:$(line 'pm.max_children = 0'): [pool www] pm.max_children must be a positive value"
	conf "ping.path = ping" "pm.max_requests = 5"
	refused "$CONF:$(line 'ping.path = ping'): [pool www] the ping path 'ping' must start with a '/'"
}

@test "fault-config: a 1,040-character unknown user is a clean error" {
	local u
	u=$(printf 'u%.0s' {1..1040})
	conf "user = $u"
	run -100 --separate-stderr fpm-supervise -y "$CONF"
	[[ $stderr == *"] ERROR: $CONF:$(line "user = $u"): [pool www] unknown user 'uuuu"* ]]
	[[ $stderr == *"] ALERT: FPM initialization failed" ]]
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
