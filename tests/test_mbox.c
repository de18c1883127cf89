/*
 * test_mbox.c - the memdev mailbox: dispatch rules (unknown opcode, exact
 * lengths, busy, media disabled) for every command, the Command Effects
 * Log, background operations and abort, identify and partitions against
 * the topology, LSA persistence, timestamps, firmware slots, health and
 * alerts, shutdown state, sanitize / secure erase / media operations, and
 * the security state machine.  Events, poison and CDAT: test_mbox_events.c.
 */
#include "test_mbox_fixture.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#define U (256 * MX_MiB)

static uint8_t out[CX_MBOX_PAYLOAD_MAX];
static size_t olen;

static char *tmpdir(void)
{
	char *d = strdup("/tmp/cxlemu-mbox-XXXXXX");
	assert_non_null(mkdtemp(d));
	return d;
}

static void rmdir_all(char *d)
{
	char cmd[256];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", d);
	assert_int_equal(system(cmd), 0);
	free(d);
}

/* Everything a host can read back, to prove a failed command changed
 * nothing. */
static size_t snapshot(struct mx *x, uint8_t *buf)
{
	static const uint16_t ops[] = {
		CX_OP_GET_FW_INFO, CX_OP_GET_TIMESTAMP, CX_OP_IDENTIFY_MEMDEV,
		CX_OP_GET_PARTITION_INFO, CX_OP_GET_HEALTH_INFO,
		CX_OP_GET_ALERT_CONFIG, CX_OP_GET_SHUTDOWN_STATE,
		CX_OP_GET_SECURITY_STATE, CX_OP_GET_EVENT_INT_POLICY,
	};
	size_t n = 0;
	for (size_t i = 0; i < CX_ARRAY_SIZE(ops); i++) {
		size_t l;
		assert_int_equal(mx_run(x, ops[i], NULL, 0, buf + n, &l), 0);
		n += l;
	}
	for (uint8_t log = 0; log < CX_EVLOG_COUNT; log++) {
		size_t l;
		assert_int_equal(mx_run(x, CX_OP_GET_EVENT_RECORDS, &log, 1,
					buf + n, &l), 0);
		n += l;
	}
	uint8_t gpl[16] = { 0 };
	cx_wr_le64(gpl + 8, cx_mbox_capacity(x->m) / 64);
	size_t l;
	assert_int_equal(mx_run(x, CX_OP_GET_POISON_LIST, gpl, 16, buf + n, &l),
			 0);
	n += l;
	uint8_t glsa[8] = { 0 };
	cx_wr_le32(glsa + 4, 2048);
	assert_int_equal(mx_run(x, CX_OP_GET_LSA, glsa, 8, buf + n, &l), 0);
	n += l;
	return n;
}

/* ---- dispatch ---- */

static void test_unknown_opcodes_are_unsupported(void **state)
{
	struct mx *x = mx_new(U, U, 128 << 10, NULL);
	/* 0001h Identify is not on a Type 3 primary mailbox; 4600h and
	 * ffffh do not exist; 4800h needs dynamic capacity */
	uint16_t ops[] = { 0x0000, 0x0001, 0x0003, 0x0500, 0x4600, 0x4800,
			   0xffff };
	for (size_t i = 0; i < CX_ARRAY_SIZE(ops); i++) {
		assert_int_equal(mx_run(x, ops[i], NULL, 0, out, &olen),
				 CX_RC_UNSUPPORTED);
		assert_int_equal(olen, 0);
	}
	assert_null(cx_mbox_opcode_name(0x4600));
	assert_string_equal(cx_mbox_opcode_name(0x4000),
			    "Identify Memory Device");
	mx_free(x);
}

/* Every command: one byte short, one byte long and an over-payload input
 * give Invalid Payload Length and change nothing. */
static void test_every_command_enforces_its_length(void **state)
{
	/* with dynamic capacity: every command of the table is there */
	struct mx *x = mx_new_dc(U, U, 128 << 10, U, 1, NULL);
	static uint8_t in[CX_MBOX_PAYLOAD_MAX + 1], a[8192], b[8192];
	const struct cx_mbox_cmd_info *t;
	int n = cx_mbox_commands(&t);

	assert_true(n >= 38);
	memset(in, 0x5a, sizeof(in));
	size_t sa = snapshot(x, a);
	for (int i = 0; i < n; i++) {
		uint16_t op = t[i].opcode;
		assert_int_equal(mx_run(x, op, in, CX_MBOX_PAYLOAD_MAX + 1, out,
					&olen), CX_RC_INVALID_PAYLOAD_LENGTH);
		if (t[i].in_len >= 0) {
			assert_int_equal(mx_run(x, op, in, (size_t)t[i].in_len + 1,
						out, &olen),
					 CX_RC_INVALID_PAYLOAD_LENGTH);
			if (t[i].in_len > 0)
				assert_int_equal(mx_run(x, op, in,
							(size_t)t[i].in_len - 1,
							out, &olen),
						 CX_RC_INVALID_PAYLOAD_LENGTH);
		}
	}
	/* variable commands: below their header */
	assert_int_equal(mx_run(x, CX_OP_CLEAR_EVENT_RECORDS, in, 5, out, &olen),
			 CX_RC_INVALID_PAYLOAD_LENGTH);
	assert_int_equal(mx_run(x, CX_OP_SET_EVENT_INT_POLICY, in, 3, out, &olen),
			 CX_RC_INVALID_PAYLOAD_LENGTH);
	assert_int_equal(mx_run(x, CX_OP_SET_EVENT_INT_POLICY, in, 6, out, &olen),
			 CX_RC_INVALID_PAYLOAD_LENGTH);
	assert_int_equal(mx_run(x, CX_OP_TRANSFER_FW, in, 0x7f, out, &olen),
			 CX_RC_INVALID_PAYLOAD_LENGTH);
	assert_int_equal(mx_run(x, CX_OP_SET_LSA, in, 7, out, &olen),
			 CX_RC_INVALID_PAYLOAD_LENGTH);
	assert_int_equal(mx_run(x, CX_OP_MEDIA_OPERATIONS, in, 7, out, &olen),
			 CX_RC_INVALID_PAYLOAD_LENGTH);
	size_t sb = snapshot(x, b);
	assert_int_equal(sa, sb);
	assert_memory_equal(a, b, sa);
	mx_free(x);
}

/* The table is the dispatcher's rule: a variable-length command's
 * shortest input, and which commands the media-disabled state refuses
 * (a background command meets Busy first while a sanitize runs). */
static void test_table_drives_dispatch(void **state)
{
	struct mx *x = mx_new_dc(U, U, 128 << 10, U, 1, NULL);
	static uint8_t in[CX_MBOX_PAYLOAD_MAX];
	const struct cx_mbox_cmd_info *t;
	int n = cx_mbox_commands(&t), nblk = 0;

	for (int i = 0; i < n; i++) {
		assert_non_null(t[i].handler);
		assert_string_equal(cx_mbox_opcode_name(t[i].opcode), t[i].name);
		if (t[i].in_len == CX_MBOX_VAR && t[i].in_min > 0)
			assert_int_equal(mx_run(x, t[i].opcode, in,
						(size_t)t[i].in_min - 1, out,
						&olen),
					 CX_RC_INVALID_PAYLOAD_LENGTH);
	}
	assert_int_equal(mx_run(x, CX_OP_SANITIZE, NULL, 0, out, &olen),
			 CX_RC_BG_STARTED);
	for (int i = 0; i < n; i++) {
		if (!(t[i].flags & CX_MBOX_F_BLOCK_DISABLED))
			continue;
		size_t len = (size_t)(t[i].in_len == CX_MBOX_VAR ? t[i].in_min
							      : t[i].in_len);
		assert_int_equal(mx_run(x, t[i].opcode, in, len, out, &olen),
				 t[i].effects & CX_EFFECT_BACKGROUND_OP ?
				 CX_RC_BUSY : CX_RC_MEDIA_DISABLED);
		nblk++;
	}
	assert_true(nblk >= 10);
	mx_free(x);
}

