/*
 * test_dcd.c - dynamic capacity, byte by byte: the host's commands
 * (4800h-4803h) and the Dynamic Capacity Event Records on one memdev; a
 * multi-headed device (three hosts whose volatile-dc-memdev names one
 * file) driven through the FM-API (0001h, 5500h, 5600h-5605h); the CCI
 * message codec; and the rules that keep capacity safe: no block granted
 * to two hosts (unless shared by tag), no acceptance of what was not
 * offered, zeroed when the last holder lets go; and the host's driver
 * (dcd_host.c): whole chains accepted or rejected, releases deferred
 * while in use, the bytes of held capacity only; a dynamic_ram_a region
 * over DC region 0 (its refusals, HPA -> DPA, its DAX devices).
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
#include "model/fm.h"
#include "test_mbox_fixture.h"

#define MiB (1ULL << 20)
#define BLK (2 * MiB)

static uint8_t out[CX_MBOX_PAYLOAD_MAX];
static size_t olen;

/* ---- one host: the mailbox commands ---- */

/* 256 MiB volatile, then 512 MiB of dynamic capacity in 2 regions */
static struct mx *one(void)
{
	return mx_new_dc(256 * MiB, 0, 0, 512 * MiB, 2, NULL);
}

static uint16_t fm(struct cx_memdev *m, uint16_t op, const void *in,
		   size_t len, char *why)
{
	static char scratch[CX_FM_WHY_MAX];
	uint16_t rc = 0xffff;
	olen = sizeof(out);
	assert_int_equal(cx_fm_exec(m, op, in, len, out, &olen, &rc, NULL,
				    why ? why : scratch, CX_FM_WHY_MAX), 0);
	return rc;
}

/* An Initiate Dynamic Capacity Add payload. */
static size_t add_req(uint8_t *p, int host, int policy, int region,
		      uint64_t length, const uint8_t *tag, int n,
		      const uint64_t (*ext)[2])
{
	memset(p, 0, CX_IDC_HDR_LEN + (size_t)n * CX_DCE_SIZE);
	cx_wr_le16(p + CX_IDC_HOST, (uint16_t)host);
	p[CX_IDC_POLICY] = (uint8_t)policy;
	p[CX_IDC_REGION] = (uint8_t)region;
	cx_wr_le64(p + CX_IDC_LENGTH, length);
	if (tag)
		memcpy(p + CX_IDC_TAG, tag, 16);
	cx_wr_le32(p + CX_IDC_EXT_COUNT, (uint32_t)n);
	for (int i = 0; i < n; i++) {
		uint8_t *e = p + CX_IDC_EXTENTS + (size_t)i * CX_DCE_SIZE;
		cx_wr_le64(e + CX_DCE_DPA, ext[i][0]);
		cx_wr_le64(e + CX_DCE_LEN, ext[i][1]);
	}
	return CX_IDC_HDR_LEN + (size_t)n * CX_DCE_SIZE;
}

/* An Add Dynamic Capacity Response / Release Dynamic Capacity payload. */
static size_t upd_req(uint8_t *p, bool more, int n, const uint64_t (*ext)[2])
{
	memset(p, 0, CX_DCU_HDR_LEN + (size_t)n * CX_DCU_E_SIZE);
	cx_wr_le32(p + CX_DCU_COUNT, (uint32_t)n);
	p[CX_DCU_FLAGS] = more ? CX_DCU_FLAG_MORE : 0;
	for (int i = 0; i < n; i++) {
		uint8_t *e = p + CX_DCU_EXTENTS + (size_t)i * CX_DCU_E_SIZE;
		cx_wr_le64(e + CX_DCU_E_DPA, ext[i][0]);
		cx_wr_le64(e + CX_DCU_E_LEN, ext[i][1]);
	}
	return CX_DCU_HDR_LEN + (size_t)n * CX_DCU_E_SIZE;
}

static uint16_t host_run(struct cx_memdev *m, uint16_t op, const void *in,
			 size_t len)
{
	uint16_t rc = 0xffff;
	olen = sizeof(out);
	assert_int_equal(cx_mbox_exec(m, op, in, len, out, &olen, &rc), 0);
	return rc;
}

/* The DC event log's records: count, and a copy of each. */
static int dc_records(struct cx_memdev *m, uint8_t recs[][128])
{
	uint8_t log = CX_EVLOG_DCD;
	assert_int_equal(host_run(m, CX_OP_GET_EVENT_RECORDS, &log, 1), 0);
	int n = cx_rd_le16(out + CX_GER_RECORD_COUNT);
	for (int i = 0; recs && i < n; i++)
		memcpy(recs[i], out + CX_GER_RECORDS + 128 * i, 128);
	return n;
}

static void clear_dc_records(struct cx_memdev *m)
{
	uint8_t recs[32][128], in[6 + 64];
	int n;
	while ((n = dc_records(m, recs)) > 0) {
	memset(in, 0, sizeof(in));
	in[CX_CER_LOG] = CX_EVLOG_DCD;
	in[CX_CER_NHANDLES] = (uint8_t)n;
	for (int i = 0; i < n; i++)
		cx_wr_le16(in + CX_CER_HANDLES + 2 * i,
			   cx_rd_le16(recs[i] + CX_EVR_HANDLE));
	assert_int_equal(host_run(m, CX_OP_CLEAR_EVENT_RECORDS, in,
				  6 + 2 * (size_t)n), 0);
	}
}

static void test_get_dc_config_bytes(void **state)
{
	struct mx *x = one();
	uint8_t in[2] = { 8, 0 };

	assert_int_equal(host_run(x->m, CX_OP_GET_DC_CONFIG, in, 2), 0);
	assert_int_equal(olen, 8 + 2 * 0x28 + 16);
	assert_int_equal(out[0], 2);            /* regions the device has */
	assert_int_equal(out[1], 2);            /* returned */
	for (int i = 0; i < 6; i++)
		assert_int_equal(out[2 + i], 0);
	for (int r = 0; r < 2; r++) {
		const uint8_t *p = out + 8 + 0x28 * r;
		assert_int_equal(cx_rd_le64(p + 0x00), 256 * MiB + r * 256 * MiB);
		assert_int_equal(cx_rd_le64(p + 0x08), 1);  /* 256 MiB units */
		assert_int_equal(cx_rd_le64(p + 0x10), 256 * MiB);
		assert_int_equal(cx_rd_le64(p + 0x18), 2 * MiB);
		assert_int_equal(cx_rd_le32(p + 0x20), 2 + r); /* after vmem's
								  DSMAS 0 */
		assert_int_equal(p[0x24], 0);
	}
	const uint8_t *t = out + 8 + 2 * 0x28;
	assert_int_equal(cx_rd_le32(t + 0), 512);
	assert_int_equal(cx_rd_le32(t + 4), 512);
	assert_int_equal(cx_rd_le32(t + 8), 64);
	assert_int_equal(cx_rd_le32(t + 12), 64);

	/* from region 1, one region */
	in[0] = 1;
	in[1] = 1;
	assert_int_equal(host_run(x->m, CX_OP_GET_DC_CONFIG, in, 2), 0);
	assert_int_equal(olen, 8 + 0x28 + 16);
	assert_int_equal(out[1], 1);
	assert_int_equal(cx_rd_le64(out + 8), 512 * MiB);
	/* none asked for: header and trailer */
	in[0] = 0;
	assert_int_equal(host_run(x->m, CX_OP_GET_DC_CONFIG, in, 2), 0);
	assert_int_equal(olen, 8 + 16);
	/* a region past the last, a wrong length */
	in[1] = 2;
	assert_int_equal(host_run(x->m, CX_OP_GET_DC_CONFIG, in, 2),
			 CX_RC_INVALID_INPUT);
	char why[256];
	cx_dcd_last_error(x->m, why, sizeof(why));
	assert_non_null(strstr(why, "starting region 2"));
	assert_int_equal(host_run(x->m, CX_OP_GET_DC_CONFIG, in, 3),
			 CX_RC_INVALID_PAYLOAD_LENGTH);
	/* the Identify of a DCD reports only its static capacity */
	assert_int_equal(host_run(x->m, CX_OP_IDENTIFY_MEMDEV, NULL, 0), 0);
	assert_int_equal(cx_rd_le64(out + CX_ID_TOTAL_CAP), 1);
	mx_free(x);
}

static void test_no_dc_no_commands(void **state)
{
	struct mx *x = mx_new(256 * MiB, 0, 0, NULL);
	uint8_t in[8] = { 0 };
	assert_int_equal(host_run(x->m, CX_OP_GET_DC_CONFIG, in, 2),
			 CX_RC_UNSUPPORTED);
	assert_int_equal(host_run(x->m, CX_OP_GET_DC_EXTENT_LIST, in, 8),
			 CX_RC_UNSUPPORTED);
	assert_int_equal(fm(x->m, CX_FM_GET_DCD_INFO, NULL, 0, NULL),
			 CX_RC_UNSUPPORTED);
	/* Identify and MHD info still answer: one head */
	assert_int_equal(fm(x->m, CX_FM_IDENTIFY, NULL, 0, NULL), 0);
	in[1] = 8;
	assert_int_equal(fm(x->m, CX_FM_GET_MHD_INFO, in, 2, NULL), 0);
	assert_int_equal(out[CX_MHD_NUM_HEADS], 1);
	mx_free(x);
}

