#!/bin/sh
# Regions under windows with XOR arithmetic, end to end, on two hosts
# sharing two devices (file backends): the bytes land at the DPA the XOR
# maps choose (checked in the files themselves), whether they go through
# a device-DAX mapping (daxwriter, via the preload), the daemon's exact
# path (cxlemu write) or a region built through sysfs by unmodified
# ndctl (cxl create-region in cxlemu shell, when root with FUSE), and
# the other host reads them back; poison is listed at the region offset
# the maps give; list -D shows the arithmetic;
# qemu-args leaves the keys out.
. "$(dirname "$0")/clilib.sh"
: "${CXLEMU_BUILD:?run through tests/run.sh}"
PRELOAD=$CXLEMU_BUILD/libcxlemu-preload.so
EX=$CXLEMU_BUILD/examples
[ -f "$PRELOAD" ] || fail "no $PRELOAD"

# window 0: x2 at 4 KiB, map 0x80001000 (bit 12, and bit 31, which the
# window's base 0x390000000 has set: granule 0 goes to target 1);
# window 1: x2 at 256 B, cxl_test's map 0x404100
host_lines() {
	cat <<LINES
qemu-system-x86_64 -machine type=q35,cxl=on -m 4G,slots=4,maxmem=8G \\
  -object memory-backend-file,id=v0,mem-path=$T/v0.raw,size=1G,share=on \\
  -object memory-backend-file,id=v1,mem-path=$T/v1.raw,size=1G,share=on \\
  -object memory-backend-file,id=p0,mem-path=$T/p0.raw,size=512M,share=on \\
  -object memory-backend-file,id=p1,mem-path=$T/p1.raw,size=512M,share=on \\
  -object memory-backend-file,id=l0,mem-path=$T/l0.raw,size=128K,share=on \\
  -object memory-backend-file,id=l1,mem-path=$T/l1.raw,size=128K,share=on \\
  -device pxb-cxl,id=cxl.0,bus=pcie.0,bus_nr=52 \\
  -device cxl-rp,id=rp0,bus=cxl.0,chassis=0,port=0,slot=0 \\
  -device cxl-type3,bus=rp0,volatile-memdev=v0,persistent-memdev=p0,lsa=l0,id=cxl-mem0 \\
  -device pxb-cxl,id=cxl.1,bus=pcie.0,bus_nr=112 \\
  -device cxl-rp,id=rp1,bus=cxl.1,chassis=0,port=0,slot=1 \\
  -device cxl-type3,bus=rp1,volatile-memdev=v1,persistent-memdev=p1,lsa=l1,id=cxl-mem1 \\
  -M cxl-fmw.0.targets.0=cxl.0,cxl-fmw.0.targets.1=cxl.1,cxl-fmw.0.size=4G,cxl-fmw.0.interleave-granularity=4k,cxl-fmw.0.interleave-arithmetic=xor,cxl-fmw.0.xormap.0=0x80001000,\\
cxl-fmw.1.targets.0=cxl.0,cxl-fmw.1.targets.1=cxl.1,cxl-fmw.1.size=4G,cxl-fmw.1.interleave-arithmetic=xor,cxl-fmw.1.xormap.0=0x404100
LINES
}
{ echo "[host host1]"; host_lines; echo "[host host2]"; host_lines; } >"$T/xor.topo"

# N bytes of FILE at OFFSET, as text
file_at() { dd if="$1" bs=1 skip="$2" count="$3" 2>/dev/null; }

