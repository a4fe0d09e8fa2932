# SPDX-License-Identifier: ISC
# fpm-supervise against a starved host and a hostile local user: accept
# backs off when descriptors run out, and the control socket keeps room
# for root however many idle connections another user holds.

bats_require_minimum_version 1.5.0
load helpers/common
load helpers/supervise

# cpu_ticks PID: user + system CPU time of PID, in clock ticks.
cpu_ticks() {
	local stat
	stat=$(</proc/"$1"/stat)
	# fields 14 and 15; comm (field 2) may hold spaces, so cut after it
	set -- ${stat##*) }
	echo $((${12} + ${13}))
}

@test "fault-host: out of descriptors, accept backs off and recovers" {
	GLOBAL="pid = $D/fpm.pid"	# the control socket beside it
	conf
	prlimit --nofile=64:64 fpm-supervise -y "$CONF" </dev/null \
	    >/dev/null 2>"$LOG" 3>&- &
	SUP=$!
	track_pid "$SUP"
	wait_for 10 grep -q 'NOTICE: ready to handle connections' "$LOG"
	run -0 req "pid=1"
	# 200 idle clients: the first ones take every descriptor left
	conn-hold -s "$SOCK" -n 200 >"$D/hold" 3>&- &
	HOLD=$!
	track_pid "$HOLD"
	wait_for 20 grep -qx 'open 200' "$D/hold"
	wait_for 5 grep -q 'accept.*Too many open files' "$LOG"
	# a window to measure CPU over, not a wait for an event
	t0=$(cpu_ticks "$SUP")
	n0=$(date +%s%N)
	sleep 2
	t1=$(cpu_ticks "$SUP")
	n1=$(date +%s%N)
	pct=$(((t1 - t0) * 100 * 1000000000 / ($(getconf CLK_TCK) * (n1 - n0))))
	echo "cpu ${pct}% ($((t1 - t0)) ticks), accept lines:" \
	    "$(grep -c 'accept' "$LOG")" >&3
	((pct < 10))
	# fewer than 20 lines a minute: in these ~3 s, the first report and
	# at most one "accepting again" if a descriptor came free meanwhile
	# (then the next report waits 10 s)
	n=$(grep -c 'accept' "$LOG")
	((n >= 1 && n <= 2))
	# descriptors come back: the pool serves again
	kill "$HOLD"
	wait_for 5 pid_gone "$HOLD"
	wait_for 10 req "pid=1"
	run -0 req "pid=1"
	[[ ${lines[-1]} == "pid="* ]]
	wait_for 5 grep -q 'accepting again (failures since the last report: ' \
	    "$LOG"
	kill -0 "$SUP"
}

@test "fault-host: another user's idle control connections leave root room" {
	[[ $(id -u) == 0 ]] || skip "needs root to act as nobody"
	CTL=$D/fpm.sock
	GLOBAL="pid = $D/fpm.pid
control.mode = 0666"
	conf
	start
	# more idle connections than the socket ever took, from a user
	# whose every command would be refused
	setpriv --reuid=65534 --regid=65534 --clear-groups \
	    conn-hold -s "$CTL" -n 80 -w 9000 >"$D/hold" 3>&- &
	HOLD=$!
	track_pid "$HOLD"
	wait_for 10 grep -qx 'open 80' "$D/hold"
	run -0 fpm-ctl -s "$CTL" pid
	[[ $output == "$SUP" ]]
	# those kept are closed 5 s after they connected, having sent nothing
	wait_for 12 pid_gone "$HOLD"
	rc=0
	wait "$HOLD" || rc=$?
	sed -n 2p "$D/hold" >&3
	read -r _ closed _ n _ first _ _ last _ < <(sed -n 2p "$D/hold")
	((rc == 0))
	((closed == 80 && n == 80))
	# those over the user's share were told why, and closed at once
	said=$(sed -n 3p "$D/hold")
	[[ $said == "said: error 111 too many connections from uid 65534" ]]
	((first < 1000))
	((last >= 4500 && last <= 7500))
	run -0 fpm-ctl -s "$CTL" pid
}

@test "fault-host: a refused control command is logged escaped, on one line" {
	[[ $(id -u) == 0 ]] || skip "needs root to act as nobody"
	CTL=$D/fpm.sock
	GLOBAL="pid = $D/fpm.pid
control.mode = 0666"
	conf
	start
	# CR and ESC end no line of ours, but a terminal shows them as if
	printf 'reload\r\033[2K[05-Dec-2026 10:00:00] ALERT: forged\n' |
	    setpriv --reuid=65534 --regid=65534 --clear-groups \
	    socat -t 5 - "UNIX-CONNECT:$CTL" >"$D/said"
	grep -q '^error 100 permission denied' "$D/said"
	wait_for 5 grep -qF "refused 'reload\\r\\033[2K[05-Dec-2026'" "$LOG"
	! grep -q $'\e' "$LOG"
	! grep -q $'\r' "$LOG"
}
