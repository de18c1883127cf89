#!/bin/sh
# /dev/cxl/memN under `cxlemu run`: the node (240:N), and the mailbox
# ioctls answered as Linux 6.12 answers them, checked byte for byte
# against what the daemon's mailbox returns (`cxlemu mbox`) and against
# `cxlemu read-labels`: the command table and its flags (enabled from the
# device's Command Effects Log, Set LSA kept by the kernel on a device with
# persistent capacity), Identify, Get Partition Info, Get Health Info, Get
# and Set LSA, Get Supported Logs and Get Log of the CEL, bad ids, sizes,
# reserved fields and pointers, RAW commands, dup/fork, a daemon gone;
# and, where `cxlemu shell` can run (root, FUSE), Debian's unmodified
# `cxl list -H -I -A`, `read-labels` and `write-labels` through them.
. "$(dirname "$0")/clilib.sh"
cc -std=c11 -D_GNU_SOURCE -O1 -o "$T/prog" "$(dirname "$0")/prog_cxl_ioctl.c" ||
	fail "cannot build prog_cxl_ioctl"

# mem0: volatile with a label area (no nvdimm: Set LSA is the user's);
# mem1: persistent (the kernel keeps Set LSA and Set Shutdown State)
cat >"$T/two.topo" <<TOPO
-machine q35,cxl=on -m 2G
-object memory-backend-ram,id=vm0,size=256M
-object memory-backend-file,id=lsa0,mem-path=$T/lsa0.raw,size=128K,share=on
-object memory-backend-file,id=pm1,mem-path=$T/pm1.raw,size=256M,share=on
-object memory-backend-file,id=lsa1,mem-path=$T/lsa1.raw,size=128K,share=on
-device pxb-cxl,id=cxl.1,bus=pcie.0,bus_nr=12
-device cxl-rp,id=rp0,bus=cxl.1,port=0,chassis=0,slot=0
-device cxl-rp,id=rp1,bus=cxl.1,port=1,chassis=0,slot=1
-device cxl-type3,bus=rp0,volatile-memdev=vm0,lsa=lsa0,id=vol0
-device cxl-type3,bus=rp1,persistent-memdev=pm1,lsa=lsa1,id=per1
-M cxl-fmw.0.targets.0=cxl.1,cxl-fmw.0.size=4G
TOPO
run 0 start "$T/two.topo"

prog() {
	(cd / && timeout 60 "$CXLEMU_BIN" run --host host0 -- "$T/prog" "$@") \
		>"$T/out" 2>"$T/err"
}
# the hex the program got from a successful command
got() { sed -n 's/^send: rc=0 errno=0 retval=0 size=[0-9]* out=//p' "$T/out"; }
# the hex `cxlemu mbox MEM OP [IN]` returns (its JSON in $T/mbox)
dev() {
	"$CXLEMU_BIN" mbox "$@" >"$T/mbox" 2>&1
	sed -n 's/^ *"payload_out":"\([0-9a-f]*\)",$/\1/p' "$T/mbox"
}
same() { [ "$1" = "$2" ] || fail "$3: ioctl gave '$1', the mailbox '$2'"; }

# ---- the node ----
prog node /dev/cxl/mem0 || fail "node case failed"
out_has "^fstat: chr 240:0 mode=600 uid=0$"
out_has "^stat: chr 240:0 mode=600$"
out_has "^getfl: rdwr=1$"
for call in read write pread; do
	out_has "^$call: -1 errno=22$"
done
err_has "a CXL memdev cannot be read or written"
out_has "^mmap: failed errno=19$"
out_has "^lseek: 0$"
out_has "^ioctl other: -1 errno=25$"
out_has "^ioctl wrong size: -1 errno=25$"
out_has "^ioctl fionbio: 0$"
out_has "^isatty: 0 errno=25$"
out_has "^open directory: -1 errno=20$"
prog node /dev/cxl/mem1 || fail "node case failed on mem1"
out_has "^fstat: chr 240:1 mode=600 uid=0$"
prog node /dev/cxl/mem2
out_has "^open: errno=2$"
(cd / && "$CXLEMU_BIN" run -- ls -l /dev/cxl) >"$T/out" 2>"$T/err" ||
	fail "ls /dev/cxl failed"
out_has "^crw------- 1 root root 240, 1 .* mem1$"