static void test_add_event_accept_list(void **state)
{
	struct mx *x = one();
	uint8_t req[512], recs[32][128];
	static const uint64_t ext[2][2] = {
		{ 256 * MiB, 4 * MiB }, { 256 * MiB + 8 * MiB, 2 * MiB } };
	char why[CX_FM_WHY_MAX];

	size_t n = add_req(req, 0, CX_FM_SEL_PRESCRIPTIVE, 0, 0, NULL, 2, ext);
	assert_int_equal(fm(x->m, CX_FM_INITIATE_DC_ADD, req, n, why), 0);
	assert_non_null(strstr(why, "2 extents"));
	/* two Add Capacity records, chained by More */
	assert_int_equal(dc_records(x->m, recs), 2);
	for (int i = 0; i < 2; i++) {
		const uint8_t *r = recs[i];
		assert_memory_equal(r, cx_event_uuid_dynamic_capacity, 16);
		assert_int_equal(r[0x10], 0x80);
		assert_int_equal(r[0x11] & 3, CX_EVR_SEV_INFO);
		assert_int_equal(r[0x30], CX_DCEV_ADD_CAPACITY);
		assert_int_equal(r[0x31], 1);
		assert_int_equal(cx_rd_le16(r + 0x32), 0);   /* host ID */
		assert_int_equal(r[0x35], i == 0 ? 1 : 0);   /* More */
		assert_int_equal(cx_rd_le64(r + 0x38), ext[i][0]);
		assert_int_equal(cx_rd_le64(r + 0x40), ext[i][1]);
		for (int b = 0; b < 16; b++)
			assert_int_equal(r[0x48 + b], 0);    /* untagged */
		assert_int_equal(cx_rd_le32(r + 0x78), 510); /* 2 pending */
		assert_int_equal(cx_rd_le32(r + 0x7c), 64);
	}
	/* event status bit 4: the DC log has records */
	struct cx_mbox_status s;
	assert_int_equal(cx_mbox_status(x->m, &s), 0);
	assert_true(s.event_status & (1u << CX_EVLOG_DCD));

	/* nothing is the host's before it answers */
	uint8_t gel[8] = { 0 };
	cx_wr_le32(gel, 16);
	assert_int_equal(host_run(x->m, CX_OP_GET_DC_EXTENT_LIST, gel, 8), 0);
	assert_int_equal(olen, 16);
	assert_int_equal(cx_rd_le32(out + 0), 0);
	assert_int_equal(cx_rd_le32(out + 4), 0);
	assert_int_equal(cx_rd_le32(out + 8), 0);      /* generation */
	cx_err e;
	assert_int_equal(cx_mbox_access_check(x->m, ext[0][0], 64, true, NULL,
					      &e), -ENXIO);
	assert_non_null(strstr(e.msg, "has not accepted"));

	/* accept the first, not the second */
	n = upd_req(req, false, 1, ext);
	assert_int_equal(host_run(x->m, CX_OP_ADD_DC_RESPONSE, req, n), 0);
	assert_int_equal(host_run(x->m, CX_OP_GET_DC_EXTENT_LIST, gel, 8), 0);
	assert_int_equal(olen, 16 + 0x28);
	assert_int_equal(cx_rd_le32(out + 0), 1);
	assert_int_equal(cx_rd_le32(out + 4), 1);
	assert_int_equal(cx_rd_le32(out + 8), 1);
	assert_int_equal(cx_rd_le64(out + 16), ext[0][0]);
	assert_int_equal(cx_rd_le64(out + 24), ext[0][1]);
	assert_int_equal(cx_mbox_access_check(x->m, ext[0][0], ext[0][1], true,
					      NULL, &e), 0);
	assert_int_equal(cx_mbox_access_check(x->m, ext[1][0], 64, true, NULL,
					      &e), -ENXIO);
	/* the chain is answered: a second answer has nothing to answer */
	assert_int_equal(host_run(x->m, CX_OP_ADD_DC_RESPONSE, req, n),
			 CX_RC_INVALID_INPUT);
	/* the rejected extent is free again: offer it once more */
	n = add_req(req, 0, CX_FM_SEL_PRESCRIPTIVE, 0, 0, NULL, 1, &ext[1]);
	assert_int_equal(fm(x->m, CX_FM_INITIATE_DC_ADD, req, n, why), 0);
	/* reject the whole chain: an empty response */
	n = upd_req(req, false, 0, NULL);
	assert_int_equal(host_run(x->m, CX_OP_ADD_DC_RESPONSE, req, n), 0);
	assert_int_equal(host_run(x->m, CX_OP_GET_DC_EXTENT_LIST, gel, 8), 0);
	assert_int_equal(cx_rd_le32(out + 4), 1);
	assert_int_equal(cx_rd_le32(out + 8), 1);      /* unchanged */
	/* start index: at the end is an empty answer, past it refused */
	cx_wr_le32(gel + 4, 1);
	assert_int_equal(host_run(x->m, CX_OP_GET_DC_EXTENT_LIST, gel, 8), 0);
	assert_int_equal(cx_rd_le32(out + 0), 0);
	cx_wr_le32(gel + 4, 2);
	assert_int_equal(host_run(x->m, CX_OP_GET_DC_EXTENT_LIST, gel, 8),
			 CX_RC_INVALID_INPUT);
	mx_free(x);
}

/* The FM offers head 0 8 MiB at the start of region 1 (prescriptive). */
static const uint64_t offer[1][2] = { { 256 * MiB, 8 * MiB } };
static size_t offer_8m(struct cx_memdev *m, uint8_t *req)
{
	size_t n = add_req(req, 0, CX_FM_SEL_PRESCRIPTIVE, 0, 0, NULL, 1,
			   offer);
	assert_int_equal(fm(m, CX_FM_INITIATE_DC_ADD, req, n, NULL), 0);
	return n;
}

/* What a host may not answer: the rules, each with its return code. */
static void test_bad_responses(void **state)
{
	struct mx *x = one();
	uint8_t req[512];
	size_t n = offer_8m(x->m, req);

	static const struct {
		uint64_t e[2][2];
		int n;
		uint16_t rc;
	} bad[] = {
		{ { { 256 * MiB + 4096, 2 * MiB } }, 1,
		  CX_RC_INVALID_EXTENT_LIST },             /* misaligned */
		{ { { 256 * MiB, 3 * MiB } }, 1, CX_RC_INVALID_EXTENT_LIST },
		{ { { 0, 2 * MiB } }, 1, CX_RC_INVALID_PA }, /* static DPA */
		{ { { 768 * MiB, 2 * MiB } }, 1, CX_RC_INVALID_PA }, /* past */
		{ { { 510 * MiB, 4 * MiB } }, 1,
		  CX_RC_INVALID_PA },                  /* crosses regions */
		{ { { 256 * MiB, 4 * MiB }, { 258 * MiB, 2 * MiB } }, 2,
		  CX_RC_INVALID_EXTENT_LIST },             /* overlapping */
		{ { { 264 * MiB, 2 * MiB } }, 1,
		  CX_RC_INVALID_PA },                      /* not offered */
		{ { { 256 * MiB, 0 } }, 1, CX_RC_INVALID_PA }, /* empty */
	};
	for (size_t i = 0; i < CX_ARRAY_SIZE(bad); i++) {
		n = upd_req(req, false, bad[i].n, bad[i].e);
		assert_int_equal(host_run(x->m, CX_OP_ADD_DC_RESPONSE, req, n),
				 bad[i].rc);
	}
	/* a count that does not match the payload */
	n = upd_req(req, false, 1, offer);
	assert_int_equal(host_run(x->m, CX_OP_ADD_DC_RESPONSE, req, n - 1),
			 CX_RC_INVALID_PAYLOAD_LENGTH);
	cx_wr_le32(req, 0xffffffff);
	assert_int_equal(host_run(x->m, CX_OP_ADD_DC_RESPONSE, req, n),
			 CX_RC_INVALID_PAYLOAD_LENGTH);
	/* none of it changed anything: the offer still stands */
	n = upd_req(req, false, 1, offer);
	assert_int_equal(host_run(x->m, CX_OP_ADD_DC_RESPONSE, req, n), 0);
	/* releasing what it does not hold */
	static const uint64_t not_held[1][2] = { { 300 * MiB, 2 * MiB } };
	n = upd_req(req, false, 1, not_held);
	assert_int_equal(host_run(x->m, CX_OP_RELEASE_DC, req, n),
			 CX_RC_INVALID_PA);
	n = upd_req(req, false, 0, NULL);
	assert_int_equal(host_run(x->m, CX_OP_RELEASE_DC, req, n),
			 CX_RC_INVALID_INPUT);
	mx_free(x);
}

