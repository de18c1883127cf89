/*
 * test_server_limits.c - the daemon at its limits.  Out of file
 * descriptors, it tells each newcomer why and hangs up instead of
 * spinning on a listening socket it cannot accept from; with no room at
 * all, newcomers wait in the backlog and are served as soon as room comes
 * back, even when no client left to make it; past its connection cap it
 * tells newcomers so; and afterwards it serves as before.
 *
 * Limits are set from outside with prlimit(2) on the daemon, counted on
 * the descriptor numbers it holds (RLIMIT_NOFILE bounds the number a new
 * descriptor may get, not how many are open).  Waits have deadlines, and
 * a test that hangs says where.
 */
#include <dirent.h>
#include <errno.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>
#include <json-c/json.h>

#include "config/config.h"
#include "cxlemu/cxlemu.h"
#include "proto/proto.h"
#include "server/server.h"
#include "daemon_fixture.h"

static const char topo[] =
	"-machine q35,cxl=on\n"
	"-object memory-backend-ram,id=v0,size=256M\n"
	"-device pxb-cxl,bus_nr=12,bus=pcie.0,id=cxl.1\n"
	"-device cxl-rp,port=0,bus=cxl.1,id=rp0,chassis=0,slot=0\n"
	"-device cxl-type3,bus=rp0,volatile-memdev=v0,id=d0\n"
	"-M cxl-fmw.0.targets.0=cxl.1,cxl-fmw.0.size=4G\n";

#define DEADLINE_S 30 /* generous: a slow machine is not a failure */

/* ---- a hang names its step instead of an anonymous "Alarm clock" ---- */

static const char *volatile step = "start";

static void on_alarm(int sig)
{
	(void)sig;
	char msg[256];
	int n = snprintf(msg, sizeof(msg), "test_server_limits: no progress "
			 "for %d s while: %s\n", 4 * DEADLINE_S, step);
	if (write(2, msg, (size_t)n) < 0)
		_exit(2);
	_exit(1); /* our daemon dies with us (PR_SET_PDEATHSIG) */
}

static void watchdog(const char *what)
{
	step = what;
	alarm(4 * DEADLINE_S);
}

static double now_s(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* ---- the daemon's descriptor table, read from /proc ---- */

#define MAXFD 4096

/* Set the daemon's soft RLIMIT_NOFILE so that exactly `room` descriptor
 * numbers below it are free, the next number up being free too (the hard limit stays, so it can rise again).
 * Returns the limit set. */
static rlim_t set_room(pid_t pid, int room)
{
	static unsigned char held[MAXFD];
	char path[64];
	struct dirent *de;
	DIR *d;

	memset(held, 0, sizeof(held));
	snprintf(path, sizeof(path), "/proc/%d/fd", (int)pid);
	d = opendir(path);
	assert_non_null(d);
	while ((de = readdir(d))) {
		char *end;
		long fd = strtol(de->d_name, &end, 10);
		if (*end == 0 && end != de->d_name && fd >= 0 && fd < MAXFD)
			held[fd] = 1;
	}
	closedir(d);

	/* the limit sits on the (room+1)-th free number */
	int lim = 0, free_below = 0;
	for (; lim < MAXFD; lim++)
		if (!held[lim] && free_below++ == room)
			break;
	assert_true(lim < MAXFD);
	struct rlimit old, rl;
	assert_int_equal(prlimit(pid, RLIMIT_NOFILE, NULL, &old), 0);
	rl.rlim_cur = (rlim_t)lim;
	rl.rlim_max = old.rlim_max;
	assert_int_equal(prlimit(pid, RLIMIT_NOFILE, &rl, NULL), 0);
	return (rlim_t)lim;
}

static void raise_limit(pid_t pid, rlim_t to)
{
	struct rlimit old, rl;
	assert_int_equal(prlimit(pid, RLIMIT_NOFILE, NULL, &old), 0);
	rl.rlim_cur = to;
	rl.rlim_max = old.rlim_max;
	assert_int_equal(prlimit(pid, RLIMIT_NOFILE, &rl, NULL), 0);
}

/* ---- clients ---- */

/* Connect without blocking on a full backlog; retry until the deadline
 * (a daemon that accepts drains it). */
static int connect_nb(const char *sock)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	double until = now_s() + DEADLINE_S;
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0);

	assert_true(fd >= 0);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", sock);
	while (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		if (errno != EAGAIN || now_s() > until)
			fail_msg("connect %s: %s", sock, strerror(errno));
		usleep(2000);
	}
	return fd;
}

