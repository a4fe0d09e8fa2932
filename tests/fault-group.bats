# SPDX-License-Identifier: ISC
# php.group under hostile conditions: children and php-cgi killed, load,
# timeouts, reloads.

bats_require_minimum_version 1.5.0
load helpers/common
load helpers/supervise
load helpers/group

# busy N: the status page counts N active processes
busy() {
	fcgi-client -s "$SOCK" -t 5000 -p SCRIPT_NAME=/status |
	    grep -q "active processes: *$1\$"
}

# running: the pid the full status page shows Running
running() {
	fcgi-client -s "$SOCK" -t 5000 -p SCRIPT_NAME=/status \
	    -p QUERY_STRING=full | awk '$1 == "pid:" { p = $2 }
	    $1 == "state:" && $2 == "Running" { print p }'
}

@test "fault-group: a child killed while busy costs its request a 502, the pool serves on" {
	group
	g -a "t=go&d=$W" >"$D/inflight" &
	inflight=$!
	# the script runs: its child is the one the status page shows Running
	wait_for 10 test -s "$W/busy"
	wait_for 10 eval '[[ $(running) == $(cat "$W/busy") ]]'
	victim=$(running)
	kill -KILL "$victim"
	wait "$inflight" || true
	grep -q "502" "$D/inflight"
	for i in 1 2 3 4 5 6; do
		run -0 g -a ""
		[[ $output =~ [0-9]+\ [0-9]+$ ]]
	done
}

@test "fault-group: a child killed while idle, then requests at once: none fails" {
	group
	at_once 3
	victim=$(awk 'NR == 1 { print $1 }' "$D/at_once")
	kill -KILL "$victim"
	at_once 3
	cat "$D/at_once"
	[[ $(grep -cE '^[0-9]+ [0-9]+$' "$D/at_once") == 3 ]]
	[[ $(awk '{print $1}' "$D/at_once" | sort -u | wc -l) == 3 ]]
	! grep -q "^$victim " "$D/at_once"
}

@test "fault-group: more clients than workers queue, and all are served" {
	group
	local i pids=()
	for ((i = 0; i < 20; i++)); do
		g -a "" >"$D/r.$i" &
		pids+=($!)
	done
	for i in "${pids[@]}"; do
		wait "$i"
	done
	[[ $(cat "$D"/r.* | grep -cE '^[0-9]+ [0-9]+$') == 20 ]]
	[[ $(cat "$D"/r.* | grep -E '^[0-9]+ [0-9]+$' | awk '{print $1}' | sort -u | wc -l) -le 3 ]]
}

@test "fault-group: children killed over and over leak no fd in the supervisor" {
	group
	at_once 3
	before=$(ls /proc/$SUP/fd | wc -l)
	for i in $(seq 1 6); do
		victim=$(g "" | awk '{print $1}')
		kill -KILL "$victim"
		# its status, read once php-cgi has reaped it
		wait_for 10 grep -q "child $victim exited on signal 9" "$LOG"
	done
	at_once 3
	wait_for 10 eval '[[ $(ls /proc/$SUP/fd | wc -l) -le $before ]]'
	ls -l /proc/$SUP/fd
}

@test "fault-group: request_terminate_timeout ends the right child; slowlog traces it" {
	# php-cgi only notes SIGTERM: SIGKILL follows 1 s later
	GLOBAL="process_control_timeout = 1s"
	# 3 s for the trace, however loaded the host (or ASan's tracer) is
	group "request_terminate_timeout = 4s" "request_slowlog_timeout = 1s" \
	    "slowlog = $D/slow.log"
	at_once 3
	# the script leaves its pid in $W, then waits for 9 such files
	rm -f "$W"/[0-9]*
	run g -a "t=wait&d=$W&n=9"
	[[ $output == *504* ]]
	pid=$(ls "$W" | grep -E '^[0-9]+$')
	[[ -n $pid ]]
	grep "child $pid, script .*executing too slow" "$LOG"
	grep "child $pid, script .*execution timed out" "$LOG"
	wait_for 10 grep -q "pid $pid" "$D/slow.log"
	wait_for 10 grep -q "child $pid still alive after the grace time, sending SIGKILL" "$LOG"
	wait_for 10 grep -q "child $pid exited on signal 9" "$LOG"
	at_once 3
	[[ $(grep -cE '^[0-9]+ [0-9]+$' "$D/at_once") == 3 ]]
}

