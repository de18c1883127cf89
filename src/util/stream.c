/*
 * stream.c - non-temporal copies and fills (stream.h).  x86-64 has SSE2
 * everywhere; elsewhere these are memcpy() and memset().
 */
#include "stream.h"

#include <stdbool.h>
#include <string.h>

#if defined(__x86_64__) && defined(__SSE2__)
#include <emmintrin.h>

/* the bytes before dst reaches a 16-byte boundary */
static size_t head_of(const void *dst, size_t len)
{
	size_t h = (size_t)(-(uintptr_t)dst & 15);
	return h < len ? h : len;
}

/* 16-byte loads, aligned stores: streaming (nt) or not; inlined with a
 * constant nt, so each caller gets its own loop */
static inline void copy_sse2(uint8_t *d, const uint8_t *s, size_t len,
			     bool nt)
{
	size_t h = head_of(d, len);
	memcpy(d, s, h);
	d += h;
	s += h;
	len -= h;
	for (; len >= 16; len -= 16, d += 16, s += 16) {
		__m128i v = _mm_loadu_si128((const __m128i *)s);
		if (nt)
			_mm_stream_si128((__m128i *)d, v);
		else
			_mm_store_si128((__m128i *)d, v);
	}
	memcpy(d, s, len);
}

void cx_copy_stream(void *dst, const void *src, size_t len)
{
	copy_sse2(dst, src, len, true);
}

/* pieces in rep movsb's range whose line offsets differ (stream.h) */
static bool misaligned_piece(const void *dst, const void *src, size_t len)
{
	return len >= 2048 && len < CX_STREAM_MIN &&
	       (((uintptr_t)dst ^ (uintptr_t)src) & 63);
}

void cx_copy(void *dst, const void *src, size_t len)
{
	if (misaligned_piece(dst, src, len))
		copy_sse2(dst, src, len, false);
	else
		memcpy(dst, src, len);
}

void cx_fill_stream(void *dst, int byte, size_t len)
{
	uint8_t *d = dst;
	size_t h = head_of(d, len);
	memset(d, byte, h);
	d += h;
	len -= h;
	__m128i v = _mm_set1_epi8((char)byte);
	for (; len >= 64; len -= 64, d += 64) {
		_mm_stream_si128((__m128i *)d, v);
		_mm_stream_si128((__m128i *)(d + 16), v);
		_mm_stream_si128((__m128i *)(d + 32), v);
		_mm_stream_si128((__m128i *)(d + 48), v);
	}
	for (; len >= 16; len -= 16, d += 16)
		_mm_stream_si128((__m128i *)d, v);
	memset(d, byte, len);
}

void cx_stream_fence(void)
{
	_mm_sfence();
}

#else

void cx_copy(void *dst, const void *src, size_t len)
{
	memcpy(dst, src, len);
}

void cx_copy_stream(void *dst, const void *src, size_t len)
{
	memcpy(dst, src, len);
}

void cx_fill_stream(void *dst, int byte, size_t len)
{
	memset(dst, byte, len);
}

void cx_stream_fence(void)
{
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
}

#endif