/* Accept in pieces (More), release the middle of an extent. */
static void test_more_and_split(void **state)
{
	struct mx *x = one();
	uint8_t req[512];
	size_t n = offer_8m(x->m, req);
	static const uint64_t a[1][2] = { { 256 * MiB, 2 * MiB } };
	static const uint64_t b[1][2] = { { 262 * MiB, 2 * MiB } };
	n = upd_req(req, true, 1, a);
	assert_int_equal(host_run(x->m, CX_OP_ADD_DC_RESPONSE, req, n), 0);
	/* the same piece twice */
	assert_int_equal(host_run(x->m, CX_OP_ADD_DC_RESPONSE, req, n),
			 CX_RC_INVALID_PA);
	n = upd_req(req, false, 1, b);
	assert_int_equal(host_run(x->m, CX_OP_ADD_DC_RESPONSE, req, n), 0);
	struct cx_dc_extent *v;
	int cnt;
	uint32_t gen;
	assert_int_equal(cx_dcd_extents(x->m, &v, &cnt, &gen), 0);
	assert_int_equal(cnt, 2);
	assert_int_equal(gen, 2);
	free(v);
	assert_int_equal(cx_dcd_pending(x->m, &v, &cnt), 0);
	assert_int_equal(cnt, 0);
	free(v);

	/* one 6 MiB extent, then give back its middle */
	static const uint64_t big[1][2] = { { 300 * MiB, 6 * MiB } };
	n = add_req(req, 0, CX_FM_SEL_PRESCRIPTIVE, 0, 0, NULL, 1, big);
	assert_int_equal(fm(x->m, CX_FM_INITIATE_DC_ADD, req, n, NULL), 0);
	n = upd_req(req, false, 1, big);
	assert_int_equal(host_run(x->m, CX_OP_ADD_DC_RESPONSE, req, n), 0);
	assert_int_equal(cx_media_write(x->m->dc, 300 * MiB - 256 * MiB,
					"middle", 6, NULL), 0);
	static const uint64_t mid[1][2] = { { 300 * MiB, 2 * MiB } };
	n = upd_req(req, false, 1, mid);
	assert_int_equal(host_run(x->m, CX_OP_RELEASE_DC, req, n), 0);
	assert_int_equal(cx_dcd_extents(x->m, &v, &cnt, &gen), 0);
	assert_int_equal(cnt, 3);
	assert_int_equal(gen, 4);
	assert_int_equal(v[2].dpa, 302 * MiB);
	assert_int_equal(v[2].len, 4 * MiB);
	free(v);
	/* the released block is zero */
	char buf[6];
	assert_int_equal(cx_media_read(x->m->dc, 44 * MiB, buf, 6, NULL), 0);
	assert_memory_equal(buf, "\0\0\0\0\0\0", 6);
	mx_free(x);
}

static void test_fm_add_refusals(void **state)
{
	struct mx *x = one();
	uint8_t req[4096];
	char why[CX_FM_WHY_MAX];
	static const uint64_t e0[1][2] = { { 256 * MiB, 4 * MiB } };
	size_t n = add_req(req, 0, CX_FM_SEL_PRESCRIPTIVE, 0, 0, NULL, 1, e0);
	assert_int_equal(fm(x->m, CX_FM_INITIATE_DC_ADD, req, n, why), 0);

	/* offered to the host: not again, not overlapping */
	static const uint64_t e1[1][2] = { { 258 * MiB, 4 * MiB } };
	n = add_req(req, 0, CX_FM_SEL_PRESCRIPTIVE, 0, 0, NULL, 1, e1);
	assert_int_equal(fm(x->m, CX_FM_INITIATE_DC_ADD, req, n, why),
			 CX_RC_INVALID_EXTENT_LIST);
	assert_non_null(strstr(why, "already allocated to host host0"));
	/* misaligned, another region, too many hosts, policies */
	static const uint64_t e2[1][2] = { { 300 * MiB + 4096, 2 * MiB } };
	n = add_req(req, 0, CX_FM_SEL_PRESCRIPTIVE, 0, 0, NULL, 1, e2);
	assert_int_equal(fm(x->m, CX_FM_INITIATE_DC_ADD, req, n, why),
			 CX_RC_INVALID_EXTENT_LIST);
	assert_non_null(strstr(why, "not aligned"));
	static const uint64_t e3[1][2] = { { 600 * MiB, 2 * MiB } };
	n = add_req(req, 0, CX_FM_SEL_PRESCRIPTIVE, 0, 0, NULL, 1, e3);
	assert_int_equal(fm(x->m, CX_FM_INITIATE_DC_ADD, req, n, why),
			 CX_RC_INVALID_EXTENT_LIST);
	assert_non_null(strstr(why, "not inside region 0"));
	n = add_req(req, 1, CX_FM_SEL_FREE, 0, 2 * MiB, NULL, 0, NULL);
	assert_int_equal(fm(x->m, CX_FM_INITIATE_DC_ADD, req, n, why),
			 CX_RC_INVALID_INPUT);
	assert_non_null(strstr(why, "host ID 1"));
	n = add_req(req, 0, 7, 0, 2 * MiB, NULL, 0, NULL);
	assert_int_equal(fm(x->m, CX_FM_INITIATE_DC_ADD, req, n, why),
			 CX_RC_INVALID_INPUT);
	n = add_req(req, 0, CX_FM_SEL_FREE, 2, 2 * MiB, NULL, 0, NULL);
	assert_int_equal(fm(x->m, CX_FM_INITIATE_DC_ADD, req, n, why),
			 CX_RC_INVALID_INPUT);
	n = add_req(req, 0, CX_FM_SEL_FREE, 0, 3 * MiB, NULL, 0, NULL);
	assert_int_equal(fm(x->m, CX_FM_INITIATE_DC_ADD, req, n, why),
			 CX_RC_INVALID_INPUT);
	/* more than a region has */
	n = add_req(req, 0, CX_FM_SEL_FREE, 0, 256 * MiB, NULL, 0, NULL);
	assert_int_equal(fm(x->m, CX_FM_INITIATE_DC_ADD, req, n, why),
			 CX_RC_RESOURCES_EXHAUSTED);
	assert_non_null(strstr(why, "0xfc00000 bytes free"));
	/* a single-headed device's regions are not sharable */
	static const uint8_t tag[16] = { 1, 2, 3 };
	n = add_req(req, 0, CX_FM_SEL_SHARED, 0, 0, tag, 0, NULL);
	assert_int_equal(fm(x->m, CX_FM_INITIATE_DC_ADD, req, n, why),
			 CX_RC_INVALID_INPUT);
	assert_non_null(strstr(why, "not sharable"));
	/* a payload whose count lies */
	n = add_req(req, 0, CX_FM_SEL_PRESCRIPTIVE, 0, 0, NULL, 1, e1);
	cx_wr_le32(req + CX_IDC_EXT_COUNT, 2);
	assert_int_equal(fm(x->m, CX_FM_INITIATE_DC_ADD, req, n, why),
			 CX_RC_INVALID_PAYLOAD_LENGTH);
	/* free and contiguous pick free blocks around what is held */
	n = add_req(req, 0, CX_FM_SEL_CONTIGUOUS, 0, 8 * MiB, NULL, 0, NULL);
	assert_int_equal(fm(x->m, CX_FM_INITIATE_DC_ADD, req, n, why), 0);
	struct cx_dc_extent *v;
	int cnt;
	assert_int_equal(cx_dcd_pending(x->m, &v, &cnt), 0);
	assert_int_equal(cnt, 2);
	assert_int_equal(v[1].dpa, 260 * MiB);
	assert_int_equal(v[1].len, 8 * MiB);
	free(v);

	/* the event log has room for 32 records: a chain that does not fit
	 * is refused whole */
	static uint64_t many[40][2];
	for (int i = 0; i < 40; i++) {
		many[i][0] = 300 * MiB + (uint64_t)i * 2 * MiB;
		many[i][1] = 2 * MiB;
	}
	n = add_req(req, 0, CX_FM_SEL_PRESCRIPTIVE, 0, 0, NULL, 31, many);
	assert_int_equal(fm(x->m, CX_FM_INITIATE_DC_ADD, req, n, why),
			 CX_RC_RESOURCES_EXHAUSTED);
	assert_non_null(strstr(why, "event log"));
	assert_int_equal(dc_records(x->m, NULL), 2);
	mx_free(x);
}

static bool busy_hook(void *ctx, struct cx_memdev *m, uint64_t dpa,
		      uint64_t len, char *why, size_t wl)
{
	snprintf(why, wl, "mapped by pid 42");
	return *(bool *)ctx;
}

