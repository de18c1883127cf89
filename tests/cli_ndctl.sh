#!/bin/sh
# ndctl's own CXL test scripts (test/cxl-*.sh) are the specification of
# what its users rely on; tests/ndctl/*.sh check the same behaviours,
# rewritten for cxlemu, each run inside `cxlemu shell` with unmodified
# ndctl on a fresh fabric shaped like the kernel's cxl_test
# (tests/topologies/cxl-test-shaped.topo, or the file a script names on a
# `# topology: FILE` line, as xor-region.sh does).  Needs root and FUSE.
. "$(dirname "$0")/clilib.sh"
: "${CXLEMU_SRC:?run through tests/run.sh}"
# the optimised build: each script makes thousands of sysfs requests;
# tests/cli_shell.sh runs the same paths under the sanitizers
CXLEMU_BIN=${CXLEMU_OPT_BIN:-$CXLEMU_BIN}

[ "$(id -u)" = 0 ] || { echo "SKIP: cxlemu shell needs root"; exit 0; }
[ -c /dev/fuse ] || { echo "SKIP: no /dev/fuse (FUSE) on this machine"; exit 0; }
for p in cxl bash python3; do
	command -v $p >/dev/null ||
		fail "$p is missing: run scripts/deps.sh as root"
done

for t in "$CXLEMU_SRC"/tests/ndctl/*.sh; do
	topo=$(sed -n 's/^# topology: *//p' "$t" | head -1)
	run 0 start "$CXLEMU_SRC/tests/topologies/${topo:-cxl-test-shaped.topo}"
	timeout 300 "$CXLEMU_BIN" shell -- bash "$t" >"$T/out" 2>"$T/err" ||
		fail "$(basename "$t") failed in cxlemu shell"
	out_has "$(basename "$t" .sh): ok"
	run 0 stop
done
