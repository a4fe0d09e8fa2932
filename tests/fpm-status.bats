# SPDX-License-Identifier: ISC
# fpm-status, black-box: every format against PHP-FPM 8.2's pages (field
# names and order; values differ), pools, errors, and the --watch view.

bats_require_minimum_version 1.5.0
load helpers/common

setup() {
	D=$(short_tmpdir)
	chmod 755 "$D"		# workers run as nobody
	CONF=$D/fpm.conf
	CTL=$D/fpm.sock
	LOG=$D/stderr
	FIX=$TOP/tests/unit/status	# PHP-FPM's pages, headers first
	WORKER=$BUILDDIR/tests/helpers/fcgi-testworker
}

teardown() {
	kill_tracked
	if grep -sE 'AddressSanitizer|runtime error:' "$LOG"; then
		return 1
	fi
	rm -rf "$D"
}

# Pool www: dynamic with 2 workers, as in the fixtures; pool two: static 1.
conf() {
	cat >"$CONF" <<-EOF
	[global]
	runtime_dir = $D
	pid = $D/fpm.pid
	$*
	[www]
	user = nobody
	listen = $D/www.sock
	command = $WORKER
	pm = dynamic
	pm.max_children = 2
	pm.start_servers = 2
	pm.min_spare_servers = 1
	pm.max_spare_servers = 2
	[two]
	user = nobody
	listen = $D/two.sock
	command = $WORKER
	pm = static
	pm.max_children = 1
	EOF
}

start() {
	conf "$@"
	fpm-supervise -y "$CONF" </dev/null >/dev/null 2>"$LOG" 3>&- &
	track_pid $!
	wait_for 10 grep -q 'NOTICE: ready to handle connections' "$LOG"
	# both www workers up, so that the pages have two workers like the
	# fixtures
	wait_for 10 sh -c "fpm-ctl -s '$CTL' pools | tr -s ' ' | grep -q '^www dynamic .* 2 2 0 0$'"
}

# body FILE: a fixture's page without its response headers
body() {
	tr -d '\r' <"$1" | sed '1,/^$/d'
}

# views N FILE: FILE holds N views of --watch or more
views() {
	(($(grep -c 'fpm-status  ' "$2") >= $1))
}

# text keys with their padding: "pool:                 "
text_shape() {
	sed -E 's/^([^:]*:[ ]*).*/\1/'
}

@test "fpm-status: usage errors exit 100" {
	run -100 fpm-status --bogus
	[[ ${lines[0]} == "fpm-status: usage: --bogus: unknown option" ]]
	[[ ${lines[1]} == "Try 'fpm-status --help'." ]]
	run -100 fpm-status -F yaml
	[[ ${lines[0]} == "fpm-status: usage: --format: unknown format 'yaml'" ]]
	run -100 fpm-status www
	[[ ${lines[0]} == "fpm-status: usage: unexpected argument 'www'" ]]
	run -100 fpm-status -w 0
	run -100 fpm-status -w 1 -F json
	run -100 fpm-status -P "$D/fpm.pid" -y "$CONF"
	[[ ${lines[0]} == "fpm-status: usage: give only one of --fpm-config and --pid" ]]
	run -0 fpm-status --help
	[[ $output == *"--watch=DURATION"* ]]
}

@test "fpm-status: nobody listening is 111" {
	run -111 fpm-status -s "$CTL"
	[[ $output == "fpm-status: fatal: unable to connect to $CTL: No such file or directory" ]]
}

@test "fpm-status: text pages have PHP-FPM's fields, order and alignment" {
	start
	run -0 fpm-status -y "$CONF" -p www -f
	diff <(body "$FIX/status-full.txt" | text_shape) \
	    <(printf '%s\n' "$output" | text_shape)
	run -0 fpm-status -s "$CTL" --pool www
	diff <(body "$FIX/status-full.txt" | sed '/^$/,$d' | text_shape) \
	    <(printf '%s\n' "$output" | text_shape)
	# every pool, one page after the other
	run -0 fpm-status -s "$CTL"
	[[ $(printf '%s\n' "$output" | grep -c '^pool:') == 2 ]]
	[[ $output == *"pool:                 www"*"pool:                 two"* ]]
}

@test "fpm-status: json has PHP-FPM's keys; every pool is an array" {
	start
	run -0 fpm-status -s "$CTL" -p www -F json --full
	diff <(body "$FIX/status-full.json" |
	    jq -c '[keys_unsorted, (.processes[0] | keys_unsorted)]') \
	    <(printf '%s' "$output" |
	    jq -c '[keys_unsorted, (.processes[0] | keys_unsorted)]')
	run -0 fpm-status -s "$CTL" -F json
	[[ $(printf '%s' "$output" | jq -r '.[].pool' | xargs) == "www two" ]]
}

