# SPDX-License-Identifier: ISC
# The CGI paths of a request as PHP-FPM 8.2 reads them: PATH_INFO left on
# SCRIPT_FILENAME, Apache's proxy: prefixes, security.limit_extensions on
# the script that would run, compared live with php-fpm8.2 where installed.

bats_require_minimum_version 1.5.0
load helpers/common
load helpers/supervise

setup() {
	D=$(short_tmpdir)
	chmod 755 "$D"		# workers run as nobody when we are root
	CONF=$D/fpm.conf
	SOCK=$D/www.sock
	LOG=$D/stderr
	WORKER=$BUILDDIR/tests/helpers/fcgi-testworker
	GLOBAL=
	APP=$D/app
	mkdir -p "$APP/upload" "$APP/sub"
	cp "$BATS_TEST_DIRNAME/fixtures/paths.php" "$APP/"
	cp "$BATS_TEST_DIRNAME/fixtures/paths.php" "$APP/upload/ok.php"
	cp "$BATS_TEST_DIRNAME/fixtures/paths.php" "$APP/.php"
	# an upload that PHP would run if it were taken for the script
	printf '<?php echo "EVIL RAN\\n";\n' >"$APP/upload/evil.jpg"
}

# php [POOL-LINE...]: a php-cgi pool
php() {
	command -v php-cgi >/dev/null || skip "no php-cgi"
	conf "command = $(command -v php-cgi)" \
	    "php_admin_value[expose_php] = Off" "$@"
	start
}

# raw SOCK [NAME=VALUE...]: a GET with these params; the whole answer,
# headers included (no CRs), then "stderr:" and what came as FCGI_STDERR.
raw() {
	local sock=$1 a args=()
	shift
	for a in "$@"; do
		args+=(-p "$a")
	done
	fcgi-client -s "$sock" -t 20000 -p REQUEST_METHOD=GET \
	    -p GATEWAY_INTERFACE=CGI/1.1 -p SERVER_PROTOCOL=HTTP/1.1 \
	    "${args[@]}" 2>"$D/raw.err" | tr -d '\r'
	echo "stderr:"
	cat "$D/raw.err"
}

# get SOCK [NAME=VALUE...]: raw's request; prints "status=N", then the
# body (PHP's "200" has no Status line).
get() {
	raw "$@" | awk '
		/^stderr:$/ { exit }
		!body && /^Status: / { status = $2 }
		!body && /^$/ { body = 1; print "status=" (status ? status : 200); next }
		body { print }'
}

@test "fpm-cgi: PATH_INFO left on SCRIPT_FILENAME (lighttpd) runs the script" {
	php
	run -0 get "$SOCK" "SCRIPT_FILENAME=$APP/paths.php/users/7" \
	    PATH_INFO=/users/7 SCRIPT_NAME=/paths.php "DOCUMENT_ROOT=$APP"
	[[ ${lines[0]} == status=200 ]]
	[[ " ${lines[*]} " == *" SCRIPT_FILENAME=$APP/paths.php "* ]]
	[[ " ${lines[*]} " == *" PATH_INFO=/users/7 "* ]]
	[[ " ${lines[*]} " == *" PATH_TRANSLATED=$APP/users/7 "* ]]
	run ! grep -q 'denied' "$LOG"
}

@test "fpm-cgi: Apache's proxy:fcgi:// and proxy:balancer:// prefixes are stripped" {
	php
	# SetHandler "proxy:unix:...|fcgi://localhost": the file walk split it
	run -0 get "$SOCK" "SCRIPT_FILENAME=proxy:fcgi://localhost$APP/paths.php" \
	    PATH_INFO=/users/7 SCRIPT_NAME=/paths.php "DOCUMENT_ROOT=$APP" \
	    "PATH_TRANSLATED=$APP/users/7"
	[[ ${lines[0]} == status=200 ]]
	[[ " ${lines[*]} " == *" SCRIPT_FILENAME=$APP/paths.php "* ]]
	[[ " ${lines[*]} " == *" PATH_INFO=/users/7 "* ]]
	[[ " ${lines[*]} " != *proxy:* ]]
	run -0 get "$SOCK" \
	    "SCRIPT_FILENAME=PROXY:Balancer://pool1$APP/paths.php?a=b" \
	    SCRIPT_NAME=/paths.php
	[[ ${lines[0]} == status=200 ]]
	[[ " ${lines[*]} " == *" SCRIPT_FILENAME=$APP/paths.php "* ]]
}

