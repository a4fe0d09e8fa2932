# SPDX-License-Identifier: ISC
# The test helpers against real peers: fcgi-testworker (libfcgi) under
# spawn-fcgi, queried by fcgi-client, cgi-fcgi, php-cgi and nginx.

bats_require_minimum_version 1.5.0
load helpers/common
load helpers/nginx

setup() {
	SOCK=$BATS_TEST_TMPDIR/w.sock
	if ((${#SOCK} > 100)); then
		SOCKDIR=$(short_tmpdir)
		SOCK=$SOCKDIR/w.sock
	fi
}

teardown() {
	nginx_stop
	# a worker may ignore SIGTERM: kill_tracked would wait for it forever
	if [[ -n ${W_PID:-} ]]; then
		kill -KILL "$W_PID" 2>/dev/null || true
	fi
	kill_tracked
	if [[ -n ${SOCKDIR:-} ]]; then
		rm -rf "$SOCKDIR"
	fi
}

# listening PATH: a unix socket is bound and listening at PATH
listening() {
	ss -xlnH "src $1" 2>/dev/null | grep -q .
}

# start_worker [ARG...]: fcgi-testworker on $SOCK, its pid in $W_PID
start_worker() {
	spawn-fcgi -n -s "$SOCK" -- "$(command -v fcgi-testworker)" "$@" \
	    </dev/null >"$BATS_TEST_TMPDIR/worker.out" \
	    2>"$BATS_TEST_TMPDIR/worker.err" 3>&- &
	W_PID=$!
	track_pid "$W_PID"
	wait_for 5 listening "$SOCK"
}

q() {
	fcgi-client -s "$SOCK" -t 5000 -p QUERY_STRING="$1" "${@:2}"
}

@test "testworker: hello without a query" {
	start_worker
	run -0 fcgi-client -s "$SOCK" -t 5000
	[[ $output == *"Content-Type: text/plain"* ]]
	[[ $output == *"X-Worker-Pid: $W_PID"* ]]
	[[ ${lines[-1]} == hello ]]
}

@test "testworker: echo params and body" {
	start_worker
	printf 'line one\nline two' >"$BATS_TEST_TMPDIR/in"
	run -0 q echo=1 -p FOO=bar -p EMPTY= -i "$BATS_TEST_TMPDIR/in"
	[[ $output == *$'\nFOO=bar\n'* ]]
	[[ $output == *$'\nEMPTY=\n'* ]]
	[[ $output == *$'\nCONTENT_LENGTH=17\n'* ]]
	[[ $output == *$'\nREQUEST_METHOD=GET\n'* ]]
	[[ $output == *$'--body--\nline one\nline two' ]]
}

@test "testworker: large body with tiny random writes" {
	start_worker
	head -c 300000 /dev/urandom >"$BATS_TEST_TMPDIR/in"
	fcgi-client -s "$SOCK" -t 20000 -r -p QUERY_STRING=echo=1 \
	    -i "$BATS_TEST_TMPDIR/in" >"$BATS_TEST_TMPDIR/out"
	tail -c 300000 "$BATS_TEST_TMPDIR/out" | cmp - "$BATS_TEST_TMPDIR/in"
}

@test "testworker: status, bytes and TW_ params" {
	start_worker
	run -0 q status=404,bytes=100
	[[ ${lines[0]} == "Status: 404"* ]]
	[[ ${lines[-1]} == "$(printf 'x%.0s' {1..100})" ]]
	run -0 fcgi-client -s "$SOCK" -t 5000 -p TW_STATUS=503 -p TW_PID=1
	[[ ${lines[0]} == "Status: 503"* ]]
	[[ ${lines[-1]} == "pid=$W_PID" ]]
	run -0 q 'bytes=1000000' -q
	[[ $output == "responses=1 bytes="* ]]
	((${output##*bytes=} > 1000000))
}

@test "testworker: stderr stream, raw fds, who, env, fds" {
	start_worker
	run -0 --separate-stderr q 'stderr=to+stream,stderr_fd=to%20fd2' \
	    -p TW_STDOUT_FD=fd1 -p TW_WHO=1 -p TW_ENV=HOME -p TW_FDS=1
	[[ $stderr == "to stream" ]]
	[[ $output == *"uid=$(id -u) gid=$(id -g) cwd="* ]]
	[[ $output == *"env HOME=${HOME:-(unset)}"* ]]
	[[ $output =~ fds=0,1,2,[0-9] ]]
	wait_for 5 grep -qx 'to fd2' "$BATS_TEST_TMPDIR/worker.err"
	wait_for 5 grep -qx fd1 "$BATS_TEST_TMPDIR/worker.out"
}

@test "testworker: keep-conn serves many requests on one connection" {
	start_worker
	run -0 q count=1,conn=1,pid=1 -k -n 3
	[[ $output == *$'count=1\nconn=1'* ]]
	[[ $output == *$'count=2\nconn=1'* ]]
	[[ $output == *$'count=3\nconn=1'* ]]
	# without -k: a new connection per request, same process
	run -0 q count=1,conn=1 -n 2
	[[ $output == *$'count=4\nconn=2'* ]]
	[[ $output == *$'count=5\nconn=3'* ]]
}

@test "testworker: exit before END_REQUEST" {
	local rc=0
	start_worker
	run -2 q exit=3
	[[ $output == *"connection closed before END_REQUEST"* ]]
	wait "$W_PID" || rc=$?
	((rc == 3))
}

@test "testworker: exit_after answers first" {
	local rc=0
	start_worker
	run -0 q exit_after=4,pid=1
	[[ ${lines[-1]} == "pid=$W_PID" ]]
	wait "$W_PID" || rc=$?
	((rc == 4))
}

@test "testworker: segv kills the worker with SIGSEGV" {
	local rc=0
	start_worker
	run -2 q segv=1
	wait "$W_PID" || rc=$?
	((rc == 128 + 11))
}

@test "testworker: early_end answers before it sleeps" {
	start_worker
	run -0 q early_end=1,sleep=30000,pid=1 -t 3000
	[[ ${lines[-1]} == "pid=$W_PID" ]]
}

@test "testworker: wait holds the request until its file exists, mark says it runs" {
	local go=$BATS_TEST_TMPDIR/go
	start_worker
	run -4 q "mark=$go.m,wait=$go,pid=1" -t 200
	[[ $(cat "$go.m") == "$W_PID" ]]
	touch "$go"
	run -0 q "wait=$go,pid=1"
	[[ ${lines[-1]} == "pid=$W_PID" ]]
	# after an early end: answered at once, then the worker waits
	run -0 q "early_end=1,wait=$go.2,pid=1" -t 3000
	[[ ${lines[-1]} == "pid=$W_PID" ]]
	run -4 q pid=1 -t 200
	touch "$go.2"
	run -0 q pid=1
}

@test "testworker: hang, and the client times out" {
	start_worker
	run -4 q hang=1 -t 200
	[[ $output == *timeout* ]]
}

@test "testworker: start-up flags" {
	run -7 fcgi-testworker -e 7
	run -0 fcgi-testworker -p "$BATS_TEST_TMPDIR/pid" -e 0
	[[ $(cat "$BATS_TEST_TMPDIR/pid") =~ ^[0-9]+$ ]]
	run -100 fcgi-testworker -Z
	run -100 fcgi-testworker -d x
	run -100 fcgi-testworker </dev/null
	[[ $output == *"not a listening socket"* ]]
}

@test "testworker: SIGTERM kills, -t ignores it, -g finishes the request" {
	local rc=0
	start_worker
	kill -TERM "$W_PID"
	wait "$W_PID" || rc=$?
	((rc == 128 + 15))

	start_worker -t
	# the socket listens before the worker runs: wait until it serves
	q pid=1 >/dev/null
	kill -TERM "$W_PID"
	# a request served after the signal proves it was ignored
	run -0 q pid=1
	[[ ${lines[-1]} == "pid=$W_PID" ]]
	kill -KILL "$W_PID"
	wait "$W_PID" || true

	start_worker -g
	q "stderr_fd=started,wait=$BATS_TEST_TMPDIR/go,pid=1" \
	    >"$BATS_TEST_TMPDIR/out" 3>&- &
	C_PID=$!
	wait_for 5 grep -qx started "$BATS_TEST_TMPDIR/worker.err"
	kill -TERM "$W_PID"
	# the request still in hand when the signal came
	touch "$BATS_TEST_TMPDIR/go"
	wait "$C_PID"
	grep -qx "pid=$W_PID" "$BATS_TEST_TMPDIR/out"
	rc=0
	wait "$W_PID" || rc=$?
	((rc == 0))
}

@test "testworker: spoken to by cgi-fcgi" {
	start_worker
	run -0 env QUERY_STRING=status=201,pid=1 REQUEST_METHOD=GET \
	    SCRIPT_FILENAME=/x cgi-fcgi -bind -connect "$SOCK"
	[[ ${lines[0]} == "Status: 201"* ]]
	[[ $output == *"pid=$W_PID"* ]]
}

@test "client: usage and connection errors" {
	run -100 fcgi-client
	run -100 fcgi-client -s a -a b:1
	run -100 fcgi-client -s a -p NOEQUALS
	run -0 fcgi-client --help
	[[ $output == usage:* ]]
	run -111 fcgi-client -s "$BATS_TEST_TMPDIR/nothing.sock"
	[[ $output == *"connect"* ]]
}

@test "client: raw bytes and record dump" {
	start_worker
	# BEGIN_REQUEST (responder, no keep-conn), empty PARAMS, empty STDIN
	run -0 fcgi-client -s "$SOCK" -t 5000 \
	    -x 0101000100080000000100000000000001040001000000000105000100000000
	[[ ${lines[0]} =~ ^type=6\ id=1\ len=[0-9]+$ ]]
	[[ $output == *$'\nhello\n'* ]]
	[[ $output == *$'type=3 id=1 len=8\napp=0 proto=0' ]]
	run -100 fcgi-client -s "$SOCK" -x 0g
}

@test "client: GET_VALUES against php-cgi" {
	[[ -x /usr/bin/php-cgi ]] || skip "no php-cgi"
	spawn-fcgi -n -s "$SOCK" -- /usr/bin/php-cgi </dev/null >/dev/null \
	    2>&1 3>&- &
	track_pid $!
	wait_for 5 listening "$SOCK"
	run -0 fcgi-client -s "$SOCK" -t 5000 -V
	[[ $output == *"FCGI_MAX_CONNS="* ]]
	[[ $output == *"FCGI_MAX_REQS="* ]]
	[[ $output == *"FCGI_MPXS_CONNS=0"* ]]
}

@test "nginx: curl through nginx to the testworker" {
	start_worker
	nginx_start "unix:$SOCK"
	run -0 http_get '/a/b.php?echo=1'
	[[ $output == 200 ]]
	grep -qx "SCRIPT_FILENAME=$NGINX_DIR/html/a/b.php" "$BATS_TEST_TMPDIR/body"
	grep -qx 'QUERY_STRING=echo=1' "$BATS_TEST_TMPDIR/body"
	grep -qi "^X-Worker-Pid: $W_PID" "$BATS_TEST_TMPDIR/headers"
	run -0 http_get '/?status=404'
	[[ $output == 404 ]]
	run -0 http_get '/?echo=1' --data-binary posted
	[[ $output == 200 ]]
	[[ $(tail -n 2 "$BATS_TEST_TMPDIR/body") == $'--body--\nposted' ]]
}

@test "nginx: upstream keepalive reuses the worker connection" {
	start_worker
	nginx_start "unix:$SOCK" 1
	run -0 http_get '/?conn=1'
	[[ $output == 200 ]]
	grep -qx conn=1 "$BATS_TEST_TMPDIR/body"
	run -0 http_get '/?conn=1,count=1'
	grep -qx conn=1 "$BATS_TEST_TMPDIR/body"
	grep -qx count=2 "$BATS_TEST_TMPDIR/body"
	nginx_stop
	[[ -z ${NGINX_PID:-} ]]
}
