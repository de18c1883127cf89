#!/bin/sh
# An unmodified device-DAX program under the preload maps all of a 1 GiB
# region, 4 ways at 4 KiB, in a handful of mappings at whatever
# vm.max_map_count the machine has (through the region's view), and a
# 256 B region too; what it stores, the daemon's exact path reads, and
# what the exact path wrote before, it reads.
. "$(dirname "$0")/clilib.sh"
: "${CXLEMU_BUILD:?run through tests/run.sh}"
PRELOAD=$CXLEMU_BUILD/libcxlemu-preload.so
cc -std=c11 -O1 -o "$T/viewmap" "$(dirname "$0")/prog_view_map.c" ||
	fail "cannot build prog_view_map"

cat >"$T/four.topo" <<TOPO
-machine q35,cxl=on -m 4G,maxmem=8G,slots=8
-object memory-backend-ram,id=v0,size=512M
-object memory-backend-ram,id=v1,size=512M
-object memory-backend-ram,id=v2,size=512M
-object memory-backend-ram,id=v3,size=512M
-device pxb-cxl,bus_nr=12,bus=pcie.0,id=cxl.1
-device pxb-cxl,bus_nr=64,bus=pcie.0,id=cxl.2
-device cxl-rp,port=0,bus=cxl.1,id=rp0,chassis=0,slot=0
-device cxl-rp,port=1,bus=cxl.1,id=rp1,chassis=0,slot=1
-device cxl-rp,port=0,bus=cxl.2,id=rp2,chassis=0,slot=2
-device cxl-rp,port=1,bus=cxl.2,id=rp3,chassis=0,slot=3
-device cxl-type3,bus=rp0,volatile-memdev=v0,id=d0
-device cxl-type3,bus=rp1,volatile-memdev=v1,id=d1
-device cxl-type3,bus=rp2,volatile-memdev=v2,id=d2
-device cxl-type3,bus=rp3,volatile-memdev=v3,id=d3
-M cxl-fmw.0.targets.0=cxl.1,cxl-fmw.0.targets.1=cxl.2,cxl-fmw.0.size=4G,cxl-fmw.0.interleave-granularity=4k
-M cxl-fmw.1.targets.0=cxl.1,cxl-fmw.1.targets.1=cxl.2,cxl-fmw.1.size=4G,cxl-fmw.1.interleave-granularity=256
TOPO
run 0 start "$T/four.topo"

for dec in decoder0.0 decoder0.1; do
	run 0 create-region -d $dec -t ram -s 1G -m mem0 mem2 mem1 mem3
	r=$(sed -n 's/.*"region":"region\([0-9]*\)".*/\1/p' "$T/out" | head -1)
	[ -n "$r" ] || fail "no region id"
	run 0 reconfigure-device dax$r.0 -m devdax
	run 0 write region$r 0x1234 --data "exact-before"
	timeout 60 env LD_PRELOAD=$PRELOAD "$T/viewmap" /dev/dax$r.0 \
		$((1 << 30)) >"$T/out" 2>"$T/err" || fail "$dec: the program failed"
	out_has "found=exact-before"
	echo "$dec (1 GiB, 4 ways): $(head -1 "$T/out")"
	vmas=$(sed -n 's/^vmas=\([0-9]*\).*/\1/p' "$T/out")
	[ "$vmas" -le 4 ] || fail "$dec: the mapping took $vmas VMAs"
	for t in "0x100 0" "$((4096 * 7 + 5)) 1" "$(((1 << 29) + 777)) 2" \
		 "$(((1 << 30) - 16)) 3"; do
		set -- $t
		run 0 read region$r $1 10
		out_has "view-tag-$2"
	done
	run 0 destroy-region region$r
done
