#!/bin/sh
# Prepare what the lab's guests boot, from installed Debian packages only:
#
#   scripts/lab/guest.sh OUTDIR [SRCDIR]
#
# The kernel is the newest /boot/vmlinuz-*, or the one $CXLEMU_LAB_KERNEL
# names: a version or its start ("6.1", "6.12.95+deb12-amd64"), or a path
# to a vmlinuz whose modules are in /lib/modules/VERSION.
#
# OUTDIR/vmlinux     the kernel of linux-image-amd64, uncompressed out of
#                    /boot/vmlinuz-* so that QEMU boots it through its PVH
#                    entry (half the boot time of the bzImage); the bzImage
#                    itself when it cannot be unpacked
# OUTDIR/initrd.gz   busybox-static, the CXL / nvdimm / dax modules, ndctl's
#                    cxl, ndctl and daxctl with the libraries they load, and
#                    SRCDIR/examples/dax{reader,writer}.c built static
# OUTDIR/kernel-version, OUTDIR/ndctl-version  (for `lab status`)
#
# The guest's /init mounts the usual file systems, loads the modules in
# dependency order, then serves commands on its second serial port
# (ttyS1): the host writes "ID BASE64(COMMAND)\n", the guest answers with
# base64 lines of the command's output between "@@CXLEMU-OUT ID" and
# "@@CXLEMU-END ID STATUS".  Base64 keeps the tty from touching the bytes.
set -eu
outdir=$1
src=${2:-}
want=${CXLEMU_LAB_KERNEL:-}
case $want in
/*)	kernel=$want ;;
*)	# "6.1" is 6.1 or 6.1.x, not 6.12
	kernel=$(ls /boot/vmlinuz-* 2>/dev/null | sort -V | while read -r k; do
		v=${k#/boot/vmlinuz-}
		[ -z "$want" ] || [ "$v" = "$want" ] || case $v in "$want".*|"$want"-*|"$want"+*) ;; *) continue ;; esac
		echo "$k"
	done | tail -1) ;;
esac
[ -n "$kernel" ] && [ -f "$kernel" ] || {
	echo "guest.sh: no kernel ${want:+matching '$want' }in /boot (have: $(ls /boot | sed -n 's/^vmlinuz-//p' | tr '\n' ' ')); install linux-image-amd64 (scripts/lab/deps.sh)" >&2
	exit 1
}
kv=${kernel##*/vmlinuz-}
[ -d "/lib/modules/$kv" ] || { echo "guest.sh: no modules for kernel $kv" >&2; exit 1; }
for t in busybox cxl ndctl daxctl cpio gzip modprobe; do
	command -v $t >/dev/null || { echo "guest.sh: $t is not installed" >&2; exit 1; }
done
bb=$(command -v busybox)
mkdir -p "$outdir"
echo "$kv" >"$outdir/kernel-version"
cxl version >"$outdir/ndctl-version" 2>/dev/null || echo "?" >"$outdir/ndctl-version"

# the uncompressed kernel: find the xz (or zstd, gzip) stream in the bzImage
unpack() {
	off=$(LC_ALL=C grep -obUaP "$1" "$kernel" 2>/dev/null | head -1 | cut -d: -f1)
	[ -n "$off" ] || return 1
	tail -c +$((off + 1)) "$kernel" | $2 >"$outdir/vmlinux.tmp" 2>/dev/null
	[ "$(head -c 4 "$outdir/vmlinux.tmp" | od -A n -t x1 | tr -d ' ')" = 7f454c46 ]
}
if unpack '\xfd\x37\x7a\x58\x5a\x00' 'xz -dc' ||
   unpack '\x28\xb5\x2f\xfd' 'zstd -dc' ||
   unpack '\x1f\x8b\x08\x00' 'gzip -dc'; then
	mv "$outdir/vmlinux.tmp" "$outdir/vmlinux"
else
	rm -f "$outdir/vmlinux.tmp"
	cp "$kernel" "$outdir/vmlinux"
	echo "guest.sh: note: could not unpack $kernel; booting the bzImage" >&2
fi
out=$outdir/initrd.gz

root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
mkdir -p "$root/bin" "$root/sbin" "$root/usr/bin" "$root/proc" "$root/sys" \
	"$root/dev" "$root/tmp" "$root/run" "$root/etc" "$root/mnt" \
	"$root/lib/modules/$kv" "$root/var/run"
cp "$bb" "$root/bin/busybox"

