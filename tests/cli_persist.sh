#!/bin/sh
# cli_persist.sh - persistent capacity on file-backed devices outlives the
# fabric: write to a 2-way pmem region, stop, start again: the region is
# back (the state file) with the same bytes, which sit in each backing
# file at the DPA that translate names.  The same after a kill -9; a state
# file cut short or written for another topology is refused; --fresh
# starts clean and the bytes are still where they were.
. "$(dirname "$0")/clilib.sh"

cat >"$T/pmem.topo" <<EOT
-machine q35,cxl=on -m 2G
-object memory-backend-file,id=pm0,mem-path=$T/pm0.raw,size=256M,share=on
-object memory-backend-file,id=pm1,mem-path=$T/pm1.raw,size=256M,share=on
-object memory-backend-file,id=lsa0,mem-path=$T/lsa0.raw,size=256K,share=on
-object memory-backend-file,id=lsa1,mem-path=$T/lsa1.raw,size=256K,share=on
-device pxb-cxl,id=cxl.1,bus=pcie.0,bus_nr=12
-device cxl-rp,id=rp0,bus=cxl.1,port=0,chassis=0,slot=0
-device cxl-rp,id=rp1,bus=cxl.1,port=1,chassis=0,slot=1
-device cxl-type3,bus=rp0,persistent-memdev=pm0,lsa=lsa0,id=pmem0
-device cxl-type3,bus=rp1,persistent-memdev=pm1,lsa=lsa1,id=pmem1
-M cxl-fmw.0.targets.0=cxl.1,cxl-fmw.0.size=4G
EOT

# 3000 bytes that are not all alike, spanning granules of both devices
i=0
: >"$T/payload"
while [ $i -lt 100 ]; do
	printf 'line %03d of the payload...\n' $i >>"$T/payload"
	i=$((i + 1))
done
len=$(wc -c <"$T/payload")

run 0 start "$T/pmem.topo"
run 0 create-region -d decoder0.0 -t pmem -w 2 -g 1024 -m mem0 mem1
"$CXLEMU_BIN" write region0 0x7f00 <"$T/payload" || fail "write"
run 0 read region0 0x7f00 "$len"
cmp -s "$T/payload" "$T/out" || fail "read back before restart"
run 0 stop
[ ! -e "$SOCK" ] || fail "socket left after stop"

# a new daemon on the same files: the region is back, and its bytes
run 0 start "$T/pmem.topo"
err_has "1 region restored from $T/fabric.state"
run 0 read region0 0x7f00 "$len"
cmp -s "$T/payload" "$T/out" || fail "bytes lost across a restart"
run 0 list -R -D
out_has '"decode_state":"commit"'
out_has '"interleave_granularity":1024'

# killed: the last change is on disk, whole
printf 'after the kill' | "$CXLEMU_BIN" write region0 0x100 || fail "write"
pid=
for p in /proc/[0-9]*; do
	{ tr '\0' ' ' <"$p/cmdline"; } 2>/dev/null |
		grep -q -e " start $T/pmem.topo" && pid=${p#/proc/}
done
[ -n "$pid" ] || fail "no daemon pid"
kill -9 "$pid"
while kill -0 "$pid" 2>/dev/null; do sleep 0.05; done
run 0 start "$T/pmem.topo"
run 0 read region0 0x100 14
[ "$(cat "$T/out")" = "after the kill" ] || fail "a write lost to kill -9"

# a program that maps a device outlives a killed daemon: the next one
# names it, and destroy-region waits for it (a 1-way region: 1 KiB
# granules cannot be mapped)
run 0 destroy-region region0
run 0 create-region -d decoder0.0 -t pmem -s 256M -m mem0
"$CXLEMU_BIN" run -- python3 -c '
import mmap, os, sys, time
m = mmap.mmap(os.open("/dev/dax1.0", os.O_RDWR), 2 << 20)
m[0:4] = b"MAPD"
sys.stdout.write("mapped\n"); sys.stdout.flush()
time.sleep(60)' >"$T/prog.out" 2>"$T/prog.err" &
prog=$!
i=0
until grep -q mapped "$T/prog.out" 2>/dev/null; do
	i=$((i + 1))
	[ $i -lt 200 ] || { cat "$T/prog.err"; fail "the mapping program did not map"; }
	sleep 0.05
done
pid=
for p in /proc/[0-9]*; do
	{ tr '\0' ' ' <"$p/cmdline"; } 2>/dev/null |
		grep -q -e " start $T/pmem.topo" && pid=${p#/proc/}
done
kill -9 "$pid"
while kill -0 "$pid" 2>/dev/null; do sleep 0.05; done
run 0 start "$T/pmem.topo"
err_has "1 program of the previous daemon of this fabric still maps its media (pid [0-9]* (python3))"
run 1 destroy-region region1
err_has "destroy-region is refused while 1 program of an earlier daemon"
pkill -P "$prog" 2>/dev/null
kill "$prog" 2>/dev/null
wait "$prog" 2>/dev/null
i=0
until "$CXLEMU_BIN" destroy-region region1 >/dev/null 2>&1; do
	i=$((i + 1))
	[ $i -lt 100 ] || fail "destroy-region still refused after the program ended"
	sleep 0.05
done
run 0 create-region -d decoder0.0 -t pmem -w 2 -g 1024 -m mem0 mem1
run 0 stop

# a state file cut short, or from another topology: refused, saying so
cp "$T/fabric.state" "$T/good.state"
head -c 200 "$T/good.state" >"$T/fabric.state"
run 1 start "$T/pmem.topo"
err_has "state file $T/fabric.state: it is not a whole JSON object"
err_has "start with --fresh"
[ ! -e "$SOCK" ] || fail "a refused state left a socket"
cp "$T/good.state" "$T/fabric.state"
sed 's/size=4G/size=8G/' "$T/pmem.topo" >"$T/other.topo"
run 1 start "$T/other.topo"
err_has "it was written for another topology ($T/pmem.topo"
# --fresh: no region, the bytes still in the files
run 0 start --fresh "$T/pmem.topo"
run 1 read region0 0 1
err_has "region0"
run 0 create-region -d decoder0.0 -t pmem -w 2 -g 1024 -m mem0 mem1
run 0 read region0 0x7f00 "$len"
cmp -s "$T/payload" "$T/out" || fail "bytes lost across --fresh"

# byte 0x8000 of the region is in the second granule of 1 KiB at position
# 0 or 1: find it in its backing file at the DPA translate gives
run 0 translate region0 0x8000
dpa=$(json_val dpa)
host=$(json_val host)
case $host in
pmem0) file=$T/pm0.raw ;;
pmem1) file=$T/pm1.raw ;;
*) fail "translate named host '$host'" ;;
esac
dd if="$file" bs=1 skip="$dpa" count=16 2>/dev/null >"$T/media"
dd if="$T/payload" bs=1 skip=256 count=16 2>/dev/null >"$T/want"
cmp -s "$T/want" "$T/media" || fail "media at $host DPA $dpa holds other bytes"

# another program truncates a backing file under the region: reads and
# writes through it fail with EIO, the daemon lives on
truncate -s 4096 "$T/pm0.raw"
run 1 read region0 0 65536
err_has "gone from a backing file"
run 1 write region0 0x8000 --data "into the void"
err_has "gone from a backing file"
run 0 list -R
echo "cli_persist: ok"
