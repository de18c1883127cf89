/*
 * media.h - the bytes behind a memdev, addressed by device offset, and
 * the blocks of them that mapping programs are lent.
 *
 * A backend's bytes are a store: a base descriptor the daemon alone holds
 * (a memfd for memory-backend-ram/memfd and for file backends with
 * share=off, which get a private copy; the backing file itself for
 * memory-backend-file with share=on) and the daemon's one contiguous
 * view of it.  A media object is a slice [offset, offset+size) of a store
 * (a partition, a pre-7.1 carve-out), reference-counted so that heads of
 * one shared device on several hosts hold the same bytes.
 *
 * Programs never receive the base.  A program granted a range receives
 * blocks: each block is the store's bytes of one 256 MiB unit of the
 * range (HDM decoders map whole 256 MiB units of DPA), moved into a memfd
 * of their own and laid over the daemon's view at the same place, so the
 * daemon's exact reads and writes and every program mapping the block see
 * one set of pages.  A descriptor of a block reaches that block and
 * nothing else.  When no grant covers a block any more it is taken back
 * (cx_media_reclaim): its bytes return to the base (the backing file, for
 * persistent media) and its memfd is truncated to nothing, so a program
 * still mapping it faults with SIGBUS on its next access, as a program
 * whose device-DAX device went away does on Linux.  Blocks are the unit
 * a later "region view" (one memfd holding an interleaved region's bytes
 * in HPA order) would slot into: a block records where its bytes are,
 * not that they are one device's alone.
 *
 * A store whose backing file is also mapped by programs outside the
 * fabric (a QEMU guest: `[fabric external=PATH]`) is external: its base
 * is handed out as it is, since the fabric cannot take back what it does
 * not own, and nothing is revoked.
 *
 * Persistence: a share=on backing file holds the bytes that are not lent;
 * lent bytes reach it when written through the daemon, when flushed
 * (cx_media_writeback), when their block is taken back, and when the
 * store is freed at stop.  Overlaid bytes (a region view's) reach it the
 * same way, through the overlay's `back`, and when the view is taken
 * apart.
 */
#ifndef CXLEMU_MEDIA_H
#define CXLEMU_MEDIA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/util.h"

#define CX_MEDIA_BLOCK (256ULL << 20)  /* the unit lent to programs */

struct cx_store;

