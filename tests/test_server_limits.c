/*
 * test_server_limits.c - the daemon at its limits: out of file
 * descriptors, it tells each newcomer why and hangs up instead of
 * spinning on a listening socket it cannot accept from; past its
 * connection cap, likewise; and afterwards it serves as before.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

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

/* In the daemon: allow `nofile` more descriptors than it holds now. */
static void limit_fds(void *arg)
{
	int nofile = *(int *)arg, open_fds = 0;
	DIR *d = opendir("/proc/self/fd");
	while (d && readdir(d))
		open_fds++;
	if (d)
		closedir(d);
	struct rlimit rl = { (rlim_t)(open_fds + nofile),
			     (rlim_t)(open_fds + nofile) };
	setrlimit(RLIMIT_NOFILE, &rl);
}

/* Open n connections without blocking (a daemon that is not accepting
 * fills its listen backlog); count those it answered with an error
 * containing `why` (and close them). */
static int flood(const char *sock, int *fds, int n, const char *why)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int told = 0;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", sock);
	for (int i = 0; i < n; i++) {
		fds[i] = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0);
		assert_true(fds[i] >= 0);
		int rc, tries = 0;
		/* a full backlog says EAGAIN: give the daemon a moment to
		 * accept, but not forever (a paused daemon never will) */
		while ((rc = connect(fds[i], (struct sockaddr *)&sa,
				     sizeof(sa))) < 0 && errno == EAGAIN &&
		       ++tries < 100)
			usleep(2000);
		if (rc < 0) {
			close(fds[i]); /* never connected */
			fds[i] = -1;
		}
	}
	/* a refusal is sent as the daemon accepts: wait once for all */
	assert_true(n > 0);
	struct pollfd *pf = calloc((size_t)(unsigned)n, sizeof(*pf));
	for (int i = 0; i < n; i++)
		pf[i] = (struct pollfd){ fds[i], POLLIN, 0 };
	usleep(300000);
	poll(pf, (nfds_t)n, 0);
	for (int i = 0; i < n; i++) {
		if (fds[i] < 0 || !(pf[i].revents & POLLIN))
			continue; /* accepted (or queued) and waiting */
		char buf[512];
		ssize_t got = read(fds[i], buf, sizeof(buf) - 1);
		if (got > 4) {
			buf[got] = 0;
			if (strstr(buf + 4, why))
				told++;
		}
		close(fds[i]);
		fds[i] = -1;
	}
	free(pf);
	return told;
}

/* The daemon still serves a new client; then it stops cleanly. */
static void stop(struct fx_daemon *d)
{
	struct cxlemu *c;
	struct cxlemu_err err;
	assert_int_equal(cxlemu_connect(d->sock, NULL, &c, &err), 0);
	cxlemu_close(c);
	fx_daemon_stop(d);
}

static void close_all(int *fds, int n)
{
	for (int i = 0; i < n; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	usleep(100000); /* let the daemon see them go */
}

static void test_out_of_descriptors(void **state)
{
	struct fx_daemon d;
	int fds[64], room;

	fx_daemon_dir(&d, "limits");
	alarm(120); /* a daemon that stops serving must not hang the suite */
	/* a few descriptors of room: the spare lets it say why */
	room = 4;
	fx_daemon_start(&d, topo, limit_fds, &room);
	assert_true(flood(d.sock, fds, 64, "out of file descriptors") >= 1);
	close_all(fds, 64);
	stop(&d);

	/* no room at all (the limit below what it holds): newcomers wait in
	 * the backlog, and a new client is served once the others go */
	room = -3;
	fx_daemon_start(&d, topo, limit_fds, &room);
	flood(d.sock, fds, 64, "out of file descriptors");
	close_all(fds, 64);
	stop(&d);
	alarm(0);
	fx_daemon_rmdir(&d);
}

static void test_connection_cap(void **state)
{
	struct fx_daemon d;
	int n = CX_SERVER_MAX_CLIENTS + 4, *fds = calloc((size_t)n, sizeof(int));

	fx_daemon_dir(&d, "limits");
	alarm(120);
	fx_daemon_start(&d, topo, NULL, NULL);
	assert_int_equal(flood(d.sock, fds, n, "at most"), 4);
	close_all(fds, n);
	stop(&d);
	alarm(0);
	free(fds);
	fx_daemon_rmdir(&d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_out_of_descriptors),
		cmocka_unit_test(test_connection_cap),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
