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
	# --watch draws in them when not on a terminal
	unset LINES COLUMNS
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

# figures_seen FILE: --watch showed a worker row and a pool row with
# requests per second, CPU and memory (PID STATE REQS REQ/S CPU% RSS ...;
# pool REQS REQ/S CPU% RSS), each above 0
figures_seen() {
	awk '$1 ~ /^[0-9]+$/ && $4 + 0 > 0 && $5 + 0 > 0 &&
	    $6 ~ /^[0-9.]+[KMGTP]$/ { w = 1 }
	    $1 == "pool" && NF == 5 && $3 + 0 > 0 && $4 + 0 > 0 &&
	    $5 ~ /^[0-9.]+[KMGTP]$/ { p = 1 }
	    END { exit !(w && p) }' "$1"
}

# footer_is FILE TEXT: the last "lines A-B of N" --watch printed is TEXT
footer_is() {
	[[ $(grep -ao 'lines [0-9]*-[0-9]* of [0-9]*' "$1" | tail -n 1) == "$2" ]]
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
	run -100 fpm-status -n 2
	[[ ${lines[0]} == "fpm-status: usage: --count goes with --watch" ]]
	run -100 fpm-status -w 1 -n 0
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
	grep -qxE ' +PID STATE +REQS REQ/S +CPU% +RSS +TIME METHOD URI' "$D/watch"
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

@test "fpm-status: --watch shows request rate, CPU and memory per worker and pool" {
	local pid load l pool wpid cpu rss sum=0
	start
	fpm-status -s "$CTL" -p www -w 200ms >"$D/watch" 2>"$D/watch.err" &
	pid=$!
	track_pid "$pid"
	wait_for 10 views 1 "$D/watch"
	# the first view has nothing to compare with: no rate or CPU yet
	sed -n '3,4p' "$D/watch" | grep -qE '^ +pool +0 +- +- +[0-9.]+[KMG]$'
	# 40 requests of 50 ms of CPU each
	(for i in $(seq 40); do
		fcgi-client -s "$D/www.sock" -t 20000 \
		    -p QUERY_STRING=burn=50 >/dev/null || exit 1
	done) &
	load=$!
	track_pid "$load"
	wait_for 30 figures_seen "$D/watch"
	wait "$load"
	kill -INT "$pid"
	wait "$pid"
	[[ ! -s $D/watch.err ]]
	# the figures come from the supervisor: CPU time and resident set
	run -0 sh -c "echo 'workers www' | socat - UNIX-CONNECT:'$CTL'"
	[[ ${lines[0]} == ok && ${#lines[@]} == 3 ]]
	for l in "${lines[@]:1}"; do
		read -r pool wpid cpu rss <<<"$l"
		[[ $pool == www ]]
		(( rss == $(cut -d' ' -f2 "/proc/$wpid/statm") * $(getconf PAGESIZE) ))
		sum=$((sum + cpu))
	done
	(( sum >= 1000 ))
	run -0 sh -c "echo 'workers nope' | socat - UNIX-CONNECT:'$CTL'"
	[[ $output == "error 1 no pool 'nope'" ]]
}

@test "fpm-status: --watch shows what fits in LINES and says what is left" {
	start
	# 8 lines of pools and workers; title, heads and the last line fixed
	run -0 env LINES=6 fpm-status -s "$CTL" -w 100ms -n 1
	[[ ${#lines[@]} == 6 ]]
	[[ ${lines[2]} == "www dynamic  acc 0  queue 0/0  idle 2 act 0 tot 2  maxch 0  slow 0" ]]
	[[ ${lines[3]} == "   pool                 0     -     -"* ]]
	[[ ${lines[4]} =~ ^\ +[0-9]+\ Idle\  ]]
	[[ ${lines[5]} == "-- lines 1-3 of 8 --  5 more: a larger LINES, or --pool NAME" ]]
	# one pool fits
	run -0 env LINES=6 fpm-status -s "$CTL" -w 100ms -n 1 -p two
	[[ ${#lines[@]} == 5 && $output != *"-- lines"* ]]
	[[ ${lines[2]} == "two static  acc 0"* ]]
	# a wide terminal has room for the long pool line and the script
	run -0 env COLUMNS=120 fpm-status -s "$CTL" -w 100ms -n 2
	[[ $(grep -c '^fpm-status  ' <<<"$output") == 2 ]]
	[[ $output == *" METHOD URI "*" SCRIPT"* ]]
	[[ $output == *"pool www [dynamic]  accepted 0  queue 0 (max 0)"* ]]
	[[ $output != *"-- lines"* ]]
}

@test "fpm-status: --watch pages a short terminal with space and b" {
	local pid
	start
	mkfifo "$D/keys"
	script -qfec "stty cols 80 rows 10; fpm-status -s '$CTL' -w 100ms" \
	    "$D/tty" <"$D/keys" >/dev/null 2>&1 &
	pid=$!
	track_pid "$pid"
	exec 5>"$D/keys"
	# 10 rows: title, heads, 6 of the 8 lines, what is left, one empty
	wait_for 10 grep -q -- '-- lines 1-6 of 8 --  space: next page  b: back  q: quit' "$D/tty"
	printf ' ' >&5
	wait_for 10 footer_is "$D/tty" 'lines 3-8 of 8'
	printf b >&5
	wait_for 10 footer_is "$D/tty" 'lines 1-6 of 8'
	printf q >&5
	wait_for 10 pid_gone "$pid"
	exec 5>&-
	wait "$pid"
}

@test "fpm-status: --watch cuts long paths with ..., never ~" {
	local long=/$(printf 'a%.0s' {1..70})
	start
	fcgi-client -s "$D/two.sock" -p "SCRIPT_NAME=$long/index.php" \
	    -p "SCRIPT_FILENAME=/srv/www$long/index.php" >/dev/null
	run -0 env COLUMNS=120 fpm-status -s "$CTL" -p two -w 100ms -n 1
	# the URI keeps its start, the script its end
	[[ $output =~ \ /aaaa+\.\.\.\ \.\.\.a+/index\.php ]]
	[[ $output != *"~"* ]]
}
