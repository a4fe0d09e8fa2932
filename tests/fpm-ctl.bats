# SPDX-License-Identifier: ISC
# fpm-ctl, black-box: usage, every command against a real fpm-supervise,
# a refused reload, who may do what (SO_PEERCRED), and the fall back to
# signals through the pidfile.

bats_require_minimum_version 1.5.0
load helpers/common

setup() {
	D=$(short_tmpdir)
	chmod 755 "$D"		# workers and the second user are nobody
	CONF=$D/fpm.conf
	CTL=$D/fpm.sock		# beside the pidfile: ctl_default_path's rule
	PIDF=$D/fpm.pid
	LOG=$D/stderr
	WORKER=$BUILDDIR/tests/helpers/fcgi-testworker
	GLOBAL=
}

teardown() {
	kill_tracked
	if grep -sE 'AddressSanitizer|runtime error:' "$LOG"; then
		return 1
	fi
	rm -rf "$D"
}

# conf [GLOBAL-LINE...]: a [www] pool of 2 fcgi-testworkers, pid = $PIDF.
conf() {
	{
		echo "[global]"
		echo "runtime_dir = $D"
		echo "pid = $PIDF"
		printf '%s\n' "$@"
		echo "[www]"
		echo "user = nobody"
		echo "listen = $D/www.sock"
		echo "command = $WORKER"
		echo "pm = static"
		echo "pm.max_children = 2"
	} >"$CONF"
}

start() {
	fpm-supervise -y "$CONF" </dev/null >/dev/null 2>"$LOG" 3>&- &
	SUP=$!
	track_pid "$SUP"
	wait_for 10 grep -q 'NOTICE: ready to handle connections' "$LOG"
}

# stopped: the supervisor exits with status 0 within 10 s.
stopped() {
	local rc=0
	wait_for 10 pid_gone "$SUP"
	wait "$SUP" || rc=$?
	TEST_PIDS=("${TEST_PIDS[@]/#$SUP/}")
	[[ $rc == 0 ]] || { echo "fpm-supervise exited $rc" >&2; return 1; }
}

# as_nobody CMD...: run CMD as nobody:nogroup
as_nobody() {
	setpriv --reuid=nobody --regid=nogroup --init-groups "$@"
}

@test "fpm-ctl: usage errors exit 100 with one line and a hint" {
	run -100 fpm-ctl --bogus
	[[ ${lines[0]} == "fpm-ctl: usage: --bogus: unknown option" ]]
	[[ ${lines[1]} == "Try 'fpm-ctl --help'." ]]
	run -100 fpm-ctl
	[[ ${lines[0]} == "fpm-ctl: usage: no command" ]]
	run -100 fpm-ctl frobnicate
	[[ ${lines[0]} == "fpm-ctl: usage: unknown command 'frobnicate'" ]]
	run -100 fpm-ctl restart
	[[ ${lines[0]} == "fpm-ctl: usage: restart: no POOL given" ]]
	run -100 fpm-ctl stop www
	[[ ${lines[0]} == "fpm-ctl: usage: stop: too many arguments" ]]
	run -100 fpm-ctl -y "$CONF" -P "$PIDF" pid
	[[ ${lines[0]} == "fpm-ctl: usage: give only one of --fpm-config and --pid" ]]
	run -100 fpm-ctl -s "$CTL" wait-ready -t soon
	[[ ${lines[0]} == "fpm-ctl: usage: --timeout: bad duration 'soon'" ]]
	run -100 fpm-ctl -s "$CTL" reload --wait
	run -0 fpm-ctl --help
	[[ $output == *"Usage: fpm-ctl [OPTION...] COMMAND [POOL]"* ]]
	# every command of fpm-ctl(8) is listed
	local cmd cmds n=0
	cmds=$(sed -n '/^Commands:/,/^  -/p' <<<"$output")
	for cmd in $(sed -n 's/^\.It Cm \([a-z-]*\).*/\1/p' \
	    "$TOP/man/fpm-ctl.8"); do
		grep -qw -- "$cmd" <<<"$cmds" || {
			echo "--help lacks $cmd" >&2
			return 1
		}
		n=$((n + 1))
	done
	[[ $n -ge 11 ]]
	run -0 fpm-ctl --version
	[[ $output == "fpm-ctl 0.1.0" ]]
}

@test "fpm-ctl: nobody listening is a temporary failure (111)" {
	run -111 fpm-ctl -s "$CTL" status
	[[ $output == "fpm-ctl: fatal: unable to connect to $CTL: No such file or directory" ]]
	# a socket file nobody listens on
	python3 -c 'import socket,sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])' "$CTL"
	run -111 fpm-ctl -s "$CTL" reload
	[[ $output == "fpm-ctl: fatal: unable to connect to $CTL: Connection refused" ]]
	run -111 fpm-ctl -s "$CTL" wait-ready -t 200ms
	[[ $output == "fpm-ctl: fatal: wait-ready: $CTL not ready within 0.200s: Connection refused" ]]
}

