# SPDX-License-Identifier: ISC
# Caddy (php_fastcgi) -> fpm-supervise -> php-cgi.

bats_require_minimum_version 1.5.0
load helpers/common
load helpers/supervise
load helpers/web

teardown() {
	web_stop
	supervise_teardown
}

@test "compose-caddy: a script" {
	web_php caddy
	web_check_script
}

@test "compose-caddy: a PATH_INFO route" {
	web_php caddy
	web_check_pathinfo
}

@test "compose-caddy: a 5 MB POST" {
	web_php caddy
	web_check_post
}
