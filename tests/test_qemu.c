/*
 * test_qemu.c - the QEMU layer without booting anything: probe parsing,
 * command-line translation for a QEMU 7.2-like and a newer binary, the
 * pass-through workaround, --bind-cxl-ram, and the host CXL NUMA walk over
 * fake sysfs trees made here (regions with and without DAX devices, offline
 * nodes, no CXL at all, missing and garbled files).
 *
 * Run with a subcommand name ("qemu-args ...", "host-nodes ...") this
 * binary is also a driver for the two subcommands, so tests/cli_qemu.sh
 * can run them before the cxlemu command dispatches to them.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "config/config.h"
#include "config/grammar.h"
#include "listing/json.h"
#include "qemu/qemu.h"

/* ---- helpers ---- */

static void push_props(cx_vec *v, const char *list)
{
	char *s = strdup(list), *save = NULL;
	for (char *t = strtok_r(s, " ", &save); t; t = strtok_r(NULL, " ", &save))
		cx_vec_push(v, cx_xstrdup(t));
	free(s);
}

/* caps of Debian 12's QEMU 7.2, or of a QEMU >= 9.1 */
static void caps_make(struct cx_qemu_caps *c, bool newer)
{
	memset(c, 0, sizeof(*c));
	c->binary = cx_xstrdup("/usr/bin/qemu-system-x86_64");
	c->version = cx_xstrdup(newer ? "9.2.0" : "7.2.22");
	c->major = newer ? 9 : 7;
	c->minor = 2;
	for (int i = 0; i < CX_QDEV_NR; i++)
		c->dev[i].present = newer || i != CX_QDEV_SWCCI;
	push_props(&c->dev[CX_QDEV_TYPE3].props,
		   "acpi-index addr cdat lsa memdev multifunction sn rombar");
	if (newer)
		push_props(&c->dev[CX_QDEV_TYPE3].props,
			   "persistent-memdev volatile-memdev num-dc-regions "
			   "volatile-dc-memdev");
	push_props(&c->dev[CX_QDEV_PXB].props, "bus_nr numa_node addr");
	if (newer)
		push_props(&c->dev[CX_QDEV_PXB].props, "hdm_for_passthrough");
	push_props(&c->dev[CX_QDEV_RP].props, "chassis port slot bus-reserve");
	push_props(&c->dev[CX_QDEV_USP].props, "cdat port");
	push_props(&c->dev[CX_QDEV_DSP].props, "chassis port slot");
	push_props(&c->dev[CX_QDEV_SWCCI].props, "target");
	push_props(&c->backend_props, "host-nodes mem-path policy share size");
}

/* A fabric with one host whose words are split from `line` at spaces. */
static struct cx_fabric *fab(const char *name, const char *line)
{
	struct cx_fabric *f = cx_fabric_new("test.topo");
	struct cx_host *h = cx_host_new(f, name, 1);
	char *s = strdup(line), *save = NULL;
	for (char *t = strtok_r(s, " ", &save); t; t = strtok_r(NULL, " ", &save))
		cx_vec_push(&h->words, cx_xstrdup(t));
	free(s);
	h->ram_size = 4ULL << 30;
	return f;
}

static char *gen(struct cx_fabric *f, const char *host, bool newer,
		 const struct cx_qemu_opts *o, int expect_rc, cx_err *e,
		 struct cx_qemu_line *keep)
{
	struct cx_qemu_caps c;
	struct cx_qemu_line l;
	char *j = NULL;
	caps_make(&c, newer);
	int rc = cx_qemu_line_build(f, host, &c, o, &l, e);
	assert_int_equal(rc, expect_rc);
	if (!rc) {
		j = cx_qemu_line_join(&l);
		if (keep)
			*keep = l;
		else
			cx_qemu_line_free(&l);
	}
	cx_qemu_caps_free(&c);
	return j;
}

static bool any_note(const struct cx_qemu_line *l, const char *needle)
{
	for (int i = 0; i < l->notes.n; i++)
		if (strstr(l->notes.v[i], needle))
			return true;
	return false;
}

#define PMEM1 \
	"qemu-system-x86_64 -M q35,cxl=on -m 4G,maxmem=8G,slots=8 -smp 4 " \
	"-object memory-backend-file,id=cxl-mem1,share=on,mem-path=/tmp/cxltest.raw,size=256M " \
	"-object memory-backend-file,id=cxl-lsa1,share=on,mem-path=/tmp/lsa.raw,size=256M " \
	"-device pxb-cxl,bus_nr=12,bus=pcie.0,id=cxl.1 " \
	"-device cxl-rp,port=0,bus=cxl.1,id=root_port13,chassis=0,slot=2 " \
	"-device cxl-type3,bus=root_port13,persistent-memdev=cxl-mem1,lsa=cxl-lsa1,id=cxl-pmem0 " \
	"-M cxl-fmw.0.targets.0=cxl.1,cxl-fmw.0.size=4G"

#define VMEM1 \
	"-M q35,cxl=on -m 4G -smp 2 " \
	"-object memory-backend-ram,id=vmem0,share=on,size=256M " \
	"-device pxb-cxl,bus_nr=12,bus=pcie.0,id=cxl.1 " \
	"-device cxl-rp,port=0,bus=cxl.1,id=root_port13,chassis=0,slot=2 " \
	"-device cxl-rp,port=1,bus=cxl.1,id=root_port14,chassis=0,slot=3 " \
	"-device cxl-type3,bus=root_port13,volatile-memdev=vmem0,id=cxl-vmem0 " \
	"-M cxl-fmw.0.targets.0=cxl.1,cxl-fmw.0.size=4G"

/* ---- probe parsing ---- */

static void t_parse_props(void **s)
{
	const char *help =
		"cxl-type3 options:\n"
		"  acpi-index=<uint32>    -  (default: 0)\n"
		"  lsa=<link<memory-backend>>\n"
		"  memdev=<link<memory-backend>>\n"
		"  sn=<uint64>            -  (default: 18446744073709551615)\n"
		"not a property line=<x>\n";
	cx_vec v = {0};
	assert_int_equal(cx_qemu_parse_props(help, &v), 4);
	assert_string_equal(v.v[0], "acpi-index");
	assert_string_equal(v.v[2], "memdev");
	for (int i = 0; i < v.n; i++)
		free(v.v[i]);
	cx_vec_free(&v);
}

static void t_parse_version(void **s)
{
	struct cx_qemu_caps c = {0};
	cx_err e;
	assert_int_equal(cx_qemu_parse_version(
		"QEMU emulator version 7.2.22 (Debian 1:7.2+dfsg-7)\n", &c, &e), 0);
	assert_int_equal(c.major, 7);
	assert_int_equal(c.minor, 2);
	assert_int_equal(c.micro, 22);
	assert_string_equal(c.version, "7.2.22");
	assert_int_equal(cx_qemu_parse_version("QEMU emulator version 10.1 x",
					       &c, &e), 0);
	assert_string_equal(c.version, "10.1.0");
	assert_int_equal(cx_qemu_parse_version("bochs 2.7", &c, &e), -EINVAL);
	assert_non_null(strstr(e.msg, "QEMU version"));
	cx_qemu_caps_free(&c);
}

