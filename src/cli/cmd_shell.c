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
	if (fsconn)
		cxlemu_close(fsconn);
	return rc;
}
