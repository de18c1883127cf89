/*
 * test_scope.c - a program reaches only the bytes its host's regions
 * grant, and keeps nothing once they stop being granted.
 *
 * Scope: the descriptors dax-map hands over hold the region's bytes and
 * nothing else, at whatever offset a program maps or reads them.
 * Revocation: a program that mapped a device and kept its mapping after
 * the region was destroyed, switched to system-ram or erased, or after
 * the daemon stopped or was killed, cannot change the device's media any
 * more (checked byte for byte), and flushed data survives the restart.
 * The mapping program is a forked child; its stores after the revocation
 * end in SIGBUS (or, after a kill -9, in a copy nobody else sees).
 */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "client/mbox_client.h"
#include "client/sysfs_client.h"
#include "config/config.h"
#include "cxlemu/cxlemu.h"
#include "cxlemu/dax.h"
#include "model/mbox.h"
#include "proto/proto.h"
#include "server/server.h"
#include "spec/mbox.h"
#include "daemon_fixture.h"
#include "mapper_fixture.h"

#define MiB (1ULL << 20)
#define SPAN (4 * MiB)          /* what the mapping program writes */
#define SIGBUS_EXIT FX_SIGBUS_EXIT

/* host1: a persistent device on a file and a volatile one, 512 MiB each,
 * so that each can hold two regions of 256 MiB. */
static const char topo_fmt[] =
	"[host host1]\n"
	"qemu-system-x86_64 -machine q35,cxl=on -m 1G \\\n"
	"  -object memory-backend-file,id=pm,mem-path=%s/pm.raw,size=512M,"
	"share=on \\\n"
	"  -object memory-backend-ram,id=vm,size=512M \\\n"
	"  -object memory-backend-file,id=lsa,mem-path=%s/lsa.raw,size=256K,"
	"share=on \\\n"
	"  -device pxb-cxl,bus_nr=12,bus=pcie.0,id=cxl.1 \\\n"
	"  -device cxl-rp,port=0,bus=cxl.1,id=rp0,chassis=0,slot=0 \\\n"
	"  -device cxl-rp,port=1,bus=cxl.1,id=rp1,chassis=0,slot=1 \\\n"
	"  -device cxl-type3,bus=rp0,persistent-memdev=pm,lsa=lsa,id=pmdev \\\n"
	"  -device cxl-type3,bus=rp1,volatile-memdev=vm,id=vmdev \\\n"
	"  -M cxl-fmw.0.targets.0=cxl.1,cxl-fmw.0.size=4G\n";

struct scope {
	struct fx_daemon d;
	char *text;
};

static int setup(void **state)
{
	struct scope *s = calloc(1, sizeof(*s));
	assert_non_null(s);
	fx_daemon_dir(&s->d, "scope");
	s->text = cx_xasprintf(topo_fmt, s->d.dir, s->d.dir);
	fx_daemon_start(&s->d, s->text, NULL, NULL);
	*state = s;
	return 0;
}

static int teardown(void **state)
{
	struct scope *s = *state;
	if (s->d.pid > 0)
		fx_daemon_stop(&s->d);
	fx_daemon_rmdir(&s->d);
	free(s->text);
	free(s);
	return 0;
}

static struct cxlemu *conn(struct scope *s)
{
	struct cxlemu *c = NULL;
	struct cxlemu_err err;
	if (cxlemu_connect(s->d.sock, "host1", &c, &err))
		fail_msg("connect: %s", err.msg);
	return c;
}

/* A region of 256 MiB on `memdev`; returns its id. */
static int region(struct cxlemu *c, const char *type, const char *memdev)
{
	const char *m[] = { memdev };
	struct cxlemu_region_req rq = { .root = "decoder0.0", .type = type,
					.memdevs = m, .nmemdevs = 1,
					.size = 256 * MiB };
	struct json_object *r = NULL, *id;
	struct cxlemu_err err;
	if (cxlemu_create_region(c, &rq, &r, &err))
		fail_msg("create-region: %s", err.msg);
	assert_true(json_object_object_get_ex(r, "region", &id));
	int n = atoi(json_object_get_string(id) + strlen("region"));
	json_object_put(r);
	return n;
}

