/*
 * cmd_shell.c - `cxlemu shell [--host H] [-- CMD ARGS...]`: a shell (or
 * one command) in which this machine looks like host H of the fabric to
 * unmodified tools: ndctl's `cxl` and `daxctl`, scripts that read and
 * write /sys, device-DAX programs.
 *
 * It needs root: it enters a private mount namespace (nothing outside
 * sees a change), mounts a FUSE filesystem over /sys that merges the
 * daemon's view of the host with the machine's own sysfs
 * (shell/sysfs_fuse.c), and runs the command with the preload library
 * for /dev/daxZ.M and /dev/cxl/memN (CXLEMU_SHELL tells it to leave /sys
 * to the filesystem).  The filesystem is served from this process; when
 * the command ends, or this process dies, the namespace and the mount go
 * with it.  The exit status is the command's.
 */
#include "cli.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include "shell/sysfs_fuse.h"

#include <ftw.h>
#include <limits.h>
#include <sys/stat.h>
#include <sys/utsname.h>

/*
 * daxctl and ndctl load a driver before binding a device to it (libkmod),
 * and this machine's kernel has no CXL or DAX modules, often no module
 * directory at all.  In the shell, /lib/modules is a small tree that says
 * the fabric's drivers are built in, indexed by depmod, so that loading
 * them succeeds and the sysfs bind does the work.
 */
static const char *const builtin[] = {
	"kernel/drivers/cxl/core/cxl_core.ko", "kernel/drivers/cxl/cxl_acpi.ko",
	"kernel/drivers/cxl/cxl_pci.ko", "kernel/drivers/cxl/cxl_mem.ko",
	"kernel/drivers/cxl/cxl_port.ko", "kernel/drivers/cxl/cxl_pmem.ko",
	"kernel/drivers/dax/dax.ko", "kernel/drivers/dax/device_dax.ko",
	"kernel/drivers/dax/kmem.ko", "kernel/drivers/dax/dax_cxl.ko",
	"kernel/drivers/dax/dax_pmem.ko",
};

static int rm_one(const char *p, const struct stat *st, int flag,
		  struct FTW *f)
{
	remove(p);
	return 0;
}

/* tmp/lib/modules/<release>/modules.builtin + depmod's indexes, mounted
 * on /lib/modules; returns 0 or says why not (the shell goes on). */
static int modules_tree(char *tmp, size_t len)
{
	struct utsname u;
	char dir[PATH_MAX], file[PATH_MAX + 32];
	snprintf(tmp, len, "/tmp/cxlemu-shell-modules.XXXXXX");
	if (uname(&u) < 0 || !mkdtemp(tmp))
		return -errno;
	snprintf(dir, sizeof(dir), "%s/lib", tmp);
	mkdir(dir, 0755);
	snprintf(dir, sizeof(dir), "%s/lib/modules", tmp);
	mkdir(dir, 0755);
	snprintf(dir, sizeof(dir), "%s/lib/modules/%s", tmp, u.release);
	if (mkdir(dir, 0755) < 0)
		return -errno;
	snprintf(file, sizeof(file), "%s/modules.builtin", dir);
	FILE *f = fopen(file, "w");
	if (!f)
		return -errno;
	for (size_t i = 0; i < sizeof(builtin) / sizeof(builtin[0]); i++)
		fprintf(f, "%s\n", builtin[i]);
	fclose(f);
	static const char *const empty[] = { "modules.order",
					     "modules.builtin.modinfo" };
	for (size_t i = 0; i < 2; i++) {
		snprintf(file, sizeof(file), "%s/%s", dir, empty[i]);
		if ((f = fopen(file, "w")))
			fclose(f);
	}
	pid_t pid = fork();
	if (pid == 0) {
		int null = open("/dev/null", O_WRONLY);
		if (null >= 0) {
			dup2(null, 1);
			dup2(null, 2);
		}
		execlp("depmod", "depmod", "-b", tmp, u.release, (char *)NULL);
		execl("/usr/sbin/depmod", "depmod", "-b", tmp, u.release,
		      (char *)NULL);
		_exit(127);
	}
	int st = 0;
	if (pid < 0 || waitpid(pid, &st, 0) < 0 || !WIFEXITED(st) ||
	    WEXITSTATUS(st))
		return -ENOENT;
	snprintf(dir, sizeof(dir), "%s/lib/modules", tmp);
	/* a machine with no kernel package installed (a container, a fresh
	 * cloud image) has no /lib/modules to mount on: the empty directory
	 * a kernel package would make is made */
	if (mkdir("/lib/modules", 0755) < 0 && errno != EEXIST)
		return -errno;
	return mount(dir, "/lib/modules", NULL, MS_BIND, NULL) < 0 ? -errno : 0;
}

