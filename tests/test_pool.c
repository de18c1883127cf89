/*
 * test_pool.c - pooling end to end through a daemon: a fabric manager on
 * the administrative socket (the "fm" request, FM-API frames) gives three
 * hosts' heads of one dynamic capacity device their extents; each host's
 * driver accepts ("dcd"); programs map the DAX devices over them with the
 * client library (dcdN.K, dcdN.UUID); a tagged extent is shared; a
 * release of mapped capacity is refused unless forced, and forced it is
 * revoked (SIGBUS in the mapper); the capacity reissued is zeroed.
 */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "cxlemu/cxlemu.h"
#include "cxlemu/dax.h"
#include "daemon_fixture.h"
#include "model/fm.h"
#include "spec/cci.h"

#define MiB (1ULL << 20)

#define HOST(name)                                                          \
	"[host " name "]\n"                                                 \
	"-machine q35,cxl=on -m 2G\n"                                       \
	"-object memory-backend-file,id=dc0,mem-path=%s/pool.raw,"          \
	"size=256M,share=on\n"                                              \
	"-device pxb-cxl,id=cxl.1,bus=pcie.0,bus_nr=12\n"                   \
	"-device cxl-rp,id=rp0,bus=cxl.1,port=0,chassis=0,slot=0\n"         \
	"-device cxl-type3,bus=rp0,volatile-dc-memdev=dc0,num-dc-regions=1,"\
	"id=pool0\n"                                                        \
	"-M cxl-fmw.0.targets.0=cxl.1,cxl-fmw.0.size=4G\n"

static const uint8_t tag[16] = { 0xc0, 0xff, 0xee, 0, 0, 0, 0x40, 0,
				 0x80, 0, 0, 0, 0, 0, 0xbe, 0xef };
#define TAG_TEXT "c0ffee00-0000-4000-8000-00000000beef"

/* One FM-API request on the administrative connection: the CCI return
 * code, the daemon's sentence in why. */
static uint16_t fm(struct cxlemu *a, uint16_t opcode, const uint8_t *in,
		   size_t len, char *why, size_t wl)
{
	uint8_t frame[CX_FM_FRAME_MAX];
	struct cx_cci_msg msg = { .category = CX_CCI_REQUEST, .tag = 7,
				  .opcode = opcode, .payload = in,
				  .len = (uint32_t)len };
	struct cxlemu_reply rep;
	struct cxlemu_err err;
	struct json_object *j;

	frame[CX_MCTP_EID] = CX_FM_EID_BASE;
	frame[CX_MCTP_TYPE] = CX_MCTP_TYPE_FMAPI;
	size_t n = cx_cci_encode(&msg, frame + 2, sizeof(frame) - 2);
	if (cxlemu_call(a, "fm", NULL, frame, n + 2, &rep, &err))
		fail_msg("fm: %s", err.msg);
	assert_true(rep.data_len >= 2 + CX_CCI_HDR_LEN);
	assert_int_equal(rep.data[CX_MCTP_EID], CX_FM_EID_BASE);
	assert_int_equal(rep.data[2 + CX_CCI_TAG], 7);
	uint16_t rc = cx_rd_le16(rep.data + 2 + CX_CCI_RC);
	why[0] = 0;
	if (json_object_object_get_ex(rep.result, rc ? "reason" : "message",
				      &j))
		snprintf(why, wl, "%s", json_object_get_string(j));
	cxlemu_reply_release(&rep);
	return rc;
}

/* Initiate Add (release: Initiate Release) for host `host`: one extent,
 * or by length (dpa_len[0] == 0: policy picks). */
