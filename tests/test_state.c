/*
 * test_state.c - the state file brings back what a fabric had: a region
 * made by create-region in devdax mode, one assembled through sysfs and
 * committed but not enabled, one still being staged, a pending partition
 * and a memdev unbound from its driver; a fabric restored from the file writes the same file again.
 * A file cut short, written for another topology, or whose decoders no
 * longer route is refused, naming the file and the reason.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "config/config.h"
#include "model/dax.h"
#include "model/mbox.h"
#include "server/state.h"
#include "spec/mbox.h"

#define MiB (1ULL << 20)

/* One host: a volatile device of 1 GiB, and a persistent-only device on
 * memory (partitionable, no sidecar file). */
static const char topo[] =
	"qemu-system-x86_64 -machine q35,cxl=on -m 1G \\\n"
	"  -object memory-backend-ram,id=vm,size=1G \\\n"
	"  -object memory-backend-ram,id=pm,size=1G \\\n"
	"  -object memory-backend-ram,id=lsa,size=256K \\\n"
	"  -device pxb-cxl,bus_nr=12,bus=pcie.0,id=cxl.1 \\\n"
	"  -device cxl-rp,port=0,bus=cxl.1,id=rp0,chassis=0,slot=0 \\\n"
	"  -device cxl-rp,port=1,bus=cxl.1,id=rp1,chassis=0,slot=1 \\\n"
	"  -device cxl-type3,bus=rp0,volatile-memdev=vm,id=vdev \\\n"
	"  -device cxl-type3,bus=rp1,persistent-memdev=pm,lsa=lsa,id=pdev \\\n"
	"  -M cxl-fmw.0.targets.0=cxl.1,cxl-fmw.0.size=8G\n";

static char dir[64], path[128];

static int setup(void **state)
{
	snprintf(dir, sizeof(dir), "/tmp/cxlemu-test-state-XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/fabric.state", dir);
	return 0;
}

static int teardown(void **state)
{
	char cmd[160];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
	return 0;
}

static struct cx_fabric *load(const char *text)
{
	struct cx_fabric *f;
	cx_err e;
	if (cx_config_load_text("t.topo", text, &f, &e))
		fail_msg("%s", e.msg);
	return f;
}

static struct cx_fabric *started(const char *text)
{
	struct cx_fabric *f = load(text);
	cx_err e;
	if (cx_fabric_start(f, &e))
		fail_msg("%s", e.msg);
	return f;
}

static void ok(int rc, const cx_err *e)
{
	if (rc)
		fail_msg("%s", e->msg);
}

/* What a fabric may hold, built the ways a host builds it. */
static void populate(struct cx_fabric *f)
{
	struct cx_host *h = f->hosts.v[0];
	struct cx_window *w = h->windows.v[0];
	struct cx_memdev *vm = h->memdevs.v[0], *pm = h->memdevs.v[1];
	struct cx_region *r, *s, *t;
	cx_err e;

	/* create-region, switched to devdax */
	const char *m[] = { "mem0" };
	struct cx_region_req rq = { .root = "decoder0.0", .mode = CX_MODE_RAM,
				    .memdevs = { m[0] }, .nmemdevs = 1,
				    .size = 256 * MiB };
	ok(cx_region_create(h, &rq, &r, &e), &e);
	r->dax_system_ram = false;
	/* through sysfs: committed, not bound to the region driver */
	ok(cx_region_stage_create(h, w, CX_MODE_RAM, h->next_region_id, &s,
				  &e), &e);
	ok(cx_region_set_ways(s, 1, &e), &e);
	ok(cx_region_set_gran(s, 4096, &e), &e);
	ok(cx_region_set_size(s, 256 * MiB, &e), &e);
	struct cx_decoder *d = &vm->decoders[1];
	ok(cx_decoder_set_mode(d, CX_MODE_RAM, &e), &e);
	ok(cx_decoder_set_dpa_size(d, 256 * MiB, &e), &e);
	ok(cx_region_set_target(s, 0, d, &e), &e);
	ok(cx_region_set_commit(s, true, &e), &e);
	assert_true(s->committed && s->disabled);
	/* still being staged: ways and size, no target */
	ok(cx_region_stage_create(h, w, CX_MODE_RAM, h->next_region_id, &t,
				  &e), &e);
	ok(cx_region_set_ways(t, 1, &e), &e);
	ok(cx_region_set_gran(t, 256, &e), &e);
	ok(cx_region_set_size(t, 256 * MiB, &e), &e);
	/* a pending partition: 256 MiB of pm volatile from the next start */
	uint8_t in[10] = { 0 }, out[CX_MBOX_PAYLOAD_MAX];
	size_t olen = sizeof(out);
	uint16_t rc16 = 0;
	cx_wr_le64(in, 1);
	assert_int_equal(cx_mbox_exec(pm, CX_OP_SET_PARTITION_INFO, in, 10, out,
				      &olen, &rc16), 0);
	assert_int_equal(rc16, CX_RC_SUCCESS);
	/* ndctl's disable-memdev: unbound from cxl_mem */
	ok(cx_memdev_set_enabled(pm, false, &e), &e);
}

