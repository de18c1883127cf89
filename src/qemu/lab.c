/*
 * lab.c - `cxlemu lab`: one topology booted as real QEMU guests.
 *
 *   lab up TOPOLOGY      one guest per host: the host's CXL options as
 *                        qemu-args makes them for the installed QEMU, a
 *                        Debian kernel and a busybox initramfs (made by
 *                        scripts/lab/guest.sh), console on ttyS0 into a
 *                        log, a command agent on ttyS1 behind a socket
 *   lab exec HOST CMD    run CMD in the guest; its output and exit status
 *   lab console HOST     the guest's serial log
 *   lab qmp HOST JSON    one QMP command to the guest's QEMU
 *   lab status           which guests run, on which QEMU, kernel, ndctl
 *   lab down             stop every guest, remove what up created
 *   lab demo shared      the MemVerge two-host lab, end to end (the
 *                        seed's command line where QEMU has volatile
 *                        CXL memory, persistent memory before 8.1)
 *   lab demo mixed       one guest and one cxlemu host on one file
 *   lab demo interleave  2 host bridges x 2 root ports x 4 devices, 4-way
 *
 * up, demo and compare take --qemu BINARY and --kernel VERSION|PATH.
 * State lives in one directory ($CXLEMU_LAB_DIR, default
 * /tmp/cxlemu-lab-UID): `hosts`, `accel`, `created` (backing files up made,
 * removed by down), the kernel and initramfs with their versions, and per
 * host its pid file, console.log, agent.sock and qmp.sock.  KVM is used
 * when it boots a guest; where /dev/kvm is PVM (a software virtualizer a
 * stock kernel does not run on) or the first boot stalls, the lab says so
 * and uses TCG.
 *
 * The subcommand's options and its answers are src/cli/cmd_lab.c; this
 * file boots, runs and compares, and prints its progress on stderr
 * (errors come back in cx_err as in the rest of src/qemu).
 */
#include "qemu.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "config/config.h"
#include "listing/json.h"

#define READY_MARK "cxlemu-lab: ready"

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

const char *cx_lab_dir(void)
{
	static char buf[PATH_MAX];
	const char *d = getenv("CXLEMU_LAB_DIR");
	if (d && *d)
		return d;
	snprintf(buf, sizeof(buf), "/tmp/cxlemu-lab-%u", (unsigned)getuid());
	return buf;
}

char *cx_lab_path(const char *dir, const char *a, const char *b)
{
	return b ? cx_xasprintf("%s/%s/%s", dir, a, b)
		 : cx_xasprintf("%s/%s", dir, a);
}

char *cx_lab_slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return NULL;
	size_t cap = 4096, len = 0;
	char *buf = cx_xcalloc(1, cap);
	size_t n;
	while ((n = fread(buf + len, 1, cap - len - 1, f)) > 0) {
		len += n;
		if (len + 1 >= cap) {
			cap *= 2;
			buf = cx_xrealloc(buf, cap);
		}
	}
	buf[len] = 0;
	fclose(f);
	return buf;
}

static int spit(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	if (!f)
		return -errno;
	fputs(text, f);
	return fclose(f) ? -errno : 0;
}

static void append_line(const char *path, const char *line)
{
	FILE *f = fopen(path, "a");
	if (f) {
		fprintf(f, "%s\n", line);
		fclose(f);
	}
}

/* lines of a state file */
void cx_lab_read_lines(const char *path, cx_vec *out)
{
	char *s = cx_lab_slurp(path), *save = NULL;
	if (!s)
		return;
	for (char *t = strtok_r(s, "\n", &save); t; t = strtok_r(NULL, "\n", &save))
		if (*t)
			cx_vec_push(out, cx_xstrdup(t));
	free(s);
}

void cx_lab_free_lines(cx_vec *v)
{
	for (int i = 0; i < v->n; i++)
		free(v->v[i]);
	cx_vec_free(v);
}

pid_t cx_lab_host_pid(const char *dir, const char *host)
{
	char *p = cx_lab_path(dir, host, "pid");
	char *s = cx_lab_slurp(p);
	pid_t pid = s ? (pid_t)atoi(s) : 0;
	free(p);
	free(s);
	return pid > 1 && kill(pid, 0) == 0 ? pid : 0;
}

/* "QEMU 10.0.2 (/usr/bin/qemu-system-x86_64), Linux 6.12.95+deb12-amd64,
 * ndctl 76.1" from what up recorded in DIR; caller frees. */
char *cx_lab_versions(const char *dir)
{
	static const char *const what[] = {"qemu-version", "kernel-version",
					   "ndctl-version"};
	static const char *const label[] = {"QEMU", "Linux", "ndctl"};
	char *v[3], *out;
	for (int i = 0; i < 3; i++) {
		char *p = cx_lab_path(dir, what[i], NULL);
		v[i] = cx_lab_slurp(p);
		free(p);
		if (v[i])
			v[i][strcspn(v[i], "\n")] = 0;
	}
	out = cx_xasprintf("%s %s, %s %s, %s %s", label[0], v[0] ? v[0] : "?",
			   label[1], v[1] ? v[1] : "?", label[2],
			   v[2] ? v[2] : "?");
	for (int i = 0; i < 3; i++)
		free(v[i]);
	return out;
}

/* ---- where the scripts are ---- */

static char *scripts_dir(void)
{
	const char *env = getenv("CXLEMU_LAB_SCRIPTS");
	char exe[PATH_MAX], *cand;
	ssize_t n;

	if (env && *env)
		return cx_xstrdup(env);
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n > 0) {
		exe[n] = 0;
		char *slash = strrchr(exe, '/');
		if (slash)
			*slash = 0;
		static const char *const rel[] = {
			"/../scripts/lab", "/../../scripts/lab",
			"/../../../scripts/lab", "/../share/cxlemu/lab", NULL,
		};
		for (int i = 0; rel[i]; i++) {
			cand = cx_xasprintf("%s%s/guest.sh", exe, rel[i]);
			if (access(cand, R_OK) == 0) {
				*strrchr(cand, '/') = 0;
				return cand;
			}
			free(cand);
		}
	}
	if (access("scripts/lab/guest.sh", R_OK) == 0)
		return cx_xstrdup("scripts/lab");
	return NULL;
}

/* Run a command with the terminal's stdout/stderr (for long, chatty
 * steps like apt-get); its exit status, or -1. */
static int run_visible(char *const argv[])
{
	pid_t pid = fork();
	int st;
	if (pid < 0)
		return -1;
	if (pid == 0) {
		dup2(2, 1);
		execvp(argv[0], argv);
		_exit(127);
	}
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* ---- accelerator ---- */

static const char *kvm_verdict(char *why, size_t len)
{
	const char *force = getenv("CXLEMU_LAB_ACCEL");
	struct stat st;
	if (force && *force) {
		snprintf(why, len, "CXLEMU_LAB_ACCEL=%s", force);
		return strcmp(force, "kvm") ? "tcg" : "kvm";
	}
	int fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		snprintf(why, len, "/dev/kvm cannot be opened (%s)",
			 strerror(errno));
		return "tcg";
	}
	close(fd);
	if (stat("/sys/module/kvm_pvm", &st) == 0) {
		snprintf(why, len, "/dev/kvm here is PVM (/sys/module/kvm_pvm), "
			 "a software virtualizer a stock Debian kernel does not "
			 "boot on");
		return "tcg";
	}
	snprintf(why, len, "/dev/kvm works");
	return "kvm";
}