/* If the daemon answered fds[i], count it when the answer is an error
 * containing `why`, and close it. */
static int take_answer(int *fd, const char *why)
{
	char buf[512];
	ssize_t got = read(*fd, buf, sizeof(buf) - 1);
	int told = 0;

	if (got > 4) { /* 4-byte frame header, then JSON */
		buf[got] = 0;
		told = strstr(buf + 4, why) != NULL;
	}
	close(*fd);
	*fd = -1;
	return told;
}

/* Open n connections; wait until `expect` of them have been told `why`
 * (or the deadline); return how many were.  Those the daemon accepted
 * and keeps stay open in fds[]. */
static int flood(const char *sock, int *fds, int n, const char *why,
		 int expect)
{
	struct pollfd *pf = calloc((size_t)n, sizeof(*pf));
	double until;
	int told = 0;

	assert_non_null(pf);
	for (int i = 0; i < n; i++)
		fds[i] = connect_nb(sock);
	until = now_s() + DEADLINE_S;
	while (told < expect && now_s() < until) {
		for (int i = 0; i < n; i++)
			pf[i] = (struct pollfd){ fds[i], POLLIN, 0 };
		if (poll(pf, (nfds_t)n, 100) <= 0)
			continue;
		for (int i = 0; i < n; i++)
			if (fds[i] >= 0 && (pf[i].revents & (POLLIN | POLLHUP)))
				told += take_answer(&fds[i], why);
	}
	free(pf);
	return told;
}

static void close_all(int *fds, int n)
{
	for (int i = 0; i < n; i++)
		if (fds[i] >= 0)
			close(fds[i]);
}

static void start(struct fx_daemon *d)
{
	fx_daemon_dir(d, "limits");
	watchdog("starting the daemon");
	fx_daemon_start(d, topo, NULL, NULL);
}

/* A new client is served once the daemon has seen the others go (until
 * then it may be told to come back, as any client would be); then the
 * daemon stops cleanly. */
static void served_then_stop(struct fx_daemon *d)
{
	struct cxlemu *c;
	struct cxlemu_err err;
	double until = now_s() + DEADLINE_S;
	int rc;

	watchdog("a new client connects after the others left");
	while ((rc = cxlemu_connect(d->sock, NULL, &c, &err)) == -EMFILE &&
	       now_s() < until)
		usleep(10000);
	if (rc)
		fail_msg("a new client: %s", err.msg);
	cxlemu_close(c);
	watchdog("stopping the daemon");
	fx_daemon_stop(d);
	fx_daemon_rmdir(d);
	alarm(0);
}

/* One descriptor of room: the first newcomer takes it; each of the
 * others is told why on the spare descriptor and hung up on. */
static void test_out_of_descriptors(void **state)
{
	enum { N = 16 };
	struct fx_daemon d;
	int fds[N];

	(void)state;
	start(&d);
	set_room(d.pid, 1);
	watchdog("flooding a daemon with one descriptor of room");
	assert_int_equal(flood(d.sock, fds, N, "out of file descriptors",
			       N - 1), N - 1);
	/* the library reports the daemon's reason, not a broken pipe, however
	 * the hang-up and its hello crossed */
	struct cxlemu *c = NULL;
	struct cxlemu_err err;
	assert_int_equal(cxlemu_connect(d.sock, NULL, &c, &err), -EMFILE);
	assert_non_null(strstr(err.msg, "out of file descriptors"));
	close_all(fds, N);
	served_then_stop(&d);
}

/* No room at all, not even with the spare given back: a newcomer waits
 * in the backlog and its request is answered once the limit rises,
 * though no client ever left to make room. */