/* a fake binary that answers like QEMU 7.2 */
static void t_probe_fake_binary(void **s)
{
	char dir[] = "/tmp/cxq-probe-XXXXXX";
	assert_non_null(mkdtemp(dir));
	char *bin = cx_xasprintf("%s/qemu", dir);
	FILE *f = fopen(bin, "w");
	assert_non_null(f);
	fputs("#!/bin/sh\n"
	      "case \"$1 $2\" in\n"
	      "'--version ') echo 'QEMU emulator version 7.2.5 (fake)';;\n"
	      "'-device cxl-type3,help') printf 'cxl-type3 options:\\n"
	      "  lsa=<link>\\n  memdev=<link>\\n';;\n"
	      "'-device pxb-cxl,help') printf 'pxb-cxl options:\\n  bus_nr=<uint8>\\n';;\n"
	      "'-device cxl-rp,help'|'-device cxl-upstream,help'|"
	      "'-device cxl-downstream,help') printf \"${2%%,help} options:\\n  port=<uint8>\\n\";;\n"
	      "'-object memory-backend-file,help') printf 'memory-backend-file options:\\n"
	      "  host-nodes=<int>\\n  mem-path=<string>\\n';;\n"
	      "*) echo \"qemu: '${2%%,help}' is not a valid device model name\" >&2; exit 1;;\n"
	      "esac\n", f);
	fclose(f);
	chmod(bin, 0755);
	struct cx_qemu_caps c;
	cx_err e = {{0}};
	assert_int_equal(cx_qemu_probe(bin, &c, &e), 0);
	assert_string_equal(c.version, "7.2.5");
	assert_true(c.dev[CX_QDEV_TYPE3].present);
	assert_true(cx_qemu_has_prop(&c, CX_QDEV_TYPE3, "memdev"));
	assert_false(cx_qemu_has_prop(&c, CX_QDEV_TYPE3, "volatile-memdev"));
	assert_true(c.dev[CX_QDEV_RP].present);
	assert_false(c.dev[CX_QDEV_SWCCI].present);
	assert_int_equal(c.backend_props.n, 2);
	cx_qemu_caps_free(&c);
	/* a binary that is not there */
	char *none = cx_xasprintf("%s/no-such-qemu", dir);
	assert_int_equal(cx_qemu_probe(none, &c, &e), -ENOENT);
	assert_non_null(strstr(e.msg, "no-such-qemu"));
	unlink(bin);
	rmdir(dir);
	free(bin);
	free(none);
}

static void t_run_capture(void **s)
{
	char *argv[] = {"sh", "-c", "read x; echo got $x; echo err >&2; exit 3",
			NULL};
	char *out;
	int st;
	cx_err e;
	assert_int_equal(cx_run_capture(argv, "hello\n", 5000, &out, &st, &e), 0);
	assert_int_equal(st, 3);
	assert_non_null(strstr(out, "got hello"));
	assert_non_null(strstr(out, "err"));
	free(out);
	char *slow[] = {"sh", "-c", "sleep 30", NULL};
	assert_int_equal(cx_run_capture(slow, NULL, 300, &out, &st, &e),
			 -ETIMEDOUT);
	assert_non_null(strstr(e.msg, "300 ms"));
	free(out);
	char *none[] = {"/nonexistent/cxlemu-prog", NULL};
	assert_int_equal(cx_run_capture(none, NULL, 1000, &out, &st, &e),
			 -ENOENT);
	assert_null(out);
}

/* ---- translation ---- */

static void t_pmem_on_72(void **s)
{
	struct cx_fabric *f = fab("host0", PMEM1);
	struct cx_qemu_line l;
	cx_err e;
	char *j = gen(f, NULL, false, NULL, 0, &e, &l);
	/* persistent-memdev renamed, nothing else of the device touched */
	assert_non_null(strstr(j, "-device cxl-type3,bus=root_port13,"
				  "memdev=cxl-mem1,lsa=cxl-lsa1,id=cxl-pmem0"));
	assert_null(strstr(j, "persistent-memdev"));
	assert_true(any_note(&l, "persistent-memdev=cxl-mem1 written as memdev="));
	/* one root port: a second one, on a free port and slot */
	assert_non_null(strstr(j, "-device cxl-rp,port=0,bus=cxl.1,id=root_port13,"
				  "chassis=0,slot=2 -device cxl-rp,port=1,bus=cxl.1,"
				  "id=cxl.1-cxlemu-rp1,chassis=0,slot=0 "));
	assert_true(any_note(&l, "host bridge cxl.1 has one root port"));
	/* the binary comes first, the program word of the file is gone */
	assert_true(!strncmp(j, "/usr/bin/qemu-system-x86_64 -M q35,cxl=on ", 42));
	assert_non_null(strstr(j, "-M cxl-fmw.0.targets.0=cxl.1,cxl-fmw.0.size=4G"));
	free(j);
	cx_qemu_line_free(&l);
	cx_fabric_free(f);
}

static void t_pmem_on_newer(void **s)
{
	struct cx_fabric *f = fab("host0", PMEM1);
	struct cx_qemu_line l;
	cx_err e;
	char *j = gen(f, NULL, true, NULL, 0, &e, &l);
	assert_non_null(strstr(j, "persistent-memdev=cxl-mem1"));
	/* QEMU >= 8.0 routes pass-through bridges: no extra port */
	assert_null(strstr(j, "cxlemu-rp"));
	assert_int_equal(l.notes.n, 0);
	free(j);
	cx_qemu_line_free(&l);
	cx_fabric_free(f);
}

static void t_volatile_refused_on_72(void **s)
{
	struct cx_fabric *f = fab("hostA", VMEM1);
	cx_err e;
	assert_null(gen(f, NULL, false, NULL, -ENOTSUP, &e, NULL));
	assert_non_null(strstr(e.msg, "host hostA"));
	assert_non_null(strstr(e.msg, "cxl-type3,id=cxl-vmem0"));
	assert_non_null(strstr(e.msg, "volatile-memdev=vmem0"));
	assert_non_null(strstr(e.msg, "QEMU >= 8.1"));
	assert_non_null(strstr(e.msg, "7.2.22"));
	/* the same on a newer QEMU is kept as it is */
	char *j = gen(f, NULL, true, NULL, 0, &e, NULL);
	assert_non_null(strstr(j, "volatile-memdev=vmem0"));
	free(j);
	cx_fabric_free(f);
}

static void t_two_ports_untouched(void **s)
{
	struct cx_fabric *f = fab("h", "-M q35,cxl=on "
		"-device pxb-cxl,bus_nr=12,bus=pcie.0,id=cxl.1 "
		"-device cxl-rp,port=0,bus=cxl.1,id=rp0 "
		"-device cxl-rp,port=1,bus=cxl.1,id=rp1,slot=1 "
		"-device pxb-cxl,bus_nr=40,bus=pcie.0,id=cxl.2 "
		"-device cxl-rp,port=3,bus=cxl.2,id=rp2,chassis=0,slot=2 "
		"-M cxl-fmw.0.targets.0=cxl.1,cxl-fmw.0.size=4G");
	struct cx_qemu_line l;
	cx_err e;
	char *j = gen(f, NULL, false, NULL, 0, &e, &l);
	/* cxl.1 has two ports: nothing added; cxl.2 gets port 0 and the
	 * first slot no port of chassis 0 uses (0, 1 and 2 are taken) */
	assert_null(strstr(j, "cxl.1-cxlemu"));
	assert_non_null(strstr(j, "-device cxl-rp,port=3,bus=cxl.2,id=rp2,chassis=0,"
				  "slot=2 -device cxl-rp,port=0,bus=cxl.2,"
				  "id=cxl.2-cxlemu-rp0,chassis=0,slot=3"));
	assert_int_equal(l.notes.n, 1);
	free(j);
	cx_qemu_line_free(&l);
	cx_fabric_free(f);
}

