/*
 * mapper_fixture.h - a program forked from a test that maps a device and
 * keeps its mapping while the test acts on the fabric, then stores into
 * it again: how the tests see what a kept mapping reaches afterwards.
 *
 *   struct fx_mapper m;
 *   fx_mapper_start(&m, body, arg, pattern, seed);
 *       in the child, body(arg) opens and maps the device and stores
 *       pattern(i, seed) (or _exits 2..9 saying what failed) and returns
 *       the mapping; the child then reports 'M' and waits; returns once
 *       'M' came (fails the test otherwise)
 *   fx_mapper_store(&m)
 *       the child stores pattern(i, seed + 1) over the mapping's first
 *       page and exits: 0, or FX_SIGBUS_EXIT if the store faulted (the
 *       mapping was taken away); returns that status
 *   fx_expect_pattern(c, id, span, pattern, seed)
 *       regionN's first span bytes, read through the daemon, are
 *       pattern(i, seed)
 */
#ifndef CXLEMU_TEST_MAPPER_FIXTURE_H
#define CXLEMU_TEST_MAPPER_FIXTURE_H

#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cxlemu/cxlemu.h"

#define FX_SIGBUS_EXIT 77          /* a child's status when it faulted */

typedef uint8_t fx_pattern_fn(uint64_t i, int seed);

struct fx_mapper {
	pid_t pid;
	int to, from;              /* pipes: commands in, reports out */
};

static inline void fx_on_bus(int sig)
{
	(void)sig;
	_exit(FX_SIGBUS_EXIT);
}

static inline void fx_catch_bus(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = fx_on_bus;
	sigaction(SIGBUS, &sa, NULL);
}

static inline void fx_mapper_start(struct fx_mapper *m,
				   uint8_t *(*body)(void *arg), void *arg,
				   fx_pattern_fn *pattern, int seed)
{
	int a[2], b[2];
	char r;
	assert_int_equal(pipe(a), 0);
	assert_int_equal(pipe(b), 0);
	fflush(NULL);
	m->pid = fork();
	assert_true(m->pid >= 0);
	if (m->pid == 0) {
		char cmd;
		close(a[1]);
		close(b[0]);
		fx_catch_bus();
		uint8_t *p = body(arg);
		if (write(b[1], "M", 1) != 1 || read(a[0], &cmd, 1) != 1)
			_exit(10);
		for (uint64_t i = 0; i < 4096; i++)
			p[i] = pattern(i, seed + 1);
		if (write(b[1], "D", 1) != 1)
			_exit(11);
		_exit(0);
	}
	close(a[0]);
	close(b[1]);
	m->to = a[1];
	m->from = b[0];
	if (read(m->from, &r, 1) != 1 || r != 'M') {
		int st;
		waitpid(m->pid, &st, 0);
		fail_msg("the mapping program did not map (status %#x)", st);
	}
}

static inline int fx_mapper_store(struct fx_mapper *m)
{
	int st;
	assert_int_equal(write(m->to, "w", 1), 1);
	assert_int_equal(waitpid(m->pid, &st, 0), m->pid);
	close(m->to);
	close(m->from);
	assert_true(WIFEXITED(st));
	return WEXITSTATUS(st);
}

static inline void fx_expect_pattern(struct cxlemu *c, int id, uint64_t span,
				     fx_pattern_fn *pattern, int seed)
{
	char name[32];
	struct cxlemu_err err;
	uint8_t *buf = malloc(span);
	assert_non_null(buf);
	snprintf(name, sizeof(name), "region%d", id);
	if (cxlemu_read(c, name, 0, buf, span, &err))
		fail_msg("read: %s", err.msg);
	for (uint64_t i = 0; i < span; i++)
		if (buf[i] != pattern(i, seed))
			fail_msg("region%d byte %#llx is %#x, not %#x (seed "
				 "%d)", id, (unsigned long long)i, buf[i],
				 pattern(i, seed), seed);
	free(buf);
}

#endif