static void test_exec_api(void **state)
{
	struct mx *x = mx_new(U, 0, 0, NULL);
	uint16_t rc = 0;
	uint8_t small[4];
	size_t n = sizeof(small);

	/* output truncated to the caller's buffer, length is the full one */
	assert_int_equal(cx_mbox_exec(x->m, CX_OP_IDENTIFY_MEMDEV, NULL, 0,
				      small, &n, &rc), 0);
	assert_int_equal(rc, CX_RC_SUCCESS);
	assert_int_equal(n, CX_ID_OUT_LEN);
	assert_memory_equal(small, "BWFW", 4);
	/* a memdev without mailbox state */
	struct cx_mbox_state *st = x->m->mbox;
	x->m->mbox = NULL;
	n = sizeof(small);
	assert_int_equal(cx_mbox_exec(x->m, CX_OP_IDENTIFY_MEMDEV, NULL, 0,
				      small, &n, &rc), -EINVAL);
	assert_int_equal(n, 0);
	x->m->mbox = st;
	assert_string_equal(cx_mbox_rc_name(CX_RC_INVALID_PAYLOAD_LENGTH),
			    "invalid payload length");
	mx_free(x);
}

/* ---- logs / CEL ---- */

static void test_supported_logs_and_cel(void **state)
{
	struct mx *x = mx_new(U, U, 128 << 10, NULL);
	const struct cx_mbox_cmd_info *t;
	int all = cx_mbox_commands(&t), n = 0;

	/* without dynamic capacity the four 48xxh commands (the table's
	 * last rows) are not in the CEL */
	for (int i = 0; i < all; i++)
		if (cx_mbox_has_command(x->m, &t[i]))
			n++;
	assert_int_equal(n, all - 4);
	assert_int_equal(t[all - 4].opcode, CX_OP_GET_DC_CONFIG);

	assert_int_equal(mx_run(x, CX_OP_GET_SUPPORTED_LOGS, NULL, 0, out,
				&olen), 0);
	assert_int_equal(olen, 0x1c);
	assert_int_equal(cx_rd_le16(out), 1);
	static const uint8_t cel[16] = { 0x0d, 0xa9, 0xc0, 0xb5, 0xbf, 0x41,
		0x4b, 0x78, 0x8f, 0x79, 0x96, 0xb1, 0x62, 0x3b, 0x3f, 0x17 };
	assert_memory_equal(out + 8, cel, 16);
	assert_int_equal(cx_rd_le32(out + 24), 4 * n);

	uint8_t in[0x18] = { 0 };
	memcpy(in, cel, 16);
	cx_wr_le32(in + 0x14, (uint32_t)(4 * n));
	assert_int_equal(mx_run(x, CX_OP_GET_LOG, in, 0x18, out, &olen), 0);
	assert_int_equal(olen, 4 * n);
	bool saw_sanitize = false;
	for (int i = 0; i < n; i++) {
		assert_int_equal(cx_rd_le16(out + 4 * i), t[i].opcode);
		assert_int_equal(cx_rd_le16(out + 4 * i + 2), t[i].effects);
		if (t[i].opcode == CX_OP_SANITIZE) {
			saw_sanitize = true;
			assert_true(t[i].effects & CX_EFFECT_BACKGROUND_OP);
			assert_true(t[i].effects & CX_EFFECT_ABORT_SUPPORTED);
		}
	}
	assert_true(saw_sanitize);
	/* a window into the log: offset 6, 4 bytes */
	cx_wr_le32(in + 0x10, 6);
	cx_wr_le32(in + 0x14, 4);
	assert_int_equal(mx_run(x, CX_OP_GET_LOG, in, 0x18, out, &olen), 0);
	assert_int_equal(olen, 4);
	assert_int_equal(cx_rd_le16(out), t[1].effects);
	assert_int_equal(cx_rd_le16(out + 2), t[2].opcode);

	/* errors: past the end, longer than a payload, unknown log */
	cx_wr_le32(in + 0x10, (uint32_t)(4 * n - 2));
	assert_int_equal(mx_run(x, CX_OP_GET_LOG, in, 0x18, out, &olen),
			 CX_RC_INVALID_INPUT);
	cx_wr_le32(in + 0x10, 0);
	cx_wr_le32(in + 0x14, 4096);
	assert_int_equal(mx_run(x, CX_OP_GET_LOG, in, 0x18, out, &olen),
			 CX_RC_INVALID_INPUT);
	cx_wr_le32(in + 0x14, 4);
	in[0] ^= 1;
	assert_int_equal(mx_run(x, CX_OP_GET_LOG, in, 0x18, out, &olen),
			 CX_RC_INVALID_LOG);
	mx_free(x);
}

/* ---- identify and partitions ---- */

static void test_identify_matches_topology(void **state)
{
	struct mx *x = mx_new(U, 2 * U, 128 << 10, NULL);
	assert_int_equal(mx_run(x, CX_OP_IDENTIFY_MEMDEV, NULL, 0, out, &olen),
			 0);
	assert_int_equal(olen, 0x45);
	assert_memory_equal(out, "BWFW VERSION 0", 15);
	assert_int_equal(cx_rd_le64(out + 0x10), 3);     /* total */
	assert_int_equal(cx_rd_le64(out + 0x18), 1);     /* volatile only */
	assert_int_equal(cx_rd_le64(out + 0x20), 2);     /* persistent only */
	assert_int_equal(cx_rd_le64(out + 0x28), 0);     /* not partitionable */
	for (int i = 0; i < 4; i++)
		assert_int_equal(cx_rd_le16(out + 0x30 + 2 * i),
				 CX_EVLOG_CAPACITY);
	assert_int_equal(cx_rd_le32(out + 0x38), 128 << 10);
	assert_int_equal(cx_rd_le24(out + 0x3c), 256);
	assert_int_equal(cx_rd_le16(out + 0x3f), 0);
	assert_int_equal(cx_rd_le16(out + 0x43), CX_EVLOG_CAPACITY);
	mx_free(x);

	/* a persistent-only device is partitionable in 256 MiB steps */
	x = mx_new(0, 4 * U, 0, NULL);
	assert_int_equal(mx_run(x, CX_OP_IDENTIFY_MEMDEV, NULL, 0, out, &olen),
			 0);
	assert_int_equal(cx_rd_le64(out + 0x10), 4);
	assert_int_equal(cx_rd_le64(out + 0x18), 0);
	assert_int_equal(cx_rd_le64(out + 0x20), 0);
	assert_int_equal(cx_rd_le64(out + 0x28), 1);
	assert_int_equal(cx_rd_le32(out + 0x38), 0);
	mx_free(x);

	/* capacity that 256 MiB units cannot express: internal error */
	x = mx_new(16 * MX_MiB, 0, 0, NULL);
	assert_int_equal(mx_run(x, CX_OP_IDENTIFY_MEMDEV, NULL, 0, out, &olen),
			 CX_RC_INTERNAL);
	assert_int_equal(mx_run(x, CX_OP_GET_PARTITION_INFO, NULL, 0, out,
				&olen), CX_RC_INTERNAL);
	mx_free(x);
}

static void test_partition_info_matches_topology(void **state)
{
	struct mx *x = mx_new(2 * U, 3 * U, 0, NULL);
	assert_int_equal(mx_run(x, CX_OP_GET_PARTITION_INFO, NULL, 0, out,
				&olen), 0);
	assert_int_equal(olen, 0x20);
	assert_int_equal(cx_rd_le64(out + 0x00), 2);
	assert_int_equal(cx_rd_le64(out + 0x08), 3);
	assert_int_equal(cx_rd_le64(out + 0x10), 0);
	assert_int_equal(cx_rd_le64(out + 0x18), 0);
	/* nothing is partitionable here: only 0 is a valid volatile size */
	uint8_t in[10] = { 0 };
	cx_wr_le64(in, 1);
	assert_int_equal(mx_run(x, CX_OP_SET_PARTITION_INFO, in, 10, out, &olen),
			 CX_RC_INVALID_INPUT);
	cx_wr_le64(in, 0);
	assert_int_equal(mx_run(x, CX_OP_SET_PARTITION_INFO, in, 10, out, &olen),
			 0);
	assert_int_equal(mx_run(x, CX_OP_GET_PARTITION_INFO, NULL, 0, out,
				&olen), 0);
	assert_int_equal(cx_rd_le64(out + 0x10), 0);
	assert_int_equal(cx_rd_le64(out + 0x18), 0);
	mx_free(x);
}

