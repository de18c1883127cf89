/*
 * sysfs_fuse.c - /sys as one host of the fabric sees it, for `cxlemu
 * shell`: a FUSE filesystem mounted over /sys in a private mount
 * namespace that merges the daemon's view of the host (sysfs/sysfs.h,
 * asked with the sysfs-* requests) with this machine's own /sys.
 *
 * For every path the daemon's view answers first: its attributes and
 * links win, its directories are merged with the real ones of the same
 * name (readdir shows both); whatever it does not have is this machine's
 * sysfs, reached through a descriptor of the real /sys opened before the
 * mount covered it.  Reads of the fabric's attributes are rendered at the
 * moment of the read, writes go to the attribute's store in the daemon
 * (so `echo region0 > create_ram_region` acts on the fabric).  Contents,
 * links and directory listings are never cached (direct I/O), so every
 * read shows the fabric's present state, and so is every stat: the
 * kernel asks for a file's attributes each time.  Only names met on the
 * way along a path may be kept for a second, which spares a path walk a
 * daemon request per component; a name that has gone since then fails
 * at its own stat or open (ENOENT), as a removed device must.  The machine's own sysfs is read-only in
 * the shell (EROFS): its tools act on the fabric, never on the machine
 * (daxctl would otherwise offline this machine's memory blocks).  A
 * daemon that has gone away makes the
 * fabric's paths fail with ENOENT (EIO for writes); nothing waits on it.
 *
 * One thread serves the filesystem; requests to the daemon go one at a
 * time on this process's own connection.
 */
#define FUSE_USE_VERSION 31
#include "shell/sysfs_fuse.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fuse.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "client/sysfs_client.h"
#include "util/util.h"

#define OURS ((uint64_t)-1)   /* fi->fh of a fabric attribute */

struct fs {
	int real;                  /* O_PATH descriptor of the real /sys */
	struct cxlemu *conn;
	struct fuse *fuse;
	pthread_t loop;
	bool looping;
};

static struct fs *fs_of(void)
{
	return fuse_get_context()->private_data;
}

/* "/bus/cxl" -> "/sys/bus/cxl" (the daemon's view is rooted at /) */
static void abs_path(const char *path, char *buf, size_t len)
{
	snprintf(buf, len, "/sys%s", strcmp(path, "/") ? path : "");
}

/* "/bus/cxl" -> "bus/cxl", "/" -> "." (relative to the real /sys) */
static const char *rel(const char *path)
{
	return path[1] ? path + 1 : ".";
}

/* The daemon's node at path: 0, or -ENOENT when it has none. */
static int ours(const char *path, bool nofollow, struct cx_sysfs_cstat *st)
{
	char p[CX_SYSFS_CLIENT_PATH_MAX];
	struct cxlemu_err err;
	abs_path(path, p, sizeof(p));
	int rc = cx_sysfs_cstat(fs_of()->conn, p, nofollow, st, &err);
	return rc < 0 ? -ENOENT : 0;
}

static void fill_stat(const struct cx_sysfs_cstat *s, struct stat *st)
{
	memset(st, 0, sizeof(*st));
	st->st_mode = s->mode;
	st->st_ino = s->ino;
	st->st_nlink = S_ISDIR(s->mode) ? 2 : 1;
	st->st_size = (off_t)s->size;
	st->st_blksize = 4096;
	if (s->type == CX_SC_CHR)
		st->st_rdev = makedev(s->major, s->minor);
}

static int fs_getattr(const char *path, struct stat *st,
		      struct fuse_file_info *fi)
{
	struct cx_sysfs_cstat s;
	if (ours(path, true, &s) == 0) {
		fill_stat(&s, st);
		return 0;
	}
	if (fstatat(fs_of()->real, rel(path), st, AT_SYMLINK_NOFOLLOW) < 0)
		return -errno;
	return 0;
}

static int fs_readlink(const char *path, char *buf, size_t size)
{
	struct cx_sysfs_cstat s;
	if (!size)
		return -EINVAL;
	if (ours(path, true, &s) == 0) {
		if (s.type != CX_SC_LINK)
			return -EINVAL;
		snprintf(buf, size, "%s", s.link);
		return 0;
	}
	ssize_t n = readlinkat(fs_of()->real, rel(path), buf, size - 1);
	if (n < 0)
		return -errno;
	buf[n] = 0;
	return 0;
}