static void t_unknown_props_refused(void **s)
{
	cx_err e;
	struct cx_fabric *f = fab("h", "-M q35,cxl=on "
		"-object memory-backend-ram,id=dc,size=1G "
		"-device pxb-cxl,bus_nr=12,id=cxl.1 "
		"-device cxl-rp,port=0,bus=cxl.1,id=rp0 "
		"-device cxl-type3,bus=rp0,num-dc-regions=2,volatile-dc-memdev=dc,id=d0");
	assert_null(gen(f, NULL, false, NULL, -ENOTSUP, &e, NULL));
	assert_non_null(strstr(e.msg, "num-dc-regions=2"));
	assert_non_null(strstr(e.msg, "QEMU >= 9.1"));
	cx_fabric_free(f);

	f = fab("h", "-M q35,cxl=on -device cxl-upstream,bus=rp0,id=us0 "
		"-device cxl-switch-mailbox-cci,bus=rp1,target=us0,id=cci");
	assert_null(gen(f, NULL, false, NULL, -ENOTSUP, &e, NULL));
	assert_non_null(strstr(e.msg, "no cxl-switch-mailbox-cci device"));
	assert_non_null(strstr(e.msg, "QEMU >= 8.2"));
	cx_fabric_free(f);

	f = fab("h", "-M q35,cxl=on -device cxl-rp,bus=cxl.1,frobnicate=on");
	assert_null(gen(f, NULL, true, NULL, -ENOTSUP, &e, NULL));
	assert_non_null(strstr(e.msg, "frobnicate=on"));
	assert_non_null(strstr(e.msg, "no such property"));
	cx_fabric_free(f);

	/* the 2021 development branch's dialect (seeds/002) */
	f = fab("h", "-M q35,cxl=on -device pxb-cxl,id=cxl.0,bus=pcie.0,"
		"bus_nr=52,uid=0,len-window-base=1,window-base[0]=0x4c00000000,"
		"memdev[0]=cxl-mem1");
	assert_null(gen(f, NULL, true, NULL, -ENOTSUP, &e, NULL));
	assert_non_null(strstr(e.msg, "uid=0"));
	assert_non_null(strstr(e.msg, "never reached a QEMU release"));
	cx_fabric_free(f);

	/* memdev and persistent-memdev together cannot be renamed */
	f = fab("h", "-M q35,cxl=on -device cxl-type3,bus=rp0,memdev=a,"
		"persistent-memdev=b,lsa=l,id=x");
	assert_null(gen(f, NULL, false, NULL, -EINVAL, &e, NULL));
	assert_non_null(strstr(e.msg, "both memdev= and persistent-memdev="));
	cx_fabric_free(f);
}

static void t_hdm_for_passthrough_dropped_on_72(void **s)
{
	struct cx_fabric *f = fab("h", "-M q35,cxl=on "
		"-device pxb-cxl,bus_nr=12,id=cxl.1,hdm_for_passthrough=on "
		"-device cxl-rp,port=0,bus=cxl.1,id=rp0");
	struct cx_qemu_line l;
	cx_err e;
	char *j = gen(f, NULL, false, NULL, 0, &e, &l);
	assert_non_null(strstr(j, "-device pxb-cxl,bus_nr=12,id=cxl.1 "));
	assert_true(any_note(&l, "hdm_for_passthrough=on left out"));
	assert_non_null(strstr(j, "id=cxl.1-cxlemu-rp1"));
	free(j);
	cx_qemu_line_free(&l);
	cx_fabric_free(f);
}

/* cxlemu's own window keys have no QEMU equivalent: left out, named;
 * a -M holding nothing else is left out whole */
static void t_xor_window_keys_dropped(void **s)
{
	struct cx_fabric *f = fab("h", "-M q35,cxl=on "
		"-device pxb-cxl,bus_nr=12,id=cxl.1 "
		"-device cxl-rp,port=0,bus=cxl.1,id=rp0 "
		"-device pxb-cxl,bus_nr=40,id=cxl.2 "
		"-device cxl-rp,port=0,bus=cxl.2,id=rp1 "
		"-M cxl-fmw.0.targets.0=cxl.1,cxl-fmw.0.targets.1=cxl.2,"
		"cxl-fmw.0.size=4G,cxl-fmw.0.interleave-arithmetic=xor,"
		"cxl-fmw.0.xormap.0=0x404100 "
		"-M cxl-fmw.1.interleave-arithmetic=modulo");
	struct cx_qemu_line l;
	cx_err e;
	char *j = gen(f, NULL, true, NULL, 0, &e, &l);
	assert_non_null(strstr(j, " -M cxl-fmw.0.targets.0=cxl.1,"
			       "cxl-fmw.0.targets.1=cxl.2,cxl-fmw.0.size=4G"));
	assert_null(strstr(j, "xormap"));
	assert_null(strstr(j, "arithmetic"));
	assert_null(strstr(j, "-M  "));
	assert_non_null(strstr(j, "cxl-fmw.0.size=4G") + 17);
	assert_int_equal(strstr(j, "cxl-fmw.0.size=4G")[17], 0);
	assert_true(any_note(&l, "-machine cxl-fmw.0.interleave-arithmetic="
			     "xor,cxl-fmw.0.xormap.0=0x404100 left out: "
			     "cxlemu's own window keys"));
	assert_true(any_note(&l, "-machine cxl-fmw.1.interleave-arithmetic="
			     "modulo left out"));
	free(j);
	cx_qemu_line_free(&l);
	cx_fabric_free(f);
	(void)s;
}

static void t_hosts_and_paths(void **s)
{
	struct cx_fabric *f = fab("host1", "-M q35,cxl=on "
		"-object memory-backend-file,id=m0,mem-path=shared/mem0,size=256M,share=on "
		"-object memory-backend-file,id=m1,mem-path=/abs/with,,comma,size=256M");
	struct cx_host *h2 = cx_host_new(f, "host2", 5);
	cx_vec_push(&h2->words, cx_xstrdup("-M"));
	cx_vec_push(&h2->words, cx_xstrdup("q35,cxl=on"));
	cx_err e;
	/* two hosts: a name is needed, and must exist */
	assert_null(gen(f, NULL, false, NULL, -EINVAL, &e, NULL));
	assert_non_null(strstr(e.msg, "--host"));
	assert_null(gen(f, "host9", false, NULL, -ENOENT, &e, NULL));
	assert_non_null(strstr(e.msg, "host9"));
	/* relative mem-path made absolute in mem_dir; a ",," survives */
	struct cx_qemu_opts o = {.mem_dir = "/work/lab"};
	char *j = gen(f, "host1", false, &o, 0, &e, NULL);
	assert_non_null(strstr(j, "mem-path=/work/lab/shared/mem0,size=256M"));
	assert_non_null(strstr(j, "mem-path=/abs/with,,comma,size=256M"));
	free(j);
	/* the path the model's backend uses wins over the word */
	struct cx_host *h1 = cx_host_find(f, "host1");
	struct cx_backend *b = cx_backend_new(h1, "m0", 1);
	b->kind = CX_BACKEND_FILE;
	b->mem_path = cx_xstrdup("/srv/fabric/mem0");
	j = gen(f, "host1", false, &o, 0, &e, NULL);
	assert_non_null(strstr(j, "mem-path=/srv/fabric/mem0"));
	free(j);
	j = gen(f, "host2", false, NULL, 0, &e, NULL);
	assert_string_equal(j, "/usr/bin/qemu-system-x86_64 -M q35,cxl=on");
	free(j);
	cx_fabric_free(f);
}

