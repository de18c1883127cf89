#!/bin/sh
# cxlemu qemu-args against the QEMU that is installed: every host of every
# topology under tests/topologies/ and of the QEMU documentation examples
# written below must either be accepted by that QEMU (started paused with
# -S and quit, no boot) or be refused with a message naming the QEMU
# release it needs.  Plus host-nodes on fake sysfs trees.
set -u
src=${CXLEMU_SRC:-$PWD}
bin=${CXLEMU_BIN:-$src/build/san/cxlemu}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
fail=0

run() { "$bin" "$@"; }
qemu=${CXLEMU_QEMU:-qemu-system-x86_64}
if ! command -v "$qemu" >/dev/null 2>&1; then
	echo "FAIL: $qemu is not installed (Debian: apt-get install qemu-system-x86; make deps does it)"
	exit 1
fi
qver=$("$qemu" --version | head -1)
echo "QEMU: $qver"

# ---- the QEMU documentation topologies (docs/system/devices/cxl.rst) ----
mkdir -p "$tmp/topo" "$tmp/mem"
cat >"$tmp/topo/doc-pmem.topo" <<'EOF'
qemu-system-x86_64 -M q35,cxl=on -m 4G,maxmem=8G,slots=8 -smp 4 \
 -object memory-backend-file,id=cxl-mem1,share=on,mem-path=/tmp/cxltest.raw,size=256M \
 -object memory-backend-file,id=cxl-lsa1,share=on,mem-path=/tmp/lsa.raw,size=256M \
 -device pxb-cxl,bus_nr=12,bus=pcie.0,id=cxl.1 \
 -device cxl-rp,port=0,bus=cxl.1,id=root_port13,chassis=0,slot=2 \
 -device cxl-type3,bus=root_port13,persistent-memdev=cxl-mem1,lsa=cxl-lsa1,id=cxl-pmem0 \
 -M cxl-fmw.0.targets.0=cxl.1,cxl-fmw.0.size=4G
EOF
cat >"$tmp/topo/doc-vmem.topo" <<'EOF'
qemu-system-x86_64 -M q35,cxl=on -m 4G,maxmem=8G,slots=8 -smp 4 \
 -object memory-backend-ram,id=vmem0,share=on,size=256M \
 -device pxb-cxl,bus_nr=12,bus=pcie.0,id=cxl.1 \
 -device cxl-rp,port=0,bus=cxl.1,id=root_port13,chassis=0,slot=2 \
 -device cxl-type3,bus=root_port13,volatile-memdev=vmem0,id=cxl-vmem0 \
 -M cxl-fmw.0.targets.0=cxl.1,cxl-fmw.0.size=4G
EOF
# windows spread over two -M options: QEMU refuses them split ("Parameters
# 'cxl-fmw.*' used inconsistently"); check warns and qemu-args joins them,
# so this host must start like the others below (persistent memory, so
# Debian 12's own QEMU 7.2 takes it too)
cat >"$tmp/topo/split-windows.topo" <<'EOF'
qemu-system-x86_64 -M q35,cxl=on -m 4G,maxmem=8G,slots=8 -smp 4 \
 -object memory-backend-ram,id=pmem0,share=on,size=256M \
 -object memory-backend-ram,id=lsa0,share=on,size=256K \
 -device pxb-cxl,bus_nr=12,bus=pcie.0,id=cxl.1 \
 -device cxl-rp,port=0,bus=cxl.1,id=root_port13,chassis=0,slot=2 \
 -device cxl-type3,bus=root_port13,persistent-memdev=pmem0,lsa=lsa0,id=cxl-pmem0 \
 -M cxl-fmw.0.targets.0=cxl.1,cxl-fmw.0.size=4G \
 -M cxl-fmw.1.targets.0=cxl.1,cxl-fmw.1.size=4G,cxl-fmw.1.interleave-granularity=8k
