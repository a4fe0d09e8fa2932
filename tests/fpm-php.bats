# SPDX-License-Identifier: ISC
# fpm.so (php/fpm.c) in php-cgi workers: fastcgi_finish_request() with
# "Finishing" in status, php_admin_value locked as PHP-FPM locks it, no
# PHP_FCGI_* in the script's environment; php.extension turns it off.

bats_require_minimum_version 1.5.0
load helpers/common
load helpers/supervise

setup() {
	D=$(short_tmpdir)
	chmod 755 "$D"		# workers run as nobody when we are root
	CONF=$D/fpm.conf
	SOCK=$D/www.sock
	LOG=$D/stderr
	GLOBAL=
	APP=$D/app
	mkdir -p "$APP"
	cp "$BATS_TEST_DIRNAME/fixtures/fpm-ext.php" "$APP/"
	mkdir -m 1777 "$D/w"
	W=$D/w
	EXT=$BUILDDIR/php/fpm.so
	WORKER=$BUILDDIR/tests/helpers/fcgi-testworker
}

# php [POOL-LINE...]: a php-cgi pool with the fpm.so just built
php() {
	command -v php-cgi >/dev/null || skip "no php-cgi"
	[[ -e $EXT ]] || { echo "$EXT not built" >&2; return 1; }
	conf "command = $(command -v php-cgi)" "php.extension = $EXT" \
	    "pm.max_children = 1" "$@"
	start
	# php.group: its php-cgi forks the worker after its own start
	wait_for 10 eval '[[ -n $(worker_pids) ]]'
}

# ext QUERY [fcgi-client ARG...]: a GET of fpm-ext.php?QUERY
ext() {
	local q=$1
	shift
	fcgi-client -s "$SOCK" -t 20000 -p REQUEST_METHOD=GET \
	    -p "SCRIPT_FILENAME=$APP/fpm-ext.php" -p SCRIPT_NAME=/fpm-ext.php \
	    -p "QUERY_STRING=$q" "$@" | tr -d '\r'
}

# state PID: PID's state on the full status page.
state() {
	fcgi-client -s "$SOCK" -t 5000 -p SCRIPT_NAME=/status \
	    -p QUERY_STRING=full | awk -v pid="$1" '
		$1 == "pid:" { p = $2 }
		$1 == "state:" && p == pid { print $2 }'
}

state_is() {
	[[ $(state "$1") == "$2" ]]
}

@test "fpm-php: fastcgi_finish_request() answers at once, the script runs on, Finishing meanwhile" {
	php "catch_workers_output = yes"
	pid=$(worker_pids)
	# the script waits for $W/go, which only comes after the answer
	run -0 ext "t=finish&d=$W"
	[[ $output == *answered* ]]
	[[ $output != *"printed after the end"* ]]
	[[ ! -e $W/done ]]
	state_is "$pid" Finishing
	status_has "active processes:     1"
	touch "$W/go"
	wait_for 10 test -e "$W/done"
	# true, then false (once only), and the request's parameters remain
	[[ $(cat "$W/done") == "true false t=finish&d=$W" ]]
	wait_for 5 state_is "$pid" Idle
	# what PHP logged after the end went to stderr, not onto the request
	wait_for 5 grep -q "child $(output_pid) said into stderr: \"NOTICE: PHP message: logged after the end\"" "$LOG"
	# and the worker serves on, on the same connection
	run -0 ext "t=fn"
	[[ $output == *"fastcgi_finish_request true"* ]]
	[[ $(worker_pids) == "$pid" ]]
}

@test "fpm-php: ini_set() fails on a php_admin_value, works on a php_value" {
	php "php_admin_value[memory_limit] = 96M" "php_value[precision] = 10" \
	    "php_admin_flag[log_errors] = on"
	# .user.ini cannot change it either
	printf 'memory_limit = 300M\n' >"$APP/.user.ini"
	run -0 ext "t=ini"
	[[ $output == *"memory_limit false 96M"* ]]
	[[ $output == *"precision '10' 5"* ]]
	grep -a -- '-d fpm.admin_values="memory_limit,log_errors"' \
	    <(tr '\0' ' ' </proc/"$(worker_pids)"/cmdline)
}

