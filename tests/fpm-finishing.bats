# SPDX-License-Identifier: ISC
# Workers that answer and go on working (FCGX_Finish_r, PHP's
# fastcgi_finish_request): "Finishing" in status, no new request until they
# are back, request_terminate_timeout_track_finished, and the access log.
# fcgi-testworker's early_end=1 ends the request, then sleeps; touch=PATH
# writes its pid to PATH once all its work is done.

bats_require_minimum_version 1.5.0
load helpers/common
load helpers/supervise

# A directory the workers (nobody, when we are root) can write to.
workdir() {
	mkdir -m 1777 "$D/w"
	W=$D/w
}

# early MS [fcgi-client ARG...]: a request to /srv/www/bg.php answered at
# once, after which its worker works MS ms more, then writes $W/done.
# With HOLD=1 the work goes on after that until $W/go exists.
early() {
	local ms=$1 hold=
	shift
	[[ -z ${HOLD:-} ]] || hold=",wait=$W/go"
	run -0 req "early_end=1,sleep=$ms$hold,touch=$W/done" -t 5000 \
	    -p SCRIPT_FILENAME=/srv/www/bg.php "$@"
	[[ ${lines[-1]} == hello ]]
}

# state PID: PID's state on the full status page.
state() {
	fcgi-client -s "$SOCK" -t 5000 -p SCRIPT_NAME=/status \
	    -p QUERY_STRING=full | awk -v pid="$1" '
		$1 == "pid:" { p = $2 }
		$1 == "state:" && p == pid { print $2 }'
}

# state_is PID STATE
state_is() {
	[[ $(state "$1") == "$2" ]]
}

@test "fpm-finishing: the client is answered at once, the worker shows Finishing" {
	conf "pm.max_children = 1"
	workdir
	start
	pid=$(worker_pids)
	early 30000
	state_is "$pid" Finishing
	run -0 fcgi-client -s "$SOCK" -t 5000 -p SCRIPT_NAME=/status \
	    -p QUERY_STRING=full
	[[ $output == *"script:               /srv/www/bg.php"* ]]
	status_has "active processes:     1"
	status_has "idle processes:       0"
}