static void test_set_partition_applies_at_restart(void **state)
{
	char *dir = tmpdir();
	struct mx *x = mx_new(0, 4 * U, 128 << 10, dir);
	uint8_t in[10] = { 0 };

	/* a byte at DPA 1 MiB: persistent now, volatile after the change */
	assert_int_equal(cx_dpa_write(x->m, MX_MiB, "P", 1, &x->err), 0);
	/* errors first: too large, immediate */
	cx_wr_le64(in, 5);
	assert_int_equal(mx_run(x, CX_OP_SET_PARTITION_INFO, in, 10, out, &olen),
			 CX_RC_INVALID_INPUT);
	cx_wr_le64(in, 1);
	in[8] = CX_SPI_FLAG_IMMEDIATE;
	assert_int_equal(mx_run(x, CX_OP_SET_PARTITION_INFO, in, 10, out, &olen),
			 CX_RC_INVALID_INPUT);
	assert_int_equal(mx_run(x, CX_OP_GET_PARTITION_INFO, NULL, 0, out,
				&olen), 0);
	assert_int_equal(cx_rd_le64(out + 0x10), 0);
	/* 1 x 256 MiB volatile from next start */
	in[8] = 0;
	assert_int_equal(mx_run(x, CX_OP_SET_PARTITION_INFO, in, 10, out, &olen),
			 0);
	assert_int_equal(mx_run(x, CX_OP_GET_PARTITION_INFO, NULL, 0, out,
				&olen), 0);
	assert_int_equal(cx_rd_le64(out + 0x00), 0);
	assert_int_equal(cx_rd_le64(out + 0x08), 4);
	assert_int_equal(cx_rd_le64(out + 0x10), 1);
	assert_int_equal(cx_rd_le64(out + 0x18), 3);
	assert_int_equal(x->m->vmem_size, 0);
	mx_free(x);

	x = mx_new(0, 4 * U, 128 << 10, dir);
	assert_int_equal(x->m->vmem_size, U);
	assert_int_equal(x->m->pmem_size, 3 * U);
	assert_non_null(x->m->vmem);
	assert_int_equal(mx_run(x, CX_OP_GET_PARTITION_INFO, NULL, 0, out,
				&olen), 0);
	assert_int_equal(cx_rd_le64(out + 0x00), 1);
	assert_int_equal(cx_rd_le64(out + 0x08), 3);
	assert_int_equal(cx_rd_le64(out + 0x10), 0);
	assert_int_equal(cx_rd_le64(out + 0x18), 0);
	assert_int_equal(mx_run(x, CX_OP_IDENTIFY_MEMDEV, NULL, 0, out, &olen),
			 0);
	assert_int_equal(cx_rd_le64(out + 0x10), 4);
	/* same bytes, now behind the volatile partition */
	char c = 0;
	assert_int_equal(cx_media_read(x->m->vmem, MX_MiB, &c, 1, &x->err), 0);
	assert_int_equal(c, 'P');
	/* back to all persistent */
	cx_wr_le64(in, 0);
	assert_int_equal(mx_run(x, CX_OP_SET_PARTITION_INFO, in, 10, out, &olen),
			 0);
	assert_int_equal(mx_run(x, CX_OP_GET_PARTITION_INFO, NULL, 0, out,
				&olen), 0);
	assert_int_equal(cx_rd_le64(out + 0x10), 0);
	assert_int_equal(cx_rd_le64(out + 0x18), 4);
	mx_free(x);
	x = mx_new(0, 4 * U, 128 << 10, dir);
	assert_int_equal(x->m->vmem_size, 0);
	assert_int_equal(x->m->pmem_size, 4 * U);
	mx_free(x);
	rmdir_all(dir);
}

/* ---- LSA ---- */

static uint16_t get_lsa(struct mx *x, uint32_t off, uint32_t len)
{
	uint8_t in[8];
	cx_wr_le32(in, off);
	cx_wr_le32(in + 4, len);
	return mx_run(x, CX_OP_GET_LSA, in, 8, out, &olen);
}

static uint16_t set_lsa(struct mx *x, uint32_t off, const void *data,
			size_t len)
{
	static uint8_t in[CX_MBOX_PAYLOAD_MAX];
	memset(in, 0, 8);
	cx_wr_le32(in, off);
	memcpy(in + 8, data, len);
	return mx_run(x, CX_OP_SET_LSA, in, 8 + len, out, &olen);
}

static void test_lsa_read_write_and_errors(void **state)
{
	struct mx *x = mx_new(U, 0, 4096, NULL);
	assert_int_equal(set_lsa(x, 100, "labels!", 7), 0);
	assert_int_equal(olen, 0);
	assert_int_equal(get_lsa(x, 98, 11), 0);
	assert_int_equal(olen, 11);
	assert_memory_equal(out, "\0\0labels!\0\0", 11);
	/* the bytes are in the lsa media */
	char c;
	assert_int_equal(cx_media_read(x->m->lsa, 100, &c, 1, &x->err), 0);
	assert_int_equal(c, 'l');
	/* the last byte is addressable, one past is not */
	assert_int_equal(set_lsa(x, 4095, "z", 1), 0);
	assert_int_equal(set_lsa(x, 4095, "zz", 2), CX_RC_INVALID_INPUT);
	assert_int_equal(set_lsa(x, 4096, "z", 1), CX_RC_INVALID_INPUT);
	assert_int_equal(set_lsa(x, 0xffffffffu, "z", 1), CX_RC_INVALID_INPUT);
	assert_int_equal(get_lsa(x, 4095, 1), 0);
	assert_int_equal(out[0], 'z');
	assert_int_equal(get_lsa(x, 4095, 2), CX_RC_INVALID_INPUT);
	assert_int_equal(get_lsa(x, 0xfffffff0u, 0x20), CX_RC_INVALID_INPUT);
	assert_int_equal(get_lsa(x, 0, 4096), CX_RC_INVALID_INPUT); /* > 2048 */
	assert_int_equal(get_lsa(x, 2048, 2048), 0);
	assert_int_equal(olen, 2048);
	assert_int_equal(out[2047], 'z');
	mx_free(x);

	/* no LSA at all */
	x = mx_new(U, 0, 0, NULL);
	assert_int_equal(get_lsa(x, 0, 1), CX_RC_INVALID_INPUT);
	assert_int_equal(set_lsa(x, 0, "a", 1), CX_RC_INVALID_INPUT);
	assert_int_equal(get_lsa(x, 0, 0), 0);
	assert_int_equal(olen, 0);
	mx_free(x);
}

static void test_labels_persist_across_restart(void **state)
{
	char *dir = tmpdir();
	uint8_t label[1024];
	for (size_t i = 0; i < sizeof(label); i++)
		label[i] = (uint8_t)(i * 7 + 3);

	struct mx *x = mx_new(0, U, 128 << 10, dir);
	assert_int_equal(set_lsa(x, 0x10000, label, sizeof(label)), 0);
	mx_free(x);

	x = mx_new(0, U, 128 << 10, dir);
	assert_int_equal(get_lsa(x, 0x10000, sizeof(label)), 0);
	assert_memory_equal(out, label, sizeof(label));
	mx_free(x);

	/* and the file itself holds them */
	char path[256];
	snprintf(path, sizeof(path), "%s/lsa.img", dir);
	int fd = open(path, O_RDONLY);
	assert_true(fd >= 0);
	uint8_t buf[1024];
	assert_int_equal(pread(fd, buf, sizeof(buf), 0x10000), sizeof(buf));
	close(fd);
	assert_memory_equal(buf, label, sizeof(label));
	rmdir_all(dir);
}

/* ---- timestamps ---- */