static struct cx_fabric *restored(const char *text, cx_err *e, int *rc)
{
	struct cx_fabric *f = load(text);
	struct cx_state *st = NULL;
	if ((*rc = cx_state_load(path, f, &st, e))) {
		cx_fabric_free(f);
		return NULL;
	}
	cx_state_before_start(st, f);
	if ((*rc = cx_fabric_start(f, e)) || (*rc = cx_state_apply(st, f, e))) {
		cx_state_free(st);
		cx_fabric_free(f);
		return NULL;
	}
	cx_state_free(st);
	return f;
}

static void test_round_trip(void **state)
{
	struct cx_fabric *f = started(topo);
	struct cx_state_saved last = { 0 };
	cx_err e;
	int rc;

	populate(f);
	ok(cx_state_save(path, f, &last, &e), &e);
	/* nothing changed: nothing written */
	assert_int_equal(unlink(path), 0);
	ok(cx_state_save(path, f, &last, &e), &e);
	assert_int_equal(access(path, F_OK), -1);
	/* a change of any recorded field is written */
	struct cx_host *h0 = f->hosts.v[0];
	((struct cx_region *)h0->regions.v[0])->dax_system_ram = true;
	ok(cx_state_save(path, f, &last, &e), &e);
	assert_int_equal(access(path, F_OK), 0);
	((struct cx_region *)h0->regions.v[0])->dax_system_ram = false;
	ok(cx_state_save(path, f, &last, &e), &e);
	cx_fabric_free(f);

	struct cx_fabric *g = restored(topo, &e, &rc);
	if (!g)
		fail_msg("%s", e.msg);
	struct cx_host *h = g->hosts.v[0];
	assert_int_equal(h->regions.n, 3);
	struct cx_region *r = h->regions.v[0], *s = h->regions.v[1];
	assert_true(r->committed && !r->disabled && !r->dax_system_ram);
	assert_true(s->committed && s->disabled);
	assert_int_equal(h->next_region_id, 3);
	/* the partition applied at this start; still unbound */
	struct cx_memdev *pm = h->memdevs.v[1];
	assert_true(pm->disabled);
	assert_int_equal(pm->vmem_size, 256 * MiB);
	assert_int_equal(pm->pmem_size, 768 * MiB);
	/* the region serves where it did */
	struct cx_dax_recipe rc0;
	ok(cx_region_dax_recipe(r, &rc0, &e), &e);
	/* and a fabric restored writes the file it was restored from */
	char *text = cx_state_text(g);
	assert_string_equal(text, last.text);
	free(text);
	cx_state_saved_free(&last);
	/* a region can be added after it, as on any fabric */
	const char *m[] = { "mem0" };
	struct cx_region_req rq = { .root = "decoder0.0", .mode = CX_MODE_RAM,
				    .memdevs = { m[0] }, .nmemdevs = 1,
				    .size = 256 * MiB };
	struct cx_region *n;
	ok(cx_region_create(h, &rq, &n, &e), &e);
	assert_int_equal(n->id, 3);
	cx_fabric_free(g);
}

