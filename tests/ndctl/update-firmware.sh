#!/bin/bash
# What ndctl's test/cxl-update-firmware.sh checks, written for cxlemu: run
# inside `cxlemu shell` on tests/topologies/cxl-test-shaped.topo.  A
# blocking update (--wait) ends idle with the image staged in the slot
# after the active one; a non-blocking one is in progress when the command
# returns and ends the same way; two memdevs at once, waited for in band;
# a cancelled update ends idle with nothing staged.  The image arrived
# whole: the staged slot's revision is cxlemu's hash of the file (cxl_test
# compares a checksum instead).  Then the firmware-upload ABI's refusals,
# with the kernel's errnos.
#
# Debian's ndctl 76 has no update-firmware (78 has): with it, the same
# steps go through /sys/class/firmware/memN in libcxl's order (1 to
# loading, the image to data, 0 to loading; status polled until idle),
# and the slots are read with cxlemu's listing, which must agree.
# CXL=path runs another cxl (a newer ndctl).
set -e
CXL=${CXL:-cxl}
: "${CXLEMU_BIN:?run by tests/cli_ndctl.sh}"
. "$(dirname "$0")/common"
F=/sys/class/firmware
tmp=$(mktemp -d /tmp/cxlemu-fw.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

new=
"$CXL" update-firmware --help >/dev/null 2>&1 && new=1

mk_fw_file() {   # KiB
	head -c $(($1 * 1024)) /dev/urandom >"$tmp/fw-$1"
	echo "$tmp/fw-$1"
}
# the revision firmware.c gives a slot holding the file
revision() {
	python3 -c '
import sys
h = 2166136261
for b in open(sys.argv[1], "rb").read():
    h = ((h ^ b) * 16777619) & 0xffffffff
print("cxlemu-%08x" % h)' "$1"
}
# a memdev's "firmware" object, from this cxl or from cxlemu's listing
fw_json() {
	if [ -n "$new" ]; then
		"$CXL" list -m "$1" -F
	else
		env -u LD_PRELOAD "$CXLEMU_BIN" list -m "$1" -F
	fi | jsel "o['firmware']"
}
fw_field() { fw_json "$1" | python3 -c "
import ast, sys
print(ast.literal_eval(sys.stdin.read()).get('$2'))"; }

# libcxl's cxl_memdev_update_fw, for an ndctl without it
sysfs_update() {
	f=$1; shift
	for m in "$@"; do
		echo 1 > "$F/$m/loading"
		cat "$f" > "$F/$m/data"
		echo 0 > "$F/$m/loading"
	done
}
# until idle (libcxl's --wait also waits for remaining_size 0, which a
# failed upload leaves as it was, on Linux as here: it would wait forever)
sysfs_wait() {
	for m in "$@"; do
		for i in $(seq 600); do
			[ "$(cat "$F/$m/status")" = idle ] && continue 2
			sleep 0.2
		done
		die "$m: the upload never went idle"
	done
}

update() {   # [--wait] FILE MEMDEV...
	if [ "$1" = --wait ]; then w=1; shift; else w=; fi
	f=$1; shift
	if [ -n "$new" ]; then
		"$CXL" update-firmware -F "$f" ${w:+--wait} "$@" >"$tmp/json"
	else
		sysfs_update "$f" "$@"
		[ -z "$w" ] || sysfs_wait "$@"
	fi
}

wait_complete() {   # a bounded poll, as ndctl's test does
	for i in $(seq 600); do
		[ "$(fw_field "$1" fw_update_in_progress)" = True ] || return 0
		sleep 0.2
	done
	die "$1: the update never completed"
}

# an update just started is still running: the images are large enough
# (512 KiB is some 270 parts of 20 ms of device time) that this holds on
# any machine that can run the suite
expect_running() {   # MEMDEV...
	for m in "$@"; do
		[ "$(fw_field "$m" fw_update_in_progress)" = True ] ||
			die "$m: the update is not in progress"
	done
}

expect_staged() {   # MEMDEV FILE
	[ "$(fw_field "$1" fw_update_in_progress)" = False ] ||
		die "$1: still in progress"
	[ "$(fw_field "$1" staged_slot)" = 2 ] ||
		die "$1: staged slot $(fw_field "$1" staged_slot), wanted 2"
	[ "$(fw_field "$1" slot_2_version)" = "$(revision "$2")" ] ||
		die "$1: slot 2 holds $(fw_field "$1" slot_2_version), not $2"
	[ "$(cat "$F/$1/error")" = "" ] || die "$1: error $(cat "$F/$1/error")"
}

test_blocking_update() {
	f=$(mk_fw_file 64)
	update --wait "$f" mem0
	expect_staged mem0 "$f"
}

test_nonblocking_update() {
	f=$(mk_fw_file 512)
	update "$f" mem1
	expect_running mem1
	[ "$(fw_field mem1 remaining_size)" != None ] ||
		die "mem1: no remaining_size while in progress"
	wait_complete mem1
	expect_staged mem1 "$f"
}

test_multiple_memdev() {
	f=$(mk_fw_file 512)
	update "$f" mem2 mem3
	expect_running mem2 mem3
	# the in-band wait
	if [ -n "$new" ]; then
		"$CXL" update-firmware --wait mem2 mem3 >/dev/null
	else
		sysfs_wait mem2 mem3
	fi
	expect_staged mem2 "$f"
	expect_staged mem3 "$f"
}

test_cancel() {
	f=$(mk_fw_file 2048)     # cancelled long before its end
	update "$f" mem4
	expect_running mem4
	if [ -n "$new" ]; then
		"$CXL" update-firmware --cancel mem4
	else
		echo 1 > "$F/mem4/cancel"
	fi
	wait_complete mem4
	[ "$(fw_field mem4 staged_slot)" = None ] ||
		die "mem4: a cancelled update staged slot $(fw_field mem4 staged_slot)"
	case $(cat "$F/mem4/error") in
	*:user-abort) ;;
	*) die "mem4: error '$(cat "$F/mem4/error")' after a cancel" ;;
	esac
}