/* ---- the guest agent ---- */

static const char b64chars[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static char *b64_encode(const char *s, size_t n)
{
	char *o = cx_xcalloc(1, (n + 2) / 3 * 4 + 1), *p = o;
	for (size_t i = 0; i < n; i += 3) {
		unsigned v = (unsigned char)s[i] << 16;
		if (i + 1 < n)
			v |= (unsigned char)s[i + 1] << 8;
		if (i + 2 < n)
			v |= (unsigned char)s[i + 2];
		*p++ = b64chars[(v >> 18) & 63];
		*p++ = b64chars[(v >> 12) & 63];
		*p++ = i + 1 < n ? b64chars[(v >> 6) & 63] : '=';
		*p++ = i + 2 < n ? b64chars[v & 63] : '=';
	}
	return o;
}

/* decode, skipping anything that is not base64 (newlines, \r) */
static size_t b64_decode(const char *s, char *out)
{
	unsigned v = 0;
	int bits = 0;
	size_t n = 0;
	for (; *s; s++) {
		const char *c = strchr(b64chars, *s);
		if (!c || !*s)
			continue;
		v = (v << 6) | (unsigned)(c - b64chars);
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[n++] = (char)((v >> bits) & 0xff);
		}
	}
	return n;
}

/*
 * Run CMD in HOST's guest: output into *out (caller frees), exit status
 * into *status.  -ETIMEDOUT when the guest does not answer in time.
 */
int cx_lab_exec(const char *dir, const char *host, const char *cmd,
		int timeout_ms, char **out, int *status, cx_err *e)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	char *sock = cx_lab_path(dir, host, "agent.sock");
	int fd, rc = 0;

	*out = NULL;
	if (strlen(sock) >= sizeof(sa.sun_path)) {
		rc = cx_fail(e, ENAMETOOLONG, "%s: path too long for a socket",
			     sock);
		free(sock);
		return rc;
	}
	strcpy(sa.sun_path, sock);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		rc = cx_fail(e, errno, "host %s: cannot reach its guest agent "
			     "at %s: %s (is the lab up? `cxlemu lab status`)",
			     host, sock, strerror(errno));
		if (fd >= 0)
			close(fd);
		free(sock);
		return rc;
	}
	free(sock);

	char id[32];
	snprintf(id, sizeof(id), "%d%ld", (int)getpid(), (long)time(NULL) % 100000);
	char *enc = b64_encode(cmd, strlen(cmd));
	char *req = cx_xasprintf("%s %s\n", id, enc);
	free(enc);
	size_t off = 0, len = strlen(req);
	while (off < len) {
		ssize_t w = write(fd, req + off, len - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			rc = cx_fail(e, errno, "host %s: writing to the guest "
				     "agent failed: %s", host, strerror(errno));
			free(req);
			close(fd);
			return rc;
		}
		off += (size_t)w;
	}
	free(req);

	char *begin = cx_xasprintf("@@CXLEMU-OUT %s", id);
	char *end = cx_xasprintf("@@CXLEMU-END %s ", id);
	size_t cap = 65536, blen = 0;
	char *buf = cx_xcalloc(1, cap);
	double deadline = now_s() + timeout_ms / 1000.0;
	rc = -ETIMEDOUT;
	for (;;) {
		char *b = strstr(buf, begin), *x = b ? strstr(b, end) : NULL;
		if (x && strchr(x + strlen(end), '\n')) {
			*status = atoi(x + strlen(end));
			*x = 0;
			char *data = b + strlen(begin);
			*out = cx_xcalloc(1, strlen(data) + 1);
			(*out)[b64_decode(data, *out)] = 0;
			rc = 0;
			break;
		}
		double left = deadline - now_s();
		if (left <= 0)
			break;
		struct pollfd pf = {.fd = fd, .events = POLLIN};
		int pr = poll(&pf, 1, (int)(left * 1000) + 1);
		if (pr <= 0)
			continue;
		if (blen + 4096 >= cap) {
			cap *= 2;
			buf = cx_xrealloc(buf, cap);
		}
		ssize_t r = read(fd, buf + blen, cap - blen - 1);
		if (r <= 0) {
			rc = cx_fail(e, EPIPE, "host %s: the guest agent closed "
				     "the connection (did the guest stop? `cxlemu "
				     "lab console %s`)", host, host);
			break;
		}
		blen += (size_t)r;
		buf[blen] = 0;
	}
	if (rc == -ETIMEDOUT)
		cx_fail(e, ETIMEDOUT, "host %s: no answer from the guest within "
			"%d s to: %.200s", host, timeout_ms / 1000, cmd);
	free(buf);
	free(begin);
	free(end);
	close(fd);
	return rc;
}

/* ---- down ---- */

int cx_lab_down(const char *dir, bool quiet)
{
	cx_vec hosts = {0}, created = {0};
	char *hp = cx_lab_path(dir, "hosts", NULL);
	char *cp = cx_lab_path(dir, "created", NULL);
	struct stat st;
	int stopped = 0;

	if (stat(dir, &st) != 0) {
		if (!quiet)
			fprintf(stderr, "cxlemu: lab: nothing is up (%s does "
				"not exist)\n", dir);
		free(hp);
		free(cp);
		return 0;
	}
	cx_lab_read_lines(hp, &hosts);
	for (int i = 0; i < hosts.n; i++) {
		pid_t pid = cx_lab_host_pid(dir, hosts.v[i]);
		if (!pid)
			continue;
		kill(pid, SIGTERM);
		for (int t = 0; t < 50 && kill(pid, 0) == 0; t++)
			usleep(100000);
		if (kill(pid, 0) == 0)
			kill(pid, SIGKILL);
		stopped++;
		if (!quiet)
			fprintf(stderr, "cxlemu: lab: stopped %s (pid %d)\n",
				(char *)hosts.v[i], (int)pid);
	}
	cx_lab_read_lines(cp, &created);
	for (int i = 0; i < created.n; i++)
		unlink(created.v[i]);
	cx_lab_free_lines(&hosts);
	cx_lab_free_lines(&created);
	free(hp);
	free(cp);
	/* the state directory, and the demo's topology beside it */
	char *demo = cx_xasprintf("%s-demo", dir);
	char *argv[] = {"rm", "-rf", "--", (char *)dir, demo, NULL};
	char *o = NULL;
	int s;
	cx_run_capture(argv, NULL, 60000, &o, &s, NULL);
	free(o);
	free(demo);
	if (!quiet)
		fprintf(stderr, "cxlemu: lab: down (%d guest%s stopped, %s "
			"removed)\n", stopped, stopped == 1 ? "" : "s", dir);
	return 0;
}

/* ---- up ---- */

struct guest {
	char *name;
	struct cx_qemu_line line;
	double started, ready_at;
	bool ready;
};

/* Remove the KEY=value item from a QEMU comma list, in place. */
static void drop_item(char *list, const char *key)
{
	size_t kl = strlen(key);
	char *p = list;
	if (strstr(list, ",,"))
		return; /* escaped commas: leave it to QEMU */
	while (p && *p) {
		char *end = strchr(p, ',');
		if (!strncmp(p, key, kl)) {
			if (end)
				memmove(p, end + 1, strlen(end + 1) + 1);
			else if (p > list)
				p[-1] = 0;
			else
				*p = 0;
			continue;
		}
		p = end ? end + 1 : NULL;
	}
}

