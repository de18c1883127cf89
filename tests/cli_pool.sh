#!/bin/sh
# cli_pool.sh - the pooling demo (examples/pool-demo.sh) end to end, then
# the FM endpoint's answers to bad input: each a CCI return code and a
# sentence in JSON, never a crash, never capacity granted twice.
. "$(dirname "$0")/clilib.sh"

sh "$CXLEMU_SRC/examples/pool-demo.sh" "$CXLEMU_BIN" >"$T/out" 2>"$T/err" ||
	fail "pool-demo failed"
out_has 'host3 got host1.s extent zeroed'

cp "$CXLEMU_SRC/examples/pool-three-hosts.topo" "$T/"
(cd "$T" && "$CXLEMU_BIN" start pool-three-hosts.topo) >/dev/null 2>&1 ||
	fail "start"

# the same block twice, to two hosts: refused, never granted twice
run 0 fm add 8 --host-id 0 --policy prescriptive --extent 0:2M
run 1 fm add 8 --host-id 1 --policy prescriptive --extent 0:2M
out_has "already allocated to host host1"
out_has '"reason":'
# misaligned to the 2 MiB block
run 1 fm add 8 --host-id 1 --policy prescriptive --extent 1M:2M
out_has '"rc":30'
# a tag nobody holds
run 1 fm add 8 --host-id 1 --policy shared \
	--tag 12345678-1234-1234-1234-123456789abc
out_has 'does not exist'
# a host ID the device does not have
run 1 fm extents 8 --host-id 7
out_has '"rc_name":"invalid input"'
# an endpoint no device has, an unknown opcode, a wrong length
run 1 fm identify 9
out_has 'endpoint id 9'
run 1 fm raw 8 5700
out_has '"rc_name":"unsupported"'
run 1 fm raw 8 5601 0000
out_has '"rc_name":"invalid payload length"'
run 1 fm raw pool0 0001 00
out_has '"rc":22'
run 2 fm add 8 --host-id 0
err_has 'needs --policy'
# host1 rejects its offer: nothing is granted, the block is free again
run 0 --host host1 dcd mem0 reject
out_has '"rejected":\['
run 1 --host host1 dcd mem0 read 0 16
err_has 'has not accepted'
run 0 fm add 8 --host-id 1 --policy prescriptive --extent 0:2M
run 0 --host host2 dcd mem0 accept
out_has '"generation":1'
out_has '"device":"dcd0.0"'
run 0 --host host2 list -M -N
out_has '"dax_devices":\['
out_has '"device":"dcd0.0"'
# a release of something host2 does not hold
run 1 fm release 8 --host-id 1 --policy prescriptive --extent 64M:2M
out_has '"reason":'
run 0 stop
