#!/bin/sh
# The lab, end to end, on the installed QEMU and Debian kernel:
#   - lab demo shared: guest 2 reads "Hello from instance 1!" that guest 1
#     wrote through the shared device;
#   - exec returns output and exit status, console shows the serial log,
#     status lists the guests, a second up is refused while one runs;
#   - down stops every guest and removes what up created;
#   - lab demo interleave: a 4-way region over 2 bridges x 2 root ports;
#   - lab compare: no difference between the guest's `cxl list` and
#     cxlemu's on QEMU's documentation topologies;
#   - bad input ends with a clear message and nothing left running: a
#     topology this QEMU cannot express, a guest that does not boot in time,
#     an unknown host.
# Prints "N passed, N failed" last.
#   scripts/lab/check-lab.sh [SAN_BUILD_DIR] [OPT_BUILD_DIR]
set -u
san=${1:-build/san}
opt=${2:-build}
src=$(cd "$(dirname "$0")/../.." && pwd)
export CXLEMU_LAB_DIR=${CXLEMU_LAB_DIR:-$(mktemp -d -u /tmp/cxlemu-check-lab.XXXXXX)}
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
tmp=$(mktemp -d)
passed=0
failed=0

if [ -x "$opt/cxlemu" ] && "$opt/cxlemu" lab --help >/dev/null 2>&1; then
	lab() { "$opt/cxlemu" lab "$@"; }
else
	lab() { "$src/$san/tests/test_qemu" lab "$@"; }
fi
cleanup() {
	lab down >/dev/null 2>&1
	rm -rf "$tmp"
}
trap cleanup EXIT

ok() { passed=$((passed + 1)); echo "ok   $1"; }
bad() { failed=$((failed + 1)); echo "FAIL $1"; [ -f "$tmp/log" ] && tail -30 "$tmp/log"; }
lab_pids() { cat "$CXLEMU_LAB_DIR"/*/pid 2>/dev/null; }
none_left() {
	for p in $1; do
		kill -0 "$p" 2>/dev/null && return 1
	done
	[ ! -e "$CXLEMU_LAB_DIR" ] && [ ! -e "$CXLEMU_LAB_DIR-demo" ]
}

# ---- the shared-memory demo ----
t0=$(date +%s)
if lab demo shared >"$tmp/log" 2>&1 &&
   grep -A2 '^\[host2\]# daxreader' "$tmp/log" | grep -q '^Hello from instance 1!$'; then
	ok "demo shared: guest 2 printed 'Hello from instance 1!' ($(($(date +%s) - t0)) s)"
else
	bad "demo shared"
fi
grep -q 'second, empty root port' "$tmp/log" && ok "demo shared: the one-port bridge got its second root port" ||
	bad "demo shared: no note about the second root port"
grep 'is up in' "$tmp/log"

# ---- exec, console, status, a second up ----
out=$(lab exec host1 'echo out; echo err >&2; exit 7' 2>"$tmp/log")
rc=$?
[ $rc = 7 ] && [ "$out" = "$(printf 'out\nerr')" ] && ok "exec: output and exit status 7" ||
	bad "exec: got status $rc, output '$out'"
out=$(lab exec host2 'cxl list -M | grep -c memdev')
[ "$out" = 1 ] && ok "exec: host2 sees one memdev" || bad "exec: host2 cxl list -M: '$out'"
lab console host1 >"$tmp/log" 2>&1 && grep -q 'cxlemu-lab: ready' "$tmp/log" &&
	grep -q 'cxlemu-lab: loading modules' "$tmp/log" && ok "console: host1's serial log" || bad "console"
lab status >"$tmp/log" 2>&1 && [ "$(grep -c running "$tmp/log")" = 2 ] && ok "status: 2 guests running" ||
	bad "status"
lab exec nohost true >"$tmp/log" 2>&1
[ $? = 1 ] && grep -q 'host nohost' "$tmp/log" && ok "exec on an unknown host: refused, naming it" ||
	bad "exec on an unknown host"
lab up "$src/tests/topologies/qemu-doc-pmem.topo" >"$tmp/log" 2>&1
[ $? = 1 ] && grep -q 'already up' "$tmp/log" && ok "up while up: refused" || bad "up while up"

# ---- down ----
pids=$(lab_pids)
lab down >"$tmp/log" 2>&1 && none_left "$pids" && ok "down: guests stopped, state and backing files removed" ||
	bad "down left something: $(ls -d "$CXLEMU_LAB_DIR"* 2>/dev/null) $pids"

# ---- the interleave demo ----
t0=$(date +%s)
if lab demo interleave >"$tmp/log" 2>&1 && grep -q 'a 4-way region' "$tmp/log" &&
   grep -q '"interleave_ways":4' "$tmp/log"; then
	ok "demo interleave: 4-way region, data back, in one device's file ($(($(date +%s) - t0)) s)"
else
	bad "demo interleave"
fi
pids=$(lab_pids)
lab down >/dev/null 2>&1
none_left "$pids" && ok "down after interleave" || bad "down after interleave"

# ---- compare: the guest's `cxl list` against cxlemu's, QEMU doc topologies ----
for t in qemu-doc-pmem qemu-doc-2hb-interleave qemu-doc-switch; do
	lab compare "$src/tests/topologies/$t.topo" >"$tmp/log" 2>&1
	rc=$?
	[ $rc = 0 ] && grep -q ' 0 unexplained differences in all' "$tmp/log" && none_left "" &&
		ok "compare $t: no unexplained difference, as booted and after the same region" || bad "compare $t (rc $rc)"
done
if ! qemu-system-x86_64 -device cxl-type3,help 2>/dev/null | grep -q volatile-memdev; then
	lab compare "$src/tests/topologies/qemu-doc-vmem.topo" >"$tmp/log" 2>&1
	[ $? = 1 ] && grep -q 'needs QEMU >= 8.1' "$tmp/log" &&
		ok "compare qemu-doc-vmem: QEMU 7.2 cannot boot it (a listed limit)" || bad "compare vmem"
fi

# ---- bad input ----
if ! qemu-system-x86_64 -device cxl-type3,help 2>/dev/null | grep -q volatile-memdev; then
	lab up "$src/tests/topologies/qemu-doc-vmem.topo" >"$tmp/log" 2>&1
	[ $? = 1 ] && grep -q 'needs QEMU >= 8.1' "$tmp/log" && none_left "" &&
		ok "up with volatile memory on QEMU 7.2: refused, nothing left" || bad "up vmem on 7.2"
fi
CXLEMU_LAB_BOOT_TIMEOUT=0.5 lab up "$src/tests/topologies/qemu-doc-pmem.topo" >"$tmp/log" 2>&1
rc=$?
sleep 0.5
[ $rc = 1 ] && grep -q 'did not boot within' "$tmp/log" && none_left "" &&
	! pgrep -f "cxlemu.host=host0" >/dev/null &&
	ok "a guest that does not boot in time: message, nothing left" || bad "boot timeout"
lab up >"$tmp/log" 2>&1
[ $? = 2 ] && ok "up without a topology: usage" || bad "up without a topology"

echo "$passed passed, $failed failed"
[ $failed = 0 ]
