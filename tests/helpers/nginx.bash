# SPDX-License-Identifier: ISC
# A private nginx (Debian nginx-light) in front of a FastCGI upstream, run as
# the test's own process: nginx_start, nginx_stop, http_get.

NGINX_BIN=${NGINX_BIN:-/usr/sbin/nginx}

# nginx_start UPSTREAM [KEEPALIVE]: UPSTREAM is unix:/path or 127.0.0.1:port;
# KEEPALIVE=1 adds an upstream block with keepalive and fastcgi_keep_conn.
# Optional NGINX_HTTP_EXTRA and NGINX_LOCATION_EXTRA are pasted into the
# http and location blocks.  Sets NGINX_PID, NGINX_PORT and NGINX_DIR.
nginx_start() {
	local upstream=$1 keepalive=${2:-0} dir pass try port deadline

	dir=$BATS_TEST_TMPDIR/nginx
	mkdir -p "$dir"/html "$dir"/tmp
	pass=$upstream
	if [[ $keepalive == 1 ]]; then
		pass=fcgi_upstream
	fi
	for try in 1 2 3 4 5 6 7 8 9 10; do
		port=$((20000 + RANDOM % 40001))
		if ss -ltnH "sport = :$port" 2>/dev/null | grep -q .; then
			continue
		fi
		_nginx_conf "$dir" "$port" "$upstream" "$pass" "$keepalive" \
		    >"$dir/nginx.conf"
		: >"$dir/error.log"
		# master_process off: one process, no user switch, so it can
		# reach the test's sockets when run as root too
		"$NGINX_BIN" -p "$dir/" -c "$dir/nginx.conf" -e "$dir/error.log" \
		    </dev/null >"$dir/stdout" 2>&1 3>&- &
		NGINX_PID=$!
		deadline=$(($(date +%s%N) + 10000000000))
		while (($(date +%s%N) < deadline)); do
			if ! kill -0 "$NGINX_PID" 2>/dev/null; then
				# its status, not ours: set -e must not end the
				# retries on another port here
				wait "$NGINX_PID" 2>/dev/null || true
				break
			fi
			if ss -ltnH "sport = :$port" 2>/dev/null | grep -q .; then
				export NGINX_PID NGINX_PORT=$port NGINX_DIR=$dir
				return 0
			fi
			sleep 0.05
		done
		if kill -0 "$NGINX_PID" 2>/dev/null; then
			echo "nginx_start: nginx did not listen on $port" >&2
			nginx_stop
			return 1
		fi
		if ! grep -q 'Address already in use' "$dir/error.log" \
		    "$dir/stdout"; then
			echo "nginx_start: nginx failed:" >&2
			cat "$dir/stdout" "$dir/error.log" >&2
			unset NGINX_PID
			return 1
		fi
	done
	echo "nginx_start: no free port found" >&2
	unset NGINX_PID
	return 1
}

# _nginx_conf DIR PORT UPSTREAM PASS KEEPALIVE: the config on stdout.
_nginx_conf() {
	local dir=$1 port=$2 upstream=$3 pass=$4 keepalive=$5

	cat <<EOF
daemon off;
master_process off;
pid $dir/nginx.pid;
error_log $dir/error.log info;
events {
	worker_connections 256;
}
http {
	access_log off;
	client_body_temp_path $dir/tmp/body;
	proxy_temp_path $dir/tmp/proxy;
	fastcgi_temp_path $dir/tmp/fastcgi;
	uwsgi_temp_path $dir/tmp/uwsgi;
	scgi_temp_path $dir/tmp/scgi;
	${NGINX_HTTP_EXTRA:-}
EOF
	if [[ $keepalive == 1 ]]; then
		cat <<EOF
	upstream fcgi_upstream {
		server $upstream;
		keepalive 8;
	}
EOF
	fi
	cat <<EOF
	server {
		listen 127.0.0.1:$port;
		server_name localhost;
		root $dir/html;
		location / {
			fastcgi_pass $pass;
			include /etc/nginx/fastcgi_params;
			fastcgi_param SCRIPT_FILENAME \$document_root\$fastcgi_script_name;
EOF
	if [[ $keepalive == 1 ]]; then
		echo "			fastcgi_keep_conn on;"
	fi
	cat <<EOF
			${NGINX_LOCATION_EXTRA:-}
		}
	}
}
EOF
}

# nginx_stop: stop the nginx that nginx_start started, and only that one.
nginx_stop() {
	local deadline

	[[ -n ${NGINX_PID:-} ]] || return 0
	kill -TERM "$NGINX_PID" 2>/dev/null || true
	# our child: wait reaps it; otherwise poll, then insist
	if ! wait "$NGINX_PID" 2>/dev/null; then
		deadline=$(($(date +%s%N) + 5000000000))
		while kill -0 "$NGINX_PID" 2>/dev/null &&
		    (($(date +%s%N) < deadline)); do
			sleep 0.05
		done
		kill -KILL "$NGINX_PID" 2>/dev/null || true
	fi
	unset NGINX_PID NGINX_PORT
}

# http_get PATH [CURL_ARG...]: print the HTTP status code; the body goes to
# $BATS_TEST_TMPDIR/body and the response headers to $BATS_TEST_TMPDIR/headers.
http_get() {
	local path=$1

	shift
	curl -s --max-time 30 -o "$BATS_TEST_TMPDIR/body" \
	    -D "$BATS_TEST_TMPDIR/headers" -w '%{http_code}' "$@" \
	    "http://127.0.0.1:$NGINX_PORT$path"
}
