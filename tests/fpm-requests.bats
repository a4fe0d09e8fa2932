# SPDX-License-Identifier: ISC
# fpm-supervise's request supervision: slowlog traces through fpm-slowlog,
# request_terminate_timeout's 504, the access log, a client going away, and
# readiness (sd_notify, --ready-fd).

bats_require_minimum_version 1.5.0
load helpers/common
load helpers/supervise

@test "fpm-requests: a slow request is logged, counted and traced into slowlog" {
	conf "request_slowlog_timeout = 1s" "slowlog = $D/slow.log"
	start
	# in the worker until traced, however late a loaded machine runs us
	req_bg a "wait=$D/go,pid=1" -p SCRIPT_FILENAME=/srv/www/slow.php
	wait_for 10 grep -q 'finished trace of' "$LOG" || { cat "$LOG"; false; }
	touch "$D/go"
	wait "$PID_a"
	run cat "$D/a"
	[[ ${lines[-1]} == "pid="* ]]
	pid=${lines[-1]#pid=}
	# logged at 1 s, before the answer
	grep -qE "WARNING: \[pool www\] child $pid, script '/srv/www/slow.php' \(request: \"GET /index.php\"\) executing too slow \(1\.[0-9]{6} sec\), logging" "$LOG" ||
	    { cat "$LOG"; false; }
	status_has "slow requests:        1"
	# PHP-FPM's three lines, in its order, at NOTICE
	[[ $(sed -n 's/^\[[^]]*\] //p' "$LOG" | grep -E 'trac(e|ing)') == \
	    "NOTICE: child $pid stopped for tracing"$'\n'"NOTICE: about to trace $pid"$'\n'"NOTICE: finished trace of $pid" ]]
	# fpm-slowlog wrote the entry: PHP-FPM's header, then native frames
	grep -qE "^\[[0-9]{2}-[A-Z][a-z]{2}-[0-9]{4} [0-9:]{8}\]  \[pool www\] pid $pid$" "$D/slow.log"
	grep -qx 'script_filename = /srv/www/slow.php' "$D/slow.log"
	grep -qE '^\[0x[0-9a-f]{16}\] .*(nanosleep|main)' "$D/slow.log"
	# and the request itself was not disturbed
	[[ ${lines[-1]} == "pid=$pid" ]]
}

@test "fpm-requests: request_terminate_timeout answers 504 and replaces the worker" {
	conf "request_terminate_timeout = 1s" "pm.max_children = 1"
	start
	first=$(worker_pids)
	run -0 req "sleep=5000" -p SCRIPT_FILENAME=/srv/www/stuck.php
	[[ ${lines[0]} == "Status: 504 Gateway Timeout"* ]]
	grep -qE "WARNING: \[pool www\] child $first, script '/srv/www/stuck.php' \(request: \"GET /index.php\"\) execution timed out \([0-9]+\.[0-9]{6} sec\), terminating" "$LOG"
	wait_for 5 eval '[[ $(worker_pids | wc -l) == 2 ]]'
	wait_for 5 pid_gone "$first"
	run -0 req "pid=1"
	[[ ${lines[-1]} == "pid=$(worker_pids | tail -1)" ]]
	fcgi-client -s "$SOCK" -p SCRIPT_NAME=/status -p QUERY_STRING=prometheus |
	    grep -qx 'fpm_responses_total{pool="www",code="504"} 1'
}

@test "fpm-requests: access.log has PHP-FPM's line, specifier by specifier" {
	conf "access.log = $D/access.log" \
	    'access.format = "%R|%u|%m|%r|%Q%q|%s|%f|%l|%n|%p|%P|%{HTTP_HOST}e|%{milli}d|%t|%{X-Worker-Pid}o|%{kilo}M|%C"' \
	    "access.suppress_path[] = /ping"
	start
	run -0 req "status=404,pid=1" -p REQUEST_URI=/pretty/url?x=1 \
	    -p SCRIPT_NAME=/a/b.php \
	    -p SCRIPT_FILENAME=/srv/a/b.php -p HTTP_HOST=example.org \
	    -p REMOTE_USER=alice -p QUERY_STRING="status=404,pid=1"
	pid=${lines[-1]#pid=}
	req "" -p SCRIPT_NAME=/ping -p REQUEST_URI=/ping >/dev/null
	wait_for 5 test -s "$D/access.log"
	run cat "$D/access.log"
	((${#lines[@]} == 1))		# /ping is suppressed
	IFS='|' read -r R u m r q s f l n p P e d t o M C <<<"${lines[0]}"
	[[ $R == - && $u == alice && $m == GET && $r == /a/b.php ]]
	[[ $q == "?status=404,pid=1" && $s == 404 && $f == /srv/a/b.php ]]
	[[ $l == 0 && $n == www && $p == "$pid" && $P == "$SUP" ]]
	[[ $e == example.org && $d =~ ^[0-9]+\.[0-9]{3}$ ]]
	[[ $t =~ ^[0-9]{2}/[A-Z][a-z]{2}/[0-9]{4}:[0-9:]{8}\ [-+][0-9]{4}$ ]]
	[[ $o == "$pid" && $M =~ ^[1-9][0-9]*$ && $C =~ ^[0-9]+\.[0-9]{2}$ ]]
}

@test "fpm-requests: status shows the last request's cpu and memory" {
	conf "pm.max_children = 1"
	start
	req "burn=300" >/dev/null
	run -0 fcgi-client -s "$SOCK" -p SCRIPT_NAME=/status -p QUERY_STRING=full
	cpu=$(sed -n 's/^last request cpu: *//p' <<<"$output")
	mem=$(sed -n 's/^last request memory: *//p' <<<"$output")
	# a 300 ms burn: on the CPU for some of its duration, however busy
	# the machine (ticks are 10 ms), never more than all of it
	awk -v c="$cpu" 'BEGIN { exit !(c > 0 && c <= 110) }'
	((mem > 100000))
}

@test "fpm-requests: the default access.format, and SIGUSR1 reopens the file" {
	conf "access.log = $D/access.log"
	start
	req "" -p SCRIPT_NAME=/x.php >/dev/null
	wait_for 5 test -s "$D/access.log"
	grep -qE '^- -  [0-9]{2}/[A-Z][a-z]{2}/[0-9]{4}:[0-9:]{8} [-+][0-9]{4} "GET /x.php" 200$' "$D/access.log"
	mv "$D/access.log" "$D/access.log.1"
	kill -USR1 "$SUP"
	wait_for 5 grep -q 'NOTICE: access log file re-opened' "$LOG"
	req "" -p SCRIPT_NAME=/y.php >/dev/null
	wait_for 5 grep -q '"GET /y.php" 200$' "$D/access.log"
	! grep -q y.php "$D/access.log.1"
}

@test "fpm-requests: a client going away lets its request finish by default" {
	conf "pm.max_children = 1"
	start
	first=$(worker_pids)
	# gone once its request runs in the worker, which then ends it
	req_bg a "stderr_fd=busy,wait=$D/go,count=1"
	wait_for 5 grep -qF "child $first said into stderr: \"busy\"" "$LOG"
	kill "$PID_a"
	wait_for 5 pid_gone "$PID_a"
	touch "$D/go"
	run -0 req "count=1,pid=1"
	# the abandoned request ran to its end on the same worker
	[[ ${lines[-2]} == count=2 && ${lines[-1]} == "pid=$first" ]]
}

@test "fpm-requests: request.terminate_on_abort replaces the worker instead" {
	conf "pm.max_children = 1" "request.terminate_on_abort = yes"
	start
	first=$(worker_pids)
	# gone once its request runs in the worker
	req_bg a "stderr_fd=busy,wait=$D/go"
	wait_for 5 grep -qF "child $first said into stderr: \"busy\"" "$LOG"
	kill "$PID_a"
	wait_for 5 grep -q "client went away during \"GET /index.php\": terminating child $first" "$LOG"
	wait_for 5 pid_gone "$first"
	run -0 req "count=1,pid=1"
	[[ ${lines[-2]} == count=1 && ${lines[-1]} != "pid=$first" ]]
}

@test "fpm-requests: sd_notify READY, RELOADING, STOPPING and --ready-fd" {
	conf
	socat -u UNIX-RECV:"$D/notify.sock" OPEN:"$D/notes",creat,append &
	track_pid $!
	wait_for 5 test -S "$D/notify.sock"
	NOTIFY_SOCKET=$D/notify.sock fpm-supervise -y "$CONF" --ready-fd 5 \
	    5>"$D/ready" </dev/null >/dev/null 2>"$LOG" &
	SUP=$!
	track_pid "$SUP"
	wait_for 10 grep -q '^READY=1' "$D/notes"
	# datagrams come without a separator: MAINPID=N runs into STATUS=
	grep -qE "^MAINPID=$SUP(STATUS=|$)" "$D/notes"
	[[ $(od -An -c "$D/ready" | tr -d ' ') == '\n' ]]
	kill -HUP "$SUP"
	wait_for 5 grep -q 'RELOADING=1$' "$D/notes"
	grep -qE '^MONOTONIC_USEC=[0-9]+' "$D/notes"
	wait_for 5 eval '[[ $(grep -o "READY=1" "$D/notes" | wc -l) == 2 ]]'
	kill -TERM "$SUP"
	wait_for 5 grep -q 'STOPPING=1' "$D/notes"
	run -100 fpm-supervise -y "$CONF" --ready-fd 77
	[[ $output == *"--ready-fd 77: not an open file descriptor"* ]]
}

@test "fpm-requests: a POST whose worker died unread gets 502, not a second run" {
	mkdir -m 777 "$D/fx"
	conf "command = $FIXTURES/die-first.sh $D/fx $WORKER" "pm.max_children = 1"
	start
	first=$(worker_pids)
	printf 'a=1' >"$D/body"
	req_bg a pid=1 -p REQUEST_METHOD=POST -i "$D/body"
	wait_for 5 status_has "active processes:     1"
	: >"$D/fx/go"
	wait "$PID_a"
	[[ $(head -1 "$D/a") == "Status: 502 Bad Gateway"* ]]
	grep -Eq "WARNING: \[pool www\] child $first: [a-z ]+ before answering \"POST /index.php\": answering 502" "$LOG"
	run ! grep -q "trying another worker" "$LOG"
}