@test "fault-group: the php-cgi killed: the pool recovers" {
	group
	at_once 3
	leader=$(group_pids)
	kill -KILL "$leader"
	wait_for 10 grep -q "php-cgi $leader exited on signal 9" "$LOG"
	at_once 3
	[[ $(grep -cE '^[0-9]+ [0-9]+$' "$D/at_once") == 3 ]]
	[[ $(group_pids | wc -l) == 2 ]]
}

@test "fault-group: a php-cgi that fails at start brakes the pool with 503s" {
	mkdir "$D/bin"
	printf '#!/bin/sh\necho broken >&2\nexit 1\n' >"$D/bin/php-cgi"
	chmod 755 "$D/bin/php-cgi"
	conf "command = $D/bin/php-cgi" "pm.max_children = 3"
	fpm-supervise -y "$CONF" </dev/null >/dev/null 2>"$D/stderr" 3>&- &
	SUP=$!
	track_pid "$SUP"
	wait_for 10 grep -q "keeps dying at start" "$LOG"
	run g -a ""
	echo "$output"
	cat "$LOG"
	[[ $output == *503* ]]
	n=$(group_pids | wc -l)
	kill -0 "$SUP"
	[[ $n -lt 10 ]]
}

@test "fault-group: reloads under load lose no request" {
	group "pm.max_children = 2"
	(
		for i in $(seq 1 25); do
			g ""
		done >"$D/load1"
	) &
	l1=$!
	(
		for i in $(seq 1 25); do
			g ""
		done >"$D/load2"
	) &
	l2=$!
	for i in 1 2 3 4 5 6; do
		if ((i % 2)); then echo "env[X$i] = 1" >>"$CONF"; fi
		kill -USR2 "$SUP"
		wait_for 10 eval '[[ $(grep -c "configuration reloaded" "$LOG") -ge $i ]]'
	done
	wait $l1 $l2
	cat "$D"/load1 "$D"/load2 | grep -vE '^[0-9]+ [0-9]+$' || true
	[[ $(cat "$D"/load1 "$D"/load2 | grep -cE '^[0-9]+ [0-9]+$') == 50 ]]
}

@test "fault-group: fpm-ctl restart under load loses no request" {
	group "pm.max_children = 2"
	(
		for i in $(seq 1 25); do
			g ""
		done >"$D/load1"
	) &
	l1=$!
	for i in 1 2 3 4; do
		fpm-ctl -P "$D/fpm.pid" restart www
		wait_for 10 eval '[[ $(group_pids | wc -l) -ge $((i + 1)) ]]'
	done
	wait $l1
	grep -vE '^[0-9]+ [0-9]+$' "$D/load1" || true
	[[ $(grep -cE '^[0-9]+ [0-9]+$' "$D/load1") == 25 ]]
	n=$(group_pids | wc -l)
	for p in $(group_pids | head -n $((n - 1))); do
		wait_for 10 pid_gone "$p"
	done
}

@test "fault-group: php-cgi and its children seen gone in one turn: the children are not used after the group" {
	group
	at_once 3
	leader=$(group_pids)
	kids=$(worker_pids)
	[[ $(echo "$kids" | wc -w) == 3 ]]
	# the supervisor sees the php-cgi's exit first, its children's
	# later in the same batch of events
	kill -STOP "$SUP"
	kill -KILL "$leader"
	wait_for 5 pid_gone "$leader"
	kill -KILL $kids
	for k in $kids; do
		wait_for 5 pid_gone "$k"
	done
	kill -CONT "$SUP"
	wait_for 10 grep -q "php-cgi $leader exited on signal 9" "$LOG"
	# a child's exit status is looked for 10 ms apart, 50 times at most:
	# the pool serves on past that
	at_once 3
	[[ $(grep -cE '^[0-9]+ [0-9]+$' "$D/at_once") == 3 ]]
	at_once 3
	[[ $(grep -cE '^[0-9]+ [0-9]+$' "$D/at_once") == 3 ]]
	! grep -E "status went to php-cgi|free\(\)" "$LOG"
	kill -QUIT "$SUP"
	stopped
}

