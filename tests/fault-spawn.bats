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
# on $D/NAME.sock, logging to $D/NAME.log; its pid in $SUP.
start_second() {
	sed "s|^listen = .*|listen = $D/$1.sock|" "$CONF" >"$D/$1.conf"
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
