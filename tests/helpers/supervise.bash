# SPDX-License-Identifier: ISC
# fpm-supervise suites share this: a pool of fcgi-testworker on a unix
# socket in a short private directory, started and polled, and a teardown
# that checks that no worker outlives the supervisor.

# supervise_setup: the private directory and the names in it, for a setup
# of its own to start with.
supervise_setup() {
	D=$(short_tmpdir)
	chmod 755 "$D"		# workers run as nobody when we are root
	CONF=$D/fpm.conf
	SOCK=$D/www.sock
	LOG=$D/stderr		# where the supervisor logs
	WORKER=$BUILDDIR/tests/helpers/fcgi-testworker
	FIXTURES=$BATS_TEST_DIRNAME/fixtures
	GLOBAL=
}

setup() {
	supervise_setup
}

# supervise_teardown: kill what the test started, then check that every
# worker named in the logs is gone and that no sanitizer spoke.
supervise_teardown() {
	local p rc=0

	kill_tracked
	for p in $(worker_pids) $(group_pids); do
		wait_for 5 pid_gone "$p" || {
			echo "worker $p survived" >&2
			kill -KILL "$p"
			rc=1
		}
	done
	((rc == 0)) || return 1
	if grep -sE 'AddressSanitizer|runtime error:' "$LOG"; then
		return 1
	fi
	rm -rf "$D"
}

teardown() {
	supervise_teardown
}

# conf [POOL-LINE...]: write $CONF, a [www] pool of fcgi-testworker on $SOCK
# with the lines given added last (a later directive wins); $GLOBAL is added
# to [global].
conf() {
	local l

	{
		echo "[global]"
		echo "runtime_dir = $D"
		# the control socket beside it, not in a /run shared by tests
		echo "pid = $D/fpm.pid"
		printf '%s\n' "$GLOBAL"
		echo "[www]"
		echo "user = nobody"
		echo "listen = $SOCK"
		echo "command = $WORKER"
		echo "pm = static"
		echo "pm.max_children = 2"
		echo "ping.path = /ping"
		echo "pm.status_path = /status"
		echo "catch_workers_output = yes"
		for l in "$@"; do
			echo "$l"
		done
	} >"$CONF"
}

# start: run fpm-supervise -y $CONF in the background, stderr to $D/stderr;
# $SUP is its pid.  Returns once $LOG says it is ready.
start() {
	fpm-supervise -y "$CONF" </dev/null >/dev/null 2>"$D/stderr" 3>&- &
	SUP=$!
	track_pid "$SUP"
	wait_for 10 grep -q 'NOTICE: ready to handle connections' "$LOG"
}

# The pids of every worker started, from the logs (rotated ones too).
worker_pids() {
	cat "$D"/stderr "$D"/fpm.log* 2>/dev/null |
	    sed -n 's/.*\[pool [^]]*\] child \([0-9]*\) started$/\1/p'
}

# The php-cgi parents of php.group pools.
group_pids() {
	sed -n 's/.*\[pool [^]]*\] php-cgi \([0-9]*\) started.*/\1/p' \
	    "$D"/stderr 2>/dev/null
}

# The pid the workers' output is logged under: their own, or with
# php.group their php-cgi parent's (the last one started).
output_pid() {
	local l
	l=$(sed -n 's/.*\[pool [^]]*\] php-cgi \([0-9]*\) started.*/\1/p' \
	    "$D"/stderr | tail -1)
	echo "${l:-$(worker_pids)}"
}

# req QUERY [fcgi-client ARG...]: one request to the pool.
req() {
	local q=$1
	shift
	fcgi-client -s "$SOCK" -t 20000 -p "QUERY_STRING=$q" "$@"
}

# A background request whose output goes to $D/$1; its pid is tracked.
req_bg() {
	local name=$1 q=$2
	shift 2
	(exec fcgi-client -s "$SOCK" -t 20000 -p "QUERY_STRING=$q" "$@") \
	    >"$D/$name" 2>"$D/$name.err" 3>&- &
	track_pid $!
	eval "PID_$name=$!"
}

# status_has LINE: the status page has this exact line.
status_has() {
	fcgi-client -s "$SOCK" -t 5000 -p SCRIPT_NAME=/status | grep -qx "$1"
}

# stopped: the supervisor exits with status 0 within 10 s.
stopped() {
	local rc=0
	wait_for 10 pid_gone "$SUP"
	wait "$SUP" || rc=$?
	TEST_PIDS=("${TEST_PIDS[@]/#$SUP/}")
	[[ $rc == 0 ]] || { echo "fpm-supervise exited $rc" >&2; return 1; }
}
