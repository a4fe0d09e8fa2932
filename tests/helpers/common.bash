# SPDX-License-Identifier: ISC
# Loaded first by every bats file: PATH, and polling instead of sleeping.

: "${BUILDDIR:=build}"
TOP=$(cd "$BATS_TEST_DIRNAME/.." && pwd)
case $BUILDDIR in
/*) ;;
*) BUILDDIR=$TOP/$BUILDDIR ;;
esac
export BUILDDIR TOP
PATH=$BUILDDIR/bin:$BUILDDIR/tests/helpers:$PATH
export PATH
# sanitizer builds: report errors, don't drown the output in leak noise
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=0:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

# wait_for TIMEOUT CMD...: run CMD until it succeeds; fail after TIMEOUT
# seconds (fractions allowed) with the last output shown.
wait_for() {
	local timeout=$1 deadline now
	shift
	deadline=$(($(date +%s%N) + ${timeout%.*} * 1000000000))
	until "$@" >/dev/null 2>&1; do
		now=$(date +%s%N)
		if ((now > deadline)); then
			echo "wait_for: timed out after ${timeout}s: $*" >&2
			"$@" >&2 || true
			return 1
		fi
		sleep 0.02
	done
}

# Processes a test started, killed by PID in teardown (never by name).
TEST_PIDS=()
track_pid() {
	TEST_PIDS+=("$@")
}

kill_tracked() {
	local p
	for p in "${TEST_PIDS[@]}"; do
		kill -TERM "$p" 2>/dev/null || true
	done
	for p in "${TEST_PIDS[@]}"; do
		# poll first: wait(1) would block on a child ignoring SIGTERM,
		# and orphans stay zombies here (PID 1 does not reap them)
		wait_for 5 pid_gone "$p" || kill -KILL "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
	TEST_PIDS=()
}

# pid_gone PID: true when PID is no longer running (zombies count as gone)
pid_gone() {
	local st
	st=$(ps -o stat= -p "$1" 2>/dev/null) || return 0
	[[ $st == Z* ]]
}

# A short unix socket path: sun_path is 108 bytes, BATS_TEST_TMPDIR is long.
short_tmpdir() {
	mktemp -d /tmp/fpmt.XXXXXX
}
