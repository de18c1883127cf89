/*
 * sysfs.h - the fabric as a Linux host sees it through sysfs and /dev.
 *
 * One host's view is a tree of directories, attributes, symbolic links and
 * character-device nodes, rooted at "/" and holding only what the fabric
 * provides (the DAX bus and devices, /sys/dev/char links, /dev nodes; the
 * CXL bus as it grows).  It is built from the model for each request, so
 * every read shows the state of that moment; attributes are rendered when
 * read.  The daemon answers programs' stat/read/readdir/readlink of these
 * paths from it (the preload library forwards them; a shell's filesystem
 * can serve the same tree), so there is one model of the tree, not one per
 * consumer.
 *
 * Paths resolve as the kernel resolves them: every symbolic link on the
 * way is followed (the last one too unless asked not to), ".." climbs from
 * the physical directory reached, and a loop of links ends with ELOOP.
 *
 * Device numbers (documented in the README): DAX devices are character
 * devices of major CX_SYSFS_DAX_MAJOR, daxZ.M having minor Z * 256 + M;
 * memdevs /dev/cxl/memN are CX_SYSFS_MEM_MAJOR:N; stable across restarts.
 */
#ifndef CXLEMU_SYSFS_H
#define CXLEMU_SYSFS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "model/model.h"

#define CX_SYSFS_DAX_MAJOR 252u
#define CX_SYSFS_DAX_MINOR(region, dev) ((unsigned)(region) * 256u + (unsigned)(dev))
/* CXL memdevs: /dev/cxl/memN is 240:N (Linux's major is dynamic) */
#define CX_SYSFS_MEM_MAJOR 240u
#define CX_SYSFS_PATH_MAX 512
#define CX_SYSFS_ATTR_MAX 4096      /* a sysfs attribute is one page */

enum cx_sysfs_type {
	CX_SYSFS_DIR,
	CX_SYSFS_ATTR,
	CX_SYSFS_LINK,
	CX_SYSFS_CHR,
};

struct cx_sysfs_node;
/* Render an attribute into buf (at most len bytes, a page); returns the
 * length or a negative errno (e says why). */
typedef int (*cx_sysfs_show_fn)(const struct cx_sysfs_node *n, char *buf,
				size_t len, cx_err *e);
/* Act on a write of `buf` (len bytes, NUL-terminated) to an attribute;
 * 0 or a negative errno as the kernel's store would return it, with e
 * saying what rule the value broke. */
typedef int (*cx_sysfs_store_fn)(struct cx_sysfs_node *n, const char *buf,
				 size_t len, cx_err *e);

/* A binary attribute's write (Linux's bin_attribute): len bytes at off. */
typedef int (*cx_sysfs_bin_store_fn)(struct cx_sysfs_node *n,
				     const uint8_t *buf, size_t len,
				     uint64_t off, cx_err *e);

struct cx_sysfs_node {
	char *name;
	enum cx_sysfs_type type;
	unsigned mode;                 /* permission bits (0444, 0755, ...) */
	struct cx_sysfs_node *parent;
	cx_vec children;               /* DIR: struct cx_sysfs_node * */
	char *target;                  /* LINK: absolute path it points to */
	unsigned major, minor;         /* CHR */
	cx_sysfs_show_fn show;         /* ATTR: rendered on read ... */
	char *text;                    /* ... or fixed text */
	cx_sysfs_store_fn store;       /* ATTR: writable when set */
	cx_sysfs_bin_store_fn bin_store; /* ATTR: a binary one, instead */
	void *obj;                     /* what show and store act on */
	long arg;                      /* and a number they may need */
};

struct cx_sysfs {
	struct cx_host *host;
	struct cx_sysfs_node *root;
};

/* The view of host h at this moment.  Never fails (out of memory aborts,
 * as everywhere in cxlemu). */
struct cx_sysfs *cx_sysfs_build(struct cx_host *h);
void cx_sysfs_free(struct cx_sysfs *t);

