#!/bin/sh
# demo_coherency.sh - the message ring of examples/ring.c across two hosts
# that share one device, correct and with each classic bug, first with
# the device mapped non-coherently (CXL 2 shared memory: each host a
# cache of its own), then coherently (today's emulators, CXL 3).
#
# Both programs are unmodified: `cxlemu run` gives them the preload
# library, which traps their clwb / clflushopt / clflush.  A variant is
# "caught" when the consumer does not get every message intact (or gives
# up, stuck) or the checker reports something; the correct ring must pass
# in both modes with no report, and every broken one must be caught on
# the non-coherent device while it passes on the coherent one: that is
# why these bugs survive testing on today's emulators.
#
#   sh scripts/demo_coherency.sh [PATH-TO-cxlemu] [COUNT]
# (make demo-coherency).  Prints one line per run:
#   MODE VARIANT caught|passed  consumer: ...; reports: ...
set -eu

bin=${1:-build/cxlemu}
count=${2:-20000}
case $bin in
/*) ;;
*) bin=$PWD/$bin ;;
esac
src=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "$(dirname "$bin")" && pwd)
[ -x "$build/examples/ring" ] || build=$(dirname "$build")
ring=$build/examples/ring
[ -x "$ring" ] || { echo "demo-coherency: $ring is not built" >&2; exit 1; }
# a hung side gives up after this long without progress
export RING_STALL=${RING_STALL:-3}

tmp=$(mktemp -d /tmp/cxlemu-coherency.XXXXXX)
sock=$tmp/fabric.sock
running=0
cleanup() {
	rc=$?
	trap - EXIT INT TERM HUP
	[ "$running" = 1 ] && "$bin" --socket "$sock" stop >/dev/null 2>&1
	rm -rf "$tmp"
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM HUP
cx() { "$bin" --socket "$sock" "$@"; }

# two hosts, one device each, both backed by $tmp/shared.raw: two heads
# of one shared device
(cd "$tmp" && cx start "$src/examples/two-hosts-shared.topo") \
	>/dev/null 2>&1
running=1
for h in host1 host2; do
	cx --host $h create-region -d decoder0.0 -t ram -m mem0 >/dev/null 2>&1
	cx --host $h reconfigure-device dax0.0 -m devdax >/dev/null 2>&1
done

# the preload's closing line: "coherency: N stale read(s), N lost
# update(s), N locked RMW(s) ..., N line(s) never written back; ..."
reports() {
	sed -n 's/.*coherency: \([0-9]*\) stale read(s), \([0-9]*\) lost update(s), \([0-9]*\) locked RMW(s) on non-coherent memory, \([0-9]*\) line(s) never written back.*/\1 \2 \3 \4/p' "$@" |
		awk '{s+=$1; l+=$2; r+=$3; u+=$4}
		     END {printf "%d stale reads, %d lost updates, %d locked RMWs, %d never written back", s, l, r, u;
			  exit (s + l + r + u) ? 1 : 0}'
}

one() {         # MODE VARIANT
	mode=$1 v=$2
	head -c 16384 /dev/zero | cx --host host1 write region0 0
	CXLEMU_COHERENCY_LOG=$tmp/p.log cx --host host1 run -- "$ring" produce "$v" "$count" \
		>"$tmp/p.out" 2>"$tmp/p.err" &
	pid=$!
	set +e
	CXLEMU_COHERENCY_LOG=$tmp/c.log cx --host host2 run -- "$ring" consume \
		"$v" "$count" >"$tmp/c.out" 2>"$tmp/c.err"
	crc=$?
	wait $pid
	prc=$?
	rep=$(reports "$tmp/p.err" "$tmp/c.err")
	rrc=$?
	set -e
	got=$(sed -n 's/^ring: consumer received \(.*\) (.*/\1/p' "$tmp/c.out")
	grep -q "stuck" "$tmp/c.err" "$tmp/p.err" && got="$got, stuck"
	verdict=passed
	[ $crc != 0 ] || [ $prc != 0 ] || [ $rrc != 0 ] && verdict=caught
	printf '%-11s %-12s %-6s  consumer: %s; reports: %s\n' "$mode" "$v" \
		"$verdict" "${got:-nothing}" "$rep"
	# the first lines of a report log, to show what the checker says
	if [ "${SHOW_REPORTS:-1}" = 1 ] && [ $rrc != 0 ]; then
		cat "$tmp/p.log" "$tmp/c.log" 2>/dev/null | head -2 | sed 's/^/    /'
	fi
	rm -f "$tmp/p.log" "$tmp/c.log"
}

for mode in noncoherent coherent; do
	for h in host1 host2; do
		cx --host $h reconfigure-device dax0.0 --coherency $mode >/dev/null 2>&1
	done
	printf '\n$ cxlemu reconfigure-device dax0.0 --coherency %s  (both hosts)\n' "$mode"
	for v in ok noflush-data noflush-head noinval-data noinval-head \
		 head-first inval-early; do
		one $mode $v
	done
done
