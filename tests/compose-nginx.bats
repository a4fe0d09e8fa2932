# SPDX-License-Identifier: ISC
# nginx -> fpm-supervise -> fcgi-testworker, php-cgi, fcgiwrap: the whole
# chain, end to end, with nginx started by the test on 127.0.0.1.

bats_require_minimum_version 1.5.0
load helpers/common
load helpers/nginx
load helpers/supervise

setup() {
	D=$(short_tmpdir)
	chmod 755 "$D"
	CONF=$D/fpm.conf
	SOCK=$D/www.sock
	LOG=$D/stderr
	WORKER=$BUILDDIR/tests/helpers/fcgi-testworker
	FIXTURES=$BATS_TEST_DIRNAME/fixtures
}

teardown() {
	nginx_stop
	supervise_teardown
}

# conf COMMAND [POOL-LINE...]: one pool on $SOCK running COMMAND, as root
# (-R: the workers read the fixtures nginx serves from its private root).
conf() {
	local l cmd=$1
	shift
	{
		echo "[global]"
		echo "runtime_dir = $D"
		echo "pid = $D/fpm.pid"		# its control socket beside it
		echo "[www]"
		echo "listen = $SOCK"
		echo "command = $cmd"
		echo "pm = static"
		echo "pm.max_children = 3"
		echo "ping.path = /ping"
		echo "pm.status_path = /status"
		echo "catch_workers_output = yes"
		for l in "$@"; do
			echo "$l"
		done
	} >"$CONF"
}

start() {
	fpm-supervise -R -y "$CONF" </dev/null >/dev/null 2>"$LOG" 3>&- &
	SUP=$!
	track_pid "$SUP"
	wait_for 10 grep -q 'NOTICE: ready to handle connections' "$LOG"
}

said_pid() {
	sed -n 's/.*\] child \([0-9]*\) said into stderr: "'"$1"'"$/\1/p' "$LOG" |
	    grep .
}

# codes N PATH: N requests over one curl (HTTP keep-alive), one code a line.
codes() {
	local i args=()
	for ((i = 0; i < $1; i++)); do
		args+=(-o /dev/null "http://127.0.0.1:$NGINX_PORT$2")
	done
	curl -s --max-time 30 -w '%{http_code}\n' "${args[@]}"
}

@test "compose-nginx: kill -9 mid-request: 502 for it, 200 for all others, replaced" {
	local pid
	conf "$WORKER"
	start
	nginx_start "unix:$SOCK"
	[[ $(http_get '/a?pid=1') == 200 ]]
	[[ $(cat "$BATS_TEST_TMPDIR/body") == pid=[0-9]* ]]
	curl -s --max-time 30 -o "$D/h" -w '%{http_code}' \
	    "http://127.0.0.1:$NGINX_PORT/h?stderr_fd=hanging,hang=1" \
	    >"$D/h.code" 3>&- &
	track_pid $!
	wait_for 5 said_pid hanging
	pid=$(said_pid hanging)
	codes 40 '/x?sleep=5' >"$D/codes" 3>&- &
	track_pid $!
	kill -KILL "$pid"
	wait_for 10 test -s "$D/h.code"
	[[ $(cat "$D/h.code") == 502 ]]
	[[ $(cat "$D/h") == "502 Bad Gateway: the worker failed" ]]
	wait_for 20 eval '[[ $(grep -c . "$D/codes") == 40 ]]'
	[[ $(sort -u "$D/codes") == 200 ]]
	wait_for 5 eval '[[ $(worker_pids | wc -l) == 4 ]]'
	[[ $(http_get /status) == 200 ]]
	grep -qx 'total processes:      3' "$BATS_TEST_TMPDIR/body"
	run ! grep -E '\[(error|crit|alert)\]' "$NGINX_DIR/error.log"
}