@test "fault-group: a child terminated by request_terminate_timeout holds no new worker's requests while it ends" {
	group "pm.max_children = 2" "request_terminate_timeout = 1s"
	at_once 2
	run g -a "t=go&d=$W"
	[[ $output == *504* ]]
	pid=$(sed -n 's/.*child \([0-9]*\), script .*execution timed out.*/\1/p' "$LOG")
	# it runs on (SIGTERM waits for its script) until $W/go
	kill -0 "$pid"
	# the other child serves, at once: no new connection waits for the
	# terminated one's successor
	for i in 1 2 3; do
		g -a "" >"$D/after.$i" &
		wait_for 5 grep -qE '^[0-9]+ [0-9]+$' "$D/after.$i"
		wait $!
	done
	kill -0 "$pid"
	touch "$W/go"
	wait_for 10 grep -q "child $pid exited" "$LOG"
	at_once 2
	[[ $(grep -cE '^[0-9]+ [0-9]+$' "$D/at_once") == 2 ]]
}

@test "fault-group: pm.max_requests counts a child's requests over the connections it had" {
	# without fpm.so, dynamic lets idle workers go by closing their
	# connections: the children stay, and take new ones (with fpm.so
	# they go, fault-fork.bats)
	EXT=no
	group "pm = dynamic" "pm.start_servers = 1" "pm.min_spare_servers = 1" \
	    "pm.max_spare_servers = 1" "pm.max_requests = 2"
	for round in 1 2 3; do
		at_once 3
		cat "$D/at_once" >>"$D/all"
		wait_for 10 total 1
	done
	cat "$D/all"
	[[ $(grep -cE '^[0-9]+ [0-9]+$' "$D/all") == 9 ]]
	# no child served more than 2
	! awk '{ print $1 }' "$D/all" | sort | uniq -c | awk '$1 > 2' | grep .
}

@test "fault-group: pm.max_requests = 1 under load: each request has a child of its own" {
	group "pm.max_requests = 1"
	local i pids=()
	for ((i = 0; i < 12; i++)); do
		g "" >"$D/r.$i" &
		pids+=($!)
	done
	for i in "${pids[@]}"; do
		wait "$i"
	done
	cat "$D"/r.* | grep -vE '^[0-9]+ [0-9]+$' || true
	[[ $(cat "$D"/r.* | grep -cE '^[0-9]+ [0-9]+$') == 12 ]]
	[[ $(cat "$D"/r.* | awk '{print $1}' | sort -u | wc -l) == 12 ]]
}

@test "fault-group: a reload removes a php.group pool, and another adds it back" {
	group
	at_once 3
	leader=$(group_pids)
	cp "$CONF" "$D/full.conf"
	sed -i '/^\[www\]/,$d' "$CONF"
	printf '[other]\nuser = nobody\nlisten = %s\ncommand = %s\n%s\n' \
	    "$D/o.sock" "$WORKER" "pm = static"$'\n'"pm.max_children = 1" \
	    >>"$CONF"
	kill -USR2 "$SUP"
	wait_for 10 grep -q "php-cgi $leader exited" "$LOG"
	wait_for 5 pid_gone "$leader"
	cp "$D/full.conf" "$CONF"
	kill -USR2 "$SUP"
	wait_for 10 eval '[[ $(group_pids | wc -l) == 2 ]]'
	at_once 3
	[[ $(grep -cE '^[0-9]+ [0-9]+$' "$D/at_once") == 3 ]]
	kill -QUIT "$SUP"
	stopped
}

@test "fault-group: a reload that changes pm.max_children only starts a php-cgi with as many children" {
	group "pm.max_children = 2"
	at_once 2
	old=$(group_pids)
	echo "pm.max_children = 3" >>"$CONF"
	kill -USR2 "$SUP"
	wait_for 10 grep -q "configuration reloaded" "$LOG"
	wait_for 10 grep -q "php-cgi $old exited" "$LOG"
	grep -q "php-cgi [0-9]* started: its children, 3 at most," "$LOG"
	at_once 3
	[[ $(grep -cE '^[0-9]+ [0-9]+$' "$D/at_once") == 3 ]]
	[[ $(awk '{ print $1 }' "$D/at_once" | sort -u | wc -l) == 3 ]]
	# and back down
	echo "pm.max_children = 1" >>"$CONF"
	kill -USR2 "$SUP"
	wait_for 10 grep -q "php-cgi [0-9]* started: its children, 1 at most," "$LOG"
	wait_for 10 eval '[[ $(pgrep -P "$(group_pids | tail -1)" | wc -l) == 1 ]]'
	run -0 g -a ""
}
