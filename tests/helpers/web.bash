# SPDX-License-Identifier: ISC
# Apache httpd, lighttpd or Caddy (Debian's apache2, lighttpd and caddy) in
# front of a FastCGI socket, each with its documented PHP setup and run as
# the test's own process on 127.0.0.1: web_start, web_stop, web_get.

APACHE_BIN=${APACHE_BIN:-/usr/sbin/apache2}
APACHE_MODULES=${APACHE_MODULES:-/usr/lib/apache2/modules}
LIGHTTPD_BIN=${LIGHTTPD_BIN:-/usr/sbin/lighttpd}
CADDY_BIN=${CADDY_BIN:-/usr/bin/caddy}

# web_need KIND: skip the test when KIND's server is not installed.
web_need() {
	local bin

	case $1 in
	apache) bin=$APACHE_BIN ;;
	lighttpd) bin=$LIGHTTPD_BIN ;;
	caddy) bin=$CADDY_BIN ;;
	esac
	[[ -x $bin ]] || skip "$1 is not installed ($bin; scripts/install-deps)"
}

# web_start KIND SOCK DIR: KIND (apache, lighttpd, caddy) on a free port of
# 127.0.0.1, serving DIR/html, passing .php to the FastCGI unix socket SOCK.
# DIR must be searchable by nobody: Apache, started as root, serves as
# nobody.  Sets WEB_PID, WEB_PORT, WEB_DIR and WEB_ROOT (the docroot).
web_start() {
	local kind=$1 sock=$2 dir=$3 try port deadline

	mkdir -p "$dir/html" "$dir/tmp" "$dir/run"
	for try in 1 2 3 4 5 6 7 8 9 10; do
		port=$((20000 + RANDOM % 40001))
		if ss -ltnH "sport = :$port" 2>/dev/null | grep -q .; then
			continue
		fi
		: >"$dir/error.log"
		"_web_conf_$kind" "$dir" "$port" "$sock" >"$dir/$kind.conf"
		# the subshell execs: WEB_PID is the server itself
		(cd "$dir" && export HOME=$dir XDG_DATA_HOME=$dir/tmp \
		    XDG_CONFIG_HOME=$dir/tmp && "_web_run_$kind" "$dir") \
		    </dev/null >"$dir/stdout" 2>&1 3>&- &
		WEB_PID=$!
		deadline=$(($(date +%s%N) + 10000000000))
		while (($(date +%s%N) < deadline)); do
			if ! kill -0 "$WEB_PID" 2>/dev/null; then
				# its status, not ours: set -e must not end the
				# retries on another port here
				wait "$WEB_PID" 2>/dev/null || true
				break
			fi
			if ss -ltnH "sport = :$port" 2>/dev/null | grep -q .; then
				export WEB_PID WEB_PORT=$port WEB_DIR=$dir \
				    WEB_ROOT=$dir/html
				return 0
			fi
			sleep 0.05
		done
		if kill -0 "$WEB_PID" 2>/dev/null; then
			echo "web_start: $kind did not listen on $port" >&2
			web_stop
			return 1
		fi
		if ! grep -qi 'address already in use' "$dir/error.log" \
		    "$dir/stdout"; then
			echo "web_start: $kind failed:" >&2
			cat "$dir/stdout" "$dir/error.log" >&2
			unset WEB_PID
			return 1
		fi
	done
	echo "web_start: no free port found" >&2
	unset WEB_PID
	return 1
}

# The commands, run in DIR with a private HOME; each stays in the
# foreground as one process, so that its pid is the server's.
_web_run_apache() {
	exec "$APACHE_BIN" -X -d "$1" -f "$1/apache.conf"
}

_web_run_lighttpd() {
	exec "$LIGHTTPD_BIN" -D -f "$1/lighttpd.conf"
}

_web_run_caddy() {
	exec "$CADDY_BIN" run --adapter caddyfile --config "$1/caddy.conf"
}

# Apache with mod_proxy_fcgi, the handler as the guides (and Debian's
# php8.2-fpm.conf) write it.  -X: one process; root's children would run
# as nobody, and so does this one.
_web_conf_apache() {
	local dir=$1 port=$2 sock=$3 m

	for m in mpm_prefork authz_core mime proxy proxy_fcgi; do
		echo "LoadModule ${m}_module $APACHE_MODULES/mod_$m.so"
	done
	cat <<EOF
ServerRoot "$dir"
ServerName localhost
Listen 127.0.0.1:$port
User nobody
Group nogroup
PidFile "$dir/run/apache.pid"
DefaultRuntimeDir "$dir/run"
Mutex file:$dir/run default
ErrorLog "$dir/error.log"
LogLevel warn
TypesConfig /dev/null
DocumentRoot "$dir/html"
<Directory "$dir/html">
	Require all granted
</Directory>
EOF
	# or, with APACHE_PASSMATCH=1, the older recipe: the regex alone picks
	# what goes to PHP, and SCRIPT_FILENAME carries the PATH_INFO
	if [[ ${APACHE_PASSMATCH:-0} == 1 ]]; then
		printf 'ProxyPassMatch "^/(.*\\.php(/.*)?)$" "%s"\n' \
		    "unix:$sock|fcgi://localhost$dir/html/\$1"
	else
		cat <<EOF
<FilesMatch ".+\.ph(?:ar|p|tml)$">
	SetHandler "proxy:unix:$sock|fcgi://localhost"
</FilesMatch>
EOF
	fi
}