static int call(struct cxlemu *c, const char *op, const char *k1,
		const char *v1, const char *k2, const char *v2,
		struct cxlemu_err *err)
{
	struct cxlemu_reply rep;
	struct json_object *a = json_object_new_object();
	json_object_object_add(a, k1, json_object_new_string(v1));
	if (k2)
		json_object_object_add(a, k2, json_object_new_string(v2));
	int rc = cxlemu_call(c, op, a, NULL, 0, &rep, err);
	if (!rc)
		cxlemu_reply_release(&rep);
	return rc;
}

static void destroy(struct cxlemu *c, int id, bool force)
{
	char name[32];
	struct cxlemu_err err;
	int n;
	snprintf(name, sizeof(name), "region%d", id);
	if (cxlemu_destroy_region(c, name, force, &n, &err))
		fail_msg("destroy-region: %s", err.msg);
}

static void reconfigure(struct cxlemu *c, int id, const char *mode)
{
	char dev[32];
	struct cxlemu_err err;
	snprintf(dev, sizeof(dev), "dax%d.0", id);
	if (call(c, "dax-reconfigure", "device", dev, "mode", mode, &err))
		fail_msg("reconfigure: %s", err.msg);
}

static uint8_t pattern(uint64_t i, int seed)
{
	return (uint8_t)(i * 7 + (i >> 12) + (uint64_t)seed * 31);
}

/* ---- a program that maps a device and keeps its mapping ---- */

enum { KEEP_HANDLE = 0, CLOSE_HANDLE = 1 };

struct map_args {
	const char *sock;
	int id, seed, how;
};

/* The child's part (mapper_fixture.h): map, store pattern(seed) over
 * SPAN, flush, and let the handle go if asked (the mapping stays). */
static uint8_t *map_and_store(void *arg)
{
	const struct map_args *a = arg;
	struct cxlemu *c;
	struct cxlemu_dax *d;
	struct cxlemu_err err;
	uint8_t *p;
	char dev[32];

	snprintf(dev, sizeof(dev), "dax%d.0", a->id);
	if (cxlemu_connect(a->sock, "host1", &c, &err) ||
	    cxlemu_dax_open(c, dev, &d, &err) ||
	    cxlemu_dax_map(d, 0, SPAN, PROT_READ | PROT_WRITE, (void **)&p,
			   &err)) {
		fprintf(stderr, "mapper: %s\n", err.msg);
		_exit(2);
	}
	for (uint64_t i = 0; i < SPAN; i++)
		p[i] = pattern(i, a->seed);
	if (cxlemu_dax_flush(d, p, SPAN, &err)) {
		fprintf(stderr, "mapper: flush: %s\n", err.msg);
		_exit(3);
	}
	if (a->how == CLOSE_HANDLE) {
		cxlemu_dax_close(d);
		cxlemu_close(c);
	}
	return p;
}

static void mapper_start(struct fx_mapper *m, struct scope *s, int id,
			 int seed, int how)
{
	struct map_args a = { s->d.sock, id, seed, how };
	fx_mapper_start(m, map_and_store, &a, pattern, seed);
}

/* The region holds pattern(seed) over SPAN, byte for byte. */
static void expect_pattern(struct cxlemu *c, int id, int seed)
{
	fx_expect_pattern(c, id, SPAN, pattern, seed);
}

/* ---- scope ---- */

static bool has_secret(int fd, uint64_t len)
{
	uint8_t *p = mmap(NULL, len, PROT_READ, MAP_SHARED, fd, 0);
	assert_true(p != MAP_FAILED);
	bool found = memmem(p, len, "SECRET-OF-REGION-1", 18) != NULL;
	munmap(p, len);
	return found;
}

/* Touch fd at `off` in a child: 0 when readable, SIGBUS_EXIT when not. */
static int touch(int fd, uint64_t off)
{
	fflush(NULL);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		fx_catch_bus();
		uint64_t pg = off & ~(uint64_t)4095;
		volatile uint8_t *p = mmap(NULL, 4096, PROT_READ, MAP_SHARED,
					   fd, (off_t)pg);
		if (p == MAP_FAILED)
			_exit(1);
		(void)p[off - pg];
		_exit(0);
	}
	int st;
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	return WEXITSTATUS(st);
}

