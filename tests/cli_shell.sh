#!/bin/sh
# `cxlemu shell`: Debian's unmodified ndctl (`cxl`) inside the shell must
# list the fabric exactly as `cxlemu list` does (memdev "host" aside: the
# shell's is the PCI function Linux would name, cxlemu's the QEMU id=),
# on QEMU's two-bridge example and on its switch example; the machine's
# own sysfs must stay reachable, and the fabric's read-only attributes
# must refuse writes.  Needs root and FUSE: says so and skips otherwise.
. "$(dirname "$0")/clilib.sh"
: "${CXLEMU_BUILD:?run through tests/run.sh}"

[ "$(id -u)" = 0 ] || { echo "SKIP: cxlemu shell needs root"; exit 0; }
[ -c /dev/fuse ] || { echo "SKIP: no /dev/fuse (FUSE) on this machine"; exit 0; }
command -v cxl >/dev/null ||
	fail "ndctl's cxl is missing: run scripts/deps.sh as root (it installs ndctl)"

topo() { sed "s|/tmp/cxlemu-test-|$T/|g" "$CXLEMU_SRC/tests/topologies/$1"; }

# the same listing both ways, hosts of memdevs aside
same_list() {
	"$CXLEMU_BIN" shell -- cxl list "$@" >"$T/shell.json" 2>"$T/shell.err" ||
		fail "cxl list $* in the shell failed: $(cat "$T/shell.err")"
	# a region's "type" is printed by ndctl >= 77, the qos classes by
	# ndctl >= 79; Debian's 76 prints neither
	"$CXLEMU_BIN" list "$@" 2>&1 | grep -v -e '^ *"type":"\(ram\|pmem\)",$' \
		-e '^ *"\(ram_\|pmem_\)\{0,1\}qos_class":[0-9-]*,$' \
		>"$T/cli.json" || fail "cxlemu list $*"
	[ -s "$T/shell.err" ] && fail "cxl list $* complained: $(cat "$T/shell.err")"
	# line by line: where they differ, it is a memdev's host (the
	# shell's a PCI function, cxlemu's the device's id=)
	paste -d '\n' "$T/shell.json" "$T/cli.json" | awk '
		NR % 2 { a = $0; next }
		a != $0 && !(a ~ /"host":"0000:/ && $0 ~ /"host":"/) {
			print "shell: " a; print "cxlemu: " $0; bad = 1 }
		END { exit bad }' >"$T/diff" ||
		fail "cxl list $* differs from cxlemu list: $(cat "$T/diff")"
	[ "$(wc -l <"$T/shell.json")" = "$(wc -l <"$T/cli.json")" ] ||
		fail "cxl list $*: $(wc -l <"$T/shell.json") lines, cxlemu list $(wc -l <"$T/cli.json")"
}

topo qemu-doc-2hb-interleave.topo >"$T/hb2.topo"
run 0 start "$T/hb2.topo"
for opts in "-M -D -P -u" "-B -T -u" "-E -D -T" "-P -T -u" "-M" "-v" "-vv"; do
	same_list $opts
done
# the port hierarchy: both bridges, each with its two root ports
"$CXLEMU_BIN" shell -- cxl list -P -T -u >"$T/out" 2>"$T/err"
out_has '"host":"ACPI0016:00"'
out_has '"dport":"0000:de:01.0"'

# this machine's own sysfs is still there, and writable where it was
"$CXLEMU_BIN" shell -- cat /sys/devices/system/cpu/online >"$T/out" 2>"$T/err" ||
	fail "the machine's sysfs is gone in the shell"
[ "$(cat "$T/out")" = "$(cat /sys/devices/system/cpu/online)" ] ||
	fail "cpu/online differs"   # (cmp trusts sysfs' 4096-byte sizes)
"$CXLEMU_BIN" shell -- ls /sys/bus >"$T/out" 2>"$T/err"
out_has '^cxl$'
out_has '^pci$'
# the fabric's read-only attributes refuse writes, as sysfs does
"$CXLEMU_BIN" shell -- sh -c 'echo 5 > /sys/bus/cxl/devices/mem0/serial' \
	>"$T/out" 2>"$T/err" && fail "wrote a read-only attribute"
err_has "Permission denied"
# ... and the machine's own sysfs is read-only in the shell
"$CXLEMU_BIN" shell -- sh -c 'echo 1 > /sys/kernel/mm/ksm/run' \
	>"$T/out" 2>"$T/err" && fail "wrote the machine's sysfs"