@test "fpm-php: no PHP_FCGI_* in \$_SERVER, \$_ENV or getenv()" {
	php "php_admin_value[variables_order] = EGPCS"
	for i in 1 2; do
		run -0 ext "t=env"
		[[ $output == *"env done"* ]]
		[[ $output != *PHP_FCGI_* ]]
	done
	# php-cgi read them all the same: they are in the worker's start
	grep -qa PHP_FCGI_MAX_REQUESTS=0 /proc/"$(worker_pids)"/environ
}

@test "fpm-php: php.extension = no leaves php-cgi as it is" {
	php "php.extension = no" "php_admin_value[memory_limit] = 96M"
	run -0 ext "t=fn"
	[[ $output == *"fastcgi_finish_request false"* ]]
	run -0 ext "t=ini"
	[[ $output == *"memory_limit '96M' 300M"* ]]
	run -0 ext "t=env"
	[[ $output == *"SERVER PHP_FCGI_CHILDREN"* ]]
}

@test "fpm-php: an unreadable php.extension is a configuration error" {
	command -v php-cgi >/dev/null || skip "no php-cgi"
	conf "command = $(command -v php-cgi)" "php.extension = $D/none.so"
	run -100 fpm-supervise -t -y "$CONF"
	[[ $output == *"fpm.conf:"*"[pool www] unable to read $D/none.so: No such file or directory"* ]]
	conf "command = $(command -v php-cgi)" "php.extension = fpm.so"
	run -100 fpm-supervise -t -y "$CONF"
	[[ $output == *"php.extension is 'no' or an absolute path"* ]]
}

@test "fpm-php: not a php-cgi worker, no extension; outside FastCGI, false" {
	conf "php.extension = $EXT" "pm.max_children = 1"
	start
	run -0 tr '\0' ' ' </proc/"$(worker_pids)"/cmdline
	[[ $output != *extension* ]]
	command -v php >/dev/null || skip "no php"
	run -0 command php -n -d "extension=$EXT" -r 'var_dump(fastcgi_finish_request());'
	[[ $output == "bool(false)" ]]
	# php-cgi run as a CGI program: no FastCGI request
	printf '<?php var_dump(fastcgi_finish_request());\n' >"$D/cgi.php"
	run -0 php-cgi -n -q -d "extension=$EXT" "$D/cgi.php"
	[[ $output == "bool(false)" ]]
}

@test "fpm-php: php.extension unset, fpm.so not installed: php-cgi as it is" {
	command -v php-cgi >/dev/null || skip "no php-cgi"
	# the default of a build with the default PREFIX
	[[ ! -e /usr/local/lib/fpm/fpm.so ]] || skip "fpm.so is installed"
	conf "command = $(command -v php-cgi)" "pm.max_children = 1"
	start
	wait_for 10 eval '[[ -n $(worker_pids) ]]'
	run -0 tr '\0' ' ' </proc/"$(worker_pids)"/cmdline
	[[ $output != *extension* ]]
	run -0 ext "t=fn"
	[[ $output == *"fastcgi_finish_request false"* ]]
}