static void test_descriptors_hold_the_region_only(void **state)
{
	struct scope *s = *state;
	struct cxlemu *c = conn(s);
	struct cxlemu_err err;
	struct cxlemu_reply rep;

	/* two regions on one device: the program gets the first */
	int r0 = region(c, "ram", "mem1"), r1 = region(c, "ram", "mem1");
	char name[32], dev[32];
	snprintf(name, sizeof(name), "region%d", r1);
	assert_int_equal(cxlemu_write(c, name, 4096, "SECRET-OF-REGION-1",
				      18, &err), 0);
	reconfigure(c, r0, "devdax");
	snprintf(dev, sizeof(dev), "dax%d.0", r0);
	struct json_object *a = json_object_new_object();
	json_object_object_add(a, "device", json_object_new_string(dev));
	assert_int_equal(cxlemu_call(c, "dax-map", a, NULL, 0, &rep, &err), 0);
	assert_true(rep.nfds >= 1);
	uint64_t total = 0;
	for (int i = 0; i < rep.nfds; i++) {
		struct stat st;
		assert_int_equal(fstat(rep.fds[i], &st), 0);
		total += (uint64_t)st.st_size;
		/* every byte of every descriptor, mapped whole: region 1's
		 * bytes are in none of them */
		assert_false(has_secret(rep.fds[i], (uint64_t)st.st_size));
		/* past its end nothing maps, nothing reads */
		assert_int_equal(touch(rep.fds[i], (uint64_t)st.st_size +
				       4096), SIGBUS_EXIT);
		char b;
		assert_int_equal(pread(rep.fds[i], &b, 1, st.st_size), 0);
		/* and it cannot be grown to reach more */
		assert_int_equal(ftruncate(rep.fds[i], st.st_size + 4096), -1);
	}
	/* together they are the region's 256 MiB, no more */
	assert_int_equal(total, 256 * MiB);
	cxlemu_reply_release(&rep);
	/* the daemon's own view still has region 1's bytes */
	char back[18];
	assert_int_equal(cxlemu_read(c, name, 4096, back, 18, &err), 0);
	assert_memory_equal(back, "SECRET-OF-REGION-1", 18);
	cxlemu_close(c);
}

/* ---- revocation ---- */

static void test_destroy_takes_the_mapping(void **state)
{
	struct scope *s = *state;
	struct cxlemu *c = conn(s);
	struct fx_mapper m;

	int id = region(c, "pmem", "mem0");
	mapper_start(&m, s, id, 1, KEEP_HANDLE);
	destroy(c, id, true);              /* forced: it is mapped */
	assert_int_equal(fx_mapper_store(&m), SIGBUS_EXIT);
	/* the same DPA again: what was stored before, not after */
	id = region(c, "pmem", "mem0");
	expect_pattern(c, id, 1);
	destroy(c, id, false);

	/* a program that closed its handle but kept the mapping: the
	 * region can be destroyed without force, and the mapping goes */
	id = region(c, "pmem", "mem0");
	mapper_start(&m, s, id, 2, CLOSE_HANDLE);
	destroy(c, id, false);
	assert_int_equal(fx_mapper_store(&m), SIGBUS_EXIT);
	id = region(c, "pmem", "mem0");
	expect_pattern(c, id, 2);
	destroy(c, id, false);
	cxlemu_close(c);
}

static void test_system_ram_takes_the_mapping(void **state)
{
	struct scope *s = *state;
	struct cxlemu *c = conn(s);
	struct fx_mapper m;

	int id = region(c, "ram", "mem1");
	reconfigure(c, id, "devdax");
	mapper_start(&m, s, id, 3, CLOSE_HANDLE);
	reconfigure(c, id, "system-ram");
	assert_int_equal(fx_mapper_store(&m), SIGBUS_EXIT);
	expect_pattern(c, id, 3);
	destroy(c, id, false);
	cxlemu_close(c);
}

/* Wait for a background command to end (Background Operation Status:
 * byte 0 bit 0 is "running"); the daemon's loop completes it. */
static void bg_wait(struct cxlemu *c, const char *memdev)
{
	struct cxlemu_err err;
	uint8_t out[8];
	for (int tries = 0;; tries++) {
		size_t n = sizeof(out);
		uint16_t rc = 0;
		assert_int_equal(cx_mbox_ccall(c, memdev, CX_OP_BG_OP_STATUS,
					       NULL, 0, out, &n, &rc, &err), 0);
		assert_int_equal(rc, CX_RC_SUCCESS);
		if (!(out[0] & 1))
			return;
		if (tries == 1200)
			fail_msg("%s: the background command still runs after "
				 "2 minutes", memdev);
		usleep(100000);
	}
}