@test "fpm-ctl: -y finds the control socket in the config" {
	conf "control = $D/other.sock"
	start
	[[ -S $D/other.sock && ! -e $CTL ]]
	run -0 fpm-ctl -y "$CONF" pid
	[[ $output == "$SUP" ]]
	run -0 fpm-ctl -y "$CONF" version
	[[ $output == "fpm-supervise 0.1.0" ]]
	run -0 fpm-ctl -s "$D/other.sock" pools
	[[ $(tr -s ' ' <<<"${lines[1]}") == "www static $D/www.sock 2 2 0 0" ]]
	# a broken config cannot say where the socket is
	echo "bogus = 1" >>"$CONF"
	run -100 fpm-ctl -y "$CONF" pid
	[[ $output == "fpm-ctl: fatal: [$CONF:"*"] unknown entry 'bogus'" ]]
	run -100 fpm-ctl -y "$D/none.conf" pid
	[[ $output == "fpm-ctl: fatal: cannot open $D/none.conf: No such file or directory" ]]
}

@test "fpm-ctl: wait-ready waits for a supervisor still starting" {
	conf
	fpm-supervise -y "$CONF" </dev/null >/dev/null 2>"$LOG" 3>&- &
	SUP=$!
	track_pid "$SUP"
	run -0 fpm-ctl -P "$PIDF" wait-ready -t 10
	[[ -z $output ]]
	grep -q 'NOTICE: ready to handle connections' "$LOG"
}

