# SPDX-License-Identifier: ISC
# fpm-spawn, black-box: sockets, privileges, limits and hand-over, with real
# FastCGI peers (fcgi-testworker on libfcgi, php-cgi, fcgiwrap, nginx).

bats_require_minimum_version 1.5.0
load helpers/common
load helpers/nginx

WORKER=fcgi-testworker

setup() {
	D=$(short_tmpdir)
	chmod 755 "$D"		# workers running as nobody chdir and read here
	SOCK=$D/s
	ERR=$BATS_TEST_TMPDIR/err
}

teardown() {
	local p

	nginx_stop
	# fork-mode workers are not our children and may stay zombies under a
	# PID 1 that does not reap: pid_gone, not kill -0, tells they are dead
	for p in "${TEST_PIDS[@]}"; do
		kill -TERM "$p" 2>/dev/null || true
	done
	for p in "${TEST_PIDS[@]}"; do
		wait_for 5 pid_gone "$p" || kill -KILL "$p" 2>/dev/null || true
	done
	TEST_PIDS=()
	rm -rf "$D"
}

# fcgi GET ADDR QUERY: one request with cgi-fcgi; the response on stdout.
fcgi() {
	SCRIPT_FILENAME=${SCRIPT:-/none} REQUEST_METHOD=GET QUERY_STRING=$2 \
	    REDIRECT_STATUS=200 cgi-fcgi -bind -connect "$1"
}

# spawn ARG...: fpm-spawn in fork mode; the pids go to $PIDS and are tracked,
# stderr to $ERR.  The workers do not hold our stdout, so $(...) returns.
spawn() {
	local out

	out=$(fpm-spawn "$@" 2>"$ERR") || {
		cat "$ERR" >&2
		return 1
	}
	read -r -d '' -a PIDS <<<"$out" || true
	track_pid "${PIDS[@]}"
}

# bg ARG...: fpm-spawn -n in the background; its pid goes to $BG.
bg() {
	fpm-spawn -n "$@" </dev/null >"$BATS_TEST_TMPDIR/bg.out" 2>"$ERR" &
	BG=$!
	track_pid "$BG"
}

# free_port SPEC_PREFIX: start fpm-spawn on a free 127.0.0.1 port; PORT set.
spawn_tcp() {
	local try

	for try in 1 2 3 4 5 6 7 8 9 10; do
		PORT=$((20000 + RANDOM % 40000))
		if spawn -l "127.0.0.1:$PORT" "$@"; then
			return 0
		fi
		grep -q 'Address already in use' "$ERR" || return 1
	done
	return 1
}

need_root() {
	[[ $(id -u) == 0 ]] || skip "needs root"
}

# Run as nobody (for the not-root behaviours when the tests run as root).
as_user() {
	if [[ $(id -u) == 0 ]]; then
		setpriv --reuid=nobody --regid=nogroup --clear-groups "$@"
	else
		"$@"
	fi
}

