#!/bin/sh
# Programs nobody here wrote, run unmodified under `cxlemu run` on two
# hosts that share one device: Python's mmap, fio's dev-dax and mmap
# engines, PMDK's daxio, memtester, dd, stat, ls and cat on the device's
# sysfs.  Each must find a device-DAX character device and exchange data
# with the other host through it; what Linux device-DAX refuses (dd's
# read and write) must fail with EINVAL and leave the media untouched.
. "$(dirname "$0")/clilib.sh"
: "${CXLEMU_BUILD:?run through tests/run.sh}"

for prog in python3 fio daxio memtester dd stat; do
	command -v "$prog" >/dev/null ||
		fail "$prog is missing: run scripts/deps.sh as root (it installs python3 fio pmdk-tools memtester)"
done

for h in host1 host2; do
	cat <<TOPO
[host $h]
-machine q35,cxl=on
-object memory-backend-file,id=v0,mem-path=$T/shared.raw,size=256M,share=on
-device pxb-cxl,bus_nr=12,bus=pcie.0,id=cxl.1
-device cxl-rp,port=0,bus=cxl.1,id=rp0,chassis=0,slot=0
-device cxl-type3,bus=rp0,volatile-memdev=v0,id=d0
-M cxl-fmw.0.targets.0=cxl.1,cxl-fmw.0.size=4G
TOPO
done >"$T/two.topo"
run 0 start "$T/two.topo"
for h in host1 host2; do
	run 0 --host $h create-region -d decoder0.0 -t ram -m mem0
	run 0 --host $h reconfigure-device dax0.0 -m devdax
done

# on host H, in $T (programs that change directory keep the preload)
on() {
	h=$1
	shift
	(cd / && timeout 120 "$CXLEMU_BIN" --host "$h" run -- "$@") \
		>"$T/out" 2>"$T/err"
}

# --- what the device looks like
on host1 stat -c '%F %t:%T %s %a' /dev/dax0.0 || fail "stat /dev/dax0.0"
out_has "^character special file fc:0 0 600$"
on host1 stat /dev/dax7.0 && fail "stat of a device the host lacks worked"
err_has "No such file or directory"
on host1 sh -c 'echo "$LD_PRELOAD"' || fail "run: no shell"
out_has "^/.*/libcxlemu-preload.so$"
on host1 cat /sys/dev/char/252:0/size /sys/bus/dax/devices/dax0.0/align ||
	fail "sysfs attributes"
out_has "^268435456$"
out_has "^2097152$"
on host1 ls -l /sys/bus/dax/devices/ || fail "ls of the dax bus"
out_has "dax0.0 -> ../../../devices/platform/ACPI0017:00/root0/decoder0.0/region0/dax_region0/dax0.0"
[ -s "$T/err" ] && fail "ls complained"

# --- Python: os and mmap as a Python program uses them
cat >"$T/daxpy.py" <<'PY'
import mmap, os, sys
dev = "/dev/dax0.0"
st = os.stat(dev)
rdev = "%d:%d" % (os.major(st.st_rdev), os.minor(st.st_rdev))
sub = os.path.realpath("/sys/dev/char/%s/subsystem" % rdev)
size = int(open("/sys/dev/char/%s/size" % rdev).read())
print("rdev", rdev, "subsystem", sub, "size", size)
print("devices", sorted(os.listdir("/sys/bus/dax/devices")))
print("driver", os.path.basename(os.readlink("/sys/bus/dax/devices/dax0.0/driver")))
fd = os.open(dev, os.O_RDWR)
m = mmap.mmap(fd, 1 << 21)          # device-DAX: shared, 2 MiB multiples
if sys.argv[1] == "write":
    m[4096:4096 + len(sys.argv[2])] = sys.argv[2].encode()
else:
    print("read", m[4096:4096 + int(sys.argv[2])].decode())
try:
    os.read(fd, 16)
except OSError as e:
    print("os.read errno", e.errno)
PY
on host1 python3 "$T/daxpy.py" write "hello from host1 in python" ||
	fail "python on host1"
out_has "^rdev 252:0 subsystem /sys/bus/dax size 268435456$"
out_has "^devices \['dax0.0'\]$"
out_has "^driver device_dax$"
out_has "^os.read errno 22$"
on host2 python3 "$T/daxpy.py" read 26 || fail "python on host2"
out_has "^read hello from host1 in python$"

# --- fio: the dev-dax engine (realpath + fopen of sysfs) and the mmap
# engine; each pattern written on host1 is verified on host2, and a wrong
# pattern is caught there (so the check can fail)
fio_job() { # HOST ENGINE PATTERN EXTRA...
	h=$1 eng=$2 pat=$3
	shift 3
	on "$h" fio --name=x --ioengine="$eng" --filename=/dev/dax0.0 \
		--rw=write --bs=2m --size=8m --verify=pattern \
		--verify_pattern="$pat" --minimal "$@"
}
fio_job host1 dev-dax 0x5a5aa5a5 --do_verify=1 || fail "fio dev-dax write"
fio_job host2 dev-dax 0x5a5aa5a5 --verify_only || fail "fio dev-dax verify"
fio_job host2 dev-dax 0x12345678 --verify_only &&
	fail "fio verified a pattern nobody wrote"
err_has "verify"
fio_job host1 mmap 0x0badcafe --do_verify=1 || fail "fio mmap write"
fio_job host2 mmap 0x0badcafe --verify_only || fail "fio mmap verify"

# --- PMDK's daxio, both directions
head -c 1048576 /dev/urandom >"$T/in.bin"
on host1 daxio -o /dev/dax0.0 -i "$T/in.bin" -l 1M || fail "daxio in"
err_has "copied 1048576 bytes to device \"/dev/dax0.0\""
on host2 daxio -i /dev/dax0.0 -o "$T/back.bin" -l 1M || fail "daxio out"
cmp "$T/in.bin" "$T/back.bin" || fail "daxio: host2 read back other bytes"

# --- memtester on the device
on host2 memtester -p 0 -d /dev/dax0.0 4M 1 || fail "memtester"
out_has "Done"

# --- dd: Linux refuses read and write on device-DAX; nothing may change
run 0 --host host1 write region0 0 --data "untouched by dd"
on host1 dd if=/dev/zero of=/dev/dax0.0 bs=1M count=4 &&
	fail "dd into the device succeeded"
err_has "Invalid argument"
on host1 dd if=/dev/dax0.0 of="$T/dd.out" bs=4k count=1 &&
	fail "dd out of the device succeeded"
err_has "Invalid argument"
run 0 --host host2 read region0 0 15
out_has "^untouched by dd"

# --- a device in system-ram mode has its node but no device (ENXIO)
run 0 --host host2 reconfigure-device dax0.0 -m system-ram
on host2 python3 -c 'import os; os.open("/dev/dax0.0", os.O_RDWR)' &&
	fail "opened a system-ram device"
err_has "No such device or address"
on host2 readlink /sys/bus/dax/devices/dax0.0/driver || fail "kmem link"
out_has "drivers/kmem$"

# --- no fabric: the devices are gone, and the preload says why once
run 0 stop
(cd / && LD_PRELOAD="$CXLEMU_BUILD/libcxlemu-preload.so" stat /dev/dax0.0) \
	>"$T/out" 2>"$T/err" && fail "stat worked without a fabric"
err_has "cxlemu-preload: no fabric to answer"
err_has "No such file or directory"
