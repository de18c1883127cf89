/*
 * daemon_fixture.h - a cxlemu daemon forked for a test on a private
 * socket in its own temporary directory, and stopped again with the
 * checks every daemon test wants: it exited with status 0 (so under ASan
 * LeakSanitizer found nothing) and removed its socket.
 *
 *   struct fx_daemon d;
 *   fx_daemon_dir(&d, "dax");              // /tmp/cxlemu-test-dax-XXXXXX
 *   fx_daemon_start(&d, text, NULL, NULL); // returns once it listens
 *                                          // (and holds no extra fd)
 *   ... cxlemu_connect(d.sock, ...) ...
 *   fx_daemon_stop(&d);
 *   fx_daemon_rmdir(&d);
 *
 * A fixture that keeps one connection in a calloc'd struct around its
 * fx_daemon starts with s->c = fx_daemon_open(&s->d, "tag", text, admin)
 * and ends with fx_daemon_finish(&s->d, s->c, s).
 */
#ifndef CXLEMU_TEST_DAEMON_FIXTURE_H
#define CXLEMU_TEST_DAEMON_FIXTURE_H

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "config/config.h"
#include "cxlemu/cxlemu.h"
#include "server/server.h"

struct fx_daemon {
	char dir[64];
	char sock[128];
	pid_t pid;
};

static void fx_daemon_dir(struct fx_daemon *d, const char *tag)
{
	snprintf(d->dir, sizeof(d->dir), "/tmp/cxlemu-test-%s-XXXXXX", tag);
	assert_non_null(mkdtemp(d->dir));
	snprintf(d->sock, sizeof(d->sock), "%s/sock", d->dir);
	d->pid = -1;
}

/* Serve topology `text`; `in_child(arg)`, if given, runs in the daemon
 * right before it starts serving (to set limits, say). */
static void fx_daemon_start(struct fx_daemon *d, const char *text,
			    void (*in_child)(void *), void *arg)
{
	int p[2];
	char ready;

	assert_int_equal(pipe(p), 0);
	fflush(NULL);
	pid_t parent = getpid();
	d->pid = fork();
	assert_true(d->pid >= 0);
	if (d->pid == 0) {
		struct cx_fabric *f = NULL;
		struct cx_server *sv = NULL;
		cx_err e;
		/* a test that fails or hangs must not leave its daemon behind
		 * (holding the suite's output open) */
		if (prctl(PR_SET_PDEATHSIG, SIGKILL) || getppid() != parent)
			_exit(6);
		close(p[0]);
		if (cx_config_load_text("test-topology", text, &f, &e) ||
		    cx_fabric_start(f, &e) || cx_server_open(f, d->sock, &sv, &e)) {
			fprintf(stderr, "test daemon: %s\n", e.msg);
			_exit(3);
		}
		if (in_child)
			in_child(arg);
		if (write(p[1], "r", 1) != 1)
			_exit(4);
		close(p[1]);
		int rc = cx_server_run(sv, NULL, &e);
		cx_server_close(sv);
		exit(rc ? 5 : 0); /* exit, not _exit: LeakSanitizer runs */
	}
	close(p[1]);
	ssize_t got = read(p[0], &ready, 1);
	/* then end of file: the daemon has closed its end, so its descriptor
	 * table stays as it is until it accepts (tests count on that) */
	while (got == 1 && read(p[0], &ready, 1) > 0)
		;
	close(p[0]);
	if (got != 1) {
		waitpid(d->pid, NULL, 0);
		fail_msg("the test daemon did not come up");
	}
}

static void fx_daemon_stop(struct fx_daemon *d)
{
	struct cxlemu *c;
	struct cxlemu_err err;
	int st = -1, rc, tries = 0;

	/* a daemon that has not yet seen earlier clients go may turn us away
	 * (-EMFILE, with its reason): come back, as any client would */
	while ((rc = cxlemu_connect(d->sock, NULL, &c, &err)) == -EMFILE &&
	       ++tries < 3000)
		usleep(10000);
	if (rc == 0) {
		assert_int_equal(cxlemu_stop(c, NULL), 0);
		cxlemu_close(c);
		/* it exits once the reply is out: give it 30 s, not forever */
		for (tries = 0; waitpid(d->pid, &st, WNOHANG) == 0; tries++) {
			if (tries == 3000) {
				kill(d->pid, SIGKILL);
				waitpid(d->pid, NULL, 0);
				d->pid = -1;
				fail_msg("the test daemon did not exit 30 s "
					 "after stop");
			}
			usleep(10000);
		}
	} else if (waitpid(d->pid, &st, WNOHANG) != d->pid) {
		/* alive but unreachable: never wait on a daemon nobody could
		 * ask to stop */
		kill(d->pid, SIGKILL);
		waitpid(d->pid, NULL, 0);
		d->pid = -1;
		fail_msg("cannot reach the test daemon to stop it: %s",
			 err.msg);
	} /* else it had exited already: its status tells how */
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
	assert_int_equal(access(d->sock, F_OK), -1);
	d->pid = -1;
}

