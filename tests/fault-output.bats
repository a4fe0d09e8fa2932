# SPDX-License-Identifier: ISC
# fpm-supervise against workers that write too much to stdout and stderr:
# their end of the capture pipes blocks, so nothing is lost, and one
# flooding worker neither stalls the event loop nor floods the log.

bats_require_minimum_version 1.5.0
load helpers/common
load helpers/supervise

# lines_accounted PID TAG N: of PID's stderr lines "TAG ...", the ones
# logged and the ones the rate limit's notes count make N.
lines_accounted() {
	local logged suppressed

	logged=$(grep -c "\] child $1 said into stderr: \"$2 " "$LOG")
	suppressed=$(sed -n "s/.*\] child $1: suppressed \([0-9]*\) lines .*/\1/p" \
	    "$LOG" | awk '{ n += $1 } END { print n + 0 }')
	echo "logged $logged, suppressed $suppressed, of $3"
	((logged + suppressed == $3))
}

teardown() {
	touch "$D/stop"		# ends a flood= still going
	supervise_teardown
}

# now_us: microseconds, without a fork.
now_us() {
	local t=$EPOCHREALTIME
	echo "${t//[.,]/}"
}

@test "fault-output: a worker's 50 MB burst to stderr is taken whole" {
	local pid flags

	conf "pm.max_children = 1"
	start
	pid=$(worker_pids | head -1)
	# the worker's end of the pipe blocks: no O_NONBLOCK (04000)
	flags=$(sed -n 's/^flags:[[:space:]]*//p' "/proc/$pid/fdinfo/2")
	echo "fd 2 flags $flags"
	(((8#$flags & 8#4000) == 0))
	flags=$(sed -n 's/^flags:[[:space:]]*//p' "/proc/$pid/fdinfo/1")
	(((8#$flags & 8#4000) == 0))
	# one write(2) of 524288 lines of 100 bytes: all of it taken
	run -0 req burst=52428800
	echo "$output"
	[[ $output == *"burst wrote=52428800 of 52428800 lines=524288"* ]]
	[[ $output != *Status:* ]]	# a 200
	# each line logged, or counted by a note of the rate limit
	wait_for 10 lines_accounted "$pid" burst 524288
	grep -q "\] child $pid: suppressed [0-9]* lines of output" "$LOG"
	# and the same worker goes on serving
	run -0 req pid=1
	[[ $output == *"pid=$pid"* ]]
}

@test "fault-output: a flooding worker stalls neither other pools nor the log" {
	local fpid t0 t2 p99 lines logged notes windows

	conf "pm.max_children = 1" \
	    "[flood]" "user = nobody" "listen = $D/flood.sock" \
	    "command = $WORKER" "pm = static" "pm.max_children = 1" \
	    "catch_workers_output = yes" "workers_output_rate_limit = 500"
	start
	t0=$(now_us)
	(exec fcgi-client -s "$D/flood.sock" -t 30000 \
	    -p "QUERY_STRING=flood_stop=$D/stop,flood=20000") \
	    >"$D/flood" 2>&1 3>&- &
	fpid=$!
	track_pid "$fpid"
	wait_for 5 grep -q 'said into stderr: "flood ' "$LOG"
	# 100 requests to the other pool while the flood goes on, each timed
	# from its connect(2) to its end
	fcgi-client -s "$SOCK" -t 10000 -q -l -n 100 -p QUERY_STRING=pid=1 \
	    >"$D/times"
	grep -qx 'responses=100 bytes=.*' "$D/times"
	sed -n 's/^us=//p' "$D/times" | sort -n >"$D/us"
	p99=$(($(sed -n 99p "$D/us") / 1000))
	echo "p99 $(sed -n 99p "$D/us") us, slowest $(tail -3 "$D/us" | xargs) us"
	((p99 < 100))
	# the flood was on all along, or the figure says nothing
	run ! pid_gone "$fpid"
	touch "$D/stop"
	wait "$fpid"
	t2=$(now_us)
	cat "$D/flood"
	lines=$(sed -n 's/.*flood bytes=[0-9]* lines=\([0-9]*\).*/\1/p' \
	    "$D/flood")
	((lines > 10000))
	# every line is logged or counted as suppressed ...
	wait_for 5 lines_accounted '[0-9]*' flood "$lines"
	# ... and no more are logged than 500 a second allows
	windows=$(((t2 - t0) / 1000000 + 2))
	logged=$(grep -c 'said into stderr: "flood ' "$LOG")
	notes=$(grep -c '\] child [0-9]*: suppressed [0-9]* lines' "$LOG")
	echo "logged $logged lines and $notes notes in $windows windows"
	((logged <= 500 * windows))
	((notes >= 1 && notes <= windows))
}

@test "fault-output: workers_output_rate_limit is checked, and 0 lifts it" {
	local pid

	conf "workers_output_rate_limit = -1"
	run -100 fpm-supervise -t -y "$CONF"
	[[ $output == *workers_output_rate_limit* ]]
	# 0: each of 3000 lines in one second is logged, with no note
	conf "pm.max_children = 1" "workers_output_rate_limit = 0"
	start
	pid=$(worker_pids | head -1)
	run -0 req burst=300000
	[[ $output == *"burst wrote=300000 of 300000 lines=3000"* ]]
	wait_for 5 lines_accounted "$pid" burst 3000
	run ! grep -q 'suppressed' "$LOG"
}
