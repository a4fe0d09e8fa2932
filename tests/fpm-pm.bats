# SPDX-License-Identifier: ISC
# fpm-supervise's process managers and life cycle, black-box: dynamic and
# ondemand scaling, max_requests, back-off, emergency restart, reload in
# every shape, binary upgrade, and zero loss under wrk through nginx.

bats_require_minimum_version 1.5.0
load helpers/common
load helpers/nginx
load helpers/supervise

setup() {
	D=$(short_tmpdir)
	chmod 755 "$D"		# workers run as nobody when we are root
	CONF=$D/fpm.conf
	SOCK=$D/www.sock
	CTL=$D/ctl.sock
	LOG=$D/stderr
	WORKER=$BUILDDIR/tests/helpers/fcgi-testworker
	GLOBAL=
}

teardown() {
	nginx_stop
	supervise_teardown
}

# global: the [global] section, with $GLOBAL.
global() {
	echo "[global]"
	echo "runtime_dir = $D"
	echo "control = $CTL"
	printf '%s\n' "$GLOBAL"
}

# pool NAME SOCKET [LINE...]: a pool of fcgi-testworker, the lines last.
pool() {
	local name=$1 sock=$2
	shift 2
	echo "[$name]"
	echo "user = nobody"
	echo "listen = $sock"
	echo "command = $WORKER"
	echo "pm = static"
	echo "pm.max_children = 2"
	echo "pm.status_path = /status"
	printf '%s\n' "$@"
}

# conf [POOL-LINE...]: $CONF with one [www] pool on $SOCK.
conf() {
	{ global; pool www "$SOCK" "$@"; } >"$CONF"
}

start() {
	fpm-supervise -y "$CONF" </dev/null >/dev/null 2>"$LOG" 3>&- &
	SUP=$!
	track_pid "$SUP"
	wait_for 10 grep -q 'NOTICE: ready to handle connections' "$LOG"
}

# req [-s SOCK] QUERY [fcgi-client ARG...]
req() {
	local s=$SOCK
	if [[ $1 == -s ]]; then
		s=$2
		shift 2
	fi
	local q=$1
	shift
	fcgi-client -s "$s" -t 20000 -p "QUERY_STRING=$q" "$@"
}

# req_bg NAME [-s SOCK] QUERY: in the background, output in $D/NAME.
req_bg() {
	local name=$1
	shift
	(req "$@") >"$D/$name" 2>"$D/$name.err" 3>&- &
	track_pid $!
	eval "PID_$name=$!"
}

# ok200 FILE: a complete answer from a worker (no Status: 200).
ok200() {
	[[ $(head -1 "$1") == $'Content-Type: text/plain\r' ]]
}

# figure FIELD [SOCK]: one figure of the pool's status page.
figure() {
	fcgi-client -s "${2:-$SOCK}" -t 5000 -p SCRIPT_NAME=/status |
	    sed -n "s/^$1: *//p" | grep .
}

# is FIELD VALUE [SOCK]: the status page says so.
is() {
	[[ $(figure "$1" "${3:-$SOCK}") == "$2" ]]
}

# pids [SOCK]: the pool's worker pids now, sorted, from ?full.
pids() {
	fcgi-client -s "${1:-$SOCK}" -t 5000 -p SCRIPT_NAME=/status \
	    -p QUERY_STRING=full | sed -n 's/^pid: *//p' | sort -n
}

# ctl COMMAND...: one line on the control socket, the reply on stdout.
ctl() {
	echo "$*" | socat -t 10 - "UNIX-CONNECT:$CTL"
}

# all_gone PID...: none of them runs any more.
all_gone() {
	local p
	for p in "$@"; do
		pid_gone "$p" || return 1
	done
}

# none_of "A B" "C D": no word of the first list is in the second.
none_of() {
	local p
	for p in $1; do
		[[ " $(echo $2) " != *" $p "* ]] || return 1
	done
}

# state PID: PID's state on the full status page.
state() {
	fcgi-client -s "$SOCK" -t 5000 -p SCRIPT_NAME=/status \
	    -p QUERY_STRING=full | awk -v pid="$1" '
		$1 == "pid:" { p = $2 }
		$1 == "state:" && p == pid { print $2 }'
}

# running: "N PID" for each request that said "runN" into stderr, in the
# order they did (catch_workers_output): PID runs it, or ran it.
running() {
	sed -n 's/.*\] child \([0-9]*\) said into stderr: "run\([0-9]*\)"$/\2 \1/p' \
	    "$LOG"
}