EOF
cat >"$tmp/topo/doc-interleave.topo" <<'EOF'
qemu-system-x86_64 -M q35,cxl=on -m 4G,maxmem=8G,slots=8 -smp 4 \
 -object memory-backend-file,id=cxl-mem1,share=on,mem-path=/tmp/cxltest.raw,size=256M \
 -object memory-backend-file,id=cxl-mem2,share=on,mem-path=/tmp/cxltest2.raw,size=256M \
 -object memory-backend-file,id=cxl-mem3,share=on,mem-path=/tmp/cxltest3.raw,size=256M \
 -object memory-backend-file,id=cxl-mem4,share=on,mem-path=/tmp/cxltest4.raw,size=256M \
 -object memory-backend-file,id=cxl-lsa1,share=on,mem-path=/tmp/lsa.raw,size=256M \
 -object memory-backend-file,id=cxl-lsa2,share=on,mem-path=/tmp/lsa2.raw,size=256M \
 -object memory-backend-file,id=cxl-lsa3,share=on,mem-path=/tmp/lsa3.raw,size=256M \
 -object memory-backend-file,id=cxl-lsa4,share=on,mem-path=/tmp/lsa4.raw,size=256M \
 -device pxb-cxl,bus_nr=12,bus=pcie.0,id=cxl.1 \
 -device pxb-cxl,bus_nr=222,bus=pcie.0,id=cxl.2 \
 -device cxl-rp,port=0,bus=cxl.1,id=root_port13,chassis=0,slot=2 \
 -device cxl-type3,bus=root_port13,persistent-memdev=cxl-mem1,lsa=cxl-lsa1,id=cxl-pmem0 \
 -device cxl-rp,port=1,bus=cxl.1,id=root_port14,chassis=0,slot=3 \
 -device cxl-type3,bus=root_port14,persistent-memdev=cxl-mem2,lsa=cxl-lsa2,id=cxl-pmem1 \
 -device cxl-rp,port=0,bus=cxl.2,id=root_port15,chassis=0,slot=5 \
 -device cxl-type3,bus=root_port15,persistent-memdev=cxl-mem3,lsa=cxl-lsa3,id=cxl-pmem2 \
 -device cxl-rp,port=1,bus=cxl.2,id=root_port16,chassis=0,slot=6 \
 -device cxl-type3,bus=root_port16,persistent-memdev=cxl-mem4,lsa=cxl-lsa4,id=cxl-pmem3 \
 -M cxl-fmw.0.targets.0=cxl.1,cxl-fmw.0.targets.1=cxl.2,cxl-fmw.0.size=4G,cxl-fmw.0.interleave-granularity=8k
EOF
cat >"$tmp/topo/doc-switch.topo" <<'EOF'
qemu-system-x86_64 -M q35,cxl=on -m 4G,maxmem=8G,slots=8 -smp 4 \
 -object memory-backend-file,id=cxl-mem0,share=on,mem-path=/tmp/cxltest.raw,size=256M \
 -object memory-backend-file,id=cxl-mem1,share=on,mem-path=/tmp/cxltest1.raw,size=256M \
 -object memory-backend-file,id=cxl-mem2,share=on,mem-path=/tmp/cxltest2.raw,size=256M \
 -object memory-backend-file,id=cxl-mem3,share=on,mem-path=/tmp/cxltest3.raw,size=256M \
 -object memory-backend-file,id=cxl-lsa0,share=on,mem-path=/tmp/lsa0.raw,size=256M \
 -object memory-backend-file,id=cxl-lsa1,share=on,mem-path=/tmp/lsa1.raw,size=256M \
 -object memory-backend-file,id=cxl-lsa2,share=on,mem-path=/tmp/lsa2.raw,size=256M \
 -object memory-backend-file,id=cxl-lsa3,share=on,mem-path=/tmp/lsa3.raw,size=256M \
 -device pxb-cxl,bus_nr=12,bus=pcie.0,id=cxl.1 \
 -device cxl-rp,port=0,bus=cxl.1,id=root_port0,chassis=0,slot=0 \
 -device cxl-rp,port=1,bus=cxl.1,id=root_port1,chassis=0,slot=1 \
 -device cxl-upstream,bus=root_port0,id=us0 \
 -device cxl-downstream,port=0,bus=us0,id=swport0,chassis=0,slot=4 \
 -device cxl-type3,bus=swport0,persistent-memdev=cxl-mem0,lsa=cxl-lsa0,id=cxl-pmem0 \
 -device cxl-downstream,port=1,bus=us0,id=swport1,chassis=0,slot=5 \
 -device cxl-type3,bus=swport1,persistent-memdev=cxl-mem1,lsa=cxl-lsa1,id=cxl-pmem1 \
 -device cxl-downstream,port=2,bus=us0,id=swport2,chassis=0,slot=6 \
 -device cxl-type3,bus=swport2,persistent-memdev=cxl-mem2,lsa=cxl-lsa2,id=cxl-pmem2 \
 -device cxl-downstream,port=3,bus=us0,id=swport3,chassis=0,slot=7 \
 -device cxl-type3,bus=swport3,persistent-memdev=cxl-mem3,lsa=cxl-lsa3,id=cxl-pmem3 \
 -M cxl-fmw.0.targets.0=cxl.1,cxl-fmw.0.size=4G,cxl-fmw.0.interleave-granularity=4k