/* A connection to the daemon as `host`, or the test fails. */
static inline struct cxlemu *fx_daemon_conn(const struct fx_daemon *d,
				     const char *host)
{
	struct cxlemu *c = NULL;
	struct cxlemu_err err;
	if (cxlemu_connect(d->sock, host, &c, &err))
		fail_msg("connect %s: %s", host, err.msg);
	return c;
}

/* The byte at region offset `off` of region `id`, read straight from its
 * device's backing file at the DPA `cxlemu translate` gives: the file of
 * a device whose id ends in digit N is DIR/<file>N. */
static inline uint8_t fx_file_byte(struct cxlemu *c, int id, uint64_t off,
				   const char *dir, char file)
{
	struct json_object *t;
	struct cxlemu_err err;
	char reg[32], path[160];
	snprintf(reg, sizeof(reg), "region%d", id);
	if (cxlemu_translate(c, reg, off, false, &t, &err))
		fail_msg("translate: %s", err.msg);
	const char *host = json_object_get_string(
		json_object_object_get(t, "host"));
	uint64_t dpa = json_object_get_uint64(json_object_object_get(t, "dpa"));
	snprintf(path, sizeof(path), "%s/%c%c", dir, file,
		 host[strlen(host) - 1]);
	json_object_put(t);
	int fd = open(path, O_RDONLY);
	uint8_t b = 0;
	assert_true(fd >= 0);
	assert_int_equal(pread(fd, &b, 1, (off_t)dpa), 1);
	close(fd);
	return b;
}

/* dax-reconfigure region `id`'s device daxID.0 to `mode`: 0 or the
 * refusal. */
static inline int fx_dax_reconfigure(struct cxlemu *c, int id,
				     const char *mode, struct cxlemu_err *err)
{
	struct cxlemu_reply rep;
	char dev[32];
	snprintf(dev, sizeof(dev), "dax%d.0", id);
	struct json_object *a = json_object_new_object();
	json_object_object_add(a, "device", json_object_new_string(dev));
	json_object_object_add(a, "mode", json_object_new_string(mode));
	int rc = cxlemu_call(c, "dax-reconfigure", a, NULL, 0, &rep, err);
	if (!rc)
		cxlemu_reply_release(&rep);
	return rc;
}

static void fx_daemon_rmdir(struct fx_daemon *d)
{
	char cmd[160];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", d->dir);
	assert_int_equal(system(cmd), 0);
}

/* Stop the daemon if it runs, and remove its directory. */
static inline void fx_daemon_end(struct fx_daemon *d)
{
	if (d->pid > 0)
		fx_daemon_stop(d);
	fx_daemon_rmdir(d);
}

/* fx_daemon_dir and fx_daemon_start, then a connection acting as the
 * fabric's first host: through the administrative socket when `admin`,
 * else through its own. */
static inline struct cxlemu *fx_daemon_open(struct fx_daemon *d,
					    const char *tag, const char *text,
					    bool admin)
{
	struct cxlemu *c = NULL;
	struct cxlemu_err err;
	fx_daemon_dir(d, tag);
	fx_daemon_start(d, text, NULL, NULL);
	if ((admin ? cxlemu_connect_admin : cxlemu_connect)(d->sock, NULL, &c,
							    &err))
		fail_msg("connect: %s", err.msg);
	return c;
}

/* The connection `c` (may be NULL) closed, the daemon stopped with
 * fx_daemon_stop's checks and its directory removed (fx_daemon_end), and
 * `whole`, the fixture that held them, freed. */
static inline void fx_daemon_finish(struct fx_daemon *d, struct cxlemu *c,
				    void *whole)
{
	cxlemu_close(c);
	fx_daemon_end(d);
	free(whole);
}

#endif