# nlog TEXT: how many log lines hold TEXT.
nlog() {
	grep -cF -- "$1" "$LOG" || true
}

@test "fpm-pm: dynamic grows under load, says max_children, retires one a second" {
	local i seen last n pid order= lru
	conf "pm = dynamic" "pm.max_children = 5" "pm.start_servers = 1" \
	    "pm.min_spare_servers = 1" "pm.max_spare_servers = 2" \
	    "catch_workers_output = yes"
	start
	wait_for 5 is "total processes" 1
	is "idle processes" 1
	is "max children reached" 0
	# six requests, each says "runN" and runs until $D/goN exists: five
	# workers (1, 2, then 4 a second at most: pm.max_spawn_rate's ramp),
	# and one request queued
	for i in 1 2 3 4 5 6; do
		req_bg r$i "stderr_fd=run$i,wait=$D/go$i,pid=1"
	done
	wait_for 10 is "active processes" 5
	wait_for 10 eval '[[ $(running | wc -l) == 5 ]]'
	is "total processes" 5
	is "idle processes" 0
	grep -qF "WARNING: [pool www] server reached pm.max_children setting (5), consider raising it" "$LOG"
	(($(figure "max children reached") >= 1))
	# from now on, note every change of the total, until it is 2: the
	# surplus goes one a second, maybe while the last requests still run
	(
		last=
		for ((i = 0; i < 1000; i++)); do
			n=$(figure "total processes")
			[[ $n == "$last" ]] || printf ' %s' "$n" >>"$D/seen"
			last=$n
			[[ $n == 2 ]] && break
			sleep 0.02
		done
	) 3>&- &
	track_pid $!
	# one at a time, in the order they started, each once its worker is
	# back (idle, or on the request queued, which the first one takes):
	# then the order of the workers' last requests is known
	for n in 1 2 3 4 5 6; do
		wait_for 10 eval '(($(running | wc -l) >= n))'
		read -r i pid < <(running | sed -n "${n}p")
		touch "$D/go$i"
		eval wait "\$PID_r$i"
		ok200 "$D/r$i"
		[[ $(sed -n 's/^pid=//p' "$D/r$i") == "$pid" ]]
		wait_for 10 eval '[[ $(state "$pid") =~ ^(Idle|Running)$ ]]'
		order="$order $pid"
	done
	# surplus idle workers go one at a time, down to max_spare_servers
	wait_for 10 grep -q ' 2$' "$D/seen"
	seen=$(cat "$D/seen")
	[[ $seen == " 5 4 3 2" ]] || { echo "totals seen:$seen"; cat "$LOG"; false; }
	is "idle processes" 2
	is "active processes" 0
	# least recently used first: retired in the order of their last request
	lru=$(tr ' ' '\n' <<<"$order" | grep . | awk '{ last[$1] = NR }
	    END { for (p in last) print last[p], p }' | sort -n | cut -d' ' -f2)
	[[ $(echo $lru | wc -w) == 5 ]]
	[[ $(sed -n 's/.*\] child \([0-9]*\) exited.*/\1/p' "$LOG") == \
	    "$(head -3 <<<"$lru")" ]]
	(($(nlog "exited with code 0") + $(nlog "exited on signal 15") == 3))
	[[ $(worker_pids | wc -l) == 5 ]]
	# min_spare_servers idle ones stay, and serve
	run -0 req pid=1
	is "total processes" 2
}

@test "fpm-pm: pm.max_spawn_rate holds when new workers take queued requests" {
	local i
	# each worker started for the queue takes a request and leaves no
	# spare, which asks for another pass from inside the spawning one
	GLOBAL="log_level = debug"
	conf "pm = dynamic" "pm.max_children = 8" "pm.start_servers = 1" \
	    "pm.min_spare_servers = 1" "pm.max_spare_servers = 8" \
	    "pm.max_spawn_rate = 2"
	start
	wait_for 5 is "idle processes" 1
	# held until each has its worker, whatever the machine's pace
	for i in 1 2 3 4 5 6; do
		req_bg r$i "wait=$D/go,pid=1"
	done
	wait_for 10 is "active processes" 6
	touch "$D/go"
	for i in 1 2 3 4 5 6; do
		eval wait "\$PID_r$i"
		ok200 "$D/r$i"
	done
	# "started" lines per window, each after the rate its window allows
	awk '/\] spawn window: up to [0-9]+ workers/ {
		w++; n[w] = 0; rate[w] = $0
		sub(/.* up to /, "", rate[w]); sub(/ .*/, "", rate[w]); next }
	    / child [0-9]+ started$/ && w { n[w]++ }
	    END { for (i = 1; i <= w; i++) if (n[i] > 0) print rate[i], n[i] }' \
	    "$LOG" >"$D/windows"
	cat "$D/windows"
	# the rate was never passed, and was reached
	awk '$2 > $1 || $1 > 2 { bad = 1 } END { exit bad }' "$D/windows"
	grep -qx '2 2' "$D/windows"
	# with pm.start_servers's one, spawned before any window: all of them
	(($(worker_pids | wc -l) == $(awk '{ s += $2 } END { print s + 1 }' \
	    "$D/windows")))
}

