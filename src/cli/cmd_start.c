/*
 * cmd_start.c - `cxlemu start [TOPOLOGY] [--foreground]`: load a topology
 * (or the built-in two-host lab), open its media and serve it.
 *
 * By default the fabric runs as a daemon: the command forks, the child
 * starts a new session, loads the fabric and binds the socket, and reports
 * back over a pipe (warnings, then "ready" or the error) before it drops
 * its terminal; the parent prints that report and exits 0 only once the
 * socket is listening.  So `cxlemu start && cxlemu list` always works.
 *
 * --access WHO:owner=U,group=G,mode=M sets who may open a socket (WHO is
 * a host, or `admin` for the administrative socket), over what the
 * topology's headers say; by default each is the daemon's user's only.
 *
 * The fabric's state (regions, decoders, DAX modes, pending partitions)
 * is kept in a file beside the socket (--state FILE to choose another) and
 * brought back here; --fresh starts without it.  A state file written for
 * another topology, or cut short, is refused, saying so.
 */
#include "cli.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "config/config.h"
#include "server/server.h"
#include "server/state.h"

static volatile sig_atomic_t quit;

static void on_signal(int sig)
{
	(void)sig;
	quit = 1;
}

static void install_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal; /* no SA_RESTART: poll() must wake up */
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
}