# lighttpd's mod_fastcgi as its documentation and Debian's
# 15-fastcgi-php.conf set it up for PHP, to a socket already there.
_web_conf_lighttpd() {
	local dir=$1 port=$2 sock=$3

	cat <<EOF
server.modules = ( "mod_fastcgi" )
server.bind = "127.0.0.1"
server.port = $port
server.document-root = "$dir/html"
server.errorlog = "$dir/error.log"
server.upload-dirs = ( "$dir/tmp" )
index-file.names = ( "index.php" )
fastcgi.server = ( ".php" => ((
	"socket" => "$sock",
	"broken-scriptfilename" => "enable"
)))
EOF
}

# Caddy's php_fastcgi, nothing beside it: no admin endpoint, no HTTPS.
_web_conf_caddy() {
	local dir=$1 port=$2 sock=$3

	cat <<EOF
{
	admin off
	auto_https off
	storage file_system $dir/tmp
	log {
		output file $dir/error.log
	}
}
http://127.0.0.1:$port {
	bind 127.0.0.1
	root * $dir/html
	php_fastcgi unix/$sock
}
EOF
}

# web_stop: stop the server that web_start started, and only that one.
web_stop() {
	local deadline

	[[ -n ${WEB_PID:-} ]] || return 0
	kill -TERM "$WEB_PID" 2>/dev/null || true
	# our child: wait reaps it; otherwise poll, then insist
	if ! wait "$WEB_PID" 2>/dev/null; then
		deadline=$(($(date +%s%N) + 5000000000))
		while kill -0 "$WEB_PID" 2>/dev/null &&
		    (($(date +%s%N) < deadline)); do
			sleep 0.05
		done
		kill -KILL "$WEB_PID" 2>/dev/null || true
	fi
	unset WEB_PID WEB_PORT
}

# web_get PATH [CURL_ARG...]: print the HTTP status code; the body goes to
# $BATS_TEST_TMPDIR/body and the response headers to $BATS_TEST_TMPDIR/headers.
web_get() {
	local path=$1

	shift
	curl -s --max-time 60 -o "$BATS_TEST_TMPDIR/body" \
	    -D "$BATS_TEST_TMPDIR/headers" -w '%{http_code}' "$@" \
	    "http://127.0.0.1:$WEB_PORT$path"
}

# The checks of compose-apache, compose-lighttpd and compose-caddy: a
# php-cgi pool of fpm-supervise behind the server, as a PHP-FPM user has it.

# web_php KIND: skip without KIND or php-cgi; else start a php-cgi pool on
# $SOCK (readable by nobody) and KIND in front of it, with the fixtures.
web_php() {
	web_need "$1"
	command -v php-cgi >/dev/null || skip "no php-cgi"
	conf "command = $(command -v php-cgi)" "listen.mode = 0666" \
	    "php_admin_value[expose_php] = Off"
	start
	web_start "$1" "$SOCK" "$D/web"
	cp "$BATS_TEST_DIRNAME/fixtures/hello.php" \
	    "$BATS_TEST_DIRNAME/fixtures/paths.php" "$WEB_ROOT/"
}

# A script, its query string and its answer.
web_check_script() {
	[[ $(web_get '/hello.php?name=x') == 200 ]]
	[[ $(cat "$BATS_TEST_TMPDIR/body") == "hello from cgi-fcgi x" ]]
}

# A PATH_INFO route: /paths.php/users/7 runs paths.php with PATH_INFO.
web_check_pathinfo() {
	[[ $(web_get '/paths.php/users/7?a=b') == 200 ]]
	grep -qx "SCRIPT_FILENAME=$WEB_ROOT/paths.php" "$BATS_TEST_TMPDIR/body"
	grep -qx "SCRIPT_NAME=/paths.php" "$BATS_TEST_TMPDIR/body"
	grep -qx "PATH_INFO=/users/7" "$BATS_TEST_TMPDIR/body"
	grep -qx "PHP_SELF=/paths.php/users/7" "$BATS_TEST_TMPDIR/body"
	run ! grep -q 'denied' "$LOG"
}

# A 5 MB POST, whose md5 the script answers.
web_check_post() {
	head -c 5242880 /dev/urandom >"$D/big"
	[[ $(web_get /hello.php -H 'Content-Type: application/octet-stream' \
	    --data-binary "@$D/big") == 200 ]]
	[[ $(cat "$BATS_TEST_TMPDIR/body") == "$(md5sum <"$D/big" | cut -d' ' -f1)" ]]
}