static void test_fm_release(void **state)
{
	struct mx *x = one();
	uint8_t req[512], recs[32][128], rsp[512];
	char why[CX_FM_WHY_MAX];
	static const uint64_t e[2][2] = { { 256 * MiB, 4 * MiB },
					  { 264 * MiB, 2 * MiB } };
	size_t n = add_req(req, 0, CX_FM_SEL_PRESCRIPTIVE, 0, 0, NULL, 2, e);
	assert_int_equal(fm(x->m, CX_FM_INITIATE_DC_ADD, req, n, NULL), 0);
	/* pending capacity cannot be released */
	n = add_req(req, 0, CX_FM_REL_PRESCRIPTIVE, 0, 0, NULL, 1, e);
	assert_int_equal(fm(x->m, CX_FM_INITIATE_DC_RELEASE, req, n, why),
			 CX_RC_INVALID_PA);
	assert_non_null(strstr(why, "not yet accepted"));
	n = upd_req(rsp, false, 2, e);
	assert_int_equal(host_run(x->m, CX_OP_ADD_DC_RESPONSE, rsp, n), 0);
	clear_dc_records(x->m);
	assert_int_equal(cx_media_write(x->m->dc, 0, "secret", 6, NULL), 0);

	/* in use: refused unless forced */
	bool busy = true;
	struct cx_fm_hooks hk = { busy_hook, &busy };
	n = add_req(req, 0, CX_FM_REL_PRESCRIPTIVE, 0, 0, NULL, 1, e);
	uint16_t rc;
	olen = sizeof(out);
	assert_int_equal(cx_fm_exec(x->m, CX_FM_INITIATE_DC_RELEASE, req, n,
				    out, &olen, &rc, &hk, why, sizeof(why)), 0);
	assert_int_equal(rc, CX_RC_BUSY);
	assert_non_null(strstr(why, "mapped by pid 42"));
	assert_int_equal(dc_records(x->m, NULL), 0);
	/* not in use: the host is asked (Release Capacity), still holds it */
	busy = false;
	assert_int_equal(cx_fm_exec(x->m, CX_FM_INITIATE_DC_RELEASE, req, n,
				    out, &olen, &rc, &hk, why, sizeof(why)), 0);
	assert_int_equal(rc, 0);
	assert_int_equal(dc_records(x->m, recs), 1);
	assert_int_equal(recs[0][0x30], CX_DCEV_RELEASE_CAPACITY);
	assert_int_equal(cx_rd_le64(recs[0] + 0x38), e[0][0]);
	assert_int_equal(cx_rd_le64(recs[0] + 0x40), e[0][1]);
	clear_dc_records(x->m);
	char buf[6];
	assert_int_equal(cx_media_read(x->m->dc, 0, buf, 6, NULL), 0);
	assert_memory_equal(buf, "secret", 6);
	/* the host answers: released, zeroed */
	n = upd_req(rsp, false, 1, e);
	assert_int_equal(host_run(x->m, CX_OP_RELEASE_DC, rsp, n), 0);
	assert_int_equal(cx_media_read(x->m->dc, 0, buf, 6, NULL), 0);
	assert_memory_equal(buf, "\0\0\0\0\0\0", 6);

	/* forced: gone at once, the host told after the fact */
	assert_int_equal(cx_media_write(x->m->dc, 8 * MiB, "second", 6, NULL),
			 0);
	busy = true;
	req[CX_IDC_POLICY] = CX_FM_REL_PRESCRIPTIVE | CX_IDC_FORCED;
	n = add_req(req, 0, CX_FM_REL_PRESCRIPTIVE | CX_IDC_FORCED, 0, 0, NULL,
		    1, &e[1]);
	assert_int_equal(cx_fm_exec(x->m, CX_FM_INITIATE_DC_RELEASE, req, n,
				    out, &olen, &rc, &hk, why, sizeof(why)), 0);
	assert_int_equal(rc, 0);
	assert_int_equal(dc_records(x->m, recs), 1);
	assert_int_equal(recs[0][0x30], CX_DCEV_FORCED_RELEASE);
	assert_int_equal(cx_media_read(x->m->dc, 8 * MiB, buf, 6, NULL), 0);
	assert_memory_equal(buf, "\0\0\0\0\0\0", 6);
	struct cx_dc_extent *v;
	int cnt;
	uint32_t gen;
	assert_int_equal(cx_dcd_extents(x->m, &v, &cnt, &gen), 0);
	assert_int_equal(cnt, 0);
	assert_int_equal(gen, 3);
	free(v);
	/* nothing left to release; reserved flag bits */
	assert_int_equal(fm(x->m, CX_FM_INITIATE_DC_RELEASE, req, n, why),
			 CX_RC_INVALID_PA);
	req[CX_IDC_POLICY] = 0x81;
	assert_int_equal(fm(x->m, CX_FM_INITIATE_DC_RELEASE, req, n, why),
			 CX_RC_INVALID_INPUT);
	mx_free(x);
}

/* ---- a multi-headed device: three hosts, one DC backend file ---- */

#define HOST(name)                                                          \
	"[host " name "]\n"                                                 \
	"-machine type=q35,cxl=on -m 4G,slots=4,maxmem=8G\n"                \
	"-device pxb-cxl,id=cxl.0,bus=pcie.0,bus_nr=52\n"                   \
	"-device cxl-rp,id=rp0,bus=cxl.0,chassis=0,port=0,slot=0\n"         \
	"-object memory-backend-file,id=dc0,mem-path=%s/dc.raw,size=512M,"  \
	"share=on\n"                                                        \
	"-device cxl-type3,bus=rp0,volatile-dc-memdev=dc0,num-dc-regions=2,"\
	"id=dcd0,sn=0x99\n"                                                 \
	"-M cxl-fmw.0.targets.0=cxl.0,cxl-fmw.0.size=4G\n"

struct world {
	char dir[64];
	struct cx_fabric *f;
	struct cx_memdev *m[3];
	cx_err e;
};

static int setup(void **state)
{
	struct world *w = calloc(1, sizeof(*w));
	static const char fmt[] = HOST("host1") HOST("host2") HOST("host3");
	char text[sizeof(fmt) + 3 * 64];

	snprintf(w->dir, sizeof(w->dir), "/tmp/pool-dcd-XXXXXX");
	assert_non_null(mkdtemp(w->dir));
	snprintf(text, sizeof(text), fmt, w->dir, w->dir, w->dir);
	if (cx_config_load_text("mhd.topo", text, &w->f, &w->e) ||
	    cx_fabric_start(w->f, &w->e))
		fail_msg("%s", w->e.msg);
	for (int i = 0; i < 3; i++) {
		char name[16];
		snprintf(name, sizeof(name), "host%d", i + 1);
		w->m[i] = cx_memdev_find(cx_host_find(w->f, name), "mem0");
		assert_non_null(w->m[i]);
	}
	*state = w;
	return 0;
}

static int teardown(void **state)
{
	struct world *w = *state;
	char cmd[128];
	cx_mbox_free_fabric(w->f);
	cx_fabric_free(w->f);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", w->dir);
	assert_int_equal(system(cmd), 0);
	free(w);
	return 0;
}

static void test_heads(void **state)
{
	struct world *w = *state;
	struct cx_memdev **devs;
	int nheads;

	assert_int_equal(cx_fm_devices(w->f, &devs), 1);
	assert_ptr_equal(devs[0], w->m[0]);
	free(devs);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(cx_mbox_head_id(w->m[i], &nheads), i);
		assert_int_equal(nheads, 3);
	}
	struct cx_dc_region_info r[8];
	assert_int_equal(cx_dcd_regions(w->m[1], r, 8), 2);
	assert_true(r[0].sharable && r[1].sharable);
	assert_int_equal(r[1].base, 256 * MiB);

	/* 0001h Identify */
	assert_int_equal(fm(w->m[2], CX_FM_IDENTIFY, NULL, 0, NULL), 0);
	assert_int_equal(olen, 0x12);
	assert_int_equal(cx_rd_le16(out + 0), 0x8086);
	assert_int_equal(cx_rd_le16(out + 2), 0x0d93);
	assert_int_equal(cx_rd_le64(out + 8), 0x99);
	assert_int_equal(out[0x10], 11);
	assert_int_equal(out[0x11], 3);
	/* 5500h: 3 LDs, 3 heads, LD i on head i; from LD 1, 8 asked */
	uint8_t in[16] = { 1, 8 };
	assert_int_equal(fm(w->m[0], CX_FM_GET_MHD_INFO, in, 2, NULL), 0);
	assert_int_equal(olen, 8 + 2);
	static const uint8_t mhd[10] = { 3, 3, 0, 0, 1, 2, 0, 0, 1, 2 };
	assert_memory_equal(out, mhd, 10);
	in[0] = 3;
	assert_int_equal(fm(w->m[0], CX_FM_GET_MHD_INFO, in, 2, NULL),
			 CX_RC_INVALID_INPUT);
	assert_int_equal(fm(w->m[0], CX_FM_GET_MHD_INFO, in, 3, NULL),
			 CX_RC_INVALID_PAYLOAD_LENGTH);

	/* 5600h Get DCD Info */
	assert_int_equal(fm(w->m[0], CX_FM_GET_DCD_INFO, NULL, 0, NULL), 0);
	assert_int_equal(olen, 0x54);
	assert_int_equal(out[0], 3);
	assert_int_equal(out[1], 2);
	assert_int_equal(cx_rd_le16(out + 4), 0xf);
	assert_int_equal(cx_rd_le16(out + 8), 0x3);
	assert_int_equal(out[0x0a], 0x3);
	assert_int_equal(cx_rd_le64(out + 0x0c), 2);
	assert_int_equal(cx_rd_le64(out + 0x14), 0x1fe00000);
	assert_int_equal(cx_rd_le64(out + 0x1c), 0x1fe00000);
	assert_int_equal(cx_rd_le64(out + 0x24), 0);

	/* 5601h for host ID 2, both regions */
	memset(in, 0, sizeof(in));
	cx_wr_le16(in, 2);
	in[2] = 8;
	assert_int_equal(fm(w->m[0], CX_FM_GET_HOST_DC_REGION_CONFIG, in, 4,
			    NULL), 0);
	assert_int_equal(olen, 4 + 2 * 0x28 + 16);
	assert_int_equal(cx_rd_le16(out), 2);
	assert_int_equal(out[2], 2);
	assert_int_equal(out[3], 2);
	const uint8_t *p = out + 4 + 0x28;
	assert_int_equal(cx_rd_le64(p + 0), 256 * MiB);
	assert_int_equal(cx_rd_le64(p + 8), 1);
	assert_int_equal(cx_rd_le64(p + 0x10), 256 * MiB);
	assert_int_equal(cx_rd_le64(p + 0x18), 2 * MiB);
	assert_int_equal(p[0x20], CX_DSMAS_DYNAMIC_CAP | CX_DSMAS_SHAREABLE);
	assert_int_equal(p[0x24], 0);
	assert_int_equal(cx_rd_le32(out + 4 + 2 * 0x28), 512);
	cx_wr_le16(in, 3);
	assert_int_equal(fm(w->m[0], CX_FM_GET_HOST_DC_REGION_CONFIG, in, 4,
			    NULL), CX_RC_INVALID_INPUT);

	/* the CDAT: a DSMAS per DC region, dynamic and shareable */
	uint8_t cdat[1024];
	size_t clen;
	assert_int_equal(cx_cdat_build(w->m[1], cdat, sizeof(cdat), &clen,
				       &w->e), 0);
	assert_int_equal(clen, 16 + 2 * (24 + 4 * 24 + 24));
	assert_int_equal(cdat[16], CX_CDAT_DSMAS);
	assert_int_equal(cdat[16 + 4], 2);
	assert_int_equal(cdat[16 + 5], CX_DSMAS_DYNAMIC_CAP |
			 CX_DSMAS_SHAREABLE);
	assert_int_equal(cx_rd_le64(cdat + 16 + 0x10), 256 * MiB);
	assert_int_equal(cx_cdat_sum(cdat, clen), 0);
}

