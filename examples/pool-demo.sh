#!/bin/sh
# pool-demo.sh - memory pooling with a fabric manager, no VM, no root.
#
# Three hosts share one multi-headed dynamic capacity device
# (examples/pool-three-hosts.topo).  A fabric manager, speaking the FM-API
# to the daemon's FM endpoint (`cxlemu fm`), gives host1 and host2 a
# private extent each and one shared extent under a tag; each host's
# driver (`cxlemu dcd ... accept`) accepts what it is offered; each host
# builds a dynamic_ram_a region whose DAX devices are its extents; host1
# writes a message into the shared extent's device and host2 reads it,
# both with an unmodified Python program under `cxlemu run`; the FM
# takes host1's private extent back and gives it to host3, which finds it
# zeroed, while host1 can no longer reach it.
#
#   sh examples/pool-demo.sh [PATH-TO-cxlemu]     (tests/cli_pool.sh runs it)
set -eu

bin=${1:-build/cxlemu}
case $bin in
/*) ;;
*) bin=$PWD/$bin ;;
esac
[ -x "$bin" ] || { echo "pool-demo: $bin is not built (make build)" >&2; exit 1; }
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d /tmp/cxlemu-pool.XXXXXX)
sock=$tmp/fabric.sock
running=0

cleanup() {
	rc=$?
	trap - EXIT INT TERM HUP
	[ "$running" = 1 ] && "$bin" --socket "$sock" stop >/dev/null 2>&1
	rm -rf "$tmp"
	[ "$rc" = 0 ] || echo "pool-demo: failed (exit $rc)" >&2
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM HUP

cx() { "$bin" --socket "$sock" "$@"; }
step() { printf '\n$ cxlemu %s\n' "$*"; }
die() { echo "pool-demo: $*" >&2; exit 1; }
fm() { step fm "$@"; cx fm "$@" | tee "$tmp/out"; }
host() { h=$1; shift; step --host "$h" "$@"; cx --host "$h" "$@" | tee "$tmp/out"; }
has() { grep -q -e "$1" "$tmp/out" || die "expected '$1' in the last output"; }

tag=c0ffee00-0000-4000-8000-00000000beef
msg="Hello from host1, through the pool"
M=1048576

cp "$here/pool-three-hosts.topo" "$tmp/"
(cd "$tmp" && "$bin" --socket "$sock" start pool-three-hosts.topo)
running=1

fm list
has '"host":"host3"'
fm dcd-info pool0
has '"add_policies"'

# private capacity: 4 MiB for host1 at DPA 0, 4 MiB for host2 at 4 MiB
fm add pool0 --host-id 0 --policy prescriptive --extent 0:4M
fm add pool0 --host-id 1 --policy prescriptive --extent 4M:4M
# shared capacity: 2 MiB under a tag for host1, then the same for host2
fm add pool0 --host-id 0 --policy free --length 2M --tag $tag
fm add pool0 --host-id 1 --policy shared --tag $tag

# each host's driver accepts what it was offered
host host1 dcd mem0 accept
has '"added":\['
host host2 dcd mem0 accept
fm extents pool0 --host-id 1
has "\"tag\":\"$tag\""
shared=$(cx fm extents pool0 --host-id 1 | tr -d ' \n' |
	 sed "s/.*\"offset\":\"\([^\"]*\)\",\"length\":\"[^\"]*\",\"tag\":\"$tag\".*/\1/")
[ -n "$shared" ] || die "no shared extent for host2"

# each host builds a region over its dynamic capacity (dynamic_ram_a, as
# Linux's DCD series names the partition): the extents it accepted
# become the region's DAX devices, one per tag, one per untagged extent
for h in host1 host2 host3; do
	step --host $h create-region -t dynamic_ram_a -d decoder0.0 -m mem0
	cx --host $h create-region -t dynamic_ram_a -d decoder0.0 -m mem0 \
		>/dev/null
done
host host2 list -R -X -N
has '"type":"dynamic_ram_a"'
has "\"uuid\":\"$tag\""
# the device of the tag, on each host: daxR.K of its region
tagdev() {
	cx --host "$1" dax list | tr -d ' \n' |
		sed -n "s/.*\"chardev\":\"\([^\"]*\)\",[^}]*\"uuid\":\"$tag\".*/\1/p"
}
dev1=$(tagdev host1)
dev2=$(tagdev host2)
[ -n "$dev1" ] && [ -n "$dev2" ] || die "no DAX device for the tag"

# host1 writes the message and host2 reads it, both unmodified programs
# (Python's os and mmap) opening /dev/daxR.K under the preload library
command -v python3 >/dev/null || die "python3 is needed for the demo"
step --host host1 run -- python3 -c "... mmap /dev/$dev1, write the message"
MSG=$msg cx --host host1 run -- python3 -c '
import os, mmap, sys
m = mmap.mmap(os.open(sys.argv[1], os.O_RDWR), 2 << 20)
m[0:len(os.environ["MSG"])] = os.environ["MSG"].encode()
' "/dev/$dev1"
len=$(printf '%s' "$msg" | wc -c)
step --host host2 run -- python3 -c "... mmap /dev/$dev2, read $len bytes"
got=$(cx --host host2 run -- python3 -c '
import os, mmap, sys
m = mmap.mmap(os.open(sys.argv[1], os.O_RDWR), 2 << 20)
sys.stdout.write(m[0:int(sys.argv[2])].decode())
' "/dev/$dev2" "$len")
printf '%s\n' "$got"
[ "$got" = "$msg" ] || die "host2 read '$got'"
# the driver's exact path sees the same bytes at the extent's DPA
got=$(cx --host host2 dcd mem0 read "$shared" "$len")
[ "$got" = "$msg" ] || die "host2 read '$got' at DPA $shared"

# host1 leaves a secret in its private extent; the FM takes it back
cx --host host1 dcd mem0 write 0 --data "host1's secret"
fm release pool0 --host-id 0 --policy prescriptive --extent 0:4M
host host1 dcd mem0 accept      # the driver gives it back
has '"released":\['
step --host host1 dcd mem0 read 0 14
if cx --host host1 dcd mem0 read 0 14 >/dev/null 2>"$tmp/err"; then
	die "host1 still reads its released extent"
fi
cat "$tmp/err"

# ... and gives it to host3, zeroed
fm add pool0 --host-id 2 --policy prescriptive --extent 0:4M
host host3 dcd mem0 accept
step --host host3 dcd mem0 read 0 14
zeros=$(cx --host host3 dcd mem0 read 0 14 | od -An -tx1 | tr -d ' \n')
echo "$zeros"
[ "$zeros" = "0000000000000000000000000000" ] || die "host3 found '$zeros'"
# the shared extent is still host2's after host1 lets it go
fm release pool0 --host-id 0 --policy tag --tag $tag
host host1 dcd mem0 accept
got=$(cx --host host2 dcd mem0 read "$shared" "$len")
[ "$got" = "$msg" ] || die "host2 lost the shared data: '$got'"
echo
echo "pool-demo: host2 still reads \"$got\"; host3 got host1's extent zeroed"
