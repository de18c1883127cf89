/*
 * test_access.c - identity is the socket: a host's socket acts as that
 * host only, whatever its requests say; fabric-wide acts need the
 * administrative socket; who may open each socket is its file's owner,
 * group and mode.  Requests are sent raw, as a hostile client would.
 * The parts about other users run when the tests run as root (a child
 * drops to nobody); the rest runs everywhere.
 */
#include <errno.h>
#include <grp.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "config/config.h"
#include "cxlemu/cxlemu.h"
#include "proto/proto.h"
#include "server/server.h"
#include "daemon_fixture.h"

#define NOBODY 65534

/* host1 (given to nobody) and host2 each with a private device; host2's
 * socket keeps the default, its daemon's user only. */
static const char topo[] =
	"[fabric mode=0600]\n"
	"[host host1 owner=65534 mode=0600]\n"
	"qemu-system-x86_64 -machine q35,cxl=on -m 1G \\\n"
	"  -object memory-backend-ram,id=m1,size=256M \\\n"
	"  -device pxb-cxl,bus_nr=12,bus=pcie.0,id=cxl.1 \\\n"
	"  -device cxl-rp,port=0,bus=cxl.1,id=rp0,chassis=0,slot=0 \\\n"
	"  -device cxl-type3,bus=rp0,volatile-memdev=m1,id=priv1 \\\n"
	"  -M cxl-fmw.0.targets.0=cxl.1,cxl-fmw.0.size=4G\n"
	"[host host2]\n"
	"qemu-system-x86_64 -machine q35,cxl=on -m 1G \\\n"
	"  -object memory-backend-ram,id=m2,size=256M \\\n"
	"  -device pxb-cxl,bus_nr=12,bus=pcie.0,id=cxl.1 \\\n"
	"  -device cxl-rp,port=0,bus=cxl.1,id=rp0,chassis=0,slot=0 \\\n"
	"  -device cxl-type3,bus=rp0,volatile-memdev=m2,id=priv2 \\\n"
	"  -M cxl-fmw.0.targets.0=cxl.1,cxl-fmw.0.size=4G\n";

static int setup(void **state)
{
	struct fx_daemon *d = calloc(1, sizeof(*d));
	assert_non_null(d);
	fx_daemon_dir(d, "access");
	/* the sockets' own modes decide; the directory lets anyone look */
	assert_int_equal(chmod(d->dir, 0711), 0);
	fx_daemon_start(d, topo, NULL, NULL);
	*state = d;
	return 0;
}

static int teardown(void **state)
{
	struct fx_daemon *d = *state;
	fx_daemon_stop(d);
	fx_daemon_rmdir(d);
	free(d);
	return 0;
}

static const char *host_sock(struct fx_daemon *d, const char *host,
			     char *buf, size_t len)
{
	assert_non_null(cx_proto_host_socket(d->sock, host, buf, len));
	return buf;
}

/* One request as text, with `data` as its raw data frame when it has
 * one ("data_len" in the text); the reply's errno (0 when ok), its
 * message or result text in msg. */
static int ask_data(int fd, const char *text, const char *data, char *msg,
		    size_t len)
{
	struct cx_proto_msg m;
	struct json_object *res;
	cx_err e;

	assert_int_equal(cx_proto_send_frame(fd, text, strlen(text), NULL, 0,
					     &e), 0);
	if (data)
		assert_int_equal(cx_proto_send_frame(fd, data, strlen(data),
						     NULL, 0, &e), 0);
	assert_int_equal(cx_proto_recv_msg(fd, &m, &e), 0);
	int rc = cx_proto_reply_result(m.json, &res, &e);
	snprintf(msg, len, "%s", rc ? e.msg :
		 json_object_to_json_string_ext(res, JSON_C_TO_STRING_PLAIN));
	cx_proto_msg_release(&m);
	return -rc;
}

static int ask(int fd, const char *text, char *msg, size_t len)
{
	return ask_data(fd, text, NULL, msg, len);
}

static void has(const char *msg, const char *needle)
{
	if (!strstr(msg, needle))
		fail_msg("'%s' lacks '%s'", msg, needle);
}

static struct cxlemu *conn(const char *sock, const char *host)
{
	struct cxlemu *c = NULL;
	struct cxlemu_err err;
	if (cxlemu_connect(sock, host, &c, &err))
		fail_msg("connect as %s: %s", host ? host : "-", err.msg);
	return c;
}

