/*
 * preload_map.c - mapping an emulated DAX device, with Linux device-DAX's
 * rules (drivers/dax/device.c):
 *
 *   - shared mappings only: MAP_PRIVATE is EINVAL;
 *   - the mapping's start, length and device offset are multiples of the
 *     device's align (2 MiB): otherwise EINVAL; the address the preload
 *     picks is aligned, as the kernel's dax get_unmapped_area picks it;
 *   - a mapping may reach past the device's end: those pages fault with
 *     SIGBUS when touched (they are backed by an empty file);
 *   - a mapping may be split (munmap, mprotect, mremap) only at multiples
 *     of align (the driver's may_split): otherwise EINVAL;
 *   - MADV_REMOVE cannot punch holes in device memory (ENODEV), and
 *     msync(MS_SYNC) fails with EINVAL (device-DAX has no fsync; flush
 *     with CPU cache instructions, as PMDK does).
 *
 * The device stays held while any mapped byte remains; mremap may shrink
 * or move a mapping (the hold moves along) but not grow it, since the
 * media bytes past a mapping need not be the device's next ones.
 */
#include "preload/preload.h"
#include "client/coherency_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define MAX_MAPS 4096

struct mapping {
	uintptr_t start, end;      /* [start, end) still mapped */
	uint64_t align;
	struct cx_pl_dev *dev;
};
static struct mapping maps[MAX_MAPS];

static size_t page(void) { return (size_t)sysconf(_SC_PAGESIZE); }

static void add_mapping(uintptr_t start, uintptr_t end, uint64_t align,
			struct cx_pl_dev *d)
{
	d->nmaps++;
	for (int i = 0; i < MAX_MAPS; i++) {
		if (!maps[i].dev) {
			maps[i] = (struct mapping){ start, end, align, d };
			return;
		}
	}
	/* out of slots: the hold stays (the device stays open) */
}

void cx_pl_maps_forget(void)
{
	for (int i = 0; i < MAX_MAPS; i++)
		maps[i].dev = NULL;
}

/* [a, b) is unmapped: trim, split or drop the ranges it touches. */
static void unmapped(uintptr_t a, uintptr_t b)
{
	for (int i = 0; i < MAX_MAPS; i++) {
		struct mapping *m = &maps[i];
		if (!m->dev || b <= m->start || a >= m->end)
			continue;
		struct cx_pl_dev *d = m->dev;
		if (a > m->start && b < m->end) {       /* a hole: split */
			uintptr_t tail = m->end;
			m->end = a;
			add_mapping(b, tail, m->align, d);
			continue;
		}
		if (a > m->start)
			m->end = a;                     /* the tail went */
		else if (b < m->end)
			m->start = b;                   /* the head went */
		else {                                  /* all of it */
			m->dev = NULL;
			d->nmaps--;
			cx_pl_release_if_done(d);
		}
	}
}

/* The mapping holding address x (start <= x < end), or NULL. */
static struct mapping *mapping_at(uintptr_t x)
{
	for (int i = 0; i < MAX_MAPS; i++)
		if (maps[i].dev && maps[i].start <= x && x < maps[i].end)
			return &maps[i];
	return NULL;
}

static struct mapping *mapping_in(uintptr_t a, uintptr_t b)
{
	for (int i = 0; i < MAX_MAPS; i++)
		if (maps[i].dev && a < maps[i].end && maps[i].start < b)
			return &maps[i];
	return NULL;
}

/*
 * Would acting on [a, b) split a DAX mapping somewhere other than at a
 * multiple of its align?  Then Linux refuses (EINVAL): say which.
 */
static bool bad_split(uintptr_t a, uintptr_t b, const char *what)
{
	uintptr_t cut[2] = { a, b };
	for (int i = 0; i < 2; i++) {
		struct mapping *m = mapping_at(cut[i]);
		if (m && cut[i] != m->start && cut[i] % m->align) {
			cx_pl_say("%s of %s at %#lx would split the mapping "
				  "at %#lx, not a multiple of its align (%lu "
				  "KiB): refused with EINVAL, as by Linux",
				  what, m->dev->name, (unsigned long)a,
				  (unsigned long)cut[i],
				  (unsigned long)(m->align >> 10));
			return true;
		}
	}
	return false;
}