static void test_no_room_until_limit_rises(void **state)
{
	struct fx_daemon d;
	struct cx_proto_msg m;
	cx_err e;
	int fd;

	(void)state;
	start(&d);
	rlim_t lim = set_room(d.pid, 0);

	watchdog("a client asks a daemon with no room");
	assert_int_equal(cx_proto_connect(d.sock, &fd, &e), 0);
	struct json_object *req = json_object_new_object();
	json_object_object_add(req, "op", json_object_new_string("hello"));
	assert_int_equal(cx_proto_send_msg(fd, req, NULL, 0, NULL, 0, &e), 0);
	json_object_put(req);
	struct pollfd pf = { fd, POLLIN, 0 };
	/* it cannot have been taken in: nothing comes back */
	assert_int_equal(poll(&pf, 1, 300), 0);

	raise_limit(d.pid, lim + 16);
	watchdog("the waiting client after the limit rose");
	pf.revents = 0;
	assert_int_equal(poll(&pf, 1, DEADLINE_S * 1000), 1);
	assert_int_equal(cx_proto_recv_msg(fd, &m, &e), 0);
	struct json_object *result = NULL;
	assert_int_equal(cx_proto_reply_result(m.json, &result, &e), 0);
	assert_non_null(result);
	cx_proto_msg_release(&m);
	close(fd);
	served_then_stop(&d);
}

static void test_connection_cap(void **state)
{
	enum { N = CX_SERVER_MAX_CLIENTS + 4 };
	static int fds[N];
	struct fx_daemon d;

	(void)state;
	start(&d);
	watchdog("flooding past the connection cap");
	assert_int_equal(flood(d.sock, fds, N, "at most", 4), 4);
	close_all(fds, N);
	served_then_stop(&d);
}

/* A daemon that answers the hello, then says why it is hanging up and
 * hangs up: the client's next request runs into a broken pipe, and the
 * library must report the reason already queued, not the pipe. */
static void test_client_reports_the_reason_for_a_hang_up(void **state)
{
	char dir[] = "/tmp/cxlemu-test-hangup-XXXXXX", sock[64];
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int lfd, p[2];
	cx_err e;

	(void)state;
	watchdog("a daemon that hangs up after the hello");
	assert_non_null(mkdtemp(dir));
	snprintf(sock, sizeof(sock), "%s/sock", dir);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", sock);
	lfd = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_true(lfd >= 0);
	assert_int_equal(bind(lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(lfd, 1), 0);
	assert_int_equal(pipe(p), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct cx_proto_msg m;
		char go;
		int fd = accept(lfd, NULL, NULL);
		if (fd < 0 || cx_proto_recv_msg(fd, &m, &e))
			_exit(3);
		cx_proto_msg_release(&m);
		struct json_object *hello = json_object_new_object();
		json_object_object_add(hello, "host",
				       json_object_new_string("host0"));
		struct json_object *r = cx_proto_reply(0, hello, NULL);
		if (cx_proto_send_msg(fd, r, NULL, 0, NULL, 0, &e))
			_exit(4);
		json_object_put(r);
		if (read(p[0], &go, 1) != 1) /* the client is connected */
			_exit(5);
		r = cx_proto_reply(ENOSPC, NULL,
				   "the test daemon is leaving");
		if (cx_proto_send_msg(fd, r, NULL, 0, NULL, 0, &e))
			_exit(6);
		json_object_put(r);
		_exit(0); /* closes fd with the reason queued */
	}
	close(p[0]);
	close(lfd);

	struct cxlemu *c;
	struct cxlemu_err err;
	struct json_object *out = NULL;
	int st;
	assert_int_equal(cxlemu_connect(sock, NULL, &c, &err), 0);
	assert_int_equal(write(p[1], "g", 1), 1);
	assert_int_equal(waitpid(pid, &st, 0), pid); /* it has hung up */
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	assert_int_equal(cxlemu_list(c, NULL, &out, &err), -ENOSPC);
	assert_string_equal(err.msg, "the test daemon is leaving");
	cxlemu_close(c);
	close(p[1]);
	unlink(sock);
	rmdir(dir);
	alarm(0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_out_of_descriptors),
		cmocka_unit_test(test_no_room_until_limit_rises),
		cmocka_unit_test(test_connection_cap),
		cmocka_unit_test(test_client_reports_the_reason_for_a_hang_up),
	};
	signal(SIGALRM, on_alarm);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
