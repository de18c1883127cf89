#!/bin/sh
# Unmodified device-DAX programs on two hosts: daxwriter on host1 and
# daxreader on host2 exchange a message through one shared device, via
# libcxlemu-preload.so; the daxctl verbs; a device the host lacks.
. "$(dirname "$0")/clilib.sh"
: "${CXLEMU_BUILD:?run through tests/run.sh}"
PRELOAD=$CXLEMU_BUILD/libcxlemu-preload.so
EX=$CXLEMU_BUILD/examples
[ -f "$PRELOAD" ] || fail "no $PRELOAD"

cat >"$T/two.topo" <<TOPO
[host host1]
qemu-system-x86_64 -machine type=q35,cxl=on -m 4G,slots=4,maxmem=8G \\
  -object memory-backend-file,id=mem0,mem-path=$T/shared.raw,size=256M,share=true \\
  -device pxb-cxl,id=cxl.0,bus=pcie.0,bus_nr=52 \\
  -device cxl-rp,id=rp0,bus=cxl.0,chassis=0,port=0,slot=0 \\
  -device cxl-type3,bus=rp0,volatile-memdev=mem0,id=cxl-mem0 \\
  -M cxl-fmw.0.targets.0=cxl.0,cxl-fmw.0.size=4G
[host host2]
qemu-system-x86_64 -machine type=q35,cxl=on -m 4G,slots=4,maxmem=8G \\
  -object memory-backend-file,id=mem0,mem-path=$T/shared.raw,size=256M,share=true \\
  -device pxb-cxl,id=cxl.0,bus=pcie.0,bus_nr=52 \\
  -device cxl-rp,id=rp0,bus=cxl.0,chassis=0,port=0,slot=0 \\
  -device cxl-type3,bus=rp0,volatile-memdev=mem0,id=cxl-mem0 \\
  -M cxl-fmw.0.targets.0=cxl.0,cxl-fmw.0.size=4G
TOPO

run 0 start "$T/two.topo"
for h in host1 host2; do
	run 0 --host $h create-region -d decoder0.0 -t ram -m mem0
	out_has '"region":"region0"'
	# Linux onlines a new ram region as system-ram; programs need devdax
	run 0 --host $h dax list
	out_has '"mode":"system-ram"'
	# -f as the seed lab gives it to daxctl (offline the memory first)
	run 0 --host $h reconfigure-device -f dax0.0 -m devdax
	out_has '"chardev":"dax0.0"'
	out_has '"mode":"devdax"'
	out_has '"align":2097152'
	err_has 'reconfigured 1 device'
done
run 0 --host host1 dax list -u
out_has '"size":"256.00 MiB (268.44 MB)"'
run 2 --host host1 reconfigure-device dax0.0
run 1 --host host1 reconfigure-device dax0.0 -m bogus
err_has "not one of devdax, system-ram"
# how the host maps it: shown by dax list and list -X only when not coherent
run 1 --host host1 reconfigure-device dax0.0 --coherency sometimes
err_has "not one of coherent, noncoherent"
run 0 --host host1 reconfigure-device dax0.0 --coherency noncoherent
out_has '"coherency":"noncoherent"'
out_has '"mode":"devdax"'
run 0 --host host1 list -R -X
out_has '"coherency":"noncoherent"'
run 0 --host host2 dax list
out_lacks coherency
run 0 --host host1 reconfigure-device dax0.0 -c coherent
out_lacks coherency

# the unmodified programs
timeout 60 env LD_PRELOAD=$PRELOAD CXLEMU_HOST=host1 "$EX/daxwriter" "Hello from instance 1!" \
	>"$T/out" 2>"$T/err" || fail "daxwriter failed"
out_has "Paragraph written to DAX device successfully."
timeout 60 env LD_PRELOAD=$PRELOAD CXLEMU_HOST=host2 "$EX/daxreader" >"$T/out" 2>"$T/err" ||
	fail "daxreader failed"
out_has "^Hello from instance 1!$"
# and the bytes are in region0 of host2 through the exact path too
run 0 --host host2 read region0 0 22
out_has "^Hello from instance 1!"

# a device the host does not have: a clear refusal, daemon unharmed
timeout 60 env LD_PRELOAD=$PRELOAD CXLEMU_HOST=host2 "$EX/daxreader" /dev/dax7.0 \
	>"$T/out" 2>"$T/err" && fail "daxreader on dax7.0 succeeded"
err_has "host host2 has no DAX device 'dax7.0' (it has: dax[0-9]*\.0"
timeout 60 env LD_PRELOAD=$PRELOAD CXLEMU_HOST=host9 "$EX/daxreader" >"$T/out" 2>"$T/err" &&
	fail "daxreader on an unknown host succeeded"
err_has "host9"
run 0 --host host2 list -R
out_has region0
# back to system-ram: a preloaded program cannot map it
run 0 --host host2 reconfigure-device dax0.0 -m system-ram
timeout 60 env LD_PRELOAD=$PRELOAD CXLEMU_HOST=host2 "$EX/daxreader" >"$T/out" 2>"$T/err" &&
	fail "daxreader mapped a system-ram device"
err_has "system-ram mode"
run 0 stop
