#!/bin/sh
# The lab, end to end, on the installed QEMU and Debian kernel (QEMU 10.0
# and Linux 6.12 from bookworm-backports after scripts/lab/deps.sh; what
# needs them is skipped, saying so, on bookworm's QEMU 7.2):
#   - lab demo shared: guest 2 reads "Hello from instance 1!" that guest 1
#     wrote through the shared device (the seed's own volatile command line
#     where QEMU has volatile memory, persistent memory on 7.2);
#   - lab demo mixed: a guest and a cxlemu host exchange messages through
#     one backing file;
#   - exec returns output and exit status, console shows the serial log,
#     status lists the guests and the versions, a second up is refused;
#   - down stops every guest and removes what up created;
#   - lab demo interleave: a 4-way region over 2 bridges x 2 root ports;
#   - lab compare: no unexplained difference between the guest's `cxl list`
#     and cxlemu's, as booted and after the same region (CXLEMU_LAB_FULL=1,
#     `make check-lab-full`, adds the slower topologies);
#   - dynamic capacity: QMP add / release on a DCD (scripts/lab/dcd.sh);
#   - bad input ends with a clear message and nothing left running: a
#     topology this QEMU cannot express, a guest that does not boot in time,
#     an unknown host, a kernel that is not installed.
# Prints "N passed, N failed" last, and how long it took.
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

lab() { "$opt/cxlemu" lab "$@"; }
cleanup() {
	lab down >/dev/null 2>&1
	rm -rf "$tmp"
}
trap cleanup EXIT

start=$(date +%s)
qemu=${CXLEMU_QEMU:-qemu-system-x86_64}
has_vol=0
has_dcd=0
"$qemu" -device cxl-type3,help 2>/dev/null | grep -q volatile-memdev && has_vol=1
"$qemu" -device cxl-type3,help 2>/dev/null | grep -q num-dc-regions && has_dcd=1
echo "check-lab: $("$qemu" --version | head -1); kernel ${CXLEMU_LAB_KERNEL:-the newest in /boot}"
ok() { passed=$((passed + 1)); echo "ok   $1"; }
skip() { echo "skip $1"; }
elapsed() { echo "$(($(date +%s) - t0)) s"; }
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
	ok "demo shared: guest 2 printed 'Hello from instance 1!' ($(elapsed))"
else
	bad "demo shared"
fi
if [ $has_vol = 1 ]; then
	grep -q "the seed's command line, volatile memory" "$tmp/log" &&
	grep -q '^\[host1\]# cxl create-region -t ram -d decoder0.0 -m mem0 && daxctl reconfigure-device -m devdax' "$tmp/log" &&
	! grep -q 'second, empty root port' "$tmp/log" &&
		ok "demo shared: the seed's volatile lab as written, no root port added" ||
		bad "demo shared: not the seed's volatile lab"
else
	grep -q 'second, empty root port' "$tmp/log" &&
		ok "demo shared: the one-port bridge got its second root port (QEMU 7.2)" ||
		bad "demo shared: no note about the second root port"
fi
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
lab status >"$tmp/log" 2>&1 && [ "$(grep -c running "$tmp/log")" = 2 ] &&
	grep -q '^QEMU [0-9.]* (.*), Linux [0-9]' "$tmp/log" &&
	ok "status: 2 guests running, $(head -1 "$tmp/log")" || bad "status"
lab exec nohost true >"$tmp/log" 2>&1
[ $? = 1 ] && grep -q 'host nohost' "$tmp/log" && ok "exec on an unknown host: refused, naming it" ||
	bad "exec on an unknown host"
lab up "$src/tests/topologies/qemu-doc-pmem.topo" >"$tmp/log" 2>&1
[ $? = 1 ] && grep -q 'already up' "$tmp/log" && ok "up while up: refused" || bad "up while up"

# ---- down ----
pids=$(lab_pids)
lab down >"$tmp/log" 2>&1 && none_left "$pids" && ok "down: guests stopped, state and backing files removed" ||
	bad "down left something: $(ls -d "$CXLEMU_LAB_DIR"* 2>/dev/null) $pids"

# ---- a guest and cxlemu on one file ----
t0=$(date +%s)
if [ $has_vol = 1 ]; then
	if lab demo mixed >"$tmp/log" 2>&1 &&
	   grep -A2 '^\[cxlemu host2\]\$ LD_PRELOAD=.* daxreader' "$tmp/log" | grep -q '^Hello from the guest!$' &&
	   grep -A2 '^\[host1\]# daxreader' "$tmp/log" | grep -q '^Hello from cxlemu!$'; then
		ok "demo mixed: guest -> cxlemu and cxlemu -> guest through one file ($(elapsed))"
	else
		bad "demo mixed"
	fi
	lab down >/dev/null 2>&1
