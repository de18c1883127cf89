/*
 * bench_mbox.c - how long a mailbox command takes through the daemon,
 * against the floor of a UNIX-socket round trip on this machine.  The
 * floor's ends wait as the client and the daemon do (util/spin.h: awake
 * a while, then blocking); the plain blocking ping-pong is shown too.
 *
 * Per pass, round-robin: N ping-pongs of a small message between this
 * process and a forked echo process over a socketpair (the floor); N
 * Identify (0x4000) round trips through the client library's JSON `mbox`
 * op; the same while a second client process sends Identify as fast as it
 * can.  Each pass gives a p50; min and median of the pass p50s are
 * printed and recorded (results.h).  Then the same Identify as a binary
 * frame (cxlemu_mbox on the host's own socket, no JSON either way), alone
 * and beside a second client sending binary frames back to back.
 */
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench_fabric.h"
#include "util/spin.h"
#include "spec/mbox.h"

#define PASSES 7
#define N 2000

static const char topo[] =
	"-machine q35,cxl=on -m 2G\n"
	"-object memory-backend-ram,id=v0,size=256M\n"
	"-device pxb-cxl,bus_nr=12,bus=pcie.0,id=cxl.1\n"
	"-device cxl-rp,port=0,bus=cxl.1,id=rp0,chassis=0,slot=0\n"
	"-device cxl-type3,bus=rp0,volatile-memdev=v0,id=d0\n"
	"-M cxl-fmw.0.targets.0=cxl.1,cxl-fmw.0.size=4G\n";

static double p50(double *t, int n)
{
	qsort(t, (size_t)n, sizeof(double), bench_cmp_double);
	return t[n / 2];
}

/* the floor: a 64-byte message there and back over a socketpair, both
 * ends reading as the client and the daemon do (awake a while first,
 * util/spin.h), or blocking at once */
static ssize_t floor_read(int fd, void *b, size_t n, bool awake)
{
	return awake ? cx_read_spin(fd, b, n) : read(fd, b, n);
}

static double floor_pass(bool awake)
{
	int sv[2];
	static double t[N];
	char msg[64] = "ping";
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv))
		die("socketpair", strerror(errno));
	pid_t pid = fork();
	if (pid == 0) {
		close(sv[0]);
		char b[64];
		for (;;) {
			ssize_t k = floor_read(sv[1], b, sizeof(b), awake);
			if (k <= 0 || write(sv[1], b, (size_t)k) != k)
				_exit(0);
		}
	}
	close(sv[1]);
	for (int i = 0; i < N; i++) {
		double t0 = now();
		if (write(sv[0], msg, sizeof(msg)) != (ssize_t)sizeof(msg))
			die("floor write", strerror(errno));
		size_t got = 0;
		while (got < sizeof(msg)) {
			ssize_t k = floor_read(sv[0], msg + got,
					       sizeof(msg) - got, awake);
			if (k <= 0)
				die("floor read", k ? strerror(errno) : "EOF");
			got += (size_t)k;
		}
		t[i] = (now() - t0) * 1e6;
	}
	close(sv[0]);
	waitpid(pid, NULL, 0);
	return p50(t, N);
}

static void identify(struct cxlemu *c)
{
	struct cxlemu_reply rep;
	struct cxlemu_err err;
	struct json_object *a = json_object_new_object();
	json_object_object_add(a, "memdev", json_object_new_string("mem0"));
	json_object_object_add(a, "opcode", json_object_new_int(0x4000));
	json_object_object_add(a, "payload", json_object_new_string(""));
	if (cxlemu_call(c, "mbox", a, NULL, 0, &rep, &err))
		die("identify", err.msg);
	struct json_object *rc;
	if (!json_object_object_get_ex(rep.result, "rc", &rc) ||
	    json_object_get_int(rc) != 0)
		die("identify", "the device did not return success");
	cxlemu_reply_release(&rep);
}

static void identify_binary(struct cxlemu *c)
{
	static uint8_t out[CX_MBOX_PAYLOAD_MAX];
	struct cxlemu_err err;
	size_t n = sizeof(out);
	uint16_t rc;
	if (cxlemu_mbox(c, 0, 0x4000, NULL, 0, out, &n, &rc, &err))
		die("binary identify", err.msg);
	if (rc != 0)
		die("binary identify", "the device did not return success");
}

