/*
 * preload_io.c - the calls Linux's device-DAX and CXL memdev character
 * devices answer without moving data.
 *
 * Neither has read, write, fsync, fallocate or splice operations, so
 * read(2), write(2) and their vector, positioned, fortified and
 * file-to-file forms fail with EINVAL, as do fsync and ftruncate; lseek
 * succeeds and stays at 0 (noop_llseek).  ioctl is ENOTTY on device-DAX
 * (isatty's TCGETS too); a memdev takes the mailbox ioctls (preload_cxl.c);
 * both take the generic FIOCLEX, FIONCLEX, FIONBIO and FIOASYNC.  The placeholder descriptor (an
 * epoll instance) already refuses most of these even when a program
 * bypasses the C library; these wrappers make every one of them give
 * Linux's errno and say once why.  Other descriptors go straight to the C
 * library.
 */
#include "preload/preload.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <sys/ioctl.h>
#include <sys/sendfile.h>
#include <sys/uio.h>
#include <termios.h>
#include <unistd.h>

static int refuse(int fd, const char *call)
{
	struct cx_pl_dev *d = cx_pl_dev_of(fd);
	struct cx_pl_mem *m = cx_pl_mem_of(fd);
	if (m)
		CX_PL_SAY_ONCE("%s on /dev/cxl/%s: a CXL memdev cannot be read "
			       "or written (Linux gives EINVAL); send mailbox "
			       "commands with ioctl(CXL_MEM_SEND_COMMAND)",
			       call, m->name);
	else
		CX_PL_SAY_ONCE("%s on /dev/%s: device-DAX cannot be read or "
			       "written with system calls (Linux gives EINVAL); "
			       "map it with mmap(MAP_SHARED) instead", call,
			       d ? d->name : "dax");
	errno = EINVAL;
	return -1;
}

/* a DAX device or a memdev: a node without read and write */
#define NODE(fd) (cx_pl_dev_of(fd) != NULL || cx_pl_mem_of(fd) != NULL)

/* A call whose first argument is the descriptor: refused on a device
 * node, passed on otherwise.  PARAMS and ARGS are parenthesised lists. */
#define ON_FD(ret, name, shown, params, args)                               \
	ret name params                                                     \
	{                                                                   \
		return NODE(fd) ? refuse(fd, shown)                         \
				: CX_PL_NEXT(name) args;                    \
	}

/* the fortified forms glibc's headers call; not declared by them */
ssize_t __read_chk(int fd, void *buf, size_t n, size_t buflen);
ssize_t __pread_chk(int fd, void *buf, size_t n, off_t off, size_t buflen);
ssize_t __pread64_chk(int fd, void *buf, size_t n, off_t off, size_t buflen);

/* The same for a call handed a buffer (b, n) or vector (v, n), which
 * may point into a non-coherent mapping: the pages are opened for the
 * kernel first, which would otherwise fail with EFAULT on one the
 * emulator keeps closed (preload_coherency.c).  INTO: the call writes
 * into the buffer. */
#define ON_BUF(ret, name, shown, params, args, touch)                       \
	ret name params                                                     \
	{                                                                   \
		if (NODE(fd))                                               \
			return refuse(fd, shown);                           \
		CX_PL_COH_IO(ret, CX_PL_NEXT(name) args, touch);            \
	}
#define INTO cx_pl_coh_touch(b, n, true)
#define FROM cx_pl_coh_touch(b, n, false)
#define INTO_V cx_pl_coh_touch_iov(v, n, true)
#define FROM_V cx_pl_coh_touch_iov(v, n, false)

ON_BUF(ssize_t, read, "read", (int fd, void *b, size_t n), (fd, b, n), INTO)
ON_BUF(ssize_t, __read_chk, "read", (int fd, void *b, size_t n, size_t bl),
       (fd, b, n, bl), INTO)
ON_BUF(ssize_t, write, "write", (int fd, const void *b, size_t n), (fd, b, n),
       FROM)
ON_BUF(ssize_t, pread, "pread", (int fd, void *b, size_t n, off_t o),
       (fd, b, n, o), INTO)
ON_BUF(ssize_t, pread64, "pread", (int fd, void *b, size_t n, off_t o),
       (fd, b, n, o), INTO)
ON_BUF(ssize_t, __pread_chk, "pread",
       (int fd, void *b, size_t n, off_t o, size_t bl), (fd, b, n, o, bl),
       INTO)
ON_BUF(ssize_t, __pread64_chk, "pread",
       (int fd, void *b, size_t n, off_t o, size_t bl), (fd, b, n, o, bl),
       INTO)
ON_BUF(ssize_t, pwrite, "pwrite", (int fd, const void *b, size_t n, off_t o),
       (fd, b, n, o), FROM)
ON_BUF(ssize_t, pwrite64, "pwrite", (int fd, const void *b, size_t n,
       off_t o), (fd, b, n, o), FROM)