/* The pooling story: private extents, one tagged extent shared by two
 * hosts, a release and a reissue, zeroed. */
static void test_shared_tag_and_reissue(void **state)
{
	struct world *w = *state;
	uint8_t req[512], rsp[512], recs[32][128];
	char why[CX_FM_WHY_MAX];
	static const uint8_t tag[16] = { 0xaa, 0xbb, 0xcc, 0xdd, 0, 0, 0x40,
					 0, 0x80, 0, 0, 0, 0, 0, 0, 1 };

	/* host1 and host2: 4 MiB private each, free policy */
	for (int h = 0; h < 2; h++) {
		size_t n = add_req(req, h, CX_FM_SEL_FREE, 0, 4 * MiB, NULL, 0,
				   NULL);
		assert_int_equal(fm(w->m[0], CX_FM_INITIATE_DC_ADD, req, n,
				    why), 0);
		assert_int_equal(dc_records(w->m[h], recs), 1);
		assert_int_equal(cx_rd_le16(recs[0] + 0x32), h);
		uint64_t e[1][2] = { { cx_rd_le64(recs[0] + 0x38),
				       cx_rd_le64(recs[0] + 0x40) } };
		assert_int_equal(e[0][0], (uint64_t)h * 4 * MiB);
		n = upd_req(rsp, false, 1, e);
		assert_int_equal(host_run(w->m[h], CX_OP_ADD_DC_RESPONSE, rsp,
					  n), 0);
		clear_dc_records(w->m[h]);
	}
	/* the shared one: region 1, tagged, to host1 */
	size_t n = add_req(req, 0, CX_FM_SEL_CONTIGUOUS, 1, 4 * MiB, tag, 0,
			   NULL);
	assert_int_equal(fm(w->m[0], CX_FM_INITIATE_DC_ADD, req, n, why), 0);
	assert_int_equal(dc_records(w->m[0], recs), 1);
	assert_memory_equal(recs[0] + 0x48, tag, 16);
	assert_int_equal(cx_rd_le16(recs[0] + 0x58), 0);  /* sequence 0 */
	assert_int_equal(cx_rd_le32(recs[0] + 0x7c), 63); /* tags left */
	uint64_t sh[1][2] = { { cx_rd_le64(recs[0] + 0x38), 4 * MiB } };
	assert_int_equal(sh[0][0], 256 * MiB);
	n = upd_req(rsp, false, 1, sh);
	assert_int_equal(host_run(w->m[0], CX_OP_ADD_DC_RESPONSE, rsp, n), 0);
	clear_dc_records(w->m[0]);
	/* a new allocation may not reuse the tag */
	n = add_req(req, 1, CX_FM_SEL_FREE, 1, 2 * MiB, tag, 0, NULL);
	assert_int_equal(fm(w->m[0], CX_FM_INITIATE_DC_ADD, req, n, why),
			 CX_RC_INVALID_INPUT);
	assert_non_null(strstr(why, "already in use"));
	/* a tag that does not exist */
	static const uint8_t nosuch[16] = { 9 };
	n = add_req(req, 1, CX_FM_SEL_SHARED, 1, 0, nosuch, 0, NULL);
	assert_int_equal(fm(w->m[0], CX_FM_INITIATE_DC_ADD, req, n, why),
			 CX_RC_INVALID_INPUT);
	assert_non_null(strstr(why, "does not exist"));
	/* the same tag in the wrong region */
	n = add_req(req, 1, CX_FM_SEL_SHARED, 0, 0, tag, 0, NULL);
	assert_int_equal(fm(w->m[0], CX_FM_INITIATE_DC_ADD, req, n, why),
			 CX_RC_INVALID_INPUT);
	/* host2 gets it: the same DPA, tag and sequence */
	n = add_req(req, 1, CX_FM_SEL_SHARED, 1, 0, tag, 0, NULL);
	assert_int_equal(fm(w->m[0], CX_FM_INITIATE_DC_ADD, req, n, why), 0);
	assert_int_equal(dc_records(w->m[1], recs), 1);
	assert_int_equal(cx_rd_le64(recs[0] + 0x38), sh[0][0]);
	assert_memory_equal(recs[0] + 0x48, tag, 16);
	assert_int_equal(host_run(w->m[1], CX_OP_ADD_DC_RESPONSE, rsp,
				  upd_req(rsp, false, 1, sh)), 0);
	clear_dc_records(w->m[1]);
	/* ... and not twice */
	assert_int_equal(fm(w->m[0], CX_FM_INITIATE_DC_ADD, req, n, why),
			 CX_RC_INVALID_INPUT);
	/* prescriptive cannot take a shared block either */
	n = add_req(req, 2, CX_FM_SEL_PRESCRIPTIVE, 1, 0, NULL, 1, sh);
	assert_int_equal(fm(w->m[0], CX_FM_INITIATE_DC_ADD, req, n, why),
			 CX_RC_INVALID_EXTENT_LIST);

	/* host1 writes, host2 reads: one media */
	cx_err e;
	assert_int_equal(cx_mbox_access_check(w->m[1], sh[0][0], 64, false,
					      NULL, &e), 0);
	assert_int_equal(cx_media_write(w->m[0]->dc, sh[0][0], "pooled", 6,
					NULL), 0);
	char buf[6];
	assert_int_equal(cx_media_read(w->m[1]->dc, sh[0][0], buf, 6, NULL),
			 0);
	assert_memory_equal(buf, "pooled", 6);

	/* 5603h: host2 holds its private extent and the shared one */
	uint8_t in[12] = { 0 };
	cx_wr_le16(in, 1);
	cx_wr_le32(in + 4, 16);
	assert_int_equal(fm(w->m[0], CX_FM_GET_DC_REGION_EXTENT_LISTS, in, 12,
			    NULL), 0);
	assert_int_equal(olen, 0x18 + 2 * 0x28);
	assert_int_equal(cx_rd_le16(out), 1);
	assert_int_equal(cx_rd_le32(out + 4), 0);
	assert_int_equal(cx_rd_le32(out + 8), 2);
	assert_int_equal(cx_rd_le32(out + 12), 2);
	assert_int_equal(cx_rd_le32(out + 16), 2);
	assert_int_equal(cx_rd_le64(out + 0x18), 4 * MiB);
	assert_int_equal(cx_rd_le64(out + 0x18 + 0x28), sh[0][0]);
	assert_memory_equal(out + 0x18 + 0x28 + 0x10, tag, 16);
	cx_wr_le32(in + 8, 3);
	assert_int_equal(fm(w->m[0], CX_FM_GET_DC_REGION_EXTENT_LISTS, in, 12,
			    NULL), CX_RC_INVALID_INPUT);

	/* host1 lets the shared extent go (tag-based, forced): host2 still
	 * holds it, so the data stays */
	n = add_req(req, 0, CX_FM_REL_TAG | CX_IDC_FORCED, 0, 0, tag, 0, NULL);
	assert_int_equal(fm(w->m[0], CX_FM_INITIATE_DC_RELEASE, req, n, why),
			 0);
	assert_int_equal(cx_media_read(w->m[1]->dc, sh[0][0], buf, 6, NULL),
			 0);
	assert_memory_equal(buf, "pooled", 6);
	assert_int_equal(cx_mbox_access_check(w->m[0], sh[0][0], 64, false,
					      NULL, &e), -ENXIO);
	/* host2 too: now nobody holds it, zeroed */
	n = add_req(req, 1, CX_FM_REL_TAG | CX_IDC_FORCED, 0, 0, tag, 0, NULL);
	assert_int_equal(fm(w->m[0], CX_FM_INITIATE_DC_RELEASE, req, n, why),
			 0);
	assert_int_equal(cx_media_read(w->m[1]->dc, sh[0][0], buf, 6, NULL),
			 0);
	assert_memory_equal(buf, "\0\0\0\0\0\0", 6);

	/* host1's private extent to host3, zeroed */
	assert_int_equal(cx_media_write(w->m[0]->dc, 0, "host1!", 6, NULL), 0);
	static const uint64_t p1[1][2] = { { 0, 4 * MiB } };
	n = add_req(req, 0, CX_FM_REL_PRESCRIPTIVE, 0, 0, NULL, 1, p1);
	assert_int_equal(fm(w->m[0], CX_FM_INITIATE_DC_RELEASE, req, n, why),
			 0);
	/* still host1's until it answers: host3 cannot have it */
	n = add_req(req, 2, CX_FM_SEL_PRESCRIPTIVE, 0, 0, NULL, 1, p1);
	assert_int_equal(fm(w->m[0], CX_FM_INITIATE_DC_ADD, req, n, why),
			 CX_RC_INVALID_EXTENT_LIST);
	assert_int_equal(host_run(w->m[0], CX_OP_RELEASE_DC, rsp,
				  upd_req(rsp, false, 1, p1)), 0);
	assert_int_equal(fm(w->m[0], CX_FM_INITIATE_DC_ADD, req, n, why), 0);
	assert_int_equal(host_run(w->m[2], CX_OP_ADD_DC_RESPONSE, rsp,
				  upd_req(rsp, false, 1, p1)), 0);
	assert_int_equal(cx_media_read(w->m[2]->dc, 0, buf, 6, NULL), 0);
	assert_memory_equal(buf, "\0\0\0\0\0\0", 6);
}