static void test_timestamp_advances(void **state)
{
	struct mx *x = mx_new(U, 0, 0, NULL);
	assert_int_equal(mx_run(x, CX_OP_GET_TIMESTAMP, NULL, 0, out, &olen), 0);
	assert_int_equal(olen, 8);
	assert_int_equal(cx_rd_le64(out), 0); /* never set */
	uint8_t in[8];
	cx_wr_le64(in, 1700000000000000000ULL);
	assert_int_equal(mx_run(x, CX_OP_SET_TIMESTAMP, in, 8, out, &olen), 0);
	assert_int_equal(olen, 0);
	x->now += 1234567;
	assert_int_equal(mx_run(x, CX_OP_GET_TIMESTAMP, NULL, 0, out, &olen), 0);
	assert_int_equal(cx_rd_le64(out), 1700000000000000000ULL + 1234567);
	mx_free(x);
}

/* ---- background operations ---- */

static void test_bg_status_and_abort(void **state)
{
	struct mx *x = mx_new(U, U, 4096, NULL);
	struct cx_mbox_timing t = { .sanitize_ms = 1000 };
	cx_mbox_set_timing(x->m, &t);

	/* idle: nothing to abort, status clear */
	assert_int_equal(mx_run(x, CX_OP_BG_OP_ABORT, NULL, 0, out, &olen), 0);
	assert_int_equal(mx_run(x, CX_OP_BG_OP_STATUS, NULL, 0, out, &olen), 0);
	assert_int_equal(olen, 8);
	assert_int_equal(out[0], 0);

	assert_int_equal(mx_run(x, CX_OP_SANITIZE, NULL, 0, out, &olen),
			 CX_RC_BG_STARTED);
	x->now += 500 * 1000000ULL;
	assert_int_equal(mx_run(x, CX_OP_BG_OP_STATUS, NULL, 0, out, &olen), 0);
	assert_int_equal(out[0] & 1, 1);
	assert_int_equal(out[0] >> 1, 50);
	assert_int_equal(cx_rd_le16(out + 2), CX_OP_SANITIZE);
	struct cx_mbox_status s;
	assert_int_equal(cx_mbox_status(x->m, &s), 0);
	assert_true(s.bg_running);
	assert_int_equal(s.bg_percent, 50);
	assert_int_equal(s.media_status, 3);
	/* a second background command is refused while one runs */
	uint8_t sm[17] = { 0 };
	cx_wr_le64(sm + 8, 1);
	assert_int_equal(mx_run(x, CX_OP_SCAN_MEDIA, sm, 17, out, &olen),
			 CX_RC_BUSY);
	assert_int_equal(mx_run(x, CX_OP_SANITIZE, NULL, 0, out, &olen),
			 CX_RC_BUSY);
	/* abort below 85 %: sanitize stops, the media stays disabled */
	assert_int_equal(mx_run(x, CX_OP_BG_OP_ABORT, NULL, 0, out, &olen), 0);
	assert_int_equal(mx_run(x, CX_OP_BG_OP_STATUS, NULL, 0, out, &olen), 0);
	assert_int_equal(out[0] & 1, 0);
	assert_int_equal(cx_rd_le16(out + 4), CX_RC_ABORTED);
	assert_int_equal(get_lsa(x, 0, 1), CX_RC_MEDIA_DISABLED);
	/* with nothing running, background commands that touch the media
	 * report the disabled media */
	uint8_t fw[0x81] = { CX_TFW_FULL, 2 };
	assert_int_equal(mx_run(x, CX_OP_TRANSFER_FW, fw, 0x81, out, &olen),
			 CX_RC_MEDIA_DISABLED);
	assert_int_equal(mx_run(x, CX_OP_SCAN_MEDIA, sm, 17, out, &olen),
			 CX_RC_MEDIA_DISABLED);
	uint8_t mz[8] = { CX_MOP_CLASS_SANITIZE, CX_MOP_SANITIZE_ZERO };
	assert_int_equal(mx_run(x, CX_OP_MEDIA_OPERATIONS, mz, 8, out, &olen),
			 CX_RC_MEDIA_DISABLED);
	/* a sanitize that completes brings the media back */
	assert_int_equal(mx_run(x, CX_OP_SANITIZE, NULL, 0, out, &olen),
			 CX_RC_BG_STARTED);
	x->now += 900 * 1000000ULL;
	/* at 90 % abort is no longer possible */
	assert_int_equal(mx_run(x, CX_OP_BG_OP_ABORT, NULL, 0, out, &olen),
			 CX_RC_ABORT_NOT_SUPPORTED);
	x->now += 100 * 1000000ULL;
	assert_int_equal(mx_run(x, CX_OP_BG_OP_STATUS, NULL, 0, out, &olen), 0);
	assert_int_equal(out[0], 100 << 1);
	assert_int_equal(cx_rd_le16(out + 4), CX_RC_SUCCESS);
	assert_int_equal(get_lsa(x, 0, 1), 0);
	assert_int_equal(cx_mbox_status(x->m, &s), 0);
	assert_true(s.sanitize_done);
	assert_int_equal(s.media_status, 1);

	/* media operations are background but not abortable */
	uint8_t mo[24] = { CX_MOP_CLASS_SANITIZE, CX_MOP_SANITIZE_ZERO };
	cx_wr_le32(mo + 4, 1);
	cx_wr_le64(mo + 16, 4096);
	assert_int_equal(mx_run(x, CX_OP_MEDIA_OPERATIONS, mo, 24, out, &olen),
			 CX_RC_BG_STARTED);
	assert_int_equal(mx_run(x, CX_OP_BG_OP_ABORT, NULL, 0, out, &olen),
			 CX_RC_ABORT_NOT_SUPPORTED);
	mx_finish_bg(x);
	mx_free(x);
}

/* ---- sanitize, secure erase, media operations ---- */

static bool all_zero(struct cx_media *md, uint64_t off, size_t len)
{
	uint8_t buf[4096];
	assert_true(len <= sizeof(buf));
	assert_int_equal(cx_media_read(md, off, buf, len, NULL), 0);
	for (size_t i = 0; i < len; i++)
		if (buf[i])
			return false;
	return true;
}

static void fill_media(struct mx *x)
{
	static const char junk[64] = "junk junk junk";
	assert_int_equal(cx_media_write(x->m->vmem, 4096, junk, 64, NULL), 0);
	assert_int_equal(cx_media_write(x->m->pmem, 8192, junk, 64, NULL), 0);
	assert_int_equal(cx_media_write(x->m->lsa, 0, junk, 64, NULL), 0);
}

static bool media_clean(struct mx *x)
{
	return all_zero(x->m->vmem, 4096, 64) &&
	       all_zero(x->m->pmem, 8192, 64) && all_zero(x->m->lsa, 0, 64);
}

