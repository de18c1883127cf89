#!/bin/bash
# topology: cxl-test-xor.topo
# What ndctl's test/cxl-xor-region.sh checks, written for cxlemu: run
# inside `cxlemu shell` on tests/topologies/cxl-test-xor.topo (the shape
# of cxl_test with interleave_arithmetic=1) with unmodified ndctl.  An x1,
# an x2, an x4 (two memdevs per bridge of the x2 window) and an x3 region
# under windows with XOR arithmetic, each found as ndctl's script finds
# it (the one pmem-capable root decoder with that many targets, a memdev
# below each target position), created with `cxl create-region` (Linux's
# sysfs protocol) and destroyed again.
set -e
die() { echo "xor-region: $*" >&2; exit 1; }
# python3 in jq's place: EXPR over each object `o` of the parsed JSON
jsel() { python3 -c "
import json, sys
t = sys.stdin.read()
d = json.loads(t) if t.strip() else []
for o in (d if isinstance(d, list) else [d]):
    v = eval(sys.argv[1])
    if v is not None: print(v)" "$1"; }

root_decoder() {
	cxl list -b root0 -D -d root |
		jsel "o['decoder'] if o.get('pmem_capable') and o.get('nr_targets') == $1 else None"
}

# the target at interleave position $2 of root decoder $1
target_at() {
	cxl list -T -d "$1" |
		jsel "[t['target'] for t in o['targets'] if t['position'] == $2][0]"
}

# memdev number $2 (0, 1) below port $1
memdev_below() {
	cxl list -M -p "$1" | python3 -c "
import json, sys
print(json.load(sys.stdin)[$2]['memdev'])"
}

create_and_destroy_region() {
	region=$(cxl create-region -d "$decoder" -m $memdevs | jsel "o['region']")
	[ -n "$region" ] || die "create-region failed for $decoder ($memdevs)"
	ways=$(cxl list -r "$region" | jsel "o['interleave_ways']")
	[ "$ways" = "$1" ] || die "$region has $ways ways, expected $1"
	echo "$decoder: x$1 $region over $memdevs"
	cxl destroy-region -f -b root0 "$region"
}

setup() {   # setup TARGETS PER_TARGET
	decoder=$(root_decoder "$1")
	[ "$(echo "$decoder" | wc -w)" = 1 ] ||
		die "expected one pmem root decoder with $1 targets: '$decoder'"
	memdevs=""
	for (( m = 0; m < $2; m++ )); do
		for (( p = 0; p < $1; p++ )); do
			port=$(target_at "$decoder" "$p")
			memdevs="$memdevs $(memdev_below "$port" "$m")"
		done
	done
}

setup 1 1
create_and_destroy_region 1
setup 2 1
create_and_destroy_region 2
setup 2 2
create_and_destroy_region 4
setup 3 1
create_and_destroy_region 3
left=$(cxl list -R -i | python3 -c 'import json,sys; t=sys.stdin.read(); print(len(json.loads(t)) if t.strip() else 0)')
[ "$left" = 0 ] || die "$left regions left behind: $(cxl list -R -i)"
echo "xor-region: ok"