static void test_set_region_config(void **state)
{
	struct world *w = *state;
	uint8_t in[16] = { 0 }, req[512], recs[32][128];
	char why[CX_FM_WHY_MAX];

	for (int i = 0; i < 3; i++)
		clear_dc_records(w->m[i]);
	/* region 1 to 16 MiB blocks, sanitize on release */
	in[0] = 1;
	cx_wr_le64(in + 4, 16 * MiB);
	in[0x0c] = 1;
	assert_int_equal(fm(w->m[0], CX_FM_SET_DC_REGION_CONFIG, in, 16, why),
			 0);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(dc_records(w->m[i], recs), 1);
		assert_int_equal(recs[0][0x30], CX_DCEV_REGION_CONFIG_UPDATED);
		assert_int_equal(recs[0][0x34], 1);
		clear_dc_records(w->m[i]);
	}
	uint8_t g[2] = { 1, 1 };
	assert_int_equal(host_run(w->m[2], CX_OP_GET_DC_CONFIG, g, 2), 0);
	assert_int_equal(cx_rd_le64(out + 8 + 0x18), 16 * MiB);
	assert_int_equal(out[8 + 0x24], 1);
	/* extents now go by 16 MiB in region 1 */
	size_t n = add_req(req, 2, CX_FM_SEL_FREE, 1, 2 * MiB, NULL, 0, NULL);
	assert_int_equal(fm(w->m[0], CX_FM_INITIATE_DC_ADD, req, n, why),
			 CX_RC_INVALID_INPUT);
	n = add_req(req, 2, CX_FM_SEL_FREE, 1, 16 * MiB, NULL, 0, NULL);
	assert_int_equal(fm(w->m[0], CX_FM_INITIATE_DC_ADD, req, n, why), 0);
	/* with capacity allocated, the block size stays */
	cx_wr_le64(in + 4, 2 * MiB);
	assert_int_equal(fm(w->m[0], CX_FM_SET_DC_REGION_CONFIG, in, 16, why),
			 CX_RC_UNSUPPORTED);
	/* sizes the device does not support, regions it does not have */
	in[0] = 0;
	cx_wr_le64(in + 4, 4096);
	assert_int_equal(fm(w->m[0], CX_FM_SET_DC_REGION_CONFIG, in, 16, why),
			 CX_RC_INVALID_INPUT);
	cx_wr_le64(in + 4, 3 * MiB);
	assert_int_equal(fm(w->m[0], CX_FM_SET_DC_REGION_CONFIG, in, 16, why),
			 CX_RC_INVALID_INPUT);
	in[0] = 2;
	cx_wr_le64(in + 4, 2 * MiB);
	assert_int_equal(fm(w->m[0], CX_FM_SET_DC_REGION_CONFIG, in, 16, why),
			 CX_RC_INVALID_INPUT);
	in[0] = 0;
	in[0x0c] = 2;
	assert_int_equal(fm(w->m[0], CX_FM_SET_DC_REGION_CONFIG, in, 16, why),
			 CX_RC_INVALID_INPUT);
}

/* ---- the CCI message codec and a whole FM message ---- */

static void test_cci_codec(void **state)
{
	struct world *w = *state;
	uint8_t req[64], rsp[CX_CCI_HDR_LEN + CX_FM_PAYLOAD_MAX];
	char why[CX_FM_WHY_MAX];
	struct cx_cci_msg msg = { .category = CX_CCI_REQUEST, .tag = 0x5a,
				  .opcode = CX_FM_GET_MHD_INFO };
	static const uint8_t pl[2] = { 0, 8 };
	msg.payload = pl;
	msg.len = 2;

	assert_int_equal(cx_cci_encode(&msg, req, sizeof(req)), 14);
	static const uint8_t hdr[14] = { 0x00, 0x5a, 0x00, 0x00, 0x55, 0x02,
		0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x08 };
	assert_memory_equal(req, hdr, 14);
	assert_int_equal(cx_cci_encode(&msg, req, 13), 0);

	size_t n = cx_fm_message(w->m[0], req, 14, rsp, sizeof(rsp), NULL, why,
				 sizeof(why));
	assert_int_equal(n, 12 + 8 + 3);
	struct cx_cci_msg r;
	assert_int_equal(cx_cci_decode(rsp, n, &r), CX_CCI_OK);
	assert_int_equal(r.category, CX_CCI_RESPONSE);
	assert_int_equal(r.tag, 0x5a);
	assert_int_equal(r.opcode, 0x5500);
	assert_int_equal(r.rc, 0);
	assert_int_equal(r.len, 11);
	assert_int_equal(rsp[12 + 1], 3);
	/* background operation bit and vendor status survive a round trip */
	msg.bo = true;
	msg.vendor = 0x1234;
	msg.rc = 6;
	assert_int_equal(cx_cci_encode(&msg, req, sizeof(req)), 14);
	assert_int_equal(req[7], 0x80);
	assert_int_equal(cx_cci_decode(req, 14, &r), CX_CCI_OK);
	assert_true(r.bo);
	assert_int_equal(r.vendor, 0x1234);
	assert_int_equal(r.rc, 6);
	msg.bo = false;
	msg.vendor = 0;
	msg.rc = 0;

	/* malformed: truncated, wrong length, a response, unknown opcode */
	assert_int_equal(cx_cci_decode(req, 11, &r), CX_CCI_TRUNCATED);
	n = cx_fm_message(w->m[0], req, 5, rsp, sizeof(rsp), NULL, why,
			  sizeof(why));
	assert_int_equal(n, 12);
	assert_int_equal(cx_rd_le16(rsp + CX_CCI_RC),
			 CX_RC_INVALID_PAYLOAD_LENGTH);
	assert_int_equal(rsp[CX_CCI_TAG], 0x5a);
	assert_non_null(strstr(why, "truncated"));
	cx_cci_encode(&msg, req, sizeof(req));
	assert_int_equal(cx_cci_decode(req, 15, &r), CX_CCI_BAD_LENGTH);
	n = cx_fm_message(w->m[0], req, 13, rsp, sizeof(rsp), NULL, why,
			  sizeof(why));
	assert_int_equal(cx_rd_le16(rsp + CX_CCI_RC),
			 CX_RC_INVALID_PAYLOAD_LENGTH);
	assert_int_equal(cx_rd_le16(rsp + CX_CCI_OPCODE), 0x5500);
	req[0] = CX_CCI_RESPONSE;
	n = cx_fm_message(w->m[0], req, 14, rsp, sizeof(rsp), NULL, why,
			  sizeof(why));
	assert_int_equal(cx_rd_le16(rsp + CX_CCI_RC), CX_RC_INVALID_INPUT);
	req[0] = 0x10;
	assert_int_equal(cx_cci_decode(req, 14, &r), CX_CCI_BAD_CATEGORY);
	req[0] = 0;
	cx_wr_le16(req + CX_CCI_OPCODE, 0x5700);
	n = cx_fm_message(w->m[0], req, 14, rsp, sizeof(rsp), NULL, why,
			  sizeof(why));
	assert_int_equal(n, 12);
	assert_int_equal(cx_rd_le16(rsp + CX_CCI_RC), CX_RC_UNSUPPORTED);
	assert_non_null(strstr(why, "5700h"));
	/* a command with the wrong input length */
	cx_wr_le16(req + CX_CCI_OPCODE, CX_FM_IDENTIFY);
	n = cx_fm_message(w->m[0], req, 14, rsp, sizeof(rsp), NULL, why,
			  sizeof(why));
	assert_int_equal(cx_rd_le16(rsp + CX_CCI_RC),
			 CX_RC_INVALID_PAYLOAD_LENGTH);
	assert_non_null(strstr(why, "Identify (0001h) takes 0 bytes"));
}

/* The MCTP-style frame: endpoint id and message type, then the CCI
 * message; every malformed frame gets an answer that says why. */