static void t_cxl_only_and_check_mode(void **s)
{
	struct cx_fabric *f = fab("h", "sudo /opt/q/bin/qemu-system-x86_64 "
		"-drive file=./share2.qcow2,format=qcow2,index=0,media=disk,id=hd "
		"-m 4G,slots=4,maxmem=8G -smp 4 -machine type=q35,cxl=on,accel=kvm "
		"-daemonize -net nic -net user,hostfwd=tcp::2223-:22 -cpu host "
		"-device pxb-cxl,id=cxl.0,bus=pcie.0,bus_nr=52 "
		"-device cxl-rp,id=rp0,bus=cxl.0,chassis=0,port=0,slot=0 "
		"-object memory-backend-file,id=mem0,mem-path=/tmp/mem0,size=4G,share=true "
		"-device cxl-type3,bus=rp0,memdev=mem0,lsa=mem0,id=cxl-mem0 "
		"-M cxl-fmw.0.targets.0=cxl.0,cxl-fmw.0.size=4G");
	cx_err e;
	struct cx_qemu_opts o = {.cxl_only = true};
	char *j = gen(f, NULL, false, &o, 0, &e, NULL);
	assert_null(strstr(j, "-drive"));
	assert_null(strstr(j, "-net"));
	assert_null(strstr(j, "-daemonize"));
	assert_null(strstr(j, "-cpu"));
	assert_null(strstr(j, "sudo"));
	assert_non_null(strstr(j, "-m 4G,slots=4,maxmem=8G -smp 4 "
				  "-machine type=q35,cxl=on,accel=kvm "));
	/* seed 000's single root port, slot 0 taken: port 1, slot 1 */
	assert_non_null(strstr(j, "id=cxl.0-cxlemu-rp1,chassis=0,slot=1"));
	free(j);
	/* the full line keeps the rest, in order */
	j = gen(f, NULL, false, NULL, 0, &e, NULL);
	assert_non_null(strstr(j, "-drive file=./share2.qcow2,format=qcow2,"
				  "index=0,media=disk,id=hd -m 4G"));
	assert_non_null(strstr(j, "-daemonize -net nic -net user,hostfwd=tcp::2223-:22 -cpu host"));
	free(j);
	/* the acceptance run: no daemon, no KVM, paused, monitor on stdin */
	o.for_check = true;
	j = gen(f, NULL, false, &o, 0, &e, NULL);
	assert_null(strstr(j, "accel=kvm"));
	assert_non_null(strstr(j, "-machine type=q35,cxl=on "));
	assert_non_null(strstr(j, "-accel tcg -S -display none -monitor stdio"));
	free(j);
	cx_fabric_free(f);
}

static void t_join_quotes(void **s)
{
	struct cx_qemu_line l = {0};
	cx_vec_push(&l.argv, cx_xstrdup("qemu"));
	cx_vec_push(&l.argv, cx_xstrdup("-name"));
	cx_vec_push(&l.argv, cx_xstrdup("it's a vm"));
	cx_vec_push(&l.argv, cx_xstrdup(""));
	char *j = cx_qemu_line_join(&l);
	assert_string_equal(j, "qemu -name 'it'\\''s a vm' ''");
	free(j);
	cx_qemu_line_free(&l);
}

/* ---- fake sysfs trees ---- */

static char *tree_new(void)
{
	char tmpl[] = "/tmp/cxq-sysfs-XXXXXX";
	assert_non_null(mkdtemp(tmpl));
	return cx_xstrdup(tmpl);
}

/*
 * `cxlemu check` and `qemu-args` split a line alike: for every option of
 * QEMU's table, placed before a backend and at the end of a line, check
 * accepts exactly when qemu-args does, and qemu-args re-emits every word
 * (the bug this guards against: -sdl at the end of a line took the next
 * line's -object as its value, and the backend vanished).
 */
#define AGREE_HEAD "qemu-system-x86_64 -M q35,cxl=on -m 4G"
#define AGREE_BODY \
	" -object memory-backend-ram,id=vmem0,share=on,size=256M\n" \
	" -device pxb-cxl,bus_nr=12,bus=pcie.0,id=cxl.1\n" \
	" -device cxl-rp,port=0,bus=cxl.1,id=rp0,chassis=0,slot=2\n" \
	" -device cxl-rp,port=1,bus=cxl.1,id=rp1,chassis=0,slot=3\n" \
	" -device cxl-type3,bus=rp0,volatile-memdev=vmem0,id=cxl-vmem0\n" \
	" -M cxl-fmw.0.targets.0=cxl.1,cxl-fmw.0.size=4G"

/* a value QEMU would take for the option, as far as splitting goes */
static const char *sample_value(const char *opt)
{
	static const char *const v[][2] = {
		{ "M", "q35" }, { "machine", "q35" }, { "m", "4G" },
		{ "device", "virtio-rng-pci" },
		{ "object", "rng-random,id=rng0,filename=/dev/urandom" },
	};
	for (size_t i = 0; i < CX_ARRAY_SIZE(v); i++)
		if (!strcmp(v[i][0], opt))
			return v[i][1];
	return "1";
}

/* check, then qemu-args; on success every word comes out as it went in */
static void agree(const char *text, bool accepted)
{
	struct cx_fabric *f = NULL;
	struct cx_qemu_line l;
	cx_err e;
	int rc = cx_config_load_text("agree.topo", text, &f, &e);
	if ((rc == 0) != accepted)
		fail_msg("check %s:\n%s\n%s", accepted ? "refused" : "accepted",
			 text, rc ? e.msg : "");
	if (rc) {
		/* qemu-args refuses the same words */
		char *flat = strdup(strstr(text, "qemu"));
		for (char *p = flat; *p; p++)
			if (*p == '\n')
				*p = ' ';
		struct cx_fabric *g = fab("h", flat);
		free(flat);
		free(gen(g, "h", true, NULL, -EINVAL, &e, NULL));
		cx_fabric_free(g);
		return;
	}
	assert_int_equal(cx_host_find(f, NULL)->backends.n, 1);
	free(gen(f, NULL, true, NULL, 0, &e, &l));
	struct cx_host *h = cx_host_find(f, NULL);
	assert_int_equal(l.argv.n, h->words.n);
	for (int i = 1; i < h->words.n; i++)
		if (strcmp(l.argv.v[i], h->words.v[i]))
			fail_msg("word %d: '%s' became '%s' in\n%s", i,
				 (char *)h->words.v[i], (char *)l.argv.v[i],
				 text);
	cx_qemu_line_free(&l);
	cx_fabric_free(f);
}

