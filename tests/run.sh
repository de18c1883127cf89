#!/bin/sh
# Run every unit test (cmocka, under ASan+UBSan) and every command-line
# test script, then print one closing line: "N passed, N failed".
#   tests/run.sh SAN_BUILD_DIR OPT_BUILD_DIR
san=${1:-build/san}
opt=${2:-build}
passed=0
failed=0
failures=""
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$PWD/tests/lsan.supp:print_suppressions=0}
export CXLEMU_BIN="$PWD/$san/cxlemu"
export CXLEMU_OPT_BIN="$PWD/$opt/cxlemu"
export CXLEMU_BUILD="$PWD/$opt"
export CXLEMU_SRC="$PWD"
# a test that hangs fails after this long instead of stopping the suite
limit=${CXLEMU_TEST_LIMIT:-600}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

for t in "$san"/tests/test_*; do
	[ -x "$t" ] || continue
	name=$(basename "$t")
	CMOCKA_MESSAGE_OUTPUT=stdout timeout -k 10 "$limit" "$t" \
		>"$tmp/out" 2>&1
	rc=$?
	[ $rc = 124 ] && echo "$name: no end after $limit s: killed" >>"$tmp/out"
	p=$(sed -n 's/.*\[  PASSED  \] \([0-9]*\) test.*/\1/p' "$tmp/out" | tail -1)
	f=$(sed -n 's/.*\[  FAILED  \] \([0-9]*\) test.*/\1/p' "$tmp/out" | tail -1)
	p=${p:-0}
	f=${f:-0}
	if [ $rc -ne 0 ] && [ "$f" = 0 ]; then f=1; fi
	passed=$((passed + p))
	failed=$((failed + f))
	if [ "$f" != 0 ]; then
		cat "$tmp/out"
		failures="$failures $name"
	fi
	echo "$name: $p passed, $f failed"
done

for t in tests/cli_*.sh; do
	[ -f "$t" ] || continue
	name=$(basename "$t" .sh)
	if timeout -k 10 "$limit" sh "$t" >"$tmp/out" 2>&1; then
		passed=$((passed + 1))
		# a test that cannot run here says so on a SKIP: line
		skip=$(sed -n 's/^SKIP: //p' "$tmp/out" | head -1)
		[ -n "$skip" ] && { echo "$name: skipped: $skip"; continue; }
		echo "$name: ok"
	else
		failed=$((failed + 1))
		failures="$failures $name"
		echo "$name: FAILED"
		tail -40 "$tmp/out"
	fi
done

[ -n "$failures" ] && echo "failed:$failures"
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