static uint16_t fm_dc(struct cxlemu *a, uint16_t op, int host, int policy,
		      uint64_t dpa, uint64_t len, const uint8_t *t, char *why)
{
	uint8_t in[CX_IDC_HDR_LEN + CX_DCE_SIZE] = { 0 };
	size_t n = CX_IDC_HDR_LEN;
	cx_wr_le16(in + CX_IDC_HOST, (uint16_t)host);
	in[CX_IDC_POLICY] = (uint8_t)policy;
	cx_wr_le64(in + CX_IDC_LENGTH, len);
	if (t)
		memcpy(in + CX_IDC_TAG, t, 16);
	if (policy == CX_FM_SEL_PRESCRIPTIVE ||
	    (op == CX_FM_INITIATE_DC_RELEASE &&
	     (policy & CX_IDC_POLICY_MASK) == CX_FM_REL_PRESCRIPTIVE)) {
		cx_wr_le32(in + CX_IDC_EXT_COUNT, 1);
		cx_wr_le64(in + CX_IDC_EXTENTS + CX_DCE_DPA, dpa);
		cx_wr_le64(in + CX_IDC_EXTENTS + CX_DCE_LEN, len);
		n += CX_DCE_SIZE;
	}
	return fm(a, op, in, n, why, CX_FM_WHY_MAX);
}

static void accept_all(struct cxlemu *h)
{
	struct json_object *args = json_object_new_object();
	struct cxlemu_reply rep;
	struct cxlemu_err err;
	json_object_object_add(args, "memdev", json_object_new_string("mem0"));
	json_object_object_add(args, "action",
			       json_object_new_string("accept"));
	if (cxlemu_call(h, "dcd", args, NULL, 0, &rep, &err))
		fail_msg("dcd accept: %s", err.msg);
	cxlemu_reply_release(&rep);
}

static char *map_dev(struct cxlemu *h, const char *name,
		     struct cxlemu_dax **d, uint64_t *size)
{
	struct cxlemu_err err;
	void *p = NULL;
	if (cxlemu_dax_open(h, name, d, &err))
		fail_msg("open %s: %s", name, err.msg);
	*size = cxlemu_dax_size(*d);
	if (cxlemu_dax_map(*d, 0, *size, PROT_READ | PROT_WRITE, &p, &err))
		fail_msg("map %s: %s", name, err.msg);
	return p;
}

/* Does touching p kill a child with SIGBUS (the block was taken back)? */
static bool revoked(volatile char *p)
{
	fflush(NULL);
	pid_t pid = fork();
	if (pid == 0) {
		signal(SIGBUS, SIG_DFL);
		(void)p[0];
		_exit(0);
	}
	int st;
	waitpid(pid, &st, 0);
	return WIFSIGNALED(st) && WTERMSIG(st) == SIGBUS;
}