# ---- the command table ----
# Linux 6.12's table: id, opcode, size_in, size_out (-1: variable); ids 0,
# 2 (RAW), 15-17, 19 and 20 are not in it.  Identify, Get Supported Logs
# and Get Log are always enabled; the others when the CEL lists them.
table="1 4000 0 67
3 0400 0 -1
4 0200 0 80
5 4100 0 32
6 4102 8 -1
7 4200 0 18
8 0401 24 -1
9 4101 10 0
10 4103 -1 0
11 4201 0 16
12 4202 12 0
13 4203 0 1
14 4204 1 0
18 4303 16 4
21 0300 0 8
22 0402 16 4
23 0403 16 0
24 0405 2 -1"
gsl=$(dev mem0 0400)
cel_size=$(echo "$gsl" | cut -c49-56)    # the CEL entry's size, LE hex
le32() { echo "$1" | sed 's/\(..\)\(..\)\(..\)\(..\)/\4\3\2\1/'; }
celsz=$((0x$(le32 "$cel_size")))
[ "$celsz" -gt 0 ] || fail "the device lists no CEL"
cel_uuid=0da9c0b5bf414b788f7996b1623b3f17
glog_in=$cel_uuid"00000000"$(printf '%08x' "$celsz" | sed 's/\(..\)\(..\)\(..\)\(..\)/\4\3\2\1/')
cel=$(dev mem0 0401 "$glog_in")
# the opcodes in the CEL, as 4 hex digits each
echo "$cel" | fold -w 8 | sed 's/^\(..\)\(..\).*/\2\1/' >"$T/cel.ops"
expect() {   # MEMDEV-KEPT-IDS
	i=0
	while [ $i -lt 25 ]; do
		line=$(echo "$table" | awk -v i=$i '$1 == i')
		if [ -z "$line" ]; then
			echo "cmd $i: id=0 flags=0 in=0 out=0"
		else
			set -- $line
			f=0
			case " 1 3 8 " in *" $1 "*) f=1 ;; esac
			grep -qx "$2" "$T/cel.ops" && f=1
			case " $kept " in *" $1 "*) f=$((f | 2)) ;; esac
			echo "cmd $i: id=$1 flags=$f in=$3 out=$4"
		fi
		i=$((i + 1))
	done
}
grep -qx 4000 "$T/cel.ops" || fail "Identify is not in the CEL: $cel"
prog query /dev/cxl/mem0 || fail "query failed"
out_has "^query count: 25$"
kept="" expect >"$T/want"
grep '^cmd ' "$T/out" | diff "$T/want" - || fail "mem0's command table differs"
out_has "^query n_commands after: 26; entry 25 untouched: yes$"
out_has "^query 4: fourth id=3 fifth untouched=yes$"
out_has "^query bad pointer: -1 errno=14$"
out_has "^query short buffer: -1 errno=14$"
prog query /dev/cxl/mem1 || fail "query failed on mem1"
kept="10 14" expect >"$T/want"
grep '^cmd ' "$T/out" | diff "$T/want" - || fail "mem1's command table differs"
# a kernel built with RAW commands lists RAW
CXLEMU_RAW_COMMANDS=1 prog query /dev/cxl/mem0
out_has "^cmd 2: id=2 flags=0 in=-1 out=-1$"

# ---- commands, byte for byte ----
prog send /dev/cxl/mem0 1 - 67
id=$(dev mem0 4000)
same "$(got)" "$(echo "$id" | cut -c1-134)" "Identify into 67 bytes"
prog send /dev/cxl/mem0 1 - 256
same "$(got)" "$id" "Identify into 256 bytes"
out_has "size=69 "
prog send /dev/cxl/mem0 5 - 32
same "$(got)" "$(dev mem0 4100)" "Get Partition Info"
prog send /dev/cxl/mem1 5 - 32
same "$(got)" "$(dev mem1 4100)" "Get Partition Info (mem1)"
run 0 inject mem1 health life-used=42 temperature=35
prog send /dev/cxl/mem1 7 - 18
same "$(got)" "$(dev mem1 4200)" "Get Health Info"
out_has "out=......2a2300"   # life used 42 %, 35 C
prog send /dev/cxl/mem0 4 - 80
same "$(got)" "$(dev mem0 0200)" "Get FW Info"
prog send /dev/cxl/mem1 13 - 1
same "$(got)" "$(dev mem1 4203)" "Get Shutdown State"
prog send /dev/cxl/mem0 3 - var
same "$(got)" "$gsl" "Get Supported Logs"
prog send /dev/cxl/mem0 8 "$glog_in" var
same "$(got)" "$cel" "Get Log of the CEL"
out_has "size=$celsz "

