/*
 * spec.h - encodings and register layouts from the CXL specification.
 * Constants and pure functions only; every register field is named here
 * once and read or written through the accessors below.
 *
 * HDM decoder registers (CXL 3.1 §8.2.4.20): each decoder is 0x20 bytes at
 * capability base + 0x10 + 0x20*n.  We keep the same layout as a register
 * image of 32-bit words, indexed by CX_HDM_* below.
 */
#ifndef CXLEMU_SPEC_H
#define CXLEMU_SPEC_H

#include <stdbool.h>
#include <stdint.h>

/* ---- interleave encodings (§8.2.4.20.7, CFMWS ENIW/HBIG) ---- */

/* ways -> IW encoding (1,2,4,8,16 -> 0..4; 3,6,12 -> 8,9,10); -1 if invalid */
int cx_ways_to_eniw(int ways);
/* IW encoding -> ways; 0 if the encoding is reserved */
int cx_eniw_to_ways(int eniw);
/* granularity -> IG encoding (256 B .. 16 KiB -> 0..6); -1 if invalid */
int cx_gran_to_eig(uint64_t gran);
static inline uint32_t cx_eig_to_gran(int eig) { return 256u << eig; }
static inline bool cx_ways_valid(int ways) { return cx_ways_to_eniw(ways) >= 0; }
static inline bool cx_gran_valid(uint64_t g) { return cx_gran_to_eig(g) >= 0; }
/* 3, 6 and 12 ways use modulo-3 arithmetic */
static inline bool cx_ways_mod3(int ways) { return ways % 3 == 0; }

#define CX_HDM_ALIGN (256ULL << 20) /* base/size granularity: 256 MiB */
#define CX_MAX_WAYS 16
#define CX_MAX_GRAN 16384
#define CX_MIN_GRAN 256

/* ---- HDM decoder register image ---- */
enum {
	CX_HDM_BASE_LO,
	CX_HDM_BASE_HI,
	CX_HDM_SIZE_LO,
	CX_HDM_SIZE_HI,
	CX_HDM_CTRL,
	CX_HDM_TL_LO,   /* target list low (switch/HB) or DPA skip low (EP) */
	CX_HDM_TL_HI,   /* target list high or DPA skip high */
	CX_HDM_NREGS
};

/* Decoder Control register fields */
#define CX_HDM_CTRL_IG_MASK      0x0000000fu  /* [3:0] */
#define CX_HDM_CTRL_IW_MASK      0x000000f0u  /* [7:4] */
#define CX_HDM_CTRL_LOCK_ON_COMMIT (1u << 8)
#define CX_HDM_CTRL_COMMIT       (1u << 9)
#define CX_HDM_CTRL_COMMITTED    (1u << 10)
#define CX_HDM_CTRL_ERR_NOT_COMMITTED (1u << 11)
#define CX_HDM_CTRL_TARGET_TYPE3 (1u << 12)   /* 1 = host-only coherent */
/* Base/Size Low keep only bits [31:28] (256 MiB granular) */
#define CX_HDM_LO_MASK           0xf0000000u
#define CX_HDM_SKIP_LO_MASK      0xf0000000u

typedef struct cx_hdm_regs {
	uint32_t r[CX_HDM_NREGS];
} cx_hdm_regs;

uint64_t cx_hdm_base(const cx_hdm_regs *h);
uint64_t cx_hdm_size(const cx_hdm_regs *h);
int cx_hdm_ig(const cx_hdm_regs *h);          /* encoded */
int cx_hdm_iw(const cx_hdm_regs *h);          /* encoded */
bool cx_hdm_committed(const cx_hdm_regs *h);
bool cx_hdm_commit_bit(const cx_hdm_regs *h);
bool cx_hdm_locked(const cx_hdm_regs *h);
uint64_t cx_hdm_skip(const cx_hdm_regs *h);
uint8_t cx_hdm_target(const cx_hdm_regs *h, int way); /* port number */

void cx_hdm_set_base(cx_hdm_regs *h, uint64_t base);
void cx_hdm_set_size(cx_hdm_regs *h, uint64_t size);
void cx_hdm_set_ig_iw(cx_hdm_regs *h, int eig, int eniw);
void cx_hdm_set_skip(cx_hdm_regs *h, uint64_t skip);
void cx_hdm_set_target(cx_hdm_regs *h, int way, uint8_t port);
void cx_hdm_set_ctrl_bits(cx_hdm_regs *h, uint32_t bits, bool on);

/*
 * Endpoint HPA->DPA (§8.2.4.20.13): remove the interleave-way bits from the
 * offset into the decoder.  `off` = HPA - decoder base; eig/eniw encoded.
 */
uint64_t cx_ep_dpa_offset(uint64_t off, int eig, int eniw);
/* Inverse: device offset and position -> offset into the decoder range. */
uint64_t cx_ep_hpa_offset(uint64_t dpa_off, int pos, int eig, int eniw);
/* Position of the device an HPA offset belongs to (Linux's view). */
int cx_ep_position(uint64_t off, int eig, int eniw);

/* Which way of an interleave set an absolute HPA selects (modulo arithmetic,
 * as QEMU's window and switch routing do it). */
static inline int cx_route_way(uint64_t hpa, uint32_t gran, int ways)
{
	return (int)((hpa / gran) % (uint64_t)ways);
}

/*
 * ---- CXL fixed memory windows (CEDT CFMWS and CXIMS, CXL 3.1 §9.18.1) ----
 *
 * A window picks its target host bridge from the system address with one
 * of two arithmetics.  Modulo: target = (HPA / granularity) mod ways.
 * XOR: for the power-of-two part of the ways (2^n, n = cx_xormaps_for_ways)
 * bit i of the target index is XORALLBITS(HPA & XORMAP[i]), the parity of
 * the HPA bits the map selects (CXL 3.1 Table 9-22); for 3, 6 and 12 ways
 * the index's bits above those n come from the HPA bits above the
 * interleave bits, modulo 3.  Both read the absolute HPA: the window is the
 * platform's decoder and sees no region.
 *
 * Map i must have bit 8 + IG + i (IG = the window's encoded granularity)
 * as its lowest set bit: the map then decides exactly that interleave bit,
 * so the target index is what modulo arithmetic would read from the HPA
 * with those bits replaced (cx_xor_fold), and the HDM decoders below,
 * which know nothing of XOR, still drop the right bits.  That is how Linux
 * (cxl_xor_hpa_to_spa) and ndctl's test/cxl-translate.sh compute it.
 */
enum cx_arith { CX_ARITH_MODULO = 0, CX_ARITH_XOR = 1 };
#define CX_MAX_XORMAPS 4
/* XOR maps a window of `ways` uses: 1, 3: none; 2, 6: 1; 4, 12: 2;
 * 8: 3; 16: 4; -1 for ways that are no interleave */
int cx_xormaps_for_ways(int ways);
/* The HPA bit map i of a window at encoded granularity eig decides. */
static inline int cx_xormap_bit(int eig, int i) { return 8 + eig + i; }
/* hpa with the lowest set bit of each map replaced by the parity of
 * hpa & map, every parity taken on the hpa given */
uint64_t cx_xor_fold(uint64_t hpa, const uint64_t *map, int nmaps);
/* The window target index an absolute HPA selects: modulo arithmetic on
 * the folded HPA (nmaps 0: plain modulo). */
int cx_cfmws_target(uint64_t hpa, uint32_t gran, int ways,
		    const uint64_t *map, int nmaps);

#endif