else
	lab demo mixed >"$tmp/log" 2>&1
	[ $? = 1 ] && grep -q 'needs QEMU >= 8.1' "$tmp/log" && none_left "" &&
		ok "demo mixed on QEMU 7.2: refused, naming the QEMU it needs" || bad "demo mixed on 7.2"
fi

# ---- the interleave demo ----
t0=$(date +%s)
if lab demo interleave >"$tmp/log" 2>&1 && grep -q 'a 4-way region' "$tmp/log" &&
   grep -q '"interleave_ways":4' "$tmp/log"; then
	ok "demo interleave: 4-way region, data back, in one device's file ($(elapsed))"
else
	bad "demo interleave"
fi
pids=$(lab_pids)
lab down >/dev/null 2>&1
none_left "$pids" && ok "down after interleave" || bad "down after interleave"

# ---- compare: the guest's `cxl list` against cxlemu's ----
# volatile topologies need QEMU >= 8.1; the slower ones run with
# CXLEMU_LAB_FULL=1 (make check-lab-full)
topos="qemu-doc-pmem qemu-doc-vmem lab-switch-vmem seed000-shared-lab seed002-install"
[ "${CXLEMU_LAB_FULL:-0}" = 1 ] &&
	topos="$topos qemu-doc-vmem-lsa qemu-doc-2hb-interleave qemu-doc-switch seed001-shared-lab lab-dcd"
for t in $topos; do
	t0=$(date +%s)
	lab compare "$src/tests/topologies/$t.topo" >"$tmp/log" 2>&1
	rc=$?
	need=""
	[ $has_dcd = 0 ] && grep -q num-dc-regions "$src/tests/topologies/$t.topo" && need=9.1
	[ $has_vol = 0 ] && grep -q volatile-memdev "$src/tests/topologies/$t.topo" && need=8.1
	if [ -n "$need" ]; then
		[ $rc = 1 ] && grep -q "needs QEMU >= $need" "$tmp/log" && none_left "" &&
			ok "compare $t: this QEMU cannot boot it (needs $need, a listed limit)" ||
			bad "compare $t on an older QEMU (rc $rc)"
		continue
	fi
	[ $rc = 0 ] && grep -q ' 0 unexplained differences in all' "$tmp/log" && none_left "" &&
		ok "compare $t: no unexplained difference, as booted and after the same region ($(elapsed))" ||
		bad "compare $t (rc $rc)"
done

# ---- dynamic capacity ----
t0=$(date +%s)
CXLEMU="$opt/cxlemu" sh "$src/scripts/lab/dcd.sh" "$tmp/dcd" 2>"$tmp/log"
rc=$?
if [ $has_dcd = 0 ]; then
	[ $rc = 77 ] && grep -q 'needs QEMU >= 9.1' "$tmp/log" && ok "dcd: skipped, this QEMU has no dynamic capacity (9.1)" ||
		bad "dcd on a QEMU without it (rc $rc)"
elif [ $rc = 0 ] && grep -A2 '^== QMP: add' "$tmp/dcd" | grep -q '^{$' &&
     grep -q 'cannot release extent with pending DPA range' "$tmp/dcd" &&
     grep -q 'region id is too large' "$tmp/dcd" && none_left ""; then
	ok "dcd: QEMU took the add, refused to release capacity the host never accepted ($(elapsed))"
else
	bad "dcd (rc $rc)"
	cat "$tmp/log" "$tmp/dcd" 2>/dev/null | tail -20
fi

# ---- bad input ----
if [ $has_vol = 0 ]; then
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
lab up "$src/tests/topologies/qemu-doc-pmem.topo" --kernel 0.0-none >"$tmp/log" 2>&1
[ $? = 1 ] && grep -q "no kernel matching '0.0-none'" "$tmp/log" && none_left "" &&
	ok "up with a kernel that is not installed: refused, naming the installed ones" || bad "up --kernel 0.0-none"
lab up >"$tmp/log" 2>&1
[ $? = 2 ] && ok "up without a topology: usage" || bad "up without a topology"

echo "check-lab: $(($(date +%s) - start)) s in all"
echo "$passed passed, $failed failed"
[ $failed = 0 ]