static void t_check_and_args_agree(void **s)
{
	const struct cfg_optdef *t;
	int n = cfg_optdefs(&t), nflags = 0;
	(void)s;
	for (int i = 0; i < n; i++) {
		bool value = t[i].flags & CFG_OPT_VALUE;
		char *opt = value ? cx_xasprintf("-%s %s", t[i].name,
						  sample_value(t[i].name))
				  : cx_xasprintf("-%s", t[i].name);
		/* at the end of the first line, before the backend */
		char *a = cx_xasprintf(AGREE_HEAD " %s\n" AGREE_BODY "\n", opt);
		agree(a, true);
		/* the last word of the file: only a value-less option */
		char *b = cx_xasprintf(AGREE_HEAD "\n" AGREE_BODY " -%s\n",
				       t[i].name);
		agree(b, !value);
		nflags += !value;
		free(opt);
		free(a);
		free(b);
	}
	/* -sdl is one of them, and there are many */
	assert_non_null(cfg_optdef_find("sdl"));
	assert_false(cfg_optdef_find("sdl")->flags & CFG_OPT_VALUE);
	assert_true(nflags > 40);
}

/* qemu-args names the release of every CXL device it emits, from the
 * same property tables the topology parser checks against */
static void t_device_types_known(void **s)
{
	(void)s;
	for (int d = 0; d < CX_QDEV_NR; d++) {
		const struct cfg_type *t = cfg_type_find(cx_qdev_name(d));
		assert_non_null(t);
		assert_non_null(t->since);
	}
	assert_string_equal(cfg_prop_find("cxl-type3", "volatile-memdev")->since,
			    "8.1");
	assert_true(cfg_prop_find("pxb-cxl", "window-base[2]")->flags &
		    CFG_PROP_LEGACY);
	assert_null(cfg_prop_find("cxl-type3", "window-base[2]"));
}

static void mkdirs(const char *path)
{
	char *p = cx_xstrdup(path);
	for (char *q = p + 1; *q; q++) {
		if (*q == '/') {
			*q = 0;
			mkdir(p, 0755);
			*q = '/';
		}
	}
	mkdir(p, 0755);
	free(p);
}

static void put(const char *root, const char *rel, const char *text)
{
	char *path = cx_xasprintf("%s/%s", root, rel);
	char *dir = cx_xstrdup(path);
	*strrchr(dir, '/') = 0;
	mkdirs(dir);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	free(dir);
	free(path);
}

static void link_driver(const char *root, const char *rel, const char *drv)
{
	char *path = cx_xasprintf("%s/%s/driver", root, rel);
	char *target = cx_xasprintf("../../../../../bus/dax/drivers/%s", drv);
	assert_int_equal(symlink(target, path), 0);
	free(path);
	free(target);
}

static void tree_free(char *root)
{
	char *cmd = cx_xasprintf("rm -rf '%s'", root);
	assert_int_equal(system(cmd), 0);
	free(cmd);
	free(root);
}

#define R0 "bus/cxl/devices/region0"
#define D00 R0 "/dax_region0/dax0.0"

/* region0: 512 MiB ram at 0x1090000000 -> dax0.0 -> node 2, kmem, 4 blocks
 * of 128 MiB (3 online), HMAT for node 2 */
static char *tree_kmem(void)
{
	char *r = tree_new();
	put(r, "devices/system/node/online", "0-2\n");
	put(r, "devices/system/node/has_memory", "0,2\n");
	put(r, "devices/system/memory/block_size_bytes", "8000000\n");
	put(r, R0 "/mode", "ram\n");
	put(r, R0 "/size", "0x20000000\n");
	put(r, R0 "/resource", "0x1090000000\n");
	put(r, D00 "/target_node", "2\n");
	put(r, D00 "/numa_node", "0\n");
	put(r, D00 "/size", "536870912\n");
	put(r, D00 "/resource", "0x1090000000\n");
	link_driver(r, D00, "kmem");
	/* blocks 0x1090000000 / 128 MiB = 530 .. 533 */
	put(r, "devices/system/memory/memory530/online", "1\n");
	put(r, "devices/system/memory/memory531/online", "1\n");
	put(r, "devices/system/memory/memory532/online", "1\n");
	put(r, "devices/system/memory/memory533/online", "0\n");
	put(r, "devices/system/node/node2/access0/initiators/read_latency", "340\n");
	put(r, "devices/system/node/node2/access0/initiators/write_latency", "360\n");
	put(r, "devices/system/node/node2/access0/initiators/read_bandwidth", "24000\n");
	put(r, "devices/system/node/node2/access0/initiators/write_bandwidth", "20000\n");
	put(r, "devices/system/node/node2/access1/initiators/read_latency", "330\n");
	return r;
}

static void t_nodes_none(void **s)
{
	char *r = tree_new();
	struct cx_host_cxl *c;
	cx_err e;
	/* an empty tree, and one with a CXL bus but no regions */
	assert_int_equal(cx_host_cxl_scan(r, &c, &e), 0);
	assert_int_equal(c->nodes.n, 0);
	assert_int_equal(c->regions.n, 0);
	int nodes[4];
	assert_int_equal(cx_host_cxl_usable(c, nodes, 4), 0);
	cx_host_cxl_free(c);
	put(r, "bus/cxl/devices/mem0/serial", "0x1\n");
	put(r, "bus/cxl/devices/decoder0.0/size", "0x100000000\n");
	assert_int_equal(cx_host_cxl_scan(r, &c, &e), 0);
	assert_int_equal(c->regions.n, 0);
	struct json_object *j = cx_host_cxl_json(c);
	struct json_object *n;
	assert_true(json_object_object_get_ex(j, "nodes", &n));
	assert_int_equal(json_object_array_length(n), 0);
	json_object_put(j);
	cx_host_cxl_free(c);
	tree_free(r);
}

static void t_nodes_kmem(void **s)
{
	char *r = tree_kmem();
	struct cx_host_cxl *c;
	cx_err e;
	assert_int_equal(cx_host_cxl_scan(r, &c, &e), 0);
	assert_int_equal(c->regions.n, 1);
	assert_int_equal(c->nodes.n, 1);
	struct cx_host_node *n = c->nodes.v[0];
	assert_int_equal(n->node, 2);
	assert_true(n->online);
	assert_true(n->has_memory);
	assert_int_equal(n->system_ram, 3ULL * 128 << 20);
	assert_true(n->access[0].present);
	assert_int_equal(n->access[0].read_latency, 340);
	assert_int_equal(n->access[0].write_bandwidth, 20000);
	assert_true(n->access[1].present);
	assert_int_equal(n->access[1].read_latency, 330);
	assert_int_equal(n->access[1].write_latency, -1);
	struct cx_host_region *rg = c->regions.v[0];
	assert_int_equal(rg->resource, 0x1090000000ULL);
	struct cx_host_dax *d = rg->daxes.v[0];
	assert_string_equal(d->driver, "kmem");
	assert_int_equal(d->online_memblocks, 3);
	assert_int_equal(d->total_memblocks, 4);
	int nodes[4];
	assert_int_equal(cx_host_cxl_usable(c, nodes, 4), 1);
	assert_int_equal(nodes[0], 2);

	struct json_object *j = cx_host_cxl_json(c), *a, *o, *x;
	assert_true(json_object_object_get_ex(j, "nodes", &a));
	o = json_object_array_get_idx(a, 0);
	assert_true(json_object_object_get_ex(o, "bindable", &x));
	assert_true(json_object_get_boolean(x));
	assert_true(json_object_object_get_ex(o, "access0", &x));
	assert_true(json_object_object_get_ex(x, "read_bandwidth", &x));
	assert_int_equal(json_object_get_int(x), 24000);
	assert_true(json_object_object_get_ex(j, "regions", &a));
	o = json_object_array_get_idx(a, 0);
	assert_true(json_object_object_get_ex(o, "devices", &a));
	o = json_object_array_get_idx(a, 0);
	assert_true(json_object_object_get_ex(o, "mode", &x));
	assert_string_equal(json_object_get_string(x), "system-ram");
	assert_true(json_object_object_get_ex(o, "online_memblocks", &x));
	assert_int_equal(json_object_get_int(x), 3);
	json_object_put(j);
	cx_host_cxl_free(c);
	tree_free(r);
}