static void test_sanitize_zeroes_media_lsa_and_events(void **state)
{
	struct mx *x = mx_new(U, U, 4096, NULL);
	struct cx_gm_event ev = {
		.media = { .log = CX_EVLOG_INFO, .dpa = 0x1000 },
	};
	uint64_t bad;
	cx_err e;

	fill_media(x);
	assert_int_equal(cx_inject_general_media(x->m, &ev, &x->err), 0);
	assert_int_equal(cx_inject_poison(x->m, 0x40000, 64, &x->err), 0);

	/* refused while a decoder is committed (Linux's rule) */
	cx_hdm_set_ctrl_bits(&x->m->decoders[0].regs, CX_HDM_CTRL_COMMITTED,
			     true);
	assert_int_equal(mx_run(x, CX_OP_SANITIZE, NULL, 0, out, &olen),
			 CX_RC_BUSY);
	assert_int_equal(mx_run(x, CX_OP_SECURE_ERASE, NULL, 0, out, &olen),
			 CX_RC_BUSY);
	cx_hdm_set_ctrl_bits(&x->m->decoders[0].regs, CX_HDM_CTRL_COMMITTED,
			     false);
	assert_false(media_clean(x));

	assert_int_equal(mx_run(x, CX_OP_SANITIZE, NULL, 0, out, &olen),
			 CX_RC_BG_STARTED);
	/* QEMU's duration for 512 MiB: 4 s */
	x->now += 3999ULL * 1000000;
	cx_mbox_poll(x->m);
	assert_false(media_clean(x));
	/* what the media-disabled state refuses */
	uint8_t log = 0, z[0x80] = { 0 };
	assert_int_equal(mx_run(x, CX_OP_GET_EVENT_RECORDS, &log, 1, out, &olen),
			 CX_RC_MEDIA_DISABLED);
	assert_int_equal(mx_run(x, CX_OP_GET_PARTITION_INFO, NULL, 0, out,
				&olen), CX_RC_MEDIA_DISABLED);
	assert_int_equal(mx_run(x, CX_OP_GET_POISON_LIST, z, 16, out, &olen),
			 CX_RC_MEDIA_DISABLED);
	assert_int_equal(mx_run(x, CX_OP_INJECT_POISON, z, 8, out, &olen),
			 CX_RC_MEDIA_DISABLED);
	assert_int_equal(mx_run(x, CX_OP_CLEAR_POISON, z, 0x48, out, &olen),
			 CX_RC_MEDIA_DISABLED);
	assert_int_equal(mx_run(x, CX_OP_SET_LSA, z, 9, out, &olen),
			 CX_RC_MEDIA_DISABLED);
	assert_int_equal(mx_run(x, CX_OP_ACTIVATE_FW, z, 2, out, &olen),
			 CX_RC_MEDIA_DISABLED);
	assert_int_equal(mx_run(x, CX_OP_SECURE_ERASE, NULL, 0, out, &olen),
			 CX_RC_MEDIA_DISABLED);
	assert_int_equal(mx_run(x, CX_OP_SET_PARTITION_INFO, z, 10, out, &olen),
			 CX_RC_MEDIA_DISABLED);
	assert_int_equal(mx_run(x, CX_OP_GET_LSA, z, 8, out, &olen),
			 CX_RC_MEDIA_DISABLED);
	assert_int_equal(mx_run(x, CX_OP_PASSPHRASE_SECURE_ERASE, z, 0x40, out,
				&olen), CX_RC_MEDIA_DISABLED);
	/* background ones are busy first: sanitize itself is running */
	assert_int_equal(mx_run(x, CX_OP_TRANSFER_FW, z, 0x80, out, &olen),
			 CX_RC_BUSY);
	memcpy(z, cx_cel_uuid, 16);
	cx_wr_le32(z + 0x14, 4);
	assert_int_equal(mx_run(x, CX_OP_GET_LOG, z, 0x18, out, &olen),
			 CX_RC_MEDIA_DISABLED);
	/* still answered */
	assert_int_equal(mx_run(x, CX_OP_IDENTIFY_MEMDEV, NULL, 0, out, &olen),
			 0);
	assert_int_equal(cx_mbox_access_check(x->m, 4096, 64, false, &bad, &e),
			 -ENXIO);

	x->now += 1000000;
	cx_mbox_poll(x->m);
	assert_true(media_clean(x));
	assert_int_equal(cx_mbox_access_check(x->m, 4096, 64, false, &bad, &e),
			 0);
	assert_int_equal(mx_run(x, CX_OP_GET_EVENT_RECORDS, &log, 1, out, &olen),
			 0);
	assert_int_equal(cx_rd_le16(out + 0x14), 0);
	assert_int_equal(cx_poison_check(x->m, 0x40000, 64, &bad), 0);

	/* secure erase: immediate */
	fill_media(x);
	assert_int_equal(mx_run(x, CX_OP_SECURE_ERASE, NULL, 0, out, &olen), 0);
	assert_true(media_clean(x));
	mx_free(x);
}

static void test_erase_refused_by_security_state(void **state)
{
	struct mx *x = mx_new(U, U, 4096, NULL);
	uint8_t sp[0x60] = { CX_PASS_USER };
	memset(sp + 0x40, 'u', 32);
	assert_int_equal(mx_run(x, CX_OP_SET_PASSPHRASE, sp, 0x60, out, &olen),
			 0);
	fill_media(x);
	assert_int_equal(mx_run(x, CX_OP_SANITIZE, NULL, 0, out, &olen),
			 CX_RC_INVALID_SECURITY_STATE);
	assert_int_equal(mx_run(x, CX_OP_SECURE_ERASE, NULL, 0, out, &olen),
			 CX_RC_INVALID_SECURITY_STATE);
	assert_false(media_clean(x));
	mx_free(x);
}

static void test_media_operations(void **state)
{
	struct mx *x = mx_new(U, U, 4096, NULL);
	uint8_t in[8 + 16 * 2] = { 0 };

	/* discovery */
	uint8_t d[12] = { CX_MOP_CLASS_GENERAL, CX_MOP_GENERAL_DISCOVERY };
	cx_wr_le16(d + 10, 8);
	assert_int_equal(mx_run(x, CX_OP_MEDIA_OPERATIONS, d, 12, out, &olen), 0);
	assert_int_equal(olen, 12 + 4);
	assert_int_equal(cx_rd_le64(out), 64);
	assert_int_equal(cx_rd_le16(out + 8), 2);
	assert_int_equal(cx_rd_le16(out + 10), 2);
	assert_int_equal(out[12], CX_MOP_CLASS_SANITIZE);
	assert_int_equal(out[13], CX_MOP_SANITIZE_SANITIZE);
	assert_int_equal(out[15], CX_MOP_SANITIZE_ZERO);
	cx_wr_le16(d + 8, 2);
	assert_int_equal(mx_run(x, CX_OP_MEDIA_OPERATIONS, d, 12, out, &olen),
			 CX_RC_INVALID_INPUT);
	cx_wr_le16(d + 8, 0);
	cx_wr_le32(d + 4, 1);
	assert_int_equal(mx_run(x, CX_OP_MEDIA_OPERATIONS, d, 12, out, &olen),
			 CX_RC_INVALID_INPUT);
	assert_int_equal(mx_run(x, CX_OP_MEDIA_OPERATIONS, d, 10, out, &olen),
			 CX_RC_INVALID_PAYLOAD_LENGTH);

	/* zero two ranges, one in each partition */
	fill_media(x);
	in[0] = CX_MOP_CLASS_SANITIZE;
	in[1] = CX_MOP_SANITIZE_ZERO;
	cx_wr_le32(in + 4, 2);
	cx_wr_le64(in + 8, 4096);
	cx_wr_le64(in + 16, 64);
	cx_wr_le64(in + 24, U + 8192);
	cx_wr_le64(in + 32, 64);
	/* errors: count disagrees with length, unaligned, past the end,
	 * unknown class */
	assert_int_equal(mx_run(x, CX_OP_MEDIA_OPERATIONS, in, 24, out, &olen),
			 CX_RC_INVALID_PAYLOAD_LENGTH);
	cx_wr_le64(in + 32, 65);
	assert_int_equal(mx_run(x, CX_OP_MEDIA_OPERATIONS, in, 40, out, &olen),
			 CX_RC_INVALID_INPUT);
	cx_wr_le64(in + 32, 2 * U);
	assert_int_equal(mx_run(x, CX_OP_MEDIA_OPERATIONS, in, 40, out, &olen),
			 CX_RC_INVALID_INPUT);
	cx_wr_le64(in + 32, 64);
	in[0] = 7;
	assert_int_equal(mx_run(x, CX_OP_MEDIA_OPERATIONS, in, 40, out, &olen),
			 CX_RC_UNSUPPORTED);
	in[0] = CX_MOP_CLASS_SANITIZE;
	assert_false(all_zero(x->m->vmem, 4096, 64));
	assert_int_equal(mx_run(x, CX_OP_MEDIA_OPERATIONS, in, 40, out, &olen),
			 CX_RC_BG_STARTED);
	assert_int_equal(mx_run(x, CX_OP_MEDIA_OPERATIONS, in, 40, out, &olen),
			 CX_RC_BUSY);
	mx_finish_bg(x);
	assert_true(all_zero(x->m->vmem, 4096, 64));
	assert_true(all_zero(x->m->pmem, 8192, 64));
	/* the LSA is not part of a targeted media operation */
	assert_false(all_zero(x->m->lsa, 0, 64));
	mx_free(x);
}

/* ---- firmware ---- */

static uint16_t xfer(struct mx *x, uint8_t action, uint8_t slot,
		     uint32_t off128, size_t len, uint8_t seed)
{
	static uint8_t in[CX_MBOX_PAYLOAD_MAX];
	memset(in, 0, 0x80);
	in[0] = action;
	in[1] = slot;
	cx_wr_le32(in + 4, off128);
	for (size_t i = 0; i < len; i++)
		in[0x80 + i] = (uint8_t)(seed + i);
	return mx_run(x, CX_OP_TRANSFER_FW, in, 0x80 + len, out, &olen);
}