static int start_guest(const char *dir, struct guest *g, const char *accel,
		       cx_err *e)
{
	char *hd = cx_lab_path(dir, g->name, NULL);
	char *kernel = cx_lab_path(dir, "vmlinux", NULL);
	char *initrd = cx_lab_path(dir, "initrd.gz", NULL);
	char *con = cx_lab_path(dir, g->name, "console.log");
	char *sock = cx_lab_path(dir, g->name, "agent.sock");
	char *pidf = cx_lab_path(dir, g->name, "pid");
	char *qmps = cx_lab_path(dir, g->name, "qmp.sock");
	cx_vec argv = {0};
	int rc = 0, st;
	char *out = NULL;

	mkdir(hd, 0755);
	unlink(con);
	unlink(sock);
	unlink(pidf);
	unlink(qmps);
	for (int i = 0; i < g->line.argv.n; i++) {
		char *w = g->line.argv.v[i];
		/* the lab chooses the accelerator: QEMU refuses -accel
		 * beside -machine accel= (seeds/002 has accel=kvm) */
		if (i > 0 && (!strcmp(g->line.argv.v[i - 1], "-M") ||
			      !strcmp(g->line.argv.v[i - 1], "-machine")))
			drop_item(w, "accel=");
		cx_vec_push(&argv, w);
	}
	/* memhp_default_state: a ram region's memory goes online movable,
	 * as ndctl onlines it, so `daxctl reconfigure-device -m devdax` can
	 * take it offline again (in ZONE_NORMAL the kernel pins it) */
	char *append = cx_xasprintf("console=ttyS0 panic=-1 quiet "
				    "memhp_default_state=online_movable "
				    "cxlemu.host=%s", g->name);
	char *chc = cx_xasprintf("file,id=cxlemu-con,path=%s", con);
	char *cha = cx_xasprintf("socket,id=cxlemu-agent,path=%s,server=on,"
				 "wait=off", sock);
	char *qmp = cx_xasprintf("unix:%s,server=on,wait=off", qmps);
	char *const tail[] = {
		"-accel", (char *)accel, "-kernel", kernel, "-initrd", initrd,
		"-append", append, "-display", "none", "-nodefaults",
		"-no-reboot", "-chardev", chc, "-serial", "chardev:cxlemu-con",
		"-chardev", cha, "-serial", "chardev:cxlemu-agent",
		"-qmp", qmp, "-pidfile", pidf, "-daemonize",
		/* without the hypervisor bit: Linux >= 6.2 refuses to commit
		 * a region when it cannot invalidate CPU caches, which it
		 * never assumes it can inside a VM ("Failed to synchronize
		 * CPU cache state") */
		!strcmp(accel, "tcg") ? "-cpu" : NULL, "max,hypervisor=off",
		NULL,
	};
	for (int i = 0; tail[i]; i++)
		cx_vec_push(&argv, tail[i]);
	cx_vec_push(&argv, NULL);

	/* what was run, for people reading the state directory */
	struct cx_qemu_line shown = {0};
	for (int i = 0; i < argv.n - 1; i++)
		cx_vec_push(&shown.argv, cx_xstrdup(argv.v[i]));
	char *joined = cx_qemu_line_join(&shown);
	char *cmdf = cx_lab_path(dir, g->name, "qemu.cmd");
	spit(cmdf, joined);
	append_line(cmdf, "");
	free(cmdf);
	free(joined);
	cx_qemu_line_free(&shown);

	g->started = now_s();
	rc = cx_run_capture((char **)argv.v, NULL, 60000, &out, &st, e);
	if (!rc && st != 0)
		rc = cx_fail(e, EINVAL, "host %s: QEMU did not start (exit "
			     "status %d): %.600s", g->name, st, out);
	free(out);
	cx_vec_free(&argv);
	free(append);
	free(chc);
	free(cha);
	free(qmp);
	free(qmps);
	free(hd);
	free(kernel);
	free(initrd);
	free(con);
	free(sock);
	free(pidf);
	return rc;
}

/* Wait until every guest printed READY_MARK; progress on stderr. */
static int wait_ready(const char *dir, struct guest *gs, int n, double limit,
		      const char *accel, cx_err *e)
{
	double t0 = now_s(), last = 0;
	bool tty = isatty(2);

	for (;;) {
		int waiting = 0;
		for (int i = 0; i < n; i++) {
			struct guest *g = &gs[i];
			if (g->ready)
				continue;
			char *cp = cx_lab_path(dir, g->name, "console.log");
			char *log = cx_lab_slurp(cp);
			free(cp);
			if (log && strstr(log, READY_MARK)) {
				g->ready = true;
				g->ready_at = now_s();
				fprintf(stderr, "%scxlemu: lab: %s is up in %.1f s "
					"(%s)\n", tty ? "\r\033[K" : "", g->name,
					g->ready_at - g->started, accel);
			} else if (log && (strstr(log, "KVM internal error") ||
					   strstr(log, "Kernel panic"))) {
				int rc = cx_fail(e, EIO, "host %s: the guest "
						 "failed while booting: %.300s",
						 g->name, strstr(log, "KVM internal error")
						 ? strstr(log, "KVM internal error")
						 : strstr(log, "Kernel panic"));
				free(log);
				return rc;
			} else if (!cx_lab_host_pid(dir, g->name)) {
				int rc = cx_fail(e, EIO, "host %s: QEMU exited "
						 "while the guest booted; its "
						 "console ends: %.400s", g->name,
						 log ? (strlen(log) > 400 ? log +
							strlen(log) - 400 : log) : "");
				free(log);
				return rc;
			} else {
				waiting++;
			}
			free(log);
		}
		if (!waiting)
			return 0;
		double el = now_s() - t0;
		if (el > limit) {
			/* what the (first) stuck guest said last */
			char *tail = NULL;
			for (int i = 0; i < n && !tail; i++) {
				if (gs[i].ready)
					continue;
				char *cp = cx_lab_path(dir, gs[i].name, "console.log");
				char *log = cx_lab_slurp(cp);
				free(cp);
				size_t l = log ? strlen(log) : 0;
				tail = cx_xasprintf("; %s's console ends: %s",
						    gs[i].name, !l ? "(nothing)" :
						    log + (l > 600 ? l - 600 : 0));
				free(log);
			}
			int rc = cx_fail(e, ETIMEDOUT, "%d guest%s did not boot "
					 "within %.0f s (%s)%s", waiting,
					 waiting == 1 ? "" : "s", limit, accel,
					 tail ? tail : "");
			free(tail);
			return rc;
		}
		if (el - last >= (tty ? 0.5 : 5)) {
			char names[256] = "";
			for (int i = 0; i < n; i++) {
				size_t l = strlen(names);
				if (!gs[i].ready && l + 2 < sizeof(names))
					snprintf(names + l, sizeof(names) - l,
						 "%s%s", l ? ", " : "", gs[i].name);
			}
			last = el;
			fprintf(stderr, "%scxlemu: lab: [%.0f s] waiting for %s "
				"to boot (%s, limit %.0f s)%s", tty ? "\r\033[K" : "",
				el, names, accel, limit, tty ? "" : "\n");
		}
		usleep(200000);
	}
}

/* Seconds a boot may take: KVM either boots in seconds or crawls; TCG
 * boots a guest of Linux 6.12 in 6-13 s here, up to 30 s with several
 * guests on a busy 2-core machine. */
static double boot_limit(const char *accel)
{
	const char *t = getenv("CXLEMU_LAB_BOOT_TIMEOUT");
	if (t && atof(t) > 0)
		return atof(t);
	return !strcmp(accel, "kvm") ? 30 : 120;
}