static void test_frames(void **state)
{
	struct world *w = *state;
	uint8_t req[64], rsp[CX_FM_FRAME_MAX];
	char why[CX_FM_WHY_MAX];
	struct cx_cci_msg msg = { .category = CX_CCI_REQUEST, .tag = 7,
				  .opcode = CX_FM_IDENTIFY };

	req[0] = CX_FM_EID_BASE;
	req[1] = CX_MCTP_TYPE_FMAPI;
	assert_int_equal(cx_cci_encode(&msg, req + 2, sizeof(req) - 2), 12);
	size_t n = cx_fm_frame(w->f, req, 14, rsp, sizeof(rsp), NULL, why,
			       sizeof(why));
	assert_int_equal(n, 2 + 12 + 0x12);
	assert_int_equal(rsp[0], CX_FM_EID_BASE);
	assert_int_equal(rsp[1], 7);
	assert_int_equal(rsp[2], CX_CCI_RESPONSE);
	assert_int_equal(rsp[3], 7);
	assert_int_equal(cx_rd_le16(rsp + 2 + CX_CCI_RC), 0);
	assert_int_equal(cx_rd_le24(rsp + 2 + CX_CCI_PL_LEN), 0x12);
	assert_int_equal(cx_rd_le16(rsp + 14), 0x8086);

	/* an endpoint the fabric does not have (one device: EID 8 only) */
	req[0] = CX_FM_EID_BASE + 1;
	n = cx_fm_frame(w->f, req, 14, rsp, sizeof(rsp), NULL, why,
			sizeof(why));
	assert_int_equal(n, 14);
	assert_int_equal(rsp[0], CX_FM_EID_BASE + 1);
	assert_int_equal(cx_rd_le16(rsp + 2 + CX_CCI_RC), CX_RC_INVALID_INPUT);
	assert_non_null(strstr(why, "endpoint id 9"));
	/* a Type 3 CCI message (8h) is not what this endpoint speaks */
	req[0] = CX_FM_EID_BASE;
	req[1] = CX_MCTP_TYPE_CCI;
	n = cx_fm_frame(w->f, req, 14, rsp, sizeof(rsp), NULL, why,
			sizeof(why));
	assert_int_equal(cx_rd_le16(rsp + 2 + CX_CCI_RC),
			 CX_RC_UNSUPPORTED_MAILBOX);
	assert_int_equal(rsp[3], 7);   /* the tag, echoed */
	req[1] = 0x87;                 /* integrity check bit */
	n = cx_fm_frame(w->f, req, 14, rsp, sizeof(rsp), NULL, why,
			sizeof(why));
	assert_int_equal(cx_rd_le16(rsp + 2 + CX_CCI_RC),
			 CX_RC_UNSUPPORTED_MAILBOX);
	/* no prefix, no header */
	n = cx_fm_frame(w->f, req, 1, rsp, sizeof(rsp), NULL, why,
			sizeof(why));
	assert_int_equal(n, 14);
	assert_int_equal(cx_rd_le16(rsp + 2 + CX_CCI_RC),
			 CX_RC_INVALID_PAYLOAD_LENGTH);
	req[1] = CX_MCTP_TYPE_FMAPI;
	n = cx_fm_frame(w->f, req, 9, rsp, sizeof(rsp), NULL, why,
			sizeof(why));
	assert_int_equal(cx_rd_le16(rsp + 2 + CX_CCI_RC),
			 CX_RC_INVALID_PAYLOAD_LENGTH);
	assert_non_null(strstr(why, "truncated"));
	/* no room for an answer */
	assert_int_equal(cx_fm_frame(w->f, req, 14, rsp, 13, NULL, why,
				     sizeof(why)), 0);
}

/* The device tracks 512 extents over every head. */
static void test_extent_limit(void **state)
{
	struct mx *x = mx_new_dc(0, 0, 0, 2048 * MiB, 1, NULL);
	uint8_t req[CX_FM_PAYLOAD_MAX], rsp[CX_MBOX_PAYLOAD_MAX];
	static uint64_t e[30][2];
	char why[CX_FM_WHY_MAX];
	int added = 0;

	while (added + 30 <= 510) {
		for (int i = 0; i < 30; i++) {
			e[i][0] = (uint64_t)(added + i) * 2 * MiB;
			e[i][1] = 2 * MiB;
		}
		size_t n = add_req(req, 0, CX_FM_SEL_PRESCRIPTIVE, 0, 0, NULL,
				   30, e);
		assert_int_equal(fm(x->m, CX_FM_INITIATE_DC_ADD, req, n, why),
				 0);
		n = upd_req(rsp, false, 30, e);
		assert_int_equal(host_run(x->m, CX_OP_ADD_DC_RESPONSE, rsp, n),
				 0);
		clear_dc_records(x->m);
		added += 30;
	}
	/* 510 held: 3 more do not fit */
	for (int i = 0; i < 3; i++) {
		e[i][0] = (uint64_t)(added + i) * 2 * MiB;
		e[i][1] = 2 * MiB;
	}
	size_t n = add_req(req, 0, CX_FM_SEL_PRESCRIPTIVE, 0, 0, NULL, 3, e);
	assert_int_equal(fm(x->m, CX_FM_INITIATE_DC_ADD, req, n, why),
			 CX_RC_RESOURCES_EXHAUSTED);
	assert_non_null(strstr(why, "512"));
	uint8_t g[2] = { 1, 0 };
	assert_int_equal(host_run(x->m, CX_OP_GET_DC_CONFIG, g, 2), 0);
	assert_int_equal(cx_rd_le32(out + 8 + 0x28 + 4), 2);
	n = add_req(req, 0, CX_FM_SEL_PRESCRIPTIVE, 0, 0, NULL, 2, e);
	assert_int_equal(fm(x->m, CX_FM_INITIATE_DC_ADD, req, n, why), 0);
	/* the Get Extent List output holds at most 50 extents */
	uint8_t gel[8] = { 0 };
	cx_wr_le32(gel, 1000);
	assert_int_equal(host_run(x->m, CX_OP_GET_DC_EXTENT_LIST, gel, 8), 0);
	assert_int_equal(cx_rd_le32(out), 50);
	assert_int_equal(cx_rd_le32(out + 4), 510);
	assert_int_equal(olen, 16 + 50 * 0x28);
	mx_free(x);
}

/* ---- the host's driver (dcd_host.c) ---- */

static bool busy_flag;
static bool busy(void *ctx, struct cx_memdev *m, uint64_t dpa, uint64_t len,
		 char *why, size_t wl)
{
	snprintf(why, wl, "mapped");
	return busy_flag;
}

static void test_host_driver(void **state)
{
	struct world *w = *state;
	struct cx_dcd_host_result res;
	uint8_t req[512];
	char why[CX_FM_WHY_MAX], buf[32];
	cx_err e;
	const uint64_t two[2][2] = { { 0, BLK }, { 4 * MiB, BLK } };

	/* a chain of two records; the driver accepts it whole and clears
	 * the log */
	size_t n = add_req(req, 0, CX_FM_SEL_PRESCRIPTIVE, 0, 0, NULL, 2, two);
	assert_int_equal(fm(w->m[0], CX_FM_INITIATE_DC_ADD, req, n, why), 0);
	assert_int_equal(dc_records(w->m[0], NULL), 2);
	assert_int_equal(cx_dcd_host_service(w->m[0], true, NULL, NULL, &res,
					     &e), 0);
	assert_int_equal(res.nadded, 2);
	assert_int_equal(res.added[1].dpa, 4 * MiB);
	cx_dcd_host_result_free(&res);
	assert_int_equal(dc_records(w->m[0], NULL), 0);
	/* host1 reaches its bytes, host2 does not */
	assert_int_equal(cx_dcd_write(w->m[0], 4 * MiB, "secret", 6, &e), 0);
	assert_int_equal(cx_dcd_read(w->m[0], 4 * MiB, buf, 6, &e), 0);
	assert_memory_equal(buf, "secret", 6);
	assert_int_equal(cx_dcd_read(w->m[1], 4 * MiB, buf, 6, &e), -ENXIO);
	assert_non_null(strstr(e.msg, "has not accepted"));
	/* across an extent boundary into capacity it does not hold */
	assert_int_equal(cx_dcd_read(w->m[0], BLK - 4, buf, 8, &e), -ENXIO);
	/* outside the dynamic capacity */
	assert_int_equal(cx_dcd_read(w->m[0], 512 * MiB - 4, buf, 8, &e),
			 -ERANGE);

	/* rejected: nothing held, the block free for another host */
	const uint64_t one_ext[1][2] = { { 8 * MiB, BLK } };
	n = add_req(req, 0, CX_FM_SEL_PRESCRIPTIVE, 0, 0, NULL, 1, one_ext);
	assert_int_equal(fm(w->m[0], CX_FM_INITIATE_DC_ADD, req, n, why), 0);
	assert_int_equal(cx_dcd_host_service(w->m[0], false, NULL, NULL, &res,
					     &e), 0);
	assert_int_equal(res.nrejected, 1);
	assert_int_equal(res.nadded, 0);
	cx_dcd_host_result_free(&res);
	n = add_req(req, 1, CX_FM_SEL_PRESCRIPTIVE, 0, 0, NULL, 1, one_ext);
	assert_int_equal(fm(w->m[0], CX_FM_INITIATE_DC_ADD, req, n, why), 0);
	assert_int_equal(cx_dcd_host_service(w->m[1], true, NULL, NULL, &res,
					     &e), 0);
	cx_dcd_host_result_free(&res);

	/* a release the host still uses waits, its record kept */
	const uint64_t rel[1][2] = { { 4 * MiB, BLK } };
	n = add_req(req, 0, CX_FM_REL_PRESCRIPTIVE, 0, 0, NULL, 1, rel);
	assert_int_equal(fm(w->m[0], CX_FM_INITIATE_DC_RELEASE, req, n, why),
			 0);
	busy_flag = true;
	assert_int_equal(cx_dcd_host_service(w->m[0], true, busy, NULL, &res,
					     &e), 0);
	assert_int_equal(res.nreleased, 0);
	cx_dcd_host_result_free(&res);
	assert_int_equal(dc_records(w->m[0], NULL), 1);
	assert_int_equal(cx_dcd_read(w->m[0], 4 * MiB, buf, 6, &e), 0);
	/* no longer in use: given back, unreachable, zeroed for host3 */
	busy_flag = false;
	assert_int_equal(cx_dcd_host_service(w->m[0], true, busy, NULL, &res,
					     &e), 0);
	assert_int_equal(res.nreleased, 1);
	cx_dcd_host_result_free(&res);
	assert_int_equal(dc_records(w->m[0], NULL), 0);
	assert_int_equal(cx_dcd_read(w->m[0], 4 * MiB, buf, 6, &e), -ENXIO);
	n = add_req(req, 2, CX_FM_SEL_PRESCRIPTIVE, 0, 0, NULL, 1, rel);
	assert_int_equal(fm(w->m[0], CX_FM_INITIATE_DC_ADD, req, n, why), 0);
	assert_int_equal(cx_dcd_host_service(w->m[2], true, NULL, NULL, &res,
					     &e), 0);
	cx_dcd_host_result_free(&res);
	memset(buf, 0x55, sizeof(buf));
	assert_int_equal(cx_dcd_read(w->m[2], 4 * MiB, buf, 6, &e), 0);
	assert_memory_equal(buf, "\0\0\0\0\0\0", 6);

	/* forced: taken at once, the driver only notes it */
	n = add_req(req, 0, CX_FM_REL_PRESCRIPTIVE | CX_IDC_FORCED, 0, 0,
		    NULL, 1, two);
	assert_int_equal(fm(w->m[0], CX_FM_INITIATE_DC_RELEASE, req, n, why),
			 0);
	assert_int_equal(cx_dcd_read(w->m[0], 0, buf, 1, &e), -ENXIO);
	assert_int_equal(cx_dcd_host_service(w->m[0], true, NULL, NULL, &res,
					     &e), 0);
	assert_int_equal(res.nforced, 1);
	cx_dcd_host_result_free(&res);
	/* a memdev without dynamic capacity */
	struct mx *x = mx_new_dc(256 * MiB, 0, 0, 0, 0, NULL);
	assert_int_equal(cx_dcd_host_service(x->m, true, NULL, NULL, &res,
					     &e), -EINVAL);
	mx_free(x);
}