test_refusals() {
	# nothing to cancel: ENODEV; 0 is no cancel: EINVAL
	refused "No such device" "$F/mem5/cancel" 1
	refused "Invalid argument" "$F/mem5/cancel" 0
	# ... and that cancel still stops the next upload as it prepares
	f=$(mk_fw_file 4)
	sysfs_update "$f" mem5
	sysfs_wait mem5
	[ "$(cat "$F/mem5/error")" = preparing:user-abort ] ||
		die "mem5: error '$(cat "$F/mem5/error")' after a cancel while idle"
	# while an upload runs: data refused (ENODEV), error unreadable (EBUSY),
	# loading ignored
	f=$(mk_fw_file 2048)     # cancelled below
	sysfs_update "$f" mem6
	[ "$(cat "$F/mem6/status")" != idle ] || die "mem6: not running"
	if msg=$( (cat "$f" > "$F/mem6/data") 2>&1); then
		die "mem6: data taken during an upload"
	fi
	case $msg in *"No such device"*) ;; *) die "mem6: data: '$msg'" ;; esac
	if msg=$(cat "$F/mem6/error" 2>&1); then
		die "mem6: error read during an upload: '$msg'"
	fi
	case $msg in *"busy"*) ;; *) die "mem6: error: '$msg'" ;; esac
	echo 1 > "$F/mem6/loading"
	[ "$(cat "$F/mem6/loading")" = 0 ] || die "mem6: loading restarted"
	echo 1 > "$F/mem6/cancel"
	sysfs_wait mem6
	# past what the loader buffers (64 MiB): ENOMEM, the load aborted
	echo 1 > "$F/mem7/loading"
	if msg=$(dd if="$f" of="$F/mem7/data" bs=1k count=1 seek=65536 \
		 conv=notrunc 2>&1); then
		die "mem7: a write past 64 MiB was taken"
	fi
	case $msg in *"Cannot allocate memory"*) ;; *) die "mem7: '$msg'" ;; esac
	[ "$(cat "$F/mem7/loading")" = 0 ] || die "mem7: the load goes on"
	# the attributes that are not written
	refused "Permission denied" "$F/mem7/status" idle
	refused "Permission denied" /sys/bus/cxl/devices/mem7/firmware_version x
}

# the links libcxl and udev follow
[ "$(readlink -f "$F/mem0")" = "$(readlink -f /sys/bus/cxl/devices/mem0)/firmware/mem0" ] ||
	die "$F/mem0 is not the memdev's firmware device"
[ "$(readlink -f "$F/mem0/device")" = "$(readlink -f /sys/bus/cxl/devices/mem0)" ] ||
	die "$F/mem0/device is not the memdev"
[ "$(cat "$F/mem0/status")" = idle ] || die "mem0: not idle at start"

test_blocking_update
test_nonblocking_update
test_multiple_memdev
test_cancel
test_refusals
echo "update-firmware: ok"