/* host2 builds a region and writes into it: what host1 must not reach */
static void host2_secret(struct fx_daemon *d)
{
	struct cxlemu *c = conn(d->sock, "host2");
	struct cxlemu_err err;
	const char *m[] = { "mem0" };
	struct cxlemu_region_req rq = { .root = "decoder0.0", .type = "ram",
					.memdevs = m, .nmemdevs = 1 };
	struct json_object *r = NULL;
	assert_int_equal(cxlemu_create_region(c, &rq, &r, &err), 0);
	json_object_put(r);
	assert_int_equal(cxlemu_write(c, "region0", 0, "secret", 6, &err), 0);
	cxlemu_close(c);
}

/* Through host1's socket nothing names host2, whatever it says. */
static void test_host_socket_is_its_host(void **state)
{
	struct fx_daemon *d = *state;
	char p[256], msg[CX_ERR_MAX];
	cx_err e;
	int fd;

	host2_secret(d);
	assert_int_equal(cx_proto_connect(host_sock(d, "host1", p, sizeof(p)),
					  &fd, &e), 0);
	assert_int_equal(ask(fd, "{\"op\":\"hello\"}", msg, sizeof(msg)), 0);
	has(msg, "\"host\":\"host1\"");
	has(msg, "\"socket\":\"host\"");
	has(msg, "\"hosts\":[\"host1\"]");
	/* a forged host field */
	assert_int_equal(ask(fd, "{\"op\":\"read\",\"host\":\"host2\","
			     "\"region\":\"region0\",\"offset\":0,"
			     "\"length\":6}", msg, sizeof(msg)), EACCES);
	has(msg, "host1's socket");
	has(msg, "'host2'");
	assert_int_equal(ask(fd, "{\"op\":\"hello\",\"host\":\"host2\"}", msg,
			     sizeof(msg)), EACCES);
	assert_int_equal(ask_data(fd, "{\"op\":\"write\",\"host\":\"host2\","
				  "\"region\":\"region0\",\"offset\":0,"
				  "\"data_len\":6}", "stolen", msg,
				  sizeof(msg)), EACCES);
	assert_int_equal(ask(fd, "{\"op\":\"mbox\",\"host\":\"host2\","
			     "\"memdev\":\"mem0\",\"opcode\":16384}", msg,
			     sizeof(msg)), EACCES);
	assert_int_equal(ask(fd, "{\"op\":\"dax-map\",\"host\":\"host2\","
			     "\"device\":\"dax0.0\"}", msg, sizeof(msg)),
			 EACCES);
	/* host2's objects by their names: host1 has none of them */
	assert_int_equal(ask(fd, "{\"op\":\"read\",\"region\":\"region0\","
			     "\"offset\":0,\"length\":6}", msg, sizeof(msg)),
			 ENOENT);
	has(msg, "host host1 has no region 'region0'");
	assert_int_equal(ask_data(fd, "{\"op\":\"write\",\"region\":"
				  "\"region0\",\"offset\":0,\"data_len\":6}",
				  "stolen", msg, sizeof(msg)), ENOENT);
	assert_int_equal(ask(fd, "{\"op\":\"dax-map\",\"device\":\"dax0.0\"}",
			     msg, sizeof(msg)), ENOENT);
	assert_int_equal(ask(fd, "{\"op\":\"mbox\",\"memdev\":\"priv2\","
			     "\"opcode\":16384}", msg, sizeof(msg)), ENOENT);
	has(msg, "priv2");
	/* fabric-wide acts */
	assert_int_equal(ask(fd, "{\"op\":\"stop\"}", msg, sizeof(msg)), EPERM);
	has(msg, "administrative socket");
	assert_int_equal(ask(fd, "{\"op\":\"inject\",\"memdev\":\"mem0\","
			     "\"kind\":\"health\",\"params\":{}}", msg,
			     sizeof(msg)), EPERM);
	/* its own things work */
	assert_int_equal(ask(fd, "{\"op\":\"list\",\"host\":\"host1\"}", msg,
			     sizeof(msg)), 0);
	has(msg, "priv1");
	close(fd);

	/* the administrative socket acts as any host it names */
	assert_int_equal(cx_proto_connect(d->sock, &fd, &e), 0);
	assert_int_equal(ask(fd, "{\"op\":\"hello\",\"host\":\"host2\"}", msg,
			     sizeof(msg)), 0);
	has(msg, "\"socket\":\"admin\"");
	has(msg, "\"hosts\":[\"host1\",\"host2\"]");
	close(fd);

	/* and host2's bytes are as host2 wrote them */
	struct cxlemu *c = conn(d->sock, "host2");
	struct cxlemu_err err;
	char buf[6];
	assert_int_equal(cxlemu_read(c, "region0", 0, buf, 6, &err), 0);
	assert_memory_equal(buf, "secret", 6);
	cxlemu_close(c);
}