# modules, in the order modprobe would load them
: >"$root/etc/modules.order"
# (dax_cxl makes a ram region's DAX device; Linux 6.1 has no such region,
# newer kernels build some of these in, and compress the rest, which
# busybox's insmod cannot read: they are unpacked here)
for m in libnvdimm cxl_acpi cxl_pci cxl_mem cxl_pmem nd_pmem dax_pmem \
	 device_dax kmem dax_cxl; do
	modprobe -S "$kv" --ignore-install --show-depends "$m" 2>/dev/null |
		awk '$1 == "insmod" { print $2 }'
done | awk '!seen[$0]++' | while read -r ko; do
	plain=${ko%.xz}
	plain=${plain%.zst}
	mkdir -p "$root$(dirname "$ko")"
	case $ko in
	*.xz) xz -dc "$ko" >"$root$plain" ;;
	*.zst) zstd -qdc "$ko" >"$root$plain" ;;
	*) cp "$ko" "$root$ko" ;;
	esac
	echo "$plain" >>"$root/etc/modules.order"
done

# the tools and every library they load
# (cxl behind a stand-in that creates ram regions ndctl 76 cannot:
# scripts/lab/guest-cxl.sh)
mkdir -p "$root/usr/lib/cxlemu"
for t in cxl ndctl daxctl; do
	cp "$(command -v $t)" "$root/usr/bin/$t"
	ldd "$(command -v $t)" | awk '/=>/ { print $3 } /^[[:space:]]*\/.*ld-linux/ { print $1 }'
done | sort -u | while read -r lib; do
	[ -f "$lib" ] || continue
	mkdir -p "$root$(dirname "$lib")"
	cp -L "$lib" "$root$lib"
done
mv "$root/usr/bin/cxl" "$root/usr/lib/cxlemu/cxl"
cp "$(dirname "$0")/guest-cxl.sh" "$root/usr/bin/cxl"
chmod 755 "$root/usr/bin/cxl"
mkdir -p "$root/lib64"
[ -f /lib64/ld-linux-x86-64.so.2 ] && cp -L /lib64/ld-linux-x86-64.so.2 "$root/lib64/"
# the seed lab's programs, built static
if [ -n "$src" ] && command -v gcc >/dev/null; then
	for p in daxreader daxwriter; do
		[ -f "$src/examples/$p.c" ] &&
			gcc -O2 -static -o "$root/usr/bin/$p" "$src/examples/$p.c" 2>/dev/null ||
			echo "guest.sh: note: $p not built" >&2
	done
fi
# ndctl looks for its config and keys here
mkdir -p "$root/etc/ndctl/keys" "$root/etc/ndctl.conf.d"

cat >"$root/init" <<'EOF'
#!/bin/busybox sh
/bin/busybox --install -s /bin
export PATH=/usr/bin:/bin:/sbin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mount -t tmpfs tmpfs /tmp
mount -t tmpfs tmpfs /run
mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null
host=$(sed -n 's/.*cxlemu.host=\([^ ]*\).*/\1/p' /proc/cmdline)
hostname "${host:-guest}"
echo "cxlemu-lab: loading modules"
while read -r ko; do
	insmod "$ko" 2>/dev/null || echo "cxlemu-lab: insmod $ko failed"
done </etc/modules.order
# let the CXL and nvdimm buses settle before the first command: drivers
# probe asynchronously, and a region made while endpoints or the nvdimm
# bridge are still probing can crash Linux 6.1 (seen under TCG)
last=""
same=0
for i in $(seq 1 100); do
	now="$(ls /sys/bus/cxl/devices /sys/bus/nd/devices 2>/dev/null | tr '\n' ' ')"
	now="$now $(ls /sys/bus/cxl/drivers/*/ 2>/dev/null | wc -l)"
	if [ "$now" = "$last" ]; then
		same=$((same + 1))
		[ $same -ge 5 ] && break
	else
		same=0
		last=$now
	fi
	sleep 0.2
done
exec 3<>/dev/ttyS1
stty raw -echo -icrnl -onlcr <&3 2>/dev/null
echo "cxlemu-lab: ready"
echo "@@CXLEMU-READY" >&3
while IFS= read -r line <&3; do
	id=${line%% *}
	cmd=$(echo "${line#* }" | base64 -d 2>/dev/null)
	[ -n "$id" ] || continue
	( cd /tmp && sh -c "$cmd" ) >/tmp/.out 2>&1 </dev/null
	rc=$?
	{
		echo "@@CXLEMU-OUT $id"
		base64 /tmp/.out
		echo "@@CXLEMU-END $id $rc"
	} >&3
done
echo "cxlemu-lab: agent stopped"
exec sh
EOF
chmod 755 "$root/init"
(cd "$root" && find . | cpio -o -H newc --quiet) | gzip -1 >"$out.tmp"
mv "$out.tmp" "$out"
