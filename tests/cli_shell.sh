#!/bin/sh
# `cxlemu shell`: Debian's unmodified ndctl (`cxl`) inside the shell must
# list the fabric exactly as `cxlemu list` does (memdev "host" aside: the
# shell's is the PCI function Linux would name, cxlemu's the QEMU id=),
# on QEMU's two-bridge example and on its switch example; the machine's
# own sysfs must stay reachable, and the fabric's read-only attributes
# must refuse writes.  Needs root and FUSE: says so and skips otherwise.
. "$(dirname "$0")/clilib.sh"
: "${CXLEMU_BUILD:?run through tests/run.sh}"

[ "$(id -u)" = 0 ] || { echo "SKIP: cxlemu shell needs root"; exit 0; }
[ -c /dev/fuse ] || { echo "SKIP: no /dev/fuse (FUSE) on this machine"; exit 0; }
command -v cxl >/dev/null ||
	fail "ndctl's cxl is missing: run scripts/deps.sh as root (it installs ndctl)"

topo() { sed "s|/tmp/cxlemu-test-|$T/|g" "$CXLEMU_SRC/tests/topologies/$1"; }

# the same listing both ways, hosts of memdevs aside
same_list() {
	"$CXLEMU_BIN" shell -- cxl list "$@" >"$T/shell.json" 2>"$T/shell.err" ||
		fail "cxl list $* in the shell failed: $(cat "$T/shell.err")"
	"$CXLEMU_BIN" list "$@" >"$T/cli.json" 2>&1 || fail "cxlemu list $*"
	[ -s "$T/shell.err" ] && fail "cxl list $* complained: $(cat "$T/shell.err")"
	# line by line: where they differ, it is a memdev's host (the
	# shell's a PCI function, cxlemu's the device's id=)
	paste -d '\n' "$T/shell.json" "$T/cli.json" | awk '
		NR % 2 { a = $0; next }
		a != $0 && !(a ~ /"host":"0000:/ && $0 ~ /"host":"/) {
			print "shell: " a; print "cxlemu: " $0; bad = 1 }
		END { exit bad }' >"$T/diff" ||
		fail "cxl list $* differs from cxlemu list: $(cat "$T/diff")"
	[ "$(wc -l <"$T/shell.json")" = "$(wc -l <"$T/cli.json")" ] ||
		fail "cxl list $*: $(wc -l <"$T/shell.json") lines, cxlemu list $(wc -l <"$T/cli.json")"
}

topo qemu-doc-2hb-interleave.topo >"$T/hb2.topo"
run 0 start "$T/hb2.topo"
for opts in "-M -D -P -u" "-B -T -u" "-E -D -T" "-P -T -u" "-M" "-v" "-vv"; do
	same_list $opts
done
# the port hierarchy: both bridges, each with its two root ports
"$CXLEMU_BIN" shell -- cxl list -P -T -u >"$T/out" 2>"$T/err"
out_has '"host":"ACPI0016:00"'
out_has '"dport":"0000:de:01.0"'

# this machine's own sysfs is still there, and writable where it was
"$CXLEMU_BIN" shell -- cat /sys/devices/system/cpu/online >"$T/out" 2>"$T/err" ||
	fail "the machine's sysfs is gone in the shell"
[ "$(cat "$T/out")" = "$(cat /sys/devices/system/cpu/online)" ] ||
	fail "cpu/online differs"   # (cmp trusts sysfs' 4096-byte sizes)
"$CXLEMU_BIN" shell -- ls /sys/bus >"$T/out" 2>"$T/err"
out_has '^cxl$'
out_has '^pci$'
# the fabric's read-only attributes refuse writes, as sysfs does
"$CXLEMU_BIN" shell -- sh -c 'echo 5 > /sys/bus/cxl/devices/mem0/serial' \
	>"$T/out" 2>"$T/err" && fail "wrote a read-only attribute"
err_has "Permission denied"
# outside the shell nothing changed
[ -e /sys/bus/cxl/devices/root0 ] && fail "the shell's /sys leaked out"
run 0 stop

topo qemu-doc-switch.topo >"$T/sw.topo"
run 0 start "$T/sw.topo"
for opts in "-M -D -P -E -T -u" "-v"; do
	same_list $opts
done
run 0 stop

# without a daemon: a clear refusal, nothing mounted
"$CXLEMU_BIN" shell -- true >"$T/out" 2>"$T/err" && fail "shell without a fabric"
err_has "no fabric"