static void t_nodes_variants(void **s)
{
	char *r = tree_kmem();
	struct cx_host_cxl *c;
	cx_err e;
	/* region1 without a dax device; region2 pmem (skipped); region3 ram
	 * in devdax mode on node 3, which is offline; region4 with no mode
	 * file but a dax_region (a 6.1 kernel's shape) */
	put(r, "bus/cxl/devices/region1/mode", "ram\n");
	put(r, "bus/cxl/devices/region1/size", "0x10000000\n");
	put(r, "bus/cxl/devices/region2/mode", "pmem\n");
	put(r, "bus/cxl/devices/region3/mode", "ram\n");
	put(r, "bus/cxl/devices/region3/size", "0x10000000\n");
	put(r, "bus/cxl/devices/region3/dax_region3/dax3.0/target_node", "3\n");
	put(r, "bus/cxl/devices/region3/dax_region3/dax3.0/size", "0x10000000\n");
	link_driver(r, "bus/cxl/devices/region3/dax_region3/dax3.0", "device_dax");
	put(r, "bus/cxl/devices/region10/size", "0x10000000\n");
	put(r, "bus/cxl/devices/region10/dax_region10/dax10.0/target_node", "2\n");
	put(r, "bus/cxl/devices/region10/dax_region10/dax10.0/size", "0x10000000\n");
	assert_int_equal(cx_host_cxl_scan(r, &c, &e), 0);
	assert_int_equal(c->regions.n, 4); /* 0, 1, 3, 10 in number order */
	assert_string_equal(((struct cx_host_region *)c->regions.v[1])->name, "region1");
	assert_string_equal(((struct cx_host_region *)c->regions.v[3])->name, "region10");
	assert_int_equal(((struct cx_host_region *)c->regions.v[1])->daxes.n, 0);
	assert_int_equal(c->nodes.n, 2);
	struct cx_host_node *n2 = c->nodes.v[0], *n3 = c->nodes.v[1];
	assert_int_equal(n2->node, 2);
	assert_int_equal(n2->regions.n, 2);  /* region0 and region10 */
	assert_int_equal(n3->node, 3);
	assert_false(n3->online);
	assert_int_equal(n3->system_ram, 0);
	bool noted = false;
	for (int i = 0; i < c->notes.n; i++)
		if (strstr(c->notes.v[i], "region1: ram region without a dax"))
			noted = true;
	assert_true(noted);
	int nodes[4];
	assert_int_equal(cx_host_cxl_usable(c, nodes, 4), 1);
	struct json_object *j = cx_host_cxl_json(c), *a, *o, *x;
	assert_true(json_object_object_get_ex(j, "nodes", &a));
	o = json_object_array_get_idx(a, 1);
	assert_true(json_object_object_get_ex(o, "bindable", &x));
	assert_false(json_object_get_boolean(x));
	assert_false(json_object_object_get_ex(o, "access0", &x));
	json_object_put(j);
	cx_host_cxl_free(c);
	tree_free(r);
}

