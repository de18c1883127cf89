#!/bin/sh
# Install the Debian packages the lab needs when they are missing: QEMU,
# the kernel the guests boot, busybox-static, ndctl's tools, and what
# scripts/lab/guest.sh uses to pack them.  As root it runs apt-get;
# otherwise it only says what is missing and fails.
set -e
need="qemu-system-x86 linux-image-amd64 busybox-static ndctl daxctl cpio xz-utils kmod gcc libc6-dev"
missing=""
for p in $need; do
	dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
	echo "cxlemu lab: missing Debian packages:$missing (as root: apt-get install$missing)" >&2
	exit 1
fi
echo "cxlemu lab: installing Debian packages:$missing" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get install -y -qq --no-install-recommends $missing >/dev/null 2>&1 || {
	apt-get update -qq >/dev/null 2>&1
	apt-get install -y -qq --no-install-recommends $missing >/dev/null
}