static uint16_t activate(struct mx *x, uint8_t action, uint8_t slot)
{
	uint8_t in[2] = { action, slot };
	return mx_run(x, CX_OP_ACTIVATE_FW, in, 2, out, &olen);
}

static void test_firmware_slots(void **state)
{
	struct mx *x = mx_new(U, 0, 0, NULL);
	assert_int_equal(mx_run(x, CX_OP_GET_FW_INFO, NULL, 0, out, &olen), 0);
	assert_int_equal(olen, 0x50);
	assert_int_equal(out[0], 2);
	assert_int_equal(out[1], 1);        /* active 1, nothing staged */
	assert_int_equal(out[2], 1);        /* online activation */
	assert_memory_equal(out + 0x10, "BWFW VERSION 0", 14);
	assert_int_equal(out[0x20], 0);     /* slot 2 empty */

	/* full transfer into slot 2, in the background */
	assert_int_equal(xfer(x, CX_TFW_FULL, 1, 0, 256, 1),
			 CX_RC_FW_INVALID_SLOT); /* the active slot */
	assert_int_equal(xfer(x, CX_TFW_FULL, 0, 0, 256, 1),
			 CX_RC_FW_INVALID_SLOT);
	assert_int_equal(xfer(x, CX_TFW_FULL, 3, 0, 256, 1),
			 CX_RC_FW_INVALID_SLOT);
	assert_int_equal(xfer(x, CX_TFW_FULL, 2, 0, 0, 1), CX_RC_INVALID_INPUT);
	assert_int_equal(activate(x, 0, 2), CX_RC_FW_INVALID_SLOT); /* empty */
	assert_int_equal(xfer(x, CX_TFW_FULL, 2, 0, 256, 1), CX_RC_BG_STARTED);
	assert_int_equal(xfer(x, CX_TFW_FULL, 2, 0, 256, 1), CX_RC_BUSY);
	mx_finish_bg(x);
	assert_int_equal(mx_run(x, CX_OP_GET_FW_INFO, NULL, 0, out, &olen), 0);
	assert_memory_equal(out + 0x20, "cxlemu-", 7);
	char rev_full[16];
	memcpy(rev_full, out + 0x20, 16);

	/* activation: bad action, the active slot, online */
	assert_int_equal(activate(x, 2, 2), CX_RC_INVALID_INPUT);
	assert_int_equal(activate(x, 0, 1), CX_RC_FW_INVALID_SLOT);
	assert_int_equal(activate(x, 0, 3), CX_RC_FW_INVALID_SLOT);
	assert_int_equal(activate(x, 0, 2), 0);
	assert_int_equal(mx_run(x, CX_OP_GET_FW_INFO, NULL, 0, out, &olen), 0);
	assert_int_equal(out[1], 2);
	assert_int_equal(mx_run(x, CX_OP_IDENTIFY_MEMDEV, NULL, 0, out, &olen),
			 0);
	assert_memory_equal(out, rev_full, 16);

	/* the same image in parts into slot 1 gives the same revision */
	assert_int_equal(xfer(x, CX_TFW_CONTINUE, 1, 1, 128, 129),
			 CX_RC_INVALID_INPUT); /* no transfer started */
	assert_int_equal(xfer(x, CX_TFW_INIT, 1, 1, 128, 1),
			 CX_RC_INVALID_INPUT); /* init not at offset 0 */
	assert_int_equal(xfer(x, CX_TFW_INIT, 1, 0, 128, 1), CX_RC_BG_STARTED);
	mx_finish_bg(x);
	assert_int_equal(xfer(x, CX_TFW_INIT, 1, 0, 128, 1),
			 CX_RC_FW_IN_PROGRESS);
	assert_int_equal(xfer(x, CX_TFW_FULL, 1, 0, 128, 1),
			 CX_RC_FW_IN_PROGRESS);
	assert_int_equal(activate(x, 0, 1), CX_RC_FW_IN_PROGRESS);
	assert_int_equal(xfer(x, CX_TFW_END, 1, 3, 128, 129),
			 CX_RC_FW_OUT_OF_ORDER); /* gap */
	assert_int_equal(xfer(x, 9, 1, 1, 128, 129), CX_RC_INVALID_INPUT);
	assert_int_equal(xfer(x, CX_TFW_END, 2, 1, 128, 129),
			 CX_RC_FW_INVALID_SLOT); /* now active */
	assert_int_equal(xfer(x, CX_TFW_END, 1, 1, 128, 129), CX_RC_BG_STARTED);
	mx_finish_bg(x);
	assert_int_equal(mx_run(x, CX_OP_GET_FW_INFO, NULL, 0, out, &olen), 0);
	assert_memory_equal(out + 0x10, rev_full, 16);

	/* activate at the next reset: staged, then active after reset */
	assert_int_equal(activate(x, 1, 1), 0);
	assert_int_equal(mx_run(x, CX_OP_GET_FW_INFO, NULL, 0, out, &olen), 0);
	assert_int_equal(out[1], 2 | 1 << 3);
	cx_mbox_reset(x->m);
	assert_int_equal(mx_run(x, CX_OP_GET_FW_INFO, NULL, 0, out, &olen), 0);
	assert_int_equal(out[1], 1);

	/* abort a partial transfer; too large */
	assert_int_equal(xfer(x, CX_TFW_INIT, 2, 0, 128, 1), CX_RC_BG_STARTED);
	mx_finish_bg(x);
	assert_int_equal(xfer(x, CX_TFW_ABORT, 0, 0, 0, 0), 0);
	assert_int_equal(xfer(x, CX_TFW_CONTINUE, 2, 1, 128, 1),
			 CX_RC_INVALID_INPUT);
	assert_int_equal(xfer(x, CX_TFW_FULL, 2, (32u << 20) / 128, 128, 1),
			 CX_RC_INVALID_INPUT);
	mx_free(x);
}

/* ---- health, alerts, shutdown ---- */

static void test_health_reflects_injection_and_alerts(void **state)
{
	struct mx *x = mx_new(U, U, 0, NULL);
	assert_int_equal(mx_run(x, CX_OP_GET_HEALTH_INFO, NULL, 0, out, &olen),
			 0);
	assert_int_equal(olen, 0x12);
	assert_int_equal(out[0], 0);
	assert_int_equal(out[1], 0);
	assert_int_equal(out[2], 0);
	assert_int_equal(out[3], 0);
	assert_int_equal((int16_t)cx_rd_le16(out + 4), 25);
	assert_int_equal(cx_rd_le32(out + 6), 0);

	struct cx_health h = {
		.health_status = CX_HS_MAINT_NEEDED | CX_HS_PERF_DEGRADED,
		.media_status = 3, .life_used = 80, .temperature = 30,
		.dirty_shutdowns = 7, .cor_volatile = 11, .cor_persistent = 12,
	};
	assert_int_equal(cx_inject_health(x->m, &h, &x->err), 0);
	assert_int_equal(mx_run(x, CX_OP_GET_HEALTH_INFO, NULL, 0, out, &olen),
			 0);
	assert_int_equal(out[0], 3);
	assert_int_equal(out[1], 3);
	/* life 80 >= critical 75; temperature 30 between the critical
	 * limits and no warnings enabled */
	assert_int_equal(out[2], CX_HA_CRITICAL << CX_HA_LIFE_SHIFT);
	assert_int_equal(out[3], 80);
	assert_int_equal((int16_t)cx_rd_le16(out + 4), 30);
	assert_int_equal(cx_rd_le32(out + 6), 7);
	assert_int_equal(cx_rd_le32(out + 10), 11);
	assert_int_equal(cx_rd_le32(out + 14), 12);

	/* enable the over-temperature and corrected-volatile warnings */
	uint8_t in[12] = { CX_ALERT_OVER_TEMP | CX_ALERT_COR_VOLATILE,
			   CX_ALERT_OVER_TEMP | CX_ALERT_COR_VOLATILE };
	cx_wr_le16(in + 4, 28);
	cx_wr_le16(in + 8, 10);
	assert_int_equal(mx_run(x, CX_OP_SET_ALERT_CONFIG, in, 12, out, &olen),
			 0);
	assert_int_equal(mx_run(x, CX_OP_GET_HEALTH_INFO, NULL, 0, out, &olen),
			 0);
	assert_int_equal(out[2], CX_HA_CRITICAL << CX_HA_LIFE_SHIFT |
				 CX_HA_WARNING << CX_HA_TEMP_SHIFT |
				 CX_HA_COR_VOLATILE);
	h.temperature = -5; /* below the under-temperature critical 10 */
	h.life_used = 0xff;
	assert_int_equal(cx_inject_health(x->m, &h, &x->err), 0);
	assert_int_equal(mx_run(x, CX_OP_GET_HEALTH_INFO, NULL, 0, out, &olen),
			 0);
	assert_int_equal(out[2], CX_HA_CRITICAL << CX_HA_TEMP_SHIFT |
				 CX_HA_COR_VOLATILE);
	assert_int_equal((int16_t)cx_rd_le16(out + 4), -5);

	/* invalid injections change nothing */
	struct cx_health bad = h;
	bad.media_status = 10;
	assert_int_equal(cx_inject_health(x->m, &bad, &x->err), -EINVAL);
	bad = h;
	bad.life_used = 101;
	assert_int_equal(cx_inject_health(x->m, &bad, &x->err), -EINVAL);
	struct cx_health now;
	assert_int_equal(cx_get_health(x->m, &now), 0);
	assert_int_equal(now.temperature, -5);
	mx_free(x);
}

