#!/bin/sh
# Dynamic capacity in the lab, recorded: boot tests/topologies/lab-dcd.topo
# (a cxl-type3 with two dynamic capacity regions, QEMU >= 9.1), add 128 MiB
# of region 0 through QEMU's QMP, try to release it, and write what each
# side said to OUT (default stdout):
#   - QEMU's answers to cxl-add-dynamic-capacity / -release-;
#   - Linux: `cxl list -M -I -u` and the memdev's sysfs before and after,
#     the cxl trace events (event records the driver took from the
#     mailbox), the DPA map in debugfs, and the kernel log's CXL lines.
#   scripts/lab/dcd.sh [OUT]
# Runs `cxlemu lab` from $CXLEMU (default: build/cxlemu beside this
# repository).  Exit 0 when the steps ran (whatever Linux made of them),
# 1 when the lab could not run them, 77 when this QEMU has no dynamic
# capacity (it needs QEMU >= 9.1).
set -u
src=$(cd "$(dirname "$0")/../.." && pwd)
cxlemu=${CXLEMU:-$src/build/cxlemu}
out=${1:-/dev/stdout}
qemu=${CXLEMU_QEMU:-qemu-system-x86_64}
t0=$(date +%s)
say() { echo "dcd: [$(($(date +%s) - t0)) s] $*" >&2; }
if ! "$qemu" -device cxl-type3,help 2>/dev/null | grep -q num-dc-regions; then
	echo "dcd: $($qemu --version | head -1) has no dynamic capacity (cxl-type3 num-dc-regions); it needs QEMU >= 9.1 (scripts/lab/deps.sh installs 10.0 from bookworm-backports)" >&2
	exit 77
fi
dev=/machine/peripheral/cxl-dcd0
extent='"extents":[{"offset":0,"len":134217728}]'
add="{\"execute\":\"cxl-add-dynamic-capacity\",\"arguments\":{\"path\":\"$dev\",\"host-id\":0,\"selection-policy\":\"prescriptive\",\"region\":0,$extent}}"
rel="{\"execute\":\"cxl-release-dynamic-capacity\",\"arguments\":{\"path\":\"$dev\",\"host-id\":0,\"removal-policy\":\"prescriptive\",\"region\":0,$extent}}"
view='echo "-- cxl list -M -I -u"; cxl list -M -I -u
echo "-- /sys/bus/cxl/devices/mem0: ram/size pmem/size payload_max"
cat /sys/bus/cxl/devices/mem0/ram/size /sys/bus/cxl/devices/mem0/pmem/size /sys/bus/cxl/devices/mem0/payload_max
echo "-- /sys/bus/cxl/devices/mem0/ (attributes)"; ls /sys/bus/cxl/devices/mem0
echo "-- /sys/kernel/debug/cxl/mem0/dpamem"; cat /sys/kernel/debug/cxl/mem0/dpamem
echo "-- trace events (cxl)"; grep -v "^#" /sys/kernel/tracing/trace
echo "-- kernel log, CXL lines"; dmesg | grep -i -E "cxl|dcd|dynamic" | grep -v -E "Command line|command line"'

tmp=$(mktemp -d)
trap '"$cxlemu" lab down >/dev/null 2>&1; rm -rf "$tmp"' EXIT
{
	echo "# dynamic capacity under the lab: tests/topologies/lab-dcd.topo"
	say "booting tests/topologies/lab-dcd.topo"
	"$cxlemu" lab up "$src/tests/topologies/lab-dcd.topo" 2>"$tmp/up" || { cat "$tmp/up" >&2; exit 1; }
	"$cxlemu" lab status | head -1 | sed 's/^/# /'
	"$cxlemu" lab exec host0 'mount -t tracefs tracefs /sys/kernel/tracing 2>/dev/null; echo 1 >/sys/kernel/tracing/events/cxl/enable' >/dev/null
	echo "== Linux, as booted"
	"$cxlemu" lab exec host0 "$view"
	echo "== QMP: add 128 MiB at offset 0 of DC region 0"
	echo "$add"
	"$cxlemu" lab qmp host0 "$add" 2>&1
	echo "(exit status $?)"
	sleep 2
	echo "== Linux, after the add"
	"$cxlemu" lab exec host0 "$view"
	echo "== QMP: release it"
	echo "$rel"
	"$cxlemu" lab qmp host0 "$rel" 2>&1
	echo "(exit status $?)"
	echo "== QMP: add to DC region 2 (the device has 2) and with policy free"
	"$cxlemu" lab qmp host0 "$(echo "$add" | sed 's/"region":0/"region":2/')" 2>&1
	"$cxlemu" lab qmp host0 "$(echo "$add" | sed 's/prescriptive/free/')" 2>&1
	say "done"
} >"$out"