@test "fpm-ctl: status, pid, version, pools, reopen" {
	local keys
	conf
	start
	run -0 --separate-stderr fpm-ctl -P "$PIDF" status
	[[ -z $stderr ]]
	# the short page, PHP-FPM's fields in PHP-FPM's order
	keys=$(tr -d '\r' <"$TOP/tests/unit/status/status-full.txt" |
	    sed '1,/^$/d; /^$/,$d' | cut -d: -f1)
	[[ $(printf '%s\n' "$output" | cut -d: -f1) == "$keys" ]]
	[[ ${lines[0]} == "pool:                 www" ]]
	run -0 fpm-ctl -s "$CTL" status www
	[[ ${lines[0]} == "pool:                 www" && ${#lines[@]} == 14 ]]
	run -1 fpm-ctl -s "$CTL" status nope
	[[ $output == "fpm-ctl: fatal: no pool 'nope'" ]]
	run -0 fpm-ctl -s "$CTL" pid
	[[ $output == "$SUP" && $(cat "$PIDF") == "$SUP" ]]
	run -0 fpm-ctl -s "$CTL" version
	[[ $output == "fpm-supervise 0.1.0" ]]
	# a header, the columns aligned, the counts to the right
	run -0 fpm-ctl -s "$CTL" pools
	local w=${#D}
	w=$((w + 9))	# /www.sock
	[[ ${#lines[@]} == 2 ]]
	[[ ${lines[0]} == "$(printf '%-4s %-6s %-*s %5s %4s %6s %6s' POOL PM \
	    "$w" LISTEN TOTAL IDLE ACTIVE QUEUED)" ]]
	[[ ${lines[1]} == "$(printf '%-4s %-6s %-*s %5s %4s %6s %6s' www static \
	    "$w" "$D/www.sock" 2 2 0 0)" ]]
	run -0 fpm-ctl -s "$CTL" reopen
	[[ -z $output ]]
	kill -0 "$SUP"
}

@test "fpm-ctl: reload answers once done, per pool too" {
	conf
	start
	run -0 fpm-ctl -P "$PIDF" reload
	[[ $output == "reloaded: 1 pools kept, 0 restarted, 0 added, 0 removed" ]]
	grep -q 'NOTICE: configuration reloaded: 1 pools kept' "$LOG"
	sed -i 's/^pm.max_children = 2/pm.max_children = 3/' "$CONF"
	run -0 fpm-ctl -s "$CTL" reload www
	[[ $output == "reloaded pool www: "* ]]
	run -0 fpm-ctl -s "$CTL" pools
	[[ $(tr -s ' ' <<<"${lines[1]}") == "www static $D/www.sock 3 "* ]]
	run -1 fpm-ctl -s "$CTL" reload nope
	[[ $output == "fpm-ctl: reload refused: no pool 'nope'" ]]
}

@test "fpm-ctl: a refused reload says why and exits 100" {
	local line
	conf
	start
	echo "pm.bogus = 3" >>"$CONF"
	line=$(grep -n '^pm.bogus' "$CONF" | cut -d: -f1)
	run -100 --separate-stderr fpm-ctl -P "$PIDF" reload
	[[ $stderr == "fpm-ctl: reload refused: [$CONF:$line] unknown entry 'pm.bogus'" ]]
	[[ -z $output ]]
	# still serving the old configuration
	run -0 fpm-ctl -s "$CTL" pools
	[[ ${lines[1]} == "www  static "* ]]
}

@test "fpm-ctl: restart rolls a pool's workers" {
	local before
	conf
	start
	before=$(grep -c 'child [0-9]* started' "$LOG")
	run -0 fpm-ctl -s "$CTL" restart www
	[[ -z $output ]]
	# polled: the count is taken anew at each try
	wait_for 10 eval '(($(grep -c "child [0-9]* started" "$LOG") >= before + 2))'
	run -1 fpm-ctl -s "$CTL" restart nope
	[[ $output == "fpm-ctl: fatal: no pool 'nope'" ]]
}

@test "fpm-ctl: stop is fast" {
	conf
	start
	run -0 fpm-ctl -s "$CTL" stop
	[[ -z $output ]]
	stopped
	grep -q 'NOTICE: Terminating ...' "$LOG"
}

@test "fpm-ctl: quit --wait returns once the supervisor is gone" {
	conf
	start
	run -0 fpm-ctl -P "$PIDF" quit --wait -t 10
	pid_gone "$SUP"
	grep -q 'NOTICE: Finishing ...' "$LOG"
	stopped
}

@test "fpm-ctl: without the socket, signals through the pidfile" {
	conf
	start
	rm "$CTL"		# the socket is gone, the supervisor is not
	run -0 --separate-stderr fpm-ctl -P "$PIDF" pid
	[[ $output == "$SUP" ]]
	[[ $stderr == "fpm-ctl: warning: no control socket at $CTL: using signals through $PIDF" ]]
	run -0 --separate-stderr fpm-ctl -P "$PIDF" reload
	[[ $stderr == *"using signals through $PIDF" ]]
	wait_for 10 grep -q 'NOTICE: Reloading in progress' "$LOG"
	run -0 fpm-ctl -P "$PIDF" reopen
	run -111 --separate-stderr fpm-ctl -P "$PIDF" status
	[[ $stderr == "fpm-ctl: fatal: status needs the control socket: unable to connect to $CTL: No such file or directory" ]]
	run -111 fpm-ctl -P "$PIDF" restart www
	# -y knows the pidfile too
	run -0 --separate-stderr fpm-ctl -y "$CONF" quit --wait
	[[ $stderr == *"using signals through $PIDF" ]]
	grep -q 'NOTICE: Finishing ...' "$LOG"
	stopped
}

@test "fpm-ctl: a stale pidfile is said so (111)" {
	sleep 0 &
	wait $!
	echo $! >"$PIDF"		# a pid that is gone
	run -111 fpm-ctl -P "$PIDF" reload
	[[ $output == "fpm-ctl: fatal: no fpm-supervise running: pid $(cat "$PIDF") from $PIDF is gone" ]]
	echo $$ >"$PIDF"		# alive, but not holding the pidfile
	run -111 fpm-ctl -P "$PIDF" stop
	[[ $output == *"no fpm-supervise running: pid $$ from $PIDF is gone" ]]
	rm "$PIDF"
	run -111 fpm-ctl -P "$PIDF" stop
	[[ $output == "fpm-ctl: fatal: no fpm-supervise running: no control socket at $CTL and no pidfile $PIDF" ]]
}

@test "fpm-ctl: only root and the supervisor's uid may act" {
	conf "control.mode = 0666"
	start
	run -100 as_nobody fpm-ctl -s "$CTL" reload
	[[ $output == "fpm-ctl: reload refused: permission denied: "* ]]
	run -100 as_nobody fpm-ctl -s "$CTL" status
	[[ $output == "fpm-ctl: fatal: permission denied: "* ]]
	run -100 as_nobody fpm-ctl -s "$CTL" stop
	kill -0 "$SUP"
}

@test "fpm-ctl: control.group may read, not act" {
	conf "control.group = nogroup"
	start
	run -0 as_nobody fpm-ctl -s "$CTL" status
	[[ ${lines[0]} == "pool:                 www" ]]
	run -0 as_nobody fpm-ctl -s "$CTL" pid
	[[ $output == "$SUP" ]]
	run -100 as_nobody fpm-ctl -s "$CTL" reload
	[[ $output == "fpm-ctl: reload refused: permission denied: "* ]]
	run -100 as_nobody fpm-ctl -s "$CTL" restart www
	run -100 as_nobody fpm-ctl -s "$CTL" quit
	kill -0 "$SUP"
}

@test "fpm-ctl: a socket others may not open is a permanent error" {
	conf
	start
	run -100 as_nobody fpm-ctl -s "$CTL" pid
	[[ $output == "fpm-ctl: fatal: unable to connect to $CTL: Permission denied" ]]
}

@test "fpm-ctl: a second supervisor on a live control socket refuses to start" {
	conf "control = $D/ctl.sock"
	start
	# another configuration, another pid file, the same control socket
	sed -e "s|^pid = .*|pid = $D/other.pid|" -e "s|^listen = .*|listen = $D/other.sock|" \
	    "$CONF" >"$D/other.conf"
	run -111 fpm-supervise -y "$D/other.conf" </dev/null
	[[ $output == *"another fpm-supervise answers on its control socket: not starting a second one"* ]]
	# no worker of it was started, and the first still answers
	[[ $output != *"child "*" started"* ]]
	run -0 fpm-ctl -s "$D/ctl.sock" pid
	[[ $output == "$SUP" ]]
}

# start_b: a second supervisor, its own configuration and pid file ($D/b.*)
start_b() {
	sed -e "s|^pid = .*|pid = $D/b.pid|" \
	    -e "s|^listen = .*|listen = $D/b-www.sock|" "$CONF" >"$D/b.conf"
	fpm-supervise -y "$D/b.conf" </dev/null >/dev/null 2>"$D/b.stderr" 3>&- &
	SUP_B=$!
	track_pid "$SUP_B"
	wait_for 10 grep -q 'NOTICE: ready to handle connections' "$D/b.stderr"
}

@test "fpm-ctl: identity says which configuration and pidfile answer" {
	conf
	start
	run -0 sh -c "echo identity | socat - UNIX-CONNECT:'$CTL'"
	[[ $output == "ok"$'\n'"pid $SUP"$'\n'"config $(realpath "$CONF")"$'\n'"pidfile $(realpath "$PIDF")" ]]
}

@test "fpm-ctl: -y or -P refuses a supervisor that is not theirs (100)" {
	conf
	start
	start_b
	# configuration A, pointed at B's socket: refused, B untouched
	run -100 fpm-ctl -y "$CONF" -s "$D/b.sock" stop
	[[ $output == "fpm-ctl: fatal: another fpm-supervise answers on $D/b.sock: pid $SUP_B runs $(realpath "$D/b.conf"), not $(realpath "$CONF")" ]]
	run -100 fpm-ctl -P "$PIDF" -s "$D/b.sock" quit
	[[ $output == "fpm-ctl: fatal: another fpm-supervise answers on $D/b.sock: pid $SUP_B has the pidfile $(realpath "$D/b.pid"), not $(realpath "$PIDF")" ]]
	run -100 fpm-ctl -y "$CONF" -s "$D/b.sock" wait-ready -t 5
	[[ $output == *"another fpm-supervise answers on $D/b.sock"* ]]
	kill -0 "$SUP_B"
	# the same configuration reached through a symlink is the same
	ln -s "$CONF" "$D/link.conf"
	run -0 fpm-ctl -y "$D/link.conf" -s "$CTL" pid
	[[ $output == "$SUP" ]]
	run -0 fpm-ctl -y "$D/b.conf" -s "$D/b.sock" pid
	[[ $output == "$SUP_B" ]]
	run -0 fpm-ctl -P "$D/b.pid" pid
	[[ $output == "$SUP_B" ]]
	# -s alone is not checked
	run -0 fpm-ctl -s "$D/b.sock" pid
	[[ $output == "$SUP_B" ]]
	# each stops its own
	run -0 fpm-ctl -y "$D/b.conf" stop --wait
	wait_for 10 pid_gone "$SUP_B"
	kill -0 "$SUP"
	run -0 fpm-ctl -P "$PIDF" stop --wait
	stopped
}

@test "fpm-ctl: a supervisor that does not say who it is is refused" {
	# a socket that answers every request with "unknown command"
	python3 - "$D/old.sock" <<-'PY' &
	import socket, sys
	s = socket.socket(socket.AF_UNIX)
	s.bind(sys.argv[1])
	s.listen(4)
	while True:
	    c, _ = s.accept()
	    c.recv(1024)
	    c.sendall(b"error 100 unknown command 'identity'\n")
	    c.close()
	PY
	track_pid $!
	wait_for 10 test -S "$D/old.sock"
	conf
	run -100 fpm-ctl -y "$CONF" -s "$D/old.sock" stop
	[[ $output == "fpm-ctl: fatal: the supervisor on $D/old.sock does not say which configuration it has: not acting on it (-s alone talks to it unchecked)" ]]
}