int cx_lab_up(const char *topo, const char *accel_opt, cx_err *e)
{
	const char *dir = cx_lab_dir();
	struct cx_fabric *f = NULL;
	struct cx_qemu_caps caps = {0};
	struct guest *gs = NULL;
	char why[512], *scripts = NULL;
	const char *accel;
	struct stat st;
	int rc, n = 0;

	if (stat(dir, &st) == 0) {
		char *hp = cx_lab_path(dir, "hosts", NULL);
		cx_vec hosts = {0};
		cx_lab_read_lines(hp, &hosts);
		free(hp);
		bool running = false;
		for (int i = 0; i < hosts.n; i++)
			running |= cx_lab_host_pid(dir, hosts.v[i]) != 0;
		cx_lab_free_lines(&hosts);
		if (running)
			return cx_fail(e, EBUSY, "a lab is already up in %s; "
				       "`cxlemu lab down` first", dir);
		cx_lab_down(dir, true);
	}
	scripts = scripts_dir();
	if (!scripts)
		return cx_fail(e, ENOENT, "cannot find the lab scripts "
			       "(scripts/lab/guest.sh); set CXLEMU_LAB_SCRIPTS");
	{
		char *deps = cx_xasprintf("%s/deps.sh", scripts);
		char *argv[] = {"sh", deps, NULL};
		int s = run_visible(argv);
		free(deps);
		if (s != 0) {
			free(scripts);
			return cx_fail(e, ENOENT, "the lab's Debian packages are "
				       "missing and could not be installed "
				       "(scripts/lab/deps.sh said why)");
		}
	}
	if ((rc = cx_config_load_file(topo, &f, e)))
		goto out;
	if ((rc = cx_qemu_probe(cx_qemu_default_binary(), &caps, e)))
		goto out;
	if (mkdir(dir, 0755) && errno != EEXIST) {
		rc = cx_fail(e, errno, "cannot create %s: %s", dir,
			     strerror(errno));
		goto out;
	}
	{
		char *qp = cx_lab_path(dir, "qemu-version", NULL);
		char *qv = cx_xasprintf("%s (%s)", caps.version, caps.binary);
		spit(qp, qv);
		free(qv);
		free(qp);
	}
	double tprep = now_s();
	fprintf(stderr, "cxlemu: lab: preparing the guest kernel and "
		"initramfs in %s\n", dir);
	{
		char *gsh = cx_xasprintf("%s/guest.sh", scripts);
		char *srcdir = cx_xasprintf("%s/../..", scripts);
		char *argv[] = {"sh", gsh, (char *)dir, srcdir, NULL};
		char *o = NULL;
		int s;
		rc = cx_run_capture(argv, NULL, 300000, &o, &s, e);
		if (!rc && s != 0)
			rc = cx_fail(e, EIO, "preparing the guest failed: %.600s",
				     o);
		else if (!rc && o && *o)
			fputs(o, stderr);
		free(o);
		free(gsh);
		free(srcdir);
		if (rc)
			goto out_down;
		char *v = cx_lab_versions(dir);
		fprintf(stderr, "cxlemu: lab: guest prepared in %.1f s: %s\n",
			now_s() - tprep, v);
		free(v);
	}

	n = f->hosts.n;
	gs = cx_xcalloc((size_t)n, sizeof(*gs));
	char *hp = cx_lab_path(dir, "hosts", NULL);
	char *cp = cx_lab_path(dir, "created", NULL);
	spit(hp, "");
	for (int i = 0; i < n; i++) {
		struct cx_host *h = f->hosts.v[i];
		struct cx_qemu_opts o = {.cxl_only = true};
		gs[i].name = h->name;
		append_line(hp, h->name);
		if ((rc = cx_qemu_line_build(f, h->name, &caps, &o, &gs[i].line,
					     e))) {
			free(hp);
			free(cp);
			goto out_down;
		}
		for (int k = 0; k < gs[i].line.notes.n; k++)
			fprintf(stderr, "cxlemu: note: %s\n",
				(char *)gs[i].line.notes.v[k]);
		/* backing files this up creates, removed by down */
		for (int w = 1; w + 1 < gs[i].line.argv.n; w++) {
			const char *a = gs[i].line.argv.v[w + 1];
			const char *mp = strstr(a, "mem-path=");
			if (strcmp(gs[i].line.argv.v[w], "-object") || !mp)
				continue;
			char *p = cx_xstrdup(mp + 9), *c = strchr(p, ',');
			if (c)
				*c = 0;
			if (access(p, F_OK) != 0)
				append_line(cp, p);
			free(p);
		}
	}
	free(hp);
	free(cp);

	accel = accel_opt ? accel_opt : kvm_verdict(why, sizeof(why));
	if (accel_opt)
		snprintf(why, sizeof(why), "--accel %s", accel_opt);
	fprintf(stderr, "cxlemu: lab: %s (%s)\n", !strcmp(accel, "kvm") ?
		"using KVM" : "using TCG", why);
	for (int attempt = 0; attempt < 2; attempt++) {
		for (int i = 0; i < n && !rc; i++)
			rc = start_guest(dir, &gs[i], accel, e);
		if (!rc)
			rc = wait_ready(dir, gs, n, boot_limit(accel), accel, e);
		if (!rc || strcmp(accel, "kvm") || accel_opt)
			break;
		fprintf(stderr, "cxlemu: lab: KVM did not boot the guests (%s); "
			"falling back to TCG\n", e->msg);
		for (int i = 0; i < n; i++) {
			pid_t pid = cx_lab_host_pid(dir, gs[i].name);
			if (pid)
				kill(pid, SIGKILL);
			gs[i].ready = false;
		}
		usleep(300000);
		accel = "tcg";
		rc = 0;
	}
	/* Under TCG on a loaded machine a guest has once been seen never to
	 * finish booting while its twin did: start such guests once more
	 * (not when the limit was set by hand, as the tests do) */
	if (rc == -ETIMEDOUT && !strcmp(accel, "tcg") &&
	    !getenv("CXLEMU_LAB_BOOT_TIMEOUT")) {
		fprintf(stderr, "cxlemu: lab: %s\ncxlemu: lab: starting the "
			"guests that did not boot once more\n", e->msg);
		rc = 0;
		for (int i = 0; i < n && !rc; i++) {
			pid_t pid = gs[i].ready ? 0 : cx_lab_host_pid(dir, gs[i].name);
			if (gs[i].ready)
				continue;
			if (pid)
				kill(pid, SIGKILL);
			for (int t = 0; t < 50 && pid && kill(pid, 0) == 0; t++)
				usleep(100000);
			rc = start_guest(dir, &gs[i], accel, e);
		}
		if (!rc)
			rc = wait_ready(dir, gs, n, boot_limit(accel), accel, e);
	}
	if (rc)
		goto out_down;
	{
		char *ap = cx_lab_path(dir, "accel", NULL);
		spit(ap, accel);
		free(ap);
	}
	fprintf(stderr, "cxlemu: lab: %d guest%s up; `cxlemu lab exec HOST "
		"COMMAND`, `cxlemu lab down` when done\n", n, n == 1 ? "" : "s");
	goto out;
out_down:
	cx_err_prefix(e, "lab up");
	{
		cx_err keep = *e;
		cx_lab_down(dir, true);
		*e = keep;
	}
out:
	for (int i = 0; gs && i < n; i++)
		cx_qemu_line_free(&gs[i].line);
	free(gs);
	free(scripts);
	cx_qemu_caps_free(&caps);
	cx_fabric_free(f);
	return rc;
}

