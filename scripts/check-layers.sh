#!/bin/sh
# check-layers.sh BUILD_DIR - no layer calls upward.
#
# Reads the symbols every object under BUILD_DIR/src/LAYER/ defines and
# the ones it uses (nm), and fails when an object uses a function or
# variable defined in a layer its own layer may not call.  The layers,
# lowest first, and what each may call (besides itself):
#
#   util     -
#   spec     util                       register and payload layouts
#   media    util spec                  stores, blocks
#   model    util spec media            the fabric's objects and rules
#   sysfs    util spec model            a host's /sys view of the model
#   config   util spec model            topology files -> model
#   proto    util spec                  wire frames, list options, JSON out
#   listing  util spec model proto      the model as `cxl list` prints it
#   server   util spec media model sysfs config proto listing
#   client   util spec proto            what programs link
#   shell    util client                the FUSE side of cxlemu shell
#   qemu     util spec model config proto listing
#   cli      (anything: the top)
#
# And the preload library exports no symbol of ours (cx*): it links the
# client library alone and interposes C library functions only.
#
# Known exceptions would be listed in EXCEPTIONS below as OBJECT:LAYER,
# each with the work that removes it; one that no longer happens fails the
# check too, so the list cannot go stale.  There are none.
set -eu
export LC_ALL=C
B=${1:-build}

EXCEPTIONS=""

allowed() {
	case $1 in
	util) echo "" ;;
	spec) echo "util" ;;
	media) echo "util spec" ;;
	model) echo "util spec media" ;;
	sysfs | config) echo "util spec model" ;;
	proto) echo "util spec" ;;
	listing) echo "util spec model proto" ;;
	server) echo "util spec media model sysfs config proto listing" ;;
	client) echo "util spec proto" ;;
	shell) echo "util client" ;;
	qemu) echo "util spec model config proto listing" ;;
	cli) echo "ANY" ;;
	*) echo "UNKNOWN" ;;
	esac
}

ls "$B"/src/*/*.o >/dev/null 2>&1 || {
	echo "check-layers: no objects under $B/src (build first)" >&2
	exit 2
}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# symbol -> layer of the object defining it
for o in "$B"/src/*/*.o; do
	layer=$(basename "$(dirname "$o")")
	nm -g --defined-only "$o" | awk -v l="$layer" 'NF == 3 { print $3, l }'
done | sort -u >"$tmp/defs"

fail=0
seen=""
for o in "$B"/src/*/*.o; do
	layer=$(basename "$(dirname "$o")")
	rel="$layer/$(basename "$o")"
	ok=$(allowed "$layer")
	if [ "$ok" = UNKNOWN ]; then
		echo "check-layers: $rel: layer '$layer' has no rule in" \
			"scripts/check-layers.sh" >&2
		fail=1
		continue
	fi
	[ "$ok" = ANY ] && continue
	nm -u "$o" | awk '{ print $NF }' | sort -u >"$tmp/und"
	join "$tmp/und" "$tmp/defs" | while read -r sym to; do
		[ "$to" = "$layer" ] && continue
		case " $ok " in *" $to "*) continue ;; esac
		echo "$rel $to $sym"
	done >"$tmp/bad.$$"
	while read -r obj to sym; do
		case " $EXCEPTIONS " in
		*" $obj:$to "*)
			seen="$seen $obj:$to"
			continue
			;;
		esac
		echo "check-layers: $obj ($layer) calls $sym of layer $to;" \
			"$layer may call only: ${ok:-nothing}" >&2
		fail=1
	done <"$tmp/bad.$$"
done

for ex in $EXCEPTIONS; do
	case " $seen " in
	*" $ex "*) ;;
	*)
		echo "check-layers: the exception $ex no longer happens:" \
			"remove it from scripts/check-layers.sh" >&2
		fail=1
		;;
	esac
done

# the preload links the client library alone (the Makefile) and exports
# only the C library functions it interposes
so="$B/libcxlemu-preload.so"
if [ -f "$so" ]; then
	own=$(nm -D --defined-only "$so" | awk '$3 ~ /^cx/ { print $3 }' |
		head -5 | tr '\n' ' ')
	if [ -n "$own" ]; then
		echo "check-layers: $so exports its own symbols ($own...):" \
			"src/preload/exports.map should keep them local" >&2
		fail=1
	fi
fi

[ $fail -eq 0 ] && echo "check-layers: every layer calls only downward" \
	"(known exceptions: ${EXCEPTIONS:-none})"
exit $fail