@test "fpm-status: xml and html have PHP-FPM's structure" {
	start
	run -0 fpm-status -s "$CTL" -p www -F xml -f
	diff <(body "$FIX/status-full.xml" | grep -o '<[^>]*>') \
	    <(printf '%s\n' "$output" | grep -o '<[^>]*>')
	printf '%s' "$output" | xmllint --noout -
	run -0 fpm-status -s "$CTL" -p www -F html -f
	diff <(body "$FIX/status-full.html" | grep -o '<[^>]*>') \
	    <(printf '%s\n' "$output" | grep -o '<[^>]*>')
	run -100 fpm-status -s "$CTL" -F xml
	[[ $output == "fpm-status: fatal: "*"one pool"* ]]
}

@test "fpm-status: openmetrics as PHP-FPM, prometheus for every pool" {
	start
	run -0 fpm-status -s "$CTL" -p www -F openmetrics
	diff <(body "$FIX/status-full.openmetrics" | sed -E 's/ [0-9.e+-]+$//') \
	    <(printf '%s\n' "$output" | sed -E 's/ [0-9.e+-]+$//')
	run -0 fpm-status -s "$CTL" -F prometheus
	[[ $output == *'{pool="www"'* && $output == *'{pool="two"'* ]]
	[[ ${lines[0]} == "# HELP "* ]]
}

@test "fpm-status: a pool that does not exist is a no (1)" {
	start
	run -1 fpm-status -s "$CTL" -p nope
	[[ $output == "fpm-status: fatal: no pool 'nope'" ]]
}

@test "fpm-status: --watch without a terminal prints the view each time" {
	local pid
	start
	fpm-status -s "$CTL" -w 100ms >"$D/watch" 2>"$D/watch.err" &
	pid=$!
	track_pid "$pid"
	wait_for 10 views 2 "$D/watch"
	kill -INT "$pid"
	wait "$pid"
	[[ ! -s $D/watch.err ]]
	! grep -q $'\033' "$D/watch"
	grep -qx 'www dynamic  acc 0  queue 0/0  idle 2 act 0 tot 2  maxch 0  slow 0' "$D/watch"
	grep -qE '^ +PID STATE +REQS +TIME METHOD URI +SCRIPT' "$D/watch"
	[[ $(grep -cE '^ +[0-9]+ Idle +0 ' "$D/watch") -ge 6 ]]
	(( $(wc -L <"$D/watch") <= 80 ))
}

@test "fpm-status: --watch fits the terminal and quits on q" {
	local pid
	start
	mkfifo "$D/keys"
	# script(1) gives fpm-status a 60x10 terminal; keys come from the fifo
	script -qfec "stty cols 60 rows 10; fpm-status -s '$CTL' -w 100ms" \
	    "$D/tty" <"$D/keys" >/dev/null 2>&1 &
	pid=$!
	track_pid "$pid"
	exec 5>"$D/keys"
	wait_for 10 views 2 "$D/tty"
	printf q >&5
	wait_for 10 pid_gone "$pid"
	exec 5>&-
	wait "$pid"
	# the alternate screen, and each line cut to 60 columns
	grep -q $'\033\\[?1049h' "$D/tty"
	grep -q $'\033\\[?1049l' "$D/tty"
	# (script(1) adds its own "Script started" lines to the file)
	run -1 grep -Ev '^Script |^.{0,60}$' <(sed -E \
	    $'s/\033\\[[?0-9;]*[a-zA-Z]//g; s/\r//g' "$D/tty")
	grep -q 'www dynamic  acc 0' "$D/tty"
}

@test "fpm-status: --watch shows an error and keeps going" {
	local pid
	fpm-status -s "$CTL" -w 100ms >"$D/watch" 2>&1 &
	pid=$!
	track_pid "$pid"
	wait_for 10 grep -q "^error: unable to connect to $CTL" "$D/watch"
	start
	wait_for 10 grep -q '^www dynamic ' "$D/watch"
	kill -TERM "$pid"
	wait "$pid"
}

@test "fpm-status: -y and -P accept only their own supervisor (100)" {
	start
	sed -e "s|^pid = .*|pid = $D/b.pid|" -e "s|^listen = $D/|listen = $D/b-|" \
	    "$CONF" >"$D/b.conf"
	fpm-supervise -y "$D/b.conf" </dev/null >/dev/null 2>"$D/b.stderr" 3>&- &
	track_pid $!
	wait_for 10 grep -q 'NOTICE: ready to handle connections' "$D/b.stderr"
	run -100 fpm-status -y "$CONF" -s "$D/b.sock"
	[[ $output == "fpm-status: fatal: another fpm-supervise answers on $D/b.sock: pid "*" runs $(realpath "$D/b.conf"), not $(realpath "$CONF")" ]]
	run -100 fpm-status -P "$D/fpm.pid" -s "$D/b.sock" -p www
	[[ $output == *"has the pidfile $(realpath "$D/b.pid"), not $(realpath "$D/fpm.pid")" ]]
	run -0 fpm-status -P "$D/b.pid" -p www
	[[ ${lines[0]} == "pool:                 www" ]]
	run -0 fpm-status -y "$CONF" -s "$CTL" -p www
	# the live view says so and keeps asking
	fpm-status -y "$CONF" -s "$D/b.sock" -w 100ms >"$D/watch" 2>&1 &
	track_pid $!
	wait_for 10 grep -q "^error: another fpm-supervise answers on $D/b.sock" "$D/watch"
}