EOF
for f in "$src"/tests/topologies/*; do
	[ -f "$f" ] && cp "$f" "$tmp/topo/seed-$(basename "$f")"
done
# backing files go to the scratch directory, not /tmp or the tree
for f in "$tmp"/topo/*; do
	sed -i -E "s#mem-path=([^ ,'\"]*/)?([^ ,/'\"]+)#mem-path=$tmp/mem/\\2#g" "$f"
done

# the hosts of a topology file: its [host NAME] sections, or one host
hosts_of() {
	h=$(sed -n 's/^[[:space:]]*\[host[[:space:]]\{1,\}\([^]]*\)\].*/\1/p' "$1")
	[ -n "$h" ] && echo "$h" || echo "-"
}
# the text of one host's section (all of it when there are none)
section_of() {
	if [ "$2" = "-" ]; then cat "$1"; return; fi
	awk -v h="$2" '/^[[:space:]]*\[host[[:space:]]/ { on = index($0, "[host " h "]") > 0; next } on' "$1"
}

ntopo=0
nacc=0
nref=0
# the run just made ($rc, $tmp/err) must be a refusal that says PATTERN
refused() {
	if [ $rc = 1 ] && grep -q -E "$1" "$tmp/err"; then
		nref=$((nref + 1))
		echo "ok   $name: refused as expected: $(tail -1 "$tmp/err")"
	else
		fail=1
		echo "FAIL $name: expected $2 (rc $rc)"
		cat "$tmp/out" "$tmp/err"
	fi
}
for f in "$tmp"/topo/*; do
	ntopo=$((ntopo + 1))
	for h in $(hosts_of "$f"); do
		hostarg=""
		[ "$h" != "-" ] && hostarg="--host $h"
		name="$(basename "$f")${hostarg:+ ($h)}"
		# needs newer QEMU when it uses what this QEMU lacks
		needs_newer=0
		if section_of "$f" "$h" | grep -q -E 'volatile-memdev|volatile-dc-memdev|num-dc-regions|cxl-switch-mailbox-cci'; then
			"$qemu" -device cxl-type3,help 2>/dev/null | grep -q volatile-memdev || needs_newer=1
		fi
		# shellcheck disable=SC2086
		(cd "$tmp" && run qemu-args "$f" $hostarg --cxl-only --check) \
			>"$tmp/out" 2>"$tmp/err"
		rc=$?
		# files the topology parser refuses on purpose
		case "$f" in
		*/seed-broken-*)
			if [ $rc = 1 ] && [ -s "$tmp/err" ] && [ ! -s "$tmp/out" ]; then
				nref=$((nref + 1))
				echo "ok   $name: refused by the parser: $(head -1 "$tmp/err")"
			else
				fail=1
				echo "FAIL $name: a broken topology must be refused (rc $rc)"
			fi
			continue;;
		esac
		# the pre-merge development branch's dialect: no release has it
		if section_of "$f" "$h" | grep -q -E 'window-base\[|len-window-base'; then
			refused 'never reached a QEMU release' "the development-branch refusal"
			continue
		fi
		if [ $needs_newer = 1 ]; then
			refused 'needs QEMU >= ' "a refusal naming the QEMU it needs"
			continue
		fi
		# seeds/003 as posted: host-nodes=${HOST_CXL_NODE} left
		# unexpanded, and the RFC's host-mem-type= that no release
		# has; a QEMU that can express the rest (>= 8.1) refuses those
		case "$f" in
		*/seed-seed003-*)
			refused "'host-nodes' expects|Invalid parameter 'host-mem-type'" \
				"QEMU to refuse the posted line"
			continue;;
		esac
		if [ $rc = 0 ] && grep -q 'accepted the command line' "$tmp/err"; then
			nacc=$((nacc + 1))
			echo "ok   $name: accepted"
		else
			fail=1
			echo "FAIL $name: not accepted (rc $rc)"
			cat "$tmp/out" "$tmp/err"
		fi
		# the printed line names no persistent-memdev on a QEMU without it
		if ! "$qemu" -device cxl-type3,help 2>/dev/null | grep -q persistent-memdev &&
		   grep -q persistent-memdev "$tmp/out"; then
			fail=1
			echo "FAIL $name: persistent-memdev left for a QEMU without it"
		fi
	done