static int fs_readdir(const char *path, void *buf, fuse_fill_dir_t fill,
		      off_t off, struct fuse_file_info *fi,
		      enum fuse_readdir_flags flags)
{
	char p[CX_SYSFS_CLIENT_PATH_MAX];
	struct cx_sysfs_centry *ents = NULL;
	struct cxlemu_err err;
	int n = 0;
	abs_path(path, p, sizeof(p));
	bool have = cx_sysfs_clist(fs_of()->conn, p, &ents, &n, &err) == 0;
	fill(buf, ".", NULL, 0, 0);
	fill(buf, "..", NULL, 0, 0);
	for (int i = 0; i < n; i++)
		fill(buf, ents[i].name, NULL, 0, 0);
	/* and this machine's entries that the fabric does not shadow */
	int fd = openat(fs_of()->real, rel(path), O_RDONLY | O_DIRECTORY |
			O_CLOEXEC);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	if (!d && fd >= 0)
		close(fd);
	if (!d && !have) {
		free(ents);
		return -ENOENT;
	}
	struct dirent *de;
	while (d && (de = readdir(d))) {
		bool dup = !strcmp(de->d_name, ".") || !strcmp(de->d_name, "..");
		for (int i = 0; !dup && i < n; i++)
			dup = !strcmp(ents[i].name, de->d_name);
		if (!dup)
			fill(buf, de->d_name, NULL, 0, 0);
	}
	if (d)
		closedir(d);
	free(ents);
	return 0;
}

