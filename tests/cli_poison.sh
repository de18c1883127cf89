#!/bin/sh
# cli_poison.sh - poison and sanitize through the exact path: a line
# poisoned at the DPA `translate` names makes `cxlemu read` of it fail
# with a message naming that DPA while other lines still read; `list -L`
# reports it at the DPA for the memdev and at the region offset for the
# region; Clear Poison (4302h) writes its 64 bytes and makes the line
# readable again.  Sanitize is refused while the region is committed,
# runs after destroy-region, and zeroes media and labels: the daemon
# completes it on its own (the backing file turns to zeros with no
# request in between), and wait-sanitize returns once it has.  On a device
# two hosts share, poison and sanitize are the device's, and an erase
# waits until the other host's region is gone, saying whose it is.
. "$(dirname "$0")/clilib.sh"

cat >"$T/p.topo" <<EOT
-machine q35,cxl=on -m 2G
-object memory-backend-file,id=pm0,mem-path=$T/pm0.raw,size=256M,share=on
-object memory-backend-file,id=pm1,mem-path=$T/pm1.raw,size=256M,share=on
-object memory-backend-file,id=lsa0,mem-path=$T/lsa0.raw,size=64K,share=on
-object memory-backend-file,id=lsa1,mem-path=$T/lsa1.raw,size=64K,share=on
-device pxb-cxl,id=cxl.1,bus=pcie.0,bus_nr=12
-device cxl-rp,id=rp0,bus=cxl.1,port=0,chassis=0,slot=0
-device cxl-rp,id=rp1,bus=cxl.1,port=1,chassis=0,slot=1
-device cxl-type3,bus=rp0,persistent-memdev=pm0,lsa=lsa0,id=pmem0
-device cxl-type3,bus=rp1,persistent-memdev=pm1,lsa=lsa1,id=pmem1
-M cxl-fmw.0.targets.0=cxl.1,cxl-fmw.0.size=4G
EOT
run 0 start "$T/p.topo"
run 0 create-region -d decoder0.0 -t pmem -w 2 -g 256 -m mem0 mem1

# recognisable bytes over the first 4 KiB of the region
i=0
: >"$T/data"
while [ $i -lt 128 ]; do
	printf 'region byte run %014d\n' $i >>"$T/data"
	i=$((i + 1))
done
"$CXLEMU_BIN" write region0 0 <"$T/data" || fail "write"

# region offset 0x340: the second granule of position 1 (256 B, 2 ways)
run 0 translate region0 0x340
dpa=$(json_val dpa)
host=$(json_val host)
mem=$(json_val memdev)
[ "$dpa" = 320 ] || fail "translate gave DPA $dpa for offset 0x340"
[ "$mem" = mem1 ] || fail "translate gave $mem for offset 0x340"

run 0 inject "$mem" poison start="$dpa" length=64
out_has '"dpa":320'
run 1 read region0 0x340 64
err_has "DPA 0x140 is poisoned"
err_has "$host"
# a read that merely covers the line fails too, naming the same DPA
run 1 read region0 0x300 512
err_has "DPA 0x140"
# the neighbouring lines, and the other device, still read
run 0 read region0 0x300 64
dd if="$T/data" bs=64 skip=12 count=1 2>/dev/null >"$T/want"
cmp -s "$T/want" "$T/out" || fail "line before the poison"
run 0 read region0 0x380 64
run 0 read region0 0x200 256
# writes are not refused and do not clear poison
run 0 write region0 0x350 --data "x"
run 1 read region0 0x340 1

# list -L: the memdev at the DPA, the region at its own offset
run 0 list -M -m "$mem" -L
out_has '"media_errors"'
out_has '"offset":320'
out_has '"length":64'
out_has '"source":"Internal"'
run 0 list -M -m mem0 -L
out_lacks "media_errors"
run 0 list -R -L
out_has '"offset":832'
# Get Poison List itself: one record, DPA 0x140 | source 2, one line
run 0 mbox "$mem" 4300 0000000000000000 0000040000000000
bytes() { json_val payload_out | cut -c$(($1 * 2 + 1))-$((($1 + $2) * 2)); }
[ "$(bytes 10 2)" = "0100" ] || fail "poison list count $(bytes 10 2)"
[ "$(bytes 32 8)" = "4201000000000000" ] || fail "record $(bytes 32 8)"

# Clear Poison: DPA then the 64 bytes to write in its place
fill=$(printf '5a%.0s' $(seq 64))
run 1 mbox "$mem" 4302 4001000000000000 "$fill" 00
out_has '"rc":22'
run 1 read region0 0x340 64
run 0 mbox "$mem" 4302 4001000000000000 "$fill"
out_has '"rc":0'
run 0 read region0 0x340 64
printf 'Z%.0s' $(seq 64) >"$T/want"
cmp -s "$T/want" "$T/out" || fail "Clear Poison did not write its data"
run 0 list -R -L
out_lacks "media_errors"