/* A destructive command on a device whose region a program had mapped:
 * destroying the region already took the mapping (as
 * test_destroy_takes_the_mapping shows; the command is refused while
 * decoders are committed), and the command then leaves zeroes in the
 * media, none of the bytes the program wrote through its mapping. */
static void erase_case(void **state, uint16_t opcode, int pattern)
{
	struct scope *s = *state;
	struct cxlemu *c = conn(s);
	struct cxlemu_err err;
	struct fx_mapper m;
	uint16_t rc = 0;

	int id = region(c, "pmem", "mem0");
	mapper_start(&m, s, id, pattern, CLOSE_HANDLE);
	destroy(c, id, false);
	assert_int_equal(fx_mapper_store(&m), SIGBUS_EXIT);
	assert_int_equal(cx_mbox_ccall(c, "mem0", opcode, NULL, 0, NULL, NULL,
				       &rc, &err), 0);
	if (rc == CX_RC_BG_STARTED)         /* Sanitize runs in the background */
		bg_wait(c, "mem0");
	else
		assert_int_equal(rc, CX_RC_SUCCESS);
	id = region(c, "pmem", "mem0");
	char name[32];
	uint8_t *buf = malloc(SPAN);
	snprintf(name, sizeof(name), "region%d", id);
	assert_int_equal(cxlemu_read(c, name, 0, buf, SPAN, &err), 0);
	for (uint64_t i = 0; i < SPAN; i++)
		if (buf[i])
			fail_msg("byte %#llx is %#x after %s",
				 (unsigned long long)i, buf[i],
				 cx_mbox_opcode_name(opcode));
	free(buf);
	destroy(c, id, false);
	cxlemu_close(c);
}

static void test_erase_reaches_no_old_mapping(void **state)
{
	erase_case(state, CX_OP_SECURE_ERASE, 4);
}

static void test_sanitize_reaches_no_old_mapping(void **state)
{
	erase_case(state, CX_OP_SANITIZE, 7);
}

static void restart(struct scope *s)
{
	fx_daemon_start(&s->d, s->text, NULL, NULL);
}

static void test_stop_takes_the_mapping(void **state)
{
	struct scope *s = *state;
	struct cxlemu *c = conn(s);
	struct fx_mapper m;

	int id = region(c, "pmem", "mem0");
	mapper_start(&m, s, id, 5, KEEP_HANDLE);
	cxlemu_close(c);
	fx_daemon_stop(&s->d);
	assert_int_equal(fx_mapper_store(&m), SIGBUS_EXIT);
	restart(s);
	c = conn(s);
	id = region(c, "pmem", "mem0");
	expect_pattern(c, id, 5);          /* flushed, then written back */
	cxlemu_close(c);
}