static int fs_open(const char *path, struct fuse_file_info *fi)
{
	struct cx_sysfs_cstat s;
	fi->direct_io = 1;    /* sysfs sizes are not content lengths */
	if (ours(path, false, &s) == 0) {
		if (s.type == CX_SC_DIR)
			return -EISDIR;
		if (s.type == CX_SC_CHR)
			return -ENXIO;
		int acc = fi->flags & O_ACCMODE;
		if ((acc != O_WRONLY && !(s.mode & 0444)) ||
		    (acc != O_RDONLY && !(s.mode & 0222)))
			return -EACCES;
		fi->fh = OURS;
		return 0;
	}
	/* the machine's own sysfs is read-only here: the shell is one
	 * host of the fabric, and its tools must not reconfigure the
	 * machine (daxctl would offline this machine's memory blocks) */
	if ((fi->flags & O_ACCMODE) != O_RDONLY)
		return -EROFS;
	int fd = openat(fs_of()->real, rel(path),
			(fi->flags & ~(O_CREAT | O_EXCL)) | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	fi->fh = (uint64_t)fd;
	return 0;
}

static int fs_read(const char *path, char *buf, size_t size, off_t off,
		   struct fuse_file_info *fi)
{
	if (fi->fh != OURS) {
		ssize_t n = pread((int)fi->fh, buf, size, off);
		return n < 0 ? -errno : (int)n;
	}
	char p[CX_SYSFS_CLIENT_PATH_MAX];
	struct cxlemu_err err;
	char *data = NULL;
	size_t len = 0;
	abs_path(path, p, sizeof(p));
	int rc = cx_sysfs_cread(fs_of()->conn, p, &data, &len, &err);
	if (rc < 0)
		return rc == -ENOENT ? -ENOENT : rc;
	size_t n = 0;
	if ((size_t)off < len) {
		n = len - (size_t)off < size ? len - (size_t)off : size;
		memcpy(buf, data + off, n);
	}
	free(data);
	return (int)n;
}

static int fs_write(const char *path, const char *buf, size_t size, off_t off,
		    struct fuse_file_info *fi)
{
	if (fi->fh != OURS)
		return -EROFS;
	char p[CX_SYSFS_CLIENT_PATH_MAX];
	struct cxlemu_err err;
	abs_path(path, p, sizeof(p));
	/* bytes and file position as written: binary attributes (a
	 * firmware image in firmware/memN/data) take them at the offset */
	int rc = cx_sysfs_cwrite_at(fs_of()->conn, p, buf, size,
				    (uint64_t)off, &err);
	if (rc < 0) {
		/* util_bind offers a device to every driver in turn: the
		 * ones that do not drive it say ENODEV, quietly */
		size_t l = strlen(p);
		if (!(rc == -ENODEV && l > 5 && !strcmp(p + l - 5, "/bind")))
			fprintf(stderr, "cxlemu shell: %s: %s\n", p, err.msg);
		return rc;
	}
	return (int)size;
}

static int fs_truncate(const char *path, off_t size,
		       struct fuse_file_info *fi)
{
	struct cx_sysfs_cstat s;
	if (ours(path, false, &s) == 0)
		return 0;      /* `echo x > attr` truncates first, as sysfs allows */
	return -EROFS;     /* the machine's own sysfs: read-only here */
}

static int fs_release(const char *path, struct fuse_file_info *fi)
{
	if (fi->fh != OURS)
		close((int)fi->fh);
	return 0;
}

static int fs_statfs(const char *path, struct statvfs *st)
{
	return fstatvfs(fs_of()->real, st) < 0 ? -errno : 0;
}

static void *fs_init(struct fuse_conn_info *conn, struct fuse_config *cfg)
{
	/* a path walk may reuse the names it found in the last second;
	 * attributes (stat, lstat of the last component) are asked every
	 * time, as are names not seen, so what changed shows at once */
	cfg->entry_timeout = 1;
	cfg->attr_timeout = 0;
	cfg->negative_timeout = 0;
	cfg->use_ino = 1;
	cfg->direct_io = 1;
	return fuse_get_context()->private_data;
}

static const struct fuse_operations ops = {
	.init = fs_init,
	.getattr = fs_getattr,
	.readlink = fs_readlink,
	.readdir = fs_readdir,
	.open = fs_open,
	.read = fs_read,
	.write = fs_write,
	.truncate = fs_truncate,
	.release = fs_release,
	.statfs = fs_statfs,
};

static void *loop_main(void *arg)
{
	struct fs *f = arg;
	fuse_loop(f->fuse);
	return NULL;
}

struct cx_shell_fs *cx_shell_fs_mount(struct cxlemu *conn, const char *mnt,
				      cx_err *e)
{
	struct fs *f = cx_xcalloc(1, sizeof(*f));
	f->conn = conn;
	f->real = open(mnt, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (f->real < 0) {
		cx_fail(e, errno, "%s: %s", mnt, strerror(errno));
		free(f);
		return NULL;
	}
	char *argv[] = { "cxlemu-sysfs", "-o", "allow_other,fsname=cxlemu",
			 NULL };
	struct fuse_args args = FUSE_ARGS_INIT(3, argv);
	f->fuse = fuse_new(&args, &ops, sizeof(ops), f);
	fuse_opt_free_args(&args);
	if (!f->fuse) {
		cx_fail(e, EIO, "cannot set up a FUSE filesystem");
		goto fail;
	}
	if (fuse_mount(f->fuse, mnt) != 0) {
		cx_fail(e, EIO, "cannot mount a FUSE filesystem on %s (is "
			"/dev/fuse there? FUSE mounts need root)", mnt);
		fuse_destroy(f->fuse);
		goto fail;
	}
	if (pthread_create(&f->loop, NULL, loop_main, f)) {
		cx_fail(e, EAGAIN, "cannot start the FUSE thread");
		fuse_unmount(f->fuse);
		fuse_destroy(f->fuse);
		goto fail;
	}
	f->looping = true;
	return (struct cx_shell_fs *)f;
fail:
	close(f->real);
	free(f);
	return NULL;
}

void cx_shell_fs_unmount(struct cx_shell_fs *sf)
{
	struct fs *f = (struct fs *)sf;
	if (!f)
		return;
	fuse_exit(f->fuse);
	fuse_unmount(f->fuse);      /* the loop's read ends with ENODEV */
	if (f->looping)
		pthread_join(f->loop, NULL);
	fuse_destroy(f->fuse);
	close(f->real);
	free(f);
}
