# SPDX-License-Identifier: ISC
# Hostile clients and workers on the front side of fpm-supervise: memory per
# connection, ABORT_REQUEST framing, refusals that cannot pass for answers,
# records a worker must not send, no request run twice, escaped log lines.

bats_require_minimum_version 1.5.0
load helpers/common
load helpers/supervise

HOSTILE=$BATS_TEST_DIRNAME/helpers/fcgi-hostile

# rss_kb PID [FIELD]: a /proc/PID/status figure in kB (VmRSS by default)
rss_kb() {
	awk -v f="${2:-VmRSS}:" '$1 == f { print $2 }' "/proc/$1/status"
}

@test "fault-front: a client that sends 200 MB of records and reads nothing stays bounded" {
	conf "pm.max_children = 2" "request.client_timeout = 2s"
	start
	before=$(rss_kb "$SUP")
	(exec "$HOSTILE" flood "$SOCK" 200 "$D/blocked") >"$D/flood" 2>&1 3>&- &
	flood=$!
	track_pid "$flood"
	# the supervisor stopped reading it: our sends block
	wait_for 20 test -e "$D/blocked"
	# other clients are served meanwhile
	run -0 req "pid=1"
	[[ ${lines[-1]} == pid=* ]]
	# closed after request.client_timeout without progress
	wait_for 20 pid_gone "$flood"
	run -0 cat "$D/flood"
	[[ $output == "sent "*" closed" ]]
	sent=${output#sent }
	sent=${sent% closed}
	((sent < 200 * 1024 * 1024))
	grep -qF 'WARNING: [pool www] the client took no data for 2000 ms: closing its connection' "$LOG"
	# the peak grew by less than 16 MB (it was 489 MB for 237 MB sent)
	peak=$(rss_kb "$SUP" VmHWM)
	echo "RSS before $before kB, peak $peak kB, sent $sent bytes"
	((peak - before < 16 * 1024))
	run -0 req "pid=1"
}

@test "fault-front: ABORT_REQUEST never lands inside a record to the worker" {
	conf "pm.max_children = 1"
	start
	# the worker reads 8 KiB every 2 ms: the 4 MB body goes out piecemeal
	run -0 "$HOSTILE" abort "$SOCK" "bodylen=2" 4
	[[ $output == *"END_REQUEST 1 8 status=0"* ]]
	[[ ${lines[-1]} == "bodylen=4194304" ]]
	# the worker's stream stayed whole: it serves on, on the same pid
	run -0 req "bodylen=0,pid=1"
	[[ ${lines[-1]} == "pid=$(worker_pids)" ]]
	[[ $(worker_pids | wc -l) == 1 ]]
	! grep -q "speaks no FastCGI\|AddressSanitizer" "$LOG"
}

@test "fault-front: a BEGIN_REQUEST for the live request's id closes the connection" {
	conf
	start
	run -0 "$HOSTILE" pipeline "$SOCK" "sleep=300,pid=1" 1
	# no END_REQUEST of id 1 came that could pass for the answer
	[[ $output != *"END_REQUEST 1"* ]]
	grep -qF 'closing a connection: BEGIN_REQUEST for request 1, which is under way' "$LOG"
	run -0 req "pid=1"
}

@test "fault-front: a refusal of another id comes after the answer, never inside it" {
	conf
	start
	run -0 "$HOSTILE" pipeline "$SOCK" "sleep=300,bytes=200000" 2
	[[ ${lines[0]} == "stdout 2000"?? ]]
	[[ ${lines[1]} == "STDOUT 1 0" ]]
	[[ ${lines[2]} == "END_REQUEST 1 8 status=0" ]]
	[[ ${lines[3]} == "END_REQUEST 2 8 status=1" ]]
	# a GET_VALUES while a large answer is relayed: whole records only
	run -0 "$HOSTILE" midvalues "$SOCK" "bytes=1000000"
	[[ $output != *broken* ]]
	[[ ${lines[0]} == "stdout 10000"?? ]]
	[[ ${lines[1]} == "STDOUT 1 0" ]]
	[[ ${lines[2]} == "END_REQUEST 1 8 status=0" ]]
	[[ ${lines[3]} == "GET_VALUES_RESULT 0 "* ]]
}

@test "fault-front: records a worker must not send are dropped, said once" {
	conf "command = $HOSTILE badworker" "pm.max_children = 1"
	start
	for i in 1 2 3; do
		run -0 "$HOSTILE" get "$SOCK" ""
		[[ ${lines[0]} == "stdout 33" ]]
		[[ ${lines[1]} == "STDOUT 1 0" ]]
		[[ ${lines[2]} == "END_REQUEST 1 8 status=0" ]]
		[[ ${lines[3]} == "Content-Type: text/plain"* ]]
		[[ $output == *$'\r\n\r\nhello' ]]
	done
	[[ $(grep -c "sent a record a worker must not send" "$LOG") == 1 ]]
	# and it is the same worker: nothing broke
	[[ $(worker_pids | wc -l) == 1 ]]
}

@test "fault-front: a worker killed mid-script is not given the request again" {
	command -v php-cgi >/dev/null || skip "no php-cgi"
	cat >"$D/once.php" <<-'PHP'
	<?php
	file_put_contents(getenv('FAULT_FILE'), getmypid() . "\n", FILE_APPEND);
	sleep(10);
	PHP
	chmod 644 "$D/once.php"
	: >"$D/ran"
	chmod 666 "$D/ran"
	conf "command = $(command -v php-cgi)" "env[FAULT_FILE] = $D/ran"
	start
	req_bg r "" -p SCRIPT_FILENAME="$D/once.php"
	wait_for 10 test -s "$D/ran"
	kill -KILL "$(head -1 "$D/ran")"
	wait "$PID_r" || true
	run -0 cat "$D/r"
	[[ ${lines[0]} == "Status: 502 Bad Gateway"* ]]
	[[ $(wc -l <"$D/ran") == 1 ]]
	grep -qF 'before answering "GET /index.php": answering 502' "$LOG"
}

@test "fault-front: a forged line in a request field is logged escaped, on one line" {
	conf "command = $(command -v php-cgi || echo /bin/false)"
	start
	# a file of that name: the extensions are checked on a script that is
	evil=$D/$'x.jpg\n[05-Dec-2026 10:00:00] ALERT: forged \e[1m'
	: >"$evil"
	run -0 --separate-stderr fcgi-client -s "$SOCK" -t 5000 \
	    -p SCRIPT_FILENAME="$evil" -p REQUEST_METHOD=$'GET\nALERT:'
	[[ ${lines[0]} == "Status: 403 Forbidden"* ]]
	# escaped for the web server's log too
	[[ $stderr == "Access to the script '$D/x.jpg\\n[05-Dec-2026 10:00:00] ALERT: forged \\033[1m' has been denied (see security.limit_extensions)" ]]
	! grep -q '^\[05-Dec-2026 10:00:00\] ALERT' "$LOG"
	! grep -q $'\e' "$LOG"
	grep -qF "Access to the script '$D/x.jpg\\n[05-Dec-2026 10:00:00] ALERT: forged \\033[1m' has been denied" "$LOG"
}

@test "fault-front: an answer of our own of any size goes out whole" {
	long=$(printf 'p%.0s' $(seq 10000))
	conf "ping.response = $long"
	start
	run -0 fcgi-client -s "$SOCK" -t 5000 -p SCRIPT_NAME=/ping
	[[ $output == *$'\r\n\r\n'"$long" ]]
	run -0 fcgi-client -s "$SOCK" -t 5000 -p SCRIPT_NAME=/ping \
	    -p REQUEST_METHOD=HEAD
	[[ $output == *"max-age=0"* && $output != *ppp* ]]
}

@test "fault-front: an ABORT_REQUEST after the answer adds no END_REQUEST" {
	# larger than a socket holds: the answer is still going out
	long=$(head -c 400000 /dev/zero | tr '\0' p)
	conf "ping.response = $long"
	start
	run -0 "$HOSTILE" abortafter "$SOCK" /ping
	[[ ${lines[0]} == "stdout 400"??? ]]
	[[ ${lines[1]} == "STDOUT 1 0" ]]
	[[ ${lines[2]} == "END_REQUEST 1 8 status=0" ]]
	[[ ${#lines[@]} == 3 ]]
}

@test "fault-front: a request behind one answered at once, in the same read" {
	conf "ping.path = /ping"
	start
	for how in abort ping; do
		run -0 "$HOSTILE" keepbegin "$SOCK" "$how"
		# two answers, the second from a worker: nothing aborted
		[[ $(grep -c '^END_REQUEST 1 8 status=0' <<<"$output") == 2 ]]
		[[ ${lines[-1]} == pid=* ]]
	done
	kill -0 "$SUP"
	! grep -q 'bug:' "$LOG"
}

@test "fault-front: a client that shuts its sending side still gets its answer" {
	conf "pm.max_children = 1"
	start
	# in one write (never watched) and in two (watched when EOF comes)
	for writes in 1 2; do
		run -0 "$HOSTILE" halfclose "$SOCK" "sleep=200,pid=1" "$writes"
		[[ $output == *"END_REQUEST 1 8 status=0"* ]]
		[[ ${lines[-1]} == "pid=$(worker_pids)" ]]
	done
	# queued behind a busy worker, half-closed: served when it is free
	req_bg a "stderr_fd=busy,sleep=500,count=1"
	wait_for 5 grep -qF "child $(worker_pids) said into stderr: \"busy\"" "$LOG"
	run -0 "$HOSTILE" halfclose "$SOCK" "count=1" 1
	[[ $output == *"END_REQUEST 1 8 status=0"* ]]
	# the worker's fourth request: after the busy one
	[[ ${lines[-1]} == count=4 ]]
	wait "$PID_a"
	! grep -q "client went away" "$LOG"
}

@test "fault-front: with request.terminate_on_abort a half-close is the client's going" {
	conf "pm.max_children = 1" "request.terminate_on_abort = yes"
	start
	for writes in 1 2; do
		first=$(worker_pids)
		run -0 "$HOSTILE" halfclose "$SOCK" "sleep=5000" "$writes"
		[[ $output != *END_REQUEST* ]]
		wait_for 5 grep -q "client went away during \"GET /index.php\": terminating child $first" "$LOG"
		wait_for 10 eval '[[ -n $(worker_pids) && $(worker_pids) != "$first" ]]'
	done
}

@test "fault-front: a 256 MB answer relays whole while others are served" {
	conf "pm.max_children = 2" "ping.path = /ping"
	start
	(exec fcgi-client -s "$SOCK" -t 60000 -p "QUERY_STRING=bytes=268435456" |
	    wc -c) >"$D/big" 2>&1 3>&- &
	big=$!
	track_pid "$big"
	run -0 "$HOSTILE" keepbegin "$SOCK" ping
	[[ $(grep -c '^END_REQUEST 1 8 status=0' <<<"$output") == 2 ]]
	wait "$big"
	# 268435456 bytes of body behind the headers
	run -0 cat "$D/big"
	((output > 268435456 && output < 268435456 + 200))
}

@test "fault-front: a large answer fills a grown socket buffer, bounded, then relays whole" {
	conf "pm.max_children = 1"
	start
	# a client that reads nothing until its socket holds more than the
	# kernel's default buffer lets through (208 KiB and one write of
	# 64 KiB at most): grown to 1 MiB (and one write), not more; then
	# it reads all of it
	run -0 python3 -c '
import fcntl, socket, struct, sys, termios, time
def rec(t, c):
    return bytes([1, t, 0, 1, len(c) >> 8, len(c) & 255, 0, 0]) + c
nv = lambda k, v: bytes([len(k), len(v)]) + k + v
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
s.sendall(rec(1, bytes([0, 1, 0, 0, 0, 0, 0, 0])) +
    rec(4, nv(b"QUERY_STRING", b"bytes=3000000")) + rec(4, b"") + rec(5, b""))
inq = lambda: struct.unpack("i", fcntl.ioctl(s, termios.FIONREAD, b"\0" * 4))[0]
end = time.monotonic() + 10
while inq() <= 300000 and time.monotonic() < end:
    time.sleep(0.01)
held = inq()
n = 0
while True:
    d = s.recv(1 << 16)
    if not d:
        break
    n += len(d)
print(held, n)
' "$SOCK"
	read -r held total <<<"$output"
	((held > 300000 && held <= 1048576 + 65536)) ||
	    { echo "held $held"; false; }
	# 3000000 bytes of body, headers and records around them
	((total > 3000000 && total < 3000000 + 16384)) ||
	    { echo "total $total"; false; }
}

@test "fault-front: a worker dying inside its STDERR record costs a close, never a 502 inside it" {
	conf "command = $HOSTILE cutworker" "pm.max_children = 1"
	start
	first=$(worker_pids)
	run -0 "$HOSTILE" get "$SOCK" "x=1"
	echo "$output"
	# the 50 bytes of the cut record may or may not have gone out; no
	# record of ours follows them
	[[ $output != *END_REQUEST* && $output != *STDOUT* ]]
	wait_for 5 grep -q "child $first: .* in the middle of the response to \"GET /index.php\"" "$LOG"
	! grep -q "answering 502" "$LOG"
	# a new worker takes the pool's next request
	wait_for 10 eval '[[ -n $(worker_pids) && $(worker_pids) != "$first" ]]'
}

@test "fault-front: request.buffering = no holds the client back, never spools" {
	# no spool directory: a body that had to be spooled would fail
	conf "pm.max_children = 1" "request.buffering = no" \
	    "request.buffer_size = 16k" "request.spool_dir = $D/none"
	start
	head -c 2097152 /dev/urandom >"$D/big"
	# the worker reads 8 KiB every 2 ms: the client outruns it
	run -0 req bodylen=2 -p REQUEST_METHOD=POST -i "$D/big" -t 120000
	[[ ${lines[-1]} == bodylen=2097152 ]]
	! grep -q "unable to spool" "$LOG"
}

@test "fault-front: request.buffering = no reads a body that comes after the request went to a worker" {
	conf "pm.max_children = 1" "request.buffering = no"
	start
	# stopped, the supervisor finds the request's start whole when it
	# accepts: it goes to the worker in the first read
	kill -STOP "$SUP"
	(exec "$HOSTILE" slowbody "$SOCK" "bodylen=0" "$D/sent" "$D/go") \
	    >"$D/out" 2>&1 3>&- &
	client=$!
	track_pid "$client"
	wait_for 10 test -e "$D/sent"
	kill -CONT "$SUP"
	wait_for 10 status_has "active processes:     1"
	touch "$D/go"
	wait "$client"
	run -0 cat "$D/out"
	[[ $output == *"END_REQUEST 1 8 status=0"* ]]
	[[ ${lines[-1]} == bodylen=6 ]]
}

@test "fault-front: a body over request.max_body_size gets a 413, and is not spooled on" {
	conf "pm.max_children = 1" "request.buffer_size = 4k" \
	    "request.max_body_size = 8k"
	start
	head -c 8192 /dev/urandom >"$D/ok"
	run -0 req bodylen=0 -p REQUEST_METHOD=POST -i "$D/ok"
	[[ ${lines[-1]} == bodylen=8192 ]]
	head -c 8193 /dev/urandom >"$D/big"
	run -0 req bodylen=0 -p REQUEST_METHOD=POST -i "$D/big"
	[[ ${lines[0]} == "Status: 413 Payload Too Large"* ]]
	[[ $output == *"413 Payload Too Large: the request body exceeds request.max_body_size"* ]]
	grep -qF "WARNING: [pool www] a request body larger than request.max_body_size (8192 bytes): answering 413" "$LOG"
	# it reached no worker, which serves on
	run -0 req count=1
	[[ ${lines[-1]} == count=2 ]]
}
