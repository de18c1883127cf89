#!/bin/sh
# cli_persist.sh - persistent capacity on file-backed devices outlives the
# fabric: write to a 2-way pmem region, stop, start again, create the same
# region, read back the same bytes; they sit in each backing file at the
# DPA that translate names.
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

# a new daemon on the same files
run 0 start "$T/pmem.topo"
run 1 read region0 0 1
err_has "region0"
run 0 create-region -d decoder0.0 -t pmem -w 2 -g 1024 -m mem0 mem1
run 0 read region0 0x7f00 "$len"
cmp -s "$T/payload" "$T/out" || fail "bytes lost across a restart"

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
