# clilib.sh - sourced by tests/cli_*.sh: a private temp dir and socket per
# test, a trap that always stops the test's daemon, and small assertions.
#
#   run RC ARGS...     run cxlemu ARGS, fail unless it exits RC;
#                      its output lands in $T/out and $T/err
#   out_has RE / err_has RE / out_lacks RE
set -u
: "${CXLEMU_BIN:?run through tests/run.sh, or set CXLEMU_BIN}"
T=$(mktemp -d /tmp/cxlemu-cli.XXXXXX)
SOCK=$T/fabric.sock
export CXLEMU_SOCKET="$SOCK"
unset CXLEMU_HOST
: >"$T/out"
: >"$T/err"

cleanup() {
	"$CXLEMU_BIN" --socket "$SOCK" stop >/dev/null 2>&1
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

fail() {
	echo "FAIL: $*"
	echo "--- stdout:"
	cat "$T/out"
	echo "--- stderr:"
	cat "$T/err"
	exit 1
}

run() {
	want=$1
	shift
	"$CXLEMU_BIN" "$@" >"$T/out" 2>"$T/err" </dev/null
	rc=$?
	[ "$rc" = "$want" ] || fail "cxlemu $* exited $rc, wanted $want"
}

out_has() { grep -q -e "$1" "$T/out" || fail "stdout lacks '$1'"; }
out_lacks() { ! grep -q -e "$1" "$T/out" || fail "stdout has '$1'"; }
err_has() { grep -q -e "$1" "$T/err" || fail "stderr lacks '$1'"; }

# The value of "key" in pretty-printed JSON on stdout.
json_val() {
	sed -n "s/^ *\"$1\":\"\{0,1\}\([^\",]*\)\"\{0,1\},\{0,1\}\$/\1/p" "$T/out" | head -1
}

# The pid of a daemon started here with `--socket "$SOCK" start`.
daemon_pid() {
	for p in /proc/[0-9]*; do
		if { tr '\0' ' ' <"$p/cmdline"; } 2>/dev/null |
		   grep -q -e "--socket $SOCK start"; then
			echo "${p#/proc/}"
		fi
	done
}
