#!/bin/sh
# Non-coherent shared memory (issue 11), with unmodified programs under
# the preload: the message ring of examples/ring.c and its six classic
# bugs through scripts/demo_coherency.sh (each bug caught on a
# non-coherent device and unseen on a coherent one; the correct ring
# passes both with no report), then what programs do around it: system
# calls into the mapping, their own SIGSEGV handler, fork, cache
# instructions on ordinary memory, locked RMWs and the coherent window,
# stores never written back.
. "$(dirname "$0")/clilib.sh"
: "${CXLEMU_BUILD:?run through tests/run.sh}"
: "${CXLEMU_SRC:?run through tests/run.sh}"
EX=$CXLEMU_BUILD/examples
cc -std=c11 -D_GNU_SOURCE -O1 -o "$T/prog" "$(dirname "$0")/prog_coherency.c" ||
	fail "cannot build prog_coherency"
cd "$T"         # where the programs' default report logs land

# ---- the ring: every variant in both modes ----
RING_STALL=3 SHOW_REPORTS=0 sh "$CXLEMU_SRC/scripts/demo_coherency.sh" \
	"$CXLEMU_BIN" 5000 >"$T/out" 2>"$T/err" || fail "demo_coherency failed"
none="0 stale reads, 0 lost updates, 0 locked RMWs, 0 never written back"
out_has "^noncoherent ok  *passed  consumer: 5000 of 5000 messages, 0 corrupt; reports: $none\$"
for v in noflush-data noflush-head noinval-data noinval-head head-first inval-early; do
	out_has "^noncoherent $v  *caught "
	out_has "^coherent  *$v  *passed  consumer: 5000 of 5000 messages, 0 corrupt; reports: $none\$"
done
out_has "^coherent  *ok  *passed  consumer: 5000 of 5000 messages, 0 corrupt; reports: $none\$"
# what catches them: the unflushed stores, a hang, corruption, the checker
out_has "^noncoherent noflush-data .*[1-9][0-9]* never written back"
out_has "^noncoherent noflush-head .*stuck"
out_has "^noncoherent noinval-data .*[1-9][0-9]* stale reads"
out_has "^noncoherent noinval-head .*stuck"
out_has "^noncoherent inval-early .*[1-9][0-9]* stale reads"

# ---- programs around it ----
run 0 start "$CXLEMU_SRC/examples/two-hosts-shared.topo"  # in $T
for h in host1 host2; do
	run 0 --host $h create-region -d decoder0.0 -t ram -m mem0
	run 0 --host $h reconfigure-device dax0.0 -m devdax
done
# host1's device by the daemon's mode, host2's by the environment
run 0 --host host1 reconfigure-device dax0.0 --coherency noncoherent
prog() {        # HOST ARGS...: run the test program as HOST
	h=$1
	shift
	timeout 120 "$CXLEMU_BIN" --host "$h" run -- "$T/prog" "$@" \
		>"$T/out" 2>"$T/err" || fail "prog_coherency $* on $h failed"
}

prog host1 io
out_has "^io: read into the mapping: 12 'through read'"
out_has "^io: fread into the mapping: 13 'through fread'"
out_has "^io: recv into the mapping: 12 'through recv'"
out_has "^io: write from the mapping: 4, 4"
err_has "dax0.0 is mapped non-coherently"
err_has "coherency: 0 stale read(s), 0 lost update(s), 0 locked RMW(s) on non-coherent memory, 0 line(s) never written back;"

prog host1 segv
out_has "^segv: own handler called"
out_has "^segv: mapping still works: xy"

CXLEMU_COHERENCY=noncoherent prog host2 fork
out_has "^fork: before invalidating ''"
out_has "^fork: after invalidating 'from the child'"
err_has "mapped non-coherently"

prog host1 plain
out_has "^plain: ordinary memory"

# locked increments from two hosts: reported on cached memory, exact in
# the coherent window (device-side atomics, lock words)
head -c 64 /dev/zero | "$CXLEMU_BIN" --host host1 write region0 0
CXLEMU_COHERENCY_LOG=$T/count.log prog host1 count 1000
err_has "1 locked RMW(s) on non-coherent memory"
grep -q "locked RMW on non-coherent memory: dax0.0+0 (line 0) on host1 pid [0-9]* at pc 0x" \
	"$T/count.log" || fail "no locked RMW report in the log"
head -c 64 /dev/zero | "$CXLEMU_BIN" --host host1 write region0 0
export CXLEMU_COHERENT_WINDOW=0:4096
"$CXLEMU_BIN" --host host1 run -- "$T/prog" count 20000 >"$T/c1" 2>&1 &
p1=$!
CXLEMU_COHERENCY=noncoherent prog host2 count 20000
wait $p1 || fail "count on host1 failed: $(cat "$T/c1")"
unset CXLEMU_COHERENT_WINDOW
run 0 --host host1 read --hex region0 0 8
out_has "^00000000  40 9c 00 00 00 00 00 00 "      # 40000

# an unmodified writer that never flushes: reported, and never seen
run 0 --host host1 write region0 0 --data "................................"
CXLEMU_COHERENCY_LOG=$T/w.log timeout 60 "$CXLEMU_BIN" --host host1 run -- \
	"$EX/daxwriter" "Hello from instance 1!" >"$T/out" 2>"$T/err" ||
	fail "daxwriter failed"
err_has "1 line(s) never written back; see $T/w.log"
grep -q "store never written back: dax0.0+0 (line 0) on host1 pid" "$T/w.log" ||
	fail "no report in the log"
CXLEMU_COHERENCY=noncoherent timeout 60 "$CXLEMU_BIN" --host host2 run -- \
	"$EX/daxreader" >"$T/out" 2>"$T/err" || fail "daxreader failed"
out_lacks "Hello from instance 1"
out_has "^\.\.\.\.\.\.\.\."
# the default log (in the current directory) is removed when nothing
# was reported, and kept when something was
[ -z "$(ls cxlemu-coherency.*.log 2>/dev/null)" ] ||
	fail "an empty default log was left behind"
CXLEMU_COHERENCY=noncoherent timeout 60 "$CXLEMU_BIN" --host host2 run -- \
	"$EX/daxwriter" "unflushed" >"$T/out" 2>"$T/err" || fail "daxwriter failed"
err_has "see cxlemu-coherency\.[0-9]*\.log"
ls cxlemu-coherency.*.log >/dev/null 2>&1 || fail "the report log is missing"
