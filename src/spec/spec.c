/*
 * spec.c - CXL encodings and HDM decoder register accessors.  The field
 * masks live in spec.h; nothing else in cxlemu touches raw register bits.
 */
#include "spec.h"

int cx_ways_to_eniw(int ways)
{
	switch (ways) {
	case 1: return 0;
	case 2: return 1;
	case 4: return 2;
	case 8: return 3;
	case 16: return 4;
	case 3: return 8;
	case 6: return 9;
	case 12: return 10;
	default: return -1;
	}
}

int cx_eniw_to_ways(int eniw)
{
	switch (eniw) {
	case 0: return 1;
	case 1: return 2;
	case 2: return 4;
	case 3: return 8;
	case 4: return 16;
	case 8: return 3;
	case 9: return 6;
	case 10: return 12;
	default: return 0;
	}
}

int cx_gran_to_eig(uint64_t gran)
{
	for (int i = 0; i <= 6; i++)
		if (gran == (256ull << i))
			return i;
	return -1;
}

static uint64_t get64(const cx_hdm_regs *h, int lo, uint32_t lomask)
{
	return ((uint64_t)h->r[lo + 1] << 32) | (h->r[lo] & lomask);
}

static void set64(cx_hdm_regs *h, int lo, uint32_t lomask, uint64_t v)
{
	h->r[lo] = (uint32_t)v & lomask;
	h->r[lo + 1] = (uint32_t)(v >> 32);
}

uint64_t cx_hdm_base(const cx_hdm_regs *h) { return get64(h, CX_HDM_BASE_LO, CX_HDM_LO_MASK); }
uint64_t cx_hdm_size(const cx_hdm_regs *h) { return get64(h, CX_HDM_SIZE_LO, CX_HDM_LO_MASK); }
uint64_t cx_hdm_skip(const cx_hdm_regs *h) { return get64(h, CX_HDM_TL_LO, CX_HDM_SKIP_LO_MASK); }
void cx_hdm_set_base(cx_hdm_regs *h, uint64_t v) { set64(h, CX_HDM_BASE_LO, CX_HDM_LO_MASK, v); }
void cx_hdm_set_size(cx_hdm_regs *h, uint64_t v) { set64(h, CX_HDM_SIZE_LO, CX_HDM_LO_MASK, v); }
void cx_hdm_set_skip(cx_hdm_regs *h, uint64_t v) { set64(h, CX_HDM_TL_LO, CX_HDM_SKIP_LO_MASK, v); }

int cx_hdm_ig(const cx_hdm_regs *h) { return (int)(h->r[CX_HDM_CTRL] & CX_HDM_CTRL_IG_MASK); }
int cx_hdm_iw(const cx_hdm_regs *h) { return (int)((h->r[CX_HDM_CTRL] & CX_HDM_CTRL_IW_MASK) >> 4); }
bool cx_hdm_committed(const cx_hdm_regs *h) { return h->r[CX_HDM_CTRL] & CX_HDM_CTRL_COMMITTED; }
bool cx_hdm_commit_bit(const cx_hdm_regs *h) { return h->r[CX_HDM_CTRL] & CX_HDM_CTRL_COMMIT; }
bool cx_hdm_locked(const cx_hdm_regs *h) { return h->r[CX_HDM_CTRL] & CX_HDM_CTRL_LOCK_ON_COMMIT; }

void cx_hdm_set_ig_iw(cx_hdm_regs *h, int eig, int eniw)
{
	uint32_t c = h->r[CX_HDM_CTRL] & ~(CX_HDM_CTRL_IG_MASK | CX_HDM_CTRL_IW_MASK);
	c |= ((uint32_t)eig & 0xf) | (((uint32_t)eniw & 0xf) << 4);
	h->r[CX_HDM_CTRL] = c;
}

void cx_hdm_set_ctrl_bits(cx_hdm_regs *h, uint32_t bits, bool on)
{
	if (on)
		h->r[CX_HDM_CTRL] |= bits;
	else
		h->r[CX_HDM_CTRL] &= ~bits;
}

uint8_t cx_hdm_target(const cx_hdm_regs *h, int way)
{
	int reg = way < 4 ? CX_HDM_TL_LO : CX_HDM_TL_HI;
	return (uint8_t)(h->r[reg] >> (8 * (way % 4)));
}

void cx_hdm_set_target(cx_hdm_regs *h, int way, uint8_t port)
{
	int reg = way < 4 ? CX_HDM_TL_LO : CX_HDM_TL_HI;
	int sh = 8 * (way % 4);
	h->r[reg] = (h->r[reg] & ~(0xffu << sh)) | ((uint32_t)port << sh);
}

uint64_t cx_ep_dpa_offset(uint64_t off, int eig, int eniw)
{
	uint64_t low = off & ((1ull << (eig + 8)) - 1);

	if (eniw < 8)
		return low | ((off >> (eig + 8 + eniw)) << (eig + 8));
	/* modulo 3: the shift uses the encoded value, see spec note */
	return low | (((off >> (eig + eniw)) / 3) << (eig + 8));
}

uint64_t cx_ep_hpa_offset(uint64_t dpa_off, int pos, int eig, int eniw)
{
	uint64_t low = dpa_off & ((1ull << (eig + 8)) - 1);
	uint64_t upper = dpa_off >> (eig + 8);

	if (eniw < 8)
		return (upper << (eig + 8 + eniw)) | ((uint64_t)pos << (eig + 8)) | low;
	/* 3/6/12 ways: the chunk index is upper*ways + pos */
	return ((upper * (uint64_t)cx_eniw_to_ways(eniw) + (uint64_t)pos)
		<< (eig + 8)) | low;
}

int cx_ep_position(uint64_t off, int eig, int eniw)
{
	if (eniw < 8)
		return (int)((off >> (eig + 8)) & ((1u << eniw) - 1));
	return (int)((off >> (eig + 8)) % (uint64_t)cx_eniw_to_ways(eniw));
}

int cx_xormaps_for_ways(int ways)
{
	switch (ways) {
	case 1: case 3: return 0;
	case 2: case 6: return 1;
	case 4: case 12: return 2;
	case 8: return 3;
	case 16: return 4;
	default: return -1;
	}
}

uint64_t cx_xor_fold(uint64_t hpa, const uint64_t *map, int nmaps)
{
	uint64_t out = hpa;
	for (int i = 0; i < nmaps; i++) {
		if (!map[i])
			continue;
		uint64_t bit = map[i] & -map[i];
		out &= ~bit;
		if (__builtin_parityll(hpa & map[i]))
			out |= bit;
	}
	return out;
}

int cx_cfmws_target(uint64_t hpa, uint32_t gran, int ways,
		    const uint64_t *map, int nmaps)
{
	if (nmaps)
		hpa = cx_xor_fold(hpa, map, nmaps);
	return (int)((hpa / gran) % (uint64_t)ways);
}
