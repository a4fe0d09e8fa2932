# SPDX-License-Identifier: ISC
# fpm-slowlog: traces of native and PHP workers, and reports on slowlogs.

bats_require_minimum_version 1.5.0
load helpers/common

FIX=$TOP/tests/fixtures/slowlog
HEADER_RE='^\[[0-9]{2}-[A-Z][a-z]{2}-[0-9]{4} [0-9]{2}:[0-9]{2}:[0-9]{2}\]  \[pool [^]]+\] pid [0-9]+$'

setup() {
	export TZ=UTC
	SOCKDIR=
}

teardown() {
	kill_tracked
	[[ -z $SOCKDIR ]] || rm -rf "$SOCKDIR"
}

# start_stuck MODE [ARG]: run the stuck helper, wait until it is in place:
# "ready" is said before the stuck function is called, so past it asleep
# (sleep, read), or spinning for 3 clock ticks of CPU time (spin)
start_stuck() {
	local t0
	stuck "$@" >"$BATS_TEST_TMPDIR/stuck.out" 2>&1 &
	STUCK=$!
	track_pid "$STUCK"
	wait_for 5 grep -q ready "$BATS_TEST_TMPDIR/stuck.out"
	if [[ $1 == spin ]]; then
		t0=$(cpu_ticks "$STUCK")
		wait_for 5 eval '(($(cpu_ticks "$STUCK") >= t0 + 3))'
	else
		wait_for 5 in_state "$STUCK" S
	fi
}

# cpu_ticks PID: user + system CPU time of PID, in clock ticks.
cpu_ticks() {
	local stat
	stat=$(</proc/"$1"/stat)
	# fields 14 and 15; comm (field 2) may hold spaces, so cut after it
	set -- ${stat##*) }
	echo $((${12} + ${13}))
}

# in_state PID LETTERS: the process state is one of LETTERS (S, R, T...)
in_state() {
	local st
	st=$(ps -o stat= -p "$1") || return 1
	[[ $2 == *"${st:0:1}"* ]]
}

# frames FILE: the frame lines of the entries, addresses blanked
frames() {
	sed -n 's/^\[0x[0-9a-f]\{16\}\] /[ADDR] /p' "$1"
}

need_php82() {
	command -v php-cgi >/dev/null || skip "php-cgi is not installed"
	[[ $(php-cgi -v 2>/dev/null) == "PHP 8.2."* ]] ||
		skip "php-cgi is not PHP 8.2"
}

# the script of tests/fixtures/slowlog/php-fpm-8.2.log, all on line 1
write_deep_php() {
	mkdir -p "$1"
	printf '<?php function deep($n) { if ($n == 0) sleep(%s); else deep($n - 1); } deep(3);\n' \
	    "${2:-60}" >"$1/sleep.php"
}

@test "fpm-slowlog: no command is a usage error" {
	run -100 fpm-slowlog
	[[ "$output" == *"no command"* ]]
	[[ "$output" == *"Try 'fpm-slowlog --help'."* ]]
}

@test "fpm-slowlog: unknown command and bad options are usage errors" {
	run -100 fpm-slowlog frobnicate
	[[ "$output" == *"unknown command 'frobnicate'"* ]]
	run -100 fpm-slowlog trace
	[[ "$output" == *"--pid is required"* ]]
	run -100 fpm-slowlog trace --pid 1 --depth 0
	[[ "$output" == *"--depth: 0 is not in 1..1000"* ]]
	run -100 fpm-slowlog trace --pid abc
	[[ "$output" == *"--pid: 'abc' is invalid"* ]]
	run -100 fpm-slowlog report --format xml "$FIX/ours.log"
	[[ "$output" == *"--format: 'xml' is not text, json or tsv"* ]]
	run -100 fpm-slowlog report --since yesterday "$FIX/ours.log"
	[[ "$output" == *"--since: cannot parse 'yesterday'"* ]]
	run -100 fpm-slowlog report --bogus
	[[ "$output" == *"--bogus: unknown option"* ]]
}

@test "fpm-slowlog: --help and --version go to stdout" {
	run -0 --separate-stderr fpm-slowlog --version
	[[ "$output" == "fpm-slowlog "[0-9]* ]]
	run -0 --separate-stderr fpm-slowlog trace --help
	[[ "$output" == *"trace --pid PID"* ]]
	[[ "$output" == *"--depth=N"* ]]
	run -0 --separate-stderr fpm-slowlog report --help
	[[ "$output" == *"--folded"* ]]
}

@test "fpm-slowlog: trace of a process that is gone" {
	true &
	local p=$!
	wait "$p"
	run -111 fpm-slowlog trace --pid "$p"
	[[ "$output" == "fpm-slowlog: fatal: unable to trace pid $p: process gone" ]]
}

@test "fpm-slowlog: trace without permission says why" {
	command -v setpriv >/dev/null || skip "setpriv is not installed"
	[[ $(id -u) == 0 ]] || skip "needs root to drop to nobody"
	start_stuck sleep
	run -111 setpriv --reuid=65534 --regid=65534 --clear-groups \
	    "$BUILDDIR/bin/fpm-slowlog" trace --pid "$STUCK"
	[[ "$output" == *"unable to trace pid $STUCK: Operation not permitted ("*")"* ]]
	in_state "$STUCK" S
}

@test "fpm-slowlog: native frames name the function a C worker is stuck in" {
	start_stuck sleep
	run -0 --separate-stderr fpm-slowlog trace --pid "$STUCK" \
	    --pool www --script /srv/stuck
	[[ "${lines[0]}" =~ $HEADER_RE ]]
	[[ "${lines[0]}" == *"[pool www] pid $STUCK" ]]
	[[ "${lines[1]}" == "script_filename = /srv/stuck" ]]
	# -g: file:line; the callers follow in order
	[[ "$output" =~ \]\ fpm_test_stuck_here\(\)\ [^$'\n']*/tests/helpers/stuck\.c:[0-9]+ ]]
	[[ "$output" == *"fpm_test_stuck_here() "*"fpm_test_outer() "*"main() "* ]]
	# the worker runs on, not stopped
	in_state "$STUCK" S
}

