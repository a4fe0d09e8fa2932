# SPDX-License-Identifier: ISC
# make install and what it installs: the directories (GNU's, DESTDIR,
# PREFIX=/usr -> /etc), make uninstall, the installed programs reading the
# installed configuration, and each service file (init/) run as its
# supervisor runs it: the LSB init script directly, runit's runsv, s6's
# s6-supervise, logrotate, systemd-tmpfiles, systemd-analyze verify.

bats_require_minimum_version 1.5.0
load helpers/common

# One build per prefix, copied from $BUILDDIR: only the sources naming
# FPM_SYSCONFDIR are compiled again.  $I/p is a real install (no DESTDIR),
# run from there; $I/usr is PREFIX=/usr under a DESTDIR.
setup_file() {
	local san= m

	# the tests share $I/p, and some change its configuration
	export BATS_NO_PARALLELIZE_WITHIN_FILE=true
	I=$(mktemp -d /tmp/fpmi.XXXXXX)
	chmod 755 "$I"
	export I
	# a sanitized build links only with the same flags
	if nm "$BUILDDIR/bin/fpm-ctl" 2>/dev/null | grep -q __asan_init; then
		san=address
	fi
	if nm "$BUILDDIR/bin/fpm-ctl" 2>/dev/null | grep -q __ubsan_handle; then
		san=${san:+$san,}undefined
	fi
	for m in p usr; do
		mkdir "$I/build-$m"
		(cd "$BUILDDIR" && tar cf - bin cmd gen libcommon libcommon.a) |
		    (cd "$I/build-$m" && tar xpf -)
		# the objects' dependencies (-MMD) name them where they were
		find "$I/build-$m" -name '*.d' -exec sed -i -E \
		    "s#^[^ :]*/((cmd|libcommon|gen)/[^ :]*\.o):#$I/build-$m/\1:#" {} +
	done
	unset MAKEFLAGS MFLAGS MAKELEVEL
	make -s -C "$TOP" BUILDDIR="$I/build-p" PREFIX="$I/p" \
	    ${san:+SANITIZE=$san} install >"$I/make-p.log" 2>&1 ||
	    { cat "$I/make-p.log" >&2; return 1; }
	make -s -C "$TOP" BUILDDIR="$I/build-usr" PREFIX=/usr \
	    DESTDIR="$I/usr" ${san:+SANITIZE=$san} install \
	    >"$I/make-usr.log" 2>&1 ||
	    { cat "$I/make-usr.log" >&2; return 1; }
}

teardown_file() {
	rm -rf "$I"
}

setup() {
	P=$I/p
	D=$(short_tmpdir)
	chmod 755 "$D"		# workers run as nobody when we are root
	LOG=$D/fpm.log
	WORKER=$BUILDDIR/tests/helpers/fcgi-testworker
	# the LSB hooks would hand the init script to a running systemd
	export SYSTEMCTL_SKIP_REDIRECT=1
}

