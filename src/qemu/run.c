/*
 * run.c - run a program, feed it a little text, collect what it says.
 *
 * One child at a time: fork, the child's stdin from a pipe (or /dev/null),
 * stdout and stderr into one pipe, then a poll loop that writes the input,
 * drains the output and enforces a deadline.  A child past its deadline is
 * killed (its whole process group) and reaped, so nothing is left running.
 */
#include "qemu.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static long long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int cx_run_capture(char *const argv[], const char *stdin_text,
		   int timeout_ms, char **out, int *status, cx_err *e)
{
	int in[2] = {-1, -1}, op[2] = {-1, -1}, ex[2] = {-1, -1};
	size_t cap = 4096, len = 0, in_off = 0, in_len;
	char *buf;
	pid_t pid;
	int rc = 0, wst = 0;
	bool timed_out = false;

	*out = NULL;
	*status = -1;
	in_len = stdin_text ? strlen(stdin_text) : 0;
	if (pipe2(in, O_CLOEXEC) || pipe2(op, O_CLOEXEC) ||
	    pipe2(ex, O_CLOEXEC)) {
		rc = cx_fail(e, errno, "cannot create pipes to run %s: %s",
			     argv[0], strerror(errno));
		goto close_all;
	}
	pid = fork();
	if (pid < 0) {
		rc = cx_fail(e, errno, "cannot fork to run %s: %s", argv[0],
			     strerror(errno));
		goto close_all;
	}
	if (pid == 0) {
		int err;
		setpgid(0, 0);
		dup2(in[0], 0);
		dup2(op[1], 1);
		dup2(op[1], 2);
		execvp(argv[0], argv);
		err = errno;
		if (write(ex[1], &err, sizeof(err)) < 0)
			_exit(127);
		_exit(127);
	}
	setpgid(pid, pid);
	close(in[0]);
	in[0] = -1;
	close(op[1]);
	op[1] = -1;
	close(ex[1]);
	ex[1] = -1;
	/* exec failure is reported through ex[] */
	{
		int err = 0;
		ssize_t n;
		do
			n = read(ex[0], &err, sizeof(err));
		while (n < 0 && errno == EINTR);
		if (n == (ssize_t)sizeof(err)) {
			waitpid(pid, NULL, 0);
			rc = cx_fail(e, err, "cannot run %s: %s", argv[0],
				     strerror(err));
			goto close_all;
		}
	}
	if (!in_len) {
		close(in[1]);
		in[1] = -1;
	} else {
		fcntl(in[1], F_SETFL, O_NONBLOCK);
	}
	buf = cx_xcalloc(1, cap);
	long long deadline = now_ms() + timeout_ms;
	for (;;) {
		struct pollfd pf[2];
		int n = 0;
		pf[n].fd = op[0];
		pf[n++].events = POLLIN;
		if (in[1] >= 0) {
			pf[n].fd = in[1];
			pf[n++].events = POLLOUT;
		}
		long long left = deadline - now_ms();
		if (left <= 0) {
			timed_out = true;
			break;
		}
		int pr = poll(pf, (nfds_t)n, (int)(left > 1000 ? 1000 : left));
		if (pr < 0 && errno != EINTR)
			break;
		if (pr <= 0)
			continue;
		if (n > 1 && (pf[1].revents & (POLLOUT | POLLERR | POLLHUP))) {
			ssize_t w = write(in[1], stdin_text + in_off,
					  in_len - in_off);
			if (w > 0)
				in_off += (size_t)w;
			if (w < 0 && errno != EAGAIN && errno != EINTR)
				in_off = in_len;
			if (in_off >= in_len) {
				close(in[1]);
				in[1] = -1;
			}
		}
		if (pf[0].revents & (POLLIN | POLLHUP | POLLERR)) {
			if (len + 1024 >= cap) {
				cap *= 2;
				buf = cx_xrealloc(buf, cap);
			}
			ssize_t r = read(op[0], buf + len, cap - len - 1);
			if (r > 0)
				len += (size_t)r;
			else if (r == 0 || (errno != EINTR && errno != EAGAIN))
				break;
		}
	}
	if (timed_out)
		kill(-pid, SIGKILL);
	while (waitpid(pid, &wst, 0) < 0 && errno == EINTR)
		;
	buf[len] = 0;
	*out = buf;
	if (timed_out) {
		*status = 128 + SIGKILL;
		rc = cx_fail(e, ETIMEDOUT, "%s did not finish within %d ms and "
			     "was stopped", argv[0], timeout_ms);
	} else if (WIFEXITED(wst)) {
		*status = WEXITSTATUS(wst);
	} else if (WIFSIGNALED(wst)) {
		*status = 128 + WTERMSIG(wst);
	}
close_all:
	for (int i = 0; i < 2; i++) {
		if (in[i] >= 0)
			close(in[i]);
		if (op[i] >= 0)
			close(op[i]);
		if (ex[i] >= 0)
			close(ex[i]);
	}
	return rc;
}