/* Report records to the parent: a type letter, the text, a NUL. */
static void report(int fd, char type, const char *text)
{
	if (fd < 0)
		return;
	size_t len = strlen(text) + 1;
	char *buf = malloc(len + 1);
	if (!buf)
		return;
	buf[0] = type;
	memcpy(buf + 1, text, len);
	for (size_t off = 0; off < len + 1;) {
		ssize_t w = write(fd, buf + off, len + 1 - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			break;
		off += (size_t)w;
	}
	free(buf);
}

/* One log line: UTC time to the millisecond, the pid, the daemon's words.
 * One write() to an O_APPEND file, so lines from two daemons sharing a
 * log do not interleave. */
static void log_line(void *ctx, const char *text)
{
	int fd = *(int *)ctx;
	struct timespec ts;
	struct tm tm;
	char buf[800];

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	int n = (int)strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
	n += snprintf(buf + n, sizeof(buf) - (size_t)n, ".%03ldZ cxlemu[%d]: "
		      "%s\n", ts.tv_nsec / 1000000, (int)getpid(), text);
	if (n >= (int)sizeof(buf)) {
		n = (int)sizeof(buf);
		buf[n - 1] = '\n';
	}
	if (write(fd, buf, (size_t)n) < 0)
		return; /* a full disk must not stop the fabric */
}

static int log_fd = -1;

/* --access values, applied once the topology is loaded */
static const char *access_args[64];
static int naccess;
/* --state, --fresh */
static const char *state_arg;
static bool fresh;
static char state_buf[4200];

/* WHO:SPEC over the fabric's settings */
static int apply_access_args(struct cx_fabric *f, cx_err *e)
{
	for (int i = 0; i < naccess; i++) {
		const char *arg = access_args[i], *colon = strchr(arg, ':');
		struct cx_access a;
		if (!colon || colon == arg)
			return cx_fail(e, EINVAL, "--access %s: it reads "
				       "WHO:owner=USER,group=GROUP,mode=OCTAL, "
				       "WHO being a host or 'admin'", arg);
		int rc = cx_access_parse(colon + 1, &a, e);
		if (rc) {
			cx_err_prefix(e, "--access %s", arg);
			return rc;
		}
		char who[128];
		snprintf(who, sizeof(who), "%.*s", (int)(colon - arg), arg);
		struct cx_host *h = cx_host_find(f, who);
		if (!strcmp(who, "admin"))
			cx_access_merge(&f->admin_access, &a);
		else if (h)
			cx_access_merge(&h->access, &a);
		else
			return cx_fail(e, ENOENT, "--access %s: '%s' is neither "
				       "'admin' nor one of this fabric's hosts",
				       arg, who);
	}
	return 0;
}

/* Load, start and bind; report warnings and the outcome on `rfd` (or
 * print them when rfd < 0). */
static int bring_up(const char *topo, const char *path, int rfd,
		    struct cx_server **out)
{
	struct cx_fabric *f = NULL;
	cx_err e;
	int rc;

	if (topo)
		rc = cx_config_load_file(topo, &f, &e);
	else
		rc = cx_config_load_text("<built-in topology>",
					 cx_default_topology, &f, &e);
	const char *state = state_arg ? state_arg :
			    cx_state_default_path(path, state_buf,
						  sizeof(state_buf));
	struct cx_state *st = NULL;
	int restored = 0;
	if (rc == 0)
		rc = apply_access_args(f, &e);
	if (rc == 0 && !state)
		rc = cx_fail(&e, ENAMETOOLONG, "the state file beside %s would "
			     "be too long a path; name one with --state", path);
	if (rc == 0 && !fresh)
		rc = cx_state_load(state, f, &st, &e);
	if (rc == 0) {
		for (int i = 0; i < f->warnings.n; i++) {
			if (rfd >= 0)
				report(rfd, 'W', f->warnings.v[i]);
			else
				cli_warn("%s", (char *)f->warnings.v[i]);
		}
		cx_state_before_start(st, f);
		rc = cx_fabric_start(f, &e);
	}
	if (rc == 0 && st) {
		rc = cx_state_apply(st, f, &e);
		for (int i = 0; !rc && i < f->hosts.n; i++)
			restored += ((struct cx_host *)f->hosts.v[i])->regions.n;
	}
	cx_state_free(st);
	bool served = false;
	if (rc == 0 && (rc = cx_server_open(f, path, out, &e)) == 0) {
		served = true;  /* the server owns the fabric */
		if ((rc = cx_server_set_state(*out, state, &e))) {
			cx_server_close(*out);
			*out = NULL;
		}
	}
	if (rc) {
		if (!served)
			cx_fabric_free(f);
		if (rfd >= 0)
			report(rfd, 'E', e.msg);
		else
			cli_error("%s", e.msg);
		return rc;
	}
	char who[512];
	int nstale = cx_server_stale_mappers(*out, who, sizeof(who));
	if (nstale) {
		char w[800];
		snprintf(w, sizeof(w), "%d program%s of the previous daemon of "
			 "this fabric still map%s its media (%s): %s hold%s "
			 "copies this fabric does not own; destroy-region, "
			 "sanitize and secure erase wait until %s end",
			 nstale, nstale == 1 ? "" : "s", nstale == 1 ? "s" : "",
			 who, nstale == 1 ? "it" : "they",
			 nstale == 1 ? "s" : "", nstale == 1 ? "it" : "they");
		if (rfd >= 0)
			report(rfd, 'W', w);
		else
			cli_warn("%s", w);
		if (log_fd >= 0)
			log_line(&log_fd, w);
	}
	char line[1024];
	int n = snprintf(line, sizeof(line), "serving %s (%d host%s:",
			 f->source, f->hosts.n, f->hosts.n == 1 ? "" : "s");
	for (int i = 0; i < f->hosts.n && n > 0 && (size_t)n < sizeof(line);
	     i++) {
		struct cx_host *h = f->hosts.v[i];
		n += snprintf(line + n, sizeof(line) - (size_t)n, "%s%s",
			      i ? ", " : " ", h->name);
	}
	if (n > 0 && (size_t)n < sizeof(line))
		n += snprintf(line + n, sizeof(line) - (size_t)n, ") on %s", path);
	if (restored && n > 0 && (size_t)n < sizeof(line))
		snprintf(line + n, sizeof(line) - (size_t)n, "; %d region%s "
			 "restored from %s", restored, restored == 1 ? "" : "s",
			 state);
	if (rfd >= 0 && log_fd >= 0)
		log_line(&log_fd, line);
	if (rfd >= 0)
		report(rfd, 'O', line);
	else
		fprintf(stderr, "cxlemu: %s\n", line);
	return 0;
}

static int serve(struct cx_server *s)
{
	cx_err e;
	if (log_fd >= 0)
		cx_server_set_log(s, log_line, &log_fd);
	int rc = cx_server_run(s, &quit, &e);
	if (log_fd >= 0) {
		char line[CX_ERR_MAX + 32];
		snprintf(line, sizeof(line), "%s", rc ? e.msg : "stopped");
		log_line(&log_fd, line);
	}

	cx_server_close(s);
	return rc ? CLI_FAIL : CLI_OK;
}

/* A daemon must not hold its caller's descriptors (a pipe a shell waits
 * on, say): close everything above stderr except `keep`. */
static void close_inherited(int keep, int keep2)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *de;

	if (!d)
		return;
	while ((de = readdir(d))) {
		int fd = atoi(de->d_name);
		if (fd > 2 && fd != keep && fd != keep2 && fd != dirfd(d))
			close(fd);
	}
	closedir(d);
}

