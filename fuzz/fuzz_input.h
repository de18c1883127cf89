/*
 * fuzz_input.h - reading a fuzzer's input as little-endian fields; past
 * the end every read gives 0.  Shared by the fuzz targets.
 */
#ifndef CXLEMU_FUZZ_INPUT_H
#define CXLEMU_FUZZ_INPUT_H

#include <stddef.h>
#include <stdint.h>

struct fz_in {
	const uint8_t *p;
	size_t n;
};

static inline uint8_t fz_u8(struct fz_in *r)
{
	if (!r->n)
		return 0;
	r->n--;
	return *r->p++;
}

static inline uint16_t fz_u16(struct fz_in *r)
{
	uint16_t lo = fz_u8(r); /* two statements: operands of | are unsequenced */
	return (uint16_t)(lo | fz_u8(r) << 8);
}

static inline uint64_t fz_u64(struct fz_in *r)
{
	uint64_t v = 0;
	for (int i = 0; i < 8; i++)
		v |= (uint64_t)fz_u8(r) << (8 * i);
	return v;
}

#endif
