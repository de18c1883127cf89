/*
 * preload.h - what the files of libcxlemu-preload.so share: the devices
 * and descriptors they track, the lock, the fabric connection, and how
 * they reach the C library's own functions.
 *
 *   preload.c        open of /dev/daxZ.M, descriptors (close, dup, fcntl),
 *                    fork
 *   preload_cxl.c    /dev/cxl/memN: open, and the mailbox ioctls as
 *                    Linux's cxl_mem driver answers them
 *   preload_map.c    mmap, munmap, mremap, mprotect, madvise, msync with
 *                    device-DAX's rules
 *   preload_io.c     the I/O calls device-DAX refuses (read, write, ...)
 *   preload_stat.c   stat, lstat, fstat, statx, access and their variants
 *   preload_sysfs.c  the fabric's /sys paths: open, fopen, opendir,
 *                    readdir, readlink, realpath, scandir
 *   preload_coherency.c  non-coherent mappings: mode, settings, signal
 *                    handlers, system calls into them, exit report
 *   preload_cacheops.c   the program's clflush/clflushopt/clwb, trapped
 */
#ifndef CXLEMU_PRELOAD_H
#define CXLEMU_PRELOAD_H

#include <dlfcn.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/uio.h>

#include "client/sysfs_client.h"
#include "cxlemu/dax.h"

#define CX_PL_MAX_FDS 4096

