/*
 * fuzz_mbox.c - libFuzzer target for the memdev mailbox.
 *
 * One small fabric is built once: host0's memdev has 256 MiB volatile
 * and 256 MiB persistent memfd media and a 4 KiB LSA; host1's memdev is a
 * second head of the same device (same media, its own LSA).  Every input
 * starts from fresh mailbox state and a fake clock at 0, with commands
 * going to host0's head, then runs a sequence of steps:
 *
 *   sel < 0xf0   command table entry sel % n, or with sel & 1 clear and
 *                sel >= 0x80 a raw opcode from the next two bytes;
 *                then a 16-bit length (up to 2100, past the payload
 *                size on purpose) and that many payload bytes
 *   0xf0..0xff   side doors: toggle a committed decoder, inject poison,
 *                inject events or health, check an access, reset, poll,
 *                switch to the other head
 *
 * followed by one byte of clock advance (x 50 ms), so background commands
 * start, run, complete and get aborted.  Anything outside the media, a
 * leak, or undefined behaviour is a crash under ASan/UBSan.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/mbox.h"
#include "fuzz_input.h"

static struct cx_fabric *fab;
static struct cx_memdev *heads[2], *mem; /* mem: the head in use */
static uint64_t now_ns;

static uint64_t fake_clock(void *ctx)
{
	(void)ctx;
	return now_ns;
}

static struct cx_backend *backend(struct cx_host *h, const char *id,
				  uint64_t size)
{
	struct cx_backend *b = cx_backend_new(h, id, 0);
	b->kind = CX_BACKEND_MEMFD;
	b->size = size;
	b->share = true;
	b->used_by = "mem";
	return b;
}

/* One host with a host bridge, a root port, a window and a memdev; the
 * memdev's vmem and pmem backends are `share`'s when given (a second head
 * of that device), new memfds otherwise. */
static struct cx_memdev *host(const char *name, struct cx_memdev *share)
{
	struct cx_host *h = cx_host_new(fab, name, 0);
	h->cxl_on = true;
	struct cx_port *hb = cx_port_new(h, CX_PORT_HB, "cxl.1", 0);
	hb->bus_nr = 12;
	struct cx_port *rp = cx_port_new(h, CX_PORT_RP, "rp0", 0);
	cx_port_attach(hb, rp);
	struct cx_memdev *m = cx_memdev_new(h, "mem0", 0);
	m->parent = rp;
	rp->memdev = m;
	m->vmem_be = share ? share->vmem_be : backend(h, "v", 256 << 20);
	m->vmem_size = 256 << 20;
	m->pmem_be = share ? share->pmem_be : backend(h, "p", 256 << 20);
	m->pmem_size = 256 << 20;
	m->lsa_be = backend(h, "l", 4096);
	m->lsa_size = 4096;
	struct cx_window *w = cx_window_new(h, 0, 0);
	w->size = 1ULL << 30;
	w->ways = 1;
	w->targets[0] = hb;
	return m;
}

static void build(void)
{
	cx_err e;
	fab = cx_fabric_new("fuzz");
	heads[0] = host("host0", NULL);
	heads[1] = host("host1", heads[0]);
	cx_fabric_finalize(fab);
	if (cx_fabric_start(fab, &e)) {
		fprintf(stderr, "fuzz setup: %s\n", e.msg);
		abort();
	}
	if (heads[0]->mbox->dev != heads[1]->mbox->dev) {
		fprintf(stderr, "fuzz setup: the heads are not one device\n");
		abort();
	}
	cx_mbox_free_fabric(fab); /* each input starts afresh */
}