struct cx_media {
	char *name;        /* backend id or path, for messages */
	char *path;        /* canonical path of a shared file, else NULL */
	struct cx_store *store;
	uint64_t offset;   /* start of the slice in its store */
	uint64_t size;
	uint8_t *map;      /* the daemon's view of the slice, or NULL */
	bool persistent;   /* writes reach a file that outlives the fabric */
	bool external;     /* also mapped outside the fabric: lent as it is */
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
/* Mark a share=on file's media as mapped outside the fabric too. */
void cx_media_set_external(struct cx_media *m);
/* A slice of an existing media object (shares its store). */
int cx_media_slice(struct cx_media *parent, uint64_t off, uint64_t size,
		   const char *name, struct cx_media **out, cx_err *e);
struct cx_media *cx_media_get(struct cx_media *m);
/* The last reference to a store writes its lent blocks back and takes
 * them from whoever still maps them. */
void cx_media_put(struct cx_media *m);

/* Exact access by device offset; -ERANGE with a message past the end. */
int cx_media_read(struct cx_media *m, uint64_t off, void *buf, size_t len,
		  cx_err *e);
int cx_media_write(struct cx_media *m, uint64_t off, const void *buf,
		   size_t len, cx_err *e);
/* Make [off, off+len) durable in the backing file (persistent media):
 * lent bytes are copied back, then the file is synced. */
int cx_media_flush(struct cx_media *m, uint64_t off, uint64_t len, cx_err *e);
/* Copy lent bytes of [off, off+len) to the backing file without syncing
 * (a mapper left: its stores reach the file). */
int cx_media_writeback(struct cx_media *m, uint64_t off, uint64_t len,
		       cx_err *e);
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
/* Erase all of a media object (sanitize, secure erase): its lent blocks
 * are taken from their mappers without being copied back, and its bytes
 * become zeroes without committing memory (holes). */
int cx_media_erase(struct cx_media *m, cx_err *e);

/* ---- lending ---- */

/* One block of a lent range, as a mapping program receives it. */
struct cx_media_lease {
	int fd;            /* the block's descriptor (borrowed: dup() it) */
	uint64_t fd_off;   /* where the range's first byte is in fd */
	uint64_t len;      /* bytes of the range this block holds */
	uint64_t fd_len;   /* bytes of fd that are the block's */
	const void *id;    /* the same block gives the same id */
	const struct cx_store *store;   /* whose bytes they are, and ... */
	uint64_t base;     /* ... where fd's byte 0 is in that store: the
			      same for a block lent again later */
};
/*
 * Lend [off, off+len) of m: fill up to `max` leases covering it in order
 * and set *n.  Blocks already lent are lent again as they are; a block is
 * cut where the range ends inside a 256 MiB unit, and -EBUSY refuses a
 * range whose edge falls inside a block lent with other edges (it would
 * hand out bytes outside the range).  -E2BIG when more than `max` blocks
 * would be needed.  External media lend their base file as it is.
 */
int cx_media_lend(struct cx_media *m, uint64_t off, uint64_t len,
		  struct cx_media_lease *leases, int max, int *n, cx_err *e);
/*
 * Taking back: clear the marks of m's whole store, mark what grants still
 * cover (cx_media_keep), then reclaim every lent block left unmarked.
 * cx_media_reclaim returns how many blocks it took back, or a negative
 * errno when writing one back failed (it is taken back all the same:
 * a write-back failure must not leave a program holding the bytes).
 */
void cx_media_keep_clear(struct cx_media *m);
void cx_media_keep(struct cx_media *m, uint64_t off, uint64_t len);
/* Keep only the blocks that lie wholly inside [off, off+len): a grant
 * that shrank (dynamic capacity given back in part) takes back every
 * block that reaches past it, so no block outlives a byte of its grant. */
void cx_media_keep_within(struct cx_media *m, uint64_t off, uint64_t len);
int cx_media_reclaim(struct cx_media *m, cx_err *e);
/* Take back every lent block that reaches into [off, off+len), whoever
 * else's grant covers it: one mapper must lose a block that others may
 * keep, and a block is one set of pages.  The bytes stay (written back);
 * the others lend it again when they next map.  Returns how many. */
int cx_media_revoke(struct cx_media *m, uint64_t off, uint64_t len,
		    cx_err *e);
/* Lent blocks of m's store (for listings and tests). */
int cx_media_lent_blocks(const struct cx_media *m);
/* The tag in the name of every block lent from now on, as
 * "cxlemu[TAG]:BACKEND@OFFSET": what finds programs that map blocks of an
 * earlier daemon (server/mappers.c).  Process-wide; NULL: none. */
void cx_media_set_tag(const char *tag);


/* ---- overlays: bytes of a slice held elsewhere (a region view) ---- */

/*
 * While a region view (model/region_view.h) holds an interleaved region's
 * bytes in HPA order, the device bytes it took are not in the store any
 * more: every access by device offset to [off, off+len) of m goes through
 * `at`, which gives the address of byte `adv` of the range and how many
 * bytes follow it there (*left, to the end of its granule).  Refused
 * (-EBUSY) over bytes lent as blocks or held by another overlay; lending
 * overlaid bytes is refused too.  Accesses elsewhere use m->map as before.
 */
typedef uint8_t *(*cx_media_at_fn)(void *ctx, uint64_t adv, uint64_t *left);
/*
 * On a share=on file's media the file must still get what the daemon
 * writes and what is flushed, as with lent blocks: `back` (may be NULL
 * for memfd media) copies bytes [adv, adv+len) of the range from where
 * they are held to the store (the file's pages), and the media's writes,
 * write-backs and flushes call it for the overlaid bytes they cover.
 * A failure is its error, naming the device, the file and why.
 */
typedef int (*cx_media_back_fn)(void *ctx, uint64_t adv, uint64_t len,
				cx_err *e);
int cx_media_overlay(struct cx_media *m, uint64_t off, uint64_t len,
		     cx_media_at_fn at, cx_media_back_fn back, void *ctx,
		     const char *owner, cx_err *e);
void cx_media_overlay_end(struct cx_media *m, void *ctx);
/* Does any overlay lie on m's store? (the fast paths' one test) */
bool cx_media_overlaid(const struct cx_media *m);
/* Byte `off` of m, wherever it is held, and the bytes that follow it
 * contiguously there (at least 1, at most to m's end). */
uint8_t *cx_media_at(struct cx_media *m, uint64_t off, uint64_t *left);
/* Is any byte of [off, off+len) lent as a block? */
bool cx_media_lent_in(const struct cx_media *m, uint64_t off, uint64_t len);
/* The next extent holding data in [off, end) of m's store: 0 and [*a, *b)
 * (m-relative), or 1 when there is none (a memfd's holes read as zero). */
int cx_media_data_next(const struct cx_media *m, uint64_t off, uint64_t end,
		       uint64_t *a, uint64_t *b);
/* Free the store's memory behind [off, off+len) (a memfd base only; the
 * bytes read as zero until written again). */
void cx_media_punch(struct cx_media *m, uint64_t off, uint64_t len);
/* Make [off, off+len) of the store a hole, whatever its base (a backing
 * file too): the bytes an overlay holds as a hole read as zero there. */
void cx_media_discard(struct cx_media *m, uint64_t off, uint64_t len);
/* Set [off, off+len) to `byte` (a ranged media operation). */
int cx_media_fill(struct cx_media *m, uint64_t off, int byte, uint64_t len,
		  cx_err *e);
/* A memfd of `size` bytes named like a lent block ("cxlemu[TAG]:WHAT"),
 * sealed against growing, that can be emptied to take it back. */
int cx_media_lent_fd(const char *what, uint64_t size, int *out, cx_err *e);

#endif