teardown() {
	kill_tracked
	if grep -sE 'AddressSanitizer|runtime error:' "$LOG" "$D"/*.log \
	    "$D"/sv/fpm/log/main/current; then
		return 1
	fi
	rm -rf "$D"
}

# conf [LINE...]: $D/fpm.conf, a [www] pool of fcgi-testworker on
# $D/www.sock logging to $LOG; the lines given go to [global].
conf() {
	{
		echo "[global]"
		echo "runtime_dir = $D"
		echo "pid = $D/run/fpm.pid"
		echo "error_log = $LOG"
		printf '%s\n' "$@"
		echo "[www]"
		echo "user = nobody"
		echo "listen = $D/www.sock"
		echo "command = $WORKER"
		echo "pm = static"
		echo "pm.max_children = 2"
	} >"$D/fpm.conf"
}

# served: one request reaches a worker through $D/www.sock
served() {
	fcgi-client -s "$D/www.sock" -t 5000 -p QUERY_STRING=x |
	    grep -q 'X-Worker-Pid'
}

# files DIR: what DIR holds that is not a directory, sorted, relative
files() {
	(cd "$1" && find . ! -type d | sort)
}

@test "install: PREFIX=/usr puts the configuration in /etc, and the programs read it there" {
	cd "$I/usr"
	[ -f etc/fpm/fpm.conf ] && [ -f etc/fpm/pool.d/www.conf ]
	[ -x usr/bin/fpm-supervise ] && [ -x usr/bin/fpm-ctl ]
	[ -f usr/share/man/man8/fpm-supervise.8 ]
	[ -f usr/share/man/man5/fpm.conf.5 ]
	[ -f usr/lib/systemd/system/fpm.service ]
	[ -x etc/init.d/fpm ] && [ -f etc/logrotate.d/fpm ]
	[ -f usr/lib/tmpfiles.d/fpm.conf ]
	[ -x usr/share/fpm/runit/fpm/run ] && [ -x usr/share/fpm/s6/fpm/run ]
	[ -f usr/share/fpm/examples/php-cgi.conf ]
	run -0 usr/bin/fpm-supervise --help
	[[ $output == *"(default:"*"/etc/fpm/fpm.conf, else the"* ]]
	grep -qx 'ExecStart=/usr/bin/fpm-supervise -F -g /run/fpm/fpm.pid -y /etc/fpm/fpm.conf' \
	    usr/lib/systemd/system/fpm.service
	grep -qx 'CONFFILE=/etc/fpm/fpm.conf' etc/init.d/fpm
	! grep -rIq '@[A-Z_]*@' etc usr/lib usr/share/fpm
}

@test "install: make uninstall removes every file install put in DESTDIR" {
	local d=$D/destdir
	cp -a "$I/usr" "$d"
	run -0 files "$d"
	[[ ${#lines[@]} -gt 20 ]]
	unset MAKEFLAGS MFLAGS MAKELEVEL
	make -s -C "$TOP" BUILDDIR="$I/build-usr" PREFIX=/usr DESTDIR="$d" \
	    uninstall
	run -0 files "$d"
	[[ -z $output ]]
	[ ! -e "$d/etc/fpm" ] && [ ! -e "$d/usr/share/fpm" ]
}

@test "install: the installed fpm-supervise and fpm-ctl find the installed configuration" {
	run -0 "$P/bin/fpm-supervise" -t
	[[ $output == *"configuration file $P/etc/fpm/fpm.conf test is successful"* ]]
	[[ $output != *built-in* ]]
	# both read it without -y: fpm-ctl finds the control socket by its pid
	conf
	mkdir "$D/run"
	cp "$P/etc/fpm/fpm.conf" "$D/installed.conf"
	cp "$D/fpm.conf" "$P/etc/fpm/fpm.conf"
	"$P/bin/fpm-supervise" </dev/null >/dev/null 2>&1 &
	SUP=$!
	track_pid $SUP
	wait_for 10 "$P/bin/fpm-ctl" -t 1s wait-ready
	run -0 "$P/bin/fpm-ctl" pid
	[[ $output == "$SUP" ]]
	# on that socket, a supervisor of another file is not the one meant
	run -0 "$P/bin/fpm-ctl" stop --wait
	"$P/bin/fpm-supervise" -y "$D/fpm.conf" </dev/null >/dev/null 2>&1 &
	SUP=$!
	track_pid $SUP
	wait_for 10 "$P/bin/fpm-ctl" -y "$D/fpm.conf" -t 1s wait-ready
	run -100 "$P/bin/fpm-ctl" pid
	[[ $output == "fpm-ctl: fatal: another fpm-supervise answers on $D/run/fpm.sock: pid $SUP runs $D/fpm.conf, not $P/etc/fpm/fpm.conf" ]]
	run -100 "$P/bin/fpm-status"
	cp "$D/installed.conf" "$P/etc/fpm/fpm.conf"
}

@test "install: the examples in conf.d/examples pass fpm-supervise -t" {
	local f n=0 prog
	for f in "$P"/share/fpm/examples/*.conf; do
		# what this machine may lack: the program, its directory
		prog=$(sed -n 's/^command = \([^ ]*\).*/\1/p' "$f")
		[ -x "$prog" ] || prog=$WORKER
		sed -e "s|^command = .*|command = $prog|" \
		    -e '/^chdir = /d' -e 's/^user = www-data/user = nobody/' \
		    -e 's/^group = www-data/group = nogroup/' \
		    -e "s|^listen = .*|listen = $D/$n.sock|" \
		    -e '/^listen.group = /d' "$f" >"$D/pool$n.conf"
		printf '[global]\nruntime_dir = %s\ninclude = %s\n' "$D" \
		    "$D/pool$n.conf" >"$D/fpm$n.conf"
		run -0 "$P/bin/fpm-supervise" -t -y "$D/fpm$n.conf"
		[[ $output == *"test is successful"* ]]
		n=$((n + 1))
	done
	[[ $n -ge 4 ]]
	# not part of the default configuration, built-in or installed
	! grep -rq 'fcgiwrap\|perl\|goapp' "$P/etc/fpm"
}

