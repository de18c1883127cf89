#!/bin/sh
# cli_dcd.sh - dynamic capacity from the command line: two hosts whose
# cxl-type3 name one volatile-dc-memdev file are one multi-headed device;
# `list` shows its DC region 0 as dynamic_ram_a_size and, with -N, the
# regions, extents and head ids; the 48xxh commands answer with the
# specification's payloads, and a refused one says why.
. "$(dirname "$0")/clilib.sh"

host() {
	cat <<EOT
[host $1]
-machine q35,cxl=on -m 2G
-object memory-backend-file,id=dc0,mem-path=$T/dc.raw,size=512M,share=on
-device pxb-cxl,id=cxl.1,bus=pcie.0,bus_nr=12
-device cxl-rp,id=rp0,bus=cxl.1,port=0,chassis=0,slot=0
-device cxl-type3,bus=rp0,volatile-dc-memdev=dc0,num-dc-regions=2,id=dcd0
-M cxl-fmw.0.targets.0=cxl.1,cxl-fmw.0.size=4G
EOT
}
{ host host1; host host2; } >"$T/dcd.topo"
run 0 check "$T/dcd.topo"
out_has "ok: 2 hosts"
run 0 start "$T/dcd.topo"

run 0 --host host2 list -M
out_has '"dynamic_ram_a_size":268435456'
out_lacks 'ram_size'
out_lacks 'dynamic_capacity'
run 0 --host host2 list -M -N -u
out_has '"head":1'
out_has '"heads":2'
out_has '"sharable":true'
out_has '"block_size":2097152'
out_has '"generation":0'
out_has '"extents":\['

payload() { json_val payload_out; }
bytes() { payload | cut -c$(($1 * 2 + 1))-$((($1 + $2) * 2)); }

# Get Dynamic Capacity Configuration: 2 regions of 256 MiB, 2 MiB blocks
run 0 mbox mem0 4800 0800
out_has '"name":"Get Dynamic Capacity Configuration"'
out_has '"out_len":104'
[ "$(bytes 0 2)" = "0202" ] || fail "regions $(bytes 0 2)"
[ "$(bytes 48 8)" = "0000001000000000" ] || fail "region 1 base $(bytes 48 8)"
[ "$(bytes 32 8)" = "0000200000000000" ] || fail "block size $(bytes 32 8)"
[ "$(bytes 88 4)" = "00020000" ] || fail "extents supported $(bytes 88 4)"
# Get Dynamic Capacity Extent List: none yet, generation 0
run 0 mbox mem0 4801 10000000 00000000
[ "$(payload)" = "00000000000000000000000000000000" ] || fail "$(payload)"
# an answer with no offer waiting: invalid input, and why
run 1 mbox mem0 4802 00000000 00000000
out_has '"rc":2'
out_has '"reason":"memdev dcd0: Add Dynamic Capacity Response: no Add Capacity event is waiting for host host1'
# a count that does not match the payload
run 1 mbox mem0 4803 02000000 00000000
out_has '"rc":22'
out_has 'must be 56 bytes long, not 8'
run 0 stop