/* Run fn as nobody in a child; its exit status is the verdict. */
static void as_nobody(struct fx_daemon *d, int (*fn)(struct fx_daemon *))
{
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		if (setgroups(0, NULL) || setresgid(NOBODY, NOBODY, NOBODY) ||
		    setresuid(NOBODY, NOBODY, NOBODY))
			_exit(90);
		_exit(fn(d));
	}
	int st;
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	if (WEXITSTATUS(st))
		fail_msg("as nobody: check %d failed", WEXITSTATUS(st));
}

static int nobody_checks(struct fx_daemon *d)
{
	struct cxlemu *c = NULL;
	struct cxlemu_err err;
	char buf[8];

	/* its own host, through its socket */
	if (cxlemu_connect(d->sock, "host1", &c, &err))
		return 1;
	if (strcmp(cxlemu_host(c), "host1"))
		return 2;
	if (cxlemu_read(c, "region0", 0, buf, 6, &err) != -ENOENT)
		return 3;
	cxlemu_close(c);
	/* host2's socket and the administrative one are closed to it */
	if (cxlemu_connect(d->sock, "host2", &c, &err) != -EACCES ||
	    !strstr(err.msg, "host host2's socket"))
		return 4;
	if (cxlemu_connect(d->sock, NULL, &c, &err) != -EACCES ||
	    !strstr(err.msg, "administrative socket"))
		return 5;
	if (cxlemu_connect_admin(d->sock, "host1", &c, &err) != -EACCES)
		return 6;
	/* a host that does not exist: said so, though it cannot ask */
	if (cxlemu_connect(d->sock, "host9", &c, &err) != -EACCES ||
	    !strstr(err.msg, "is 'host9' one of the fabric's hosts"))
		return 7;
	return 0;
}

static void test_socket_permissions(void **state)
{
	struct fx_daemon *d = *state;
	char p[256];
	struct stat st;

	assert_int_equal(stat(d->sock, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(stat(host_sock(d, "host1", p, sizeof(p)), &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(stat(host_sock(d, "host2", p, sizeof(p)), &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	if (geteuid() != 0) {
		print_message("not root: the checks as another user are "
			      "skipped\n");
		return;
	}
	assert_int_equal(stat(host_sock(d, "host1", p, sizeof(p)), &st), 0);
	assert_int_equal(st.st_uid, NOBODY);
	host2_secret(d);
	as_nobody(d, nobody_checks);
}

/* A host socket in the way: a stale one is replaced, anything else is
 * never touched. */
static void test_host_socket_in_the_way(void **state)
{
	struct fx_daemon d;
	char p[256], cmd[160];
	struct cx_fabric *f;
	struct cx_server *sv;
	cx_err e;

	(void)state;
	fx_daemon_dir(&d, "access2");
	assert_int_equal(cx_config_load_text("t", topo, &f, &e), 0);
	host_sock(&d, "host2", p, sizeof(p));
	FILE *fp = fopen(p, "w");
	assert_non_null(fp);
	fclose(fp);
	assert_int_equal(cx_server_open(f, d.sock, &sv, &e), -EEXIST);
	has(e.msg, p);
	has(e.msg, "not a socket");
	/* nothing of the attempt is left but the file */
	assert_int_equal(access(d.sock, F_OK), -1);
	assert_int_equal(access(p, F_OK), 0);
	cx_fabric_free(f);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", d.dir);
	assert_int_equal(system(cmd), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_host_socket_is_its_host,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_socket_permissions,
						setup, teardown),
		cmocka_unit_test(test_host_socket_in_the_way),
	};
	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
