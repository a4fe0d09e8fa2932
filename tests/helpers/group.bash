# SPDX-License-Identifier: ISC
# php.group suites share this, loaded after supervise.bash: php-cgi pools
# running tests/fixtures/fpm-group*.php, and requests to them one at a time
# or several that wait for each other.

# group_setup: supervise.bash's, the scripts in $APP, $W for the files
# they leave, $EXT, fpm.so as built or "no", and no $GROUP_LINES.
group_setup() {
	command -v php-cgi >/dev/null || skip "no php-cgi"
	supervise_setup
	APP=$D/app
	mkdir -p "$APP"
	cp "$BATS_TEST_DIRNAME"/fixtures/fpm-group*.php "$APP/"
	mkdir -m 1777 "$D/w"
	W=$D/w
	EXT=$BUILDDIR/php/fpm.so
	[[ -e $EXT ]] || EXT=no
	GROUP_LINES=()
}

setup() {
	group_setup
}

# group [POOL-LINE...]: start a php-cgi pool of 3 with $EXT (with fpm.so
# its php-cgi forks a child when asked), then $GROUP_LINES, a suite's own,
# then the lines given (a later directive wins)
group() {
	conf "command = $(command -v php-cgi)" "pm.max_children = 3" \
	    "php.extension = $EXT" "${GROUP_LINES[@]}" "$@"
	start
}

# g [-a] QUERY: "PID CACHED", the last line of one request to
# fpm-group.php; with -a, the whole response, headers and all
g() {
	local n=1

	if [[ $1 == -a ]]; then
		n=+1
		shift
	fi
	fcgi-client -s "$SOCK" -t 20000 -p REQUEST_METHOD=GET \
	    -p "SCRIPT_FILENAME=$APP/fpm-group.php" \
	    -p SCRIPT_NAME=/fpm-group.php -p "QUERY_STRING=$1" |
	    tr -d '\r' | tail -n "$n"
}

# at_once N: N requests that wait for each other, so N workers; their
# "PID CACHED" lines in $D/at_once, sorted
at_once() {
	local i pids=()
	rm -f "$W"/[0-9]*
	for ((i = 0; i < $1; i++)); do
		g "t=wait&d=$W&n=$1" >"$D/once.$i" &
		pids+=($!)
	done
	for i in "${pids[@]}"; do
		wait "$i"
	done
	cat "$D"/once.* | sort >"$D/at_once"
	rm -f "$D"/once.*
}

# kids PID: how many children PID has
kids() {
	wc -w <"/proc/$1/task/$1/children"
}

# total N: the status page counts N processes
total() {
	fcgi-client -s "$SOCK" -t 5000 -p SCRIPT_NAME=/status |
	    grep -q "total processes: *$1\$"
}