@test "fpm-slowlog: a spinning worker, --depth and the entry's blank line" {
	start_stuck spin
	run -0 fpm-slowlog trace --pid "$STUCK" --depth 2 \
	    --output "$BATS_TEST_TMPDIR/slow.log"
	[[ -z "$output" ]]
	run -0 fpm-slowlog trace -p "$STUCK" -d 2 -o "$BATS_TEST_TMPDIR/slow.log"
	run -0 cat "$BATS_TEST_TMPDIR/slow.log"
	# appended: two entries, each a blank line, header, script, 2 frames
	[[ ${#lines[@]} -eq 8 ]]
	[[ "$(head -c1 "$BATS_TEST_TMPDIR/slow.log")" == "" ]]
	[[ "${lines[0]}" =~ $HEADER_RE ]]
	[[ "${lines[1]}" == "script_filename = unknown" ]]
	[[ "${lines[2]}" == *"] fpm_test_stuck_here() "*"stuck.c:"* ]]
	[[ "${lines[3]}" == *"] fpm_test_outer() "* ]]
	in_state "$STUCK" R
	run -0 fpm-slowlog report "$BATS_TEST_TMPDIR/slow.log"
	[[ "${lines[0]}" == "entries: 2 (complete 2, partial 0, corrupt 0)"* ]]
	# the same entries dated on fixed days, whatever today is
	for d in 01-Dec-2026 05-Dec-2026 09-Dec-2026 31-Dec-2026 01-Jan-2027; do
		sed "s/^\[[^]]*\]  \[pool/[$d 00:00:00]  [pool/" \
		    "$BATS_TEST_TMPDIR/slow.log"
	done >"$BATS_TEST_TMPDIR/fixed.log"
	run -0 fpm-slowlog report "$BATS_TEST_TMPDIR/fixed.log"
	[[ "${lines[0]}" == "entries: 10 (complete 10, partial 0, corrupt 0), other lines: 0, files: 1" ]]
}

@test "fpm-slowlog: a blocking read is not interrupted by a trace" {
	mkfifo "$BATS_TEST_TMPDIR/fifo"
	start_stuck read "$BATS_TEST_TMPDIR/fifo"
	wait_for 5 in_state "$STUCK" S
	run -0 fpm-slowlog trace --pid "$STUCK"
	[[ "$output" == *"fpm_test_stuck_here() "* ]]
	echo hello >"$BATS_TEST_TMPDIR/fifo"
	wait_for 5 pid_gone "$STUCK"
	run -0 wait "$STUCK"
	run -0 cat "$BATS_TEST_TMPDIR/stuck.out"
	[[ "$output" == *"read 6 bytes"* ]]
}

@test "fpm-slowlog: the php layout matches the installed php-dev headers" {
	command -v php-config >/dev/null || skip "php-dev is not installed"
	[[ $(php-config --version) == 8.2.* ]] || skip "php-dev is not 8.2"
	# shellcheck disable=SC2046
	cc -std=c11 -D_GNU_SOURCE $(php-config --includes) -I"$TOP" \
	    -o "$BATS_TEST_TMPDIR/zend-layout" "$FIX/zend-layout.c"
	run -0 "$BATS_TEST_TMPDIR/zend-layout"
	[[ "$output" == "API20220829,NTS" ]]
}

@test "fpm-slowlog: php-cgi frames are PHP-FPM's for the same script" {
	need_php82
	local www=$BATS_TEST_TMPDIR/www
	write_deep_php "$www"
	php-cgi -n -q "$www/sleep.php" &
	local php=$!
	track_pid "$php"
	wait_for 5 test -e "/proc/$php/status"
	# until PHP is inside sleep(), the stack is not there yet
	wait_for 5 sh -c "fpm-slowlog trace -p $php | grep -q 'sleep()'"
	run -0 fpm-slowlog trace --pid "$php" --pool www \
	    --output "$BATS_TEST_TMPDIR/slow.log"
	run -0 cat "$BATS_TEST_TMPDIR/slow.log"
	[[ "${lines[0]}" =~ $HEADER_RE ]]
	[[ "${lines[1]}" == "script_filename = $www/sleep.php" ]]
	# the fixture is PHP-FPM 8.2's entry for this script in another dir
	diff -u <(frames "$FIX/php-fpm-8.2.log" |
	    sed 's|/work/steering/bench/www/|WWW/|') \
	    <(frames "$BATS_TEST_TMPDIR/slow.log" | sed "s|$www/|WWW/|")
	in_state "$php" S
}

@test "fpm-slowlog: the same entry as PHP-FPM's own slowlog, live" {
	need_php82
	command -v php-fpm8.2 >/dev/null || skip "php-fpm8.2 is not installed"
	command -v cgi-fcgi >/dev/null || skip "cgi-fcgi is not installed"
	SOCKDIR=$(short_tmpdir)
	write_deep_php "$SOCKDIR" 30
	cat >"$SOCKDIR/fpm.conf" <<-EOF
		[global]
		error_log = $SOCKDIR/error.log
		[www]
		listen = $SOCKDIR/fpm.sock
		pm = static
		pm.max_children = 1
		slowlog = $SOCKDIR/php-fpm.slow.log
		request_slowlog_timeout = 1s
	EOF
	php-fpm8.2 -n -y "$SOCKDIR/fpm.conf" -F -R 2>/dev/null &
	track_pid $!
	wait_for 10 test -S "$SOCKDIR/fpm.sock"
	SCRIPT_FILENAME=$SOCKDIR/sleep.php REQUEST_METHOD=GET \
	    cgi-fcgi -bind -connect "$SOCKDIR/fpm.sock" >/dev/null &
	track_pid $!
	wait_for 10 grep -q "finished trace" "$SOCKDIR/error.log"
	local worker
	worker=$(awk '/\[pool www\] pid/ { print $NF }' "$SOCKDIR/php-fpm.slow.log")
	run -0 fpm-slowlog trace --pid "$worker" --pool www \
	    --output "$SOCKDIR/ours.slow.log"
	# the same frames, addresses included; the header differs in time only
	diff -u <(sed 1,2d "$SOCKDIR/php-fpm.slow.log") \
	    <(sed 1,2d "$SOCKDIR/ours.slow.log")
	diff -u <(sed -n 2p "$SOCKDIR/php-fpm.slow.log" | cut -c23-) \
	    <(sed -n 2p "$SOCKDIR/ours.slow.log" | cut -c23-)
}

@test "fpm-slowlog: another PHP build falls back to native frames and says so" {
	need_php82
	local www=$BATS_TEST_TMPDIR/www
	write_deep_php "$www"
	# same length, another ZEND_MODULE_BUILD_ID: a PHP we do not know
	sed 's/API20220829,NTS/API20990101,NTS/' "$(readlink -f "$(command -v php-cgi)")" \
	    >"$BATS_TEST_TMPDIR/php-cgi-x"
	chmod +x "$BATS_TEST_TMPDIR/php-cgi-x"
	"$BATS_TEST_TMPDIR/php-cgi-x" -n -q "$www/sleep.php" &
	local php=$!
	track_pid "$php"
	wait_for 5 sh -c "fpm-slowlog trace -p $php | grep -q 'nanosleep()'"
	run -0 fpm-slowlog trace --pid "$php" --script "$www/sleep.php"
	[[ "${lines[1]}" == "script_filename = $www/sleep.php" ]]
	[[ "${lines[2]}" == "+++ php frames unavailable: unknown php build API20990101,NTS (known: API20220829,NTS), native frames follow" ]]
	[[ "$output" == *"] execute_ex() $BATS_TEST_TMPDIR/php-cgi-x+0x"* ]]
	[[ "$output" != *"deep()"* ]]
}

@test "fpm-slowlog: report on PHP-FPM's slowlog" {
	run -0 fpm-slowlog report "$FIX/php-fpm-8.2.log"
	[[ "${lines[0]}" == "entries: 1 (complete 1, partial 0, corrupt 0), other lines: 0, files: 1" ]]
	[[ "$output" == *"      1  2026-11-25 08:33:05  2026-11-25 08:33:05  /work/steering/bench/www/sleep.php"* ]]
	[[ "$output" == *"/work/steering/bench/www/sleep.php: sleep() < deep() < deep()"* ]]
}

@test "fpm-slowlog: report groups ours and rotated .gz by script and top frames" {
	run -0 fpm-slowlog report "$FIX/ours.log" "$FIX/ours.log.1.gz"
	[[ "${lines[0]}" == "entries: 7 (complete 7, partial 0, corrupt 0), other lines: 0, files: 2" ]]
	[[ "${lines[3]}" == "      5  2026-11-24 23:59:58  2026-11-25 12:01:00  /srv/www/report.php" ]]
	[[ "$output" == *"      3  2026-11-24 23:59:58  2026-11-25 12:00:00  /srv/www/report.php: sleep() < inner() < outer()"* ]]
	[[ "$output" == *"      2  2026-11-25 10:05:00  2026-11-25 12:01:00  /srv/www/report.php: usleep() < export()"* ]]
	[[ "$output" == *"/srv/cgi/report.cgi: clock_nanosleep() < __nanosleep() < fpm_test_stuck_here()"* ]]
}

@test "fpm-slowlog: report --since and --until, json" {
	run -0 fpm-slowlog report --format json --since 2026-11-25 \
	    --until "25-Nov-2026 11:31:00" "$FIX/ours.log"
	[[ "$output" == '{"files":1,"entries":3,"complete":3,"partial":0,"corrupt":0,"other_lines":0,"top":3,"scripts":[{"script":"/srv/www/report.php","count":2,"first":"2026-11-25 10:00:01","last":"2026-11-25 10:05:00"},{"script":"/srv/api/index.php","count":1,'* ]]
	[[ "$output" == *'"frames":["curl_exec","fetch","[INCLUDE_OR_EVAL]"]'* ]]
	if command -v python3 >/dev/null; then
		python3 -m json.tool <<<"$output" >/dev/null
	fi
	run -0 fpm-slowlog report --format json --since "2026-11-25 12:00" \
	    "$FIX/ours.log"
	[[ "$output" == '{"files":1,"entries":0,'*'"scripts":[],"stacks":[]}' ]]
}

@test "fpm-slowlog: report json stays UTF-8 with a Latin-1 script path" {
	# tests/fuzz/corpus/slowlog_report/latin1-json
	printf '\n[25-Nov-2026 08:33:05]  [pool www] pid 1\nscript_filename = /srv/caf\351.php\n[0x00007f1bb1015230] f\303() /srv/caf\351.php:1\n' \
	    >"$BATS_TEST_TMPDIR/latin1.log"
	run -0 fpm-slowlog report --format json "$BATS_TEST_TMPDIR/latin1.log"
	[[ "$output" == *'"script":"/srv/caf\ufffd.php"'* ]]
	[[ "$output" == *'"frames":["f\ufffd"]'* ]]
	python3 -c 'import json, sys; json.load(sys.stdin.buffer)' <<<"$output"
	printf '\n[25-Nov-2026 08:33:05]  [pool www] pid 1\nscript_filename = /srv/caf\303\251.php\n' \
	    >"$BATS_TEST_TMPDIR/utf8.log"
	run -0 fpm-slowlog report --format json "$BATS_TEST_TMPDIR/utf8.log"
	[[ "$output" == *'"script":"/srv/café.php"'* ]]
}

@test "fpm-slowlog: report tsv with --top 1" {
	run -0 fpm-slowlog report --format tsv --top 1 "$FIX/ours.log" \
	    "$FIX/ours.log.1.gz"
	[[ "${lines[0]}" == $'kind\tcount\tfirst\tlast\tscript\tframes' ]]
	[[ "${lines[1]}" == $'script\t5\t2026-11-24 23:59:58\t2026-11-25 12:01:00\t/srv/www/report.php\t' ]]
	[[ "$output" == *$'\nstack\t3\t2026-11-24 23:59:58\t2026-11-25 12:00:00\t/srv/www/report.php\tsleep\n'* ]]
	[[ "$output" == *$'\nstack\t1\t2026-11-25 11:30:00\t2026-11-25 11:30:00\t/srv/api/index.php\tcurl_exec'* ]]
}

@test "fpm-slowlog: report --folded prints root-first stacks" {
	run -0 fpm-slowlog report --folded "$FIX/php-fpm-8.2.log" "$FIX/ours.log"
	[[ "$output" == *"/work/steering/bench/www/sleep.php;deep;deep;deep;deep;sleep 1"* ]]
	[[ "$output" == *"/srv/www/report.php;outer;inner;sleep 2"* ]]
	[[ "$output" == *"/srv/cgi/report.cgi;_start;main;fpm_test_outer;fpm_test_stuck_here;__nanosleep;clock_nanosleep 1"* ]]
	run -100 fpm-slowlog report --folded --format json "$FIX/ours.log"
}

@test "fpm-slowlog: corrupt and partial entries are counted, never fatal" {
	run -0 fpm-slowlog report "$FIX/corrupt.log"
	[[ "${lines[0]}" == "entries: 6 (complete 1, partial 2, corrupt 3), other lines: 2, files: 1" ]]
	[[ "$output" == *"/srv/www/report.php: sleep() < inner() < outer()"* ]]
	[[ "$output" == *"  unknown"* ]]
	# a .gz cut short: what was read counts, the rest is corrupt
	run -0 --separate-stderr fpm-slowlog report "$FIX/truncated.log.gz"
	[[ "${lines[0]}" == "entries: 2 (complete 1, partial 0, corrupt 1)"* ]]
	[[ "$stderr" == *"truncated.log.gz: unexpected end of file"* ]]
}

@test "fpm-slowlog: report reads the names trace writes from a hostile worker" {
	# a worker's memory names its functions: "() x" and "" (as "???")
	# are still frames (tests/fuzz/corpus/slowlog_trace/paren-name)
	printf '\n[25-Nov-2026 08:33:05]  [pool www] pid 1\nscript_filename = /srv/a.php\n[0x0000000000040000] () x() /srv/a.php:11\n[0x0000000000040100] ???() unknown:0\n[0x0000000000040200] ()() /srv/a.php:3\n' \
	    >"$BATS_TEST_TMPDIR/names.log"
	run -0 fpm-slowlog report --format tsv "$BATS_TEST_TMPDIR/names.log"
	[[ "${lines[1]}" == $'script\t1\t2026-11-25 08:33:05\t2026-11-25 08:33:05\t/srv/a.php\t' ]]
	[[ "${lines[2]}" == $'stack\t1\t2026-11-25 08:33:05\t2026-11-25 08:33:05\t/srv/a.php\t() x;???;()' ]]
	# a frame line without a name is not one
	printf '\n[25-Nov-2026 08:33:05]  [pool www] pid 1\n[0x0000000000040000] () /srv/a.php:1\n' \
	    >"$BATS_TEST_TMPDIR/noname.log"
	run -0 fpm-slowlog report "$BATS_TEST_TMPDIR/noname.log"
	[[ "${lines[0]}" == "entries: 1 (complete 0, partial 0, corrupt 1), other lines: 0, files: 1" ]]
}

@test "fpm-slowlog: report goes on past a missing file, then exits 111" {
	run -111 --separate-stderr fpm-slowlog report "$FIX/ours.log" \
	    "$BATS_TEST_TMPDIR/nonexistent"
	[[ "${lines[0]}" == "entries: 5 (complete 5, partial 0, corrupt 0), other lines: 0, files: 1" ]]
	[[ "$stderr" == *"fpm-slowlog: warning: unable to open $BATS_TEST_TMPDIR/nonexistent: No such file or directory"* ]]
}

@test "fpm-slowlog: report reads entries of every day, across month and year" {
	run -0 fpm-slowlog report "$FIX/days.log"
	[[ "${lines[0]}" == "entries: 13 (complete 13, partial 0, corrupt 0), other lines: 0, files: 1" ]]
	[[ "$output" == *"     13  2026-11-30 23:59:59  2027-01-01 00:00:01  /srv/www/cron.php"* ]]
	# days 01 to 09 of December, not the month before nor the 10th
	run -0 fpm-slowlog report --format tsv --since 2026-12-01 \
	    --until 2026-12-10 "$FIX/days.log"
	[[ "${lines[1]}" == $'script\t9\t2026-12-01 00:00:00\t2026-12-09 08:00:00\t/srv/www/cron.php\t' ]]
	run -0 fpm-slowlog report --format tsv --since "2026-12-31 23:00" \
	    "$FIX/days.log"
	[[ "${lines[1]}" == $'script\t2\t2026-12-31 23:59:59\t2027-01-01 00:00:01\t/srv/www/cron.php\t' ]]
}

@test "fpm-slowlog: report reads stdin" {
	run -0 sh -c "fpm-slowlog report < '$FIX/php-fpm-8.2.log'"
	[[ "${lines[0]}" == "entries: 1 (complete 1"* ]]
}
