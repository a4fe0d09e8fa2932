# SPDX-License-Identifier: ISC
# The ?prometheus status format against promtool check metrics (Debian's
# prometheus package), on the sample pools of helpers/status-render.c.

bats_require_minimum_version 1.5.0
load helpers/common

setup() {
	if [[ ! -x $BUILDDIR/tests/helpers/status-render ]]; then
		skip "status-render not built"
	fi
}

need_promtool() {
	if ! command -v promtool >/dev/null; then
		skip "promtool not installed (Debian package prometheus)"
	fi
}

@test "status prometheus: promtool accepts it, short and full" {
	need_promtool
	local q
	for q in prometheus 'prometheus&full' p; do
		status-render "$q" >"$BATS_TEST_TMPDIR/out"
		run --separate-stderr promtool check metrics \
		    <"$BATS_TEST_TMPDIR/out"
		echo "query $q: $output $stderr"
		[ "$status" -eq 0 ]
		[ -z "$output" ]
		[ -z "$stderr" ]
	done
}

@test "status prometheus: openmetrics stays PHP-FPM's, which promtool faults" {
	need_promtool
	status-render openmetrics >"$BATS_TEST_TMPDIR/out"
	run promtool check metrics <"$BATS_TEST_TMPDIR/out"
	[ "$status" -ne 0 ]
	[[ $output == *'phpfpm_accepted_connections counter metrics should'* ]]
}

@test "status prometheus: headers" {
	local ct='text/plain; version=0.0.4; charset=utf-8'
	run -0 status-render -H prometheus
	[ "${lines[2]}" = "Content-Type: $ct"$'\r' ]
	[ "${lines[3]}" = $'\r' ]
	[[ ${lines[4]} == '# HELP fpm_pool_info The pool '* ]]
}

@test "status prometheus: sample lines" {
	run -0 status-render 'prometheus&full'
	local want
	for want in \
	    'fpm_accepted_connections_total{pool="www"} 100' \
	    'fpm_processes{pool="www",state="idle"} 1' \
	    'fpm_responses_total{pool="www",code="503"} 5' \
	    'fpm_request_duration_seconds_bucket{pool="www",le="0.025"} 38' \
	    'fpm_request_duration_seconds_bucket{pool="www",le="+Inf"} 100' \
	    'fpm_request_duration_seconds_sum{pool="www"} 23.75' \
	    'fpm_request_duration_seconds_count{pool="www"} 100' \
	    'fpm_queue_wait_seconds_bucket{pool="o\"dd\\po\nol",le="+Inf"} 0' \
	    'fpm_worker_state{pool="www",pid="18189",state="Running"} 1' \
	    'fpm_worker_requests_total{pool="www",pid="18190"} 99' \
	    'fpm_worker_request_duration_seconds{pool="www",pid="18189"} 1.503942' \
	    'fpm_worker_state{pool="o\"dd\\po\nol",pid="7",state="(null)"} 1'; do
		printf '%s\n' "$output" | grep -qxF -- "$want" ||
		    { echo "missing: $want"; false; }
	done
}

@test "status prometheus: one HELP and TYPE per family, samples together" {
	run -0 status-render 'prometheus&full'
	# each family's samples follow its TYPE line, none elsewhere
	printf '%s\n' "$output" | awk '
	/^# HELP / { if (help[$3]++) { print "second HELP " $3; bad = 1 }
		next }
	/^# TYPE / { if (type[$3]++) { print "second TYPE " $3; bad = 1 }
		fam = $3; next }
	{
		n = $0; sub(/[{ ].*/, "", n)
		if (n != fam && n != fam "_bucket" && n != fam "_sum" &&
		    n != fam "_count") { print "stray " $0; bad = 1 }
	}
	END {
		for (f in type) if (!help[f]) { print "no HELP " f; bad = 1 }
		exit bad
	}'
}