/* ---- a dynamic_ram_a region over DC region 0 ---- */

static int dc_region(struct mx *x, int ways, uint64_t size,
		     struct cx_region **r, cx_err *e)
{
	struct cx_region_req q = { .root = "decoder0.0", .mode = CX_MODE_DC,
				   .ways = ways, .size = size,
				   .memdevs = { "mem0" }, .nmemdevs = 1 };
	return cx_region_create(x->h, &q, r, e);
}

static void accept_all(struct cx_memdev *m)
{
	struct cx_dcd_host_result res;
	cx_err e;
	assert_int_equal(cx_dcd_host_service(m, true, NULL, NULL, &res, &e), 0);
	cx_dcd_host_result_free(&res);
}

static void test_dc_region(void **state)
{
	/* 256 MiB volatile, then DC regions 0 (DPA 256 MiB) and 1 */
	struct mx *x = one();
	struct cx_region *r = NULL;
	struct cx_route rt;
	struct cx_dcd_dax *v;
	uint8_t req[512];
	char why[CX_FM_WHY_MAX], buf[16];
	cx_err e;
	static const uint8_t tag[16] = { 0x11, 0x22, 0x33, 0x44, 0, 0, 0x40,
					 0, 0x80, 0, 0, 0, 0, 0, 0, 7 };

	/* the refusals: more ways, more than DC region 0, no DC at all */
	assert_int_equal(dc_region(x, 2, 0, &r, &e), -EINVAL);
	assert_non_null(strstr(e.msg, "1 way, not 2"));
	assert_int_equal(dc_region(x, 0, 512 * MiB, &r, &e), -ENOSPC);
	assert_non_null(strstr(e.msg, "does not fit its dynamic_ram_a"));
	struct mx *nodc = mx_new_dc(256 * MiB, 0, 0, 0, 0, NULL);
	assert_int_equal(dc_region(nodc, 0, 0, &r, &e), -ENXIO);
	assert_non_null(strstr(e.msg, "no dynamic_ram_a capacity"));
	mx_free(nodc);

	/* the whole of DC region 0, its decoder's DPA in the DC partition */
	assert_int_equal(dc_region(x, 0, 0, &r, &e), 0);
	assert_int_equal(r->mode, CX_MODE_DC);
	assert_int_equal(r->size, 256 * MiB);
	struct cx_decoder *d = cx_region_dc_decoder(r);
	assert_non_null(d);
	assert_int_equal(d->mode, CX_MODE_DC);
	assert_int_equal(d->dpa_base, 256 * MiB);
	assert_false(r->dax_system_ram);
	assert_int_equal(cx_dax_reconfigure(r, true, &e), -EINVAL);
	/* nothing accepted: nothing reachable, nothing to map */
	assert_int_equal(cx_region_dc_check(r, 0, 1, &e), -ENXIO);
	assert_non_null(strstr(e.msg, "in no extent host host0 has accepted"));
	assert_int_equal(cx_region_read(r, 4 * MiB, buf, 4, &e), -ENXIO);
	assert_int_equal(cx_region_dc_dax(r, &v), 0);

	/* an untagged extent, two under a tag (one chain), and one in DC
	 * region 1, outside the region */
	static const uint64_t a[1][2] = { { 260 * MiB, BLK } };
	static const uint64_t t[2][2] = { { 270 * MiB, BLK },
					  { 264 * MiB, BLK } };
	static const uint64_t o[1][2] = { { 512 * MiB, BLK } };
	size_t n = add_req(req, 0, CX_FM_SEL_PRESCRIPTIVE, 0, 0, NULL, 1, a);
	assert_int_equal(fm(x->m, CX_FM_INITIATE_DC_ADD, req, n, why), 0);
	accept_all(x->m);
	n = add_req(req, 0, CX_FM_SEL_PRESCRIPTIVE, 0, 0, tag, 2, t);
	assert_int_equal(fm(x->m, CX_FM_INITIATE_DC_ADD, req, n, why), 0);
	accept_all(x->m);
	n = add_req(req, 0, CX_FM_SEL_PRESCRIPTIVE, 1, 0, NULL, 1, o);
	assert_int_equal(fm(x->m, CX_FM_INITIATE_DC_ADD, req, n, why), 0);
	accept_all(x->m);

	/* devices: one per untagged extent, one per tag (its extents in
	 * shared-sequence order); region 1's extent is the memdev's only */
	int k = cx_region_dc_dax(r, &v);
	assert_int_equal(k, 2);
	assert_false(v[0].tagged);
	assert_int_equal(v[0].size, BLK);
	assert_int_equal(v[0].ext[0].dpa, 260 * MiB);
	assert_true(v[1].tagged);
	assert_memory_equal(v[1].tag, tag, 16);
	assert_int_equal(v[1].n, 2);
	assert_int_equal(v[1].size, 2 * BLK);
	assert_true(v[1].ext[0].seq < v[1].ext[1].seq);
	assert_int_equal(v[1].ext[0].dpa, 270 * MiB);
	cx_dcd_dax_free(v, k);
	struct cx_dcd_dax *all;
	k = cx_dcd_dax_devices(x->m, &all);
	assert_int_equal(k, 3);
	cx_dcd_dax_free(all, k);

	/* HPA = region base + (DPA - decoder DPA base), on the DC media */
	assert_int_equal(cx_route_hpa(x->h, r->base + 4 * MiB, &rt, &e), 0);
	assert_int_equal(rt.dpa, 260 * MiB);
	assert_ptr_equal(rt.media, x->m->dc);
	assert_int_equal(rt.media_off, 4 * MiB);
	assert_int_equal(cx_region_write(r, 4 * MiB, "dcreg", 5, &e), 0);
	assert_int_equal(cx_dcd_read(x->m, 260 * MiB, buf, 5, &e), 0);
	assert_memory_equal(buf, "dcreg", 5);
	assert_int_equal(cx_region_dc_check(r, 4 * MiB, BLK, &e), 0);
	/* one byte past the extent, or across its start: refused */
	assert_int_equal(cx_region_dc_check(r, 6 * MiB, 1, &e), -ENXIO);
	assert_int_equal(cx_region_dc_check(r, 4 * MiB - 1, 2, &e), -ENXIO);
	assert_int_equal(cx_region_read(r, 6 * MiB, buf, 1, &e), -ENXIO);

	/* a forced release: the device goes, the bytes are unreachable */
	n = add_req(req, 0, CX_FM_REL_PRESCRIPTIVE | CX_IDC_FORCED, 0, 0,
		    NULL, 1, a);
	assert_int_equal(fm(x->m, CX_FM_INITIATE_DC_RELEASE, req, n, why), 0);
	accept_all(x->m);
	k = cx_region_dc_dax(r, &v);
	assert_int_equal(k, 1);
	assert_true(v[0].tagged);
	cx_dcd_dax_free(v, k);
	assert_int_equal(cx_region_read(r, 4 * MiB, buf, 5, &e), -ENXIO);
	assert_int_equal(cx_region_destroy(r, false, &e), 0);
	mx_free(x);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_get_dc_config_bytes),
		cmocka_unit_test(test_no_dc_no_commands),
		cmocka_unit_test(test_add_event_accept_list),
		cmocka_unit_test(test_bad_responses),
		cmocka_unit_test(test_more_and_split),
		cmocka_unit_test(test_fm_add_refusals),
		cmocka_unit_test(test_fm_release),
		cmocka_unit_test(test_extent_limit),
		cmocka_unit_test(test_dc_region),
		/* a fresh multi-headed device each */
		cmocka_unit_test_setup_teardown(test_heads, setup, teardown),
		cmocka_unit_test_setup_teardown(test_shared_tag_and_reissue,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_set_region_config, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_cci_codec, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_frames, setup, teardown),
		cmocka_unit_test_setup_teardown(test_host_driver, setup,
						teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
