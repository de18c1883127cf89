/*
 * media.h - the bytes behind a memdev, addressed by device offset.
 *
 * A media object is a slice [offset, offset+size) of a file descriptor: a
 * memfd for memory-backend-ram/memfd (and for file backends with share=off,
 * which get a private copy), or the backing file itself for
 * memory-backend-file with share=on.  Objects are reference-counted so that
 * heads of one shared device on several hosts hold the same media.  The
 * whole slice is mapped MAP_SHARED once, for exact reads and writes.
 */
#ifndef CXLEMU_MEDIA_H
#define CXLEMU_MEDIA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/util.h"

struct cx_media {
	char *name;        /* backend id or path, for messages */
	char *path;        /* canonical path of a shared file, else NULL */
	int fd;
	uint64_t offset;   /* start of the slice in fd */
	uint64_t size;
	uint8_t *map;      /* MAP_SHARED mapping of the slice, or NULL */
	bool persistent;   /* writes reach a file that outlives the fabric */
	int refs;
};

/* A memfd of `size` bytes, zero-filled (sparse). */
int cx_media_new_memfd(const char *name, uint64_t size, struct cx_media **out,
		       cx_err *e);
/*
 * A file backend.  share=true: the file itself (created and sized as QEMU
 * does when missing or shorter, never truncated when longer).  share=false:
 * a private memfd holding a copy of the file's current contents.
 */
int cx_media_new_file(const char *name, const char *path, uint64_t size,
		      bool share, struct cx_media **out, cx_err *e);
/* A slice of an existing media object (shares its fd and refcount). */
int cx_media_slice(struct cx_media *parent, uint64_t off, uint64_t size,
		   const char *name, struct cx_media **out, cx_err *e);
struct cx_media *cx_media_get(struct cx_media *m);
void cx_media_put(struct cx_media *m);

/* Exact access by device offset; -ERANGE with a message past the end. */
int cx_media_read(struct cx_media *m, uint64_t off, void *buf, size_t len,
		  cx_err *e);
int cx_media_write(struct cx_media *m, uint64_t off, const void *buf,
		   size_t len, cx_err *e);
/* Make stores durable (msync) for file-backed media. */
int cx_media_flush(struct cx_media *m, uint64_t off, uint64_t len, cx_err *e);
/*
 * Make accesses to a shared backing file that another program truncated
 * fail with -EIO instead of killing the process with SIGBUS: installs a
 * SIGBUS handler that recovers faults inside media copies and hands any
 * other SIGBUS to the handler that was there before.  cx_fabric_start
 * installs it; a program that replaces SIGBUS handling afterwards must
 * call it again.
 */
void cx_media_guard_install(void);
/*
 * Run fn(ctx) under one SIGBUS guard: fn may copy to and from any media's
 * mapping (m->map, within m->size) as it likes; a backing file truncated
 * under it ends the run with -EIO and a message naming `what`.  One guard
 * per request instead of one per copy (the exact path's strided copies).
 */
int cx_media_guarded(int (*fn)(void *ctx), void *ctx, const char *what,
		     cx_err *e);
/* Zero a range (used by sanitize and by tests). */
int cx_media_zero(struct cx_media *m, uint64_t off, uint64_t len, cx_err *e);

#endif