@test "compose-nginx: upstream keepalive and fastcgi_keep_conn carry many requests" {
	conf "$WORKER" "pm.max_children = 1"
	start
	nginx_start "unix:$SOCK" 1
	run -0 codes 300 '/k?count=1'
	[[ $(sort -u <<<"$output") == 200 && ${#lines[@]} == 300 ]]
	[[ $(http_get '/k?conn=1,count=1') == 200 ]]
	# one worker connection served them all
	[[ $(cat "$BATS_TEST_TMPDIR/body") == $'conn=1\ncount=301' ]]
	# nginx kept its connections to us: a few, not one per request
	(($(ss -xH state connected | grep -cF "$SOCK") <= 8))
	run ! grep -E '\[(error|crit|alert)\]' "$NGINX_DIR/error.log"
}

@test "compose-nginx: ping and status answer while every worker hangs" {
	local i
	conf "$WORKER" "pm.max_children = 2"
	start
	nginx_start "unix:$SOCK"
	for i in 1 2; do
		curl -s --max-time 30 -o /dev/null \
		    "http://127.0.0.1:$NGINX_PORT/h?stderr_fd=hanging,hang=1" \
		    3>&- &
		track_pid $!
	done
	wait_for 5 eval '[[ $(said_pid hanging | wc -l) == 2 ]]'
	[[ $(http_get /ping) == 200 ]]
	[[ $(cat "$BATS_TEST_TMPDIR/body") == pong ]]
	[[ $(http_get /status) == 200 ]]
	grep -qx 'active processes:     2' "$BATS_TEST_TMPDIR/body"
	grep -qx 'idle processes:       0' "$BATS_TEST_TMPDIR/body"
	grep -qi '^Content-type: text/plain;charset=UTF-8' "$BATS_TEST_TMPDIR/headers"
}

@test "compose-nginx: a 1 MB POST reaches the worker intact" {
	conf "$WORKER" "request.buffer_size = 16k"
	start
	nginx_start "unix:$SOCK"
	head -c 1048576 /dev/urandom >"$D/big"
	[[ $(http_get '/p?echo=1' --data-binary "@$D/big") == 200 ]]
	[[ $(tail -c 1048576 "$BATS_TEST_TMPDIR/body" | sha256sum) == $(sha256sum <"$D/big") ]]
}

@test "compose-nginx: php-cgi behind fpm-supervise, GET and a 1 MB POST" {
	command -v php-cgi >/dev/null || skip "no php-cgi"
	conf "$(command -v php-cgi)" "pm.max_children = 2" \
	    "php_admin_value[expose_php] = Off"
	start
	nginx_start "unix:$SOCK"
	cp "$FIXTURES/hello.php" "$NGINX_DIR/html/"
	[[ $(http_get '/hello.php?name=x') == 200 ]]
	[[ $(cat "$BATS_TEST_TMPDIR/body") == "hello from cgi-fcgi x" ]]
	run ! grep -qi '^X-Powered-By' "$BATS_TEST_TMPDIR/headers"
	head -c 1048576 /dev/urandom >"$D/big"
	[[ $(http_get /hello.php --data-binary "@$D/big") == 200 ]]
	[[ $(cat "$BATS_TEST_TMPDIR/body") == "$(md5sum <"$D/big" | cut -d' ' -f1)" ]]
	run -0 codes 20 '/hello.php?name=y'
	[[ $(sort -u <<<"$output") == 200 ]]
	[[ $(worker_pids | wc -l) == 2 ]]
}

@test "compose-nginx: fastcgi_finish_request() answers nginx's client while the script runs on" {
	command -v php-cgi >/dev/null || skip "no php-cgi"
	conf "$(command -v php-cgi)" "pm.max_children = 1" \
	    "php.extension = $BUILDDIR/php/fpm.so"
	start
	# both ways nginx talks FastCGI: a connection per request, and kept
	nginx_start "unix:$SOCK" 1
	cp "$FIXTURES/fpm-ext.php" "$NGINX_DIR/html/"
	mkdir "$D/w"
	# the script goes on until $D/w/go, which only comes after the answer
	[[ $(http_get "/fpm-ext.php?t=finish&d=$D/w") == 200 ]]
	[[ $(cat "$BATS_TEST_TMPDIR/body") == answered ]]
	[[ ! -e $D/w/done ]]
	touch "$D/w/go"
	wait_for 10 test -e "$D/w/done"
	[[ $(cat "$D/w/done") == "true false t=finish&d=$D/w" ]]
	nginx_stop
	rm "$D/w/go" "$D/w/done"
	nginx_start "unix:$SOCK"
	[[ $(http_get "/fpm-ext.php?t=finish&d=$D/w") == 200 ]]
	[[ $(cat "$BATS_TEST_TMPDIR/body") == answered ]]
	[[ ! -e $D/w/done ]]
	touch "$D/w/go"
	wait_for 10 test -e "$D/w/done"
}

@test "compose-nginx: fcgiwrap behind fpm-supervise" {
	command -v fcgiwrap >/dev/null || skip "no fcgiwrap"
	conf "$(command -v fcgiwrap)" "pm.max_children = 1"
	start
	nginx_start "unix:$SOCK"
	cp "$FIXTURES/hello.cgi" "$NGINX_DIR/html/"
	[[ $(http_get '/hello.cgi?a=1') == 200 ]]
	[[ $(cat "$BATS_TEST_TMPDIR/body") == "hello from cgi a=1" ]]
	run -0 codes 10 '/hello.cgi?b=2'
	[[ $(sort -u <<<"$output") == 200 ]]
	[[ $(worker_pids | wc -l) == 1 ]]
}
