#!/bin/sh
# bench_fio.sh - fio's mmap engine on an emulated device-DAX device, as a
# ratio to the same job on a /dev/shm file, measured in the same run.
#
# The device is a 1-way ram region on memfd media, switched to devdax and
# reached through `cxlemu run` (the preload library); the baseline is a
# file of the same size on /dev/shm (tmpfs, also shared memory).  Each job
# (sequential write, then read, 2 MiB blocks over 256 MiB, 8 loops) runs
# PASSES times, alternating device and file so that load from elsewhere
# falls on both alike; the table shows the best and the median GiB/s.
#
#   sh bench/bench_fio.sh BUILD_DIR
set -u
B=${1:-build}
PASSES=${PASSES:-5}
command -v fio >/dev/null || { echo "bench_fio: fio is missing (scripts/deps.sh)"; exit 1; }
T=$(mktemp -d /tmp/cxlemu-bench.XXXXXX)
SOCK=$T/fabric.sock
SHM=/dev/shm/cxlemu-bench-$$
cleanup() {
	"$B/cxlemu" --socket "$SOCK" stop >/dev/null 2>&1
	rm -rf "$T" "$SHM"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

cat >"$T/one.topo" <<TOPO
-machine q35,cxl=on
-object memory-backend-ram,id=v0,size=256M
-device pxb-cxl,bus_nr=12,bus=pcie.0,id=cxl.1
-device cxl-rp,port=0,bus=cxl.1,id=rp0,chassis=0,slot=0
-device cxl-type3,bus=rp0,volatile-memdev=v0,id=d0
-M cxl-fmw.0.targets.0=cxl.1,cxl-fmw.0.size=4G
TOPO
C="$B/cxlemu --socket $SOCK"
$C start "$T/one.topo" >/dev/null || exit 1
$C create-region -d decoder0.0 -t ram -m mem0 >/dev/null 2>&1 || exit 1
$C reconfigure-device dax0.0 -m devdax >/dev/null || exit 1
truncate -s 256M "$SHM"

# GiB/s of one fio job: TARGET RW
one() {
	if [ "$1" = dev ]; then
		run="$C run --"
		file=/dev/dax0.0
	else
		run=""
		file=$SHM
	fi
	$run fio --name=b --ioengine=mmap --filename="$file" --rw="$2" \
		--bs=2m --size=256m --loops=8 --output-format=terse \
		--terse-version=3 2>/dev/null |
	awk -F';' -v rw="$2" '{ kib = (rw == "read") ? $7 : $48;
		printf "%.2f\n", kib / 1048576 }'
}

# best and median of a list of numbers
stats() {
	sort -n | awk '{ v[NR] = $1 } END { printf "%s %s\n", v[NR], v[int((NR + 1) / 2)] }'
}

printf "fio ioengine=mmap, 2 MiB blocks, 256 MiB x 8 loops, %d passes (GiB/s: best, median)\n" "$PASSES"
printf "%-8s %-22s %-22s %s\n" job "/dev/shm file" "/dev/dax0.0 (cxlemu)" "ratio (best, median)"
for rw in write read; do
	: >"$T/dev" ; : >"$T/shm"
	i=0
	while [ $i -lt "$PASSES" ]; do
		one dev $rw >>"$T/dev"
		one shm $rw >>"$T/shm"
		i=$((i + 1))
	done
	set -- $(stats <"$T/shm") $(stats <"$T/dev")
	printf "%-8s %6s %6s %15s %6s %8.2f %6.2f\n" "$rw" "$1" "$2" \
		"$3" "$4" "$(echo "$3 $1" | awk '{print $1/$2}')" \
		"$(echo "$4 $2" | awk '{print $1/$2}')"
done