static double mbox_pass(struct cxlemu *c, void (*fn)(struct cxlemu *))
{
	static double t[N];
	for (int i = 0; i < N; i++) {
		double t0 = now();
		fn(c);
		t[i] = (now() - t0) * 1e6;
	}
	return p50(t, N);
}

/* a second client sending Identify until killed (host: on that host's
 * socket, binary frames) */
static pid_t busy_client(const char *sock, const char *host)
{
	fflush(NULL);
	pid_t pid = fork();
	if (pid == 0) {
		struct cxlemu *c;
		struct cxlemu_err err;
		if (cxlemu_connect(sock, host, &c, &err))
			_exit(1);
		for (;;)
			(host ? identify_binary : identify)(c);
	}
	return pid;
}

/* one pass alone and one beside a busy second client */
static void passes(struct cxlemu *c, const char *sock, const char *host,
		   void (*fn)(struct cxlemu *), struct series *one,
		   struct series *two)
{
	series_add(one, mbox_pass(c, fn));
	pid_t b = busy_client(sock, host);
	for (int i = 0; i < 100; i++) /* let it start */
		fn(c);
	series_add(two, mbox_pass(c, fn));
	kill(b, SIGKILL);
	waitpid(b, NULL, 0);
}

int main(void)
{
	struct bench_fabric fab;
	struct cxlemu *c = bench_fabric_start(&fab, topo), *h;
	struct cxlemu_err err;
	struct series fl = { .n = 0 }, flb = { .n = 0 }, one = { .n = 0 }, two = { .n = 0 };
	struct series bone = { .n = 0 }, btwo = { .n = 0 };
	char host[64];

	snprintf(host, sizeof(host), "%s", cxlemu_host(c));
	if (cxlemu_connect(fab.sock, host, &h, &err))
		die("connect to the host's socket", err.msg);
	for (int i = 0; i < 200; i++) { /* warm up */
		identify(c);
		identify_binary(h);
	}
	for (int p = 0; p < PASSES; p++) {
		series_add(&fl, floor_pass(true));
		series_add(&flb, floor_pass(false));
		passes(c, fab.sock, NULL, identify, &one, &two);
		passes(h, fab.sock, host, identify_binary, &bone, &btwo);
	}
	cxlemu_close(h);
	printf("mailbox round trips, p50 of %d per pass, %d passes "
	       "round-robin:\n", N, PASSES);
	bench_print("socketpair ping-pong (floor)", &fl, "us", NULL);
	bench_print("the same, blocking at once", &flb, "us", NULL);
	bench_print("Identify, JSON mbox op", &one, "us", &fl);
	bench_print("the same, 2 clients", &two, "us", &fl);
	bench_print("Identify, binary frame", &bone, "us", &fl);
	bench_print("the same, 2 clients", &btwo, "us", &fl);
	bench_record("bench_mbox", "mailbox_socket_floor_p50_us", &fl, "us",
		     "p50 of a 64-byte ping-pong over a UNIX socketpair "
		     "between two processes, each end awake for a while "
		     "before it blocks, as the client and the daemon wait "
		     "(util/spin.h)", NULL);
	bench_record("bench_mbox", "mailbox_socket_floor_blocking_p50_us", &flb,
		     "us", "the same ping-pong with both ends blocking in "
		     "read() at once (an idle VM's vCPU halts and must be "
		     "woken)", NULL);
	bench_record("bench_mbox", "mailbox_json_p50_us", &one, "us",
		     "p50 of an Identify round trip through the client "
		     "library's JSON mbox op", &fl);
	bench_record("bench_mbox", "mailbox_json_p50_us_2clients", &two, "us",
		     "p50 of an Identify round trip through the JSON mbox op "
		     "while a second client sends Identify back to back", &fl);
	bench_record("bench_mbox", "mailbox_binary_p50_us", &bone, "us",
		     "p50 of an Identify round trip as a binary frame "
		     "(cxlemu_mbox on the host's socket)", &fl);
	bench_record("bench_mbox", "mailbox_binary_p50_us_2clients", &btwo,
		     "us", "p50 of an Identify binary round trip while a "
		     "second client sends binary Identify back to back", &fl);
	bench_fabric_stop(&fab, c);
	return 0;
}
