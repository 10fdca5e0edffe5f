#!/bin/sh
# Runs every test of `make check` against the build in $BUILD (default
# build/san, the ASan+UBSan build the Makefile makes for it):
#   1. each cmocka unit test binary in $BUILD/tests/
#   2. each fuzz replay binary in $BUILD/fuzz-replay/, fed its corpus
#      tests/fuzz/corpus/<name without fuzz_>/
#   3. python3 -m unittest discover -s tests/daemon  (authd on its sockets)
#   4. python3 -m unittest discover -s tests/peers   (Postfix, swaks, doveadm,
#      dovecot-lda against the server; a missing peer binary is a failure)
# with AUTHD_BIN and AUTHCTL_BIN exported. Prints a summary line
# "total: N passed, N failed, N skipped" and exits non-zero if anything failed.
# POSIX sh: the Makefile runs it with `sh`.
set -u

cd "$(dirname "$0")/.." || exit 2
BUILD=${BUILD:-build/san}
case "$BUILD" in
/*) ;;
*) BUILD="$PWD/$BUILD" ;;
esac
AUTHD_BIN=${AUTHD_BIN:-$BUILD/authd}
AUTHCTL_BIN=${AUTHCTL_BIN:-$BUILD/authctl}
export BUILD AUTHD_BIN AUTHCTL_BIN
export PYTHONDONTWRITEBYTECODE=1
export ASAN_OPTIONS="${ASAN_OPTIONS:-abort_on_error=0:detect_leaks=1:strict_string_checks=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"

# Limits so that a hung test cannot eat CI's time.
UNIT_TIMEOUT=300
SUITE_TIMEOUT=1500

LOGDIR=$(mktemp -d "${TMPDIR:-/tmp}/authd-check.XXXXXX") || exit 2
trap 'rm -rf "$LOGDIR"' EXIT

passed=0
failed=0
skipped=0
failures=""

note_fail() {
	failed=$((failed + $2))
	failures="$failures
  $1"
}

# Sums the cmocka "[  PASSED  ] N test(s)" / "[  FAILED  ] N test(s)" lines.
cmocka_count() {
	sed -n "s/^\[  $2  \] \([0-9][0-9]*\) test(s).*/\1/p" "$1" |
		awk '{ n += $1 } END { print n + 0 }'
}

run_unit() {
	bin=$1
	name=$(basename "$bin")
	log="$LOGDIR/$name.log"
	echo "=== unit: $name"
	timeout "$UNIT_TIMEOUT" "$bin" >"$log" 2>&1
	rc=$?
	cat "$log"
	p=$(cmocka_count "$log" PASSED)
	f=$(cmocka_count "$log" FAILED)
	passed=$((passed + p))
	if [ "$rc" -ne 0 ] || [ "$f" -ne 0 ]; then
		[ "$f" -gt 0 ] || f=1
		note_fail "unit $name (exit $rc)" "$f"
	elif [ "$p" -eq 0 ]; then
		note_fail "unit $name ran no test" 1
	fi
}

run_fuzz_replay() {
	bin=$1
	name=$(basename "$bin")
	corpus="tests/fuzz/corpus/${name#fuzz_}"
	echo "=== fuzz replay: $name $corpus"
	if [ ! -d "$corpus" ]; then
		echo "missing corpus directory $corpus"
		note_fail "fuzz $name: no corpus $corpus" 1
		return
	fi
	n=$(find "$corpus" -type f ! -name '.*' | wc -l)
	timeout "$UNIT_TIMEOUT" "$bin" "$corpus"
	rc=$?
	if [ "$rc" -eq 0 ]; then
		echo "fuzz replay $name: $n inputs ok"
		passed=$((passed + 1))
	else
		note_fail "fuzz $name (exit $rc)" 1
	fi
}

# Runs one unittest directory; counts from unittest's own closing lines.
run_pysuite() {
	dir=$1
	log="$LOGDIR/$(echo "$dir" | tr / _).log"
	echo "=== python: $dir"
	if [ ! -d "$dir" ]; then
		echo "missing test directory $dir"
		note_fail "python $dir: directory missing" 1
		return
	fi
	timeout -s INT -k 30 "$SUITE_TIMEOUT" python3 -m unittest discover -s "$dir" -t . -v >"$log" 2>&1
	rc=$?
	cat "$log"
	ran=$(sed -n 's/^Ran \([0-9][0-9]*\) tests\{0,1\} in .*/\1/p' "$log" | tail -n 1)
	last=$(grep -E '^(OK|FAILED)( \(.*\))?$' "$log" | tail -n 1)
	f=$(printf '%s' "$last" | sed -n 's/.*failures=\([0-9]*\).*/\1/p')
	e=$(printf '%s' "$last" | sed -n 's/.*errors=\([0-9]*\).*/\1/p')
	s=$(printf '%s' "$last" | sed -n 's/.*skipped=\([0-9]*\).*/\1/p')
	u=$(printf '%s' "$last" | sed -n 's/.*unexpected successes=\([0-9]*\).*/\1/p')
	ran=${ran:-0} f=${f:-0} e=${e:-0} s=${s:-0} u=${u:-0}
	bad=$((f + e + u))
	# Tests that passed = tests run - skipped - unexpected successes - the
	# distinct test methods named in FAIL:/ERROR: headers (a method with
	# failing subtests is named once per subtest; setUpClass errors are not
	# among the tests run).
	broken=$(sed -n 's/^\(FAIL\|ERROR\): \([^ ]*\) (\([^)]*\)).*/\3 \2/p' "$log" |
		grep -Ev ' (setUpClass|tearDownClass|setUpModule|tearDownModule)$' |
		sort -u | wc -l)
	ok=$((ran - s - u - broken))
	[ "$ok" -ge 0 ] || ok=0
	passed=$((passed + ok))
	skipped=$((skipped + s))
	if [ "$bad" -gt 0 ]; then
		note_fail "python $dir: $f failures, $e errors, $u unexpected successes" "$bad"
	elif [ "$rc" -ne 0 ]; then
		note_fail "python $dir (exit $rc)" 1
	elif [ "$ran" -eq 0 ]; then
		note_fail "python $dir ran no test" 1
	fi
	if [ "$s" -gt 0 ]; then
		echo "WARNING: $s skipped test(s) in $dir:"
		grep -E ' \.\.\. skipped' "$log" | sed 's/^/  /'
		# The peer tests install their peers through `make check`: a skip
		# there hides a missing install step, so it counts as a failure.
		case "$dir" in
		tests/peers) note_fail "python $dir: $s skipped (peers must run)" "$s" ;;
		esac
	fi
}

for bin in "$BUILD"/tests/test_*; do
	if [ ! -f "$bin" ] || [ ! -x "$bin" ]; then continue; fi
	case "$bin" in *.d | *.o) continue ;; esac
	run_unit "$bin"
done

for bin in "$BUILD"/fuzz-replay/fuzz_*; do
	if [ ! -f "$bin" ] || [ ! -x "$bin" ]; then continue; fi
	case "$bin" in *.d | *.o) continue ;; esac
	run_fuzz_replay "$bin"
done

for f in "$AUTHD_BIN" "$AUTHCTL_BIN"; do
	if [ ! -x "$f" ]; then
		echo "WARNING: $f is not built; tests that need it will fail"
	fi
done

run_pysuite tests/daemon
run_pysuite tests/peers

echo
echo "=== summary ($BUILD)"
if [ -n "$failures" ]; then
	echo "failed:$failures"
fi
echo "total: $passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
