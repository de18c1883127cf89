#!/bin/bash
# What ndctl's test/cxl-topology.sh checks, written for cxlemu: run inside
# `cxlemu shell` on tests/topologies/cxl-test-shaped.topo with unmodified
# ndctl.  One bus; two host bridges with two root ports each; two switch
# ports below each bridge with two memdevs each; the windows; then
# switch ports disappear when their memdevs are disabled and return when
# they are enabled, a disabled switch port comes back with its memdevs,
# a disabled host bridge takes its four memdevs down and brings them back
# with enable-port -m, and the bus can be disabled.
set -e
die() { echo "topology: $*" >&2; exit 1; }
# python3 in jq's place: EXPR over the parsed JSON `d`
j() { python3 -c "
import json, sys
t = sys.stdin.read()
d = json.loads(t) if t.strip() else []
r = eval(sys.argv[1])
if isinstance(r, list):
    print('\n'.join(str(x) for x in r))
elif r is not None:
    print(r)" "$1"; }
num() { python3 -c 'import sys; print(int(sys.argv[1].split("port")[1]))' "$1"; }

root=$(cxl list -B | j "[o['bus'] for o in d]")
[ "$(echo "$root" | wc -w)" = 1 ] || die "expected one bus, got: $root"

json=$(cxl list -b "$root" -BP)
bridges=$(echo "$json" | j "len(d[0]['ports:$root'])")
[ "$bridges" = 2 ] || die "expected 2 host bridges, got $bridges"
readarray -t bridge < <(echo "$json" | j "sorted([p['port'] for p in d[0]['ports:$root']], key=lambda s: int(s[4:]))")

for b in "${bridge[@]}"; do
	n=$(cxl list -b "$root" -T -p "$b" | j "len(d[0]['dports'])")
	[ "$n" = 2 ] || die "$b: expected 2 root ports, got $n"
done

switch=()
for b in "${bridge[@]}"; do
	json=$(cxl list -b "$root" -P -p "$b")
	n=$(echo "$json" | j "len(d[0]['ports:$b'])")
	[ "$n" = 2 ] || die "$b: expected 2 switch ports, got $n"
	readarray -O ${#switch[@]} -t switch < <(echo "$json" |
		j "[p['host'] for p in sorted(d[0]['ports:$b'], key=lambda p: int(p['port'][4:]))]")
done
[ ${#switch[@]} = 4 ] || die "expected 4 switches"

json=$(cxl list -b "$root" -D -d root)
[ "$(echo "$json" | j "len(d)")" = 2 ] || die "expected 2 root decoders"
[ "$(echo "$json" | j "[o['nr_targets'] for o in d if o['pmem_capable']]" | sort | tr '\n' ' ')" = "1 2 " ] ||
	die "expected an x1 and an x2 pmem-capable root decoder"

n=$(cxl list -b "$root" -M | j "len([m for m in d if m['pmem_size'] == 512 << 20])")
[ "$n" = 8 ] || die "expected 8 memdevs of 512 MiB pmem, got $n"

# the switch ports are found by their host (the upstream port's PCI
# function): Linux gives a switch port a new id when it comes back
sport() { cxl list -P | j "[p['port'] for b in d for p in b.get('ports:' + b['port'], []) if p['host'] == '$1']"; }
for s in "${switch[@]}"; do
	p=$(sport "$s")
	json=$(cxl list -M -p "$p")
	[ "$(echo "$json" | j "len(d)")" = 2 ] || die "$s: expected 2 memdevs"
	readarray -t mem < <(echo "$json" | j "[m['memdev'] for m in d]")

	cxl disable-memdev "${mem[0]}" --force
	[ "$(cxl list -p "$p" | j "len(d)")" = 1 ] || die "$s gone with one memdev left"
	cxl disable-memdev "${mem[1]}" --force
	[ "$(cxl list -p "$p" | j "len(d)")" = 0 ] || die "$s still there without memdevs"
	cxl enable-memdev "${mem[0]}"
	cxl enable-memdev "${mem[1]}"
	p=$(sport "$s")
	[ "$(cxl list -p "$p" | j "len(d)")" = 1 ] || die "$s did not come back"

	cxl disable-port "$p" --force
	[ "$(cxl list -p "$p" | j "len(d)")" = 0 ] || die "$s still listed when disabled"
	cxl enable-memdev "${mem[0]}" "${mem[1]}"
	p=$(sport "$s")
	[ "$(cxl list -p "$p" | j "len(d)")" = 1 ] || die "$s did not come back with its memdevs"
done

for b in "${bridge[@]}"; do
	cxl disable-port "$b" -f
	n=$(cxl list -M -i -p "$b" | j "len([m for m in d if m.get('state') == 'disabled'])")
	[ "$n" = 4 ] || die "$b disabled: expected 4 disabled memdevs, got $n"
	cxl enable-port "$b" -m
	n=$(cxl list -M -p "$b" | j "len(d)")
	[ "$n" = 4 ] || die "$b enabled -m: expected 4 memdevs, got $n"
done

cxl disable-bus "$root" -f
[ "$(cxl list -B | j "len(d)")" = 0 ] || die "the bus is still there"
echo "topology: ok"
