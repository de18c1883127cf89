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
void cx_fill_stream(void *dst, int byte, size_t len);
void cx_stream_fence(void);

#endif