err_has "Read-only file system"
# outside the shell nothing changed
[ -e /sys/bus/cxl/devices/root0 ] && fail "the shell's /sys leaked out"

# unmodified `cxl create-region`: sysfs writes in Linux's order build the
# region the fabric sees (translate routes through it), and cxl list in
# the shell shows it as cxlemu does; destroy-region undoes it all
"$CXLEMU_BIN" shell -- cxl create-region -m -d decoder0.0 -w 2 mem0 mem2 \
	>"$T/out" 2>"$T/err" || fail "cxl create-region in the shell"
err_has "created 1 region"
out_has '"decode_state":"commit"'
run 0 translate region0 0x2000
out_has '"memdev":"mem2"'
out_has '"dpa":0'
same_list -R -T -u
same_list -D -u
"$CXLEMU_BIN" shell -- cxl destroy-region -f region0 >"$T/out" 2>"$T/err" ||
	fail "cxl destroy-region in the shell"
err_has "destroyed 1 region"
run 0 list -R -i
out_lacks region0
run 0 list -D -d decoder3.0
out_lacks dpa_size

# the kernel's rules, by hand: errors a script gets from each write
# (bash: its echo says why a write failed; dash says "I/O error")
sh_do() { "$CXLEMU_BIN" shell -- bash -c "$1" >"$T/out" 2>"$T/err"; }
D=/sys/bus/cxl/devices
sh_do "echo region7 > $D/decoder0.0/create_ram_region" &&
	fail "created a region with the wrong name"
err_has "Device or resource busy"
sh_do "n=\$(cat $D/decoder0.0/create_ram_region); echo \$n > $D/decoder0.0/create_ram_region && echo 3 > $D/\$n/interleave_ways" &&
	fail "3 ways under an x2 window"
err_has "Invalid argument"
sh_do "echo 2 > $D/region1/interleave_ways && echo 4096 > $D/region1/interleave_granularity" &&
	fail "a granularity other than the x2 window's"
err_has "Invalid argument"
sh_do "echo 8192 > $D/region1/interleave_granularity && echo 0x20000000 > $D/region1/size && echo 1 > $D/region1/commit" &&
	fail "committed a region without targets"
err_has "No such device or address"
sh_do "echo ram > $D/decoder3.0/mode" && fail "ram mode on a pmem-only device"
err_has "No such device or address"
sh_do "echo pmem > $D/decoder3.0/mode && echo 0x10000000 > $D/decoder3.0/dpa_size && echo decoder3.0 > $D/region1/target0" &&
	fail "attached a pmem decoder to a ram region"
err_has "Invalid argument"
sh_do "echo 0 > $D/decoder3.0/dpa_size && echo region1 > $D/decoder0.0/delete_region" ||
	fail "cleaning up by hand: $(cat "$T/err")"
run 0 list -R -i
out_lacks region1

# sanitize through sysfs (what ndctl >= 78's sanitize-memdev writes):
# refused while a region decodes, else started, security/state reading
# "sanitize" until the device is done, and the media zeroed
run 0 create-region -d decoder0.0 -w 2 -m mem0 mem2
sh_do "echo 1 > $D/mem0/security/sanitize" && fail "sanitized under a region"
err_has "Device or resource busy"
run 0 destroy-region all
run 0 create-region -d decoder0.0 -w 2 -m mem1 mem3
r=$(json_val region)
run 0 write "$r" 0 --data "to be sanitized"
run 0 destroy-region all
sh_do "echo 1 > $D/mem1/security/sanitize && for i in \$(seq 300); do s=\$(cat $D/mem1/security/state); [ \$s = sanitize ] || break; sleep 0.1; done; echo \$s" ||
	fail "sanitize through sysfs: $(cat "$T/err")"
out_has "^disabled$"
run 0 create-region -d decoder0.0 -w 2 -m mem1 mem3
run 0 read "$(json_val region)" 0 15 --hex
out_has "00 00 00 00 00 00 00 00"
run 0 destroy-region all
run 0 stop

topo qemu-doc-switch.topo >"$T/sw.topo"
run 0 start --fresh "$T/sw.topo"    # another topology: not its state
for opts in "-M -D -P -E -T -u" "-v"; do
	same_list $opts
done
run 0 stop

# the issue's walk: on two hosts sharing two devices, ndctl builds a
# 2-way region and daxctl checks the mode; then one host's unmodified
# program writes a message the other's reads
for h in host1 host2; do
	cat <<TOPO
