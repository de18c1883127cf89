#!/bin/bash
# What ndctl's test/cxl-labels.sh relies on, written for cxlemu and cxl's
# own label verbs: run inside `cxlemu shell` on
# tests/topologies/cxl-test-shaped.topo with unmodified ndctl.  For every
# memdev: read-labels gives the whole label storage area (its size is
# the file's); while cxl_mem is bound the persistent memdev's nvdimm keeps
# Set LSA, so write-labels is refused busy; after `disable-memdev -f`
# random bytes written read back equal, zero-labels reads back zeros, and
# after enable-memdev the area is kept again.  The bytes of one memdev
# must not show up in another's.
set -e
die() { echo "labels: $*" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

mems=$(cxl list -M | python3 -c '
import json, sys
print(" ".join(m["memdev"] for m in json.load(sys.stdin)))')
[ "$(echo $mems | wc -w)" = 8 ] || die "expected 8 memdevs, got: $mems"

for mem in $mems; do
	cxl read-labels -o "$tmp/$mem.before" "$mem" 2>"$tmp/err" ||
		die "$mem: read-labels: $(cat "$tmp/err")"
	size=$(stat -c %s "$tmp/$mem.before")
	[ "$size" = 131072 ] || die "$mem: label storage area of $size bytes, expected 128 KiB (lsa=128K)"
	head -c "$size" /dev/urandom >"$tmp/$mem.w"
	if cxl write-labels -i "$tmp/$mem.w" "$mem" 2>"$tmp/err"; then
		die "$mem: write-labels succeeded while the nvdimm holds the labels"
	fi
	grep -q "busy" "$tmp/err" || die "$mem: write-labels refused without EBUSY: $(cat "$tmp/err")"
	cxl disable-memdev -f "$mem" 2>"$tmp/err" || die "$mem: disable-memdev: $(cat "$tmp/err")"
	cxl write-labels -i "$tmp/$mem.w" "$mem" 2>"$tmp/err" ||
		die "$mem: write-labels on a disabled memdev: $(cat "$tmp/err")"
	cxl read-labels -o "$tmp/$mem.r" "$mem" 2>/dev/null
	cmp -s "$tmp/$mem.w" "$tmp/$mem.r" || die "$mem: labels read back differ from those written"
done
# each memdev kept its own bytes
for mem in $mems; do
	cxl read-labels -o "$tmp/$mem.r" "$mem" 2>/dev/null
	cmp -s "$tmp/$mem.w" "$tmp/$mem.r" || die "$mem: labels changed after the other memdevs were written"
done
for mem in $mems; do
	cxl zero-labels "$mem" 2>"$tmp/err" || die "$mem: zero-labels: $(cat "$tmp/err")"
	cxl read-labels -o "$tmp/$mem.r" "$mem" 2>/dev/null
	head -c 131072 /dev/zero >"$tmp/zero"
	cmp -s "$tmp/zero" "$tmp/$mem.r" || die "$mem: labels not zero after zero-labels"
	cxl enable-memdev "$mem" 2>"$tmp/err" || die "$mem: enable-memdev: $(cat "$tmp/err")"
	if cxl zero-labels "$mem" 2>/dev/null; then
		die "$mem: zero-labels succeeded after enable-memdev"
	fi
done
echo "labels: ok"
