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
# host2 is a non-coherent host by its topology: its DAX devices start so
sed 's/^\[host host2\]$/[host host2 coherency=noncoherent]/' \
	"$CXLEMU_SRC/examples/two-hosts-shared.topo" >"$T/two.topo"
run 0 start "$T/two.topo"   # in $T, where shared.raw is
for h in host1 host2; do
	run 0 --host $h create-region -d decoder0.0 -t ram -m mem0
	run 0 --host $h reconfigure-device dax0.0 -m devdax
done
out_has '"coherency":"noncoherent"'
run 0 --host host1 dax list
out_lacks coherency
prog() {        # HOST ARGS...: run the test program as HOST
	h=$1
	shift
	timeout 120 "$CXLEMU_BIN" --host "$h" run -- "$T/prog" "$@" \
		>"$T/out" 2>"$T/err" || fail "prog_coherency $* on $h failed"
}

# host1's coherent device, non-coherent for one program by the environment
CXLEMU_COHERENCY=noncoherent prog host1 fork
out_has "^fork: before invalidating ''"
out_has "^fork: after invalidating 'from the child'"
err_has "mapped non-coherently"
prog host1 fork
out_has "^fork: before invalidating 'from the child'"     # coherent
err_lacks() { ! grep -q -e "$1" "$T/err" || fail "stderr has '$1'"; }
err_lacks "non-coherently"
# and from now on by the daemon's mode
run 0 --host host1 reconfigure-device dax0.0 --coherency noncoherent

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

prog host1 plain
out_has "^plain: ordinary memory"
CXLEMU_COHERENCY_LOG=$T/dirty.log prog host1 dirty
err_has "1 line(s) never written back; see $T/dirty.log"
grep -q "store never written back: dax0.0+0x80 (line 2) on host1 pid [0-9]*: stored to but never written back (flushed) before exit" \
	"$T/dirty.log" || fail "no report of the line dirty at exit"
# the random evictor writes lines back that the program never flushed
run 0 --host host1 write region0 0 --data "................................"
CXLEMU_COHERENCY_EVICT=20000 prog host1 wait
err_has "[1-9][0-9]* eviction(s)"
run 0 --host host1 read region0 0 4096
out_has "E"
head -c 4096 /dev/zero | "$CXLEMU_BIN" --host host1 write region0 0
CXLEMU_COHERENCY_LOG=$T/wait.log prog host1 wait     # without it: nothing
err_has " 0 eviction(s)"
err_has "64 line(s) never written back"

# a program that opens a non-coherent device but never maps it (cat:
# read is EINVAL on device-DAX) leaves no log
timeout 60 "$CXLEMU_BIN" --host host1 run -- cat /dev/dax0.0 >"$T/out" 2>&1 &&
	fail "cat read device-DAX"
grep -q "cannot be read or written" "$T/out" || fail "cat did not open it"
[ -z "$(ls cxlemu-coherency.*.log 2>/dev/null)" ] || fail "cat left a log"


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
prog host2 count 20000
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
timeout 60 "$CXLEMU_BIN" --host host2 run -- \
	"$EX/daxreader" >"$T/out" 2>"$T/err" || fail "daxreader failed"
out_lacks "Hello from instance 1"
out_has "^\.\.\.\.\.\.\.\."
# the default log (in the current directory) is removed when nothing
# was reported, and kept when something was
[ -z "$(ls cxlemu-coherency.*.log 2>/dev/null)" ] ||
	fail "an empty default log was left behind"
timeout 60 "$CXLEMU_BIN" --host host2 run -- \
	"$EX/daxwriter" "unflushed" >"$T/out" 2>"$T/err" || fail "daxwriter failed"
err_has "see cxlemu-coherency\.[0-9]*\.log"
ls cxlemu-coherency.*.log >/dev/null 2>&1 || fail "the report log is missing"

# PMDK's daxio (libpmem flushes with clwb or clflushopt, trapped): a
# file written on host1 and read back on host2, both non-coherent
head -c 1048576 /dev/urandom >"$T/data.bin"
timeout 120 "$CXLEMU_BIN" --host host1 run -- daxio -o /dev/dax0.0 \
	-i "$T/data.bin" -l 1048576 >"$T/out" 2>"$T/err" || fail "daxio -o failed"
err_has "0 line(s) never written back"
timeout 120 "$CXLEMU_BIN" --host host2 run -- daxio -i /dev/dax0.0 \
	-o "$T/back.bin" -l 1048576 >"$T/out" 2>"$T/err" || fail "daxio -i failed"
cmp "$T/data.bin" "$T/back.bin" || fail "daxio read back other bytes"
