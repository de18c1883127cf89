/*
 * stream.h - copies and fills with non-temporal stores, for the exact
 * paths' large requests.
 *
 * An exact write of many megabytes through an interleave goes to the
 * media one granule at a time (256 B to a few KiB): memcpy() picks its
 * non-temporal path only for large single calls, so each granule's
 * store first reads the destination line into the cache (a
 * read-for-ownership) and then evicts what the program had there.
 * Streaming stores skip both, as memcpy() of one large buffer does.
 * After a batch of streaming copies call cx_stream_fence() so the stores
 * are ordered before whatever the caller does next (a reply, a flag).
 */
#ifndef CXLEMU_STREAM_H
#define CXLEMU_STREAM_H

#include <stddef.h>
#include <stdint.h>

/* Requests at least this long take the streaming path: a good part of a
 * last-level cache, where memcpy() itself turns to streaming stores. */
#define CX_STREAM_MIN (8u << 20)

void cx_copy_stream(void *dst, const void *src, size_t len);

/*
 * memcpy() for the exact paths' granule-sized pieces.  glibc copies
 * pieces from 4 KiB up to its non-temporal threshold with `rep movsb`,
 * which on some x86 cores (AMD EPYC here) runs at a fifth of memory
 * speed when source and destination differ in their offset within a
 * cache line: a 4-way 4 KiB region read into a malloc()ed buffer moved
 * 1.7 GB/s against memcpy's 8.5.  Such pieces are copied with 16-byte
 * loads and aligned stores instead; everything else is memcpy().
 */
void cx_copy(void *dst, const void *src, size_t len);
void cx_fill_stream(void *dst, int byte, size_t len);
void cx_stream_fence(void);

#endif