/* ---- demos ---- */

/*
 * The seed lab (seeds/000, Willis & Price): host 2's command line as the
 * article prints it, @HOST@ and the backing file's directory filled in.
 * -drive, -net and -daemonize are kept; the lab leaves out what it does
 * not model.  Both hosts back their device with one file: one device.
 */
static const char seed_host[] =
	"[host @HOST@]\n"
	"sudo /opt/qemu-cxl-shared/bin/qemu-system-x86_64\n"
	"-drive file=./share2.qcow2,format=qcow2,index=0,media=disk,id=hd\n"
	"-m 4G,slots=4,maxmem=8G\n"
	"-smp 4\n"
	"-machine type=q35,cxl=on\n"
	"-daemonize\n"
	"-net nic\n"
	"-net user,hostfwd=tcp::2223-:22\n"
	"-device pxb-cxl,id=cxl.0,bus=pcie.0,bus_nr=52\n"
	"-device cxl-rp,id=rp0,bus=cxl.0,chassis=0,port=0,slot=0\n"
	"-object memory-backend-file,id=mem0,mem-path=@DIR@/mem0,size=4G,share=true\n"
	"-device cxl-type3,bus=rp0,volatile-memdev=mem0,id=cxl-mem0\n"
	"-M cxl-fmw.0.targets.0=cxl.0,cxl-fmw.0.size=4G\n";

/* The seed's create_region.sh and dax_mode.sh (-f: the region's memory
 * is online as System RAM, daxctl offlines it first). */
#define SEED_REGION "cxl create-region -t ram -d decoder0.0 -m mem0"
#define SEED_DEVDAX "daxctl reconfigure-device -m devdax -f dax0.0"

/* Before QEMU 8.1 there is no volatile CXL memory: the same lab on
 * persistent memory, each host with its own label area. */
static const char pmem_host[] =
	"[host @HOST@]\n"
	"-M q35,cxl=on -m 1G -smp 2\n"
	"-object memory-backend-file,id=mem0,mem-path=@DIR@/shared.raw,size=512M,share=on\n"
	"-object memory-backend-file,id=lsa0,mem-path=@DIR@/lsa-@HOST@.raw,size=1M,share=on\n"
	"-device pxb-cxl,id=cxl.0,bus=pcie.0,bus_nr=52\n"
	"-device cxl-rp,id=rp0,bus=cxl.0,chassis=0,port=0,slot=0\n"
	"-device cxl-type3,bus=rp0,persistent-memdev=mem0,lsa=lsa0,id=cxl-mem0\n"
	"-M cxl-fmw.0.targets.0=cxl.0,cxl-fmw.0.size=4G\n";
#define PMEM_REGION "cxl create-region -t pmem -d decoder0.0 -m mem0 && " \
	"ndctl create-namespace -m devdax --map=mem"

static const char demo_interleave[] =
	"# cxlemu lab demo interleave: QEMU's documentation topology, 2 host\n"
	"# bridges x 2 root ports x 4 persistent devices, one 2-way window.\n"
	"-M q35,cxl=on -m 1G -smp 2\n"
	"-object memory-backend-file,id=cxl-mem1,share=on,mem-path=@DIR@/m1.raw,size=256M\n"
	"-object memory-backend-file,id=cxl-mem2,share=on,mem-path=@DIR@/m2.raw,size=256M\n"
	"-object memory-backend-file,id=cxl-mem3,share=on,mem-path=@DIR@/m3.raw,size=256M\n"
	"-object memory-backend-file,id=cxl-mem4,share=on,mem-path=@DIR@/m4.raw,size=256M\n"
	"-object memory-backend-file,id=cxl-lsa1,share=on,mem-path=@DIR@/l1.raw,size=1M\n"
	"-object memory-backend-file,id=cxl-lsa2,share=on,mem-path=@DIR@/l2.raw,size=1M\n"
	"-object memory-backend-file,id=cxl-lsa3,share=on,mem-path=@DIR@/l3.raw,size=1M\n"
	"-object memory-backend-file,id=cxl-lsa4,share=on,mem-path=@DIR@/l4.raw,size=1M\n"
	"-device pxb-cxl,bus_nr=12,bus=pcie.0,id=cxl.1\n"
	"-device pxb-cxl,bus_nr=222,bus=pcie.0,id=cxl.2\n"
	"-device cxl-rp,port=0,bus=cxl.1,id=root_port13,chassis=0,slot=2\n"
	"-device cxl-type3,bus=root_port13,persistent-memdev=cxl-mem1,lsa=cxl-lsa1,id=cxl-pmem0\n"
	"-device cxl-rp,port=1,bus=cxl.1,id=root_port14,chassis=0,slot=3\n"
	"-device cxl-type3,bus=root_port14,persistent-memdev=cxl-mem2,lsa=cxl-lsa2,id=cxl-pmem1\n"
	"-device cxl-rp,port=0,bus=cxl.2,id=root_port15,chassis=0,slot=5\n"
	"-device cxl-type3,bus=root_port15,persistent-memdev=cxl-mem3,lsa=cxl-lsa3,id=cxl-pmem2\n"
	"-device cxl-rp,port=1,bus=cxl.2,id=root_port16,chassis=0,slot=6\n"
	"-device cxl-type3,bus=root_port16,persistent-memdev=cxl-mem4,lsa=cxl-lsa4,id=cxl-pmem3\n"
	"-M cxl-fmw.0.targets.0=cxl.1,cxl-fmw.0.targets.1=cxl.2,cxl-fmw.0.size=4G,cxl-fmw.0.interleave-granularity=8k\n";

/* TEMPLATE with @DIR@ and @HOST@ replaced, appended to *text. */
static void fill(char **text, const char *tmpl, const char *ddir,
		 const char *host)
{
	size_t have = *text ? strlen(*text) : 0;
	size_t cap = have + strlen(tmpl) * 2 + strlen(ddir) * 16 + 4096;
	char *t = cx_xrealloc(*text, cap), *o = t + have;
	*o = 0;
	for (const char *p = tmpl; *p;) {
		if (!strncmp(p, "@DIR@", 5)) {
			o += sprintf(o, "%s", ddir);
			p += 5;
		} else if (!strncmp(p, "@HOST@", 6)) {
			o += sprintf(o, "%s", host ? host : "host0");
			p += 6;
		} else {
			*o++ = *p++;
		}
	}
	*o = 0;
	*text = t;
}

/* Run a step in a guest, echo it and its output; nonzero status fails. */
static int step(const char *dir, const char *host, const char *cmd,
		char **keep, cx_err *e)
{
	char *out = NULL;
	int st = -1;
	double t0 = now_s();
	printf("[%s]# %s\n", host, cmd);
	fflush(stdout);
	int rc = cx_lab_exec(dir, host, cmd, 180000, &out, &st, e);
	if (rc)
		return rc;
	fputs(out, stdout);
	if (*out && out[strlen(out) - 1] != '\n')
		putchar('\n');
	if (now_s() - t0 >= 2)
		printf("(%.1f s)\n", now_s() - t0);
	fflush(stdout);
	if (st != 0) {
		rc = cx_fail(e, EIO, "host %s: '%s' exited with status %d",
			     host, cmd, st);
		free(out);
		return rc;
	}
	if (keep)
		*keep = out;
	else
		free(out);
	return 0;
}

