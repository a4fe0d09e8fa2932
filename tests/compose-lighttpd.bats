# SPDX-License-Identifier: ISC
# lighttpd (mod_fastcgi, "broken-scriptfilename" => "enable") ->
# fpm-supervise -> php-cgi, lighttpd's documented PHP setup.

bats_require_minimum_version 1.5.0
load helpers/common
load helpers/supervise
load helpers/web

teardown() {
	web_stop
	supervise_teardown
}

@test "compose-lighttpd: a script" {
	web_php lighttpd
	web_check_script
}

@test "compose-lighttpd: a PATH_INFO route" {
	web_php lighttpd
	web_check_pathinfo
}

@test "compose-lighttpd: a 5 MB POST" {
	web_php lighttpd
	web_check_post
}