@test "install: the LSB init script: start, status, reload, restart, stop, configtest" {
	local init=$P/etc/init.d/fpm pid
	conf
	mkdir -p "$P/etc/default"
	printf 'CONFFILE=%s\nPIDFILE=%s\nTIMEOUT=10\n' "$D/fpm.conf" \
	    "$D/run/fpm.pid" >"$P/etc/default/fpm"
	run -0 "$init" configtest
	[[ $output == *"configuration file $D/fpm.conf test is successful"* ]]
	run -3 "$init" status
	run -0 "$init" start
	[ -s "$D/run/fpm.pid" ]
	pid=$(cat "$D/run/fpm.pid")
	track_pid "$pid"
	served
	run -0 "$init" status
	[[ $output == *"is running"* ]]
	# started already: nothing changes
	run -0 "$init" start
	[[ $(cat "$D/run/fpm.pid") == "$pid" ]]
	run -0 "$init" reload
	grep -q 'reload' "$LOG"
	# a broken configuration: refused, and the running one stays
	echo "pm.max_children = many" >>"$D/fpm.conf"
	run -1 "$init" force-reload
	run -1 "$init" restart
	run -1 "$init" configtest
	[[ $output == *"$D/fpm.conf:"* ]]
	[[ $(cat "$D/run/fpm.pid") == "$pid" ]]
	served
	conf
	run -0 "$init" force-reload
	run -0 "$init" restart
	wait_for 10 pid_gone "$pid"
	pid=$(cat "$D/run/fpm.pid")
	track_pid "$pid"
	served
	run -0 "$init" stop
	wait_for 10 pid_gone "$pid"
	[ ! -e "$D/run/fpm.pid" ]
	run -0 "$init" stop
	run -3 "$init" status
	# a start that fails says so
	echo "listen.mode = bad" >>"$D/fpm.conf"
	run -1 "$init" start
	[ ! -s "$D/run/fpm.pid" ]
	run -3 "$init" frobnicate
	[[ $output == *"Usage:"*configtest* ]]
	rm -f "$P/etc/default/fpm"
}