static void test_alert_config(void **state)
{
	struct mx *x = mx_new(U, 0, 0, NULL);
	assert_int_equal(mx_run(x, CX_OP_GET_ALERT_CONFIG, NULL, 0, out, &olen),
			 0);
	assert_int_equal(olen, 0x10);
	assert_int_equal(out[0], 0);           /* none enabled */
	assert_int_equal(out[1], 0x1f);        /* all programmable */
	assert_int_equal(out[2], 75);
	assert_int_equal(out[3], 40);
	assert_int_equal(cx_rd_le16(out + 4), 35);
	assert_int_equal(cx_rd_le16(out + 6), 10);
	assert_int_equal(cx_rd_le16(out + 8), 25);
	assert_int_equal(cx_rd_le16(out + 10), 20);

	uint8_t in[12] = { 0x1f, 0x1f, 50, 0 };
	cx_wr_le16(in + 4, 30);
	cx_wr_le16(in + 6, 15);
	cx_wr_le16(in + 8, 100);
	cx_wr_le16(in + 10, 200);
	assert_int_equal(mx_run(x, CX_OP_SET_ALERT_CONFIG, in, 12, out, &olen),
			 0);
	assert_int_equal(mx_run(x, CX_OP_GET_ALERT_CONFIG, NULL, 0, out, &olen),
			 0);
	assert_int_equal(out[0], 0x1f);
	assert_int_equal(out[3], 50);
	assert_int_equal(cx_rd_le16(out + 8), 30);
	assert_int_equal(cx_rd_le16(out + 10), 15);
	assert_int_equal(cx_rd_le16(out + 12), 100);
	assert_int_equal(cx_rd_le16(out + 14), 200);

	/* each bad threshold is refused and nothing moves */
	uint8_t before[16];
	memcpy(before, out, 16);
	uint8_t b1[12] = { CX_ALERT_LIFE_USED, CX_ALERT_LIFE_USED, 75 };
	assert_int_equal(mx_run(x, CX_OP_SET_ALERT_CONFIG, b1, 12, out, &olen),
			 CX_RC_INVALID_INPUT);
	uint8_t b2[12] = { CX_ALERT_OVER_TEMP | CX_ALERT_LIFE_USED,
			   CX_ALERT_OVER_TEMP | CX_ALERT_LIFE_USED, 10 };
	cx_wr_le16(b2 + 4, 35);
	assert_int_equal(mx_run(x, CX_OP_SET_ALERT_CONFIG, b2, 12, out, &olen),
			 CX_RC_INVALID_INPUT);
	uint8_t b3[12] = { CX_ALERT_UNDER_TEMP, CX_ALERT_UNDER_TEMP };
	cx_wr_le16(b3 + 6, 10);
	assert_int_equal(mx_run(x, CX_OP_SET_ALERT_CONFIG, b3, 12, out, &olen),
			 CX_RC_INVALID_INPUT);
	uint8_t b4[12] = { 0x20, 0x20 };
	assert_int_equal(mx_run(x, CX_OP_SET_ALERT_CONFIG, b4, 12, out, &olen),
			 CX_RC_INVALID_INPUT);
	assert_int_equal(mx_run(x, CX_OP_GET_ALERT_CONFIG, NULL, 0, out, &olen),
			 0);
	assert_memory_equal(out, before, 16);
	/* valid without enable: that alert is switched off */
	uint8_t off[12] = { CX_ALERT_LIFE_USED, 0 };
	assert_int_equal(mx_run(x, CX_OP_SET_ALERT_CONFIG, off, 12, out, &olen),
			 0);
	assert_int_equal(mx_run(x, CX_OP_GET_ALERT_CONFIG, NULL, 0, out, &olen),
			 0);
	assert_int_equal(out[0], 0x1e);
	assert_int_equal(out[3], 50);
	mx_free(x);
}

static void test_shutdown_state_and_dirty_count(void **state)
{
	char *dir = tmpdir();
	struct mx *x = mx_new(0, U, 4096, dir);
	assert_int_equal(mx_run(x, CX_OP_GET_SHUTDOWN_STATE, NULL, 0, out,
				&olen), 0);
	assert_int_equal(olen, 1);
	assert_int_equal(out[0], 0);
	uint8_t one = 1;
	assert_int_equal(mx_run(x, CX_OP_SET_SHUTDOWN_STATE, &one, 1, out,
				&olen), 0);
	assert_int_equal(mx_run(x, CX_OP_GET_SHUTDOWN_STATE, NULL, 0, out,
				&olen), 0);
	assert_int_equal(out[0], 1);
	/* keep the sidecar as it is while dirty: a crash leaves it so */
	char path[256], cmd[600];
	snprintf(path, sizeof(path), "%s/lsa.img.cxlemu", dir);
	snprintf(cmd, sizeof(cmd), "cp '%s' '%s.crash'", path, path);
	assert_int_equal(system(cmd), 0);
	mx_free(x); /* orderly stop: clean */

	x = mx_new(0, U, 4096, dir);
	assert_int_equal(mx_run(x, CX_OP_GET_HEALTH_INFO, NULL, 0, out, &olen),
			 0);
	assert_int_equal(cx_rd_le32(out + 6), 0);
	mx_free(x);

	snprintf(cmd, sizeof(cmd), "cp '%s.crash' '%s'", path, path);
	assert_int_equal(system(cmd), 0);
	x = mx_new(0, U, 4096, dir);
	assert_int_equal(mx_run(x, CX_OP_GET_HEALTH_INFO, NULL, 0, out, &olen),
			 0);
	assert_int_equal(cx_rd_le32(out + 6), 1);
	assert_int_equal(mx_run(x, CX_OP_GET_SHUTDOWN_STATE, NULL, 0, out,
				&olen), 0);
	assert_int_equal(out[0], 0);
	mx_free(x);
	x = mx_new(0, U, 4096, dir);
	assert_int_equal(mx_run(x, CX_OP_GET_HEALTH_INFO, NULL, 0, out, &olen),
			 0);
	assert_int_equal(cx_rd_le32(out + 6), 1); /* kept, not counted again */
	mx_free(x);
	rmdir_all(dir);
}

/* ---- security ---- */

static uint16_t set_pass(struct mx *x, uint8_t type, char cur, char nw)
{
	uint8_t in[0x60] = { type };
	memset(in + 0x20, cur, 32);
	memset(in + 0x40, nw, 32);
	return mx_run(x, CX_OP_SET_PASSPHRASE, in, 0x60, out, &olen);
}

static uint16_t pass_op(struct mx *x, uint16_t op, uint8_t type, char pass)
{
	uint8_t in[0x40] = { type };
	memset(in + 0x20, pass, 32);
	return mx_run(x, op, in, 0x40, out, &olen);
}