@test "fpm-pm: ondemand starts at 0, spawns a burst at once, goes back to 0" {
	local i t0 ms
	conf "pm = ondemand" "pm.max_children = 5" \
	    "pm.process_idle_timeout = 1s"
	start
	is "total processes" 0
	is "idle processes" 0
	[[ -z $(worker_pids) ]]
	# four requests, held until all four run
	t0=$(date +%s%N)
	for i in 1 2 3 4; do
		req_bg r$i "wait=$D/go,pid=1"
	done
	wait_for 5 is "active processes" 4
	ms=$((($(date +%s%N) - t0) / 1000000))
	is "total processes" 4
	touch "$D/go"
	for i in 1 2 3 4; do
		eval wait "\$PID_r$i"
		ok200 "$D/r$i"
	done
	# one spawn a second would take 3 s
	((ms < 3000)) || { echo "burst took $ms ms"; false; }
	# four workers served the four, each once
	[[ $(worker_pids | wc -l) == 4 ]]
	[[ $(sed -n 's/^pid=//p' "$D"/r? | sort -u | wc -l) == 4 ]]
	is "max children reached" 0
	# idle for process_idle_timeout, they go
	wait_for 5 is "total processes" 0
	wait_for 5 all_gone $(worker_pids)
	# and come back on demand
	run -0 req pid=1
	[[ $(worker_pids | wc -l) == 5 ]]
}

@test "fpm-pm: a burst of starts lets the loop turn for another pool" {
	local big=40
	GLOBAL="log_level = debug"
	{
		global
		pool small "$D/small.sock" "ping.path = /ping"
		pool big "$D/big.sock" "pm.max_children = $big"
	} >"$CONF"
	# small's socket made here, a ping already waiting in its backlog
	# when fpm-supervise starts: its first turn of the loop sees it
	python3 -c '
import os, socket, sys
d, conf = sys.argv[1], sys.argv[2]
l = socket.socket(socket.AF_UNIX)
l.bind(d + "/small.sock")
l.listen(16)
os.dup2(l.fileno(), 3)
l.close()
def rec(t, c):
    return bytes([1, t, 0, 1, len(c) >> 8, len(c) & 255, 0, 0]) + c
nv = lambda k, v: bytes([len(k), len(v)]) + k + v
r, w = os.pipe()
if os.fork() == 0:		# the client, an orphan: not our child
    os.close(3)
    if os.fork() == 0:
        c = socket.socket(socket.AF_UNIX)
        c.connect(d + "/small.sock")
        c.sendall(rec(1, bytes([0, 1, 0, 0, 0, 0, 0, 0])) +
            rec(4, nv(b"SCRIPT_NAME", b"/ping") + nv(b"REQUEST_METHOD", b"GET")) +
            rec(4, b"") + rec(5, b""))
        os.write(w, b"x")
        open(d + "/pong", "wb").write(c.recv(4096))
    os._exit(0)
os.wait()
os.read(r, 1)			# the request is in the backlog
os.close(r)
os.close(w)
os.environ["LISTEN_FDS"] = "1"
os.environ["LISTEN_PID"] = str(os.getpid())
os.execvp("fpm-supervise", ["fpm-supervise", "-y", conf])
' "$D" "$CONF" </dev/null >/dev/null 2>"$LOG" &
	SUP=$!
	track_pid "$SUP"
	wait_for 20 grep -q 'NOTICE: ready to handle connections' "$LOG"
	[[ $(grep -c '\[pool big\] child [0-9]* started' "$LOG") == "$big" ]]
	# answered after big's first starts, long before its last
	local pong last
	pong=$(grep -n '\[pool small\] "GET /ping" 200' "$LOG" | cut -d: -f1)
	last=$(grep -n '\[pool big\] child [0-9]* started' "$LOG" | tail -1 |
	    cut -d: -f1)
	[[ -n $pong ]]
	((pong < last)) ||
	    { echo "ping answered at line $pong, big's last start at $last"; false; }
	wait_for 5 grep -q pong "$D/pong"
	kill -TERM "$SUP"
	stopped
}

