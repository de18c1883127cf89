#!/bin/bash
# What ndctl's test/cxl-create-region.sh checks, written for cxlemu: run
# inside `cxlemu shell` on tests/topologies/cxl-test-shaped.topo with
# unmodified ndctl.  For every memdev: an x1 region through a
# single-bridge window, disabled and enabled again, destroyed and created
# again; then as many 256 MiB sub-regions of one memdev as its capacity
# holds (back-to-back DPA allocations), destroyed newest first.
set -e
die() { echo "create-region: $*" >&2; exit 1; }
jsel() { python3 -c "
import json, sys
d = json.load(sys.stdin)
for o in (d if isinstance(d, list) else [d]):
    v = eval(sys.argv[1])
    if v is not None: print(v)" "$1"; }

destroy_regions() { cxl destroy-region -f -b root0 "${@:-all}"; }

x1_decoder() {
	cxl list -b root0 -D -d root -m "$1" |
		jsel "o['decoder'] if o.get('pmem_capable') and o.get('nr_targets') == 1 else None"
}

create_x1_region() {
	mem=$1
	decoder=$(x1_decoder "$mem")
	[ -n "$decoder" ] || { echo "no x1 decoder for $mem, skipping"; return; }
	region=$(cxl create-region -d "$decoder" -m "$mem" | jsel "o['region']")
	[ -n "$region" ] || die "create-region failed for $decoder / $mem"
	cxl disable-region --bus=root0 "$region"
	cxl enable-region --bus=root0 "$region"
	destroy_regions "$region"
	region=$(cxl create-region -d "$decoder" -m "$mem" | jsel "o['region']")
	[ -n "$region" ] || die "create-region again failed for $decoder / $mem"
	destroy_regions "$region"
}

create_subregions() {
	slice=$((256 << 20))
	mem=$1
	decoder=$(x1_decoder "$mem")
	[ -n "$decoder" ] || { echo "no x1 decoder for $mem, skipping"; return; }
	size=$(cxl list -m "$mem" | jsel "o['pmem_size']")
	num_regions=$((size / slice))
	regions=()
	for (( i = 0; i < num_regions; i++ )); do
		regions[$i]=$(cxl create-region -d "$decoder" -m "$mem" -s "$slice" |
			      jsel "o['region']")
		[ -n "${regions[$i]}" ] || die "sub-region $i of $mem failed"
	done
	echo "created $num_regions subregions: ${regions[*]}"
	[ "$num_regions" -ge 2 ] || die "expected at least 2 sub-regions of $mem"
	for (( i = num_regions - 1; i >= 0; i-- )); do
		destroy_regions "${regions[$i]}"
	done
}

readarray -t mems < <(cxl list -b root0 -M | jsel "o['memdev']")
[ ${#mems[@]} = 8 ] || die "expected 8 memdevs, got ${#mems[@]}"
tested=0
for mem in "${mems[@]}"; do
	create_x1_region "$mem"
done
for mem in "${mems[@]}"; do
	if [ -n "$(x1_decoder "$mem")" ]; then
		create_subregions "$mem"
		tested=$((tested + 1))
	fi
done
[ "$tested" = 4 ] || die "expected 4 memdevs below the x1 window, tested $tested"
left=$(cxl list -R -i | python3 -c 'import json,sys; t=sys.stdin.read(); print(len(json.loads(t)) if t.strip() else 0)')
[ "$left" = 0 ] || die "$left regions left behind: $(cxl list -R -i)"
echo "create-region: ok"
