# SPDX-License-Identifier: ISC
# Apache httpd (mod_proxy_fcgi) -> fpm-supervise -> php-cgi, with the
# SetHandler "proxy:unix:SOCK|fcgi://localhost" that the guides write, and
# with the older ProxyPassMatch recipe.

bats_require_minimum_version 1.5.0
load helpers/common
load helpers/supervise
load helpers/web

teardown() {
	web_stop
	supervise_teardown
}

@test "compose-apache: a script" {
	web_php apache
	web_check_script
}

@test "compose-apache: a PATH_INFO route" {
	web_php apache
	web_check_pathinfo
}

@test "compose-apache: a 5 MB POST" {
	web_php apache
	web_check_post
}

@test "compose-apache: ProxyPassMatch: a PATH_INFO route, split as PHP-FPM does" {
	APACHE_PASSMATCH=1 web_php apache
	web_check_script
	web_check_pathinfo
	# Apache sent it all in SCRIPT_FILENAME, as PHP-FPM shows
	grep -qx "ORIG_SCRIPT_FILENAME=$WEB_ROOT/paths.php/users/7" \
	    "$BATS_TEST_TMPDIR/body"
}

@test "compose-apache: ProxyPassMatch: an upload is not run as PHP" {
	APACHE_PASSMATCH=1 web_php apache
	mkdir "$WEB_ROOT/upload"
	printf '<?php echo "EVIL RAN\\n";\n' >"$WEB_ROOT/upload/evil.jpg"
	[[ $(web_get /upload/evil.jpg/x.php) == 403 ]]
	[[ $(cat "$BATS_TEST_TMPDIR/body") == "Access denied." ]]
	grep -qF "Access to the script '$WEB_ROOT/upload/evil.jpg' has been denied" "$LOG"
}
