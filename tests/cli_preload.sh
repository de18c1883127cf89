#!/bin/sh
# The preload library against what real device-DAX programs do, with
# Linux device-DAX's answers: shared mappings only, lengths, offsets and
# splits at multiples of the 2 MiB align, SIGBUS past the end, EINVAL for
# read/write/fsync/msync, dup()ed descriptors, fork, threads, partial
# munmap, mremap; a device stays held exactly while something names it.
. "$(dirname "$0")/clilib.sh"
: "${CXLEMU_BUILD:?run through tests/run.sh}"
PRELOAD=$CXLEMU_BUILD/libcxlemu-preload.so
cc -std=c11 -D_GNU_SOURCE -O1 -o "$T/edges" "$(dirname "$0")/prog_dax_edges.c" -lpthread ||
	fail "cannot build prog_dax_edges"

cat >"$T/one.topo" <<TOPO
-machine q35,cxl=on
-object memory-backend-file,id=v0,mem-path=$T/v0.raw,size=256M,share=on
-device pxb-cxl,bus_nr=12,bus=pcie.0,id=cxl.1
-device cxl-rp,port=0,bus=cxl.1,id=rp0,chassis=0,slot=0
-device cxl-rp,port=1,bus=cxl.1,id=rp1,chassis=0,slot=1
-device cxl-type3,bus=rp0,volatile-memdev=v0,id=d0
-M cxl-fmw.0.targets.0=cxl.1,cxl-fmw.0.size=4G
TOPO
run 0 start "$T/one.topo"
run 0 create-region -d decoder0.0 -t ram -m mem0
run 0 reconfigure-device dax0.0 -m devdax

# HOLD_CHECK exits non-zero while the device is held (destroy-region is
# refused); when the region was free it is destroyed, so the check makes
# it again (a new id, a new daxN.0) for the next case.
cat >"$T/hold" <<HOLD
#!/bin/sh
unset LD_PRELOAD   # it is the program's, not cxlemu's
"$CXLEMU_BIN" destroy-region all >/dev/null 2>>$T/hold.log || exit 1
r=\$("$CXLEMU_BIN" create-region -d decoder0.0 -t ram -m mem0 2>/dev/null |
	sed -n 's/.*"region":"region\([0-9]*\)".*/\1/p')
"$CXLEMU_BIN" reconfigure-device dax\$r.0 -m devdax >/dev/null 2>&1
exit 0
HOLD
HOLD_CHECK="sh $T/hold"
export HOLD_CHECK
dax() {
	timeout 60 env LD_PRELOAD=$PRELOAD DAXDEV=/dev/dax$1 "$T/edges" "$2" \
		>"$T/out" 2>"$T/err"
}

run 0 write region0 0 --data "untouched"
dax 0.0 private || fail "private case failed"
out_has "private: refused errno=22"
err_has "shared only"
run 0 read region0 0 9
out_has "^untouched"

dax 0.0 dup || fail "dup case failed"
out_has "dup: through a dup"

dax 0.0 fork || fail "fork case failed"
out_has "fork: child=0 parent-held=yes seen=child inherited"

# the region is recreated by HOLD_CHECK whenever it was free, so dax0.0
# may now be dax1.0 etc.: find the current device
cur() { "$CXLEMU_BIN" dax list | sed -n 's/.*"chardev":"dax\([0-9]*\.0\)".*/\1/p' | head -1; }
dax "$(cur)" partial || { cat $T/hold.log; fail "partial case failed"; }
out_has "partial: unaligned errno=22"
err_has "not a multiple of its align"
out_has "partial: held=yes"
grep -q "partial: after all unmapped held=no" $T/out || { cat $T/hold.log; fail "still held"; }

# mremap: growing is refused; a moved mapping keeps the device held
# until the moved range is unmapped
dax "$(cur)" mremap || { cat "$T/out" "$T/err"; fail "mremap case failed"; }
out_has "mremap grow: errno=22"
err_has "can shrink or move, not grow"
out_has "mremap unaligned shrink: errno=22"
out_has "mremap unaligned destination: errno=22"
out_has "mremap move: moved along held=yes"
out_has "mremap: after the moved range unmapped held=no"

dax "$(cur)" bounds || fail "bounds case failed"
out_has "len0: errno=22"
out_has "lenmax: errno=22"
out_has "negative: errno=22"
out_has "unaligned length: errno=22"
out_has "unaligned offset: errno=22"
out_has "unaligned fixed address: errno=22"
err_has "multiples of the device's align (2048 KiB)"
out_has "address aligned: yes"
# Linux maps past the end of a device-DAX device; the bytes fault
out_has "past end: mapped, touch=SIGBUS"
err_has "touching those pages raises SIGBUS"

dax "$(cur)" linux || fail "linux case failed"
out_has "fstat: chr 252:[0-9]* size=0"
for call in read write pread pwrite fsync ftruncate msync; do
	out_has "^$call: errno=22"
done
err_has "cannot be read or written with system calls"
err_has "msync(MS_SYNC) of a mapping"
out_has "lseek: 0"
out_has "ioctl: errno=25"
out_has "isatty: 0 errno=25"
out_has "getfl: rdwr=1 rdonly=1"
out_has "madvise remove: errno=19"
out_has "madvise dontneed: 0 kept"
out_has "mprotect unaligned: errno=22"
out_has "mprotect aligned: 0"
out_has "dup then close: kept"

dax "$(cur)" threads || fail "threads case failed"
out_has "threads: failed=0 seen=abcdefgh"
run 0 stop