@test "install: runit: runsv runs it, sv reloads and stops it, svlogd logs" {
	command -v runsv >/dev/null || skip "no runit"
	local sv=$D/sv/fpm
	conf
	mkdir -p "$D/sv"
	cp -a "$P/share/fpm/runit/fpm" "$sv"
	printf 'CONFFILE=%s\nPIDFILE=%s\n' "$D/fpm.conf" "$D/run/fpm.pid" \
	    >"$sv/conf"
	runsv "$sv" </dev/null >"$D/runsv.log" 2>&1 &
	track_pid $!
	wait_for 10 "$P/bin/fpm-ctl" -P "$D/run/fpm.pid" -t 1s wait-ready
	served
	run -0 sv status "$sv"
	[[ $output == "run: $sv: (pid "* ]]
	# -O: the log goes to svlogd, not to error_log
	wait_for 10 grep -q 'ready to handle connections' "$sv/log/main/current"
	run -0 sv hup "$sv"
	wait_for 10 grep -q 'reload' "$sv/log/main/current"
	run -0 sv down "$sv"
	wait_for 10 eval "sv status '$sv' | grep -q '^down:'"
	wait_for 10 grep -q 'fpm-supervise exited 0' "$sv/log/main/current"
	! served
	run -0 sv exit "$sv"
}

@test "install: s6: s6-supervise runs it, readiness through notification-fd, a config error is not retried" {
	command -v s6-supervise >/dev/null || skip "no s6"
	local sv=$D/s6/fpm
	conf
	mkdir -p "$D/s6"
	cp -a "$P/share/fpm/s6/fpm" "$sv"
	printf 'CONFFILE=%s\nPIDFILE=%s\n' "$D/fpm.conf" "$D/run/fpm.pid" \
	    >"$sv/conf"
	s6-supervise "$sv" </dev/null >"$D/s6.log" 2>&1 &
	track_pid $!
	wait_for 10 s6-svok "$sv"
	s6-svwait -U -t 10000 "$sv"
	served
	run -0 s6-svstat -o up,ready "$sv"
	[[ $output == "true true" ]]
	s6-svc -h "$sv"
	wait_for 10 grep -q 'reload' "$D/s6.log"
	s6-svc -d "$sv"
	s6-svwait -D -t 10000 "$sv"
	! served
	# 100 (a bad configuration): finish says 125, and it stays down
	echo "pm = sometimes" >>"$D/fpm.conf"
	s6-svc -u "$sv"
	wait_for 10 eval "s6-svstat -o up,wantedup '$sv' | grep -qx 'false false'"
	s6-svc -x "$sv"
}

@test "install: logrotate rotates the logs and fpm-ctl reopen moves the supervisor to the new file" {
	command -v logrotate >/dev/null || skip "no logrotate"
	mkdir -p "$D/log" "$D/run"
	LOG=$D/log/fpm.log
	conf
	sed -e "s|/var/log/fpm|$D/log|g" -e "s|/run/fpm/fpm.pid|$D/run/fpm.pid|g" \
	    "$P/etc/logrotate.d/fpm" >"$D/logrotate.conf"
	chmod 644 "$D/logrotate.conf"
	"$P/bin/fpm-supervise" -y "$D/fpm.conf" </dev/null >/dev/null 2>&1 &
	track_pid $!
	wait_for 10 "$P/bin/fpm-ctl" -P "$D/run/fpm.pid" -t 1s wait-ready
	logrotate -f -s "$D/logrotate.state" "$D/logrotate.conf"
	grep -q 'ready to handle connections' "$D/log/fpm.log.1"
	wait_for 10 grep -q 'error log file re-opened' "$D/log/fpm.log"
	! grep -q 'ready to handle connections' "$D/log/fpm.log"
}

@test "install: tmpfiles.d makes /run/fpm" {
	command -v systemd-tmpfiles >/dev/null || skip "no systemd-tmpfiles"
	mkdir -p "$D/root/run"
	systemd-tmpfiles --create --root="$D/root" "$P/lib/tmpfiles.d/fpm.conf"
	[ -d "$D/root/run/fpm" ]
	[[ $(stat -c %a "$D/root/run/fpm") == 755 ]]
}