[host $h]
-machine q35,cxl=on
-object memory-backend-file,id=p0,mem-path=$T/a.raw,size=256M,share=on
-object memory-backend-file,id=p1,mem-path=$T/b.raw,size=256M,share=on
-object memory-backend-file,id=l0,mem-path=$T/$h-l0.raw,size=128K,share=on
-object memory-backend-file,id=l1,mem-path=$T/$h-l1.raw,size=128K,share=on
-device pxb-cxl,bus_nr=12,bus=pcie.0,id=cxl.1
-device cxl-rp,port=0,bus=cxl.1,id=rp0,chassis=0,slot=0
-device cxl-rp,port=1,bus=cxl.1,id=rp1,chassis=0,slot=1
-device cxl-type3,bus=rp0,persistent-memdev=p0,lsa=l0,id=d0
-device cxl-type3,bus=rp1,persistent-memdev=p1,lsa=l1,id=d1
-M cxl-fmw.0.targets.0=cxl.1,cxl-fmw.0.size=4G,cxl-fmw.0.interleave-granularity=4k
TOPO
done >"$T/two.topo"
run 0 start --fresh "$T/two.topo"
for h in host1 host2; do
	"$CXLEMU_BIN" --host $h shell -- sh -c \
		'cxl create-region -m -d decoder0.0 -w 2 mem0 mem1 && daxctl reconfigure-device -m devdax dax0.0' \
		>"$T/out" 2>"$T/err" || fail "$h: create-region + reconfigure-device"
	out_has '"mode":"devdax"'
done
"$CXLEMU_BIN" --host host1 shell -- "$CXLEMU_BUILD/examples/daxwriter" \
	"Hello through ndctl" >"$T/out" 2>"$T/err" || fail "daxwriter in the shell"
"$CXLEMU_BIN" --host host2 shell -- "$CXLEMU_BUILD/examples/daxreader" \
	>"$T/out" 2>"$T/err" || fail "daxreader in the shell"
out_has "^Hello through ndctl"
run 0 stop

# daxctl switches a ram region's device between system-ram and devdax
# through the dax drivers and the memory blocks (offline, unbind kmem,
# bind device_dax; and back, onlining every block)
cat >"$T/ram.topo" <<TOPO
-machine q35,cxl=on
-object memory-backend-ram,id=v0,size=512M
-device pxb-cxl,bus_nr=12,bus=pcie.0,id=cxl.1
-device cxl-rp,port=0,bus=cxl.1,id=rp0,chassis=0,slot=0
-device cxl-type3,bus=rp0,volatile-memdev=v0,id=d0
-M cxl-fmw.0.targets.0=cxl.1,cxl-fmw.0.size=4G
TOPO
run 0 start --fresh "$T/ram.topo"
run 0 create-region -d decoder0.0 -t ram -m mem0
"$CXLEMU_BIN" shell -- daxctl reconfigure-device -m devdax dax0.0 \
	>"$T/out" 2>"$T/err" && fail "took online memory without -f"
"$CXLEMU_BIN" shell -- daxctl reconfigure-device -f -m devdax dax0.0 \
	>"$T/out" 2>"$T/err" || fail "daxctl to devdax: $(cat "$T/err")"
out_has '"mode":"devdax"'
run 0 dax list
out_has '"mode":"devdax"'
"$CXLEMU_BIN" shell -- daxctl reconfigure-device -m system-ram dax0.0 \
	>"$T/out" 2>"$T/err" || fail "daxctl to system-ram: $(cat "$T/err")"
out_has '"online_memblocks":4'
run 0 dax list
out_has '"mode":"system-ram"'
run 0 stop

# the daemon stops while the shell is open: the fabric's paths go
# (ENOENT), the machine's stay, nothing hangs
run 0 start --fresh "$T/two.topo"
timeout 60 "$CXLEMU_BIN" --host host1 shell -- bash -c \
	"ls /sys/bus/cxl/devices >/dev/null && env -u LD_PRELOAD '$CXLEMU_BIN' stop && ls /sys/bus/cxl/devices; cat /sys/devices/system/cpu/online" \
	>"$T/out" 2>"$T/err"
[ $? = 124 ] && fail "the shell hung when its daemon stopped"
err_has "cannot access '/sys/bus/cxl/devices'"
[ "$(tail -1 "$T/out")" = "$(cat /sys/devices/system/cpu/online)" ] ||
	fail "the machine's sysfs went with the daemon"

# without a daemon: a clear refusal, nothing mounted
"$CXLEMU_BIN" shell -- true >"$T/out" 2>"$T/err" && fail "shell without a fabric"
err_has "no fabric"
