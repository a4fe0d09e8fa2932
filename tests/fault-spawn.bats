# SPDX-License-Identifier: ISC
# fpm-supervise killed with SIGKILL: no worker outlives it, not even one that
# ignores SIGTERM, and the next start sweeps the runtime directory it left,
# never one that a live supervisor owns.

bats_require_minimum_version 1.5.0
load helpers/common
load helpers/supervise

# rundirs: the runtime directories under $D, one per line.
rundirs() {
	local d

	for d in "$D"/fpm.??????; do
		[[ -d $d ]] && echo "$d"
	done
	return 0
}

# kill9: SIGKILL the supervisor and wait until it is gone.
kill9() {
	kill -KILL "$SUP"
	wait_for 5 pid_gone "$SUP"
	wait "$SUP" 2>/dev/null || true
	TEST_PIDS=("${TEST_PIDS[@]/#$SUP/}")
}

@test "fault-spawn: kill -9 of the supervisor takes workers ignoring SIGTERM" {
	conf "command = $WORKER -t" "pm.max_children = 3"
	start
	wait_for 5 status_has 'idle processes:       3'
	pids=$(worker_pids)
	[[ $(wc -w <<<"$pids") == 3 ]]
	kill9
	for p in $pids; do
		wait_for 5 pid_gone "$p"
	done
}

# start_second NAME: another supervisor on the same runtime_dir, listening
# on $D/NAME.sock, its pidfile $D/NAME-fpm.pid (its control socket beside
# it), logging to $D/NAME.log; its pid in $SUP.
start_second() {
	sed -e "s|^listen = .*|listen = $D/$1.sock|" \
	    -e "s|^pid = .*|pid = $D/$1-fpm.pid|" "$CONF" >"$D/$1.conf"
	fpm-supervise -y "$D/$1.conf" </dev/null >/dev/null 2>"$D/$1.log" 3>&- &
	SUP=$!
	track_pid "$SUP"
	wait_for 10 grep -q 'NOTICE: ready to handle connections' "$D/$1.log"
}

@test "fault-spawn: a start removes the runtime directory of a killed supervisor, not a live one's" {
	conf
	start
	LIVE=$SUP
	live=$(rundirs)
	[[ $(wc -l <<<"$live") == 1 ]]
	# a second one, killed: its directory and worker sockets stay behind
	start_second dead
	dead=$(rundirs | grep -vx "$live")
	wait_for 5 grep -q 'child .* started' "$D/dead.log"
	[[ -n $(echo "$dead"/w*.sock) && -S $(echo "$dead"/w*.sock | cut -d' ' -f1) ]]
	kill9
	[[ -d $dead ]]
	# the next start sweeps it, and only it
	start_second next
	wait_for 5 grep -q "removed $dead, left by a dead supervisor" "$D/next.log"
	[[ ! -e $dead && -d $live ]]
	[[ $(rundirs | wc -l) == 2 ]]
	run -0 fcgi-client -s "$D/next.sock" -t 5000 -p QUERY_STRING=pid=1
	# the live one still spawns and serves
	run -0 req "pid=1"
	kill -TERM "$LIVE"
	wait_for 10 pid_gone "$LIVE"
	[[ ! -e $live ]]
}

@test "fault-spawn: the built-in configuration works under a 200-character TMPDIR" {
	long=$BATS_TEST_TMPDIR/$(printf 'd%.0s' {1..200})
	mkdir -p "$long"
	run -0 env TMPDIR="$long" fpm-supervise -t
	[[ $output == *"configuration file (built-in) test is successful"* ]]
	# and it leaves nothing behind there
	[[ -z $(ls -A "$long") ]]
}

@test "fault-spawn: a TMPDIR too long for any path is a clear error" {
	long=/$(printf 'd%.0s' {1..5000})
	run -100 env TMPDIR="$long" fpm-supervise -t
	[[ $output == *"TMPDIR is too long for the built-in configuration (5001 bytes)"* ]]
	[[ ${#output} -lt 600 ]]
}

@test "fault-spawn: an upgrade hands over 100 inherited sockets, all still their maker's" {
	local i n=100
	{
		echo "[global]"
		echo "runtime_dir = $D"
		echo "pid = $D/fpm.pid"
		for ((i = 0; i < n; i++)); do
			echo "[p$i]"
			echo "user = nobody"
			echo "listen = $D/p$i.sock"
			echo "command = $WORKER"
			echo "pm = ondemand"
			echo "pm.max_children = 1"
		done
	} >"$CONF"
	# the maker of the sockets: fds 3 to 102, sd_listen_fds(3) style
	python3 -c '
import os, socket, sys
d, n = sys.argv[1], int(sys.argv[2])
high = []
for i in range(n):
    s = socket.socket(socket.AF_UNIX)
    s.bind("%s/p%d.sock" % (d, i))
    s.listen(16)
    high.append(os.dup2(s.fileno(), 1000 + i))
    s.close()
for i, fd in enumerate(high):
    os.dup2(fd, 3 + i)
    os.close(fd)
os.environ["LISTEN_FDS"] = str(n)
os.environ["LISTEN_PID"] = str(os.getpid())
os.execvp("fpm-supervise", ["fpm-supervise", "-y", sys.argv[3]])
' "$D" "$n" "$CONF" </dev/null >/dev/null 2>"$LOG" &
	SUP=$!
	track_pid "$SUP"
	wait_for 10 grep -q 'NOTICE: ready to handle connections' "$LOG"
	[[ $(grep -c 'using inherited socket' "$LOG") == "$n" ]]
	kill -URG "$SUP"
	wait_for 10 eval '[[ $(grep -c "ready to handle connections" "$LOG") == 2 ]]'
	grep -q "binary upgrade: execv(\".*\") with $n sockets" "$LOG"
	SOCK=$D/p$((n - 1)).sock run -0 req "pid=1"
	kill -TERM "$SUP"
	stopped
	# not one unlinked: they belong to whoever made them
	rm -f "$D/gone"
	for ((i = 0; i < n; i++)); do
		[[ -S $D/p$i.sock ]] || echo "p$i.sock unlinked" >>"$D/gone"
	done
	[[ ! -e $D/gone ]] || { cat "$D/gone"; false; }
}
