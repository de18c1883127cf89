#!/bin/sh
# Install the Debian packages cxlemu needs, when they are missing.
# Runs as root on a fresh Debian 12 machine (apt-get); otherwise it only
# says what is missing.
set -e
# qemu-system-x86: make check verifies that `cxlemu qemu-args` output is
# accepted by the installed QEMU.  The lab's own packages (kernel, busybox,
# ndctl) are installed by scripts/lab/deps.sh for make check-lab.
need="gcc make pkg-config libjson-c-dev libcmocka-dev qemu-system-x86"
# libfuse3-dev: `cxlemu shell` serves the fabric's /sys with libfuse3;
# ndctl, daxctl: tests/cli_shell.sh runs the unmodified `cxl` and `daxctl`;
# kmod: its depmod indexes the shell's module tree (daxctl loads drivers)
need="$need libfuse3-dev ndctl daxctl kmod"
# tests/cli_daxprogs.sh runs real device-DAX programs under the preload
# library: Python's mmap, fio, PMDK's daxio (pmdk-tools), memtester
need="$need python3 fio pmdk-tools memtester"
# libcapstone-dev: the preload traps unmodified programs' cache
# instructions on non-coherent memory, found with Debian's disassembler
need="$need libcapstone-dev"
# `scripts/deps.sh fuzz`: also clang and its libFuzzer runtime (make fuzz)
[ "${1:-}" = fuzz ] && need="$need clang libclang-rt-14-dev"
missing=""
for p in $need; do
	dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" != 0 ]; then
	echo "cxlemu: missing Debian packages:$missing (run as root, or: apt-get install$missing)" >&2
	exit 1
fi
echo "cxlemu: installing Debian packages:$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends $missing >/dev/null
