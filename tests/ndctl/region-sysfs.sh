#!/bin/bash
# What ndctl's test/cxl-region-sysfs.sh checks, written for cxlemu: run
# inside `cxlemu shell` on a topology shaped like the kernel's cxl_test
# (tests/topologies/cxl-test-shaped.topo), with unmodified ndctl and
# plain sysfs writes.  An x8 pmem region across 2 host bridges x 2 switches:
# reserve DPA with `cxl reserve-dpa`, build the region by hand in
# provisioning order, check that every endpoint and switch decoder reads
# the region's range and its interleave (switch granularity shifted by
# depth) once the last target attaches, commit, de-commit, detach, free.
set -e
D=/sys/bus/cxl/devices
die() { echo "region-sysfs: $*" >&2; exit 1; }
# jq's job, in python3: a JSON array on stdin, an expression per item
jsel() { python3 -c "
import json, sys
for o in json.load(sys.stdin):
    v = eval(sys.argv[1])
    if v is not None: print(v)" "$1"; }

decoder=$(cxl list -b root0 -D -d root |
	  jsel "o['decoder'] if o.get('pmem_capable') and o.get('nr_targets') == 2 else None")
[ -n "$decoder" ] || die "no x2 pmem root decoder"
readarray -t mem < <(cxl list -M -d "$decoder" | jsel "o['memdev']")
[ ${#mem[@]} = 8 ] || die "expected 8 memdevs below $decoder, got ${#mem[@]}"
readarray -t endpoint < <(cxl reserve-dpa -t pmem "${mem[@]}" -s $((256<<20)) |
			  jsel "o['decoder']['decoder']")
[ ${#endpoint[@]} = 8 ] || die "reserve-dpa gave ${#endpoint[@]} decoders"

region=$(cat $D/$decoder/create_pmem_region)
echo "$region" > $D/$decoder/create_pmem_region
cat /proc/sys/kernel/random/uuid > $D/$region/uuid
nr_targets=${#endpoint[@]}
echo $nr_targets > $D/$region/interleave_ways
r_ig=$(cat $D/$decoder/interleave_granularity)
echo "$r_ig" > $D/$region/interleave_granularity
echo $((nr_targets * (256<<20))) > $D/$region/size

# memdevs grouped by host bridge position, in provisioning order
port_dev0=$(cxl list -T -d "$decoder" | python3 -c "
import json,sys; print([t['target'] for t in json.load(sys.stdin)[0]['targets'] if t['position'] == 0][0])")
port_dev1=$(cxl list -T -d "$decoder" | python3 -c "
import json,sys; print([t['target'] for t in json.load(sys.stdin)[0]['targets'] if t['position'] == 1][0])")
readarray -t mem_sort0 < <(cxl list -M -p "$port_dev0" | jsel "o['memdev']")
readarray -t mem_sort1 < <(cxl list -M -p "$port_dev1" | jsel "o['memdev']")
[ ${#mem_sort0[@]} = 4 ] && [ ${#mem_sort1[@]} = 4 ] ||
	die "expected 4 memdevs below each bridge"
mem_sort=("${mem_sort0[0]}" "${mem_sort1[0]}" "${mem_sort0[2]}" "${mem_sort1[2]}"
	  "${mem_sort0[1]}" "${mem_sort1[1]}" "${mem_sort0[3]}" "${mem_sort1[3]}")
endpoint=()
for i in "${mem_sort[@]}"; do
	readarray -O ${#endpoint[@]} -t endpoint < <(cxl list -Di -d endpoint -m "$i" |
		jsel "o['decoder'] if o.get('mode') == 'pmem' else None")
done
[ ${#endpoint[@]} = 8 ] || die "expected 8 pmem endpoint decoders"

pos=0
for i in "${endpoint[@]}"; do
	echo "$i" > $D/$region/target$pos
	pos=$((pos+1))
done
echo "$region added ${#endpoint[@]} targets: ${endpoint[*]}"

region_size=$(cat $D/$region/size)
region_base=$(cat $D/$region/resource)
for i in "${endpoint[@]}"; do
	iw=$(cat $D/$i/interleave_ways)
	ig=$(cat $D/$i/interleave_granularity)
	[ "$iw" -eq $nr_targets ] || die "decoder: $i iw: $iw targets: $nr_targets"
	[ "$ig" -eq "$r_ig" ] || die "decoder: $i ig: $ig root ig: $r_ig"
	sz=$(cat $D/$i/size)
	res=$(cat $D/$i/start)
	[[ $((sz)) -eq $((region_size)) ]] || die "decoder: $i sz: $sz region_size: $region_size"
	[[ $((res)) -eq $((region_base)) ]] || die "decoder: $i base: $res region_base: $region_base"
done

nr_switches=$((nr_targets/2))
nr_host_bridges=$((nr_switches/2))
nr_switch_decoders=$((nr_switches + nr_host_bridges))
json=$(cxl list -D -r "$region" -d switch)
readarray -t switch_decoders < <(echo "$json" | jsel "o['decoder']")
[ ${#switch_decoders[@]} -eq $nr_switch_decoders ] ||
	die "expected $nr_switch_decoders got ${#switch_decoders[@]} switch decoders"
for i in "${switch_decoders[@]}"; do
	decoder_json=$(echo "$json" | python3 -c "
import json,sys; print(json.dumps([o for o in json.load(sys.stdin) if o['decoder'] == '$i']))")
	id=${i#decoder}
	port_id=${id%.*}
	depth=$(cxl list -p "$port_id" -S | jsel "o['depth']")
	iw=$(echo "$decoder_json" | jsel "o['interleave_ways']")
	ig=$(echo "$decoder_json" | jsel "o['interleave_granularity']")
	[ "$iw" -eq 2 ] || die "decoder: $i iw: $iw targets: 2"
	[ "$ig" -eq $((r_ig << depth)) ] || die "decoder: $i ig: $ig switch_ig: $((r_ig << depth))"
	res=$(echo "$decoder_json" | jsel "o['resource']")
	sz=$(echo "$decoder_json" | jsel "o['size']")
	[[ $((sz)) -eq $((region_size)) ]] || die "decoder: $i sz: $sz region_size: $region_size"
	[[ $((res)) -eq $((region_base)) ]] || die "decoder: $i base: $res region_base: $region_base"
done

echo 1 > $D/$region/commit
[ "$(cat $D/$region/commit)" = 1 ] || die "$region did not commit"
echo 0 > $D/$region/commit
pos=0
for i in "${endpoint[@]}"; do
	echo "" > $D/$region/target$pos
	pos=$((pos+1))
done
readarray -t endpoint < <(cxl free-dpa -t pmem "${mem[@]}" | jsel "o['decoder']['decoder']")
echo "$region released ${#endpoint[@]} targets: ${endpoint[*]}"
[ ${#endpoint[@]} = 8 ] || die "free-dpa released ${#endpoint[@]}"
echo "$region" > $D/$decoder/delete_region
echo "region-sysfs: ok"