/* An empty file: pages mapped from it fault with SIGBUS. */
static int sigbus_fd(void)
{
	static int fd = -1;
	if (fd < 0) {
		int f = memfd_create("cxlemu-past-the-end",
				     MFD_CLOEXEC | MFD_ALLOW_SEALING);
		if (f < 0)
			return -1;
		fcntl(f, F_ADD_SEALS, F_SEAL_GROW | F_SEAL_SHRINK | F_SEAL_SEAL);
		fd = f;
	}
	return fd;
}

/* Reserve len bytes at an align boundary (at `want` with MAP_FIXED or
 * MAP_FIXED_NOREPLACE, which fails with EEXIST where something is
 * mapped). */
static void *reserve(void *want, size_t len, uint64_t align, int flags)
{
	if (flags & MAP_FIXED_NOREPLACE)
		return CX_PL_NEXT(mmap)(want, len, PROT_NONE, MAP_PRIVATE |
					MAP_ANONYMOUS | MAP_NORESERVE |
					MAP_FIXED_NOREPLACE, -1, 0);
	if (flags & MAP_FIXED)
		return want;
	size_t span = len + (size_t)align;
	uint8_t *p = CX_PL_NEXT(mmap)(want, span, PROT_NONE,
				      MAP_PRIVATE | MAP_ANONYMOUS |
				      MAP_NORESERVE, -1, 0);
	if (p == MAP_FAILED)
		return MAP_FAILED;
	uintptr_t a = ((uintptr_t)p + align - 1) & ~(uintptr_t)(align - 1);
	if (a > (uintptr_t)p)
		CX_PL_NEXT(munmap)(p, a - (uintptr_t)p);
	uintptr_t end = (uintptr_t)p + span;
	if (end > a + len)
		CX_PL_NEXT(munmap)((void *)(a + len), end - (a + len));
	return (void *)a;
}

static void *fail_map(int e)
{
	errno = e;
	return MAP_FAILED;
}

static void *dax_mmap(struct cx_pl_dev *d, void *addr, size_t len, int prot,
		      int flags, off_t off)
{
	int type = flags & MAP_TYPE;
	if (type != MAP_SHARED && type != MAP_SHARED_VALIDATE) {
		cx_pl_say("%s: device-DAX is mapped shared only (MAP_PRIVATE "
			  "and other types are refused, as by Linux)", d->name);
		return fail_map(EINVAL);
	}
	if (!len || len > SIZE_MAX / 2 || off < 0)
		return fail_map(EINVAL);
	struct cxlemu_err err;
	if (!d->dax) { /* a forked child mapping an inherited descriptor */
		char path[48];
		snprintf(path, sizeof(path), "/dev/%s", d->name);
		int rc = cx_pl_attach(d, path);
		if (rc < 0)
			return fail_map(-rc);
	}
	uint64_t align = cxlemu_dax_align(d->dax);
	uint64_t size = cxlemu_dax_size(d->dax);
	bool fixed = flags & (MAP_FIXED | MAP_FIXED_NOREPLACE);
	if (len % align || (uint64_t)off % align ||
	    (fixed && (uintptr_t)addr % align)) {
		cx_pl_say("mmap of %zu bytes of %s at offset %#llx%s: the "
			  "length, the offset%s must be multiples of the "
			  "device's align (%llu KiB); refused with EINVAL, as "
			  "by Linux", len, d->name, (unsigned long long)off,
			  fixed ? " (fixed address)" : "",
			  fixed ? " and the address" : "",
			  (unsigned long long)(align >> 10));
		return fail_map(EINVAL);
	}
	uint64_t in = (uint64_t)off >= size ? 0
		      : size - (uint64_t)off < len ? size - (uint64_t)off : len;
	uint8_t *base = reserve(addr, len, align, flags);
	if (base == MAP_FAILED)
		return MAP_FAILED;
	void *p = base;
	if (in) {
		int rc = cxlemu_dax_map_at(d->dax, (uint64_t)off, in, prot,
					   base, 1, &p, &err);
		if (rc < 0) {
			if (!(flags & MAP_FIXED))
				CX_PL_NEXT(munmap)(base, len);
			cx_pl_say("mmap of %zu bytes of %s at offset %lld: %s",
				  len, d->name, (long long)off, err.msg);
			return fail_map(rc == -E2BIG ? ENOMEM : EINVAL);
		}
	}
	if (in < len) {
		int fd = sigbus_fd();
		void *t = fd < 0 ? MAP_FAILED
			  : CX_PL_NEXT(mmap)(base + in, len - in, prot,
					     MAP_SHARED | MAP_FIXED, fd, 0);
		if (t == MAP_FAILED) {
			int e = errno;
			CX_PL_NEXT(munmap)(base, len);
			return fail_map(e);
		}
		CX_PL_SAY_ONCE("a mapping of %s reaches past its end (%llu "
			       "bytes): touching those pages raises SIGBUS, "
			       "as on Linux", d->name,
			       (unsigned long long)size);
	}
	add_mapping((uintptr_t)base, (uintptr_t)base + len, align, d);
	if (in)
		cx_pl_coh_mapped(d, base);  /* non-coherent: trap cache ops */
	return base;
}