# ---- the label storage area ----
msg=$(printf 'labels through ioctl' | od -An -tx1 | tr -d ' \n')
prog send /dev/cxl/mem0 10 "00010000""00000000""$msg" 0
out_has "^send: rc=0 errno=0 retval=0 size=0 out=$"
run 0 read-labels mem0 -s 20 -O 256
[ "$(cat "$T/out")" = "labels through ioctl" ] ||
	fail "read-labels does not see what Set LSA wrote: $(cat "$T/out")"
printf 'written by cxlemu' >"$T/lab"
run 0 write-labels mem0 -i "$T/lab" -O 1000
prog send /dev/cxl/mem0 6 "e8030000""11000000" var
same "$(got)" "$(od -An -tx1 "$T/lab" | tr -d ' \n')" "Get LSA"
# past the area: the device says Invalid Input; as Linux, out.size stays
# as given and that much output is zeroed
prog send /dev/cxl/mem0 6 "00000200""10000000" 64
out_has "^send: rc=0 errno=0 retval=2 size=64 out=0\{128\}$"
# on the persistent device the kernel keeps the labels
prog send /dev/cxl/mem1 10 "00000000""00000000""$msg" 0
out_has "^send: rc=-1 errno=16 "
err_has "Set Label Storage Area is kept by the kernel"
prog send /dev/cxl/mem1 14 01 0
out_has "^send: rc=-1 errno=16 "
prog send /dev/cxl/mem1 6 "00000000""10000000" var
out_has "^send: rc=0 errno=0 retval=0 size=16 "
# Set Partition Info may not ask to apply at once from user space
prog send /dev/cxl/mem1 9 "0000000000000000""0100" 0
out_has "^send: rc=-1 errno=16 "

# ---- what Linux refuses before the device sees it ----
for bad in 0 25 1000; do
	prog send /dev/cxl/mem0 $bad - 0
	out_has "^send: rc=-1 errno=25 "
done
prog send /dev/cxl/mem0 15 - 0          # Get Poison List, deprecated
out_has "^send: rc=-1 errno=25 "
err_has "is not a command Linux 6.12 offers"
if ! grep -qx 0402 "$T/cel.ops"; then
	prog send /dev/cxl/mem0 22 "00000000000000000000000000000000" 4
	out_has "^send: rc=-1 errno=25 "
	err_has "Get Log Capabilities (id 22) is not in the device's Command Effects Log"
fi
prog send /dev/cxl/mem0 1 - 66
out_has "^send: rc=-1 errno=12 "
err_has "Identify Command returns 67 bytes: out.size 66 is too small"
prog send /dev/cxl/mem0 1 00 67
out_has "^send: rc=-1 errno=12 "
prog send /dev/cxl/mem0 6 00000000 var
out_has "^send: rc=-1 errno=12 "
prog send /dev/cxl/mem0 1 - 67 flags=1
out_has "^send: rc=0 errno=0 retval=0 size=67 "
for f in flags=4 rsvd=1 in_rsvd=1 out_rsvd=1; do
	prog send /dev/cxl/mem0 1 - 67 $f
	out_has "^send: rc=-1 errno=22 "
done
prog send /dev/cxl/mem0 10 00 0 in_size=2049
out_has "^send: rc=-1 errno=22 "
err_has "in.size 2049 is more than the 2048-byte mailbox payload"
for b in cmd in out; do
	prog send /dev/cxl/mem0 6 "0000000010000000" 16 bad=$b
	out_has "^send: rc=-1 errno=14 "
done

# ---- RAW ----
prog send /dev/cxl/mem0 2 - 256 raw_op=0x4000
out_has "^send: rc=-1 errno=1 "
err_has "CONFIG_CXL_MEM_RAW_COMMANDS"
CXLEMU_RAW_COMMANDS=1 prog send /dev/cxl/mem0 2 - 256 raw_op=0x4000
same "$(got)" "$id" "RAW Identify"
for op in 0x4103 0x4101 0x0202 0x4204 0x4300 0x4400 0x4500 0x4600; do
	CXLEMU_RAW_COMMANDS=1 prog send /dev/cxl/mem0 2 - 0 raw_op=$op
	out_has "^send: rc=-1 errno=1 "
	err_has "RAW opcode $op is one the kernel keeps"