/* The demos' checks: OUT holds WANT, or the demo fails saying so. */
static int expect(const char *out, const char *want, const char *what,
		  cx_err *e)
{
	if (out && strstr(out, want))
		return 0;
	return cx_fail(e, EIO, "%s: expected '%s', got: %.300s", what, want,
		       out ? out : "(nothing)");
}

static bool qemu_has_volatile(cx_err *e, char *version, size_t len)
{
	struct cx_qemu_caps caps;
	if (cx_qemu_probe(cx_qemu_default_binary(), &caps, e))
		return false;
	bool v = cx_qemu_has_prop(&caps, CX_QDEV_TYPE3, "volatile-memdev");
	snprintf(version, len, "%s", caps.version);
	cx_qemu_caps_free(&caps);
	return v;
}

static int demo_shared(const char *dir, const char *ddir, cx_err *e)
{
	char qv[64] = "?", *text = NULL;
	cx_err pe = {{0}};
	bool vol = qemu_has_volatile(&pe, qv, sizeof(qv));
	const char *mk = vol ? SEED_REGION " && " SEED_DEVDAX : PMEM_REGION;
	int rc;

	fill(&text, "# cxlemu lab demo shared: the seed lab (seeds/000), two "
	     "hosts, one device\n", ddir, NULL);
	fill(&text, vol ? seed_host : pmem_host, ddir, "host1");
	fill(&text, vol ? seed_host : pmem_host, ddir, "host2");
	char *topo = cx_xasprintf("%s/shared.topo", ddir);
	spit(topo, text);
	free(text);
	if (vol)
		fprintf(stderr, "cxlemu: lab demo shared: the seed's command "
			"line, volatile memory (%s)\n", topo);
	else
		fprintf(stderr, "cxlemu: lab demo shared: QEMU %s has no "
			"volatile CXL memory (QEMU >= 8.1 has it): the same lab "
			"on persistent memory with ndctl create-namespace -m "
			"devdax (%s)\n", qv, topo);
	rc = cx_lab_up(topo, NULL, e);
	free(topo);
	if (rc)
		return rc;
	char *got = NULL;
	if ((rc = step(dir, "host1", mk, NULL, e)) ||
	    (rc = step(dir, "host2", mk, NULL, e)) ||
	    (rc = step(dir, "host1", "daxwriter 'Hello from instance 1!'", NULL,
		       e)) ||
	    (rc = step(dir, "host2", "daxreader", &got, e)) ||
	    (rc = expect(got, "Hello from instance 1!", "host2's daxreader", e)))
		goto out;
	printf("cxlemu: lab demo shared: host2 read what host1 wrote through "
	       "the shared device\n");
out:
	free(got);
	return rc;
}

/* cxlemu itself, beside the running binary, with what the mixed demo
 * runs under it: build/cxlemu, build/libcxlemu-preload.so, build/examples */
static char *beside_self(const char *name)
{
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n <= 0)
		return NULL;
	exe[n] = 0;
	*strrchr(exe, '/') = 0;
	static const char *const up[] = {"", "/..", "/../..", NULL};
	for (int i = 0; up[i]; i++) {
		char *p = cx_xasprintf("%s%s/%s", exe, up[i], name);
		if (access(p, X_OK) == 0 || (strstr(name, ".so") &&
					     access(p, R_OK) == 0))
			return p;
		free(p);
	}
	return NULL;
}

/* One command on the cxlemu side, echoed like a guest step. */
static int local_step(const char *shown, char *const argv[], const char *want,
		      cx_err *e)
{
	char *out = NULL;
	int st = -1, rc;
	printf("[cxlemu host2]$ %s\n", shown);
	fflush(stdout);
	rc = cx_run_capture(argv, NULL, 120000, &out, &st, e);
	if (!rc) {
		fputs(out, stdout);
		if (*out && out[strlen(out) - 1] != '\n')
			putchar('\n');
		fflush(stdout);
		if (st != 0)
			rc = cx_fail(e, EIO, "cxlemu side: '%s' exited with "
				     "status %d", shown, st);
		else if (want)
			rc = expect(out, want, shown, e);
	}
	free(out);
	return rc;
}

/*
 * One guest (host1) and one cxlemu host (host2) on the same backing file:
 * the guest's region and cxlemu's both decode DPA 0 of the file at the
 * start of their 1-way region, so a message written at offset 0 of one
 * DAX device is read at offset 0 of the other.
 */
static int demo_mixed(const char *dir, const char *ddir, cx_err *e)
{
	char qv[64] = "?", *text = NULL;
	cx_err pe = {{0}};
	char *self = beside_self("cxlemu");
	char *preload = beside_self("libcxlemu-preload.so");
	char *writer = beside_self("examples/daxwriter");
	char *reader = beside_self("examples/daxreader");
	char *sock = cx_xasprintf("%s/cxlemu.sock", ddir);
	char *gtopo = cx_xasprintf("%s/mixed-guest.topo", ddir);
	char *ctopo = cx_xasprintf("%s/mixed-cxlemu.topo", ddir);
	bool started = false;
	int rc;

	if (!qemu_has_volatile(&pe, qv, sizeof(qv))) {
		rc = cx_fail(e, ENOTSUP, "demo mixed: QEMU %s has no volatile "
			     "CXL memory (the seed lab's device); it needs QEMU "
			     ">= 8.1 (scripts/lab/deps.sh installs 10.0 from "
			     "bookworm-backports)", qv);
		goto out;
	}
	if (!self || !preload || !writer || !reader) {
		rc = cx_fail(e, ENOENT, "demo mixed: cannot find %s beside this "
			     "program (run `make build`)", !self ? "cxlemu" :
			     !preload ? "libcxlemu-preload.so" :
			     "examples/daxwriter and daxreader");
		goto out;
	}
	fill(&text, seed_host, ddir, "host1");
	spit(gtopo, text);
	free(text);
	text = NULL;
	fill(&text, seed_host, ddir, "host2");
	spit(ctopo, text);
	free(text);
	fprintf(stderr, "cxlemu: lab demo mixed: host1 is a QEMU guest (%s), "
		"host2 is served by cxlemu (%s), one backing file %s/mem0\n",
		gtopo, ctopo, ddir);
	if ((rc = cx_lab_up(gtopo, NULL, e)))
		goto out;
	char *pre = cx_xasprintf("LD_PRELOAD=%s", preload);
	char *host = "CXLEMU_HOST=host2";
	char *sk = cx_xasprintf("CXLEMU_SOCKET=%s", sock);
	char *start[] = {self, "--socket", sock, "start", ctopo, NULL};
	char *region[] = {self, "--socket", sock, "--host", "host2",
			  "create-region", "-t", "ram", "-d", "decoder0.0",
			  "-m", "mem0", NULL};
	char *devdax[] = {self, "--socket", sock, "--host", "host2",
			  "reconfigure-device", "-m", "devdax", "dax0.0", NULL};
	char *rd[] = {"env", pre, host, sk, reader, NULL};
	char *wr[] = {"env", pre, host, sk, writer, "Hello from cxlemu!", NULL};
	char *got = NULL;
	if (!(rc = local_step("cxlemu start mixed-cxlemu.topo", start, NULL, e)))
		started = true;
	if (rc || (rc = local_step("cxlemu create-region -t ram -d decoder0.0 "
				   "-m mem0", region, "\"region\":\"region0\"",
				   e)) ||
	    (rc = local_step("cxlemu reconfigure-device -m devdax dax0.0",
			     devdax, "\"mode\":\"devdax\"", e)) ||
	    (rc = step(dir, "host1", SEED_REGION " && " SEED_DEVDAX, NULL, e)) ||
	    (rc = step(dir, "host1", "daxwriter 'Hello from the guest!'", NULL,
		       e)) ||
	    (rc = local_step("LD_PRELOAD=build/libcxlemu-preload.so "
			     "CXLEMU_HOST=host2 daxreader", rd,
			     "Hello from the guest!", e)) ||
	    (rc = local_step("LD_PRELOAD=build/libcxlemu-preload.so "
			     "CXLEMU_HOST=host2 daxwriter 'Hello from cxlemu!'",
			     wr, NULL, e)) ||
	    (rc = step(dir, "host1", "daxreader", &got, e)) ||
	    (rc = expect(got, "Hello from cxlemu!", "the guest's daxreader", e)))
		;
	else
		printf("cxlemu: lab demo mixed: the guest and cxlemu read each "
		       "other's message through one device\n");
	free(got);
	if (started) {
		char *stop[] = {self, "--socket", sock, "stop", NULL};
		char *o = NULL;
		int st;
		cx_run_capture(stop, NULL, 30000, &o, &st, NULL);
		free(o);
	}
	free(pre);
	free(sk);
out:
	free(self);
	free(preload);
	free(writer);
	free(reader);
	free(sock);
	free(gtopo);
	free(ctopo);
	return rc;
}

