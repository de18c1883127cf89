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
# a dynamic_ram_a region over host2's DC partition: its extent becomes
# dax0.0; wrong ways and sizes are refused, naming the rule
run 1 --host host2 create-region -t dynamic_ram_a -d decoder0.0 -w 2 mem0
err_has 'a dynamic_ram_a region has 1 way, not 2'
run 1 --host host2 create-region -t dynamic_ram_a -d decoder0.0 -s 1G mem0
err_has 'region size 0x40000000 does not fit its dynamic_ram_a partition'
run 2 --host host2 create-region -t dc -d decoder0.0 mem0
err_has "type 'dc' is not"
run 0 --host host2 create-region -t dynamic_ram_a -d decoder0.0 -m mem0
out_has '"type":"dynamic_ram_a"'
run 0 --host host2 list -R -X -N
out_has '"extents":\['
out_has '"chardev":"dax0.0"'
run 0 --host host2 dax list
out_has '"chardev":"dax0.0"'
out_lacks '"chardev":"dax0.1"'
# outside the extent nothing is reachable; inside, the extent's DPA
run 1 --host host2 translate region0 4M
err_has 'in no extent host host2 has accepted'
run 1 --host host2 read region0 4M 16
err_has 'has not accepted'
run 0 --host host2 translate region0 4096
out_has '"mode":"dynamic_ram_a"'
out_has '"dpa":4096'
run 1 --host host2 reconfigure-device dax0.0 -m system-ram
err_has 'stay device-DAX'
# an unmodified program maps /dev/dax0.0 under the preload; the sysfs
# view sizes it; a forced release revokes the mapping: SIGBUS
# host2's python3 maps /dev/dax0.0, stores, and touches it for 10 s;
# returns once it has mapped (its exit status lands in $T/prog.rc)
map_in_background() {
	: >"$T/prog.out"
	(cd / && "$CXLEMU_BIN" --host host2 run -- python3 -c '
import os, mmap, sys, time
m = mmap.mmap(os.open("/dev/dax0.0", os.O_RDWR), 2 << 20)
m[0:4] = b"mine"
print("mapped", flush=True)
for _ in range(200):
    time.sleep(0.05)
    m[0:4]
print("still mapped", flush=True)
' >"$T/prog.out" 2>"$T/prog.err"; echo $? >"$T/prog.rc") &
	i=0
	while ! grep -q mapped "$T/prog.out" 2>/dev/null; do
		i=$((i + 1))
		[ $i -lt 200 ] || fail "the mapping program did not start"
		sleep 0.05
	done
}
if command -v python3 >/dev/null; then
	run 0 --host host2 run -- sh -c \
		'cat /sys/bus/dax/devices/dax0.0/size; ls -l /dev/dax0.0'
	out_has '^2097152$'
	out_has '^crw'
	map_in_background
	run 1 fm release 8 --host-id 1 --policy prescriptive --extent 0:2M
	out_has 'mapped by client'
	run 1 --host host2 destroy-region region0
	err_has 'mapped by 1 client'
	run 0 fm release 8 --host-id 1 --policy prescriptive --extent 0:2M \
		--forced
	wait
	[ "$(cat "$T/prog.rc")" = 135 ] ||
		fail "the program exited $(cat "$T/prog.rc"), not by SIGBUS"
	grep -q 'still mapped' "$T/prog.out" && fail "the program kept access"
	run 0 --host host2 dcd mem0 accept
	out_has '"length":2097152'
	out_has '"generation":2'
	run 0 --host host2 dax list
	out_lacks 'dax0.0'
	# the region goes (forced, while mapped): so does the mapping
	run 0 fm add 8 --host-id 1 --policy prescriptive --extent 8M:2M
	run 0 --host host2 dcd mem0 accept
	map_in_background
	run 0 --host host2 destroy-region -f region0
	wait
	[ "$(cat "$T/prog.rc")" = 135 ] ||
		fail "after destroy -f the program exited $(cat "$T/prog.rc")"
	# the capacity stays the host's, through its driver's exact path
	run 0 --host host2 dcd mem0 read 8M 4
	run 0 --host host2 create-region -t dynamic_ram_a -d decoder0.0 mem0
else
	echo "cli_pool: python3 missing, the preload steps are skipped"
fi
run 0 --host host2 destroy-region all
# a release of something host2 does not hold
run 1 fm release 8 --host-id 1 --policy prescriptive --extent 64M:2M
out_has '"reason":'
run 0 stop
