#!/bin/sh
# cli_region.sh - create-region, list, translate, write, read and
# destroy-region end to end, with the errors a user meets: offsets past
# the end (nothing written), bad numbers, unknown memdevs and regions.
. "$(dirname "$0")/clilib.sh"

cat >"$T/one.topo" <<EOT
-machine q35,cxl=on -m 2G
-object memory-backend-ram,id=pm0,size=256M
-object memory-backend-ram,id=pm1,size=256M
-object memory-backend-ram,id=lsa0,size=256K
-object memory-backend-ram,id=lsa1,size=256K
-object memory-backend-ram,id=vm0,size=256M
-device pxb-cxl,id=cxl.1,bus=pcie.0,bus_nr=12
-device cxl-rp,id=rp0,bus=cxl.1,port=0,chassis=0,slot=0
-device cxl-rp,id=rp1,bus=cxl.1,port=1,chassis=0,slot=1
-device cxl-rp,id=rp2,bus=cxl.1,port=2,chassis=0,slot=2
-device cxl-type3,bus=rp0,persistent-memdev=pm0,lsa=lsa0,id=pmem0
-device cxl-type3,bus=rp1,persistent-memdev=pm1,lsa=lsa1,id=pmem1
-device cxl-type3,bus=rp2,volatile-memdev=vm0,id=vmem0
-M cxl-fmw.0.targets.0=cxl.1,cxl-fmw.0.size=4G
EOT
run 0 start "$T/one.topo"

run 0 list -M
out_has '"memdev":"mem0"'
out_has '"memdev":"mem2"'
run 0 list -R
out_lacks "region0"

# usage errors never reach the fabric
run 2 create-region -w 2 mem0 mem1
err_has "root decoder"
run 2 create-region -d decoder0.0 -t bogus mem0
run 2 create-region -d decoder0.0 -s 12Q mem0
err_has "12Q"
run 2 create-region -d decoder0.0 -w 1K mem0
err_has "ways: .1K. is not an unsigned integer"

# refusals from the model carry its reason
run 1 create-region -d decoder0.0 -t pmem -m mem7
err_has "^cxlemu: create-region: "
err_has "mem7"
run 1 create-region -d decoder0.0 -t pmem -w 3 -m mem0 mem1
err_has "^cxlemu: create-region: "

# a 2-way pmem region at 256 B, memdevs in position order
run 0 create-region -d decoder0.0 -w 2 -g 256 -t pmem -m mem1 mem0
out_has '"region":"region0"'
out_has '"interleave_ways":2'
out_has '"mappings"'
err_has "^cxl region: cmd_create_region: created 1 region$"
run 0 create-region -u -d decoder0.0 -t ram -m mem2
out_has '"region":"region1"'
out_has '"size":"256.00 MiB (268.44 MB)"'

run 0 list -R
out_has '"region":"region0"'
out_has '"region":"region1"'
run 0 list -R -T -r region0
out_has '"memdev":"mem1"'
out_lacks '"region":"region1"'

# translate: positions alternate per granule
run 0 translate region0 0
[ "$(json_val position)" = 0 ] || fail "offset 0 position"
[ "$(json_val memdev)" = mem1 ] || fail "offset 0 memdev"
[ "$(json_val host)" = pmem1 ] || fail "offset 0 host"
[ "$(json_val dpa)" = 0 ] || fail "offset 0 dpa"
hpa0=$(json_val hpa)
run 0 translate region0 0x105
[ "$(json_val position)" = 1 ] || fail "offset 0x105 position"
[ "$(json_val memdev)" = mem0 ] || fail "offset 0x105 memdev"
[ "$(json_val dpa)" = 5 ] || fail "offset 0x105 dpa"
[ "$(json_val hpa)" = $((hpa0 + 0x105)) ] || fail "offset 0x105 hpa"
out_has '"decoder":"decoder'
run 0 translate -u region0 1K
[ "$(json_val dpa)" = 0x200 ] || fail "offset 1K dpa"
run 1 translate region0 512M
err_has "region0"
err_has "0x20000000"
run 1 translate region9 0
err_has "region9"
run 2 translate region0 -5
err_has "unknown option -5"
run 2 translate region0

# write and read back: --data, stdin, size suffixes, --hex
run 0 write region0 0x100 --data "hello, fabric"
run 0 read region0 0x100 13
[ "$(cat "$T/out")" = "hello, fabric" ] || fail "read back --data"
printf 'from stdin\000\001\002' | "$CXLEMU_BIN" write region0 1M ||
	fail "write from stdin"
run 0 read region0 1M 13
printf 'from stdin\000\001\002' | cmp -s - "$T/out" || fail "read back stdin"
run 0 read --hex region0 0x100 13
out_has "^00000100  68 65 6c 6c 6f 2c 20 66  61 62 72 69 63  .*|hello, fabric|$"
# another host view of the same bytes is the same device: region1 is ram
run 0 write region1 0 --data volatile
run 0 read region1 0 8
[ "$(cat "$T/out")" = volatile ] || fail "ram region read back"

# past the end: refused whole, nothing written
run 0 write region0 0x1ffffffe --data AB
run 1 write region0 0x1ffffffe --data wxyz
err_has "^cxlemu: write: region0"
err_has "0x1ffffffe"
err_has "0x20000000"
run 0 read region0 0x1ffffffe 2
[ "$(cat "$T/out")" = AB ] || fail "a refused write changed the media"
run 1 read region0 512M 1
err_has "region0"
run 1 read region0 0 0x20000001
[ ! -s "$T/out" ] || fail "a refused read printed bytes"
run 2 read region0 12Q 1
err_has "12Q"
run 1 write region7 0 --data x
err_has "region7"

# destroy: decoders reset from the top, so the newer region goes first
run 1 destroy-region region0
err_has "region1"
run 0 destroy-region region1
err_has "destroyed 1 region$"
run 0 list -R
out_lacks '"region":"region1"'
out_has '"region":"region0"'
run 1 destroy-region region1
err_has "region1"
run 2 destroy-region
run 0 create-region -d decoder0.0 -t ram -m mem2
run 0 destroy-region all
err_has "destroyed 2 regions$"
run 0 list -R
out_lacks '"region"'
echo "cli_region: ok"