static int demo_interleave4(const char *dir, const char *ddir, cx_err *e)
{
	char *text = NULL, *got = NULL;
	int rc;

	fill(&text, demo_interleave, ddir, NULL);
	char *topo = cx_xasprintf("%s/interleave.topo", ddir);
	spit(topo, text);
	free(text);
	fprintf(stderr, "cxlemu: lab demo interleave: topology %s\n", topo);
	rc = cx_lab_up(topo, NULL, e);
	free(topo);
	if (rc)
		return rc;
	if ((rc = step(dir, "host0", "cxl list -M -u", NULL, e)) ||
	    (rc = step(dir, "host0",
		       /* memdevs are named in probe order; position order
			* alternates the host bridges (the root index is the
			* least significant digit), and PCI order puts each
			* bridge's devices together */
		       "set -- $(for m in /sys/bus/cxl/devices/mem*; do "
		       "d=$(readlink -f $m); echo \"$(basename $(dirname "
		       "$d)) $(basename $d)\"; done | sort | awk '{print "
		       "$2}'); cxl create-region -t pmem -d decoder0.0 "
		       "-w 4 -g 8192 -m $1 $3 $2 $4", &got, e)) ||
	    (rc = expect(got, "\"interleave_ways\":4", "a 4-way region", e)))
		goto out;
	free(got);
	got = NULL;
	if ((rc = step(dir, "host0", "ndctl create-namespace -m devdax "
		       "--map=mem >/dev/null && daxwriter 'written across "
		       "four devices' && daxreader", &got, e)) ||
	    (rc = expect(got, "written across four devices",
			 "data back through the 4-way region", e)))
		goto out;
	/* the bytes are in exactly one device's backing file */
	int found = 0;
	for (int i = 1; i <= 4; i++) {
		char *mp = cx_xasprintf("%s/m%d.raw", ddir, i);
		char *grep[] = {"grep", "-c", "-a",
				"written across four devices", mp, NULL};
		char *gout = NULL;
		int gst;
		if (!cx_run_capture(grep, NULL, 60000, &gout, &gst, NULL) &&
		    gst == 0) {
			printf("cxlemu: lab demo interleave: the bytes are in "
			       "%s\n", mp);
			found++;
		}
		free(gout);
		free(mp);
	}
	if (found != 1)
		rc = cx_fail(e, EIO, "the written bytes are in %d of the 4 "
			     "backing files, expected 1", found);
	else
		printf("cxlemu: lab demo interleave: a 4-way region over 2 host "
		       "bridges x 2 root ports, data written and read back\n");
out:
	free(got);
	return rc;
}

int cx_lab_demo(const char *which, cx_err *e)
{
	static const struct {
		const char *name;
		int (*run)(const char *dir, const char *ddir, cx_err *e);
	} demos[] = {
		{"shared", demo_shared},
		{"mixed", demo_mixed},
		{"interleave", demo_interleave4},
	};
	const char *dir = cx_lab_dir();
	double t0 = now_s();
	int rc = -1;

	for (size_t i = 0; i < CX_ARRAY_SIZE(demos); i++) {
		if (strcmp(which, demos[i].name))
			continue;
		/* the topology and its backing files live beside the state
		 * directory; down removes both */
		char *ddir = cx_xasprintf("%s-demo", dir);
		mkdir(ddir, 0755);
		rc = demos[i].run(dir, ddir, e);
		struct stat st;
		if (rc && stat(dir, &st) != 0) {
			/* refused before a guest started: leave nothing */
			char *argv[] = {"rm", "-rf", "--", ddir, NULL};
			char *o = NULL;
			int s;
			cx_run_capture(argv, NULL, 60000, &o, &s, NULL);
			free(o);
		}
		free(ddir);
		if (!rc)
			printf("cxlemu: lab demo %s: done in %.1f s\n", which,
			       now_s() - t0);
		return rc;
	}
	return cx_fail(e, EINVAL, "no demo named '%s' (shared, mixed, "
		       "interleave)", which);
}

/* ---- compare ---- */

#define GUEST_LIST "cxl list -B -P -E -M -D -T"

/* Where --save keeps the guest's listings: SAVE/TOPO[-HOST]-PHASE.json */
static void save_listing(const char *save, const char *topo,
			 const struct cx_fabric *f, const struct cx_host *h,
			 bool regions, const char *text)
{
	const char *base = strrchr(topo, '/') ? strrchr(topo, '/') + 1 : topo;
	size_t bl = strlen(base);
	if (bl > 5 && !strcmp(base + bl - 5, ".topo"))
		bl -= 5;
	char *p = cx_xasprintf("%s/%.*s%s%s-%s.json", save, (int)bl, base,
			       f->hosts.n > 1 ? "-" : "",
			       f->hosts.n > 1 ? h->name : "",
			       regions ? "region" : "booted");
	spit(p, text);
	free(p);
}

static int compare_hosts(const char *dir, struct cx_fabric *f, const char *phase,
			 bool regions, const char *topo, const char *save,
			 int *total, cx_err *e)
{
	for (int i = 0; i < f->hosts.n; i++) {
		struct cx_host *h = f->hosts.v[i];
		char *out = NULL;
		int st, rc;
		const char *cmd = regions ? GUEST_LIST " -R" : GUEST_LIST;
		if ((rc = cx_lab_exec(dir, h->name, cmd, 120000, &out, &st, e)))
			return rc;
		/* ndctl warns on stderr before an empty list ("no matching
		 * devices found"); the JSON starts on its own line */
		const char *js = out;
		while (*js && *js != '[' && *js != '{') {
			const char *nl = strchr(js, '\n');
			js = nl ? nl + 1 : js + strlen(js);
		}
		struct json_object *guest = json_tokener_parse(js);
		if (save && guest)
			save_listing(save, topo, f, h, regions, js);
		if (st != 0 || !guest) {
			rc = cx_fail(e, EIO, "host %s: `%s` in the guest gave "
				     "status %d and no JSON: %.300s", h->name,
				     cmd, st, out);
			free(out);
			return rc;
		}
		free(out);
		struct cx_list_opts o = {.buses = true, .ports = true,
					 .endpoints = true, .memdevs = true,
					 .decoders = true, .targets = true,
					 .regions = regions};
		cx_list_opts_defaults(&o);
		struct json_object *ours = cx_json_list(h, &o, e);
		if (!ours) {
			json_object_put(guest);
			return -EINVAL;
		}
		cx_vec diffs = {0};
		int n = cx_compare_listing(h, ours, guest, &diffs, NULL, e);
		printf("== host %s, %s: %d unexplained difference%s (%d listed) "
		       "between `cxlemu list -BPEMDT%s` and the guest's `%s`\n",
		       h->name, phase, n < 0 ? 0 : n, n == 1 ? "" : "s", diffs.n,
		       regions ? "R" : "", cmd);
		for (int k = 0; k < diffs.n; k++) {
			printf("  %s\n", (char *)diffs.v[k]);
			free(diffs.v[k]);
		}
		cx_vec_free(&diffs);
		json_object_put(ours);
		json_object_put(guest);
		if (n < 0)
			return n;
		*total += n;
	}
	return 0;
}

