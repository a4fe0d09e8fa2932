# SPDX-License-Identifier: ISC
# pm.status_listen: a pool's status and ping on a socket of their own,
# through reloads, binary upgrades and stops.

bats_require_minimum_version 1.5.0
load helpers/common
load helpers/supervise

# st SCRIPT_NAME [fcgi-client ARG...]: a request on the status socket.
st() {
	local s=$1
	shift
	fcgi-client -s "$D/st.sock" -t 5000 -p "SCRIPT_NAME=$s" "$@"
}

nlog() {
	grep -cF -- "$1" "$LOG" || true
}

@test "fpm-status-listen: status and ping there, nothing else" {
	conf "pm.max_children = 1" "pm.status_listen = $D/st.sock"
	start
	! grep -q 'not implemented' "$LOG"
	[[ $(stat -c %a "$D/st.sock") == 660 ]]
	run -0 st /status
	[[ $output == *"pool:                 www"* ]]
	# a pool of its own in PHP-FPM: its requests are not counted
	[[ $output == *"accepted conn:        0"* ]]
	run -0 st /ping
	[[ ${lines[-1]} == pong ]]
	# a script: refused here, no worker sees it
	run -0 st /index.php -p QUERY_STRING=pid=1
	[[ ${lines[0]} == "Status: 404 Not Found"* && $output != *pid=* ]]
	run -0 req "count=1"
	[[ ${lines[-1]} == count=1 ]]
	# the main socket still serves all, status included
	status_has "pool:                 www"
}

@test "fpm-status-listen: without pm.status_path the status is at /" {
	conf "pm.status_listen = $D/st.sock" "pm.status_path ="
	start
	run -0 st /
	[[ $output == *"pool:                 www"* ]]
	# there only: on the main socket "/" is the application's
	run -0 req "pid=1" -p SCRIPT_NAME=/
	[[ ${lines[-1]} == pid=* ]]
}

@test "fpm-status-listen: kept by a reload, moved by another, gone at stop" {
	conf "pm.status_listen = $D/st.sock"
	start
	ino=$(stat -c %i "$D/st.sock")
	conf "pm.status_listen = $D/st.sock" "pm.max_children = 3"
	kill -USR2 "$SUP"
	wait_for 5 eval '[[ $(nlog "configuration reloaded") == 1 ]]'
	[[ $(stat -c %i "$D/st.sock") == "$ino" ]]
	run -0 st /ping
	conf "pm.status_listen = $D/st2.sock"
	kill -USR2 "$SUP"
	wait_for 5 eval '[[ $(nlog "configuration reloaded") == 2 ]]'
	[[ ! -e $D/st.sock ]]
	run -0 fcgi-client -s "$D/st2.sock" -t 5000 -p SCRIPT_NAME=/ping
	[[ ${lines[-1]} == pong ]]
	kill -TERM "$SUP"
	stopped
	[[ ! -e $D/st2.sock && ! -e $SOCK ]]
}

@test "fpm-status-listen: a binary upgrade hands it over" {
	conf "pm.status_listen = $D/st.sock"
	start
	ino=$(stat -c %i "$D/st.sock")
	kill -URG "$SUP"
	wait_for 10 eval '[[ $(nlog "ready to handle connections") == 2 ]]'
	grep -Eq 'NOTICE: binary upgrade: exec[a-z]*\(".*"\) with 2 sockets$' "$LOG"
	[[ $(stat -c %i "$D/st.sock") == "$ino" ]]
	run -0 st /ping
	[[ ${lines[-1]} == pong ]]
	kill -TERM "$SUP"
	stopped
	[[ ! -e $D/st.sock ]]
}

@test "fpm-status-listen: a refused reload leaves every socket open" {
	two() {
		conf "pm.status_listen = $1"
		printf '[b]\nuser = nobody\nlisten = %s\ncommand = %s\npm = static\npm.max_children = 1\n' \
		    "$D/b.sock" "$WORKER" >>"$CONF"
	}
	two "$D/st.sock"
	start
	fd0=$(readlink "/proc/$SUP/fd/0")
	touch "$D/file"
	two "$D/file"		# not a socket: pool www's step fails
	kill -USR2 "$SUP"
	wait_for 5 eval '[[ $(nlog "reload failed") == 1 ]]'
	[[ $(readlink "/proc/$SUP/fd/0") == "$fd0" ]]
	run -0 st /ping
	run -0 fcgi-client -s "$D/b.sock" -t 5000 -p QUERY_STRING=pid=1
}