# write_found REGION OFFSET TEXT FILE FILE_OFFSET: host1 writes TEXT, it
# is in FILE at FILE_OFFSET, host2 reads it back
write_found() {
	printf '%s' "$3" >"$T/msg"
	"$CXLEMU_BIN" --host host1 write "$1" "$2" <"$T/msg" >"$T/out" \
		2>"$T/err" || fail "write to $1 failed"
	[ "$(file_at "$4" "$5" ${#3})" = "$3" ] ||
		fail "$(basename "$4") lacks '$3' at offset $5"
	run 0 --host host2 read "$1" "$2" ${#3}
	out_has "^$3\$"
}

run 0 check "$T/xor.topo"
# qemu-args on the same windows over persistent memory only, which every
# QEMU with CXL takes (Debian 12's own 7.2 has no volatile CXL memory)
sed 's/volatile-memdev=v[01],//' "$T/xor.topo" >"$T/xor-pmem.topo"
run 0 qemu-args "$T/xor-pmem.topo" --host host1
out_lacks xormap
out_lacks arithmetic
err_has "cxl-fmw.0.interleave-arithmetic=xor,cxl-fmw.0.xormap.0=0x80001000,cxl-fmw.1.interleave-arithmetic=xor,cxl-fmw.1.xormap.0=0x404100 left out: cxlemu's own window keys"
out_has "cxl-fmw.1.size=4G"
run 0 check "$T/xor.topo"
[ -s "$T/err" ] && fail "check warned: $(cat "$T/err")"

run 0 start "$T/xor.topo"
run 0 --host host1 list -D -d decoder0.1
out_has '"interleave_arithmetic":"xor"'
out_has '"0x404100"'

# a ram region over window 0 on each host, mapped by unmodified programs
for h in host1 host2; do
	run 0 --host $h create-region -d decoder0.0 -t ram -s 512M -m mem0 mem1
	out_has '"region":"region0"'
	run 0 --host $h reconfigure-device -f dax0.0 -m devdax
done
run 0 --host host1 translate region0 0
out_has '"memdev":"mem1"'
out_has '"dpa":0,'
run 0 --host host1 translate region0 4096
out_has '"memdev":"mem0"'
timeout 60 env LD_PRELOAD=$PRELOAD CXLEMU_HOST=host1 "$EX/daxwriter" "Hello through XOR" \
	>"$T/out" 2>"$T/err" || fail "daxwriter failed"
[ "$(file_at "$T/v1.raw" 0 17)" = "Hello through XOR" ] ||
	fail "mem1's file lacks the message at DPA 0: $(file_at "$T/v1.raw" 0 17)"
[ "$(file_at "$T/v0.raw" 0 5)" = "Hello" ] && fail "the message reached mem0"
timeout 60 env LD_PRELOAD=$PRELOAD CXLEMU_HOST=host2 "$EX/daxreader" >"$T/out" 2>"$T/err" ||
	fail "daxreader failed"
out_has "^Hello through XOR$"

# window 1 at 256 B through the daemon's exact path: region offset 0x4000
# has HPA bit 14 set, so map 0x404100 sends it to target 1, mem1, at DPA
# offset 0x2000 of its decoder (after region0's 256 MiB)
for h in host1 host2; do
	run 0 --host $h create-region -d decoder0.1 -t ram -s 512M -m mem0 mem1
	out_has '"region":"region1"'
done
run 0 --host host1 translate region1 0x4000
out_has '"memdev":"mem1"'
out_has '"dpa":268443648,'
write_found region1 0x4000 "bytes at 0x4000" "$T/v1.raw" 268443648
# the neighbour granule (bit 8 set too: parity 0) is mem0's
run 0 --host host1 translate region1 0x4100
out_has '"memdev":"mem0"'
out_has '"dpa":268443648,'
# poison at that DPA of mem1 is listed at the region offset the maps give
run 0 --host host1 inject mem1 poison start=268443648 length=64
run 0 --host host1 list -R -L -r region1
out_has '"offset":16384,'
run 0 --host host1 mbox mem1 4302 0020001000000000 "$(printf '00%.0s' $(seq 64))"
out_has '"rc":0'

# the same through sysfs, by unmodified ndctl inside cxlemu shell: a pmem
# region on window 1 built with Linux's protocol, then the exact path
if [ "$(id -u)" = 0 ] && [ -c /dev/fuse ] && command -v cxl >/dev/null; then
	timeout 120 "$CXLEMU_BIN" --host host1 shell -- cxl create-region \
		-d decoder0.1 -m mem0 mem1 >"$T/out" 2>"$T/err" ||
		fail "cxl create-region in cxlemu shell failed"
	out_has '"region":"region2"'
	run 0 --host host2 create-region -d decoder0.1 -m mem0 mem1
	out_has '"region":"region2"'
	run 0 --host host1 translate region2 0x4000
	out_has '"memdev":"mem1"'
	out_has '"media_offset":8192$'
	write_found region2 0x4000 "pmem via sysfs" "$T/p1.raw" 8192
else
	echo "note: not root with FUSE and ndctl: the sysfs flow is skipped"
fi
run 0 stop