static void test_pool_flow(void **state)
{
	struct fx_daemon d;
	struct cxlemu *a, *h[3];
	struct cxlemu_err err;
	struct cxlemu_dax *d1, *d2, *p1, *p3;
	char why[CX_FM_WHY_MAX], text[sizeof(HOST("hostN")) * 3 + 200];
	static const char msg[] = "Hello from host1, through the pool";
	uint64_t sz;

	fx_daemon_dir(&d, "pool");
	snprintf(text, sizeof(text), HOST("host1") HOST("host2") HOST("host3"),
		 d.dir, d.dir, d.dir);
	fx_daemon_start(&d, text, NULL, NULL);
	assert_int_equal(cxlemu_connect_admin(d.sock, NULL, &a, &err), 0);
	for (int i = 0; i < 3; i++) {
		char name[16];
		snprintf(name, sizeof(name), "host%d", i + 1);
		if (cxlemu_connect(d.sock, name, &h[i], &err))
			fail_msg("%s", err.msg);
	}
	/* the FM endpoint is the administrative socket's only */
	struct cxlemu_reply rep;
	uint8_t junk[16] = { CX_FM_EID_BASE, CX_MCTP_TYPE_FMAPI };
	assert_int_not_equal(cxlemu_call(h[0], "fm", NULL, junk, sizeof(junk),
					 &rep, &err), 0);

	/* private: host1 at DPA 0, host3 nothing yet; shared: a tagged
	 * 2 MiB for host1, then host2 */
	assert_int_equal(fm_dc(a, CX_FM_INITIATE_DC_ADD, 0,
			       CX_FM_SEL_PRESCRIPTIVE, 0, 2 * MiB, NULL, why), 0);
	assert_int_equal(fm_dc(a, CX_FM_INITIATE_DC_ADD, 0, CX_FM_SEL_FREE, 0,
			       2 * MiB, tag, why), 0);
	assert_int_equal(fm_dc(a, CX_FM_INITIATE_DC_ADD, 1, CX_FM_SEL_SHARED,
			       0, 0, tag, why), 0);
	accept_all(h[0]);
	accept_all(h[1]);

	/* host1 writes into the shared device, host2 maps and sees it */
	char *w = map_dev(h[0], "dcd0." TAG_TEXT, &d1, &sz);
	assert_int_equal(sz, 2 * MiB);
	memcpy(w, msg, sizeof(msg));
	char *r = map_dev(h[1], "dcd0.0", &d2, &sz);  /* host2's only one */
	assert_string_equal(r, msg);
	/* host1's private extent: its device 0, in extent list order */
	char *priv = map_dev(h[0], "dcd0.0", &p1, &sz);
	assert_int_equal(sz, 2 * MiB);
	strcpy(priv, "host1's secret");

	/* a release of mapped capacity: Busy, unless forced */
	assert_int_equal(fm_dc(a, CX_FM_INITIATE_DC_RELEASE, 0,
			       CX_FM_REL_PRESCRIPTIVE, 0, 2 * MiB, NULL, why),
			 CX_RC_BUSY);
	assert_non_null(strstr(why, "mapped"));
	assert_false(revoked(priv));
	assert_int_equal(fm_dc(a, CX_FM_INITIATE_DC_RELEASE, 0,
			       CX_FM_REL_PRESCRIPTIVE | CX_IDC_FORCED, 0,
			       2 * MiB, NULL, why), 0);
	assert_true(revoked(priv));
	/* ... and the tagged one from host1: host2 keeps it, and the data */
	assert_int_equal(fm_dc(a, CX_FM_INITIATE_DC_RELEASE, 0,
			       CX_FM_REL_TAG | CX_IDC_FORCED, 0, 0, tag, why),
			 0);
	assert_true(revoked(w));
	/* a shared block is one set of pages: host2's mapping went with it,
	 * and host2 maps it again, data intact */
	assert_true(revoked(r));
	munmap(r, 2 * MiB);
	cxlemu_dax_close(d2);
	r = map_dev(h[1], "dcd0." TAG_TEXT, &d2, &sz);
	assert_string_equal(r, msg);

	/* host1's private capacity goes to host3: zeroed */
	assert_int_equal(fm_dc(a, CX_FM_INITIATE_DC_ADD, 2,
			       CX_FM_SEL_PRESCRIPTIVE, 0, 2 * MiB, NULL, why), 0);
	accept_all(h[2]);
	char *z = map_dev(h[2], "dcd0.0", &p3, &sz);
	for (uint64_t i = 0; i < sz; i += 4096)
		assert_int_equal(z[i], 0);
	assert_int_equal(z[1], 0);

	/* host1 holds nothing: no device to open */
	struct cxlemu_dax *none;
	assert_int_not_equal(cxlemu_dax_open(h[0], "dcd0.0", &none, &err), 0);
	assert_non_null(strstr(err.msg, "holds 0 DAX devices"));

	munmap(w, 2 * MiB);
	munmap(priv, 2 * MiB);
	munmap(r, 2 * MiB);
	munmap(z, 2 * MiB);
	cxlemu_dax_close(d1);
	cxlemu_dax_close(p1);
	cxlemu_dax_close(d2);
	cxlemu_dax_close(p3);
	for (int i = 0; i < 3; i++)
		cxlemu_close(h[i]);
	cxlemu_close(a);
	fx_daemon_stop(&d);
	fx_daemon_rmdir(&d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pool_flow),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