void *mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
	struct cx_pl_dev *d = cx_pl_dev_of(fd);
	if (!d)
		return CX_PL_NEXT(mmap)(addr, len, prot, flags, fd, off);
	cx_pl_lock_take();
	void *p = dax_mmap(d, addr, len, prot, flags, off);
	int e = errno;
	cx_pl_lock_drop();
	errno = e;
	return p;
}

void *mmap64(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
	return mmap(addr, len, prot, flags, fd, off);
}

/* [a, b): page-rounded, or false when it wraps. */
static bool page_range(void *addr, size_t len, uintptr_t *a, uintptr_t *b)
{
	size_t pg = page();
	*a = (uintptr_t)addr;
	if (len > UINTPTR_MAX - *a - pg)
		return false;
	*b = (*a + len + pg - 1) & ~(uintptr_t)(pg - 1);
	return true;
}

int munmap(void *addr, size_t len)
{
	uintptr_t a = 0, b = 0;
	bool dax = len && page_range(addr, len, &a, &b);
	cx_pl_lock_take();
	if (dax && mapping_in(a, b) && bad_split(a, b, "munmap")) {
		cx_pl_lock_drop();
		errno = EINVAL;
		return -1;
	}
	/* a non-coherent view: report and forget its dirty lines first
	 * (preload_coherency.c) */
	if (dax && cx_pl_coh_any)
		cx_coh_release((void *)a, b - a);
	int rc = CX_PL_NEXT(munmap)(addr, len);
	if (rc == 0 && dax)
		unmapped(a, b);
	cx_pl_lock_drop();
	return rc;
}

int mprotect(void *addr, size_t len, int prot)
{
	uintptr_t a = 0, b = 0;
	if (len && page_range(addr, len, &a, &b)) {
		cx_pl_lock_take();
		bool bad = mapping_in(a, b) && bad_split(a, b, "mprotect");
		cx_pl_lock_drop();
		if (bad) {
			errno = EINVAL;
			return -1;
		}
		/* a non-coherent view's protections are the engine's: it
		 * keeps the program's as the most it opens pages to */
		if (cx_pl_coh_any && cx_coh_owns(a, b)) {
			cx_err e;
			int rc = cx_coh_protect((void *)a, b - a, prot, &e);
			if (rc < 0) {
				errno = -rc;
				return -1;
			}
			return 0;
		}
	}
	return CX_PL_NEXT(mprotect)(addr, len, prot);
}

