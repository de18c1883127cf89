/*
 * default_topology.c - the topology `cxlemu start` and `make demo` use
 * when no file is given: the two-host shared-memory lab of the seed
 * (seeds/000), made small.  Each host has one pxb-cxl host bridge, one
 * root port and one volatile cxl-type3 device.  Both devices are backed by
 * the same file with share=on, so they are two heads of one 256 MiB
 * device: what host1 writes through its region, host2 reads through its
 * own.  The -m options give the seed's window base, 0x390000000.
 */
#include "config.h"

const char cx_default_topology[] =
	"# cxlemu's default topology: two hosts sharing one CXL memory device\n"
	"[host host1]\n"
	"-machine type=q35,cxl=on -m 4G,slots=4,maxmem=8G\n"
	"-device pxb-cxl,id=cxl.0,bus=pcie.0,bus_nr=52\n"
	"-device cxl-rp,id=rp0,bus=cxl.0,chassis=0,port=0,slot=0\n"
	"-object memory-backend-file,id=mem0,"
	"mem-path=/tmp/cxlemu-demo-shared.raw,size=256M,share=true\n"
	"-device cxl-type3,bus=rp0,volatile-memdev=mem0,id=cxl-mem0\n"
	"-M cxl-fmw.0.targets.0=cxl.0,cxl-fmw.0.size=4G\n"
	"\n"
	"[host host2]\n"
	"-machine type=q35,cxl=on -m 4G,slots=4,maxmem=8G\n"
	"-device pxb-cxl,id=cxl.0,bus=pcie.0,bus_nr=52\n"
	"-device cxl-rp,id=rp0,bus=cxl.0,chassis=0,port=0,slot=0\n"
	"-object memory-backend-file,id=mem0,"
	"mem-path=/tmp/cxlemu-demo-shared.raw,size=256M,share=true\n"
	"-device cxl-type3,bus=rp0,volatile-memdev=mem0,id=cxl-mem0\n"
	"-M cxl-fmw.0.targets.0=cxl.0,cxl-fmw.0.size=4G\n";
