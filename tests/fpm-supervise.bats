# SPDX-License-Identifier: ISC
# fpm-supervise, black-box: configuration, dispatch, queue, malformed
# FastCGI, worker deaths, signals and clean-up, with fcgi-testworker (libfcgi)
# behind and fcgi-client or cgi-fcgi in front.  nginx: compose-nginx.bats.

bats_require_minimum_version 1.5.0
load helpers/common

load helpers/supervise

@test "fpm-supervise: a config error names file:line, exits 100, starts nothing" {
	local line
	conf "pm.bogus = 3"
	line=$(grep -n '^pm.bogus' "$CONF" | cut -d: -f1)
	run -100 --separate-stderr fpm-supervise -y "$CONF"
	[[ $stderr == *"] ERROR: [$CONF:$line] unknown entry 'pm.bogus'"* ]]
	[[ $stderr == *"] ERROR: FPM initialization failed" ]]
	[[ ${#stderr_lines[@]} == 2 && -z $output ]]
	[[ ! -e $SOCK && -z $(find "$D" -name 'fpm.??????') ]]

	conf "pm.max_children = 0"
	run -100 fpm-supervise -y "$CONF"
	[[ $output == *"ERROR: [$CONF:$(grep -n '^pm.max_children = 0' "$CONF" | cut -d: -f1)] [pool www] pm.max_children must be a positive value"* ]]
	[[ ! -e $SOCK ]]

	run -100 fpm-supervise -y "$D/none.conf"
	[[ $output == *"ERROR: cannot open $D/none.conf: No such file or directory"* ]]
}

# Messages PHP-FPM has too come at its level, in its words: here the notice
# of a derived pm.start_servers, beside php-fpm8.2's.
@test "fpm-supervise: pm.start_servers derived is PHP-FPM's NOTICE" {
	local want="NOTICE: [pool www] pm.start_servers is not set. It's been set to 2."
	conf "pm = dynamic" "pm.max_children = 5" "pm.min_spare_servers = 1" \
	    "pm.max_spare_servers = 3"
	run -0 fpm-supervise -t -y "$CONF"
	[[ ${lines[0]} == *"] $want" ]]
	command -v php-fpm8.2 >/dev/null || return 0
	printf '%s\n' "[global]" "error_log = $D/php-fpm.log" "[www]" \
	    "user = nobody" "listen = $D/php.sock" "pm = dynamic" \
	    "pm.max_children = 5" "pm.min_spare_servers = 1" \
	    "pm.max_spare_servers = 3" >"$D/php-fpm.conf"
	run -0 php-fpm8.2 -n -t -y "$D/php-fpm.conf"
	[[ ${lines[0]} == *"] $want" ]]
}

# -tt prints php_*[] as PHP-FPM's does: flags as values, E_* evaluated.
@test "fpm-supervise: -tt prints php_value[] and php_admin_value[] as php-fpm8.2 -tt" {
	local php=(
		"php_flag[display_errors] = on"
		"php_admin_flag[log_errors] = off"
		"php_value[error_reporting] = E_ALL & ~E_NOTICE"
		"php_admin_value[error_reporting] = (E_ALL | E_STRICT) ^ E_DEPRECATED"
		"php_admin_value[memory_limit] = 64M"
	)
	local ours theirs
	conf "command = $(command -v php-cgi8.2 || echo /usr/bin/php-cgi)" \
	    "${php[@]}"
	run -0 fpm-supervise -tt -R -y "$CONF"
	ours=$(grep -o 'NOTICE: .php_.*' <<<"$output" | sort)
	[[ $ours == *$'NOTICE: \tphp_admin_value[error_reporting] = 24575\n'* ]]
	[[ $ours == *$'NOTICE: \tphp_admin_value[log_errors] = 0\n'* ]]
	[[ $ours == *$'NOTICE: \tphp_value[display_errors] = 1\n'* ]]
	[[ $ours == *$'NOTICE: \tphp_value[error_reporting] = 32759' ]]
	command -v php-fpm8.2 >/dev/null || return 0
	printf '%s\n' "[global]" "error_log = $D/php-fpm.log" "[www]" \
	    "user = nobody" "listen = $D/php.sock" "pm = static" \
	    "pm.max_children = 1" "${php[@]}" >"$D/php-fpm.conf"
	run -0 php-fpm8.2 -n -tt -y "$D/php-fpm.conf"
	theirs=$(grep -o 'NOTICE: .php_.*' <<<"$output" | sort)
	[[ $ours == "$theirs" ]]
}

@test "fpm-supervise: -t tests the config, -tt also dumps it" {
	conf
	run -0 fpm-supervise -t -y "$CONF"
	[[ $output =~ ^\[[0-9]{2}-[A-Z][a-z]{2}-[0-9]{4}\ [0-9:]{8}\]\ NOTICE:\ configuration\ file\ $CONF\ test\ is\ successful$ ]]
	[[ ! -e $SOCK && -z $(find "$D" -name 'fpm.??????') ]]
	run -0 fpm-supervise -tt -y "$CONF"
	# PHP-FPM's form: a NOTICE line each, a blank notice after a section
	[[ ${lines[0]} == *"] NOTICE: [global]" ]]
	[[ $output == *$'] NOTICE:  \n'*"] NOTICE: [www]"$'\n'* ]]
	[[ $output == *$'] NOTICE: \tpm.max_children = 2\n'* ]]
	[[ $output == *$'] NOTICE: \tlisten = '"$SOCK"$'\n'* ]]
	[[ ${lines[-1]} == *"NOTICE: configuration file $CONF test is successful" ]]
	# shown when asked for, whatever log_level says
	GLOBAL="log_level = error"
	conf
	run -0 fpm-supervise -tt -y "$CONF"
	[[ $output == *$'] NOTICE: \tpm.max_children = 2\n'* ]]
	conf "listen ="
	run -100 fpm-supervise -t -y "$CONF"
	[[ $output == *"ERROR: [$CONF:"* ]]
}

@test "fpm-supervise: serves requests, answers GET_VALUES, logs in PHP-FPM's format" {
	conf
	start
	run -0 req pid=1,count=1
	[[ ${lines[0]} == "Content-Type: text/plain"* ]]
	[[ $output == *$'\npid='*$'\ncount=1' ]]
	worker_pids | grep -qx "$(sed -n 's/^pid=//p' <<<"$output")"
	run -0 fcgi-client -s "$SOCK" -V
	[[ $output == $'FCGI_MAX_CONNS=1024\nFCGI_MAX_REQS=1\nFCGI_MPXS_CONNS=0' ]]
	# cgi-fcgi, libfcgi's own client
	run -0 env -i QUERY_STRING=echo=1 REQUEST_METHOD=GET \
	    SCRIPT_FILENAME=/x.php "$(command -v cgi-fcgi)" -bind -connect "$SOCK"
	[[ ${output#*$'\r\n\r\n'} == $'FCGI_ROLE=RESPONDER\nQUERY_STRING=echo=1\nREQUEST_METHOD=GET\nSCRIPT_FILENAME=/x.php\n--body--' ]]
	[[ $(worker_pids | wc -l) == 2 ]]
	grep -Eq '^\[[0-9]{2}-[A-Z][a-z]{2}-[0-9]{4} [0-9:]{8}\] NOTICE: fpm is running, pid '"$SUP"'$' "$LOG"
}

@test "fpm-supervise: a kept connection carries many requests over one worker connection" {
	conf "pm.max_children = 1"
	start
	run -0 req conn=1,count=1 -k -n 50 -q
	[[ $output == "responses=50 bytes="* ]]
	run -0 req conn=1,count=1 -k
	# one connection from the supervisor to the worker, 51 requests on it
	[[ $output == *$'\nconn=1\ncount=51' ]]
}

@test "fpm-supervise: a second BEGIN_REQUEST on a connection gets CANT_MPX_CONN" {
	conf
	start
	# BEGIN 1, PARAMS 1 end, BEGIN 2, STDIN 1 end
	run -0 fcgi-client -s "$SOCK" -t 10000 -x "$(printf '%s ' \
	    01 01 00 01 00 08 00 00 00 01 00 00 00 00 00 00 \
	    01 04 00 01 00 00 00 00 \
	    01 01 00 02 00 08 00 00 00 01 00 00 00 00 00 00 \
	    01 05 00 01 00 00 00 00)"
	[[ ${lines[0]} == "type=3 id=2 len=8" && ${lines[1]} == "app=0 proto=1" ]]
	[[ ${lines[2]} == "type=6 id=1 len="* ]]
	[[ $output == *$'\nhello\ntype=6 id=1 len=0\ntype=3 id=1 len=8\napp=0 proto=0' ]]
}

@test "fpm-supervise: malformed FastCGI closes the connection, and only that" {
	local hex want msg
	conf "request.max_params_size = 1k"
	start
	while IFS='|' read -r hex want msg; do
		run -0 fcgi-client -s "$SOCK" -t 10000 -H -x "$hex"
		[[ $output == "$(printf '%b' "$want")" ]] ||
			{ echo "$hex: $output"; false; }
		if [[ -n $msg ]]; then
			grep -qF "WARNING: [pool www] closing a connection: $msg" \
			    "$LOG" || { echo "no log: $msg"; false; }
		fi
	done <<'EOF'
02 01 00 01 00 08 00 00 00 01 00 00 00 00 00 00||not FastCGI (bad version)
47 45 54 20 2f 20 48 54 54 50 2f 31 2e 30 0d 0a 0d 0a||
01 01 00 01 00 08 00 00 00 01||
01 01 00 01 00 08 00 00 00 01 00 00 00 00 00 00 01 04 00 01 00 10 00||
01 01 00 01 ff ff 00 00 00 01 00 00 00 00 00 00||oversized BEGIN_REQUEST record (65535 bytes)
01 01 00 00 00 08 00 00 00 01 00 00 00 00 00 00||malformed BEGIN_REQUEST
01 01 00 01 00 02 00 00 00 01||malformed BEGIN_REQUEST
01 01 00 01 00 08 00 00 00 01 00 00 00 00 00 00 01 04 00 01 00 05 03 00 8f ff ff ff 01 00 00 00 01 04 00 01 00 00 00 00 01 05 00 01 00 00 00 00||malformed PARAMS
01 01 00 01 00 08 00 00 00 01 00 00 00 00 00 00 01 04 00 01 00 02 06 00 01 00 00 00 00 00 00 00 01 05 00 01 00 01 07 00 61 00 00 00 00 00 00 00||STDIN before the end of PARAMS
01 06 00 01 00 00 00 00||unexpected STDOUT record from the client
01 01 00 01 00 08 00 00 00 07 00 00 00 00 00 00|type=3 id=1 len=8\napp=0 proto=3|
01 20 00 00 00 00 00 00|type=11 id=0 len=8\nunknown=32|
EOF
	# PARAMS beyond request.max_params_size
	run -2 req pid=1 -p "BIG=$(printf '%02000d' 0)"
	[[ $output == *"connection closed before END_REQUEST" ]]
	grep -qF "closing a connection: PARAMS larger than 1024 bytes" "$LOG"
	# the pool still serves, with the same two workers
	run -0 req who=1
	[[ $output == *$'\nuid='* ]]
	[[ $(worker_pids | wc -l) == 2 ]]
	kill -0 "$SUP"
}

# response STATUS TEXT: our own error response, as fcgi-client prints it.
response() {
	printf 'Status: %s\r\nContent-type: text/plain\r\n' "$1"
	printf 'Expires: Thu, 01 Jan 1970 00:00:00 GMT\r\n'
	printf 'Cache-Control: no-cache, no-store, must-revalidate, max-age=0\r\n'
	printf '\r\n%s' "$2"
}

# said PID TEXT: the worker's stderr line has been logged.
said() {
	grep -qF "WARNING: [pool www] child $1 said into stderr: \"$2\"" "$LOG"
}

# said_pid TEXT: the pid of the worker that said TEXT into stderr.
said_pid() {
	sed -n 's/.*\] child \([0-9]*\) said into stderr: "'"$1"'"$/\1/p' "$LOG" |
	    grep .
}

@test "fpm-supervise: a worker dying before it answers gets its request a 502" {
	local a b
	conf
	start
	run -0 req exit=3
	[[ $output == "$(response '502 Bad Gateway' \
	    '502 Bad Gateway: the worker failed')" ]]
	wait_for 5 grep -Eq "WARNING: \[pool www\] child [0-9]+ exited with code 3 after" "$LOG"
	run -0 req segv=1
	[[ $output == "$(response '502 Bad Gateway' \
	    '502 Bad Gateway: the worker failed')" ]]
	wait_for 5 grep -Eq "WARNING: \[pool www\] child [0-9]+ exited on signal 11 \(SIGSEGV\) after" "$LOG"
	# each ran once: a request a worker read is never retried
	[[ $(grep -c 'exited with code 3' "$LOG") == 1 ]]
	[[ $(grep -c 'exited on signal 11' "$LOG") == 1 ]]
	run ! grep -q 'trying another worker' "$LOG"
	# both were replaced
	wait_for 5 eval '[[ $(worker_pids | wc -l) == 4 ]]' || { cat "$LOG"; false; }
	wait_for 5 status_has "total processes:      2"
	run -0 req pid=1
	[[ $output == *$'\npid='* ]]
}

@test "fpm-supervise: kill -9 mid-request: that request gets 502, the others 200" {
	local pid i
	conf
	start
	req_bg h "stderr_fd=hanging,hang=1"
	wait_for 5 said_pid hanging
	pid=$(said_pid hanging)
	# a stream of requests around the kill, on the other worker
	(
		for i in $(seq 30); do
			req sleep=5 >/dev/null 2>&1 && echo ok || echo "fail $?"
		done
	) >"$D/loop" 3>&- &
	track_pid $!
	kill -KILL "$pid"
	wait "$PID_h"
	[[ $(cat "$D/h") == "$(response '502 Bad Gateway' \
	    '502 Bad Gateway: the worker failed')" ]]
	wait_for 10 eval '[[ $(grep -c . "$D/loop") == 30 ]]'
	[[ $(sort -u "$D/loop") == ok ]]
	wait_for 5 grep -q "\[pool www\] child $pid exited on signal 9 (SIGKILL) after" "$LOG"
	grep -Eq "WARNING: \[pool www\] child $pid: [a-z ]+ before answering \"GET /index.php\": answering 502" "$LOG"
	# replaced: a third worker (started after that line), two alive
	wait_for 5 eval '[[ $(worker_pids | wc -l) == 3 ]]'
	wait_for 5 status_has "idle processes:       2"
	status_has "total processes:      2"
}

@test "fpm-supervise: a request that reached a worker is never run elsewhere" {
	local first
	mkdir -m 777 "$D/fx"
	conf "command = $FIXTURES/die-first.sh $D/fx $WORKER" "pm.max_children = 1"
	start
	first=$(worker_pids)
	req_bg a pid=1
	wait_for 5 status_has "active processes:     1"
	: >"$D/fx/go"
	wait "$PID_a"
	# in its socket, it may have been read: nothing tells, so a 502
	grep -q '^Status: 502 Bad Gateway' "$D/a"
	grep -Eq "WARNING: \[pool www\] child $first: [a-z ]+ before answering \"GET /index.php\": answering 502" "$LOG"
	run ! grep -q "trying another worker" "$LOG"
	# the replacement serves the next one
	wait_for 5 eval '[[ $(worker_pids | wc -l) == 2 ]]'
	run -0 req pid=1
	[[ ${lines[-1]} == "pid=$(worker_pids | tail -1)" ]]
}

@test "fpm-supervise: a full queue answers 503 at once" {
	conf "pm.max_children = 1" "queue.max_length = 1"
	start
	# busy until b is queued and c refused
	req_bg a "stderr_fd=busy,wait=$D/go,count=1"
	wait_for 5 said "$(worker_pids)" busy
	req_bg b count=1
	wait_for 5 status_has "listen queue:         1"
	run -0 req count=1
	[[ $output == "$(response '503 Service Unavailable' \
	    '503 Service Unavailable: all workers are busy')" ]]
	grep -qF 'WARNING: [pool www] no idle worker and the queue is full (1): answering 503 to "GET /index.php"' "$LOG"
	touch "$D/go"
	wait "$PID_a" "$PID_b"
	[[ $(tail -1 "$D/a") == count=1 && $(tail -1 "$D/b") == count=2 ]]
	status_has "max listen queue:     1"
}

@test "fpm-supervise: queue.max_length = 0 answers 503 when no worker is idle" {
	conf "pm.max_children = 1" "queue.max_length = 0"
	start
	req_bg h "stderr_fd=hanging,hang=1"
	wait_for 5 said "$(worker_pids)" hanging
	run -0 req pid=1
	[[ $output == "$(response '503 Service Unavailable' \
	    '503 Service Unavailable: all workers are busy')" ]]
	# ping needs no worker
	run -0 fcgi-client -s "$SOCK" -p SCRIPT_NAME=/ping
	[[ $output == *$'\r\n\r\npong' ]]
}

@test "fpm-supervise: queue.timeout answers 503 after the wait" {
	local t0 ms
	conf "pm.max_children = 1" "queue.timeout = 300ms"
	start
	req_bg h "stderr_fd=hanging,hang=1"
	wait_for 5 said "$(worker_pids)" hanging
	t0=$(date +%s%N)
	run -0 req pid=1
	ms=$((($(date +%s%N) - t0) / 1000000))
	[[ $output == "$(response '503 Service Unavailable' \
	    '503 Service Unavailable: no worker became free in time')" ]]
	((ms >= 300 && ms < 5000))
	grep -qF 'WARNING: [pool www] request "GET /index.php" waited 300 ms in the queue for a worker: answering 503' "$LOG"
	status_has "listen queue:         0"
}

@test "fpm-supervise: a client going away while queued is dropped" {
	conf "pm.max_children = 1"
	start
	# busy until the queued client is gone: whatever the machine's load,
	# the request queued cannot reach the worker before it goes
	req_bg a "stderr_fd=busy,wait=$D/go,count=1"
	wait_for 5 said "$(worker_pids)" busy
	# gone once queued: a fixed client timeout may pass before that
	req_bg b count=1
	wait_for 5 status_has "listen queue:         1"
	kill "$PID_b"
	wait_for 5 grep -qF 'NOTICE: [pool www] client went away while "GET /index.php" was queued' "$LOG"
	status_has "listen queue:         0"
	touch "$D/go"
	wait "$PID_a"
	[[ $(tail -1 "$D/a") == count=1 ]]
	# the dropped request never reached the worker
	run -0 req count=1
	[[ ${lines[-1]} == count=2 ]]
}

@test "fpm-supervise: bodies beyond request.buffer_size are spooled and arrive intact" {
	conf "request.buffer_size = 4k"
	start
	head -c 1048576 /dev/urandom >"$D/big"
	req echo=1 -p REQUEST_METHOD=POST -i "$D/big" >"$D/out"
	grep -aqx CONTENT_LENGTH=1048576 "$D/out"
	[[ $(tail -c $((1048576 + 9)) "$D/out" | head -c 9) == "--body--" ]]
	[[ $(tail -c 1048576 "$D/out" | sha256sum) == $(sha256sum <"$D/big") ]]
	# in pieces of 1 to 13 bytes (fcgi-client -r)
	head -c 5000 /dev/urandom >"$D/mid"
	req echo=1 -r -p REQUEST_METHOD=POST -i "$D/mid" >"$D/out"
	[[ $(tail -c 5000 "$D/out" | sha256sum) == $(sha256sum <"$D/mid") ]]
}

@test "fpm-supervise: bodies up to request.buffer_size stay in memory, larger need the spool" {
	conf "request.buffer_size = 4k" "request.spool_dir = $D/none"
	start
	head -c 4096 /dev/urandom >"$D/small"
	req echo=1 -p REQUEST_METHOD=POST -i "$D/small" >"$D/out"
	[[ $(tail -c 4096 "$D/out" | sha256sum) == $(sha256sum <"$D/small") ]]
	head -c 4097 /dev/urandom >"$D/big"
	run -2 req echo=1 -p REQUEST_METHOD=POST -i "$D/big"
	grep -qF "WARNING: [pool www] unable to spool a request body in $D/none: No such file or directory" "$LOG"
}

@test "fpm-supervise: pm.max_requests retires a worker and starts another" {
	local a
	conf "pm.max_children = 1" "pm.max_requests = 2"
	start
	a=$(worker_pids)
	run -0 req pid=1,count=1
	[[ $output == *$'\npid='"$a"$'\ncount=1' ]]
	run -0 req pid=1,count=1
	[[ $output == *$'\npid='"$a"$'\ncount=2' ]]
	# said when it is back (it reads the finish probe), maybe after our
	# answer
	wait_for 5 grep -qF "NOTICE: [pool www] child $a reached pm.max_requests (2), retiring" "$LOG"
	run -0 req pid=1,count=1
	[[ $output == *$'\ncount=1' && $output != *"pid=$a"* ]]
	[[ $output == *$'\npid='"$(worker_pids | tail -1)"$'\n'* ]]
	[[ $(worker_pids | wc -l) == 2 ]]
	# a zombie is gone for pid_gone, not yet reaped and logged
	wait_for 5 grep -q "\[pool www\] child $a exited" "$LOG"
	wait_for 5 pid_gone "$a"
}

@test "fpm-supervise: workers dying at start are restarted with a growing back-off" {
	conf "command = $WORKER -e 1" "pm.max_children = 1" "queue.timeout = 100ms"
	start
	wait_for 10 grep -qF "WARNING: [pool www] workers keep dying at start (3 times in a row), next start in 2.000s" "$LOG"
	grep -qF "WARNING: [pool www] workers keep dying at start (2 times in a row), next start in 1.000s" "$LOG"
	# no respawn storm: 3 starts, each exited 1 (a 4th after the 2 s
	# back-off, should a loaded machine take that long to look)
	n=$(worker_pids | wc -l)
	((n == 3 || n == 4))
	[[ $(grep -Ec '\] child [0-9]+ exited with code 1 after' "$LOG") == [34] ]]
	# meanwhile requests are answered at once (fault-config.bats)
	run -0 req pid=1
	[[ $output == "$(response '503 Service Unavailable' \
	    '503 Service Unavailable: no worker can start')" ]]
	n=$(worker_pids | wc -l)
	((n == 3 || n == 4))
}

@test "fpm-supervise: catch_workers_output logs the workers' lines, made safe" {
	local pid
	conf "pm.max_children = 1" \
	    "[quiet]" "user = nobody" "listen = $D/quiet.sock" \
	    "command = $WORKER" "pm = static" "pm.max_children = 1"
	start
	pid=$(worker_pids | head -1)
	run -0 req 'stderr_fd=to+stderr,stdout_fd=to+stdout,stderr_fd=a%01b%22c%5c'
	wait_for 5 said "$pid" 'a\001b\"c\\'
	grep -qF "WARNING: [pool www] child $pid said into stderr: \"to stderr\"" "$LOG"
	# another pipe, maybe read a loop turn later
	wait_for 5 grep -qF "WARNING: [pool www] child $pid said into stdout: \"to stdout\"" "$LOG"
	# catch_workers_output = no: nothing
	run -0 fcgi-client -s "$D/quiet.sock" -p QUERY_STRING=stderr_fd=silent,pid=1
	[[ $output == *pid=* ]]
	run -0 req stderr_fd=marker
	wait_for 5 said "$pid" marker
	run ! grep -q silent "$LOG"
}

@test "fpm-supervise: a worker's last line without a newline is logged when its request ends" {
	conf "pm.max_children = 1"
	start
	pid=$(worker_pids)
	run -0 req 'stderr_fd=msg+1,stderr_fd=msg+2,stderr_nonl=msg+3'
	wait_for 5 said "$pid" "msg 3"
	said "$pid" "msg 1" && said "$pid" "msg 2"
	# the worker lives on: not a closed pipe's rest
	! grep -q "pipe is closed" "$LOG"
	[[ $(worker_pids) == "$pid" ]]
}

@test "fpm-supervise: ping and status are answered while every worker is busy" {
	conf
	start
	req_bg h1 "stderr_fd=hanging,hang=1"
	req_bg h2 "stderr_fd=hanging,hang=1"
	wait_for 5 eval '[[ $(said_pid hanging | wc -l) == 2 ]]'
	run -0 fcgi-client -s "$SOCK" -t 5000 -p SCRIPT_NAME=/ping
	[[ $output == $'Content-type: text/plain;charset=UTF-8\r\nExpires: Thu, 01 Jan 1970 00:00:00 GMT\r\nCache-Control: no-cache, no-store, must-revalidate, max-age=0\r\n\r\npong' ]]
	req_bg q pid=1
	wait_for 5 status_has "listen queue:         1"
	run -0 fcgi-client -s "$SOCK" -t 5000 -p SCRIPT_NAME=/status
	[[ ${lines[2]} == "Content-type: text/plain;charset=UTF-8"$'\r' ]]
	[[ $output == *$'\npool:                 www\nprocess manager:      static\n'* ]]
	[[ $output == *$'\nidle processes:       0\nactive processes:     2\ntotal processes:      2\nmax active processes: 2\n'* ]]
}

@test "fpm-supervise: SIGQUIT lets the request in flight finish, then exits 0" {
	conf "pm.max_children = 1"
	start
	req_bg a "stderr_fd=busy,wait=$D/go,pid=1"
	wait_for 5 said "$(worker_pids)" busy
	kill -QUIT "$SUP"
	wait_for 5 grep -q 'NOTICE: Finishing \.\.\.' "$LOG"
	[[ ! -e $SOCK ]]
	kill -0 "$SUP"
	touch "$D/go"
	stopped
	wait "$PID_a"
	[[ $(head -1 "$D/a") == $'Content-Type: text/plain\r' ]]
	[[ $(tail -1 "$D/a") == "pid=$(worker_pids)" ]]
	grep -q 'NOTICE: exiting, bye-bye!' "$LOG"
	[[ -z $(find "$D" -name 'fpm.??????') ]]
	pid_gone "$(worker_pids)"
}

@test "fpm-supervise: process_control_timeout bounds a graceful stop" {
	GLOBAL="process_control_timeout = 300ms"
	conf "pm.max_children = 1"
	start
	req_bg h "stderr_fd=hanging,hang=1"
	wait_for 5 said "$(worker_pids)" hanging
	kill -QUIT "$SUP"
	stopped
	wait "$PID_h"
	[[ $(cat "$D/h") == "$(response '502 Bad Gateway' \
	    '502 Bad Gateway: the worker failed')" ]]
	grep -qF 'WARNING: process_control_timeout (300 ms) reached: terminating the workers still busy' "$LOG"
	pid_gone "$(worker_pids)"
}

@test "fpm-supervise: SIGTERM stops at once, SIGKILL for workers ignoring SIGTERM" {
	local p
	conf "command = $WORKER -t"
	start
	req_bg h "stderr_fd=hanging,hang=1"
	wait_for 5 said_pid hanging
	kill -TERM "$SUP"
	wait "$PID_h"
	[[ $(cat "$D/h") == "$(response '502 Bad Gateway' \
	    '502 Bad Gateway: the worker failed')" ]]
	stopped
	grep -q 'NOTICE: Terminating \.\.\.' "$LOG"
	[[ $(grep -c 'still alive after the grace time, sending SIGKILL' "$LOG") == 2 ]]
	for p in $(worker_pids); do
		grep -q "child $p exited on signal 9 (SIGKILL)" "$LOG"
		pid_gone "$p"
	done
	[[ ! -e $SOCK && -z $(find "$D" -name 'fpm.??????') ]]
}

@test "fpm-supervise: the pidfile is written, held, and removed" {
	GLOBAL="pid = $D/fpm.pid"
	conf
	start
	[[ $(cat "$D/fpm.pid") == "$SUP" ]]
	# a second supervisor on the same pidfile (-g) refuses, starts nothing
	run -111 fpm-supervise -y "$CONF" -g "$D/fpm.pid"
	[[ $output == *"ALERT: another fpm-supervise (pid $SUP) holds $D/fpm.pid" ]]
	[[ $output != *started* ]]
	[[ $(cat "$D/fpm.pid") == "$SUP" ]]
	run -0 req pid=1
	kill -TERM "$SUP"
	stopped
	[[ ! -e $D/fpm.pid ]]
}

@test "fpm-supervise: SIGUSR1 reopens error_log" {
	local pid
	GLOBAL="error_log = $D/fpm.log"
	LOG=$D/fpm.log
	conf "pm.max_children = 1"
	start
	pid=$(worker_pids)
	[[ ! -s $D/stderr ]]
	mv "$D/fpm.log" "$D/fpm.log.1"
	kill -USR1 "$SUP"
	wait_for 5 grep -q 'NOTICE: error log file re-opened' "$D/fpm.log"
	run -0 req stderr_fd=after
	wait_for 5 said "$pid" after
	run ! grep -q 'after\|re-opened' "$D/fpm.log.1"
}

@test "fpm-supervise: a socket made by fpm-spawn -L stays its maker's, upgrades too" {
	conf
	fpm-spawn -n -L -s "$SOCK" -- fpm-supervise -y "$CONF" </dev/null \
	    >/dev/null 2>"$D/stderr" 3>&- &
	SUP=$!
	track_pid "$SUP"
	wait_for 10 grep -q 'NOTICE: ready to handle connections' "$LOG"
	grep -q "using inherited socket fd=3, \"$SOCK\"" "$LOG"
	ino=$(stat -c %i "$SOCK")
	kill -URG "$SUP"
	wait_for 10 eval '[[ $(grep -c "ready to handle connections" "$LOG") == 2 ]]'
	run -0 req "pid=1"
	kill -TERM "$SUP"
	stopped
	# not unlinked: a socket unit would keep a listener nobody can reach
	[[ -S $SOCK && $(stat -c %i "$SOCK") == "$ino" ]]
}

@test "fpm-supervise: a listen address in use exits 111, as fpm-supervise(8) says" {
	# a live listener holds the socket
	python3 -c 'import socket, sys, time
s = socket.socket(socket.AF_UNIX); s.bind(sys.argv[1]); s.listen()
print("up", flush=True); time.sleep(60)' "$SOCK" >"$D/holder" 2>&1 &
	track_pid $!
	wait_for 10 grep -q up "$D/holder"
	conf
	run -111 fpm-supervise -y "$CONF"
	[[ $output == *"] ERROR: Another FPM instance seems to already listen on $SOCK. [pool www] listen cannot be bound."$'\n'*"] ERROR: FPM initialization failed" ]]
	# the page puts it under 111, not under 100
	run -0 sed -n '/^\.Sh EXIT STATUS/,/^\.Sh EXAMPLES/p' \
	    "$TOP/man/fpm-supervise.8"
	[[ ${output#*.It 111} == *"listening socket cannot be bound"* ]]
	[[ ${output%%.It 111*} != *"socket that cannot be bound"* ]]
}

# listen = PORT binds every address: only in a network namespace of our own,
# where [::]:PORT is taken (IPv6 only) so that [::] fails and 0.0.0.0 works.
@test "fpm-supervise: listen = PORT retries 0.0.0.0 when [::] fails, as PHP-FPM" {
	command -v unshare >/dev/null && unshare -n true ||
	    skip "no network namespace here"
	conf "listen = 9000" "pm.max_children = 1"
	cat >"$D/in-ns.sh" <<-EOF
		ip link set lo up
		python3 -c 'import socket, time
		s = socket.socket(socket.AF_INET6)
		s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
		s.bind(("::", 9000)); s.listen(); print("up", flush=True)
		time.sleep(30)' >"$D/holder" 3>&- &
		holder=\$!
		for i in \$(seq 100); do grep -q up "$D/holder" && break; sleep 0.1; done
		fpm-supervise -y "$CONF" 2>"$D/stderr" 3>&- &
		sup=\$!
		for i in \$(seq 100); do
			grep -q 'ready to handle connections' "$D/stderr" && break
			sleep 0.1
		done
		ss -Hltn 'sport = 9000' >"$D/ss"
		fcgi-client -a 127.0.0.1:9000 -t 5000 -p SCRIPT_NAME=/ping >"$D/ping"
		kill -TERM \$sup; wait \$sup; echo "exit \$?" >>"$D/ss"
		if command -v php-fpm8.2 >/dev/null; then
			printf '%s\n' "[global]" "error_log = $D/php-fpm.log" \
			    "[www]" "user = nobody" "listen = 9000" "pm = static" \
			    "pm.max_children = 1" >"$D/php-fpm.conf"
			# by pid: a job number (%3) is reused once %2 is gone
			php-fpm8.2 -n -F -y "$D/php-fpm.conf" >/dev/null 2>&1 3>&- &
			fpm=\$!
			for i in \$(seq 100); do
				grep -q 'ready to handle' "$D/php-fpm.log" && break
				sleep 0.1
			done
			kill -TERM \$fpm; wait \$fpm
		fi
		kill \$holder
	EOF
	run -0 unshare -n bash "$D/in-ns.sh"
	if command -v php-fpm8.2 >/dev/null; then
		grep -q "NOTICE: Failed implicitly binding to ::, retrying with 0.0.0.0" "$D/php-fpm.log"
	fi
	grep -q "NOTICE: Failed implicitly binding to ::, retrying with 0.0.0.0" "$D/stderr"
	grep -q "listening on 0.0.0.0:9000" "$D/stderr"
	grep -q '0.0.0.0:9000' "$D/ss"
	grep -qx 'exit 0' "$D/ss"
	grep -qx pong "$D/ping"
}

# PHP-FPM chowns the socket to a listen.owner and listen.group that are
# numbers without a passwd or group entry; so do we.
@test "fpm-supervise: numeric listen.owner and listen.group without an entry are used as numbers" {
	[[ $(id -u) == 0 ]] || skip "chown needs root"
	! getent passwd 54321 && ! getent group 54322 || skip "54321 exists"
	conf "listen.owner = 54321" "listen.group = 54322" "listen.mode = 0640"
	start
	[[ $(stat -c '%u:%g %a' "$SOCK") == "54321:54322 640" ]]
	grep -qF "listening on $SOCK (54321:54322 0640)" "$LOG"
	# a name that is neither an entry nor a number is still refused
	kill -TERM "$SUP"
	stopped
	conf "listen.owner = no-such-user-fpm"
	run -111 fpm-supervise -y "$CONF"
	[[ $output == *"ERROR: [$CONF:$(grep -n '^listen.owner' "$CONF" | cut -d: -f1)] [pool www] cannot get uid for user 'no-such-user-fpm'. It is listen.owner's."* ]]
	command -v php-fpm8.2 >/dev/null || return 0
	printf '%s\n' "[global]" "error_log = $D/php-fpm.log" "[www]" \
	    "user = nobody" "listen = $D/php.sock" "listen.owner = 54321" \
	    "listen.group = 54322" "pm = static" "pm.max_children = 1" \
	    >"$D/php-fpm.conf"
	php-fpm8.2 -n -F -y "$D/php-fpm.conf" </dev/null >/dev/null 2>&1 3>&- &
	track_pid $!
	wait_for 10 test -S "$D/php.sock"
	[[ $(stat -c '%u:%g' "$D/php.sock") == "54321:54322" ]]
}

@test "fpm-supervise: -O logs to stderr, and error_log is still created, as PHP-FPM does" {
	GLOBAL="error_log = $D/fpm-error.log"
	conf
	fpm-supervise -O -y "$CONF" </dev/null >/dev/null 2>"$D/stderr" 3>&- &
	SUP=$!
	track_pid "$SUP"
	wait_for 10 grep -q 'NOTICE: ready to handle connections' "$LOG"
	[[ -f $D/fpm-error.log && ! -s $D/fpm-error.log ]]
	kill -QUIT "$SUP"
	wait_for 10 pid_gone "$SUP"
	# one that cannot be created is found at start
	GLOBAL="error_log = $D/none/fpm-error.log"
	conf
	run -111 fpm-supervise -O -y "$CONF" </dev/null
	[[ $output == *"unable to open error_log $D/none/fpm-error.log"* ]]
}

@test "fpm-supervise: -v prints the version, as PHP-FPM's does; an unknown option exits 100 with a hint" {
	run -0 fpm-supervise -v
	[[ $output == "fpm-supervise "[0-9]* ]]
	run -0 fpm-supervise -V
	[[ $output == "fpm-supervise "[0-9]* ]]
	run -0 fpm-supervise --help
	[[ $output == *"--verbose"* && $output == *"-v, --version"* ]]
	run -100 fpm-supervise --bogus
	[[ $output == *"--bogus: unknown option"* && $output == *"--help"* ]]
}

@test "fpm-supervise: at start each pool says where it listens and what it runs" {
	conf "listen.mode = 0640"
	start
	grep -qF "NOTICE: [pool www] listening on $SOCK (root:root 0640), running $WORKER" "$LOG"
}

@test "fpm-supervise: the slowlog is created at start, as PHP-FPM does; one that cannot be is an error" {
	conf "slowlog = $D/slow.log" "request_slowlog_timeout = 5s"
	start
	[[ -f $D/slow.log && ! -s $D/slow.log ]]
	[[ $(stat -c %a "$D/slow.log") == 600 ]]
	kill -QUIT "$SUP"
	wait_for 10 pid_gone "$SUP"
	conf "slowlog = $D/none/slow.log" "request_slowlog_timeout = 5s"
	run -111 fpm-supervise -y "$CONF" </dev/null
	[[ $output == *"[pool www] Unable to create or open slowlog($D/none/slow.log): No such file or directory"* ]]
}

# fpm(7) keeps every difference from PHP-FPM in one table, with its reason:
# the three the issue keeps among them, and nothing left of what is aligned.
@test "fpm-supervise: fpm(7) tables the differences from PHP-FPM we keep" {
	run -0 sed -n '/^\.Ss Differences from PHP-FPM/,/^\.Ss Migrating/p' \
	    "$TOP/man/fpm.7"
	[[ $output == *$'\n.Bl -column '* ]]
	[[ $output == *$'\n.It Dynamic pools spawn at once Ta\n'* ]]
	[[ $output == *$'\n.It Reload in place Ta\n'* ]]
	[[ $output == *$'\n.It Bad listen.allowed_clients entry Ta\n'* ]]
	[[ $output != *"FILE:LINE: text"* && $output != *"listen = PORT"* ]]
	[[ $(grep -c '^\.It .* Ta$' <<<"$output") -ge 20 ]]
}

@test "fpm-supervise: without runtime_dir, the workers' sockets go to systemd's RUNTIME_DIRECTORY" {
	conf
	sed -i '/^runtime_dir/d' "$CONF"
	mkdir -m 755 "$D/rt"
	RUNTIME_DIRECTORY=$D/rt start
	run -0 req "pid=1"
	ls -d "$D"/rt/fpm.*
	[[ $(stat -c %a "$D"/rt/fpm.*) == 700 ]]
	kill -TERM "$SUP"
	stopped
	# gone with it
	! ls -d "$D"/rt/fpm.* 2>/dev/null
}