@test "fpm-cgi: Apache ProxyPassMatch: PATH_INFO split off SCRIPT_FILENAME as PHP-FPM does" {
	php
	run -0 get "$SOCK" \
	    "SCRIPT_FILENAME=proxy:fcgi://127.0.0.1:9000$APP/paths.php/users/7?x=1" \
	    SCRIPT_NAME=/paths.php/users/7 "DOCUMENT_ROOT=$APP/"
	[[ ${lines[0]} == status=200 ]]
	# what PHP-FPM 8.2 shows for it
	diff -u - <(printf '%s\n' "${lines[@]:1}") <<-EOF
		SCRIPT_FILENAME=$APP/paths.php
		SCRIPT_NAME=/paths.php
		PATH_INFO=/users/7
		PATH_TRANSLATED=$APP/users/7
		PHP_SELF=/paths.php/users/7
		ORIG_SCRIPT_FILENAME=$APP/paths.php/users/7
		ORIG_SCRIPT_NAME=/paths.php/users/7
	EOF
}

@test "fpm-cgi: an upload in the path is refused as PHP-FPM does: /upload/evil.jpg/x.php" {
	php
	run -0 get "$SOCK" "SCRIPT_FILENAME=$APP/upload/evil.jpg/x.php" \
	    SCRIPT_NAME=/upload/evil.jpg/x.php "DOCUMENT_ROOT=$APP"
	[[ ${lines[0]} == status=403 && ${lines[1]} == "Access denied." ]]
	grep -qF "ERROR: [pool www] Access to the script '$APP/upload/evil.jpg' has been denied (see security.limit_extensions)" "$LOG"
	# the other side: a PHP script with a PATH_INFO that looks like a jpg
	run -0 get "$SOCK" "SCRIPT_FILENAME=$APP/upload/ok.php/x.jpg" \
	    PATH_INFO=/x.jpg SCRIPT_NAME=/upload/ok.php
	[[ ${lines[0]} == status=200 ]]
	[[ " ${lines[*]} " == *" SCRIPT_FILENAME=$APP/upload/ok.php "* ]]
	[[ " ${lines[*]} " == *" PATH_INFO=/x.jpg "* ]]
	run ! grep -rq 'EVIL' "$D"/stderr
}

@test "fpm-cgi: PATH_TRANSLATED after a redirect is what php-cgi runs, and is checked" {
	php
	# mod_fastcgi's Action: php-cgi runs PATH_TRANSLATED when REDIRECT_URL
	# is set; PHP-FPM refuses an upload there, so do we
	run -0 get "$SOCK" "SCRIPT_FILENAME=$APP/paths.php" \
	    PATH_INFO=/upload/evil.jpg "PATH_TRANSLATED=$APP/upload/evil.jpg" \
	    REDIRECT_URL=/upload/evil.jpg SCRIPT_NAME=/paths.php
	[[ ${lines[0]} == status=403 && ${lines[1]} == "Access denied." ]]
	grep -qF "Access to the script '$APP/upload/evil.jpg' has been denied" "$LOG"
	run -0 get "$SOCK" "SCRIPT_FILENAME=$APP/paths.php" \
	    "PATH_TRANSLATED=$APP/upload/ok.php" REDIRECT_URL=/upload/ok.php \
	    SCRIPT_NAME=/paths.php
	[[ ${lines[0]} == status=200 ]]
}