int madvise(void *addr, size_t len, int advice)
{
	uintptr_t a = 0, b = 0;
	if (advice == MADV_REMOVE && len && page_range(addr, len, &a, &b)) {
		cx_pl_lock_take();
		struct mapping *m = mapping_in(a, b);
		cx_pl_lock_drop();
		if (m) {
			/* it would punch a hole in the media */
			errno = ENODEV;
			return -1;
		}
	}
	return CX_PL_NEXT(madvise)(addr, len, advice);
}

int msync(void *addr, size_t len, int flags)
{
	int rc = CX_PL_NEXT(msync)(addr, len, flags);
	uintptr_t a = 0, b = 0;
	if (rc == 0 && (flags & MS_SYNC) && len &&
	    page_range(addr, len, &a, &b)) {
		cx_pl_lock_take();
		struct mapping *m = mapping_in(a, b);
		cx_pl_lock_drop();
		if (m) {
			CX_PL_SAY_ONCE("msync(MS_SYNC) of a mapping of %s: "
				       "device-DAX has no fsync, so Linux "
				       "fails it with EINVAL; flush with CPU "
				       "cache instructions (pmem_persist) "
				       "instead", m->dev->name);
			errno = EINVAL;
			return -1;
		}
	}
	return rc;
}

/*
 * mremap of a DAX mapping: shrinking it and moving it are followed (the
 * hold moves with the bytes); growing it is refused, since the bytes past
 * the mapping in the media need not be the device's next ones.  Cuts and
 * a fixed destination must sit at multiples of align.  MREMAP_DONTUNMAP
 * would leave the old range mapped to nothing the device answers for:
 * refused too.
 */
void *mremap(void *old, size_t old_len, size_t new_len, int flags, ...)
{
	void *want = NULL;
	if (flags & MREMAP_FIXED) {
		va_list ap;
		va_start(ap, flags);
		want = va_arg(ap, void *);
		va_end(ap);
	}
	uintptr_t a = 0, b = 0;
	size_t pg = page();
	size_t new_r = (new_len + pg - 1) & ~(pg - 1);
	cx_pl_lock_take();
	struct mapping *m = old_len && page_range(old, old_len, &a, &b) ?
			    mapping_in(a, b) : NULL;
	if (!m) {
		cx_pl_lock_drop();
		return CX_PL_NEXT(mremap)(old, old_len, new_len, flags, want);
	}
	struct cx_pl_dev *d = m->dev;
	uint64_t align = m->align;
	if (cx_pl_coh_any && cx_coh_owns(a, b)) {
		cx_pl_lock_drop();
		cx_pl_say("mremap of %s: a non-coherent mapping cannot move or "
			  "shrink (its cache is laid out where it was mapped); "
			  "munmap and mmap instead", d->name);
		errno = EINVAL;
		return MAP_FAILED;
	}
	if (new_len > old_len || (flags & MREMAP_DONTUNMAP)) {
		cx_pl_lock_drop();
		cx_pl_say("mremap of %s: a DAX mapping can shrink or move, not "
			  "%s; mmap the range you need instead", d->name,
			  new_len > old_len ? "grow" : "stay mapped behind "
			  "(MREMAP_DONTUNMAP)");
		errno = EINVAL;
		return MAP_FAILED;
	}
	if (want && (uintptr_t)want % align)
		cx_pl_say("mremap of %s to %p: the destination must be a "
			  "multiple of the device's align (%llu KiB)", d->name,
			  want, (unsigned long long)(align >> 10));
	if (bad_split(a, b, "mremap") || bad_split(a + new_r, b, "mremap") ||
	    (want && (uintptr_t)want % align)) {
		cx_pl_lock_drop();
		errno = EINVAL;
		return MAP_FAILED;
	}
	void *p = CX_PL_NEXT(mremap)(old, old_len, new_len, flags, want);
	if (p != MAP_FAILED && new_len) {
		if ((uintptr_t)p != a) {
			/* hold the new place before letting go of the old */
			add_mapping((uintptr_t)p, (uintptr_t)p + new_r, align, d);
			unmapped(a, b);
		} else {
			unmapped(a + new_r, b);
		}
	}
	cx_pl_lock_drop();
	return p;
}