static void test_kill_leaves_a_detached_copy(void **state)
{
	struct scope *s = *state;
	struct cxlemu *c = conn(s);
	struct fx_mapper m;

	int id = region(c, "pmem", "mem0");
	char name[32];
	struct cxlemu_err err;
	snprintf(name, sizeof(name), "region%d", id);
	mapper_start(&m, s, id, 6, KEEP_HANDLE);
	/* the daemon's own write into a lent block reaches the file at once */
	assert_int_equal(cxlemu_write(c, name, SPAN + 100, "through", 7, &err),
			 0);
	cxlemu_close(c);
	kill(s->d.pid, SIGKILL);
	waitpid(s->d.pid, NULL, 0);
	s->d.pid = -1;
	restart(s);
	c = conn(s);
	id = region(c, "pmem", "mem0");
	/* the old program is found, by pid: destructive acts wait for it */
	char pid[32];
	int n;
	uint16_t rc = 0;
	snprintf(name, sizeof(name), "region%d", id);
	snprintf(pid, sizeof(pid), "pid %d (", (int)m.pid);
	assert_int_equal(cxlemu_destroy_region(c, name, true, &n, &err),
			 -EBUSY);
	assert_non_null(strstr(err.msg, pid));
	assert_non_null(strstr(err.msg, "earlier daemon"));
	assert_int_equal(cx_mbox_ccall(c, "mem0", CX_OP_SANITIZE, NULL, 0, NULL,
				       NULL, &rc, &err), -EBUSY);
	assert_non_null(strstr(err.msg, pid));
	/* every command that wipes media, as the command table marks them:
	 * the user's Passphrase Secure Erase needs no passphrase here */
	uint8_t pse[CX_DISP_IN_LEN] = { [CX_DISP_TYPE] = CX_PASS_USER };
	assert_int_equal(cx_mbox_ccall(c, "mem0", CX_OP_PASSPHRASE_SECURE_ERASE,
				       pse, sizeof(pse), NULL, NULL, &rc,
				       &err), -EBUSY);
	assert_non_null(strstr(err.msg, "Passphrase Secure Erase is refused"));
	assert_int_equal(cx_mbox_ccall(c, "mem0", CX_OP_SECURE_ERASE, NULL, 0,
				       NULL, NULL, &rc, &err), -EBUSY);
	/* and the same acts through the sysfs view (ndctl's way) */
	assert_int_equal(cx_sysfs_cwrite(c, "/sys/bus/cxl/devices/mem0/"
					 "security/erase", "1", &err), -EBUSY);
	assert_non_null(strstr(err.msg, "erase is refused while 1 program"));
	assert_int_equal(cx_sysfs_cwrite(c, "/sys/bus/cxl/devices/decoder0.0/"
					 "delete_region", name, &err), -EBUSY);
	assert_non_null(strstr(err.msg, "earlier daemon"));
	/* it stores on, into a copy no fabric holds */
	assert_int_equal(fx_mapper_store(&m), 0);
	expect_pattern(c, id, 6);          /* flushed before the kill */
	char through[7];
	assert_int_equal(cxlemu_read(c, name, SPAN + 100, through, 7, &err), 0);
	assert_memory_equal(through, "through", 7);
	/* gone: the region can go */
	assert_int_equal(cxlemu_destroy_region(c, name, false, &n, &err), 0);
	cxlemu_close(c);
}

/* A file a QEMU guest maps too: handed out as it is, and said so. */
static void test_external_file_is_marked(void **state)
{
	struct fx_daemon d;
	struct cxlemu *c;
	struct cxlemu_err err;
	struct cxlemu_reply rep;
	struct json_object *out = NULL;

	(void)state;
	fx_daemon_dir(&d, "scope-ext");
	char *text = cx_xasprintf("[fabric external=%s/pm.raw]\n%s", d.dir,
				  topo_fmt);
	char *full = cx_xasprintf(text, d.dir, d.dir);
	fx_daemon_start(&d, full, NULL, NULL);
	assert_int_equal(cxlemu_connect(d.sock, "host1", &c, &err), 0);
	struct json_object *o = json_object_new_object();
	json_object_object_add(o, "memdevs", json_object_new_boolean(1));
	assert_int_equal(cxlemu_list(c, o, &out, &err), 0);
	const char *txt = json_object_to_json_string_ext(out,
							 JSON_C_TO_STRING_PLAIN);
	/* the file's memdev says so, the memfd one does not */
	assert_non_null(strstr(txt, "\"host\":\"pmdev\",\"externally_shared\":true"));
	assert_null(strstr(txt, "\"host\":\"vmdev\",\"externally_shared\""));
	json_object_put(out);
	int id = region(c, "pmem", "mem0");
	char dev[32];
	snprintf(dev, sizeof(dev), "dax%d.0", id);
	struct json_object *a = json_object_new_object();
	json_object_object_add(a, "device", json_object_new_string(dev));
	assert_int_equal(cxlemu_call(c, "dax-map", a, NULL, 0, &rep, &err), 0);
	struct stat st, fst;
	char path[200];
	snprintf(path, sizeof(path), "%s/pm.raw", d.dir);
	assert_int_equal(rep.nfds, 1);
	assert_int_equal(fstat(rep.fds[0], &st), 0);
	assert_int_equal(stat(path, &fst), 0);
	assert_true(st.st_ino == fst.st_ino);   /* the file itself */
	cxlemu_reply_release(&rep);
	cxlemu_close(c);
	fx_daemon_stop(&d);
	fx_daemon_rmdir(&d);
	free(text);
	free(full);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
			test_descriptors_hold_the_region_only, setup, teardown),
		cmocka_unit_test_setup_teardown(test_destroy_takes_the_mapping,
						setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_system_ram_takes_the_mapping, setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_erase_reaches_no_old_mapping, setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_sanitize_reaches_no_old_mapping, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stop_takes_the_mapping,
						setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_kill_leaves_a_detached_copy, setup, teardown),
		cmocka_unit_test(test_external_file_is_marked),
	};
	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