@test "fpm-pm: pm.max_requests recycles each worker after its share" {
	local i
	conf "pm.max_children = 2" "pm.max_requests = 3"
	start
	for i in $(seq 20); do
		req pid=1,count=1 >"$D/out$i"
	done
	# no worker served more than 3, and every pid shown was ours
	[[ -z $(sed -n 's/^count=//p' "$D"/out* | awk '$1 > 3') ]]
	[[ -z $(sed -n 's/^pid=//p' "$D"/out* | sort | uniq -c |
	    awk '$1 > 3') ]]
	for i in $(sed -n 's/^pid=//p' "$D"/out* | sort -u); do
		worker_pids | grep -qx "$i"
	done
	(($(nlog "reached pm.max_requests (3), retiring") >= 5))
	wait_for 5 is "total processes" 2
	# the retired ones are gone, not left behind
	wait_for 5 all_gone $(sed -n \
	    's/.*child \([0-9]*\) reached pm.max_requests.*/\1/p' "$LOG")
}

@test "fpm-pm: a crash loop backs off, and a fixed config reloads at once" {
	conf "command = $WORKER -e 1" "pm.max_children = 1" \
	    "queue.timeout = 100ms"
	start
	wait_for 10 grep -qF "WARNING: [pool www] workers keep dying at start (3 times in a row), next start in 2.000s" "$LOG"
	grep -qF "(2 times in a row), next start in 1.000s" "$LOG"
	# no storm: three starts so far
	(($(worker_pids | wc -l) <= 4))
	run -0 req pid=1
	[[ $output == "Status: 503 Service Unavailable"* ]]
	# the fix, reloaded, does not wait for the back-off
	conf "pm.max_children = 1"
	run -0 ctl reload
	[[ $output == "ok reloaded: 0 pools kept, 1 restarted, 0 added, 0 removed" ]]
	wait_for 1 is "idle processes" 1
	run -0 req pid=1
	[[ $output == *$'\npid='"$(worker_pids | tail -1)" ]]
}

@test "fpm-pm: emergency_restart_threshold restarts every worker" {
	local before
	GLOBAL=$'emergency_restart_threshold = 2\nemergency_restart_interval = 10s'
	{
		global
		pool www "$SOCK" "pm.max_children = 3"
		pool other "$D/other.sock" "pm.max_children = 1"
	} >"$CONF"
	start
	wait_for 5 is "idle processes" 3
	before=$(worker_pids)
	[[ $(echo $before | wc -w) == 4 ]]
	run -0 req segv=1
	[[ $output == "Status: 502 Bad Gateway"* ]]
	run ! grep -q 'failed processes threshold' "$LOG"
	run -0 req segv=1
	wait_for 5 grep -qF "WARNING: failed processes threshold (2 in 10 sec) is reached, initiating reload" "$LOG"
	# every worker of every pool, the spare of [www] and [other] too
	wait_for 5 all_gone $before
	wait_for 5 is "idle processes" 3
	none_of "$before" "$(pids)"
	none_of "$before" "$(pids "$D/other.sock")"
	run -0 req pid=1
	run -0 req -s "$D/other.sock" pid=1
	[[ $(nlog "failed processes threshold") == 1 ]]
}

@test "fpm-pm: SIGUSR2, SIGHUP and 'reload' keep an unchanged pool's workers" {
	local before
	conf
	start
	before=$(pids)
	kill -USR2 "$SUP"
	wait_for 5 grep -qF 'NOTICE: configuration reloaded: 1 pools kept, 0 restarted, 0 added, 0 removed' "$LOG"
	kill -HUP "$SUP"
	wait_for 5 eval '[[ $(nlog "configuration reloaded: 1 pools kept") == 2 ]]'
	run -0 ctl reload
	[[ $output == "ok reloaded: 1 pools kept, 0 restarted, 0 added, 0 removed" ]]
	[[ $(pids) == "$before" && $(worker_pids | wc -l) == 2 ]]
	run -0 req pid=1
	kill -0 "$SUP"
}