static uint16_t unlock(struct mx *x, char pass)
{
	uint8_t in[0x20];
	memset(in, pass, 32);
	return mx_run(x, CX_OP_UNLOCK, in, 0x20, out, &olen);
}

static uint32_t sec_state(struct mx *x)
{
	assert_int_equal(mx_run(x, CX_OP_GET_SECURITY_STATE, NULL, 0, out,
				&olen), 0);
	assert_int_equal(olen, 4);
	return cx_rd_le32(out);
}

static void test_security_state_machine(void **state)
{
	struct mx *x = mx_new(U, U, 4096, NULL);
	uint64_t bad;
	cx_err e;

	assert_int_equal(sec_state(x), 0);
	assert_int_equal(unlock(x, 'a'), CX_RC_INVALID_SECURITY_STATE);
	assert_int_equal(set_pass(x, 2, 0, 'a'), CX_RC_INVALID_INPUT);
	assert_int_equal(set_pass(x, CX_PASS_MASTER, 0, 'm'), 0);
	assert_int_equal(sec_state(x), CX_SEC_MASTER_SET);
	assert_int_equal(set_pass(x, CX_PASS_USER, 0, 'a'), 0);
	assert_int_equal(sec_state(x), CX_SEC_MASTER_SET | CX_SEC_USER_SET);
	/* master only while no user passphrase */
	assert_int_equal(set_pass(x, CX_PASS_MASTER, 'm', 'n'),
			 CX_RC_INVALID_SECURITY_STATE);
	/* changing the user passphrase needs the current one */
	assert_int_equal(set_pass(x, CX_PASS_USER, 'x', 'b'),
			 CX_RC_INCORRECT_PASSPHRASE);
	assert_int_equal(set_pass(x, CX_PASS_USER, 'a', 'b'), 0);

	/* a reset locks the persistent capacity */
	cx_mbox_reset(x->m);
	assert_int_equal(sec_state(x), CX_SEC_MASTER_SET | CX_SEC_USER_SET |
				       CX_SEC_LOCKED);
	assert_int_equal(cx_mbox_access_check(x->m, U + 64, 64, false, &bad,
					      &e), -EACCES);
	assert_int_equal(cx_mbox_access_check(x->m, 64, 64, false, &bad, &e),
			 0); /* volatile capacity is not locked */
	assert_int_equal(set_pass(x, CX_PASS_USER, 'b', 'c'),
			 CX_RC_INVALID_SECURITY_STATE);
	assert_int_equal(unlock(x, 'a'), CX_RC_INCORRECT_PASSPHRASE);
	assert_int_equal(unlock(x, 'b'), 0);
	assert_int_equal(sec_state(x), CX_SEC_MASTER_SET | CX_SEC_USER_SET);
	assert_int_equal(cx_mbox_access_check(x->m, U + 64, 64, false, &bad,
					      &e), 0);
	assert_int_equal(unlock(x, 'b'), CX_RC_INVALID_SECURITY_STATE);

	/* three wrong passphrases reach the limit */
	cx_mbox_reset(x->m);
	for (int i = 0; i < 3; i++)
		assert_int_equal(unlock(x, 'z'), CX_RC_INCORRECT_PASSPHRASE);
	assert_true(sec_state(x) & CX_SEC_USER_PLIMIT);
	assert_int_equal(unlock(x, 'b'), CX_RC_INVALID_SECURITY_STATE);
	cx_mbox_reset(x->m); /* a reset clears the count */
	assert_false(sec_state(x) & CX_SEC_USER_PLIMIT);
	assert_int_equal(unlock(x, 'b'), 0);

	/* disable: wrong, right; then the user passphrase is gone */
	assert_int_equal(pass_op(x, CX_OP_DISABLE_PASSPHRASE, CX_PASS_USER, 'q'),
			 CX_RC_INCORRECT_PASSPHRASE);
	assert_int_equal(pass_op(x, CX_OP_DISABLE_PASSPHRASE, CX_PASS_USER, 'b'),
			 0);
	assert_int_equal(sec_state(x), CX_SEC_MASTER_SET);
	assert_int_equal(pass_op(x, CX_OP_DISABLE_PASSPHRASE, CX_PASS_USER, 'b'),
			 CX_RC_INVALID_SECURITY_STATE);
	assert_int_equal(pass_op(x, CX_OP_DISABLE_PASSPHRASE, 5, 'b'),
			 CX_RC_INVALID_INPUT);

	/* passphrase secure erase with the master passphrase */
	assert_int_equal(set_pass(x, CX_PASS_USER, 0, 'u'), 0);
	fill_media(x);
	assert_int_equal(pass_op(x, CX_OP_PASSPHRASE_SECURE_ERASE,
				 CX_PASS_MASTER, 'x'),
			 CX_RC_INCORRECT_PASSPHRASE);
	assert_false(media_clean(x));
	cx_hdm_set_ctrl_bits(&x->m->decoders[0].regs, CX_HDM_CTRL_COMMITTED,
			     true);
	assert_int_equal(pass_op(x, CX_OP_PASSPHRASE_SECURE_ERASE,
				 CX_PASS_MASTER, 'm'), CX_RC_BUSY);
	cx_hdm_set_ctrl_bits(&x->m->decoders[0].regs, CX_HDM_CTRL_COMMITTED,
			     false);
	assert_int_equal(pass_op(x, CX_OP_PASSPHRASE_SECURE_ERASE,
				 CX_PASS_MASTER, 'm'), 0);
	assert_true(media_clean(x));
	assert_int_equal(sec_state(x), CX_SEC_MASTER_SET);
	/* with the master passphrase disabled, a master erase is invalid */
	assert_int_equal(pass_op(x, CX_OP_DISABLE_PASSPHRASE, CX_PASS_MASTER,
				 'm'), 0);
	assert_int_equal(pass_op(x, CX_OP_PASSPHRASE_SECURE_ERASE,
				 CX_PASS_MASTER, 'm'), CX_RC_INVALID_INPUT);
	/* user erase without a user passphrase erases anyway */
	fill_media(x);
	assert_int_equal(pass_op(x, CX_OP_PASSPHRASE_SECURE_ERASE, CX_PASS_USER,
				 0), 0);
	assert_true(media_clean(x));

	/* freeze: passphrase commands refused until reset */
	assert_int_equal(mx_run(x, CX_OP_FREEZE_SECURITY, NULL, 0, out, &olen),
			 0);
	assert_int_equal(sec_state(x), CX_SEC_FROZEN);
	assert_int_equal(set_pass(x, CX_PASS_USER, 0, 'a'),
			 CX_RC_INVALID_SECURITY_STATE);
	assert_int_equal(pass_op(x, CX_OP_PASSPHRASE_SECURE_ERASE, CX_PASS_USER,
				 0), CX_RC_INVALID_SECURITY_STATE);
	assert_int_equal(mx_run(x, CX_OP_FREEZE_SECURITY, NULL, 0, out, &olen),
			 0);
	cx_mbox_reset(x->m);
	assert_int_equal(sec_state(x), 0);
	mx_free(x);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_unknown_opcodes_are_unsupported),
		cmocka_unit_test(test_every_command_enforces_its_length),
		cmocka_unit_test(test_table_drives_dispatch),
		cmocka_unit_test(test_exec_api),
		cmocka_unit_test(test_supported_logs_and_cel),
		cmocka_unit_test(test_identify_matches_topology),
		cmocka_unit_test(test_partition_info_matches_topology),
		cmocka_unit_test(test_set_partition_applies_at_restart),
		cmocka_unit_test(test_lsa_read_write_and_errors),
		cmocka_unit_test(test_labels_persist_across_restart),
		cmocka_unit_test(test_timestamp_advances),
		cmocka_unit_test(test_bg_status_and_abort),
		cmocka_unit_test(test_sanitize_zeroes_media_lsa_and_events),
		cmocka_unit_test(test_erase_refused_by_security_state),
		cmocka_unit_test(test_media_operations),
		cmocka_unit_test(test_firmware_slots),
		cmocka_unit_test(test_health_reflects_injection_and_alerts),
		cmocka_unit_test(test_alert_config),
		cmocka_unit_test(test_shutdown_state_and_dirty_count),
		cmocka_unit_test(test_security_state_machine),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