static void write_file(const char *text)
{
	FILE *fp = fopen(path, "w");
	assert_non_null(fp);
	fputs(text, fp);
	fclose(fp);
}

static char *saved(void)
{
	struct cx_fabric *f = started(topo);
	struct cx_state_saved last = { 0 };
	cx_err e;
	populate(f);
	ok(cx_state_save(path, f, &last, &e), &e);
	cx_fabric_free(f);
	return last.text;
}

static void expect_refused(const char *text, const char *why)
{
	cx_err e;
	int rc;
	struct cx_fabric *f = restored(text, &e, &rc);
	if (f) {
		cx_fabric_free(f);
		fail_msg("accepted; wanted a refusal with '%s'", why);
	}
	assert_int_equal(rc, -EINVAL);
	if (!strstr(e.msg, why) || !strstr(e.msg, path) ||
	    !strstr(e.msg, "--fresh"))
		fail_msg("got '%s', wanted '%s', the file and --fresh", e.msg,
			 why);
}

static void test_refusals(void **state)
{
	char *text = saved();
	size_t n = strlen(text);

	/* cut short, anywhere */
	char *cut = cx_xstrdup(text);
	cut[n / 2] = 0;
	write_file(cut);
	expect_refused(topo, "it is not a whole JSON object");
	write_file("");
	expect_refused(topo, "it is not a whole JSON object");
	write_file("{\"hello\":1}\n");
	expect_refused(topo, "not a cxlemu state file");
	/* another topology: a bigger window */
	write_file(text);
	char *other = cx_xstrdup(topo);
	memcpy(strstr(other, "size=8G"), "size=4G", 7);
	expect_refused(other, "written for another topology");
	/* decoders that do not route any more: the endpoint's base moved */
	char *bent = cx_xstrdup(text);
	char *at = strstr(bent, "\"decoder2.0\"");
	assert_non_null(at);
	at = strstr(at, "\"regs\"");
	assert_non_null(at);
	at += strcspn(at, "0123456789");
	/* BASE_LO up by 256 MiB, written in as many decimal digits */
	char *end;
	unsigned long long lo = strtoull(at, &end, 10);
	char moved[16];
	int len = snprintf(moved, sizeof(moved), "%llu", lo + 0x10000000ULL);
	assert_int_equal(len, end - at);
	memcpy(at, moved, (size_t)len);
	write_file(bent);
	expect_refused(topo, "does not route");
	/* a decoder's DPA moved onto the one before it: two regions would
	 * share bytes, though every region still routes */
	char *alias = cx_xstrdup(text);
	for (at = strstr(alias, "\"dpa_base\""); at;
	     at = strstr(at + 1, "\"dpa_base\"")) {
		char *num = at + strlen("\"dpa_base\"");
		num += strspn(num, ": ");
		if (!strncmp(num, "268435456", 9)) {
			/* 0 and blanks: the same length, still JSON */
			memcpy(num, "0        ", 9);
			break;
		}
	}
	assert_non_null(at);
	write_file(alias);
	expect_refused(topo, "the decoder before it ends at");
	free(alias);
	/* a file with nothing to bring back is no reason to refuse */
	struct cx_fabric *f = started(other);
	struct cx_state_saved last = { 0 };
	cx_err e;
	int rc;
	ok(cx_state_save(path, f, &last, &e), &e);
	cx_fabric_free(f);
	struct cx_fabric *g = restored(topo, &e, &rc);
	assert_non_null(g);
	cx_fabric_free(g);
	cx_state_saved_free(&last);
	free(bent);
	free(other);
	free(cut);
	free(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_round_trip, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_refusals, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