ON_BUF(ssize_t, readv, "readv", (int fd, const struct iovec *v, int n),
       (fd, v, n), INTO_V)
ON_BUF(ssize_t, writev, "writev", (int fd, const struct iovec *v, int n),
       (fd, v, n), FROM_V)
ON_BUF(ssize_t, preadv, "preadv", (int fd, const struct iovec *v, int n,
       off_t o), (fd, v, n, o), INTO_V)
ON_BUF(ssize_t, preadv64, "preadv", (int fd, const struct iovec *v, int n,
       off_t o), (fd, v, n, o), INTO_V)
ON_BUF(ssize_t, pwritev, "pwritev", (int fd, const struct iovec *v, int n,
       off_t o), (fd, v, n, o), FROM_V)
ON_BUF(ssize_t, pwritev64, "pwritev", (int fd, const struct iovec *v, int n,
       off_t o), (fd, v, n, o), FROM_V)
ON_BUF(ssize_t, preadv2, "preadv2", (int fd, const struct iovec *v, int n,
       off_t o, int fl), (fd, v, n, o, fl), INTO_V)
ON_BUF(ssize_t, pwritev2, "pwritev2", (int fd, const struct iovec *v, int n,
       off_t o, int fl), (fd, v, n, o, fl), FROM_V)
ON_FD(int, ftruncate, "ftruncate", (int fd, off_t len), (fd, len))
ON_FD(int, ftruncate64, "ftruncate", (int fd, off_t len), (fd, len))
ON_FD(int, fsync, "fsync", (int fd), (fd))
ON_FD(int, fdatasync, "fdatasync", (int fd), (fd))

ssize_t sendfile(int out, int in, off_t *off, size_t n)
{
	if (NODE(in) || NODE(out))
		return refuse(NODE(in) ? in : out, "sendfile");
	return CX_PL_NEXT(sendfile)(out, in, off, n);
}

ssize_t sendfile64(int out, int in, off_t *off, size_t n)
{
	if (NODE(in) || NODE(out))
		return refuse(NODE(in) ? in : out, "sendfile");
	return CX_PL_NEXT(sendfile64)(out, in, off, n);
}

ssize_t copy_file_range(int in, off_t *in_off, int out, off_t *out_off,
			size_t n, unsigned fl)
{
	if (NODE(in) || NODE(out))
		return refuse(NODE(in) ? in : out, "copy_file_range");
	return CX_PL_NEXT(copy_file_range)(in, in_off, out, out_off, n, fl);
}

ssize_t splice(int in, off_t *in_off, int out, off_t *out_off, size_t n,
	       unsigned fl)
{
	if (NODE(in) || NODE(out))
		return refuse(NODE(in) ? in : out, "splice");
	return CX_PL_NEXT(splice)(in, in_off, out, out_off, n, fl);
}



int fallocate(int fd, int mode, off_t off, off_t len)
{
	if (NODE(fd)) {
		errno = ENODEV;   /* not a regular file or block device */
		return -1;
	}
	return CX_PL_NEXT(fallocate)(fd, mode, off, len);
}

int fallocate64(int fd, int mode, off_t off, off_t len)
{
	if (NODE(fd)) {
		errno = ENODEV;
		return -1;
	}
	return CX_PL_NEXT(fallocate64)(fd, mode, off, len);
}



/* noop_llseek: the position never moves from 0 */
off_t lseek(int fd, off_t off, int whence)
{
	return NODE(fd) ? 0 : CX_PL_NEXT(lseek)(fd, off, whence);
}

off_t lseek64(int fd, off_t off, int whence)
{
	return NODE(fd) ? 0 : CX_PL_NEXT(lseek64)(fd, off, whence);
}

/* Not a terminal: the C library asks with a TCGETS ioctl of its own,
 * which the placeholder would answer EINVAL. */
int tcgetattr(int fd, struct termios *t)
{
	if (NODE(fd)) {
		errno = ENOTTY;
		return -1;
	}
	return CX_PL_NEXT(tcgetattr)(fd, t);
}

int isatty(int fd)
{
	if (NODE(fd)) {
		errno = ENOTTY;
		return 0;
	}
	return CX_PL_NEXT(isatty)(fd);
}

/* The generic ioctls every file takes work; on a memdev the driver's own
 * go to preload_cxl.c; any other is ENOTTY (the placeholder's own epoll
 * ioctls would say EINVAL). */
int ioctl(int fd, unsigned long req, ...)
{
	va_list ap;
	va_start(ap, req);
	void *arg = va_arg(ap, void *);
	va_end(ap);
	if (NODE(fd) && req != FIOCLEX && req != FIONCLEX && req != FIONBIO &&
	    req != FIOASYNC) {
		if (cx_pl_mem_of(fd))
			return cx_pl_mem_ioctl(fd, req, arg);
		errno = ENOTTY;
		return -1;
	}
	return CX_PL_NEXT(ioctl)(fd, req, arg);
}