static void side_door(uint8_t sel, struct fz_in *r)
{
	cx_err e;
	uint64_t bad;
	switch (sel) {
	case 0xf0:
		cx_hdm_set_ctrl_bits(&mem->decoders[0].regs,
				     CX_HDM_CTRL_COMMITTED,
				     !cx_hdm_committed(&mem->decoders[0].regs));
		break;
	case 0xf1: {
		uint64_t s = fz_u64(r) % (600ULL << 20), l = fz_u16(r) * 64ULL;
		cx_inject_poison(mem, s & ~63ULL, l, &e);
		break;
	}
	case 0xf2: {
		struct cx_gm_event g = { .media = {
			.log = (enum cx_event_log)(fz_u8(r) % 6),
			.flags = fz_u8(r), .dpa = fz_u64(r) } };
		g.has_component_id = fz_u8(r) & 1;
		cx_inject_general_media(mem, &g, &e);
		break;
	}
	case 0xf3: {
		struct cx_dram_event d = { .media = {
			.log = (enum cx_event_log)(fz_u8(r) % 6), .dpa = fz_u64(r) },
			.has_row = true, .row = (uint32_t)fz_u64(r) };
		cx_inject_dram(mem, &d, &e);
		break;
	}
	case 0xf4: {
		struct cx_mm_event mm = { .log = (enum cx_event_log)(fz_u8(r) % 6) };
		mm.health.media_status = fz_u8(r) % 12;
		mm.health.life_used = fz_u8(r);
		mm.health.temperature = (int16_t)fz_u16(r);
		mm.health.cor_volatile = (uint32_t)fz_u64(r);
		cx_inject_memory_module(mem, &mm, &e);
		break;
	}
	case 0xf5: {
		uint64_t d = fz_u64(r) % (600ULL << 20), l = fz_u16(r);
		cx_mbox_access_check(mem, d, l, fz_u8(r) & 1, &bad, &e);
		cx_poison_check(mem, d, l, &bad);
		break;
	}
	case 0xf6:
		cx_mbox_reset(mem);
		break;
	case 0xf7: {
		struct cx_mbox_status s;
		cx_mbox_poll(mem);
		cx_mbox_status(mem, &s);
		break;
	}
	case 0xf9:
		mem = heads[mem == heads[0]];
		break;
	case 0xf8: {
		uint8_t buf[512];
		size_t len;
		cx_cdat_build(mem, buf, fz_u8(r) % 2 ? sizeof(buf) : 64, &len, &e);
		break;
	}
	default:
		break;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t in[2200], out[CX_MBOX_PAYLOAD_MAX];
	const struct cx_mbox_cmd_info *tab;
	int ncmd = cx_mbox_commands(&tab);
	struct fz_in r = { data, size };
	cx_err e;

	if (!fab)
		build();
	now_ns = 0;
	if (cx_mbox_init_fabric(fab, &e))
		abort();
	for (int i = 0; i < 2; i++) {
		cx_mbox_set_clock(heads[i], fake_clock, NULL);
		cx_hdm_set_ctrl_bits(&heads[i]->decoders[0].regs,
				     CX_HDM_CTRL_COMMITTED, false);
	}
	mem = heads[0];

	for (int steps = 0; r.n && steps < 64; steps++) {
		uint8_t sel = fz_u8(&r);
		if (sel >= 0xf0) {
			side_door(sel, &r);
		} else {
			uint16_t op = tab[sel % ncmd].opcode;
			if (sel >= 0x80 && !(sel & 1))
				op = fz_u16(&r);
			size_t len = fz_u16(&r) % 2100;
			if (len > r.n)
				len = r.n;
			memcpy(in, r.p, len);
			r.p += len;
			r.n -= len;
			size_t olen = sizeof(out);
			uint16_t rc;
			if (cx_mbox_exec(mem, op, in, len, out, &olen, &rc))
				abort();
			if (olen > CX_MBOX_PAYLOAD_MAX || rc > 0x20 ||
			    (rc != 0 && rc != 1 && olen != 0))
				abort();
		}
		now_ns += (uint64_t)fz_u8(&r) * 50000000ULL;
	}
	cx_mbox_free_fabric(fab);
	return 0;
}
