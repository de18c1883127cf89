#!/bin/sh
# demo.sh - the seed's two-host shared-memory lab, with no VM and no root.
#
# Two hosts (host1, host2), each with one host bridge, one root port and
# one volatile cxl-type3 device; both devices are backed by the same
# 256 MiB file, so they are two heads of one shared device.  Each host
# creates a region over its device, host1 writes a message, host2 reads
# it back.
#
#   sh scripts/demo.sh [PATH-TO-cxlemu]      (make demo runs this)
set -eu

bin=${1:-build/cxlemu}
case $bin in
/*) ;;
*) bin=$PWD/$bin ;;
esac
[ -x "$bin" ] || { echo "demo: $bin is not built (run: make build)" >&2; exit 1; }

msg="Hello from instance 1!"
shared=/tmp/cxlemu-demo-shared.raw   # named by the built-in topology
tmp=$(mktemp -d /tmp/cxlemu-demo.XXXXXX)
sock=$tmp/fabric.sock
made_shared=0
[ -e "$shared" ] || made_shared=1
running=0

cleanup() {
	rc=$?
	trap - EXIT INT TERM HUP
	if [ "$running" = 1 ]; then
		"$bin" --socket "$sock" stop >/dev/null 2>&1 || true
	fi
	if [ "$made_shared" = 1 ]; then
		rm -f "$shared"
	fi
	rm -rf "$tmp"
	if [ "$rc" != 0 ]; then
		echo "demo: failed (exit $rc); the fabric was stopped" >&2
	fi
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM HUP

cx() { "$bin" --socket "$sock" "$@"; }
step() { printf '\n$ %s\n' "$*"; }

step "cxlemu start          # built-in topology: host1 + host2 share one 256 MiB file"
cx start
running=1

step "cxlemu --host host1 create-region -u -d decoder0.0 -t ram -m mem0"
cx --host host1 create-region -u -d decoder0.0 -t ram -m mem0

step "cxlemu --host host2 create-region -u -d decoder0.0 -t ram -m mem0"
cx --host host2 create-region -u -d decoder0.0 -t ram -m mem0

step "cxlemu --host host1 write region0 0 --data \"$msg\""
cx --host host1 write region0 0 --data "$msg"

step "cxlemu --host host2 translate region0 0"
cx --host host2 translate -u region0 0

len=$(printf '%s' "$msg" | wc -c)
step "cxlemu --host host2 read region0 0 $len      # the exact path"
got=$(cx --host host2 read region0 0 "$len")
printf '%s\n' "$got"
[ "$got" = "$msg" ] || { echo "demo: host2 read '$got'" >&2; exit 1; }

# The seed's dax_mode.sh and daxtest: each host switches its DAX device
# from system-ram (where Linux puts a new ram region) to device-DAX, and
# two unmodified devdax programs exchange a message through mmap.
build=$(dirname "$bin")
for h in host1 host2; do
	step "cxlemu --host $h reconfigure-device dax0.0 -m devdax"
	cx --host $h reconfigure-device dax0.0 -m devdax
done
cx --host host1 write region0 0 --data "................................"

# `cxlemu run`: the program runs with the preload library, so
# /dev/dax0.0 (its stat, its sysfs, its mmap) is the host's device
step "cxlemu run --host host1 -- daxwriter \"$msg\""
cx --host host1 run -- "$build/examples/daxwriter" "$msg"

step "cxlemu run --host host2 -- daxreader"
out=$(cx --host host2 run -- "$build/examples/daxreader")
cx stop
running=0
[ "$(printf '%s\n' "$out" | tail -1)" = "$msg" ] ||
	{ echo "demo: daxreader on host2 printed '$out'" >&2; exit 1; }
printf '%s\n' "$out"