/*
 * The same region in the guest and in cxlemu: every memdev below the
 * first window, in Linux's position order for these shapes (the window's
 * host bridges alternate; each bridge's devices in command-line order),
 * named in the guest through their PCI bus.
 */
static int create_regions(const char *dir, struct cx_fabric *f, int *total,
			  cx_err *e)
{
	for (int i = 0; i < f->hosts.n; i++) {
		struct cx_host *h = f->hosts.v[i];
		if (!h->windows.n || !h->memdevs.n)
			continue;
		struct cx_window *w = h->windows.v[0];
		struct cx_region_req req = {0};
		char root[32], names[CX_MAX_WAYS][16], buses[256] = "";
		int busv[CX_MAX_WAYS];
		snprintf(root, sizeof(root), "decoder0.%d", w->index);
		req.root = root;
		for (int round = 0, added = 1; added && req.nmemdevs < CX_MAX_WAYS;
		     round++) {
			added = 0;
			for (int t = 0; t < w->ways; t++) {
				int seen = 0;
				for (int k = 0; k < h->memdevs.n; k++) {
					struct cx_memdev *m = h->memdevs.v[k];
					if (cx_memdev_hb(m) != w->targets[t] ||
					    seen++ != round)
						continue;
					if (req.nmemdevs >= CX_MAX_WAYS)
						break;
					snprintf(names[req.nmemdevs], 16, "mem%d",
						 m->index);
					req.memdevs[req.nmemdevs] =
						names[req.nmemdevs];
					busv[req.nmemdevs++] = m->pci_bus;
					added = 1;
					break;
				}
			}
		}
		/* interleave ways a bridge or switch decoder can do */
		while (req.nmemdevs & (req.nmemdevs - 1))
			req.nmemdevs--;
		if (!req.nmemdevs)
			continue;
		for (int k = 0; k < req.nmemdevs; k++) {
			size_t bl = strlen(buses);
			snprintf(buses + bl, sizeof(buses) - bl, "%s%02x",
				 bl ? " " : "", busv[k] & 0xff);
		}
		req.ways = req.nmemdevs;
		req.mode = h->memdevs.n && ((struct cx_memdev *)h->memdevs.v[0])->pmem_size
			   ? CX_MODE_PMEM : CX_MODE_RAM;
		struct cx_region *r = NULL;
		cx_err re = {{0}};
		bool ours_refused = cx_region_create(h, &req, &r, &re) != 0;
		if (ours_refused)
			printf("== host %s: cxlemu refused the region: %s\n",
			       h->name, re.msg);
		char *cmd = cx_xasprintf(
			"set --; for b in %s; do for m in /sys/bus/cxl/devices/mem*; "
			"do case $(readlink -f $m) in */0000:$b:00.0/mem*) set -- "
			"\"$@\" ${m##*/};; esac; done; done; cxl create-region -t "
			"%s -d %s -w %d -m \"$@\"", buses,
			req.mode == CX_MODE_PMEM ? "pmem" : "ram", root, req.ways);
		char *out = NULL;
		int st = 0;
		int rc = cx_lab_exec(dir, h->name, cmd, 120000, &out, &st, e);
		free(cmd);
		if (rc)
			return rc;
		if (st != 0)
			printf("== host %s: the guest refused the region: %s\n",
			       h->name, out);
		/* a difference when one side made it and the other did not */
		if ((st != 0) != ours_refused)
			(*total)++;
		else if (ours_refused)
			printf("== host %s: both refused the region (agreed)\n",
			       h->name);
		free(out);
	}
	return 0;
}

/*
 * The fabric of the topology as the guests boot it: each host's line as
 * qemu-args makes it for the installed QEMU (with, on 7.2, the second
 * root port of one-port bridges), read back through the topology parser.
 * Comparing against this one checks the model, not the workaround.
 */
static int booted_fabric(const char *topo, struct cx_fabric **out, cx_err *e)
{
	struct cx_fabric *f = NULL;
	struct cx_qemu_caps caps;
	size_t cap = 4096, len = 0;
	char *text = cx_xcalloc(1, cap);
	int rc;

	*out = NULL;
	if ((rc = cx_config_load_file(topo, &f, e)))
		goto out_text;
	if ((rc = cx_qemu_probe(cx_qemu_default_binary(), &caps, e)))
		goto out_f;
	for (int i = 0; i < f->hosts.n && !rc; i++) {
		struct cx_host *h = f->hosts.v[i];
		struct cx_qemu_opts o = {.cxl_only = true};
		struct cx_qemu_line l;
		if ((rc = cx_qemu_line_build(f, h->name, &caps, &o, &l, e)))
			break;
		/* drop the binary: the file holds options only */
		free(l.argv.v[0]);
		l.argv.v[0] = cx_xstrdup("qemu-system-x86_64");
		char *j = cx_qemu_line_join(&l);
		char *sec = cx_xasprintf("[host %s]\n%s\n", h->name, j);
		if (len + strlen(sec) + 1 >= cap) {
			cap = (len + strlen(sec)) * 2;
			text = cx_xrealloc(text, cap);
		}
		memcpy(text + len, sec, strlen(sec) + 1);
		len += strlen(sec);
		free(sec);
		free(j);
		cx_qemu_line_free(&l);
	}
	cx_qemu_caps_free(&caps);
	if (!rc) {
		char *name = cx_xasprintf("%s (as booted)", topo);
		rc = cx_config_load_text(name, text, out, e);
		free(name);
	}
out_f:
	cx_fabric_free(f);
out_text:
	free(text);
	return rc;
}

int cx_lab_compare(const char *topo, bool keep, const char *save,
		   int *total, char **versions, cx_err *e)
{
	const char *dir = cx_lab_dir();
	struct cx_fabric *f = NULL;
	int rc;

	*total = 0;
	if ((rc = booted_fabric(topo, &f, e)))
		return rc;
	if ((rc = cx_lab_up(topo, NULL, e)))
		goto out;
	*versions = cx_lab_versions(dir);
	printf("cxlemu: lab compare: %s on %s\n", topo, *versions);
	rc = compare_hosts(dir, f, "as booted", false, topo, save, total, e);
	if (!rc)
		rc = create_regions(dir, f, total, e);
	if (!rc)
		rc = compare_hosts(dir, f, "after the same region in both", true,
				   topo, save, total, e);
	if (!keep) {
		cx_err keep_err = *e;
		cx_lab_down(dir, true);
		*e = keep_err;
	}
out:
	cx_fabric_free(f);
	return rc;
}