@test "fpm-pm: an invalid config on reload is refused, the old one serves" {
	local before line
	conf
	start
	before=$(pids)
	conf "pm.bogus = 1"
	line=$(grep -n '^pm.bogus' "$CONF" | cut -d: -f1)
	kill -USR2 "$SUP"
	wait_for 5 grep -qF "ERROR: reload failed, keeping the current configuration: [$CONF:$line] unknown entry 'pm.bogus'" "$LOG"
	run -0 ctl reload
	[[ $output == "error 100 [$CONF:$line] unknown entry 'pm.bogus'" ]]
	# valid syntax, impossible pool: refused too, nothing half done
	conf "pm.max_children = 3" "user = no-such-user-here"
	run -0 ctl reload
	line=$(grep -n '^user = no-such-user-here' "$CONF" | cut -d: -f1)
	[[ $output == "error 100 [$CONF:$line] [pool www] cannot get uid for user 'no-such-user-here'" ]]
	[[ $(pids) == "$before" ]]
	is "total processes" 2
	run -0 req pid=1
	[[ $output == *$'\npid='* ]]
	[[ -S $SOCK ]]
	run ! grep -q 'configuration reloaded' "$LOG"
}

@test "fpm-pm: reload removes, adds, changes pools and moves a listen address" {
	local keep chg gone move i
	{
		global
		pool keep "$D/keep.sock"
		pool chg "$D/chg.sock" "env[GEN] = 1"
		pool gone "$D/gone.sock"
		pool move "$D/move.sock" "pm.max_children = 1"
	} >"$CONF"
	start
	keep=$(pids "$D/keep.sock") chg=$(pids "$D/chg.sock")
	gone=$(pids "$D/gone.sock") move=$(pids "$D/move.sock")
	# a request in flight on [chg] until the reload is done, requests on
	# the moving address
	req_bg inflight -s "$D/chg.sock" "wait=$D/go,pid=1,env=GEN"
	wait_for 5 is "active processes" 1 "$D/chg.sock"
	(
		for i in $(seq 40); do
			req -s "$D/move.sock" pid=1 >/dev/null 2>&1 &&
			    echo ok || echo "fail $?"
		done
	) >"$D/loop" 3>&- &
	track_pid $!
	{
		global
		pool keep "$D/keep.sock"
		pool chg "$D/chg.sock" "env[GEN] = 2"
		pool new "$D/new.sock"
		pool moved "$D/move.sock" "pm.max_children = 1" "env[GEN] = moved"
	} >"$CONF"
	run -0 ctl reload
	[[ $output == "ok reloaded: 1 pools kept, 1 restarted, 2 added, 2 removed" ]]
	# the request in flight finishes on its old worker
	touch "$D/go"
	wait "$PID_inflight"
	ok200 "$D/inflight"
	grep -qx "env GEN=1" "$D/inflight"
	[[ " $(echo $chg) " == *" $(sed -n 's/^pid=//p' "$D/inflight") "* ]]
	# [keep]: the same workers; [chg]: new ones, the old ones gone
	[[ $(pids "$D/keep.sock") == "$keep" ]]
	wait_for 5 all_gone $chg
	wait_for 5 is "idle processes" 2 "$D/chg.sock"
	none_of "$chg" "$(pids "$D/chg.sock")"
	run -0 req -s "$D/chg.sock" env=GEN
	[[ $output == *$'\nenv GEN=2' ]]
	# [gone]: socket and workers gone
	wait_for 5 all_gone $gone
	[[ ! -e $D/gone.sock ]]
	# once its last worker is reaped (all_gone: a zombie is gone)
	wait_for 5 grep -qF 'NOTICE: [pool gone] removed' "$LOG"
	# [new] serves
	run -0 req -s "$D/new.sock" pid=1
	# the moved address answered all along, now for [moved]
	wait_for 10 eval '[[ $(grep -c . "$D/loop") == 40 ]]'
	[[ $(sort -u "$D/loop") == ok ]]
	wait_for 5 all_gone $move
	run -0 req -s "$D/move.sock" env=GEN
	[[ $output == *$'\nenv GEN=moved' ]]
	[[ $(figure pool "$D/move.sock") == moved ]]
	run -0 ctl pools
	[[ $(sort <<<"$output") == "$(sort <<EOF
ok
keep static $D/keep.sock 2 2 0 0
chg static $D/chg.sock 2 2 0 0
new static $D/new.sock 2 2 0 0
moved static $D/move.sock 1 1 0 0
EOF
)" ]]
}

@test "fpm-pm: 'reload POOL' touches that pool only; a lower max_children trims" {
	local a b
	{
		global
		pool a "$D/a.sock" "pm.max_children = 3"
		pool b "$D/b.sock" "env[GEN] = 1"
	} >"$CONF"
	start
	a=$(pids "$D/a.sock") b=$(pids "$D/b.sock")
	{
		global
		pool a "$D/a.sock" "pm.max_children = 1"
		pool b "$D/b.sock" "env[GEN] = 2"
	} >"$CONF"
	run -0 ctl reload a
	[[ $output == "ok reloaded pool a: kept" ]]
	# [a] keeps one of its workers, the two others go; [b] is untouched
	wait_for 5 is "total processes" 1 "$D/a.sock"
	[[ " $(echo $a) " == *" $(pids "$D/a.sock") "* ]]
	(($(echo $a | wc -w) == 3))
	[[ $(pids "$D/b.sock") == "$b" ]]
	run -0 req -s "$D/b.sock" env=GEN
	[[ $output == *$'\nenv GEN=1' ]]
	run -0 ctl reload b
	[[ $output == "ok reloaded pool b: restarted" ]]
	wait_for 5 all_gone $b
	run -0 req -s "$D/b.sock" env=GEN
	[[ $output == *$'\nenv GEN=2' ]]
	run -0 ctl reload nosuch
	[[ $output == "error 1 no pool 'nosuch'" ]]
	[[ $(worker_pids | wc -l) == 7 ]]
}

@test "fpm-pm: 'reload POOL' of a pool removed or not started is refused" {
	# [gone] drains a request after a reload removed it; [new] is in the
	# file but not started: neither is a running pool to reload alone
	{
		global
		pool keep "$D/keep.sock"
		pool gone "$D/gone.sock"
	} >"$CONF"
	start
	req_bg inflight -s "$D/gone.sock" "wait=$D/go,pid=1"
	wait_for 5 is "active processes" 1 "$D/gone.sock"
	{ global; pool keep "$D/keep.sock"; } >"$CONF"
	run -0 ctl reload
	[[ $output == "ok reloaded: 1 pools kept, 0 restarted, 0 added, 1 removed" ]]
	{
		global
		pool keep "$D/keep.sock"
		pool gone "$D/gone2.sock"
		pool new "$D/new.sock"
	} >"$CONF"
	run -0 ctl reload gone
	[[ $output == "error 1 no pool 'gone'" ]]
	run -0 ctl reload new
	[[ $output == "error 1 no pool 'new'" ]]
	run -0 ctl restart gone
	[[ $output == "error 1 no pool 'gone'" ]]
	# nothing changed: the supervisor serves, [gone] finishes its request
	run -0 req -s "$D/keep.sock" pid=1
	kill -0 "$PID_inflight"
	touch "$D/go"
	wait "$PID_inflight"
	ok200 "$D/inflight"
	[[ ! -e $D/gone2.sock && ! -e $D/new.sock ]]
	run -0 ctl pools
	[[ $output == "ok"$'\n'"keep static $D/keep.sock 2 2 0 0" ]]
	# and a whole reload starts both
	run -0 ctl reload
	[[ $output == "ok reloaded: 1 pools kept, 0 restarted, 2 added, 0 removed" ]]
	run -0 req -s "$D/gone2.sock" pid=1
	run -0 req -s "$D/new.sock" pid=1
}

@test "fpm-pm: binary upgrade keeps the pid and every request" {
	local before i
	GLOBAL="pid = $D/fpm.pid"
	conf "pm.max_children = 3"
	start
	[[ $(cat "$D/fpm.pid") == "$SUP" ]]
	before=$(pids)
	# a request in flight until the upgrade waits for it
	req_bg inflight "wait=$D/go,pid=1"
	wait_for 5 is "active processes" 1
	(
		for i in $(seq 30); do
			req pid=1 >"$D/l$i" 2>&1 && ok200 "$D/l$i" &&
			    echo ok || echo "fail $i"
		done
	) >"$D/loop" 3>&- &
	track_pid $!
	kill -URG "$SUP"
	wait_for 10 grep -qF 'NOTICE: binary upgrade: finishing the requests in flight, then re-executing' "$LOG"
	touch "$D/go"
	wait "$PID_inflight"
	ok200 "$D/inflight"
	[[ " $(echo $before) " == *" $(sed -n 's/^pid=//p' "$D/inflight") "* ]]
	wait_for 10 eval '[[ $(nlog "ready to handle connections") == 2 ]]'
	wait_for 15 eval '[[ $(grep -c . "$D/loop") == 30 ]]'
	[[ $(sort -u "$D/loop") == ok ]]
	grep -Eq 'NOTICE: binary upgrade: exec[a-z]*\(".*"\) with 1 socket$' "$LOG"
	# the same process, holding the same pidfile, with new workers
	kill -0 "$SUP"
	[[ $(cat "$D/fpm.pid") == "$SUP" ]]
	run -0 ctl pid
	[[ $output == $'ok\n'"$SUP" ]]
	wait_for 5 all_gone $before
	wait_for 5 is "idle processes" 3
	none_of "$before" "$(pids)"
	# once more, asked on the control socket
	before=$(pids)
	run -0 ctl upgrade
	[[ $output == ok ]]
	wait_for 10 eval '[[ $(nlog "ready to handle connections") == 3 ]]'
	wait_for 5 all_gone $before
	run -0 req pid=1
	[[ $(cat "$D/fpm.pid") == "$SUP" ]]
}

# zero_loss KEEPALIVE: nginx in front, wrk for 8 s, 20 reloads (every other
# one a changed pool) and a binary upgrade meanwhile; no request may fail.
zero_loss() {
	local i n=0 out
	conf "pm.max_children = 4" "env[GEN] = 0" "listen.backlog = 512"
	start
	nginx_start "unix:$SOCK" "$1"
	[[ $(http_get "/x?count=1") == 200 ]]
	wrk -t2 -c8 -d8s "http://127.0.0.1:$NGINX_PORT/x?count=1" \
	    >"$D/wrk" 2>&1 3>&- &
	WRK=$!
	track_pid "$WRK"
	for i in $(seq 20); do
		sleep 0.2	# pacing, not waiting: spread over the run
		if ((i % 2)); then
			conf "pm.max_children = 4" "env[GEN] = $i" \
			    "listen.backlog = 512"
		fi
		case $((i % 3)) in
		0) kill -USR2 "$SUP" ;;
		1) kill -HUP "$SUP" ;;
		2) ctl reload >/dev/null ;;
		esac
		wait_for 5 eval '[[ $(nlog "configuration reloaded") == '"$i"' ]]'
		if ((i == 10)); then
			kill -URG "$SUP"
			wait_for 15 eval \
			    '[[ $(nlog "ready to handle connections") == 2 ]]'
		fi
	done
	wait "$WRK"
	out=$(cat "$D/wrk")
	echo "$out"
	[[ $(nlog "reloaded: 1 pools kept, 0 restarted") == 10 ]]
	[[ $(nlog "reloaded: 0 pools kept, 1 restarted") == 10 ]]
	[[ $out == *"requests in "* ]]
	(($(awk '/requests in/ { print $1 }' <<<"$out") > 500))
	# for the record: nginx retrying on a kept connection we closed
	grep -E '\[(error|crit|alert)\]' "$NGINX_DIR/error.log" || true
	grep -E 'WARNING|ERROR' "$LOG" || true
	[[ $out != *Non-2xx* && $out != *"Socket errors"* ]]
	run ! grep -E 'answering 50[234]' "$LOG"
}

@test "fpm-pm: zero loss under wrk through nginx, keepalive on" {
	zero_loss 1
}

@test "fpm-pm: zero loss under wrk through nginx, keepalive off" {
	zero_loss 0
}

@test "fpm-pm: pm.max_memory retires a worker whose RSS is over it after a request" {
	conf "pm.max_children = 1" "pm.max_memory = 4k"
	start
	first=$(worker_pids)
	run -0 req pid=1
	wait_for 5 grep -Eq "\[pool www\] child $first uses [0-9]+ bytes, more than pm.max_memory \(4096\): retiring" "$LOG"
	wait_for 5 eval '[[ $(worker_pids | wc -l) == 2 ]]'
}