/*
 * Resolve an absolute path.  With nofollow, a link in the last component
 * is returned itself (lstat, readlink).  canon (may be NULL) receives the
 * physical path of the node reached (realpath).  -ENOENT, -ENOTDIR,
 * -ELOOP or -ENAMETOOLONG with e naming the path and the component.
 */
int cx_sysfs_lookup(const struct cx_sysfs *t, const char *path, bool nofollow,
		    struct cx_sysfs_node **out, char *canon, size_t canon_len,
		    cx_err *e);
/* An attribute's content (buf of at least CX_SYSFS_ATTR_MAX bytes);
 * returns its length or -errno (-EISDIR for a directory, -EACCES for a
 * write-only attribute). */
int cx_sysfs_read(const struct cx_sysfs_node *n, char *buf, size_t len,
		  cx_err *e);
/* Write an attribute: -EACCES for a read-only one, -EISDIR for a
 * directory, else what its store returns. */
int cx_sysfs_write(struct cx_sysfs_node *n, const char *buf, size_t len,
		   cx_err *e);
/* Write bytes at an offset: a binary attribute takes them as they are; a
 * text one takes them as one store (the offset does not matter), as a
 * string. */
int cx_sysfs_write_at(struct cx_sysfs_node *n, const uint8_t *buf,
		      size_t len, uint64_t off, cx_err *e);
/* A written value without its one trailing newline (as sysfs_streq
 * compares), truncated to len. */
void cx_sysfs_value(const char *buf, char *out, size_t len);
/* Make an attribute a writable binary one. */
void cx_sysfs_on_write_bin(struct cx_sysfs_node *n, cx_sysfs_bin_store_fn store,
			   void *obj);
/* Make an attribute writable (its store and what it acts on). */
void cx_sysfs_on_write(struct cx_sysfs_node *n, cx_sysfs_store_fn store,
		       void *obj, long arg);
/* Does a store to the node destroy what programs may still map: a
 * region's deletion, or a mailbox command the command table marks as
 * wiping media (security/sanitize, security/erase)?  The server holds
 * such stores back while an earlier daemon's programs map copies. */
bool cx_sysfs_destroys(const struct cx_sysfs_node *n);
/* A link's target as readlink(2) shows it: relative to the link. */
void cx_sysfs_readlink(const struct cx_sysfs_node *n, char *buf, size_t len);
/* The node's absolute path. */
void cx_sysfs_path(const struct cx_sysfs_node *n, char *buf, size_t len);
/* A stable inode number for the node (a hash of its path, never 0). */
uint64_t cx_sysfs_ino(const struct cx_sysfs_node *n);
/* st_mode bits: type and permissions. */
unsigned cx_sysfs_st_mode(const struct cx_sysfs_node *n);

/* ---- building (tree.c), for the files that describe each bus ---- */
struct cx_sysfs_node *cx_sysfs_dir(struct cx_sysfs_node *parent,
				   const char *name);
/* mkdir -p of an absolute path below the root */
struct cx_sysfs_node *cx_sysfs_mkdirs(struct cx_sysfs *t, const char *path);
struct cx_sysfs_node *cx_sysfs_attr(struct cx_sysfs_node *parent,
				    const char *name, unsigned mode,
				    cx_sysfs_show_fn show, void *obj);
struct cx_sysfs_node *cx_sysfs_text(struct cx_sysfs_node *parent,
				    const char *name, unsigned mode,
				    const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
struct cx_sysfs_node *cx_sysfs_link(struct cx_sysfs_node *parent,
				    const char *name, const char *target);
struct cx_sysfs_node *cx_sysfs_chr(struct cx_sysfs_node *parent,
				   const char *name, unsigned mode,
				   unsigned major, unsigned minor);
struct cx_sysfs_node *cx_sysfs_child(const struct cx_sysfs_node *dir,
				     const char *name);

/* ---- the buses (one file each) ---- */
void cx_sysfs_add_dax(struct cx_sysfs *t);
void cx_sysfs_add_cxl(struct cx_sysfs *t);

#endif