done
CXLEMU_RAW_COMMANDS=1 CXLEMU_RAW_ALLOW_ALL=1 prog send /dev/cxl/mem0 2 - 4 raw_op=0x4500
same "$(got)" "$(dev mem0 4500)" "RAW Get Security State, all allowed"
CXLEMU_RAW_COMMANDS=1 prog send /dev/cxl/mem0 2 - 0 raw_op=0x4000 raw_rsvd=1
out_has "^send: rc=-1 errno=22 "
CXLEMU_RAW_COMMANDS=1 prog send /dev/cxl/mem0 2 - 2049 raw_op=0x4000
out_has "^send: rc=-1 errno=22 "
# a background operation: Linux does not wait for one from user space
fw="0002$(printf '%0252d' 0)$(printf '%0256d' 0)"
CXLEMU_RAW_COMMANDS=1 prog send /dev/cxl/mem0 2 "$fw" 0 raw_op=0x0201
out_has "^send: rc=-1 errno=110 "
err_has "started a background operation"

# ---- descriptors and processes ----
prog procs /dev/cxl/mem0 || fail "procs case failed"
out_has "^dup: ok$"
out_has "^dup of dup: ok$"
out_has "^child: ok$"
out_has "^parent after child: ok$"
out_has "^closed: -1 errno=9$"

# measured, not asserted: a round trip per command
prog send /dev/cxl/mem0 1 - 67 repeat=2000
grep '^rate:' "$T/out"

# ---- unmodified ndctl in `cxlemu shell`: libcxl's ioctls are these ----
if [ "$(id -u)" = 0 ] && [ -c /dev/fuse ] && command -v cxl >/dev/null; then
	"$CXLEMU_BIN" shell -- cxl list -M -H -I -A >"$T/shell.json" \
		2>"$T/shell.err" || fail "cxl list -M -H -I -A: $(cat "$T/shell.err")"
	[ -s "$T/shell.err" ] && fail "cxl list complained: $(cat "$T/shell.err")"
	"$CXLEMU_BIN" list -M -H -I -A >"$T/cli.json" || fail "cxlemu list"
	grep -q '"life_used_percent":42' "$T/shell.json" ||
		fail "cxl list -H does not show the health injected: $(cat "$T/shell.json")"
	# a memdev's host aside (the shell's is its PCI function), and its
	# qos classes (ndctl >= 79 prints them, Debian's 76 cannot)
	grep -v '"host":' "$T/shell.json" >"$T/a"
	grep -v -e '"host":' -e '"\(ram\|pmem\)_qos_class":' "$T/cli.json" >"$T/b"
	diff "$T/a" "$T/b" || fail "cxl list -M -H -I -A differs from cxlemu list"
	printf 'written by ndctl' >"$T/nd"
	"$CXLEMU_BIN" shell -- cxl write-labels mem0 -i "$T/nd" -O 2048 \
		>"$T/out" 2>"$T/err" || fail "cxl write-labels failed"
	run 0 read-labels mem0 -s 16 -O 2048
	[ "$(cat "$T/out")" = "written by ndctl" ] ||
		fail "cxl write-labels wrote '$(cat "$T/out")'"
	"$CXLEMU_BIN" shell -- cxl read-labels mem0 -s 16 -O 2048 >"$T/out" \
		2>"$T/err" || fail "cxl read-labels failed"
	[ "$(cat "$T/out")" = "written by ndctl" ] || fail "cxl read-labels read '$(cat "$T/out")'"
	# the persistent device's labels are the kernel's
	! "$CXLEMU_BIN" shell -- cxl write-labels mem1 -i "$T/nd" >"$T/out" \
		2>"$T/err" || fail "cxl write-labels mem1 succeeded"
	err_has "busy"
else
	echo "SKIP: ndctl through cxlemu shell needs root, /dev/fuse and ndctl"
fi

# ---- the daemon goes away under an open memdev: ENXIO, no crash ----
STOP_CMD="env -u LD_PRELOAD $CXLEMU_BIN stop" prog gone /dev/cxl/mem0 ||
	fail "gone case failed"
out_has "^before: ok$"
out_has "^after: errno=6$"
out_has "^query after: -1 errno=6$"
out_has "^bad id after: -1 errno=6$"
out_has "^fstat after: 0$"
out_has "^close after: 0$"
err_has "the device is gone"