/* Each broken tree: an error naming the file, never a crash. */
static void t_nodes_broken(void **s)
{
	static const struct {
		const char *rel, *text, *needle;
	} cases[] = {
		{D00 "/target_node", "two\n", "dax0.0/target_node: 'two'"},
		{D00 "/target_node", "", "target_node: empty"},
		{D00 "/target_node", "4096\n", "out of range"},
		{D00 "/size", "-5\n", "dax0.0/size: '-5' is negative"},
		{R0 "/mode", "ramp\n", "region0/mode: 'ramp' is not a region mode"},
		{R0 "/size", "0xZZ\n", "region0/size: '0xZZ'"},
		{"devices/system/node/online", "0-x\n", "node/online"},
		{"devices/system/node/has_memory", "3-1\n", "has_memory"},
		{"devices/system/memory/block_size_bytes", "lots\n", "block_size_bytes"},
		{"devices/system/memory/memory531/online", "yes\n", "memory531/online"},
		{"devices/system/node/node2/access0/initiators/read_latency",
		 "fast\n", "access0/initiators/read_latency: 'fast'"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *r = tree_kmem();
		struct cx_host_cxl *c = NULL;
		cx_err e = {{0}};
		put(r, cases[i].rel, cases[i].text);
		int rc = cx_host_cxl_scan(r, &c, &e);
		if (rc != -EINVAL || !strstr(e.msg, cases[i].needle))
			fail_msg("case %zu (%s): rc %d, '%s'", i, cases[i].rel,
				 rc, e.msg);
		assert_null(c);
		tree_free(r);
	}
	/* missing target_node and size */
	const char *missing[] = {D00 "/target_node", D00 "/size", R0 "/size"};
	for (size_t i = 0; i < 3; i++) {
		char *r = tree_kmem();
		struct cx_host_cxl *c = NULL;
		cx_err e = {{0}};
		char *p = cx_xasprintf("%s/%s", r, missing[i]);
		unlink(p);
		assert_int_equal(cx_host_cxl_scan(r, &c, &e), -ENOENT);
		assert_non_null(strstr(e.msg, missing[i]));
		assert_non_null(strstr(e.msg, "missing"));
		free(p);
		tree_free(r);
	}
	/* a file where a directory should be */
	char *r = tree_new();
	put(r, "bus/cxl/devices", "not a dir\n");
	struct cx_host_cxl *c;
	cx_err e;
	assert_int_equal(cx_host_cxl_scan(r, &c, &e), 0);
	assert_int_equal(c->regions.n, 0);
	cx_host_cxl_free(c);
	tree_free(r);
}

/* ---- --bind-cxl-ram ---- */

static void t_bind_cxl_ram(void **s)
{
	char *r = tree_kmem();
	struct cx_fabric *f = fab("h", VMEM1);
	struct cx_host *h = cx_host_find(f, "h");
	struct cx_memdev *m = cx_memdev_new(h, "cxl-vmem0", 1);
	m->read_latency_ns = 111;
	struct cx_qemu_opts o = {.bind_cxl_ram = true, .sysfs_root = r};
	struct cx_qemu_line l;
	cx_err e;
	char *j = gen(f, NULL, true, &o, 0, &e, &l);
	assert_non_null(strstr(j, "-object memory-backend-ram,id=vmem0,share=on,"
				  "size=256M,host-nodes=2,policy=bind "));
	assert_non_null(strstr(j, "-M q35,cxl=on,hmat=on "));
	assert_non_null(strstr(j, "-object memory-backend-ram,id=cxlemu-dram,"
				  "size=4294967296 -numa node,nodeid=0,cpus=0-1,"
				  "memdev=cxlemu-dram -numa node,nodeid=1,initiator=0 "));
	/* measured figures from node 2's HMAT beat the configured ones */
	assert_non_null(strstr(j, "-numa hmat-lb,initiator=0,target=1,"
				  "hierarchy=memory,data-type=read-latency,latency=340"));
	assert_non_null(strstr(j, "data-type=write-bandwidth,bandwidth=20000M"));
	assert_null(strstr(j, "latency=111"));
	assert_true(any_note(&l, "bound to host node 2"));
	assert_true(any_note(&l, "measured"));
	free(j);
	cx_qemu_line_free(&l);

	/* no HMAT on the host: the device's configured figures */
	char *cmd = cx_xasprintf("rm -rf '%s/devices/system/node/node2'", r);
	assert_int_equal(system(cmd), 0);
	free(cmd);
	j = gen(f, NULL, true, &o, 0, &e, &l);
	assert_non_null(strstr(j, "data-type=read-latency,latency=111"));
	assert_non_null(strstr(j, "data-type=read-bandwidth,bandwidth=32000M"));
	assert_true(any_note(&l, "configured"));
	free(j);
	cx_qemu_line_free(&l);
	cx_fabric_free(f);
	tree_free(r);

	/* no CXL on this machine */
	r = tree_new();
	f = fab("h", VMEM1);
	o.sysfs_root = r;
	assert_null(gen(f, NULL, true, &o, -ENODEV, &e, NULL));
	assert_non_null(strstr(e.msg, "no CXL RAM NUMA node"));
	cx_fabric_free(f);
	tree_free(r);

	/* already NUMA, or nothing volatile: refused */
	r = tree_kmem();
	o.sysfs_root = r;
	f = fab("h", VMEM1 " -numa node,nodeid=0");
	assert_null(gen(f, NULL, true, &o, -EINVAL, &e, NULL));
	assert_non_null(strstr(e.msg, "already has -numa node,nodeid=0"));
	cx_fabric_free(f);
	f = fab("h", PMEM1);
	assert_null(gen(f, NULL, true, &o, -EINVAL, &e, NULL));
	assert_non_null(strstr(e.msg, "no cxl-type3 device has volatile memory"));
	cx_fabric_free(f);
	tree_free(r);
}

/* ---- compare: a real Linux 6.1 + ndctl 76 capture against the model ---- */

static char *src_path(const char *rel)
{
	const char *src = getenv("CXLEMU_SRC");
	return cx_xasprintf("%s/%s", src && *src ? src : ".", rel);
}

static int count_substr(const char *hay, const char *needle)
{
	int n = 0;
	for (const char *p = hay; (p = strstr(p, needle)); p++)
		n++;
	return n;
}

/* The first host of a topology file (fails the test when it does not load). */
static struct cx_host *load_host(const char *topo, struct cx_fabric **f)
{
	cx_err e = {{0}};
	*f = NULL;
	if (cx_config_load_file(topo, f, &e))
		fail_msg("%s", e.msg);
	return (*f)->hosts.v[0];
}

static void t_compare_capture(void **s)
{
	char *topo = src_path("tests/topologies/qemu-doc-2hb-interleave.topo");
	char *cap = src_path("tests/expected/real/interleave4-cxl-list-initial.json.txt");
	struct cx_fabric *f;
	cx_err e = {{0}};
	struct cx_host *h = load_host(topo, &f);
	/* the capture is `cxl list -M -D -P -u` */
	struct cx_list_opts o = {.memdevs = true, .decoders = true,
				 .ports = true, .human = true};
	cx_list_opts_defaults(&o);
	struct json_object *ours = cx_json_list(h, &o, &e);
	assert_non_null(ours);
	struct json_object *guest = json_object_from_file(cap);
	assert_non_null(guest);
	cx_vec diffs = {0};
	struct json_object *ren = NULL;
	int n = cx_compare_listing(h, ours, guest, &diffs, &ren, &e);
	/* what ndctl 76 cannot print (qos classes) is explained; nothing
	 * else differs */
	int unexplained = 0;
	for (int i = 0; i < diffs.n; i++) {
		printf("  diff: %s\n", (char *)diffs.v[i]);
		unexplained += !strstr(diffs.v[i], " -- explained: ");
	}
	assert_int_equal(n, unexplained);
	/* the guest's mem0 is the device on bus 0xe0: the command line's
	 * fourth (cxl.2's second root port), cxlemu's mem3 */
	const char *txt = json_object_to_json_string_ext(ren, JSON_C_TO_STRING_PLAIN);
	assert_non_null(strstr(txt, "{\"memdev\":\"mem3\",\"pmem_size\":\"256.00 MiB "
				    "(268.44 MB)\",\"serial\":\"0\",\"host\":\"0000:e0:00.0\"}"));
	assert_int_equal(count_substr(txt, "\"memdev\":\"mem"), 4);
	for (int i = 0; i < diffs.n; i++)
		free(diffs.v[i]);
	cx_vec_free(&diffs);

	/* one changed value in the guest is one difference, named by path */
	struct json_object *a0 = json_object_array_get_idx(guest, 0), *ports, *p0;
	assert_true(json_object_object_get_ex(a0, "ports", &ports));
	p0 = json_object_array_get_idx(ports, 0);
	json_object_object_add(p0, "depth", json_object_new_int(5));
	int n2 = cx_compare_listing(h, ours, guest, &diffs, NULL, &e);
	assert_int_equal(n2, n + 1);
	bool named = false;
	for (int i = 0; i < diffs.n; i++) {
		if (strstr(diffs.v[i], ".depth: cxlemu 1, the guest 5"))
			named = true;
		free(diffs.v[i]);
	}
	assert_true(named);
	cx_vec_free(&diffs);
	/* a memdev the model does not have is reported, not crashed on */
	json_object_object_add(p0, "memdevs:port1", json_object_new_array());
	struct json_object *md = json_object_new_object();
	json_object_object_add(md, "memdev", json_object_new_string("mem9"));
	json_object_object_add(md, "host", json_object_new_string("0000:77:00.0"));
	struct json_object *arr;
	json_object_object_get_ex(p0, "memdevs:port1", &arr);
	json_object_array_add(arr, md);
	int n3 = cx_compare_listing(h, ours, guest, &diffs, NULL, &e);
	assert_true(n3 > n2);
	named = false;
	for (int i = 0; i < diffs.n; i++) {
		if (strstr(diffs.v[i], "guest mem9 sits on PCI bus 0x77"))
			named = true;
		free(diffs.v[i]);
	}
	assert_true(named);
	cx_vec_free(&diffs);
	json_object_put(ren);
	json_object_put(guest);
	json_object_put(ours);
	cx_fabric_free(f);
	free(topo);
	free(cap);
}

/* The guests' listings captured on QEMU 10 + Linux 6.12 (as booted, `cxl
 * list -BPEMDT`) against cxlemu's of the same topologies: no unexplained
 * difference, the 6.12 bridge names explained, and a difference put in
 * is found. */
static void t_compare_linux612(void **s)
{
	static const char *const topos[] = {
		"qemu-doc-pmem", "qemu-doc-vmem", "qemu-doc-2hb-interleave",
		"qemu-doc-switch", "lab-switch-vmem",
	};
	for (size_t t = 0; t < sizeof(topos) / sizeof(topos[0]); t++) {
		char rel[256];
		snprintf(rel, sizeof(rel), "tests/topologies/%s.topo", topos[t]);
		char *topo = src_path(rel);
		snprintf(rel, sizeof(rel),
			 "tests/expected/real/qemu10-linux612/%s-booted.json",
			 topos[t]);
		char *cap = src_path(rel);
		struct cx_fabric *f;
		cx_err e = {{0}};
		struct cx_host *h = load_host(topo, &f);
		struct cx_list_opts o = {.buses = true, .ports = true,
					 .endpoints = true, .memdevs = true,
					 .decoders = true, .targets = true};
		cx_list_opts_defaults(&o);
		struct json_object *ours = cx_json_list(h, &o, &e);
		struct json_object *guest = json_object_from_file(cap);
		assert_non_null(ours);
		assert_non_null(guest);
		cx_vec diffs = {0};
		int n = cx_compare_listing(h, ours, guest, &diffs, NULL, &e);
		bool names = false;
		for (int i = 0; i < diffs.n; i++) {
			printf("  %s: %s\n", topos[t], (char *)diffs.v[i]);
			names |= strstr(diffs.v[i], "by PCI root") != NULL;
			free(diffs.v[i]);
		}
		cx_vec_free(&diffs);
		assert_int_equal(n, 0);
		assert_true(names);
		/* a bridge's port number changed in the guest: found */
		json_object_put(guest);
		guest = json_object_from_file(cap);
		struct json_object *b0 = json_object_array_get_idx(guest, 0);
		struct json_object *d, *d0;
		assert_true(json_object_object_get_ex(b0, "dports", &d));
		d0 = json_object_array_get_idx(d, 0);
		json_object_object_add(d0, "alias",
				       json_object_new_string("ACPI0016:07"));
		assert_true(cx_compare_listing(h, ours, guest, &diffs, NULL,
					       &e) > 0);
		for (int i = 0; i < diffs.n; i++)
			free(diffs.v[i]);
		cx_vec_free(&diffs);
		json_object_put(guest);
		json_object_put(ours);
		cx_fabric_free(f);
		free(topo);
		free(cap);
	}
}

/* ---- QMP ---- */

/* A QMP server for one connection, in a child: greets, answers
 * qmp_capabilities, sends an event first, then answers the command with
 * ANSWER (a whole line); with ANSWER NULL it hangs up instead. */
static pid_t fake_qmp(const char *path, const char *answer)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int ls = socket(AF_UNIX, SOCK_STREAM, 0);
	strcpy(sa.sun_path, path);
	unlink(path);
	assert_int_equal(bind(ls, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(ls, 1), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid)
		return close(ls), pid;
	int c = accept(ls, NULL, NULL);
	FILE *in = fdopen(dup(c), "r");
	char line[4096];
	dprintf(c, "{\"QMP\": {\"version\": {}, \"capabilities\": []}}\r\n");
	if (!fgets(line, sizeof(line), in) || !strstr(line, "qmp_capabilities"))
		_exit(1);
	dprintf(c, "{\"return\": {}}\r\n");
	if (!fgets(line, sizeof(line), in) || !strstr(line, "\"execute\""))
		_exit(1);
	dprintf(c, "{\"event\": \"SOMETHING\", \"data\": {}}\r\n");
	if (answer)
		dprintf(c, "%s\r\n", answer);
	_exit(0);
}

static void t_qmp_call(void **s)
{
	char dir[] = "/tmp/cxlemu-test-qmp.XXXXXX";
	assert_non_null(mkdtemp(dir));
	char *path = cx_xasprintf("%s/qmp.sock", dir);
	struct json_object *cmd = json_tokener_parse(
		"{\"execute\":\"cxl-add-dynamic-capacity\",\"arguments\":{}}");
	struct json_object *ret = NULL;
	cx_err e = {{0}};
	int st;

	/* a return value, past the event */
	pid_t pid = fake_qmp(path, "{\"return\": {\"added\": 1}}");
	assert_int_equal(cx_qmp_call(path, cmd, 5000, &ret, &e), 0);
	assert_string_equal(json_object_to_json_string_ext(
		ret, JSON_C_TO_STRING_PLAIN), "{\"added\":1}");
	json_object_put(ret);
	waitpid(pid, &st, 0);
	assert_int_equal(st, 0);

	/* QEMU's error, with its words */
	pid = fake_qmp(path, "{\"error\": {\"class\": \"GenericError\", "
		       "\"desc\": \"No dynamic capacity regions\"}}");
	assert_int_equal(cx_qmp_call(path, cmd, 5000, &ret, &e), -EINVAL);
	assert_null(ret);
	assert_non_null(strstr(e.msg, "cxl-add-dynamic-capacity"));
	assert_non_null(strstr(e.msg, "No dynamic capacity regions"));
	waitpid(pid, &st, 0);

	/* a QEMU that hangs up, and none at all */
	pid = fake_qmp(path, NULL);
	assert_true(cx_qmp_call(path, cmd, 5000, &ret, &e) < 0);
	assert_non_null(strstr(e.msg, "closed"));
	waitpid(pid, &st, 0);
	unlink(path);
	assert_true(cx_qmp_call(path, cmd, 5000, &ret, &e) < 0);
	assert_non_null(strstr(e.msg, "cannot connect"));

	json_object_put(cmd);
	rmdir(dir);
	free(path);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_parse_props),
		cmocka_unit_test(t_parse_version),
		cmocka_unit_test(t_probe_fake_binary),
		cmocka_unit_test(t_run_capture),
		cmocka_unit_test(t_pmem_on_72),
		cmocka_unit_test(t_pmem_on_newer),
		cmocka_unit_test(t_volatile_refused_on_72),
		cmocka_unit_test(t_two_ports_untouched),
		cmocka_unit_test(t_unknown_props_refused),
		cmocka_unit_test(t_hdm_for_passthrough_dropped_on_72),
		cmocka_unit_test(t_xor_window_keys_dropped),
		cmocka_unit_test(t_hosts_and_paths),
		cmocka_unit_test(t_cxl_only_and_check_mode),
		cmocka_unit_test(t_join_quotes),
		cmocka_unit_test(t_check_and_args_agree),
		cmocka_unit_test(t_device_types_known),
		cmocka_unit_test(t_nodes_none),
		cmocka_unit_test(t_nodes_kmem),
		cmocka_unit_test(t_nodes_variants),
		cmocka_unit_test(t_nodes_broken),
		cmocka_unit_test(t_bind_cxl_ram),
		cmocka_unit_test(t_compare_capture),
		cmocka_unit_test(t_compare_linux612),
		cmocka_unit_test(t_qmp_call),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