@test "fpm-finishing: a worker finishing gets no request until it is back" {
	conf "pm.max_children = 2"
	workdir
	start
	run -0 req "early_end=1,sleep=30000,pid=1" -t 5000
	busy=${lines[-1]#pid=}
	# the other worker takes every request meanwhile, though the finishing
	# one is the most recently used (the idle stack is MRU first)
	for i in 1 2 3 4 5; do
		run -0 req "pid=1" -t 5000
		[[ ${lines[-1]} == pid=* && ${lines[-1]} != "pid=$busy" ]]
	done
	state_is "$busy" Finishing
}

@test "fpm-finishing: a request waits in the queue until the worker is back" {
	conf "pm.max_children = 1"
	workdir
	start
	pid=$(worker_pids)
	HOLD=1 early 0
	req_bg second "pid=1"
	wait_for 5 status_has "listen queue:         1"
	[[ ! -s $D/second ]]
	touch "$W/go"
	wait_for 10 test -s "$D/second"
	# answered after the worker wrote its file: it had finished
	test -s "$W/done"
	grep -qx "pid=$pid" "$D/second"
	wait_for 5 state_is "$pid" Idle
}

@test "fpm-finishing: request_terminate_timeout stops at END_REQUEST by default" {
	conf "pm.max_children = 1" "request_terminate_timeout = 1s" \
	    "request_slowlog_timeout = 1s" "slowlog = $D/slow.log"
	workdir
	start
	pid=$(worker_pids)
	early 2500
	wait_for 10 test -s "$W/done"
	wait_for 5 state_is "$pid" Idle
	! grep -q 'timed out\|too slow' "$LOG"
	run -0 req "pid=1"
	[[ ${lines[-1]} == "pid=$pid" ]]
}

@test "fpm-finishing: with track_finished the work after the answer is timed too" {
	conf "pm.max_children = 1" "request_terminate_timeout = 1s" \
	    "request_terminate_timeout_track_finished = yes"
	workdir
	start
	pid=$(worker_pids)
	early 30000
	wait_for 10 grep -qE "WARNING: \[pool www\] child $pid, script '/srv/www/bg.php' \(request: \"GET /index.php\"\) execution timed out \(1\.[0-9]{6} sec\), terminating" "$LOG" ||
	    { cat "$LOG"; false; }
	wait_for 5 pid_gone "$pid"
	[[ ! -e $W/done ]]
	# replaced, and the client's 200 was not counted as a 504
	wait_for 5 eval '[[ $(worker_pids | wc -l) == 2 ]]'
	run -0 req "pid=1"
	[[ ${lines[-1]} == "pid=$(worker_pids | tail -1)" ]]
	fcgi-client -s "$SOCK" -p SCRIPT_NAME=/status -p QUERY_STRING=prometheus |
	    grep -qx 'fpm_responses_total{pool="www",code="504"} 0'
}

@test "fpm-finishing: with track_finished a finishing request can be slow" {
	conf "pm.max_children = 1" "request_slowlog_timeout = 1s" \
	    "slowlog = $D/slow.log" "request_terminate_timeout_track_finished = yes"
	workdir
	start
	pid=$(worker_pids)
	HOLD=1 early 0
	wait_for 10 grep -qE "child $pid, script '/srv/www/bg.php' \(request: \"GET /index.php\"\) executing too slow \([0-9]+\.[0-9]{6} sec\), logging" "$LOG" ||
	    { cat "$LOG"; false; }
	touch "$W/go"
	wait_for 5 test -s "$W/done"
	wait_for 5 state_is "$pid" Idle
	status_has "slow requests:        1"
}

@test "fpm-finishing: the access log line comes when the work is done" {
	conf "pm.max_children = 1" "access.log = $D/access.log" \
	    'access.format = "%p %{mili}d %{X-Worker-Pid}o %{HTTP_HOST}e %s"'
	workdir
	start
	pid=$(worker_pids)
	HOLD=1 early 1200 -p HTTP_HOST=example.org
	[[ ! -s $D/access.log ]]
	touch "$W/go"
	wait_for 10 test -s "$D/access.log"
	test -s "$W/done"
	read -r p d o e s <"$D/access.log"
	[[ $p == "$pid" && $o == "$pid" && $e == example.org && $s == 200 ]]
	# the duration counts the work after the answer: at least its sleep
	((${d%.*} >= 1200))
}

@test "fpm-finishing: a graceful stop waits for the work to end" {
	conf "pm.max_children = 1"
	workdir
	start
	early 1500
	kill -QUIT "$SUP"
	stopped
	test -s "$W/done"
}

@test "fpm-finishing: request.finish_probe = no takes END_REQUEST as the end" {
	conf "pm.max_children = 1" "request.finish_probe = no"
	workdir
	start
	pid=$(worker_pids)
	run -0 req "early_end=1,sleep=30000" -t 5000
	state_is "$pid" Idle
}

@test "fpm-finishing: probes do not disturb workers over many kept requests" {
	# fcgi-testworker (libfcgi) on one connection, bodies in memory and
	# spooled; php-cgi's probe is exercised by every php-cgi suite
	local k
	conf "pm.max_children = 1" "request.buffer_size = 1k"
	start
	head -c 5000 /dev/zero | tr '\0' x >"$D/big"
	for k in 1 3 5; do
		run -0 req "echo=1,count=1,conn=1" -i "$D/big" \
		    -p REQUEST_METHOD=POST
		[[ $output == *"xcount=$k"* && ${lines[-1]} == conn=1 ]]
		run -0 req "count=1,conn=1" -i /dev/null -p REQUEST_METHOD=POST
		[[ ${lines[-2]} == "count=$((k + 1))" && ${lines[-1]} == conn=1 ]]
	done
}

@test "fpm-finishing: a worker exiting after its work is replaced" {
	conf "pm.max_children = 1"
	start
	first=$(worker_pids)
	run -0 req "early_end=1,sleep=1000,exit_after=0" -t 5000
	[[ ${lines[-1]} == hello ]]
	# libfcgi reads the probe as it finishes, then exits: a request given
	# to it in between reached its socket, and is never run twice, so a
	# 502 (fpm-supervise(8), LIMITS); one that finds it gone goes to the
	# replacement
	run -0 req "pid=1"
	if [[ ${lines[0]} == "Status: 502 Bad Gateway"* ]]; then
		grep -q "child $first: connection closed before answering" "$LOG"
		run -0 req "pid=1"
	fi
	[[ ${lines[-1]} == pid=* && ${lines[-1]} != "pid=$first" ]]
}

@test "fpm-finishing: a reload, then a graceful stop, let the work end" {
	conf "pm.max_children = 1"
	workdir
	start
	early 1500
	conf "pm.max_children = 1" "env[GEN] = 2"
	kill -USR2 "$SUP"
	wait_for 5 grep -q 'configuration reloaded' "$LOG"
	kill -QUIT "$SUP"
	stopped
	test -s "$W/done"
}

@test "fpm-finishing: process_control_timeout bounds the work of a retired worker" {
	GLOBAL="process_control_timeout = 1s"
	conf "pm.max_children = 1"
	workdir
	start
	pid=$(worker_pids)
	early 30000
	conf "pm.max_children = 1" "env[GEN] = 2"
	kill -USR2 "$SUP"
	wait_for 10 pid_gone "$pid"
	grep -q "child $pid still busy after process_control_timeout (1000 ms), terminating" "$LOG"
	[[ ! -e $W/done ]]
}

@test "fpm-finishing: a fast stop answers the queue, and exits" {
	conf "pm.max_children = 1" "request.finish_probe = no"
	workdir
	start
	req_bg first "wait=$W/go,touch=$W/first"
	wait_for 5 status_has "active processes:     1"
	req_bg second "pid=1"
	wait_for 5 status_has "listen queue:         1"
	# the first END_REQUEST waits unread when the stop comes
	kill -STOP "$SUP"
	kill -TERM "$SUP"
	touch "$W/go"
	wait_for 10 test -s "$W/first"
	kill -CONT "$SUP"
	stopped
	wait_for 5 pid_gone "$PID_second"
	grep -q '^Status: 503' "$D/second"
}

@test "fpm-finishing: php-cgi under another name serves on, and the log says why" {
	printf '#!/bin/sh\nexec php-cgi "$@"\n' >"$D/wrap"
	chmod 755 "$D/wrap"
	printf '<?php echo getmypid();\n' >"$D/pid.php"
	chmod 644 "$D/pid.php"
	conf "pm.max_children = 1" "command = $D/wrap"
	start
	for k in 1 2 3; do
		run -0 req "" -p SCRIPT_FILENAME="$D/pid.php"
		[[ ${lines[-1]} == "$(worker_pids)" ]]
	done
	grep -q "closed its connection after its request; .*see request.finish_probe" "$LOG"
}