done
# the check leaves no backing file behind
if [ -n "$(ls -A "$tmp/mem")" ]; then
	fail=1
	echo "FAIL: the acceptance runs left files: $(ls "$tmp/mem")"
fi
echo "topologies: $ntopo, hosts accepted: $nacc, refused as expected: $nref"
[ $nacc -ge 3 ] || { fail=1; echo "FAIL: fewer than 3 hosts accepted"; }

# one-port bridge on QEMU 7.2: the second root port appears, with a note
if ! "$qemu" -device pxb-cxl,help 2>/dev/null | grep -q hdm_for_passthrough; then
	(cd "$tmp" && run qemu-args "$tmp/topo/doc-pmem.topo") >"$tmp/out" 2>"$tmp/err"
	grep -q -- '-device cxl-rp,port=1,bus=cxl.1,id=cxl.1-cxlemu-rp1' "$tmp/out" &&
		grep -q 'second, empty root port' "$tmp/err" ||
		{ fail=1; echo "FAIL: no second root port for the one-port bridge"; cat "$tmp/out" "$tmp/err"; }
fi

# a value-less option at the end of a line (-sdl, -nographic, -S, ...):
# check accepts it, and qemu-args keeps it value-less and every backend
for flag in sdl nographic S daemonize no-reboot enable-kvm; do
	cat >"$tmp/flag.topo" <<EOF
qemu-system-x86_64 -M q35,cxl=on -m 4G -$flag
 -object memory-backend-ram,id=pmem0,share=on,size=256M
 -object memory-backend-ram,id=lsa0,share=on,size=256K
 -device pxb-cxl,bus_nr=12,bus=pcie.0,id=cxl.1
 -device cxl-rp,port=0,bus=cxl.1,id=rp0,chassis=0,slot=2
 -device cxl-rp,port=1,bus=cxl.1,id=rp1,chassis=0,slot=3
 -device cxl-type3,bus=rp0,persistent-memdev=pmem0,lsa=lsa0,id=cxl-pmem0
 -M cxl-fmw.0.targets.0=cxl.1,cxl-fmw.0.size=4G -$flag
EOF
	"$bin" check "$tmp/flag.topo" >"$tmp/out" 2>"$tmp/err" ||
		{ fail=1; echo "FAIL: check refuses -$flag at the end of a line"; cat "$tmp/err"; }
	(cd "$tmp" && run qemu-args "$tmp/flag.topo") >"$tmp/out" 2>"$tmp/err"
	grep -q -e "-m 4G -$flag -object memory-backend-ram,id=pmem0," "$tmp/out" &&
		grep -q -e "cxl-fmw.0.size=4G -$flag\$" "$tmp/out" ||
		{ fail=1; echo "FAIL: qemu-args lost a word after -$flag"; cat "$tmp/out" "$tmp/err"; }
