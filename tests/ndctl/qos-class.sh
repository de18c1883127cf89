#!/bin/bash
# What ndctl's test/cxl-qos-class.sh checks, written for cxlemu: run inside
# `cxlemu shell` on tests/topologies/cxl-test-shaped.topo.  Every root
# decoder carries the platform's QTG id as qos_class (cxl_test fakes 42;
# QEMU's CEDT, and so cxlemu, gives 0); every memdev partition with
# capacity has the class its host bridge's windows offer, and one without
# capacity has none; a region created with the classes enforced (ndctl's
# create-region -Q) succeeds; the attributes refuse writes.
#
# Debian's ndctl 76 reads no qos_class (79 does): with it the JSON checks
# read the same sysfs attributes libcxl 79 reads, and the region is
# created without -Q, its classes compared here as -Q compares them.
# CXL=path runs another cxl (a newer ndctl).
set -e
CXL=${CXL:-cxl}
QOS=0          # QEMU's QTG id, in its CFMWS and its QTG _DSM
. "$(dirname "$0")/common"
D=/sys/bus/cxl/devices

# does this cxl print qos classes (ndctl >= 79)?
new=
"$CXL" list -b root0 -D -d root | grep -q '"qos_class"' && new=1

# a root decoder's class, from the JSON or as libcxl reads it
root_qos() {
	if [ -n "$new" ]; then
		"$CXL" list -b root0 -D -d "$1" | jsel "o.get('qos_class')"
	else
		cat "$D/$1/qos_class"
	fi
}
# a memdev's class for ram or pmem; empty when it has none
mem_qos() {
	if [ -n "$new" ]; then
		"$CXL" list -b root0 -M -m "$1" | jsel "o.get('${2}_qos_class')"
	elif [ -e "$D/$1/$2/qos_class" ]; then
		cat "$D/$1/$2/qos_class"
	fi
}

check_qos_decoders() {
	decoders=$("$CXL" list -b root0 -D -d root | jsel "o['decoder']")
	n=0
	for d in $decoders; do
		q=$(root_qos "$d")
		[ "$q" = "$QOS" ] || die "$d: qos_class '$q', wanted $QOS"
		n=$((n + 1))
	done
	[ "$n" = 2 ] || die "expected 2 root decoders with a qos_class, got $n"
}

check_qos_memdevs() {
	json=$("$CXL" list -b root0 -M)
	n=0
	for m in $(echo "$json" | jsel "o['memdev']"); do
		pmem=$(echo "$json" | jsel "o.get('pmem_size') if o['memdev'] == '$m' else None")
		ram=$(echo "$json" | jsel "o.get('ram_size') if o['memdev'] == '$m' else None")
		[ -n "$pmem" ] || die "$m: no pmem_size"
		q=$(mem_qos "$m" pmem)
		[ "$q" = "$QOS" ] || die "$m: pmem qos_class '$q', wanted $QOS"
		# no ram partition: no class (libcxl then prints none)
		[ -z "$ram" ] || die "$m: unexpected ram_size $ram"
		q=$(mem_qos "$m" ram)
		[ -z "$q" ] || die "$m: ram qos_class '$q' without ram"
		n=$((n + 1))
	done
	[ "$n" = 8 ] || die "expected 8 memdevs, got $n"
}

create_region_check_qos() {
	decoder=$("$CXL" list -b root0 -D -d root | jsel "o['decoder'] if o.get('pmem_capable') and o.get('nr_targets') == 1 and o.get('max_available_extent', 0) > 0 else None" | head -1)
	[ -n "$decoder" ] || die "no x1 pmem root decoder"
	port=$("$CXL" list -T -d "$decoder" | jsel "[t['target'] for t in o['targets'] if t['position'] == 0][0]")
	mem=$("$CXL" list -M -p "$port" | jsel "o['memdev']" | head -1)
	[ -n "$mem" ] || die "no memdev below $port"
	if [ -n "$new" ]; then
		region=$("$CXL" create-region -Q -d "$decoder" -m "$mem" | jsel "o['region']")
	else
		# what -Q checks before it creates the region
		[ "$(mem_qos "$mem" pmem)" = "$(root_qos "$decoder")" ] ||
			die "$mem: pmem class differs from $decoder's"
		region=$("$CXL" create-region -d "$decoder" -m "$mem" | jsel "o['region']")
	fi
	[ -n "$region" ] || die "create-region with qos classes enforced failed"
	"$CXL" list -R -r "$region" | grep -q qos_class_mismatch &&
		die "$region: listed with a qos_class mismatch"
	"$CXL" destroy-region -f -b root0 "$region"
}

check_read_only() {
	for f in "$D/decoder0.0/qos_class" "$D/mem0/pmem/qos_class"; do
		if msg=$( (echo 7 > "$f") 2>&1); then
			die "$f took a write"
		fi
		case $msg in
		*"Permission denied"*) ;;
		*) die "$f: a write failed with '$msg', wanted EACCES" ;;
		esac
		[ "$(cat "$f")" = "$QOS" ] || die "$f changed"
	done
}

check_qos_decoders
check_qos_memdevs
create_region_check_qos
check_read_only
echo "qos-class: ok"