static int daemonize(const char *topo, const char *path)
{
	int p[2];
	pid_t pid;

	if (pipe2(p, O_CLOEXEC) < 0)
		return cli_error("pipe: %s", strerror(errno));
	fflush(NULL);
	pid = fork();
	if (pid < 0)
		return cli_error("fork: %s", strerror(errno));
	if (pid == 0) {
		struct cx_server *s = NULL;
		close(p[0]);
		close_inherited(p[1], log_fd);
		setsid();
		install_signals();
		if (bring_up(topo, path, p[1], &s))
			_exit(CLI_FAIL);
		int null = open("/dev/null", O_RDWR);
		if (null >= 0) {
			dup2(null, 0);
			dup2(null, 1);
			dup2(null, 2);
			if (null > 2)
				close(null);
		}
		close(p[1]);
		exit(serve(s));
	}
	close(p[1]);

	/* read the child's report until it closes the pipe */
	size_t cap = 4096, len = 0;
	char *buf = cx_xrealloc(NULL, cap);
	for (;;) {
		if (len + 1 >= cap)
			buf = cx_xrealloc(buf, cap *= 2);
		ssize_t r = read(p[0], buf + len, cap - len - 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		len += (size_t)r;
	}
	close(p[0]);
	buf[len] = 0;
	int rc = CLI_FAIL;
	bool said = false;
	for (size_t off = 0; off < len;) {
		char type = buf[off];
		const char *text = buf + off + 1;
		off += strlen(buf + off) + 1;
		if (type == 'W') {
			cli_warn("%s", text);
		} else if (type == 'E') {
			cli_error("%s", text);
			said = true;
		} else if (type == 'O') {
			fprintf(stderr, "cxlemu: %s\n", text);
			rc = CLI_OK;
		}
	}
	free(buf);
	if (rc != CLI_OK) {
		int status;
		waitpid(pid, &status, 0);
		if (!said)
			cli_error("the fabric daemon exited before it was "
				  "ready");
	}
	return rc;
}

int cmd_start(int argc, char **argv, struct cli *cli)
{
	enum { O_STATE = CLI_OPT_LONG, O_FRESH };
	static const struct cli_opt opts[] = {
		{ 'f', "foreground", no_argument, NULL,
		  "stay in the foreground (stop with Ctrl-C or cxlemu stop); "
		  "logs to stderr" },
		{ 'l', "log", required_argument, "FILE",
		  "append what the daemon does to FILE (default: $CXLEMU_LOG)" },
		{ 'a', "access", required_argument,
		  "WHO:owner=USER,group=GROUP,mode=OCTAL",
		  "who may open a socket: WHO is a host (its own socket)\n"
		  "or 'admin' (the fabric's, for stop and inject);\n"
		  "default: the daemon's user only (0600)" },
		{ O_STATE, "state", required_argument, "FILE",
		  "keep the fabric's regions, decoders and DAX modes in FILE\n"
		  "(default: beside the socket, PATH-without-.sock.state)" },
		{ O_FRESH, "fresh", no_argument, NULL,
		  "start without the state file's contents (it is rewritten)" },
		CLI_OPT_END,
	};
	struct cli_args args = { .cmd = "start", .opts = opts };
	bool foreground = false;
	const char *log_path = getenv("CXLEMU_LOG");
	int c;

	while ((c = cli_getopt(&args, argc, argv)) >= 0) {
		switch (c) {
		case O_STATE:
			state_arg = optarg;
			break;
		case O_FRESH:
			fresh = true;
			break;
		case 'a':
			if (naccess == (int)CX_ARRAY_SIZE(access_args))
				return cli_usage("start", "--access is given "
						 "more than %d times",
						 naccess);
			access_args[naccess++] = optarg;
			break;
		case 'f':
			foreground = true;
			break;
		case 'l':
			log_path = optarg;
			break;
		}
	}
	if (c == CLI_OPT_EXIT)
		return args.rc;
	if (log_path && *log_path) {
		log_fd = open(log_path, O_WRONLY | O_APPEND | O_CREAT |
			      O_CLOEXEC, 0644);
		if (log_fd < 0)
			return cli_error("cannot open log file %s: %s",
					 log_path, strerror(errno));
	} else if (foreground) {
		log_fd = 2;
	}
	if (argc - optind > 1)
		return cli_usage("start", "one topology file at most");
	const char *topo = optind < argc ? argv[optind] : NULL;
	const char *path = cli_socket(cli);
	cx_err e;
	int busy = cx_server_probe(path, &e);
	if (busy < 0)
		return cli_error("%s", e.msg);
	if (busy)
		return cli_error("a fabric is already being served on %s",
				 path);
	if (!foreground)
		return daemonize(topo, path);

	struct cx_server *s = NULL;
	install_signals();
	if (bring_up(topo, path, -1, &s))
		return CLI_FAIL;
	return serve(s);
}