# Sanitize: refused while the region is committed
printf 'precious labels' >"$T/lab"
run 0 write-labels mem0 -i "$T/lab"
run 1 sanitize-memdev mem0
err_has "committed decoders"
err_has "sanitize failed on 0 mem device"
run 0 read region0 0 64
dd if="$T/data" bs=64 count=1 2>/dev/null >"$T/want"
cmp -s "$T/want" "$T/out" || fail "a refused sanitize changed the media"
run 1 sanitize-memdev mem0 -e
err_has "committed decoders"

run 0 destroy-region region0
run 0 sanitize-memdev mem0
err_has "^cxl memdev: cmd_sanitize_memdev: sanitize completed/started on 1 mem device$"
# media disabled while it runs
run 1 read-labels mem0 -s 16
err_has "media disabled"
run 1 sanitize-memdev mem0
err_has "busy: Sanitize"
# the daemon finishes it without being asked: watch the backing file
head -c 64 "$T/pm0.raw" >"$T/before"
cmp -s "$T/before" "$T/want" || fail "mem0's first line is not in its file"
head -c 64 /dev/zero >"$T/zero"
n=0
while ! { head -c 64 "$T/pm0.raw" | cmp -s - "$T/zero"; }; do
	n=$((n + 1))
	[ $n -lt 100 ] || fail "sanitize did not complete on its own in 10 s"
	sleep 0.1
done
run 0 wait-sanitize mem0 -t 5000
err_has "wait sanitize completed on 1 mem device"
run 0 read-labels mem0 -s 16
head -c 16 /dev/zero >"$T/want"
cmp -s "$T/want" "$T/out" || fail "sanitize left the labels"
# mem1 was not touched
head -c 64 "$T/pm1.raw" >"$T/m1"
dd if="$T/data" bs=256 skip=1 count=1 2>/dev/null | head -c 64 >"$T/want"
cmp -s "$T/want" "$T/m1" || fail "sanitizing mem0 changed mem1"
# a new region over the sanitized device reads zeros
run 0 create-region -d decoder0.0 -t pmem -w 2 -g 256 -m mem0 mem1
head -c 64 /dev/zero >"$T/want"
run 0 read region1 0 64
cmp -s "$T/want" "$T/out" || fail "sanitized media reads back non-zero"
# wait-sanitize with nothing running returns at once
run 0 wait-sanitize mem1 -t 0
run 0 stop

# Two hosts whose backends name one file hold two heads of one device:
# poison injected through host1 fails host2's read of that line, and a
# sanitize through host1 is refused while host2's region maps the media.
cp "$T/data" "$T/sh.raw"
for h in host1 host2; do
	cat <<EOT
[host $h]
-machine q35,cxl=on
-object memory-backend-file,id=m,mem-path=$T/sh.raw,size=256M,share=on
-device pxb-cxl,id=cxl.1,bus=pcie.0,bus_nr=12
-device cxl-rp,id=rp0,bus=cxl.1,port=0,chassis=0,slot=0
-device cxl-type3,bus=rp0,volatile-memdev=m,id=shared
-M cxl-fmw.0.targets.0=cxl.1,cxl-fmw.0.size=4G
EOT
done >"$T/sh.topo"
# another topology on the same socket: not the first one's state
run 0 start --fresh "$T/sh.topo"
run 0 --host host2 create-region -d decoder0.0 -t ram -m mem0
run 0 --host host2 read region0 0x40 64
run 0 --host host1 inject mem0 poison start=64 length=64
run 1 --host host2 read region0 0x40 64
err_has "DPA 0x40 is poisoned"
run 0 --host host2 list -L -m mem0
out_has '"offset":64'
run 1 --host host1 sanitize-memdev mem0
err_has "mem0: busy: host host2's shared, a head of the same device, has committed decoders"
head -c "$(wc -c <"$T/data")" "$T/sh.raw" | cmp -s - "$T/data" ||
	fail "a refused sanitize changed the shared device"
run 0 --host host2 destroy-region region0
run 0 --host host1 sanitize-memdev mem0
# host1's sanitize runs: host2 cannot start another, nor map the media
run 1 --host host2 sanitize-memdev mem0
err_has "busy: host host1's shared, a head of the same device, is sanitizing it"
run 0 --host host2 create-region -d decoder0.0 -t ram -m mem0
run 1 --host host2 read region1 0 64
err_has "sanitize in progress through host host1's shared"
run 0 stop
echo "cli_poison: ok"