@test "fpm-spawn: unknown option is a usage error" {
	run -100 fpm-spawn --bogus -- true
	[[ ${lines[0]} == "fpm-spawn: usage: --bogus: unknown option" ]]
	[[ ${lines[1]} == "Try 'fpm-spawn --help'." ]]
	((${#lines[@]} == 2))
}

@test "fpm-spawn: usage errors exit 100 with one line and a hint" {
	local args
	while IFS='|' read -r args msg; do
		# shellcheck disable=SC2086
		run -100 fpm-spawn $args
		[[ ${lines[0]} == "fpm-spawn: usage: $msg" ]] ||
			{ echo "$args: ${lines[0]}"; false; }
		[[ ${lines[1]} == "Try 'fpm-spawn --help'." ]]
		((${#lines[@]} == 2))
	done <<EOF
-s $SOCK|no program to run
-- true|no address: give --socket, --port or --listen
-s $SOCK -p 9000 -- true|give only one of --listen, --socket and --port
-a 127.0.0.1 -s $SOCK -- true|--address needs --port
-l localhost:9000 -- true|invalid address 'localhost:9000': bad address or port
-p 0 -- true|invalid address '0.0.0.0:0': bad address or port
-s $SOCK -n -F 2 -- true|--no-fork and --children N don't mix
-s $SOCK -L -F 2 -- true|--listen-fds and --children N don't mix
-s $SOCK -F 0 -- true|--children: must be 1..256
-s $SOCK -F 257 -- true|--children: must be 1..256
-s $SOCK -N 20 -- true|--nice: must be -20..19
-s $SOCK -b -2 -- true|--backlog: must be -1 or more
-s $SOCK -M 0999 -- true|--socket-mode: invalid mode '0999'
-s $SOCK -e NOEQUALS -- true|--env: expected NAME=VALUE, got 'NOEQUALS'
-s $SOCK -e =x -- true|--env: expected NAME=VALUE, got '=x'
-s $SOCK -f 0 -- true|--rlimit-files: invalid value '0'
-s $SOCK -k lots -- true|--rlimit-core: invalid value 'lots'
-s $SOCK -C -1 -- true|--php-children: invalid value '-1'
-s $SOCK -F x -- true|x: invalid numeric value
EOF
	[[ ! -e $SOCK ]]
}

@test "fpm-spawn: --help and --version print to stdout and exit 0" {
	run -0 --separate-stderr fpm-spawn --help
	[[ ${lines[0]} == "Usage: fpm-spawn [OPTION...] -- PROGRAM [ARG...]" ]]
	[[ $output == *"--listen-fds"* && $output == *"--socket=PATH"* ]]
	[[ $output == *"-O, --keep-output"* ]]
	[[ -z $stderr ]]
	run -0 --separate-stderr fpm-spawn --version
	[[ $output =~ ^fpm-spawn\ [0-9]+\.[0-9]+\.[0-9]+$ ]]
	[[ -z $stderr ]]
}

@test "fpm-spawn: fork mode prints the child's pid, exits 0, writes -P" {
	local pid
	run -0 --separate-stderr fpm-spawn -s "$SOCK" -P "$D/pid" -- "$WORKER"
	pid=$output
	track_pid "$pid"
	[[ $pid =~ ^[0-9]+$ ]]
	[[ $(cat "$D/pid") == "$pid" ]]
	[[ -S $SOCK ]]
	# the worker is alive, in its own session, and answers
	[[ $(ps -o sid= -p "$pid") -eq $pid ]]
	run -0 fcgi "$SOCK" pid=1
	[[ $output == *"pid=$pid"* ]]
	[[ $output == *"X-Worker-Pid: "* ]]
}

@test "fpm-spawn: -F 3 forks three workers on one socket" {
	local p ino i
	spawn -s "$SOCK" -F 3 -P "$D/pid" -- "$WORKER"
	((${#PIDS[@]} == 3))
	[[ $(sort -u "$D/pid" | wc -l) == 3 ]]
	[[ $(cat "$D/pid") == "$(printf '%s\n' "${PIDS[@]}")" ]]
	ino=$(readlink "/proc/${PIDS[0]}/fd/0")
	[[ $ino == socket:* ]]
	for p in "${PIDS[@]}"; do
		[[ $(readlink "/proc/$p/fd/0") == "$ino" ]]
	done
	# three requests, each held in its worker until all three run: each
	# worker takes one
	for i in 1 2 3; do
		fcgi "$SOCK" "mark=$D/m$i,wait=$D/go,pid=1" >"$D/r$i" &
	done
	wait_for 10 test -e "$D/m1" -a -e "$D/m2" -a -e "$D/m3"
	touch "$D/go"
	wait
	cat "$D"/r? | grep -o '^pid=[0-9]*' | sort -u >"$D/seen"
	[[ $(wc -l <"$D/seen") == 3 ]]
	for p in "${PIDS[@]}"; do
		grep -qx "pid=$p" "$D/seen"
	done
}

@test "fpm-spawn: -n execs the program in place" {
	bg -s "$SOCK" -- "$WORKER"
	wait_for 5 test -S "$SOCK"
	run -0 fcgi "$SOCK" pid=1
	[[ $output == *"pid=$BG"* ]]
	[[ $(readlink "/proc/$BG/exe") == */fcgi-testworker ]]
}

@test "fpm-spawn: -n keeps stdout and stderr, no new session" {
	run -0 --separate-stderr fpm-spawn -n -s "$SOCK" -- sh -c \
	    'echo out; echo err >&2; cut -d" " -f6 /proc/$$/stat; echo $$'
	[[ ${lines[0]} == out && $stderr == err ]]
	[[ ${lines[1]} != "${lines[2]}" ]]
}

@test "fpm-spawn: fork mode: out=\$(fpm-spawn ... 2>&1) returns at once" {
	# spawn-fcgi's idiom: the children must not hold the caller's pipe
	run timeout 5 bash -c 'out=$(fpm-spawn -s "$1" -P "$2" -- "$3" 2>&1) &&
	    echo "$out"' _ "$SOCK" "$D/pid" "$WORKER"
	track_pid $(cat "$D/pid")
	[[ $status == 0 && $output == "$(cat "$D/pid")" ]]
	# like spawn-fcgi: stdout and stderr on /dev/null, fd 0 the socket
	p=$(cat "$D/pid")
	[[ $(readlink "/proc/$p/fd/1") == /dev/null ]]
	[[ $(readlink "/proc/$p/fd/2") == /dev/null ]]
	run -0 fcgi "$SOCK" pid=1
	[[ $output == *"pid=$p"* ]]
}

@test "fpm-spawn: fork mode with -O (--keep-output) keeps stdout and stderr" {
	fpm-spawn -O -s "$SOCK" -P "$D/pid" -- sh -c 'echo out; echo err >&2' \
	    >"$D/out" 2>"$D/err"
	track_pid $(cat "$D/pid")
	wait_for 5 grep -qx err "$D/err"
	wait_for 5 grep -qx out "$D/out"
	rm "$SOCK"
	fpm-spawn --keep-output -s "$SOCK" -P "$D/pid" -- sh -c 'echo err2 >&2' \
	    >/dev/null 2>"$D/err"
	track_pid $(cat "$D/pid")
	wait_for 5 grep -qx err2 "$D/err"
}

@test "fpm-spawn: the program gets only fds 0, 1 and 2" {
	exec 7</dev/null
	run -0 fpm-spawn -n -s "$SOCK" -- sh -c 'ls /proc/$$/fd'
	exec 7<&-
	[[ $output == $'0\n1\n2' ]]
	spawn -s "$SOCK" -- "$WORKER"
	# fd 3 is the request's connection in libfcgi
	run -0 fcgi "$SOCK" fds=1
	[[ $output == *"fds=0,1,2,3"* ]]
}

@test "fpm-spawn: -M sets the unix socket's mode" {
	spawn -s "$SOCK" -M 0600 -- "$WORKER"
	[[ $(stat -c %a "$SOCK") == 600 ]]
	spawn -s "$D/t" -M 666 -- "$WORKER"
	[[ $(stat -c %a "$D/t") == 666 ]]
}

@test "fpm-spawn: -U and -G set the unix socket's owner (root)" {
	need_root
	spawn -s "$SOCK" -M 0660 -U nobody -G nogroup -- "$WORKER"
	[[ $(stat -c '%a %U %G' "$SOCK") == "660 nobody nogroup" ]]
	spawn -s "$D/g" -G nogroup -- "$WORKER"
	[[ $(stat -c '%U %G' "$D/g") == "root nogroup" ]]
	run -100 fpm-spawn -s "$D/x" -U no-such-user-xyz -- true
	[[ $output == "fpm-spawn: fatal: unknown user 'no-such-user-xyz'" ]]
}

@test "fpm-spawn: TCP on 127.0.0.1 with -l and with -a/-p" {
	spawn_tcp -- "$WORKER"
	run -0 fcgi "127.0.0.1:$PORT" pid=1
	[[ $output == *"pid=${PIDS[0]}"* ]]
	ss -ltnH "sport = :$PORT" | grep -q "127.0.0.1:$PORT"
	# the port is taken now: a second one fails as a system error
	run -111 fpm-spawn -a 127.0.0.1 -p "$PORT" -- "$WORKER"
	[[ $output == "fpm-spawn: fatal: unable to bind 127.0.0.1:$PORT: Address already in use" ]]
	kill_tracked_now
	wait_for 5 eval "! ss -ltnH 'sport = :$PORT' | grep -q ."
	spawn -a 127.0.0.1 -p "$PORT" -- "$WORKER"
	run -0 fcgi "127.0.0.1:$PORT" pid=1
	[[ $output == *"pid=${PIDS[0]}"* ]]
}

# stop what this test started so far (teardown does it again, harmlessly)
kill_tracked_now() {
	local p
	for p in "${TEST_PIDS[@]}"; do
		kill -TERM "$p" 2>/dev/null || true
	done
	for p in "${TEST_PIDS[@]}"; do
		wait_for 5 pid_gone "$p"
	done
	TEST_PIDS=()
}

@test "fpm-spawn: a live unix socket is refused" {
	spawn -s "$SOCK" -- "$WORKER"
	run -111 fpm-spawn -s "$SOCK" -- "$WORKER"
	[[ $output == "fpm-spawn: fatal: unable to bind $SOCK: another process is listening there" ]]
	# and the first one still serves
	run -0 fcgi "$SOCK" pid=1
	[[ $output == *"pid=${PIDS[0]}"* ]]
}

@test "fpm-spawn: a stale socket file is replaced" {
	bg -s "$SOCK" -- "$WORKER"
	wait_for 5 test -S "$SOCK"
	kill -KILL "$BG"
	wait "$BG" || true
	[[ -S $SOCK ]]
	run ! fcgi "$SOCK" pid=1
	spawn -s "$SOCK" -- "$WORKER"
	run -0 fcgi "$SOCK" pid=1
	[[ $output == *"pid=${PIDS[0]}"* ]]
}

@test "fpm-spawn: a file that is not a socket is left alone" {
	echo keep >"$SOCK"
	run -111 fpm-spawn -s "$SOCK" -- "$WORKER"
	[[ $output == "fpm-spawn: fatal: unable to bind $SOCK: File exists" ]]
	[[ $(cat "$SOCK") == keep ]]
}

@test "fpm-spawn: a missing program exits 127, a non-executable one 126" {
	run -127 fpm-spawn -s "$SOCK" -- /nonexistent/prog
	[[ $output == "fpm-spawn: fatal: unable to exec /nonexistent/prog: No such file or directory" ]]
	run -127 fpm-spawn -s "$SOCK" -- no-such-program-xyz
	[[ $output == "fpm-spawn: fatal: unable to exec no-such-program-xyz: No such file or directory" ]]
	run -127 fpm-spawn -n -s "$SOCK" -- /nonexistent/prog
	[[ $output == "fpm-spawn: fatal: unable to exec /nonexistent/prog: No such file or directory" ]]
	printf 'data\n' >"$D/data"
	chmod 644 "$D/data"
	run -126 fpm-spawn -s "$SOCK" -- "$D/data"
	[[ $output == "fpm-spawn: fatal: unable to exec $D/data: Permission denied" ]]
	run -126 fpm-spawn -n -s "$SOCK" -- "$D/data"
	[[ $output == "fpm-spawn: fatal: unable to exec $D/data: Permission denied" ]]
}

@test "fpm-spawn: a failed step before exec exits 111" {
	run -111 fpm-spawn -s "$SOCK" -d "$D/nope" -- "$WORKER"
	[[ $output == "fpm-spawn: fatal: unable to chdir to $D/nope: No such file or directory" ]]
}

@test "fpm-spawn: --env, --clear-env and -C reach the program" {
	FOO=outer KEEP=me spawn -s "$SOCK" -e FOO=bar -e NEW=1 -C 4 -- "$WORKER"
	run -0 fcgi "$SOCK" env=FOO,env=NEW,env=KEEP,env=PHP_FCGI_CHILDREN
	[[ $output == *"env FOO=bar"* && $output == *"env NEW=1"* ]]
	[[ $output == *"env KEEP=me"* && $output == *"env PHP_FCGI_CHILDREN=4"* ]]
	run -0 fpm-spawn -n -s "$D/t" -E -e A=1 -e B=x=y -- /usr/bin/env
	[[ $output == $'A=1\nB=x=y' ]]
}

@test "fpm-spawn: --rlimit-files, --rlimit-core and --nice" {
	spawn -s "$SOCK" -f 123 -k 0 -N 5 -- "$WORKER"
	grep -Eq '^Max open files +123 +123 ' "/proc/${PIDS[0]}/limits"
	grep -Eq '^Max core file size +0 +0 ' "/proc/${PIDS[0]}/limits"
	# field 19 of stat is the nice value (comm has no spaces here)
	[[ $(cut -d' ' -f19 "/proc/${PIDS[0]}/stat") == 5 ]]
	run -0 fpm-spawn -n -s "$D/t" -k unlimited -- grep 'core file' /proc/self/limits
	[[ $output =~ unlimited\ +unlimited ]]
	run -0 fpm-spawn -n -s "$D/t" -k 1m -- grep 'core file' /proc/self/limits
	[[ $output =~ 1048576\ +1048576 ]]
}

@test "fpm-spawn: -d changes directory" {
	spawn -s "$SOCK" -d "$D" -- "$WORKER"
	run -0 fcgi "$SOCK" who=1
	[[ $output == *"cwd=$D"* ]]
}

@test "fpm-spawn: -u drops privileges for real (root)" {
	need_root
	spawn -s "$SOCK" -u nobody -d "$D" -- "$WORKER"
	grep -Eq $'^Uid:\t65534\t65534\t65534\t65534$' "/proc/${PIDS[0]}/status"
	grep -Eq $'^Gid:\t65534\t65534\t65534\t65534$' "/proc/${PIDS[0]}/status"
	grep -Eq $'^Groups:\t65534 ?$' "/proc/${PIDS[0]}/status"
	# the socket stays root's: the web server, not the worker, owns access
	[[ $(stat -c %U "$SOCK") == root ]]
	run -0 fcgi "$SOCK" who=1
	[[ $output == *"uid=65534 gid=65534 cwd=$D"* ]]
	spawn -s "$D/g" -u nobody -g 4242 -- "$WORKER"
	run -0 fcgi "$D/g" who=1
	[[ $output == *"uid=65534 gid=4242 "* ]]
}

@test "fpm-spawn: --user root is refused without -R (root)" {
	need_root
	run -100 fpm-spawn -s "$SOCK" -u root -- "$WORKER"
	[[ $output == "fpm-spawn: fatal: refusing to run as root (user 'root')" ]]
	run -100 fpm-spawn -s "$SOCK" -u nobody -g root -- "$WORKER"
	[[ $output == "fpm-spawn: fatal: refusing to run as root (user 'nobody', group 'root')" ]]
	run -100 fpm-spawn -s "$SOCK" -u no-such-user-xyz -- "$WORKER"
	[[ $output == "fpm-spawn: fatal: unknown user 'no-such-user-xyz'" ]]
	[[ ! -e $SOCK ]]
	spawn -s "$SOCK" -u root -R -- "$WORKER"
	run -0 fcgi "$SOCK" who=1
	[[ $output == *"uid=0 gid=0 "* ]]
}

@test "fpm-spawn: not root, -u is ignored with a warning and -c refused" {
	[[ $(id -u) != 0 ]] || command -v setpriv >/dev/null ||
		skip "needs setpriv to test as nobody"
	as_user test -x "$BUILDDIR/bin/fpm-spawn" ||
		skip "nobody cannot run $BUILDDIR/bin/fpm-spawn"
	mkdir -m 777 "$D/nb"
	run -0 as_user fpm-spawn -n -s "$D/nb/u" -u daemon -- id -u
	[[ ${lines[0]} == "fpm-spawn: warning: ignoring --user and --group: not running as root" ]]
	[[ ${lines[1]} == "$(as_user id -u)" ]]
	run -100 as_user fpm-spawn -s "$D/nb/c" -c / -- true
	[[ $output == "fpm-spawn: fatal: --chroot needs root" ]]
}

@test "fpm-spawn: -c chroots the worker (root)" {
	local lib f
	need_root
	mkdir "$D/root"
	cp "$BUILDDIR/tests/helpers/fcgi-testworker" "$D/root/"
	for lib in $(ldd "$BUILDDIR/tests/helpers/fcgi-testworker" |
	    grep -o '/[^ ]*'); do
		mkdir -p "$D/root${lib%/*}"
		cp -L "$lib" "$D/root$lib"
	done
	# sanitizer runtimes read /proc/self/maps
	if ldd "$D/root/fcgi-testworker" | grep -q libasan; then
		mkdir "$D/root/proc"
		mount -t proc proc "$D/root/proc" || skip "cannot mount /proc"
		f=1
	fi
	spawn -s "$SOCK" -c "$D/root" -u nobody -- /fcgi-testworker ||
		{ [[ -z $f ]] || umount "$D/root/proc"; false; }
	[[ $(readlink "/proc/${PIDS[0]}/root") == "$D/root" ]]
	# the socket was made outside, before the chroot
	[[ -S $SOCK && ! -e $D/root$SOCK ]]
	run -0 fcgi "$SOCK" who=1
	[[ -z $f ]] || { kill_tracked_now; umount "$D/root/proc"; }
	printf '%s\n' "$output" | grep -qx "uid=65534 gid=65534 cwd=/"
}

@test "fpm-spawn: -c with -d changes directory inside the chroot (root)" {
	need_root
	mkdir -p "$D/root/sub"
	run -127 fpm-spawn -s "$SOCK" -c "$D/root" -d /sub -- /bin/sh
	[[ $output == "fpm-spawn: fatal: unable to exec /bin/sh: No such file or directory" ]]
	run -111 fpm-spawn -s "$SOCK" -c "$D/root" -d /nope -- /bin/sh
	[[ $output == "fpm-spawn: fatal: unable to chdir to /nope: No such file or directory" ]]
}

@test "fpm-spawn: --listen-fds passes fd 3, LISTEN_FDS=1, LISTEN_PID" {
	run -0 fpm-spawn -n -L -s "$SOCK" -- sh -c \
	    'echo $LISTEN_FDS $LISTEN_PID $$; readlink /proc/$$/fd/3; ls /proc/$$/fd'
	read -r n lpid me <<<"${lines[0]}"
	[[ $n == 1 && $lpid == "$me" ]]
	[[ ${lines[1]} == socket:* ]]
	[[ ${lines[*]:2} == "0 1 2 3" ]]
	# in fork mode too
	spawn -L -s "$D/t" -- sh -c 'echo $LISTEN_FDS $LISTEN_PID $$ >'"$D/lf"
	wait_for 5 test -s "$D/lf"
	[[ $(cat "$D/lf") == "1 ${PIDS[0]} ${PIDS[0]}" ]]
}

@test "fpm-spawn: chained with --listen-fds, the inner one inherits" {
	run -0 --separate-stderr fpm-spawn -n -L -s "$SOCK" -- \
	    fpm-spawn -v -n -s "$SOCK" -- sh -c \
	    'readlink /proc/$$/fd/0; ls /proc/$$/fd; env | grep -c "^LISTEN_" || :'
	[[ $stderr == "fpm-spawn: info: using inherited socket fd=3, \"$SOCK\"" ]]
	[[ ${lines[0]} == socket:* ]]
	[[ ${lines[*]:1} == "0 1 2 0" ]]
	# a real worker behind the chain, serving as the same process
	bg -L -s "$SOCK" -- fpm-spawn -n -s "$SOCK" -- "$WORKER"
	wait_for 5 eval "fcgi '$SOCK' pid=1 | grep -q 'pid=$BG'"
}

@test "fpm-spawn: an inherited socket for another address is closed" {
	run -0 --separate-stderr fpm-spawn -n -L -s "$SOCK" -- \
	    fpm-spawn -n -s "$D/other" -- sh -c \
	    'ls /proc/$$/fd; env | grep -c "^LISTEN_" || :'
	[[ ${lines[*]} == "0 1 2 0" ]]
	[[ -S $D/other ]]
}

@test "fpm-spawn: a socket inherited through FPM_SOCKETS is used" {
	# the outer one puts the socket on fd 0; sh copies it to fd 5
	run -0 --separate-stderr fpm-spawn -n -s "$SOCK" -- sh -c \
	    'readlink /proc/$$/fd/0; exec 5<&0 0</dev/null;
	    FPM_SOCKETS='"$SOCK"'=5 exec fpm-spawn -v -n -s '"$SOCK"' -- \
	    sh -c "readlink /proc/\$\$/fd/0; ls /proc/\$\$/fd; echo \${FPM_SOCKETS-unset}"'
	[[ $stderr == "fpm-spawn: info: using inherited socket fd=5, \"$SOCK\"" ]]
	[[ ${lines[0]} == socket:* && ${lines[1]} == "${lines[0]}" ]]
	[[ ${lines[*]:2} == "0 1 2 unset" ]]
}

@test "fpm-spawn: replaces spawn-fcgi for php-cgi behind nginx" {
	command -v php-cgi >/dev/null || skip "no php-cgi"
	mkdir -p "$BATS_TEST_TMPDIR/nginx/html"
	echo '<?php echo "php ", getenv("FOO"), " ", php_sapi_name(), " ", getmypid(), "\n";' \
	    >"$BATS_TEST_TMPDIR/nginx/html/index.php"
	spawn -s "$SOCK" -M 0600 -C 2 -e FOO=bar -P "$D/pid" -- /usr/bin/php-cgi
	nginx_start "unix:$SOCK"
	run -0 http_get /index.php
	[[ $output == 200 ]]
	read -r word foo sapi pid <"$BATS_TEST_TMPDIR/body"
	[[ "$word $foo $sapi" == "php bar cgi-fcgi" ]]
	# PHP_FCGI_CHILDREN=2: php-cgi's own children serve (the second may
	# be forked after the first served)
	[[ $(ps -o ppid= -p "$pid") -eq ${PIDS[0]} ]]
	wait_for 5 eval '[[ $(pgrep -c -P "${PIDS[0]}") == 2 ]]'
	run -0 http_get /missing.php
	[[ $output == 404 ]]
}

@test "fpm-spawn: fcgiwrap runs CGI scripts as nobody (root)" {
	need_root
	command -v fcgiwrap >/dev/null || [[ -x /usr/sbin/fcgiwrap ]] ||
		skip "no fcgiwrap"
	printf '#!/bin/sh\necho "Content-Type: text/plain"\necho\necho "cgi $QUERY_STRING $(id -u)"\n' \
	    >"$D/h.cgi"
	chmod 755 "$D/h.cgi"
	spawn -s "$SOCK" -u nobody -- /usr/sbin/fcgiwrap
	SCRIPT=$D/h.cgi run -0 fcgi "$SOCK" a=1
	[[ $output == *"cgi a=1 65534"* ]]
}