@test "fpm-php: PHP's messages reach the web server and, with catch_workers_output, the log, as PHP-FPM writes them" {
	php "catch_workers_output = yes"
	run -0 --separate-stderr ext "t=log"
	[[ ${lines[-1]} == logged ]]
	# FCGI_STDERR, as nginx logs it from PHP-FPM
	[[ $stderr == *"PHP message: hello from error_log"* ]]
	[[ $stderr == *"PHP message: PHP Warning:  Undefined variable \$undefined_variable in $APP/fpm-ext.php on line "* ]]
	pid=$(output_pid)
	wait_for 5 grep -qF "WARNING: [pool www] child $pid said into stderr: \"NOTICE: PHP message: hello from error_log\"" "$LOG"
	wait_for 5 grep -qF "WARNING: [pool www] child $pid said into stderr: \"NOTICE: PHP message: PHP Warning:  Undefined variable \$undefined_variable in $APP/fpm-ext.php on line " "$LOG"
	# once each
	[[ $(grep -c "hello from error_log" "$LOG") == 1 ]]
}

# nocmd [POOL-LINE...]: the pool of conf() without its command line
nocmd() {
	conf "$@"
	sed -i '/^command = /d' "$CONF"
}

@test "fpm-php: a pool without command runs php-cgi from PATH, the newest php-cgiX.Y when there is no php-cgi" {
	mkdir "$D/bin"
	for v in 7.4 8.3 8.10; do
		printf '#!/bin/sh\n' >"$D/bin/php-cgi$v"
		chmod 755 "$D/bin/php-cgi$v"
	done
	nocmd
	PATH=$D/bin:$PATH run -0 fpm-supervise -tt -y "$CONF"
	[[ $output == *"command = $D/bin/php-cgi8.10"* ]]
	cp "$D/bin/php-cgi7.4" "$D/bin/php-cgi"
	PATH=$D/bin:$PATH run -0 fpm-supervise -tt -y "$CONF"
	[[ $output == *"command = $D/bin/php-cgi"$'\n'* ]]
	# none at all
	rm "$D"/bin/*
	PATH=$D/bin run -100 "$BUILDDIR/bin/fpm-supervise" -t -y "$CONF"
	[[ $output == *"[pool www] 'command' is not set and no php-cgi is on PATH"* ]]
}

@test "fpm-php: PHP-FPM's own pool file loads unchanged and runs that PHP's php-cgi" {
	local f
	f=$(ls /etc/php/*/fpm/pool.d/www.conf 2>/dev/null | head -1)
	[[ -n $f ]] || skip "no PHP-FPM pool file"
	v=${f#/etc/php/}
	v=${v%%/*}
	[[ -x /usr/bin/php-cgi$v ]] || skip "no php-cgi$v"
	printf '[global]\npid = %s\ninclude = %s\n' "$D/fpm.pid" "$f" >"$CONF"
	run -0 fpm-supervise -tt -y "$CONF"
	[[ $output == *"command = /usr/bin/php-cgi$v"* ]]
	# and a copy of it, moved to our socket, serves PHP
	sed "s|^listen = .*|listen = $SOCK|; s|^user = .*|user = nobody|; s|^group = .*|group = nogroup|" "$f" >"$D/www.conf"
	printf '[global]\npid = %s\nruntime_dir = %s\ninclude = %s\n' \
	    "$D/fpm.pid" "$D" "$D/www.conf" >"$CONF"
	start
	run -0 ext "t=fn"
	[[ $output == *"fastcgi_finish_request"* ]]
}

@test "fpm-php: php.ini is passed as -c, for php-cgi workers only" {
	command -v php-cgi >/dev/null || skip "no php-cgi"
	printf 'memory_limit = 77M\n' >"$D/php.ini"
	printf '<?php echo php_ini_loaded_file(), " ", ini_get("memory_limit"), "\\n";\n' >"$APP/ini.php"
	php "php.ini = $D/php.ini"
	run -0 fcgi-client -s "$SOCK" -t 20000 -p REQUEST_METHOD=GET \
	    -p "SCRIPT_FILENAME=$APP/ini.php" -p SCRIPT_NAME=/ini.php
	[[ $output == *"$D/php.ini 77M"* ]]
	conf "php.ini = $D/php.ini"
	run -100 fpm-supervise -t -y "$CONF"
	[[ $output == *"[pool www] php.ini is only for php-cgi workers"* ]]
}