done

# the split windows: one warning naming the rule, one -M with both windows
"$bin" check "$tmp/topo/split-windows.topo" >"$tmp/out" 2>"$tmp/err" &&
	grep -q "split-windows.topo:8: cxl-fmw.1.targets.0: QEMU takes every cxl-fmw key from one -M option" "$tmp/err" ||
	{ fail=1; echo "FAIL: check on split windows"; cat "$tmp/out" "$tmp/err"; }
(cd "$tmp" && run qemu-args "$tmp/topo/split-windows.topo") >"$tmp/out" 2>"$tmp/err"
grep -q -e "-M cxl-fmw.0.targets.0=cxl.1,cxl-fmw.0.size=4G,cxl-fmw.1.targets.0=cxl.1,cxl-fmw.1.size=4G,cxl-fmw.1.interleave-granularity=8k\$" "$tmp/out" &&
	[ "$(grep -o -e ' -M ' "$tmp/out" | wc -l)" = 2 ] ||
	{ fail=1; echo "FAIL: qemu-args did not join the split windows into one -M"; cat "$tmp/out" "$tmp/err"; }

# usage errors
run qemu-args >/dev/null 2>&1
[ $? = 2 ] || { fail=1; echo "FAIL: qemu-args without a topology must exit 2"; }
run qemu-args "$tmp/nonexistent.topo" >/dev/null 2>"$tmp/err"
[ $? = 1 ] || { fail=1; echo "FAIL: a missing topology must exit 1"; }

# ---- host-nodes on fake trees ----
mkdir -p "$tmp/sys-empty"
run host-nodes --sysfs "$tmp/sys-empty" >"$tmp/out" 2>"$tmp/err" ||
	{ fail=1; echo "FAIL: host-nodes on an empty tree"; cat "$tmp/err"; }
grep -q '"nodes": \[' "$tmp/out" && ! grep -q '"node":' "$tmp/out" ||
	{ fail=1; echo "FAIL: empty tree must list no node"; cat "$tmp/out"; }
r="$tmp/sys/bus/cxl/devices/region0"
mkdir -p "$r/dax_region0/dax0.0" "$tmp/sys/devices/system/node/node1/access0/initiators"
echo ram >"$r/mode"
echo 0x10000000 >"$r/size"
echo 1 >"$r/dax_region0/dax0.0/target_node"
echo 268435456 >"$r/dax_region0/dax0.0/size"
echo 0-1 >"$tmp/sys/devices/system/node/online"
echo 0-1 >"$tmp/sys/devices/system/node/has_memory"
echo 250 >"$tmp/sys/devices/system/node/node1/access0/initiators/read_latency"
run host-nodes --sysfs "$tmp/sys" >"$tmp/out" 2>"$tmp/err" ||
	{ fail=1; echo "FAIL: host-nodes on a one-region tree"; cat "$tmp/err"; }
grep -q '"node": 1' "$tmp/out" && grep -q '"read_latency": 250' "$tmp/out" &&
	grep -q '"chardev": "dax0.0"' "$tmp/out" ||
	{ fail=1; echo "FAIL: node 1 with its HMAT latency expected"; cat "$tmp/out"; }
echo "nonsense" >"$r/dax_region0/dax0.0/target_node"
run host-nodes --sysfs "$tmp/sys" >"$tmp/out" 2>"$tmp/err"
[ $? = 1 ] && grep -q 'target_node' "$tmp/err" ||
	{ fail=1; echo "FAIL: a garbled target_node must be an error naming it"; cat "$tmp/err"; }
run host-nodes --bogus >/dev/null 2>&1
[ $? = 2 ] || { fail=1; echo "FAIL: host-nodes --bogus must exit 2"; }
# this machine's own /sys: whatever it has, the answer is JSON
run host-nodes >"$tmp/out" 2>"$tmp/err" ||
	{ fail=1; echo "FAIL: host-nodes on /sys"; cat "$tmp/err"; }

[ $fail = 0 ] && echo "cli_qemu: all checks passed"
exit $fail
