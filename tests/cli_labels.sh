#!/bin/sh
# cli_labels.sh - the label storage area and partitions, which outlive the
# daemon: labels written with write-labels read back identically after
# `cxlemu stop` and `start` (the lsa backend is a file), -s/-O select a
# window, zero-labels zeroes only it, ranges past the area are refused,
# and set-partition changes the memdev's capacity at the next start (not
# before), with ndctl's JSON and messages.
. "$(dirname "$0")/clilib.sh"

cat >"$T/lab.topo" <<EOT
-machine q35,cxl=on -m 2G
-object memory-backend-file,id=pm0,mem-path=$T/pm0.raw,size=512M,share=on
-object memory-backend-file,id=lsa0,mem-path=$T/lsa0.raw,size=256K,share=on
-object memory-backend-ram,id=vm1,size=256M
-device pxb-cxl,id=cxl.1,bus=pcie.0,bus_nr=12
-device cxl-rp,id=rp0,bus=cxl.1,port=0,chassis=0,slot=0
-device cxl-rp,id=rp1,bus=cxl.1,port=1,chassis=0,slot=1
-device cxl-type3,bus=rp0,persistent-memdev=pm0,lsa=lsa0,id=pmem0
-device cxl-type3,bus=rp1,volatile-memdev=vm1,id=vmem1
-M cxl-fmw.0.targets.0=cxl.1,cxl-fmw.0.size=4G
EOT
run 0 start "$T/lab.topo"

# 10000 bytes of labels (several Set LSA commands) at offset 4096
i=0
: >"$T/labels"
while [ $i -lt 400 ]; do
	printf 'label %04d: namespace uuid, slot, seq\n' $i >>"$T/labels"
	i=$((i + 1))
done
len=$(wc -c <"$T/labels")
[ "$len" -gt 4096 ] || fail "test labels too small"

run 0 write-labels mem0 -i "$T/labels" -O 4096
err_has "^cxl memdev: cmd_write_labels: wrote 1 mem$"
run 0 read-labels mem0 -s "$len" -O 4096 -o "$T/back"
err_has "^cxl memdev: cmd_read_labels: read 1 mem$"
cmp -s "$T/labels" "$T/back" || fail "labels read back differ"
# the whole area by default, to stdout
run 0 read-labels mem0
[ "$(wc -c <"$T/out")" = 262144 ] || fail "read-labels read $(wc -c <"$T/out") bytes"
# the bytes sit in the lsa backend's file
dd if="$T/lsa0.raw" bs=4096 skip=1 count=1 2>/dev/null >"$T/file"
head -c 4096 "$T/labels" >"$T/want"
cmp -s "$T/want" "$T/file" || fail "labels are not in the lsa file"

# stop, start: the same bytes
run 0 stop
run 0 start "$T/lab.topo"
run 0 read-labels mem0 -s "$len" -O 4096 -o "$T/back2"
cmp -s "$T/labels" "$T/back2" || fail "labels lost across a restart"

# zero-labels zeroes exactly the window it is given
run 0 zero-labels mem0 -s 100 -O 4106
err_has "^cxl memdev: cmd_zero_labels: zeroed 1 mem$"
run 0 read-labels mem0 -s 120 -O 4096
head -c 10 "$T/labels" >"$T/want"
head -c 100 /dev/zero >>"$T/want"
dd if="$T/labels" bs=1 skip=110 count=10 2>/dev/null >>"$T/want"
cmp -s "$T/want" "$T/out" || fail "zero-labels touched the wrong bytes"

# ranges past the area, too much input, and a device without labels
run 1 read-labels mem0 -s 4096 -O 260000
err_has "run past its label storage area (262144 bytes)"
err_has "read 0 mem"
head -c 262145 /dev/zero >"$T/big"
run 1 write-labels mem0 -i "$T/big"
err_has "larger than mem0's label storage area"
run 1 read-labels mem1
err_has "mem1 has no label storage area"
run 2 write-labels mem0 mem1
err_has "single memdev"
run 2 zero-labels mem0 -o "$T/x"
run 1 read-labels mem0 -s 64 -o "$T/nodir/x"
err_has "cannot open"

# set-partition: 512 MiB of persistent media, partitionable in 256 MiB
run 0 list -M -m mem0 -I
out_has '"partition_alignment_size":268435456'
out_has '"active_persistent_size":536870912'
run 1 set-partition mem0 -t ram -s 100M
err_has "not partition aligned"
run 1 set-partition mem0 -t ram -s 1G
err_has "exceeds available capacity"
run 1 set-partition mem1 -t ram
err_has "no available capacity"
run 0 set-partition mem0 -t ram -s 200M -a
out_has '"next_volatile_size":268435456'
out_has '"next_persistent_size":268435456'
err_has "^cxl memdev: cmd_set_partition: set_partition 1 mem$"
# nothing changes before the restart
run 0 list -M -m mem0
out_has '"pmem_size":536870912'
out_lacks '"ram_size"'
run 0 stop
run 0 start "$T/lab.topo"
run 0 list -M -m mem0 -I
out_has '"ram_size":268435456'
out_has '"pmem_size":268435456'
out_has '"active_volatile_size":268435456'
# the new volatile capacity backs a ram region
run 0 create-region -d decoder0.0 -t ram -m mem0
out_has '"size":268435456'
run 0 write region0 0x1000 --data "volatile now"
run 0 read region0 0x1000 12
out_has "volatile now"
run 0 destroy-region all
# and back: all persistent (ndctl's default type, no size)
run 0 set-partition mem0
out_has '"next_volatile_size":0'
out_has '"next_persistent_size":536870912'
run 0 stop
run 0 start "$T/lab.topo"
run 0 list -M -m mem0
out_has '"pmem_size":536870912'
out_lacks '"ram_size"'
# the labels survived the repartitioning
run 0 read-labels mem0 -s 10 -O 4096
head -c 10 "$T/labels" >"$T/want"
cmp -s "$T/want" "$T/out" || fail "labels lost across set-partition"
echo "cli_labels: ok"
