#!/bin/sh
# cli_check.sh - `cxlemu check`: valid files pass with a summary, broken
# ones are refused with exit 1 and a message naming the file, the line and
# the option; nothing is created or started.
. "$(dirname "$0")/clilib.sh"

cat >"$T/good.topo" <<EOT
# one host, one bridge, two root ports
-machine q35,cxl=on -m 2G
-object memory-backend-file,id=pm0,mem-path=$T/never.raw,size=256M,share=on
-object memory-backend-ram,id=lsa0,size=256K
-object memory-backend-ram,id=vm0,size=256M
-device pxb-cxl,id=cxl.1,bus=pcie.0,bus_nr=12
-device cxl-rp,id=rp0,bus=cxl.1,port=0,chassis=0,slot=0
-device cxl-rp,id=rp1,bus=cxl.1,port=1,chassis=0,slot=1
-device cxl-type3,bus=rp0,persistent-memdev=pm0,lsa=lsa0,id=pmem0
-device cxl-type3,bus=rp1,volatile-memdev=vm0,id=vmem0
-M cxl-fmw.0.targets.0=cxl.1,cxl-fmw.0.size=4G
EOT
run 0 check "$T/good.topo"
out_has "^$T/good.topo: ok: 1 host, 2 memdevs, 1 host bridge, 2 root ports, 0 switches, 1 window$"
# check opens no media
[ ! -e "$T/never.raw" ] || fail "check created a backing file"
[ ! -e "$SOCK" ] || fail "check created a socket"

# two hosts on one file: one shared device
cat >"$T/shared.topo" <<EOT
[host a]
-machine q35,cxl=on
-object memory-backend-file,id=m,mem-path=$T/shared.raw,size=256M,share=on
-device pxb-cxl,id=cxl.0,bus=pcie.0,bus_nr=52
-device cxl-rp,id=rp0,bus=cxl.0,port=0,chassis=0,slot=0
-device cxl-type3,bus=rp0,volatile-memdev=m,id=dev-a
-M cxl-fmw.0.targets.0=cxl.0,cxl-fmw.0.size=4G
[host b]
-machine q35,cxl=on
-object memory-backend-file,id=m,mem-path=$T/shared.raw,size=256M,share=on
-device pxb-cxl,id=cxl.0,bus=pcie.0,bus_nr=52
-device cxl-rp,id=rp0,bus=cxl.0,port=0,chassis=0,slot=0
-device cxl-type3,bus=rp0,volatile-memdev=m,id=dev-b
-M cxl-fmw.0.targets.0=cxl.0,cxl-fmw.0.size=4G
EOT
run 0 check "$T/shared.topo"
out_has ": ok: 2 hosts, 2 memdevs, .*, 1 shared device$"

# a device on a bus that does not exist: line 4, the option as written
sed 's/bus=cxl.1,port=1/bus=nope,port=1/' "$T/good.topo" >"$T/bad.topo"
run 1 check "$T/bad.topo"
err_has "^cxlemu: $T/bad.topo:8: "
err_has "bus=nope"
out_lacks "ok"

# an unknown property
sed 's/id=vmem0/id=vmem0,bogus=1/' "$T/good.topo" >"$T/bad2.topo"
run 1 check "$T/bad2.topo"
err_has "^cxlemu: $T/bad2.topo:10: "
err_has "bogus"

# a malformed size
sed 's/size=256M,share=on/size=256Q,share=on/' "$T/good.topo" >"$T/bad3.topo"
run 1 check "$T/bad3.topo"
err_has "bad3.topo:3: "
err_has "256Q"

# no such file; usage errors
run 1 check "$T/missing.topo"
err_has "^cxlemu: .*missing.topo"
run 2 check
err_has "usage: cxlemu check FILE"
run 2 check a b
run 2 check --bogus "$T/good.topo"

# the documented example topologies in the tree pass
if [ -n "${CXLEMU_SRC:-}" ] && [ -d "$CXLEMU_SRC/tests/topologies" ]; then
	for f in "$CXLEMU_SRC"/tests/topologies/qemu-doc-*.topo \
		 "$CXLEMU_SRC"/tests/topologies/seed000*.topo; do
		[ -f "$f" ] || continue
		run 0 check "$f"
		out_has ": ok: "
	done
fi
echo "cli_check: ok"
