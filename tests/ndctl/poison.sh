#!/bin/bash
# What ndctl's test/cxl-poison.sh checks, written for cxlemu: run inside
# `cxlemu shell` on tests/topologies/cxl-test-shaped.topo.  Poison goes in
# and out through debugfs (/sys/kernel/debug/cxl/memN/inject_poison and
# clear_poison, the device's Inject/Clear Poison commands); listed by
# memdev it is the DPAs injected, listed by region the same records at
# region offsets; cleared, it is gone.  Then the kernel's refusals.
#
# ndctl lists poison (cxl list --media-errors, ndctl >= 80) by writing
# trigger_poison_list and reading the cxl_poison trace events through
# tracefs, which the shell does not serve (README, "Unmodified ndctl"):
# the lists are read with cxlemu's listing, which reads the device's poison
# list as Linux's trigger does; trigger_poison_list itself is written as
# libcxl writes it.
set -e
CXL=${CXL:-cxl}
: "${CXLEMU_BIN:?run by tests/cli_ndctl.sh}"
. "$(dirname "$0")/common"
DBG=/sys/kernel/debug/cxl
D=/sys/bus/cxl/devices
cxlemu() { env -u LD_PRELOAD "$CXLEMU_BIN" "$@"; }

inject() { echo "$2" > "$DBG/$1/inject_poison"; }
# the first memdev whose device sits below host bridge BRIDGE (pci0000:NN)
memdev_below() {
	for m in $(ls "$D" | grep '^mem' | sort -V); do
		case $(readlink -f "$D/$m") in
		*"/$1/"*) echo "$m"; return ;;
		esac
	done
}
region_memdevs() {
	"$CXL" list -r "$1" -R -T | jsel "' '.join(m['memdev'] for m in o['mappings'])"
}
clear() { echo "$2" > "$DBG/$1/clear_poison"; }

# the media_errors offsets listed for "-m memN" or "-r regionN"
found() {
	# libcxl triggers each memdev's list (a region has no trigger file)
	if [ "$1" = -m ]; then
		echo 1 > "$D/$2/trigger_poison_list"
	else
		ms=$(region_memdevs "$2") && [ -n "$ms" ] ||
			die "$2: no memdevs listed"
		for m in $ms; do
			echo 1 > "$D/$m/trigger_poison_list"
		done
	fi
	cxlemu list "$1" "$2" -L | jsel "' '.join(hex(e['offset']) for e in o.get('media_errors', [])) or None"
}
expect() {   # WHAT NAME OFFSETS...
	what=$1 name=$2; shift 2
	got=$(found "$what" "$name")
	[ "$got" = "$*" ] || die "$name: media errors '$got', wanted '$*'"
}

test_poison_by_memdev() {
	for a in 0x10000000 0x10001000 0x600 0x0; do inject mem0 $a; done
	expect -m mem0 0x0 0x600 0x10000000 0x10001000
	for a in 0x10000000 0x10001000 0x600 0x0; do clear mem0 $a; done
	expect -m mem0
}

test_poison_by_region() {
	decoder=$("$CXL" list -b root0 -D -d root | jsel "o['decoder'] if o.get('nr_targets') == 2 else None")
	# a memdev below each target host bridge, in position order
	readarray -t bridge < <("$CXL" list -T -d "$decoder" | jsel "'\\n'.join(t['alias'] for t in sorted(o['targets'], key=lambda t: t['position']))")
	mem0=$(memdev_below "${bridge[0]}")
	mem1=$(memdev_below "${bridge[1]}")
	[ -n "$mem0" ] && [ -n "$mem1" ] ||
		die "no memdevs below ${bridge[*]} for $decoder"
	region=$("$CXL" create-region -d "$decoder" -m "$mem0" "$mem1" | jsel "o['region']")
	[ -n "$region" ] || die "create-region failed for $decoder"
	# DPA 0x1000 of each: 4 KiB granules, position 0 then 1
	inject "$mem0" 0x1000
	inject "$mem1" 0x1000
	expect -r "$region" 0x2000 0x3000
	# poisoned bytes cannot be read through the region
	cxlemu read "$region" 0x2000 64 >/dev/null 2>&1 &&
		die "$region: read poisoned bytes"
	clear "$mem0" 0x1000
	clear "$mem1" 0x1000
	expect -r "$region"
	cxlemu read "$region" 0x2000 64 >/dev/null ||
		die "$region: cleared bytes cannot be read"
	"$CXL" destroy-region -f -b root0 "$region"
}

test_refusals() {
	refused "Invalid argument" "$DBG/mem1/inject_poison" 0x601
	refused "Invalid argument" "$DBG/mem1/inject_poison" 0x20000000
	refused "Invalid argument" "$DBG/mem1/clear_poison" poison
	refused "Invalid argument" "$D/mem1/trigger_poison_list" 0
	expect -m mem1
	# an unbound memdev has no debugfs and no endpoint to list for
	# ndctl 76 refuses any enabled memdev without --force (it assumes
	# one is in a region); mem1 is in none
	"$CXL" disable-memdev --force mem1
	[ ! -e "$DBG/mem1" ] || die "$DBG/mem1 outlives its driver"
	refused "Invalid argument" "$D/mem1/trigger_poison_list" 1
	"$CXL" enable-memdev mem1
	[ -e "$DBG/mem1/inject_poison" ] || die "$DBG/mem1 did not come back"
}

test_poison_by_memdev
test_poison_by_region
test_refusals
echo "poison: ok"