/* The C library's next definition of `name` (resolved once). */
#define CX_PL_NEXT(name)                                                    \
	({                                                                  \
		static __typeof__(&name) next_;                             \
		__typeof__(&name) f_ = __atomic_load_n(&next_,              \
						       __ATOMIC_ACQUIRE);   \
		if (!f_) {                                                  \
			f_ = (__typeof__(&name))dlsym(RTLD_NEXT, #name);    \
			__atomic_store_n(&next_, f_, __ATOMIC_RELEASE);     \
		}                                                           \
		f_;                                                         \
	})

/* One emulated DAX device opened by this process. */
struct cx_pl_dev {
	char name[32];              /* daxZ.M */
	unsigned major, minor;
	struct cxlemu_dax *dax;     /* NULL in a forked child until it maps */
	int nfds;                   /* descriptors naming it */
	int nmaps;                  /* mapped ranges */
};

/* One /dev/cxl/memN opened by this process, with what Linux's cxl_pci
 * learns when it binds the device (preload_cxl.c). */
struct cx_pl_mem {
	char name[16];              /* memN */
	unsigned minor;             /* N */
	uint32_t enabled;           /* bit per UAPI command id: the device's
				       Command Effects Log has it */
	uint32_t exclusive;         /* bit per UAPI command id: the kernel
				       keeps it for itself */
	int nfds;                   /* descriptors naming it */
};

/* What a tracked descriptor is. */
struct cx_pl_fd {
	struct cx_pl_dev *dev;      /* an open DAX device, or */
	struct cx_pl_mem *mem;      /* an open memdev, or */
	char *dir;                  /* a directory of the fabric's sysfs */
	int acc;                    /* dev, mem: O_RDONLY, O_WRONLY, O_RDWR */
};

/* Recursive: the client library calls close() and mmap(), which land
 * back in the preload while it holds the lock. */
extern pthread_mutex_t cx_pl_lock;
extern struct cx_pl_fd cx_pl_fds[CX_PL_MAX_FDS];

void cx_pl_say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Say it once per process (per place in the code). */
#define CX_PL_SAY_ONCE(...)                                                 \
	do {                                                                \
		static int said_;                                           \
		if (!__atomic_exchange_n(&said_, 1, __ATOMIC_RELAXED))      \
			cx_pl_say(__VA_ARGS__);                             \
	} while (0)

/* The fabric connection (made on first use), or NULL with *rc set and a
 * line said once about why. */
struct cxlemu *cx_pl_conn(int *rc);
/* Run with cx_pl_lock held. */
static inline void cx_pl_lock_take(void) { pthread_mutex_lock(&cx_pl_lock); }
static inline void cx_pl_lock_drop(void) { pthread_mutex_unlock(&cx_pl_lock); }

/* The DAX device behind fd, or NULL (no lock needed to ask). */
struct cx_pl_dev *cx_pl_dev_of(int fd);
/* The memdev behind fd, or NULL (no lock needed to ask). */
struct cx_pl_mem *cx_pl_mem_of(int fd);
/* A directory of the fabric's sysfs behind fd, or NULL. */
const char *cx_pl_dir_of(int fd);
/* Open the device on this process's connection (dev->dax). Lock held. */
int cx_pl_attach(struct cx_pl_dev *d, const char *path);
/* Nothing names the device any more: let it go. Lock held. */
void cx_pl_release_if_done(struct cx_pl_dev *d);
/* A descriptor that behaves as device-DAX does for what the preload does
 * not see (raw syscalls): read/write/lseek... fail, mmap fails. */
int cx_pl_placeholder(bool cloexec);
/* Opening a device node (/dev/daxZ.M, /dev/cxl/memN): 0 when the open(2)
 * flags can open a character device, else the errno Linux gives. */
int cx_pl_node_flags_check(int flags);
/* A placeholder for a device node opened with `flags`, below
 * CX_PL_MAX_FDS; -1 with errno otherwise. */
int cx_pl_node_fd(int flags);
/* Track fd as a sysfs directory (path copied). */
int cx_pl_track_dir(int fd, const char *path);

/* /dev/daxZ.M: fills name, major, minor. */
bool cx_pl_is_dax_path(const char *path, char *name, size_t len,
		       unsigned *major, unsigned *minor);
/* /dev/cxl/memN: fills minor (N). */
bool cx_pl_is_mem_path(const char *path, unsigned *minor);
/* A path the fabric answers for: /dev/daxZ.M, /dev/cxl and the sysfs
 * (DAX bus, /sys/dev/char/252:*, the CXL platform device). */
bool cx_pl_claims(const char *path);
/* Resolve `path` relative to dirfd into buf when it is one the fabric
 * answers for; returns buf or NULL. */
const char *cx_pl_claimed_at(int dirfd, const char *path, char *buf,
			     size_t len);

/* /dev/cxl/memN (preload_cxl.c): a placeholder descriptor tracked as
 * the memdev, or -1 with errno. */
int cx_pl_mem_open(const char *path, int flags);
/* ioctl on a memdev descriptor: CXL_MEM_QUERY_COMMANDS and
 * CXL_MEM_SEND_COMMAND; -1 with errno as Linux gives. */
int cx_pl_mem_ioctl(int fd, unsigned long req, void *arg);
/* A descriptor stops naming m. Lock held. */
void cx_pl_mem_put(struct cx_pl_mem *m);

/* stat of a tracked device descriptor or a claimed path */
void cx_pl_stat_dev(const struct cx_pl_dev *d, struct stat *st);
void cx_pl_stat_mem(const struct cx_pl_mem *m, struct stat *st);
int cx_pl_stat_path(const char *path, bool nofollow, struct stat *st);
/* Open a claimed sysfs path (not /dev/dax): a descriptor holding the
 * attribute's text, or a tracked directory descriptor; -1 with errno. */
int cx_pl_sysfs_open(const char *path, int flags);

/* mmap bookkeeping, preload_map.c: forget the process's mappings in a
 * forked child. */
void cx_pl_maps_forget(void);

/* ---- non-coherent mappings (preload_coherency.c) ---- */
extern bool cx_pl_coh_any;      /* one was made: the hooks below matter */
/* A device was opened: apply CXLEMU_COHERENCY and the settings. */
void cx_pl_coh_attach(struct cx_pl_dev *d);
/* A mapping of d was made at addr (patches cache instructions once). */
void cx_pl_coh_mapped(struct cx_pl_dev *d, void *addr);
/* Open [p, p+n) of non-coherent views for a system call that writes into
 * it (into) or reads it; true when part of it is such a view. */
bool cx_pl_coh_touch(const void *p, size_t n, bool into);
bool cx_pl_coh_touch_iov(const struct iovec *v, int n, bool into);
/* Return `call` (a call handed a buffer) after `touch`; while it fails
 * with EFAULT on a view (the evictor closed a page in between), touch
 * and call again, a few times. */
#define CX_PL_COH_IO(type, call, touch)                                     \
	do {                                                                \
		bool v_ = (touch);                                          \
		type r_ = call;                                             \
		for (int t_ = 0; v_ && r_ < 0 && errno == EFAULT && t_ < 3; \
		     t_++) {                                                \
			(void)(touch);                                      \
			r_ = call;                                          \
		}                                                           \
		return r_;                                                  \
	} while (0)

/* ---- the program's cache instructions (preload_cacheops.c) ---- */
/* Find and trap clflush, clflushopt and clwb in the loaded code not
 * searched before; returns how many are trapped in all. */
int cx_pl_cacheops_patch(void);
/* The program's SIGTRAP handler, chained to for traps not ours. */
void cx_pl_cacheops_chain(const struct sigaction *act, struct sigaction *old);

#endif