@test "fpm-cgi: no script is PHP-FPM's 404 with \"Primary script unknown\"; a directory is refused" {
	php
	# PHP-FPM: 404 for a missing script whatever its name, its log line
	# to the web server, no worker taken
	run -0 raw "$SOCK" "SCRIPT_FILENAME=$APP/none.txt"
	[[ $output == "Status: 404 Not Found
Content-type: text/html; charset=UTF-8

File not found.
stderr:
Primary script unknown" ]]
	run -0 raw "$SOCK" "SCRIPT_NAME=/none.php"
	[[ ${lines[0]} == "Status: 404 Not Found" && ${lines[-1]} == "Primary script unknown" ]]
	status_has "max active processes: 0"
	run -0 get "$SOCK" "SCRIPT_FILENAME=$APP/none.txt"
	[[ ${lines[0]} == status=404 ]]
	run -0 get "$SOCK" "SCRIPT_FILENAME=$APP/upload/../paths.php"
	[[ ${lines[0]} == status=404 ]]
	# a directory is refused, as in PHP-FPM
	run -0 get "$SOCK" "SCRIPT_FILENAME=$APP/sub"
	[[ ${lines[0]} == status=403 ]]
}

@test "fpm-cgi: cgi.fix_pathinfo = 0 in the pool: no split, PATH_TRANSLATED is the script" {
	php "php_admin_flag[cgi.fix_pathinfo] = off"
	run -0 get "$SOCK" "SCRIPT_FILENAME=$APP/paths.php" \
	    "PATH_TRANSLATED=$APP/upload/evil.jpg" PATH_INFO=/upload/evil.jpg
	[[ ${lines[0]} == status=403 ]]
	run -0 get "$SOCK" "SCRIPT_FILENAME=$APP/paths.php/users/7" \
	    PATH_INFO=/users/7
	[[ ${lines[0]} == status=403 ]]
	run -0 get "$SOCK" "SCRIPT_FILENAME=$APP/paths.php"
	[[ ${lines[0]} == status=200 ]]
}

@test "fpm-cgi: any program gets SCRIPT_FILENAME without Apache's prefix, the rest untouched" {
	conf "pm.max_children = 1"
	start
	run -0 req echo=1 \
	    -p "SCRIPT_FILENAME=proxy:fcgi://localhost:9000/srv/cgi/x.cgi/a/b?c=d" \
	    -p SCRIPT_NAME=/x.cgi/a/b -p PATH_TRANSLATED=/srv/www/a/b
	[[ " ${lines[*]} " == *" SCRIPT_FILENAME=/srv/cgi/x.cgi/a/b "* ]]
	[[ " ${lines[*]} " == *" SCRIPT_NAME=/x.cgi/a/b "* ]]
	[[ " ${lines[*]} " == *" PATH_TRANSLATED=/srv/www/a/b "* ]]
	[[ " ${lines[*]} " != *PATH_INFO* && " ${lines[*]} " != *ORIG_* ]]
	run -0 req echo=1 -p "SCRIPT_FILENAME=proxy:balancer://b/srv/cgi/y.cgi"
	[[ " ${lines[*]} " == *" SCRIPT_FILENAME=/srv/cgi/y.cgi "* ]]
	# no prefix: not a byte changes
	run -0 req echo=1 -p "SCRIPT_FILENAME=/srv/cgi/z.cgi?x=proxy:fcgi://a/b"
	[[ " ${lines[*]} " == *" SCRIPT_FILENAME=/srv/cgi/z.cgi?x=proxy:fcgi://a/b "* ]]
}

# The requests of the live comparison, one a line, params split on '|'.
cases() {
	cat <<-EOF
		SCRIPT_FILENAME=$APP/paths.php|SCRIPT_NAME=/paths.php|DOCUMENT_ROOT=$APP
		SCRIPT_FILENAME=$APP/paths.php|PATH_INFO=/users/7|SCRIPT_NAME=/paths.php
		SCRIPT_FILENAME=$APP/paths.php/users/7|PATH_INFO=/users/7|SCRIPT_NAME=/paths.php|DOCUMENT_ROOT=$APP
		SCRIPT_FILENAME=$APP/paths.php/users/7|PATH_INFO=/users/7|SCRIPT_NAME=/paths.php
		SCRIPT_FILENAME=$APP/paths.php/|PATH_INFO=/|SCRIPT_NAME=/paths.php
		SCRIPT_FILENAME=proxy:fcgi://localhost$APP/paths.php|PATH_INFO=/users/7|PATH_TRANSLATED=$APP/users/7|SCRIPT_NAME=/paths.php|DOCUMENT_ROOT=$APP
		SCRIPT_FILENAME=proxy:fcgi://127.0.0.1:9000$APP/paths.php/users/7?a=b|SCRIPT_NAME=/paths.php/users/7|DOCUMENT_ROOT=$APP/
		SCRIPT_FILENAME=proxy:fcgi://127.0.0.1:9000$APP/paths.php/users/7|SCRIPT_NAME=/paths.php/users/7
		SCRIPT_FILENAME=PROXY:FCGI://h$APP/upload/ok.php/a/b|SCRIPT_NAME=/x|PATH_TRANSLATED=/t
		SCRIPT_FILENAME=proxy:balancer://pool$APP/paths.php/users/7|SCRIPT_NAME=/paths.php/users/7
		SCRIPT_FILENAME=proxy:fcgi://x$APP/paths.php/users/7|PATH_INFO=/other|SCRIPT_NAME=/paths.php
		SCRIPT_FILENAME=proxy:fcgi://x$APP/paths.php/users/7|PATH_INFO=/users/7|SCRIPT_NAME=/paths.php|DOCUMENT_ROOT=$APP
		SCRIPT_FILENAME=proxy:fcgi://x$APP/paths.php/u|PATH_INFO=/o|SCRIPT_NAME=/o
		SCRIPT_FILENAME=proxy:fcgi://x$APP/upload/evil.jpg/x.php|SCRIPT_NAME=/upload/evil.jpg/x.php
		SCRIPT_FILENAME=proxy:fcgi://localhost
		SCRIPT_FILENAME=$APP/upload/evil.jpg/x.php|SCRIPT_NAME=/upload/evil.jpg/x.php
		SCRIPT_FILENAME=$APP/paths.php|PATH_TRANSLATED=$APP/upload/evil.jpg|REDIRECT_URL=/e
		SCRIPT_FILENAME=$APP/upload|SCRIPT_NAME=/upload
		SCRIPT_FILENAME=$APP/.php
		SCRIPT_FILENAME=$APP/none.php
		SCRIPT_FILENAME=$APP/upload/../paths.php
		PATH_TRANSLATED=$APP/paths.php/a|PATH_INFO=/a
		SCRIPT_NAME=/paths.php|DOCUMENT_ROOT=$APP
		SCRIPT_FILENAME=$APP/none.php/a/b|PATH_INFO=/a/b
	EOF
}

@test "fpm-cgi: the same status and paths as PHP-FPM 8.2, request by request" {
	command -v php-fpm8.2 >/dev/null || skip "php-fpm8.2 is not installed"
	php
	cat >"$D/php-fpm.conf" <<-EOF
		[global]
		error_log = $D/php-fpm.log
		[www]
		listen = $D/php-fpm.sock
		pm = static
		pm.max_children = 1
		php_admin_value[expose_php] = Off
	EOF
	php-fpm8.2 -n -y "$D/php-fpm.conf" -F -R </dev/null >/dev/null 2>&1 3>&- &
	track_pid $!
	wait_for 10 test -S "$D/php-fpm.sock"
	local c rc=0 theirs ours
	while IFS= read -r c; do
		IFS='|' read -ra ps <<<"$c"
		# the whole answer, headers and what goes to FCGI_STDERR
		theirs=$(raw "$D/php-fpm.sock" "${ps[@]}")
		ours=$(raw "$SOCK" "${ps[@]}")
		if [[ $theirs != "$ours" ]]; then
			echo "# $c" >&2
			diff -u <(echo "$theirs") <(echo "$ours") >&2 || true
			rc=1
		fi
	done < <(cases)
	((rc == 0))
	run ! grep -rq 'EVIL' "$D"/stderr
}

@test "fpm-cgi: our answers for a PHP pool carry php-cgi's X-Powered-By as PHP-FPM's do" {
	command -v php-fpm8.2 >/dev/null || skip "php-fpm8.2 is not installed"
	php "php_admin_value[expose_php] = On" "ping.path = /ping"
	cat >"$D/php-fpm.conf" <<-EOF
		[global]
		error_log = $D/php-fpm.log
		[www]
		listen = $D/php-fpm.sock
		pm = static
		pm.max_children = 1
		ping.path = /ping
		php_admin_value[expose_php] = On
	EOF
	php-fpm8.2 -n -y "$D/php-fpm.conf" -F -R </dev/null >/dev/null 2>&1 3>&- &
	track_pid $!
	wait_for 10 test -S "$D/php-fpm.sock"
	# before php-cgi has answered, its version is not known here
	run -0 raw "$SOCK" SCRIPT_NAME=/ping
	[[ $output != *X-Powered-By* ]]
	run -0 raw "$SOCK" "SCRIPT_FILENAME=$APP/paths.php"
	version=$(php-cgi -v | sed -n '1s/^PHP \([^ ]*\) .*/\1/p')
	[[ ${lines[0]} == "X-Powered-By: PHP/$version" ]]
	local c rc=0 theirs ours
	for c in SCRIPT_NAME=/ping "SCRIPT_FILENAME=$APP/none.php" \
	    "SCRIPT_FILENAME=$APP/upload/evil.jpg"; do
		theirs=$(raw "$D/php-fpm.sock" "$c")
		ours=$(raw "$SOCK" "$c")
		if [[ $theirs != "$ours" ]]; then
			echo "# $c" >&2
			diff -u <(echo "$theirs") <(echo "$ours") >&2 || true
			rc=1
		fi
	done
	((rc == 0))
	[[ $ours == *"X-Powered-By: PHP/$version"* ]]
}