@test "install: systemd-analyze verify passes fpm.service and fpm.socket" {
	command -v systemd-analyze >/dev/null || skip "no systemd-analyze"
	run -0 systemd-analyze verify --man=no "$P/lib/systemd/system/fpm.service" \
	    "$P/lib/systemd/system/fpm.socket"
	[[ -z $output ]]
	grep -qx 'Type=notify' "$P/lib/systemd/system/fpm.service"
	grep -qx "ExecReload=$P/bin/fpm-ctl -P /run/fpm/fpm.pid reload" \
	    "$P/lib/systemd/system/fpm.service"
}

# example NAME: $D/ex.conf runs the installed example pool NAME as nobody
# on $D/www.sock
example() {
	sed -e 's/^user = www-data/user = nobody/' \
	    -e 's/^group = www-data/group = nogroup/' \
	    -e "s|^listen = .*|listen = $D/www.sock|" \
	    -e '/^listen\.\(owner\|group\) = /d' \
	    "$P/share/fpm/examples/$1.conf" >"$D/pool.conf"
	printf '[global]\nruntime_dir = %s\npid = %s\nerror_log = %s\ninclude = %s\n' \
	    "$D" "$D/ex.pid" "$LOG" "$D/pool.conf" >"$D/ex.conf"
}

@test "install: the cgit example serves a CGI program through fcgiwrap" {
	command -v fcgiwrap >/dev/null || skip "no fcgiwrap"
	[ -x /usr/sbin/fcgiwrap ] || skip "fcgiwrap is not /usr/sbin/fcgiwrap"
	example cgit
	cp "$BATS_TEST_DIRNAME/fixtures/hello.cgi" "$D/"
	chmod 755 "$D/hello.cgi"
	"$P/bin/fpm-supervise" -y "$D/ex.conf" </dev/null >/dev/null 2>&1 &
	track_pid $!
	wait_for 10 grep -q 'ready to handle connections' "$LOG"
	run -0 fcgi-client -s "$D/www.sock" -t 10000 \
	    -p "SCRIPT_FILENAME=$D/hello.cgi" -p REQUEST_METHOD=GET \
	    -p QUERY_STRING=cgit
	[[ $output == *"hello from cgi cgit"* ]]
}

@test "install: the php-cgi example serves PHP" {
	[ -x /usr/bin/php-cgi ] || skip "no /usr/bin/php-cgi"
	example php-cgi
	cp "$BATS_TEST_DIRNAME/fixtures/hello.php" "$D/"
	chmod 644 "$D/hello.php"
	"$P/bin/fpm-supervise" -y "$D/ex.conf" </dev/null >/dev/null 2>&1 &
	track_pid $!
	wait_for 10 grep -q 'ready to handle connections' "$LOG"
	run -0 fcgi-client -s "$D/www.sock" -t 10000 \
	    -p "SCRIPT_FILENAME=$D/hello.php" -p REQUEST_METHOD=GET \
	    -p QUERY_STRING=name=ex
	[[ $output == *"hello from cgi-fcgi ex"* ]]
}

@test "install: fpm(7)'s migration from PHP-FPM takes Debian's php-fpm pools" {
	local src=/etc/php/8.2/fpm/pool.d
	[ -f "$src/www.conf" ] || skip "no $src/www.conf (php8.2-fpm)"
	mkdir "$D/pool.d"
	cp "$src"/*.conf "$D/pool.d/"
	# the line of fpm(7): the pool files as they are
	run -0 grep -Fx "cp /etc/php/8.2/fpm/pool.d/*.conf /etc/fpm/pool.d/" \
	    "$TOP/man/fpm.7"
	sed -i "s|^listen = .*|listen = $D/php.sock|" "$D"/pool.d/*.conf
	printf '[global]\nruntime_dir = %s\ninclude = pool.d/*.conf\n' "$D" \
	    >"$D/fpm.conf"
	run -0 "$P/bin/fpm-supervise" -t -y "$D/fpm.conf"
	[[ $output == *"configuration file $D/fpm.conf test is successful"* ]]
}
