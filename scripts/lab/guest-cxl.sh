#!/bin/sh
# /usr/bin/cxl in the lab's guests: ndctl's own `cxl` (kept beside it as
# /usr/lib/cxlemu/cxl) for everything except what Debian 12's ndctl 76
# cannot do on a newer kernel:
#
#   cxl create-region -t ram ...
#
# ndctl 76 answers "region type 'ram' not supported yet" (ndctl 77 added
# it); this does the same steps through the kernel's sysfs interface
# (Documentation/ABI/testing/sysfs-bus-cxl): create_ram_region on the
# root decoder, granularity, ways, size, per memdev in position order the
# first free endpoint decoder (mode ram, dpa_size = size / ways) as
# target N, commit, bind to cxl_region.  Then it prints what ndctl prints:
# the region's JSON with its mappings, and "created 1 region".  When the
# installed ndctl is 77 or newer it is used as it is.
real=/usr/lib/cxlemu/cxl
[ "${1:-}" = create-region ] || exec "$real" "$@"
ver=$("$real" version 2>/dev/null)
[ "${ver%%.*}" -ge 77 ] 2>/dev/null && exec "$real" "$@"
type="" root="" ways="" gran="" size="" human="" memdevs=""
shift
while [ $# -gt 0 ]; do
	case $1 in
	-t|--type) type=$2; shift ;;
	--type=*) type=${1#*=} ;;
	-d|--decoder) root=$2; shift ;;
	--decoder=*) root=${1#*=} ;;
	-w|--ways) ways=$2; shift ;;
	--ways=*) ways=${1#*=} ;;
	-g|--granularity) gran=$2; shift ;;
	--granularity=*) gran=${1#*=} ;;
	-s|--size) size=$2; shift ;;
	--size=*) size=${1#*=} ;;
	-u|--human) human=-u ;;
	-m|--memdevs) ;;
	-*) exec "$real" create-region "$@" ;;
	*) memdevs="$memdevs $1" ;;
	esac
	shift
done
[ "$type" = ram ] || exec "$real" create-region ${type:+-t "$type"} \
	${root:+-d "$root"} ${ways:+-w "$ways"} ${gran:+-g "$gran"} \
	${size:+-s "$size"} $human -m $memdevs

fail() {
	echo "cxl region: cmd_create_region: $*" >&2
	echo "cxl region: cmd_create_region: created 0 regions" >&2
	exit 1
}
bytes() {
	case $1 in
	*[kK]) echo $((${1%?} << 10)) ;;
	*[mM]) echo $((${1%?} << 20)) ;;
	*[gG]) echo $((${1%?} << 30)) ;;
	*[tT]) echo $((${1%?} << 40)) ;;
	*) echo $(($1)) ;;
	esac
}
sys=/sys/bus/cxl/devices
[ -n "$root" ] && [ -d "$sys/$root" ] || fail "root decoder '${root:-}' not found (-d)"
set -- $memdevs
[ $# -gt 0 ] || fail "no memdevs given"
ways=${ways:-$#}
[ "$ways" = $# ] || fail "Interleave ways $ways does not match the $# memdevs given"
gran=$(bytes "${gran:-$(cat "$sys/$root/interleave_granularity")}")
if [ -n "$size" ]; then
	size=$(bytes "$size")
else
	min=""
	for m in "$@"; do
		s=$(($(cat "$sys/$m/ram/size" 2>/dev/null || echo 0)))
		[ -z "$min" ] || [ "$s" -lt "$min" ] && min=$s
	done
	size=$((min * ways))
fi
align=$((256 << 20))
size=$((size / (align * ways) * align * ways))
[ "$size" -gt 0 ] || fail "the memdevs have no ram capacity for a region"

r=$(cat "$sys/$root/create_ram_region") &&
	echo "$r" >"$sys/$root/create_ram_region" || fail "$root: cannot create a ram region"
undo() {
	echo 0 >"$sys/$r/commit" 2>/dev/null
	for d in $used; do
		echo 0 >"$d/dpa_size" 2>/dev/null
	done
	echo "$r" >"$sys/$root/delete_region" 2>/dev/null
	fail "$r: $*"
}
used=""
echo "$gran" >"$sys/$r/interleave_granularity" || undo "granularity $gran refused"
echo "$ways" >"$sys/$r/interleave_ways" || undo "$ways ways refused"
echo "$size" >"$sys/$r/size" || undo "size $size refused"
pos=0
for m in "$@"; do
	mp=$(readlink -f "$sys/$m")
	ep=""
	for e in "$sys"/endpoint*; do
		[ "$(readlink -f "$e/uport")" = "$mp" ] && ep=$e
	done
	[ -n "$ep" ] || undo "$m has no endpoint port"
	dec=""
	for d in "$ep"/decoder*.*; do
		[ $(($(cat "$d/dpa_size"))) = 0 ] && { dec=$d; break; }
	done
	[ -n "$dec" ] || undo "$m: no free endpoint decoder"
	used="$used $dec"
	echo ram >"$dec/mode" || undo "${dec##*/}: mode ram refused"
	echo $((size / ways)) >"$dec/dpa_size" || undo "${dec##*/}: dpa_size refused"
	echo "${dec##*/}" >"$sys/$r/target$pos" || undo "${dec##*/} refused as target $pos"
	pos=$((pos + 1))
done
echo 1 >"$sys/$r/commit" || undo "commit refused (dmesg says why)"
echo "$r" >/sys/bus/cxl/drivers/cxl_region/bind 2>/dev/null ||
	[ -e "$sys/$r/driver" ] || undo "the region driver did not take it"
# as ndctl prints it: a list of one, or with -u the object alone
"$real" list -R -T $human -r "$r"
echo "cxl region: cmd_create_region: created 1 region" >&2