static const char help[] =
	"Options:\n"
	"  -h, --help    this text\n\n"
	"Runs CMD (default: $SHELL, else /bin/sh) where /sys shows host --host\n"
	"of the fabric (the CXL and DAX buses, decoders, regions, memdevs,\n"
	"writable as Linux's are) and /dev/daxZ.M, /dev/cxl/memN are its\n"
	"devices. Needs root and FUSE (/dev/fuse).\n";

/* Why a shell cannot be had here, or NULL. */
static const char *cannot(void)
{
	if (geteuid() != 0)
		return "it needs root (a private mount namespace and a FUSE "
		       "mount over /sys)";
	int fd = open("/dev/fuse", O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return "/dev/fuse cannot be opened (this kernel has no FUSE, "
		       "or the device node is missing)";
	close(fd);
	return NULL;
}

int cmd_shell(int argc, char **argv, struct cli *cli)
{
	int o, rc;
	if ((o = cli_help_only("shell", help, "+h", argc, argv)) >= 0)
		return o;
	if (optind < argc && !strcmp(argv[optind], "--"))
		optind++;
	const char *why = cannot();
	if (why)
		return cli_error("shell: %s", why);

	struct cxlemu *c, *fsconn = NULL;
	struct cx_shell_fs *fs = NULL;
	char mods[64] = "";
	if ((rc = cli_connect(cli, &c)))
		return rc;
	rc = cli_program_env("shell", c);
	cxlemu_close(c);
	if (rc)
		return rc;
	/* the filesystem's own connection */
	if ((rc = cli_connect(cli, &fsconn)))
		goto out;
	setenv("CXLEMU_SHELL", "1", 1);

	if (unshare(CLONE_NEWNS) < 0) {
		rc = cli_error("shell: cannot make a private mount namespace: "
			       "%s", strerror(errno));
		goto out;
	}
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0) {
		rc = cli_error("shell: cannot make mounts private: %s",
			       strerror(errno));
		goto out;
	}
	if ((rc = modules_tree(mods, sizeof(mods))) < 0)
		cli_warn("shell: no module tree for the fabric's drivers (%s: "
			 "is kmod's depmod there?); daxctl cannot change a "
			 "device's mode in this shell", strerror(-rc));
	rc = 0;
	cx_err e;
	if (!(fs = cx_shell_fs_mount(fsconn, "/sys", &e))) {
		rc = cli_error("shell: %s", e.msg);
		goto out;
	}

	char *sh[] = { getenv("SHELL") && *getenv("SHELL") ? getenv("SHELL")
		       : "/bin/sh", NULL };
	char **cmd = optind < argc ? argv + optind : sh;
	fflush(NULL);
	pid_t pid = fork();
	if (pid == 0) {
		execvp(cmd[0], cmd);
		fprintf(stderr, "cxlemu: shell: %s: %s\n", cmd[0],
			strerror(errno));
		_exit(127);
	}
	int st = 0;
	if (pid > 0) {
		/* ^C and ^\ are for the command, not for its filesystem */
		signal(SIGINT, SIG_IGN);
		signal(SIGQUIT, SIG_IGN);
		while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
			;
		rc = WIFSIGNALED(st) ? 128 + WTERMSIG(st) : WEXITSTATUS(st);
	} else {
		rc = cli_error("shell: fork: %s", strerror(errno));
	}
out:
	cx_shell_fs_unmount(fs);
	if (mods[0]) {
		umount2("/lib/modules", MNT_DETACH);
		nftw(mods, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	}
	if (fsconn)
		cxlemu_close(fsconn);
	return rc;
}
