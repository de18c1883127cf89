/*
 * test_config.c - the topology parser and validator (src/config).
 *
 * For every rule there is an input that passes and one that is refused,
 * and the refusal must name the file, the line and the rule.  Further:
 * the lexical layer (quotes, comments, continuations, host sections), QEMU's
 * size and boolean spellings, the model the parser builds (sizes, parents,
 * names and addresses after finalize, including QEMU's real window bases),
 * the legacy dialect of seeds/002, every file in tests/topologies and the
 * embedded default topology.
 */
#include <dirent.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "config/config.h"
#include "config/grammar.h"

#define MIB (1ULL << 20)
#define GIB (1ULL << 30)

/* ---- helpers ---- */

static struct cx_fabric *load(const char *text)
{
	struct cx_fabric *f = NULL;
	cx_err e = { { 0 } };
	int rc = cx_config_load_text("t.topo", text, &f, &e);
	if (rc) {
		print_message("refused: %s\n--- input ---\n%s\n", e.msg, text);
		fail();
	}
	assert_non_null(f);
	assert_true(f->finalized);
	return f;
}

/* The input must be refused at `line` with a message holding `a` and, if
 * given, `b`. */
static void refuse(const char *text, int line, const char *a, const char *b)
{
	struct cx_fabric *f = NULL;
	cx_err e = { { 0 } };
	char pre[64];
	int rc = cx_config_load_text("t.topo", text, &f, &e);
	if (rc == 0) {
		print_message("accepted, expected an error at line %d with "
			      "'%s'\n--- input ---\n%s\n", line, a, text);
		cx_fabric_free(f);
		fail();
	}
	assert_true(rc < 0);
	assert_null(f);
	snprintf(pre, sizeof(pre), "t.topo:%d: ", line);
	if (strncmp(e.msg, pre, strlen(pre)) || !strstr(e.msg, a) ||
	    (b && !strstr(e.msg, b))) {
		print_message("got:  %s\nwant: prefix '%s', '%s'%s%s%s\n",
			      e.msg, pre, a, b ? ", '" : "", b ? b : "",
			      b ? "'" : "");
		fail();
	}
}

static bool has_warning(struct cx_fabric *f, const char *a, const char *b)
{
	for (int i = 0; i < f->warnings.n; i++) {
		const char *w = f->warnings.v[i];
		if (strstr(w, a) && (!b || strstr(w, b)))
			return true;
	}
	return false;
}

static void expect_warning(struct cx_fabric *f, const char *a, const char *b)
{
	if (!has_warning(f, a, b)) {
		print_message("no warning with '%s'%s%s; warnings:\n", a,
			      b ? " and " : "", b ? b : "");
		for (int i = 0; i < f->warnings.n; i++)
			print_message("  %s\n", (char *)f->warnings.v[i]);
		fail();
	}
}

static struct cx_host *host(struct cx_fabric *f, int i)
{
	assert_true(i < f->hosts.n);
	return f->hosts.v[i];
}

static struct cx_memdev *memdev(struct cx_host *h, int i)
{
	assert_true(i < h->memdevs.n);
	return h->memdevs.v[i];
}

static struct cx_window *window(struct cx_host *h, int i)
{
	assert_true(i < h->windows.n);
	return h->windows.v[i];
}

/* a + b in a static buffer (no leak when an assertion jumps out) */
static char *cat(const char *a, const char *b)
{
	static char s[16384];
	assert_true(strlen(a) + strlen(b) < sizeof(s));
	strcpy(s, a);
	strcat(s, b);
	return s;
}

/* BASE + extra lines, refused at `line` */
static void refuse_with(const char *base, const char *extra, int line,
			const char *a, const char *b)
{
	refuse(cat(base, extra), line, a, b);
}

static struct cx_fabric *load_with(const char *base, const char *extra)
{
	return load(cat(base, extra));
}

/* A valid one-device host; lines 1-6.  Extra lines start at line 7. */
#define BASE                                                          \
	"-M q35,cxl=on -m 4G,maxmem=8G,slots=8\n"                     \
	"-object memory-backend-ram,id=vm0,size=256M\n"               \
	"-device pxb-cxl,bus_nr=12,bus=pcie.0,id=cxl.1\n"             \
	"-device cxl-rp,port=0,bus=cxl.1,id=rp0,chassis=0,slot=0\n"   \
	"-device cxl-type3,bus=rp0,volatile-memdev=vm0,id=t0\n"       \
	"-M cxl-fmw.0.targets.0=cxl.1,cxl-fmw.0.size=4G\n"

/* Host bridge and root port only; lines 1-4, extra lines from line 5. */
#define HB_RP                                                         \
	"-M q35,cxl=on -m 4G,maxmem=8G,slots=8\n"                     \
	"-device pxb-cxl,bus_nr=12,bus=pcie.0,id=cxl.1\n"             \
	"-device cxl-rp,port=0,bus=cxl.1,id=rp0,chassis=0,slot=0\n"   \
	"-object memory-backend-ram,id=vm0,size=256M\n"

/* ------------------------------------------------------------------ */
/* lexical layer                                                        */
/* ------------------------------------------------------------------ */

static void test_base_loads(void **state)
{
	(void)state;
	struct cx_fabric *f = load(BASE);
	struct cx_host *h = host(f, 0);
	assert_int_equal(f->hosts.n, 1);
	assert_string_equal(h->name, "host0");
	assert_int_equal(h->line, 0);
	assert_true(h->cxl_on);
	assert_int_equal(h->hbs.n, 1);
	assert_int_equal(h->ports.n, 2);
	assert_int_equal(h->memdevs.n, 1);
	assert_int_equal(h->backends.n, 1);
	assert_int_equal(h->windows.n, 1);
	assert_int_equal(f->warnings.n, 0);
	cx_fabric_free(f);
}

static void test_quotes_comments_continuations(void **state)
{
	(void)state;
	const char *t =
		"# a comment line\n"
		"-M q35,cxl=on   # a trailing comment\n"
		"-object 'memory-backend-file',id=\"f0\",size=256M,"
		"mem-path='/tmp/cxlemu test/a#b',share=on \\\n"
		"   -device pxb-cxl,bus_nr=12,id=cx\\\n"
		"l.1\n"
		"-device \"cxl-rp,port=0,bus=cxl.1,id=rp0\"\n"
		"-device cxl-type3,bus=rp0,volatile-memdev=f0,id=\"t\\\"0\"x\n"
		"-M cxl-fmw.0.targets.0=cxl.1,cxl-fmw.0.size=4G\n";
	/* the id with a quote inside is refused as an identifier, at the
	 * line where its option starts */
	refuse(t, 7, "id 't\"0x' is not an identifier", NULL);

	const char *ok =
		"# a comment line\n"
		"-M q35,cxl=on   # a trailing comment\n"
		"-object 'memory-backend-file',id=\"f0\",size=256M,"
		"mem-path='/tmp/cxlemu test/a#b',share=on \\\n"
		"   -device pxb-cxl,bus_nr=12,id=cx\\\n"
		"l.1\n"
		"-device \"cxl-rp,port=0,bus=cxl.1,id=rp0\"\n"
		"-device cxl-type3,bus=rp0,volatile-memdev=f0,id=t0 \\\n"
		"\n"
		"-M cxl-fmw.0.targets.0=cxl.1,cxl-fmw.0.size=4G\n";
	struct cx_fabric *f = load(ok);
	struct cx_host *h = host(f, 0);
	struct cx_backend *b = h->backends.v[0];
	assert_string_equal(b->mem_path, "/tmp/cxlemu test/a#b");
	assert_true(b->share);
	/* "cx\<newline>l.1" is one word */
	assert_string_equal(((struct cx_port *)h->hbs.v[0])->qid, "cxl.1");
	/* every word kept, quotes removed, comments dropped */
	assert_int_equal(h->words.n, 12);
	assert_string_equal(h->words.v[0], "-M");
	assert_string_equal(h->words.v[3], "memory-backend-file,id=f0,"
			    "size=256M,mem-path=/tmp/cxlemu test/a#b,share=on");
	assert_string_equal(h->words.v[7], "cxl-rp,port=0,bus=cxl.1,id=rp0");
	assert_int_equal(memdev(h, 0)->line, 7);
	cx_fabric_free(f);
}

static void test_flattened_paste(void **state)
{
	(void)state;
	/* QEMU's documentation as it appears in seeds/004, newlines lost */
	const char *t =
		"qemu-system-x86_64 -M q35,cxl=on -m 4G,maxmem=8G,slots=8 "
		"-smp 4 \\ ... -object memory-backend-file,id=cxl-mem1,"
		"share=on,mem-path=/tmp/cxlemu-test-cxltest.raw,size=256M \\ "
		"-object memory-backend-file,id=cxl-lsa1,share=on,"
		"mem-path=/tmp/cxlemu-test-lsa.raw,size=256M \\ -device "
		"pxb-cxl,bus_nr=12,bus=pcie.0,id=cxl.1 \\ -device cxl-rp,"
		"port=0,bus=cxl.1,id=root_port13,chassis=0,slot=2 \\ -device "
		"cxl-type3,bus=root_port13,persistent-memdev=cxl-mem1,"
		"lsa=cxl-lsa1,id=cxl-pmem0 \\ -M cxl-fmw.0.targets.0=cxl.1,"
		"cxl-fmw.0.size=4G\n";
	struct cx_fabric *f = load(t);
	assert_int_equal(host(f, 0)->memdevs.n, 1);
	assert_int_equal(host(f, 0)->words.n, 20);
	cx_fabric_free(f);

	/* trailing blanks after a continuation backslash */
	f = load("-m 1G \\  \n-smp 2 \\\t\n-nographic\n");
	assert_int_equal(host(f, 0)->words.n, 5);
	cx_fabric_free(f);

	/* inside a word the backslash still escapes the blank */
	f = load("-object memory-backend-file,id=a,size=1G,"
		 "mem-path=/tmp/my\\ file\n");
	assert_string_equal(((struct cx_backend *)host(f, 0)->backends.v[0])
				    ->mem_path, "/tmp/my file");
	cx_fabric_free(f);
}

static void test_unterminated_quotes(void **state)
{
	(void)state;
	refuse("-M q35\n-object 'memory-backend-ram,id=a\n\n", 2,
	       "single quote", "never closed");
	refuse("-M q35\n\n-drive \"file=x\n", 3, "double quote",
	       "never closed");
	/* a quote may span lines; the next option's line is still right */
	refuse("-append 'a\nb'\n-device cxl-rp,bus=nowhere,id=r\n", 3,
	       "bus 'nowhere' does not exist", NULL);
}

static void test_line_of_option_word(void **state)
{
	(void)state;
	/* the option starts on line 2; its value continues on line 3 */
	refuse("-M q35,cxl=on\n-device \\\ncxl-rp,port=0,bus=cxl.9,id=rp1\n",
	       2, "-device cxl-rp,port=0,bus=cxl.9,id=rp1: bus 'cxl.9' "
	       "does not exist (a cxl-rp must sit on a pxb-cxl host bridge)",
	       NULL);
}

static void test_host_sections(void **state)
{
	(void)state;
	const char *t =
		"# two hosts\n"
		"[host alpha]\n"
		"qemu-system-x86_64 -m 1G\n"
		"-smp 2\n"
		"\n"
		"  [ host   beta.2 ]   # comment\n"
		"-m 2G\n";
	struct cx_fabric *f = load(t);
	assert_int_equal(f->hosts.n, 2);
	assert_string_equal(host(f, 0)->name, "alpha");
	assert_int_equal(host(f, 0)->line, 2);
	assert_int_equal(host(f, 0)->words.n, 5);
	assert_int_equal(host(f, 0)->ram_size, 1 * GIB);
	assert_string_equal(host(f, 1)->name, "beta.2");
	assert_int_equal(host(f, 1)->line, 6);
	assert_int_equal(host(f, 1)->ram_size, 2 * GIB);
	cx_fabric_free(f);

	/* an empty file is one empty host0 with QEMU's default RAM */
	f = load("# nothing\n");
	assert_int_equal(f->hosts.n, 1);
	assert_string_equal(host(f, 0)->name, "host0");
	assert_int_equal(host(f, 0)->ram_size, 128 * MIB);
	assert_int_equal(host(f, 0)->maxram_size, 128 * MIB);
	cx_fabric_free(f);

	/* a trailing backslash does not swallow the next section */
	f = load("[host a]\n-m 1G \\\n[host b]\n-m 2G \\\n");
	assert_int_equal(f->hosts.n, 2);
	assert_int_equal(host(f, 1)->ram_size, 2 * GIB);
	cx_fabric_free(f);

	refuse("-m 1G\n[host a]\n-m 2G\n", 1, "'-m' comes before the first "
	       "[host NAME] section", NULL);
	refuse("[host a]\n-m 1G\n[host a]\n", 3, "host 'a' is already "
	       "defined at line 1", NULL);
	refuse("[hosts a]\n", 1, "not a section header", "[host NAME]");
	refuse("[host]\n", 1, "[host] needs a name", NULL);
	refuse("[host a b]\n", 1, "'b' in the section header is not a "
	       "setting", "KEY=VALUE");
	refuse("[host a coherency=maybe]\n", 1, "'coherency=maybe' in the "
	       "section header: coherency is noncoherent or coherent", NULL);
	refuse("[host a-b.c/d]\n", 1, "host name 'a-b.c/d'", NULL);

	/* a host whose view of shared memory is not coherent (CXL 2) */
	f = load("[host a coherency=noncoherent]\n-m 1G\n"
		 "[ host b  coherency=coherent ]\n[host c]\n");
	assert_int_equal(f->hosts.n, 3);
	assert_string_equal(host(f, 0)->name, "a");
	assert_true(host(f, 0)->noncoherent);
	assert_string_equal(host(f, 1)->name, "b");
	assert_false(host(f, 1)->noncoherent);
	assert_false(host(f, 2)->noncoherent);
	cx_fabric_free(f);
	refuse("[host a] -m 1G\n", 1, "unexpected text after the section "
	       "header", NULL);
	refuse("[host a\n", 1, "not a section header", NULL);
}

/* Who may open the sockets, on the section headers. */
static void test_socket_access(void **state)
{
	(void)state;
	struct cx_fabric *f = load("[fabric group=0 mode=0660]\n"
				   "[host a owner=0 mode=600]\n-m 1G\n"
				   "[host b]\n-m 1G\n");
	assert_int_equal(f->admin_access.owner, -1);
	assert_int_equal(f->admin_access.group, 0);
	assert_int_equal(f->admin_access.mode, 0660);
	assert_int_equal(host(f, 0)->access.owner, 0);
	assert_int_equal(host(f, 0)->access.group, -1);
	assert_int_equal(host(f, 0)->access.mode, 0600);
	assert_int_equal(host(f, 1)->access.mode, -1);
	cx_fabric_free(f);

	refuse("[host a mode=0800]\n", 1, "[host a]: mode=0800", "octal");
	refuse("[host a colour=red]\n", 1, "'colour' is not a socket "
	       "setting", "owner, group and mode");
	refuse("[host a owner=no-such-user-here]\n", 1, "no user "
	       "'no-such-user-here'", NULL);
	refuse("[fabric group=no-such-group-here]\n[host a]\n", 1,
	       "[fabric]: group=no-such-group-here", "no group");
	refuse("[fabric]\n-m 1G\n[host a]\n", 2, "'-m' is under [fabric]",
	       "[host NAME]");
	refuse("[fabric]\n[fabric]\n", 2, "[fabric] is already given at "
	       "line 1", NULL);
	refuse("[fabric colour=red]\n[host a]\n", 1, "'colour' is not a "
	       "setting of the fabric", "external");
	refuse("[fabric external=/tmp/nowhere.raw]\n[host a]\n-m 1G\n", 1,
	       "external=/tmp/nowhere.raw: no memory-backend-file with "
	       "share=on", NULL);
	f = load("[fabric external=/tmp/x.raw]\n[host a]\n-object "
		 "memory-backend-file,id=m,mem-path=/tmp/x.raw,size=256M,"
		 "share=on\n");
	assert_int_equal(f->external.n, 1);
	assert_true(cx_fabric_external(f, "/tmp/x.raw"));
	assert_false(cx_fabric_external(f, "/tmp/y.raw"));
	cx_fabric_free(f);

	struct cx_access a;
	cx_err e;
	assert_int_equal(cx_access_parse("group=0,mode=0640", &a, &e), 0);
	assert_int_equal(a.owner, -1);
	assert_int_equal(a.group, 0);
	assert_int_equal(a.mode, 0640);
	assert_int_equal(cx_access_parse("mode", &a, &e), -EINVAL);
	assert_non_null(strstr(e.msg, "KEY=VALUE"));
}

static void test_program_name(void **state)
{
	(void)state;
	/* leading words that are not options are the program: kept */
	struct cx_fabric *f =
		load("sudo /opt/qemu/bin/qemu-system-x86_64 -m 1G\n");
	struct cx_host *h = host(f, 0);
	assert_int_equal(h->words.n, 4);
	assert_string_equal(h->words.v[0], "sudo");
	assert_int_equal(h->ram_size, 1 * GIB);
	cx_fabric_free(f);

	/* a wrapper up to the word naming QEMU: numactl's -m is not QEMU's */
	f = load("taskset --cpu-list 0-3 numactl -N 0 -m 0 ${QEMU} -m 2G\n");
	assert_int_equal(host(f, 0)->ram_size, 2 * GIB);
	assert_int_equal(host(f, 0)->words.n, 11);
	cx_fabric_free(f);

	/* a second program inside a host section */
	refuse("[host a]\nqemu-system-x86_64 -m 1G -nographic\n"
	       "qemu-system-x86_64 -m 2G\n", 3,
	       "'qemu-system-x86_64' starts a second command line",
	       "its own [host NAME] section");
	refuse("qemu-system-x86_64 -m 1G -daemonize\nsudo qemu-kvm\n", 2,
	       "'sudo' starts a second command line", "[host NAME]");
	/* any other stray word */
	refuse("-m 1G -enable-kvm disk.img\n", 1, "'disk.img' is not an "
	       "option", "[host NAME]");
}

static void test_option_values(void **state)
{
	(void)state;
	refuse("-m 1G\n-device\n", 2, "-device needs a value", NULL);
	refuse("-device -object memory-backend-ram,id=a,size=1G\n", 1,
	       "-device is followed by the option '-object'", NULL);
	refuse("-m 1G -smp\n", 1, "-smp needs a value", NULL);

	/* unmodeled options are kept; unknown ones too, with a warning */
	struct cx_fabric *f = load("-m 1G -smp 4 -nographic -daemonize "
				   "-netdev user,id=n0 -frobnicate 3 "
				   "-whatever\n");
	assert_int_equal(host(f, 0)->words.n, 11);
	expect_warning(f, "-frobnicate is not a QEMU option", "'3'");
	expect_warning(f, "-whatever is not a QEMU option", "without");
	assert_int_equal(f->warnings.n, 2);
	cx_fabric_free(f);

	/* "--device" is "-device" */
	f = load_with(HB_RP, "--device cxl-type3,bus=rp0,volatile-memdev=vm0,"
		      "id=t0\n");
	assert_int_equal(host(f, 0)->memdevs.n, 1);
	cx_fabric_free(f);

	/* "..." in pasted documentation stands for left-out options */
	f = load("qemu-system-x86_64 -m 1G \\\n...\n-smp 2\n");
	expect_warning(f, "t.topo:2: '...' stands for options left out", NULL);
	cx_fabric_free(f);
}

static void test_key_value_syntax(void **state)
{
	(void)state;
	/* ",," is a literal comma */
	struct cx_fabric *f = load_with(
		HB_RP, "-object memory-backend-file,id=f,size=256M,"
		"mem-path=/tmp/a,,b\n"
		"-device cxl-type3,bus=rp0,volatile-memdev=f,id=t0\n");
	struct cx_backend *b = host(f, 0)->backends.v[1];
	assert_string_equal(b->mem_path, "/tmp/a,b");
	cx_fabric_free(f);

	refuse_with(HB_RP, "-object memory-backend-ram,id=a,size=1G,\n", 5,
		    "ends with a comma", NULL);
	refuse_with(HB_RP, "-object ,memory-backend-ram,id=a,size=1G\n", 5,
		    "empty item", NULL);
	/* ",,," is a literal comma, then a separator */
	refuse_with(HB_RP, "-object memory-backend-ram,id=a,,,size=1G\n", 5,
		    "id 'a,' is not an identifier", NULL);
	refuse_with(HB_RP, "-object memory-backend-ram,=x,id=a,size=1G\n", 5,
		    "no name before '='", NULL);
	refuse_with(HB_RP, "-device cxl-type3,bus=rp0,id=t0,id=t1,"
		    "volatile-memdev=vm0\n", 5, "'id' is given twice", NULL);
}

/* A list written back by cfg_kv_join parses to the same items: what
 * qemu-args prints after changing a value is read as the topology was. */
static void test_key_value_join(void **state)
{
	static const char *const same[] = {
		"cxl-type3,bus=rp0,id=a",
		"memory-backend-file,id=f,mem-path=/tmp/a,,b,share",
		"q35,cxl=on,cxl-fmw.0.targets.0=cxl.1",
		"x=,y==z,,,,w",
	};
	struct cfg_kvlist kv;
	(void)state;
	for (size_t i = 0; i < CX_ARRAY_SIZE(same); i++) {
		assert_int_equal(cfg_kv_parse(same[i], "driver", &kv, NULL), 0);
		char *j = cfg_kv_join(&kv);
		assert_string_equal(j, same[i]);
		free(j);
		cfg_kvlist_free(&kv);
	}
	/* set replaces the last value, or appends; del removes every one */
	assert_int_equal(cfg_kv_parse("cxl-type3,sn=1,x,sn=2", "driver", &kv,
				      NULL), 0);
	cfg_kv_set(&kv, "sn", "3");
	cfg_kv_set(&kv, "x", "off");
	cfg_kv_set(&kv, "id", "a,b");
	assert_int_equal(cfg_kv_del(&kv, "nothing"), 0);
	char *j = cfg_kv_join(&kv);
	assert_string_equal(j, "cxl-type3,sn=1,x=off,sn=3,id=a,,b");
	free(j);
	assert_int_equal(cfg_kv_del(&kv, "sn"), 2);
	j = cfg_kv_join(&kv);
	assert_string_equal(j, "cxl-type3,x=off,id=a,,b");
	free(j);
	cfg_kvlist_free(&kv);
}

/* ------------------------------------------------------------------ */
/* QEMU spellings                                                       */
/* ------------------------------------------------------------------ */

static void test_size_spellings(void **state)
{
	(void)state;
	static const char *const same[] = {
		"268435456", "256M", "256m", "0x10000000", "0.25G",
		"262144K", "262144k", "268435456B", "0.25g",
	};
	for (size_t i = 0; i < sizeof(same) / sizeof(same[0]); i++) {
		char t[256];
		snprintf(t, sizeof(t), "-object memory-backend-ram,id=a,"
			 "size=%s\n", same[i]);
		struct cx_fabric *f = load(t);
		struct cx_backend *b = host(f, 0)->backends.v[0];
		assert_int_equal(b->size, 256 * MIB);
		cx_fabric_free(f);
	}
	refuse("-object memory-backend-ram,id=a,size=256Q\n", 1,
	       "'256Q' is not a size", NULL);
	refuse("-object memory-backend-ram,id=a,size=-1\n", 1,
	       "'-1' is not a size", NULL);
	refuse("-object memory-backend-ram,id=a,size=\n", 1, "is not a size",
	       NULL);
	refuse("-object memory-backend-ram,id=a,size=99999999999E\n", 1,
	       "too large", NULL);
}

static void test_bool_spellings(void **state)
{
	(void)state;
	static const char *const yes[] = { "on", "yes", "true", "y" };
	static const char *const no[] = { "off", "no", "false", "n" };
	for (int i = 0; i < 4; i++) {
		char t[256];
		snprintf(t, sizeof(t), "-object memory-backend-file,id=a,"
			 "size=1G,mem-path=/tmp/x,share=%s\n", yes[i]);
		struct cx_fabric *f = load(t);
		assert_true(((struct cx_backend *)host(f, 0)->backends.v[0])
				    ->share);
		cx_fabric_free(f);
		snprintf(t, sizeof(t), "-object memory-backend-file,id=a,"
			 "size=1G,mem-path=/tmp/x,share=%s\n", no[i]);
		f = load(t);
		assert_false(((struct cx_backend *)host(f, 0)->backends.v[0])
				     ->share);
		cx_fabric_free(f);
	}
	/* a bare key means key=on */
	struct cx_fabric *f = load("-object memory-backend-file,size=1G,"
				   "mem-path=/tmp/x,share,id=mb1\n");
	assert_true(((struct cx_backend *)host(f, 0)->backends.v[0])->share);
	cx_fabric_free(f);
	/* defaults: ram and file private, memfd shared */
	f = load("-object memory-backend-ram,id=a,size=1G\n"
		 "-object memory-backend-file,id=b,size=1G,mem-path=/tmp/x\n"
		 "-object memory-backend-memfd,id=c,size=1G\n");
	assert_false(((struct cx_backend *)host(f, 0)->backends.v[0])->share);
	assert_false(((struct cx_backend *)host(f, 0)->backends.v[1])->share);
	assert_true(((struct cx_backend *)host(f, 0)->backends.v[2])->share);
	assert_int_equal(((struct cx_backend *)host(f, 0)->backends.v[2])->kind,
			 CX_BACKEND_MEMFD);
	cx_fabric_free(f);

	refuse("-object memory-backend-file,id=a,size=1G,mem-path=/x,"
	       "share=1\n", 1, "'1' is not a boolean", NULL);
	refuse("-M cxl=maybe\n", 1, "'maybe' is not a boolean", NULL);
	refuse_with(BASE, "-device pxb-cxl,bus_nr=13,id=c2,bypass_iommu=sure\n",
		    7, "pxb-cxl property 'bypass_iommu'", "not a boolean");
}

/* ------------------------------------------------------------------ */
/* -m                                                                   */
/* ------------------------------------------------------------------ */

static void test_memory_option(void **state)
{
	(void)state;
	struct cx_fabric *f = load("-m 4G,slots=4,maxmem=8G\n");
	struct cx_host *h = host(f, 0);
	assert_int_equal(h->ram_size, 4 * GIB);
	assert_int_equal(h->maxram_size, 8 * GIB);
	assert_int_equal(h->ram_slots, 4);
	cx_fabric_free(f);

	f = load("-m size=4G,slots=4,maxmem=8G\n");
	assert_int_equal(host(f, 0)->ram_size, 4 * GIB);
	assert_int_equal(host(f, 0)->ram_slots, 4);
	cx_fabric_free(f);

	/* no suffix: MiB; several -m merge */
	f = load("-m 4096\n-m maxmem=8G,slots=2\n");
	assert_int_equal(host(f, 0)->ram_size, 4 * GIB);
	assert_int_equal(host(f, 0)->maxram_size, 8 * GIB);
	assert_int_equal(host(f, 0)->ram_slots, 2);
	cx_fabric_free(f);

	/* maxmem alone is fine, the size is rounded up to 8 KiB */
	f = load("-m 1000001K,maxmem=2G\n");
	assert_int_equal(host(f, 0)->ram_size, 1000008ULL * 1024);
	assert_int_equal(host(f, 0)->ram_slots, 0);
	cx_fabric_free(f);

	refuse("-smp 2\n-m 4G,maxmem=2G,slots=2\n", 2, "maxmem=2G",
	       "at least the initial memory size");
	refuse("-m 4G,maxmem=4G,slots=2\n", 1, "slots=2 but maxmem equals",
	       NULL);
	refuse("-m 4G,slots=2\n", 1, "slots=2 without maxmem", NULL);
	refuse("-m 4G,slot=2\n", 1, "-m has no property 'slot'", NULL);
	refuse("-m 4G,slots=300,maxmem=8G\n", 1, "at most 256 memory slots",
	       NULL);
	refuse("-m 4X\n", 1, "'4X' is not a size", NULL);
}

/* ------------------------------------------------------------------ */
/* -object                                                              */
/* ------------------------------------------------------------------ */

static void test_object_rules(void **state)
{
	(void)state;
	refuse("-m 1G\n-object memory-backend-ram,size=1G\n", 2,
	       "has no id=", NULL);
	refuse("-object memory-backend-ram,id=9a,size=1G\n", 1,
	       "id '9a' is not an identifier", NULL);
	refuse("-object memory-backend-ram,id=a,size=1G\n"
	       "-object memory-backend-ram,id=a,size=1G\n", 2,
	       "duplicate object id 'a': line 1", NULL);
	refuse("-object secret,id=a,data=x\n"
	       "-object memory-backend-ram,id=a,size=1G\n", 2,
	       "duplicate object id 'a'", NULL);
	refuse("-object memory-backend-ram,id=a,size=1G,mem-path=/tmp/x\n", 1,
	       "memory-backend-ram has no property 'mem-path'", NULL);
	refuse("-object memory-backend-ram,id=a,size=1G,numa=X\n", 1,
	       "has no property 'numa'", NULL);
	refuse("-object memory-backend-ram,id=a\n", 1, "has no size=", NULL);
	refuse("-object memory-backend-ram,id=a,size=0\n", 1,
	       "cannot have size 0", NULL);
	refuse("-object memory-backend-file,id=a,size=1G\n", 1,
	       "needs mem-path=", NULL);
	refuse("-object memory-backend-file,id=a,size=1G,mem-path=/x,"
	       "offset=4K\n", 1, "offset=4K", "from its start");
	refuse("-object memory-backend-memfd,id=a,size=1G,hugetlb=perhaps\n",
	       1, "hugetlb", "not a boolean");
	refuse("-object id=a,size=1G\n", 1, "-object needs a type first",
	       NULL);

	/* QEMU properties cxlemu does not model are kept */
	struct cx_fabric *f = load(
		"-object memory-backend-ram,id=a,size=1G,prealloc=on,merge=off,"
		"dump=off,host-nodes=0-1,policy=bind,reserve=off\n"
		"-object memory-backend-file,id=b,size=1G,mem-path=/tmp/x,"
		"discard-data=on,align=2M,pmem=on,readonly=off,offset=0\n"
		"-object memory-backend-memfd,id=c,size=1G,hugetlb=on,"
		"hugetlbsize=2M,seal=on\n"
		"-object secret,id=s,data=x\n"
		"-object memory-backend-epc,id=e,size=1G\n");
	assert_int_equal(host(f, 0)->backends.n, 3);
	assert_int_equal(f->warnings.n, 0);
	cx_fabric_free(f);

	/* the RFC's host-mem-type: accepted with a warning, value kept */
	f = load("-object memory-backend-ram,id=v,size=1G,"
		 "host-mem-type=cxlram,host-nodes=${HOST_CXL_NODE}\n");
	expect_warning(f, "t.topo:1:", "host-mem-type=cxlram");
	assert_string_equal(host(f, 0)->words.v[1],
			    "memory-backend-ram,id=v,size=1G,"
			    "host-mem-type=cxlram,host-nodes=${HOST_CXL_NODE}");
	cx_fabric_free(f);

	/* a relative mem-path is noted */
	f = load("-object memory-backend-file,id=a,size=1G,mem-path=x.raw\n");
	expect_warning(f, "mem-path 'x.raw' is relative", NULL);
	cx_fabric_free(f);
}

/* ------------------------------------------------------------------ */
/* -M / -machine                                                        */
/* ------------------------------------------------------------------ */

static void test_machine_rules(void **state)
{
	(void)state;
	/* -M and -machine merge; cxl=on may come from either */
	struct cx_fabric *f = load(
		"-machine type=q35\n"
		"-device pxb-cxl,bus_nr=12,id=cxl.1\n"
		"-device cxl-rp,bus=cxl.1,id=rp0\n"
		"-M cxl=on,accel=kvm,hmat=on,nvdimm=on\n");
	assert_true(host(f, 0)->cxl_on);
	assert_int_equal(f->warnings.n, 0);
	cx_fabric_free(f);

	refuse("-M q35\n-device pxb-cxl,bus_nr=12,id=cxl.1\n", 2,
	       "CXL host bridges present, but cxl=off", NULL);
	refuse("-M q35,cxl=on\n-device pxb-cxl,bus_nr=12,id=cxl.1\n"
	       "-M cxl=off\n", 2, "cxl=off", NULL);
	refuse("-M q35,cxl-fwm.0.size=4G\n", 1, "'cxl-fwm.0.size' is not a "
	       "CXL machine property", NULL);
	refuse("-M q35,cxl-fmw.x.size=4G\n", 1, "'cxl-fmw.x.size' is not a "
	       "window property", NULL);
	refuse("-M q35,cxl-mode=on\n", 1, "'cxl-mode' is not a CXL machine "
	       "property", NULL);

	f = load("-M q35,frobnicate=1\n");
	expect_warning(f, "machine property 'frobnicate'", NULL);
	cx_fabric_free(f);

	f = load("-M pc,cxl=on\n");
	expect_warning(f, "machine type 'pc'", "q35");
	cx_fabric_free(f);
}

/* ------------------------------------------------------------------ */
/* windows                                                              */
/* ------------------------------------------------------------------ */

/* two host bridges with a root port each; lines 1-6 */
#define TWO_HB                                                        \
	"-M q35,cxl=on -m 4G,maxmem=8G,slots=8\n"                     \
	"-device pxb-cxl,bus_nr=12,id=cxl.1\n"                        \
	"-device pxb-cxl,bus_nr=40,id=cxl.2\n"                        \
	"-device cxl-rp,bus=cxl.1,id=rp0,slot=0\n"                    \
	"-device cxl-rp,bus=cxl.2,id=rp1,slot=1\n"                    \
	"-object memory-backend-ram,id=vm0,size=256M\n"

static void test_window_rules(void **state)
{
	(void)state;
	struct cx_fabric *f = load_with(
		TWO_HB, "-M cxl-fmw.0.targets.0=cxl.1,cxl-fmw.0.targets.1=cxl.2,"
		"cxl-fmw.0.size=8G,cxl-fmw.0.interleave-granularity=16k\n"
		"-M cxl-fmw.1.targets.0=cxl.2,cxl-fmw.1.size=1G\n");
	struct cx_host *h = host(f, 0);
	assert_int_equal(h->windows.n, 2);
	assert_int_equal(window(h, 0)->ways, 2);
	assert_int_equal(window(h, 0)->gran, 16384);
	assert_int_equal(window(h, 0)->size, 8 * GIB);
	assert_ptr_equal(window(h, 0)->targets[0], h->hbs.v[0]);
	assert_ptr_equal(window(h, 0)->targets[1], h->hbs.v[1]);
	assert_int_equal(window(h, 0)->line, 7);
	assert_int_equal(window(h, 1)->ways, 1);
	assert_int_equal(window(h, 1)->gran, 256); /* QEMU's default */
	assert_false(window(h, 1)->legacy);
	/* placed in index order, one after the other */
	assert_int_equal(window(h, 1)->base, window(h, 0)->base + 8 * GIB);
	cx_fabric_free(f);

	refuse_with(TWO_HB, "-M cxl-fmw.0.targets.0=cxl.1,cxl-fmw.0.size=4G\n"
		    "-M cxl-fmw.2.targets.0=cxl.1,cxl-fmw.2.size=4G\n", 8,
		    "cxl-fmw.2 is given but cxl-fmw.1 is not", "from 0");
	refuse_with(TWO_HB, "-M cxl-fmw.0.targets.0=cxl.1,cxl-fmw.0.targets.2"
		    "=cxl.2,cxl-fmw.0.size=4G\n", 7, "targets.2 is given but "
		    "cxl-fmw.0.targets.1 is not", NULL);
	refuse_with(TWO_HB, "-M cxl-fmw.0.size=4G\n", 7, "cxl-fmw.0 has no "
		    "targets", NULL);
	refuse_with(TWO_HB, "-M cxl-fmw.0.targets.0=cxl.1\n", 7, "cxl-fmw.0 "
		    "has no size", NULL);
	refuse_with(TWO_HB, "-M cxl-fmw.0.targets.0=cxl.1,"
		    "cxl-fmw.0.size=300M\n", 7, "cxl-fmw.0.size=300M",
		    "multiple of 256 MiB");
	refuse_with(TWO_HB, "-M cxl-fmw.0.targets.0=cxl.1,cxl-fmw.0.size=0\n",
		    7, "cannot be empty", NULL);
	refuse_with(TWO_HB, "-M cxl-fmw.0.targets.0=cxl.1,cxl-fmw.0.size=4G,"
		    "cxl-fmw.0.interleave-granularity=3k\n", 7,
		    "interleave-granularity=3k", "256, 512, 1k");
	refuse_with(TWO_HB, "-M cxl-fmw.0.targets.0=cxl.1,cxl-fmw.0.size=4G,"
		    "cxl-fmw.0.interleave-granularity=32k\n", 7,
		    "interleave granularity must be", NULL);
	refuse_with(TWO_HB, "-M cxl-fmw.0.targets.0=cxl.1,cxl-fmw.0.size=4G,"
		    "cxl-fmw.0.interleave-granularity=128\n", 7,
		    "interleave granularity must be", NULL);
	refuse_with(TWO_HB, "-M cxl-fmw.0.targets.0=cxl.9,cxl-fmw.0.size=4G\n",
		    7, "could not resolve window target 'cxl.9'", NULL);
	refuse_with(TWO_HB, "-M cxl-fmw.0.targets.0=rp0,cxl-fmw.0.size=4G\n",
		    7, "'rp0' is a cxl-rp (line 4), not a pxb-cxl host bridge",
		    NULL);
	refuse_with(TWO_HB, "-M cxl-fmw.0.targets.0=cxl.1,cxl-fmw.0.targets.1"
		    "=cxl.1,cxl-fmw.0.size=4G\n", 7, "host bridge cxl.1 is "
		    "already target 0", NULL);
	refuse_with(TWO_HB, "-M cxl-fmw.0.targets.0=cxl.1,cxl-fmw.0.size=4G,"
		    "cxl-fmw.0.ways=2\n", 7, "'cxl-fmw.0.ways' is not a window "
		    "property", NULL);
	refuse_with(TWO_HB, "-M cxl-fmw.64.targets.0=cxl.1\n", 7,
		    "cxl-fmw.0 to cxl-fmw.63", NULL);
	refuse_with(TWO_HB, "-M cxl-fmw.0.targets.64=cxl.1\n", 7,
		    "interleave ways: 65 is not supported", NULL);
}

/* cxlemu's own window keys: interleave-arithmetic and xormap.K */
static void test_window_xor(void **state)
{
	(void)state;
#define XW "-M cxl-fmw.0.targets.0=cxl.1,cxl-fmw.0.targets.1=cxl.2," \
	   "cxl-fmw.0.size=8G,"
	struct cx_fabric *f = load_with(TWO_HB, XW
		"cxl-fmw.0.interleave-arithmetic=xor,"
		"cxl-fmw.0.xormap.0=0x404100\n"
		"-M cxl-fmw.1.targets.0=cxl.2,cxl-fmw.1.size=1G,"
		"cxl-fmw.1.interleave-arithmetic=xor\n"
		"-M cxl-fmw.2.targets.0=cxl.1,cxl-fmw.2.size=1G,"
		"cxl-fmw.2.interleave-arithmetic=modulo\n");
	struct cx_host *h = host(f, 0);
	assert_int_equal(window(h, 0)->arith, CX_ARITH_XOR);
	assert_int_equal(window(h, 0)->nxormaps, 1);
	assert_int_equal(window(h, 0)->xormap[0], 0x404100);
	assert_int_equal(window(h, 1)->arith, CX_ARITH_XOR); /* x1: no maps */
	assert_int_equal(window(h, 1)->nxormaps, 0);
	assert_int_equal(window(h, 2)->arith, CX_ARITH_MODULO);
	cx_fabric_free(f);
	/* hexadecimal with or without 0x; granularity 1k: bit 10 */
	f = load_with(TWO_HB, XW "cxl-fmw.0.interleave-granularity=1k,"
		      "cxl-fmw.0.interleave-arithmetic=xor,"
		      "cxl-fmw.0.xormap.0=40000C00\n");
	assert_int_equal(window(host(f, 0), 0)->xormap[0], 0x40000c00);
	cx_fabric_free(f);

	refuse_with(TWO_HB, XW "cxl-fmw.0.interleave-arithmetic=hash\n", 7,
		    "cxl-fmw.0.interleave-arithmetic=hash",
		    "is modulo or xor");
	refuse_with(TWO_HB, XW "cxl-fmw.0.interleave-arithmetic=xor\n", 7,
		    "a window of 2 ways needs 1 XOR map",
		    "cxl-fmw.0.xormap.0=HEX");
	refuse_with(TWO_HB, XW "cxl-fmw.0.xormap.0=0x404100\n", 7,
		    "cxl-fmw.0.xormap.0=0x404100: XOR maps belong to a window "
		    "with interleave-arithmetic=xor", "uses modulo arithmetic");
	refuse_with(TWO_HB, XW "cxl-fmw.0.interleave-arithmetic=modulo,"
		    "cxl-fmw.0.xormap.0=0x404100\n", 7,
		    "XOR maps belong to a window", NULL);
	refuse_with(TWO_HB, XW "cxl-fmw.0.interleave-arithmetic=xor,"
		    "cxl-fmw.0.xormap.1=0x808200\n", 7,
		    "cxl-fmw.0.xormap.1 is given but cxl-fmw.0.xormap.0 is "
		    "not", "without gaps");
	refuse_with(TWO_HB, XW "cxl-fmw.0.interleave-arithmetic=xor,"
		    "cxl-fmw.0.xormap.0=0x404100,cxl-fmw.0.xormap.1=0x808200\n",
		    7, "cxl-fmw.0 has 2 XOR maps, but a window of 2 ways takes "
		    "1", "4 and 12 two");
	refuse_with(TWO_HB, "-M cxl-fmw.0.targets.0=cxl.1,cxl-fmw.0.size=4G,"
		    "cxl-fmw.0.interleave-arithmetic=xor,"
		    "cxl-fmw.0.xormap.0=0x100\n", 7, "cxl-fmw.0 has 1 XOR map, "
		    "but a window of 1 ways takes 0", "1 and 3 ways none");
	refuse_with(TWO_HB, XW "cxl-fmw.0.interleave-arithmetic=xor,"
		    "cxl-fmw.0.xormap.0=0\n", 7, "cxl-fmw.0.xormap.0=0: an XOR "
		    "map selects HPA bits", NULL);
	refuse_with(TWO_HB, XW "cxl-fmw.0.interleave-arithmetic=xor,"
		    "cxl-fmw.0.xormap.0=0x40g100\n", 7,
		    "cxl-fmw.0.xormap.0=0x40g100: an XOR map is a 64-bit "
		    "hexadecimal mask", NULL);
	refuse_with(TWO_HB, XW "cxl-fmw.0.interleave-arithmetic=xor,"
		    "cxl-fmw.0.xormap.0=0x10000000000000000\n", 7,
		    "64-bit hexadecimal", NULL);
	refuse_with(TWO_HB, XW "cxl-fmw.0.interleave-arithmetic=xor,"
		    "cxl-fmw.0.xormap.0=0x404200\n", 7,
		    "cxl-fmw.0.xormap.0=0x404200: its lowest set bit is HPA bit "
		    "9, but map 0 of a window at granularity 256 decides "
		    "interleave bit 8", NULL);
	refuse_with(TWO_HB, XW "cxl-fmw.0.xormap.4=1\n", 7,
		    "at most 4 XOR maps", NULL);
	refuse_with(TWO_HB, XW "cxl-fmw.0.xormap.x=1\n", 7,
		    "'cxl-fmw.0.xormap.x' is not a window property",
		    "cxl-fmw.N.xormap.K");
#undef XW
	/* four bridges: shared lowest bits, map 1's bit */
	char t[4096];
	int len = snprintf(t, sizeof(t), "-M q35,cxl=on\n");
	for (int i = 0; i < 4; i++)
		len += snprintf(t + len, sizeof(t) - (size_t)len,
				"-device pxb-cxl,bus_nr=%d,id=hb%d\n"
				"-device cxl-rp,bus=hb%d,id=rp%d,slot=%d\n",
				10 + 2 * i, i, i, i, i);
	snprintf(t + len, sizeof(t) - (size_t)len,
		 "-M cxl-fmw.0.targets.0=hb0,cxl-fmw.0.targets.1=hb1,"
		 "cxl-fmw.0.targets.2=hb2,cxl-fmw.0.targets.3=hb3,"
		 "cxl-fmw.0.size=4G,cxl-fmw.0.interleave-arithmetic=xor,"
		 "cxl-fmw.0.xormap.0=0x404100,");
	refuse(cat(t, "cxl-fmw.0.xormap.1=0x808100\n"), 10,
	       "cxl-fmw.0.xormap.1=0x808100: its lowest set bit, HPA bit 8, is "
	       "also the lowest set bit of cxl-fmw.0.xormap.0=0x404100",
	       "an interleave bit of its own");
	refuse(cat(t, "cxl-fmw.0.xormap.1=0x808400\n"), 10,
	       "its lowest set bit is HPA bit 10, but map 1 of a window at "
	       "granularity 256 decides interleave bit 9", NULL);
	f = load(cat(t, "cxl-fmw.0.xormap.1=0x808200\n"));
	assert_int_equal(window(host(f, 0), 0)->nxormaps, 2);
	assert_int_equal(window(host(f, 0), 0)->xormap[1], 0x808200);
	cx_fabric_free(f);
}

static void test_window_ways(void **state)
{
	(void)state;
	/* 17 host bridges would be too many; 16 are allowed.  Build an
	 * n-target window over n host bridges for every n from 1 to 16. */
	for (int n = 1; n <= 16; n++) {
		char t[8192];
		int len = snprintf(t, sizeof(t), "-M q35,cxl=on\n");
		for (int i = 0; i < n; i++)
			len += snprintf(t + len, sizeof(t) - (size_t)len,
					"-device pxb-cxl,bus_nr=%d,id=hb%d\n"
					"-device cxl-rp,bus=hb%d,id=rp%d,"
					"slot=%d\n", 10 + 2 * i, i, i, i, i);
		len += snprintf(t + len, sizeof(t) - (size_t)len, "-M ");
		for (int i = 0; i < n; i++)
			len += snprintf(t + len, sizeof(t) - (size_t)len,
					"cxl-fmw.0.targets.%d=hb%d,", i, i);
		snprintf(t + len, sizeof(t) - (size_t)len,
			 "cxl-fmw.0.size=%dG\n", n * 1);
		bool valid = n == 1 || n == 2 || n == 3 || n == 4 || n == 6 ||
			     n == 8 || n == 12 || n == 16;
		if (valid) {
			struct cx_fabric *f = load(t);
			assert_int_equal(window(host(f, 0), 0)->ways, n);
			cx_fabric_free(f);
			/* and as an XOR window with the maps its ways take */
			len += snprintf(t + len, sizeof(t) - (size_t)len,
					"cxl-fmw.0.size=%dG,cxl-fmw.0.interleave-"
					"arithmetic=xor", n);
			int need = cx_xormaps_for_ways(n);
			for (int i = 0; i < need; i++)
				len += snprintf(t + len, sizeof(t) - (size_t)len,
						",cxl-fmw.0.xormap.%d=%#llx", i,
						(1ULL << (8 + i)) |
						(1ULL << (20 + i)));
			snprintf(t + len, sizeof(t) - (size_t)len, "\n");
			f = load(t);
			assert_int_equal(window(host(f, 0), 0)->nxormaps, need);
			cx_fabric_free(f);
		} else {
			char want[64];
			snprintf(want, sizeof(want), "interleave ways %d is not "
				 "supported", n);
			refuse(t, 2 + 2 * n, want, NULL);
		}
	}
}

static void test_window_base(void **state)
{
	(void)state;
	/* real QEMU values: the first window after RAM, the hotplug area
	 * (maxmem - RAM + 1 GiB per slot) and 1 MiB of host bridge
	 * registers, rounded up to 256 MiB */
	struct cx_fabric *f = load(BASE);
	assert_int_equal(window(host(f, 0), 0)->base, 0x490000000ULL);
	cx_fabric_free(f);

	f = load("-M q35,cxl=on -m 4G,slots=4,maxmem=8G\n"
		 "-device pxb-cxl,bus_nr=52,id=cxl.0\n"
		 "-device cxl-rp,bus=cxl.0,id=rp0\n"
		 "-M cxl-fmw.0.targets.0=cxl.0,cxl-fmw.0.size=4G\n");
	assert_int_equal(window(host(f, 0), 0)->base, 0x390000000ULL);
	cx_fabric_free(f);
}

/* ------------------------------------------------------------------ */
/* devices                                                              */
/* ------------------------------------------------------------------ */

static void test_host_bridge_rules(void **state)
{
	(void)state;
	/* bus= defaults to pcie.0 */
	struct cx_fabric *f = load("-M q35,cxl=on\n-device pxb-cxl,bus_nr=7,"
				   "id=hb,numa_node=0,addr=0x10\n");
	struct cx_port *hb = host(f, 0)->hbs.v[0];
	assert_int_equal(hb->kind, CX_PORT_HB);
	assert_int_equal(hb->bus_nr, 7);
	assert_int_equal(hb->port_num, 7); /* the ACPI UID is bus_nr */
	expect_warning(f, "pxb-cxl hb has no root ports", NULL);
	cx_fabric_free(f);

	refuse_with(BASE, "-device pxb-cxl,bus_nr=30,bus=cxl.1,id=c2\n", 7,
		    "bus 'cxl.1' is a pxb-cxl", "root bus pcie.0");
	refuse_with(BASE, "-device pxb-cxl,bus_nr=30,bus=pci.0,id=c2\n", 7,
		    "conventional PCI bus", NULL);
	refuse_with(BASE, "-device pxb-cxl,bus_nr=30,bus=pcie.7,id=c2\n", 7,
		    "bus 'pcie.7' does not exist", NULL);
	refuse_with(BASE, "-device pxb-cxl,id=c2\n", 7, "bus_nr= must be set",
		    NULL);
	refuse_with(BASE, "-device pxb-cxl,bus_nr=0,id=c2\n", 7,
		    "bus_nr= must be set", "bus 0");
	refuse_with(BASE, "-device pxb-cxl,bus_nr=256,id=c2\n", 7,
		    "'bus_nr': 256 is out of range", NULL);
	refuse_with(BASE, "-device pxb-cxl,bus_nr=12,id=c2\n", 7,
		    "bus 12 is already in use by cxl.1 (line 3)", NULL);
	refuse_with(BASE, "-device pxb-pcie,bus_nr=30,id=p2\n"
		    "-device pxb-cxl,bus_nr=30,id=c2\n", 8,
		    "bus 30 is already in use by p2 (line 7)", NULL);
	/* cxl.1 needs buses 12 and 13 (one root port) */
	refuse_with(BASE, "-device pxb-cxl,bus_nr=13,id=c2\n", 7,
		    "bus_nr=13 falls inside buses 12-13", NULL);
	f = load_with(BASE, "-device pxb-cxl,bus_nr=14,id=c2\n");
	assert_int_equal(host(f, 0)->hbs.n, 2);
	cx_fabric_free(f);
	refuse("-M cxl=on\n-device pxb-cxl,bus_nr=250,id=a\n"
	       "-device cxl-rp,bus=a,id=r0,slot=0,port=0\n"
	       "-device cxl-upstream,bus=r0,id=u\n"
	       "-device cxl-downstream,bus=u,id=d0,slot=1,port=0\n"
	       "-device cxl-downstream,bus=u,id=d1,slot=2,port=1\n"
	       "-device cxl-downstream,bus=u,id=d2,slot=3,port=2\n"
	       "-device cxl-downstream,bus=u,id=d3,slot=4,port=3\n", 2,
	       "-device pxb-cxl,bus_nr=250,id=a: bus_nr=250 with 6 ports "
	       "below needs buses 250-256", NULL);

	/* at most 16 host bridges */
	char t[4096];
	int len = snprintf(t, sizeof(t), "-M q35,cxl=on\n");
	for (int i = 0; i < 17; i++)
		len += snprintf(t + len, sizeof(t) - (size_t)len,
				"-device pxb-cxl,bus_nr=%d,id=hb%d\n", 10 + i * 2,
				i);
	refuse(t, 18, "room for 16 host bridges", NULL);
	t[strlen(t) - strlen("-device pxb-cxl,bus_nr=42,id=hb16\n")] = 0;
	f = load(t);
	assert_int_equal(host(f, 0)->hbs.n, 16);
	cx_fabric_free(f);
}

static void test_root_port_rules(void **state)
{
	(void)state;
	struct cx_fabric *f = load(
		"-M q35,cxl=on\n"
		"-device pxb-cxl,bus_nr=12,id=a\n"
		"-device pxb-cxl,bus_nr=20,id=b\n"
		"-device cxl-rp,bus=a,id=ra0,port=0,chassis=1,slot=2,"
		"addr=0.0,x-speed=32,x-width=16\n"
		"-device cxl-rp,bus=a,id=ra1,port=1,chassis=1,slot=3\n"
		"-device cxl-rp,bus=b,id=rb0,port=0,chassis=2,slot=2\n");
	struct cx_host *h = host(f, 0);
	struct cx_port *hb = h->hbs.v[0];
	assert_int_equal(hb->children.n, 2);
	struct cx_port *ra1 = hb->children.v[1];
	assert_string_equal(ra1->qid, "ra1");
	assert_ptr_equal(ra1->parent, hb);
	assert_int_equal(ra1->port_num, 1);
	assert_int_equal(ra1->chassis, 1);
	assert_int_equal(ra1->slot, 3);
	assert_int_equal(ra1->line, 5);
	cx_fabric_free(f);

	refuse("-M cxl=on\n-device cxl-rp,port=0,id=rp0\n", 2,
	       "bus= is missing", "pxb-cxl");
	refuse("-M q35,cxl=on\n-device cxl-rp,port=0,bus=cxl.9,id=rp1\n", 2,
	       "-device cxl-rp,port=0,bus=cxl.9,id=rp1: bus 'cxl.9' does not "
	       "exist (a cxl-rp must sit on a pxb-cxl host bridge)", NULL);
	refuse_with(BASE, "-device cxl-rp,bus=pcie.0,id=r2,slot=5\n", 7,
		    "bus 'pcie.0' is the machine's root bus", NULL);
	refuse_with(BASE, "-device cxl-rp,bus=rp0,id=r2,slot=5\n", 7,
		    "bus 'rp0' is a cxl-rp (line 4), but a cxl-rp must sit on "
		    "a pxb-cxl host bridge", NULL);
	refuse("-M cxl=on\n-device cxl-rp,bus=late,id=r\n"
	       "-device pxb-cxl,bus_nr=3,id=late\n", 2,
	       "bus 'late' is declared later, at line 3", NULL);
	refuse_with(BASE, "-device cxl-rp,port=0,bus=cxl.1,id=rp1,slot=1\n", 7,
		    "port 0 is already used by root port rp0 (line 4) on host "
		    "bridge cxl.1", NULL);
	refuse_with(BASE, "-device cxl-rp,port=1,bus=cxl.1,id=rp1,slot=0\n", 7,
		    "chassis 0 slot 0 is already taken by rp0 (line 4)", NULL);
	refuse_with(BASE, "-device cxl-rp,port=256,bus=cxl.1,id=rp1,slot=1\n",
		    7, "'port': 256 is out of range", NULL);
	refuse_with(BASE, "-device cxl-rp,port=1,bus=cxl.1,id=rp1,slot=1,"
		    "sn=3\n", 7, "cxl-rp has no property 'sn'", NULL);
	refuse_with(BASE, "-device cxl-rp,port=1,bus=cxl.1,id=rp1,slot=1,"
		    "addr=40.0\n", 7, "not a PCI address", NULL);
	/* a plain PCIe root port takes a chassis/slot pair too */
	refuse_with(BASE, "-device pcie-root-port,id=p1,chassis=0,slot=0\n", 7,
		    "chassis 0 slot 0 is already taken by rp0", NULL);
}

static void test_switch_rules(void **state)
{
	(void)state;
	struct cx_fabric *f = load_with(
		HB_RP, "-device cxl-upstream,bus=rp0,id=us0,sn=0x1234\n"
		"-device cxl-downstream,bus=us0,id=d0,port=0,slot=4\n"
		"-device cxl-downstream,bus=us0,id=d1,port=1,slot=5\n"
		"-device cxl-type3,bus=d1,volatile-memdev=vm0,id=t0\n");
	struct cx_host *h = host(f, 0);
	struct cx_port *rp = ((struct cx_port *)h->hbs.v[0])->children.v[0];
	assert_int_equal(rp->children.n, 1);
	struct cx_port *us = rp->children.v[0];
	assert_int_equal(us->kind, CX_PORT_USP);
	assert_true(us->has_sn);
	assert_int_equal(us->sn, 0x1234);
	assert_int_equal(us->children.n, 2);
	struct cx_port *d1 = us->children.v[1];
	assert_int_equal(d1->kind, CX_PORT_DSP);
	assert_int_equal(d1->port_num, 1);
	assert_ptr_equal(memdev(h, 0)->parent, d1);
	assert_ptr_equal(d1->memdev, memdev(h, 0));
	cx_fabric_free(f);

	refuse_with(HB_RP, "-device cxl-upstream,bus=cxl.1,id=us0\n", 5,
		    "bus 'cxl.1' is a pxb-cxl", "a cxl-upstream must sit on a "
		    "cxl-rp root port");
	refuse_with(HB_RP, "-device cxl-upstream,bus=rp0,id=us0\n"
		    "-device cxl-upstream,bus=rp0,id=us1\n", 6,
		    "root port rp0 already has cxl-upstream us0 (line 5)",
		    "holds one device");
	refuse_with(HB_RP, "-device cxl-type3,bus=rp0,volatile-memdev=vm0,"
		    "id=t0\n-device cxl-upstream,bus=rp0,id=us1\n", 6,
		    "already has cxl-type3 t0", NULL);
	refuse_with(HB_RP, "-device cxl-downstream,bus=rp0,id=d0,slot=3\n", 5,
		    "a cxl-downstream must sit on a cxl-upstream switch port",
		    NULL);
	refuse_with(HB_RP, "-device cxl-upstream,bus=rp0,id=us0\n"
		    "-device cxl-downstream,bus=us0,id=d0,port=2,slot=4\n"
		    "-device cxl-downstream,bus=us0,id=d1,port=2,slot=5\n", 7,
		    "port 2 is already used by downstream port d0 (line 6) of "
		    "switch us0", NULL);
	refuse_with(HB_RP, "-device cxl-upstream,bus=rp0,id=us0\n"
		    "-device cxl-downstream,bus=us0,id=d0,port=0,slot=0\n", 6,
		    "chassis 0 slot 0 is already taken by rp0", NULL);
	refuse_with(HB_RP, "-device cxl-upstream,bus=rp0,id=us0\n"
		    "-device cxl-type3,bus=us0,volatile-memdev=vm0,id=t0\n", 6,
		    "a cxl-type3 must sit on a cxl-rp root port or a "
		    "cxl-downstream switch port", NULL);
	refuse_with(HB_RP, "-device cxl-upstream,bus=rp0,id=us0,port=1\n", 5,
		    "cxl-upstream has no property 'port'", NULL);
	refuse_with(HB_RP, "-device cxl-upstream,bus=rp0,id=us0\n"
		    "-device cxl-downstream,bus=us0,id=d0,slot=4\n"
		    "-device cxl-type3,bus=d0,volatile-memdev=vm0,id=t0\n"
		    "-device cxl-type3,bus=d0,volatile-memdev=vm0,id=t1\n", 8,
		    "downstream port d0 already has cxl-type3 t0", NULL);
}

static void test_type3_rules(void **state)
{
	(void)state;
	struct cx_fabric *f = load_with(
		HB_RP, "-object memory-backend-file,id=pm,size=512M,"
		"mem-path=/tmp/cxlemu-test-pm,share=on\n"
		"-object memory-backend-file,id=lsa,size=128K,"
		"mem-path=/tmp/cxlemu-test-lsa\n"
		"-device cxl-type3,bus=rp0,volatile-memdev=vm0,"
		"persistent-memdev=pm,lsa=lsa,id=t0,sn=0x11\n");
	struct cx_memdev *m = memdev(host(f, 0), 0);
	assert_string_equal(m->qid, "t0");
	assert_int_equal(m->vmem_size, 256 * MIB);
	assert_int_equal(m->pmem_size, 512 * MIB);
	assert_int_equal(m->lsa_size, 128 * 1024);
	assert_int_equal(m->legacy_offset, 0);
	assert_true(m->has_sn);
	assert_int_equal(m->sn, 0x11);
	assert_string_equal(m->vmem_be->id, "vm0");
	assert_string_equal(m->pmem_be->id, "pm");
	assert_string_equal(m->lsa_be->id, "lsa");
	assert_string_equal(m->vmem_be->used_by, "t0");
	assert_string_equal(m->pmem_be->used_by, "t0");
	assert_int_equal(m->line, 7);
	cx_fabric_free(f);

	/* sn all-ones means none, as in QEMU; no sn: none */
	f = load_with(HB_RP, "-device cxl-type3,bus=rp0,volatile-memdev=vm0,"
		      "id=t0,sn=0xffffffffffffffff\n");
	assert_false(memdev(host(f, 0), 0)->has_sn);
	cx_fabric_free(f);

	/* deprecated memdev= is persistent, with a note */
	f = load_with(HB_RP, "-object memory-backend-ram,id=l,size=1M\n"
		      "-device cxl-type3,bus=rp0,memdev=vm0,lsa=l,id=t0\n");
	assert_int_equal(memdev(host(f, 0), 0)->pmem_size, 256 * MIB);
	assert_int_equal(memdev(host(f, 0), 0)->vmem_size, 0);
	expect_warning(f, "t.topo:6:", "memdev= is deprecated");
	cx_fabric_free(f);

	/* QEMU accepts a capacity that is not a multiple of 256 MiB */
	f = load_with(HB_RP, "-object memory-backend-ram,id=odd,size=100M\n"
		      "-device cxl-type3,bus=rp0,volatile-memdev=odd,id=t0\n");
	assert_int_equal(memdev(host(f, 0), 0)->vmem_size, 100 * MIB);
	expect_warning(f, "t.topo:6:", "not a multiple of 256 MiB");
	cx_fabric_free(f);

	refuse_with(HB_RP, "-device cxl-type3,bus=rp0,id=t0\n", 5,
		    "needs at least one memory backend", NULL);
	refuse_with(HB_RP, "-object memory-backend-ram,id=l,size=1M\n"
		    "-device cxl-type3,bus=rp0,memdev=vm0,persistent-memdev=vm0,"
		    "lsa=l,id=t0\n", 6, "memdev= cannot be used together with "
		    "persistent-memdev=", NULL);
	refuse_with(HB_RP, "-device cxl-type3,bus=rp0,persistent-memdev=vm0,"
		    "id=t0\n", 5, "lsa property must be set for persistent "
		    "devices", NULL);
	refuse_with(HB_RP, "-device cxl-type3,bus=rp0,volatile-memdev=nope,"
		    "id=t0\n", 5, "memory backend 'nope' does not exist", NULL);
	refuse_with(HB_RP, "-object secret,id=s,data=x\n"
		    "-device cxl-type3,bus=rp0,volatile-memdev=s,id=t0\n", 6,
		    "'s' is a secret (line 5), not a memory backend", NULL);
	refuse_with(HB_RP, "-object memory-backend-epc,id=s,size=1G\n"
		    "-device cxl-type3,bus=rp0,volatile-memdev=s,id=t0\n", 6,
		    "which cxlemu does not model", NULL);
	refuse_with(HB_RP, "-device cxl-type3,bus=rp0,volatile-memdev=vm0,"
		    "lsa=vm0,id=t0\n", 5, "memory backend vm0 can't be used "
		    "multiple times: t0 (line 5) already uses it", NULL);
	refuse_with(HB_RP, "-device cxl-rp,port=1,bus=cxl.1,id=rp1,slot=1\n"
		    "-device cxl-type3,bus=rp0,volatile-memdev=vm0,id=t0\n"
		    "-device cxl-type3,bus=rp1,volatile-memdev=vm0,id=t1\n", 7,
		    "memory backend vm0 can't be used multiple times", "t0");
	refuse_with(HB_RP, "-device cxl-type3,bus=rp0,volatile-memdev=vm0,"
		    "id=t0,foo=1\n", 5, "cxl-type3 has no property 'foo'",
		    "volatile-memdev");
	refuse_with(HB_RP, "-device cxl-type3,bus=rp0,volatile-memdev=vm0,"
		    "id=t0,sn=serial\n", 5, "cxl-type3 property 'sn'",
		    "not an unsigned integer");
	refuse_with(HB_RP, "-device cxl-type3,bus=rp0,volatile-memdev=,"
		    "id=t0\n", 5, "needs the id of a memory backend", NULL);
	refuse_with(HB_RP, "-device cxl-type3,volatile-memdev=vm0,id=t0\n", 5,
		    "bus= is missing", NULL);

	/* dynamic capacity: modeled, QEMU's rules enforced */
	f = load_with(HB_RP, "-object memory-backend-ram,id=dc,size=1G\n"
		      "-device cxl-type3,bus=rp0,volatile-memdev=vm0,"
		      "volatile-dc-memdev=dc,num-dc-regions=2,id=t0\n");
	assert_false(has_warning(f, "num-dc-regions", NULL));
	assert_int_equal(memdev(host(f, 0), 0)->vmem_size, 256 * MIB);
	assert_int_equal(memdev(host(f, 0), 0)->dc_size, 1024 * MIB);
	assert_int_equal(memdev(host(f, 0), 0)->dc_regions, 2);
	assert_string_equal(memdev(host(f, 0), 0)->dc_be->id, "dc");
	cx_fabric_free(f);
	/* the DC regions start after the static capacity, 256 MiB aligned */
	refuse_with(HB_RP, "-object memory-backend-ram,id=v3,size=384M\n"
		    "-object memory-backend-ram,id=dc,size=1G\n"
		    "-device cxl-type3,bus=rp0,volatile-memdev=v3,"
		    "volatile-dc-memdev=dc,num-dc-regions=2,id=t0\n", 7,
		    "DC region base not aligned", "DPA 384");
	f = load_with(HB_RP, "-object memory-backend-ram,id=dc,size=1G\n"
		      "-device cxl-type3,bus=rp0,volatile-dc-memdev=dc,id=t0,"
		      "volatile-memdev=vm0\n");
	expect_warning(f, "volatile-dc-memdev", "without num-dc-regions");
	assert_int_equal(memdev(host(f, 0), 0)->dc_size, 0);
	cx_fabric_free(f);
	refuse_with(HB_RP, "-device cxl-type3,bus=rp0,volatile-memdev=vm0,"
		    "num-dc-regions=2,id=t0\n", 5, "dynamic capacity must have "
		    "a backing device", NULL);
	refuse_with(HB_RP, "-object memory-backend-ram,id=dc,size=768M\n"
		    "-device cxl-type3,bus=rp0,volatile-dc-memdev=dc,"
		    "num-dc-regions=2,id=t0\n", 6, "multiple of num-dc-regions "
		    "x 256 MiB", NULL);
	refuse_with(HB_RP, "-object memory-backend-ram,id=dc,size=9G\n"
		    "-device cxl-type3,bus=rp0,volatile-dc-memdev=dc,"
		    "num-dc-regions=9,id=t0\n", 6, "at most 8 dynamic capacity "
		    "regions", NULL);
}

static void test_device_ids(void **state)
{
	(void)state;
	refuse_with(BASE, "-device virtio-net-pci,id=rp0\n", 7,
		    "duplicate device id 'rp0': line 4 already declares a "
		    "cxl-rp", NULL);
	refuse_with(BASE, "-device cxl-rp,bus=cxl.1,id=-x,port=3,slot=3\n", 7,
		    "id '-x' is not an identifier", NULL);
	refuse_with(BASE, "-device id=x\n", 7, "-device needs a driver first",
		    NULL);
	/* objects and devices have separate id spaces, as in QEMU */
	struct cx_fabric *f = load_with(HB_RP, "-device cxl-type3,bus=rp0,"
					"volatile-memdev=vm0,id=vm0\n");
	assert_string_equal(memdev(host(f, 0), 0)->qid, "vm0");
	cx_fabric_free(f);
	/* an anonymous Type 3 device gets QEMU's anonymous name */
	f = load_with(HB_RP, "-device virtio-rng-pci\n"
		      "-device cxl-type3,bus=rp0,volatile-memdev=vm0\n");
	assert_string_equal(memdev(host(f, 0), 0)->qid, "device[1]");
	expect_warning(f, "cxl-type3 has no id=", "device[1]");
	cx_fabric_free(f);
}

static void test_other_devices(void **state)
{
	(void)state;
	/* devices cxlemu does not model are kept */
	struct cx_fabric *f = load_with(
		BASE, "-device pci-bridge,chassis_nr=3,id=pci.3,bus=pcie.0,"
		"addr=0xd\n"
		"-device virtio-net-pci,netdev=n,id=net0,bus=pci.3,addr=0x1\n"
		"-object memory-backend-file,id=mb1,size=1G,mem-path=/tmp/s,"
		"share\n"
		"-device ivshmem-plain,memdev=mb1\n"
		"-device nvdimm,id=nv0,memdev=mb2\n"
		"-device cxl-switch-mailbox-cci,target=us0\n");
	assert_int_equal(host(f, 0)->memdevs.n, 1);
	expect_warning(f, "cxl-switch-mailbox-cci", "not modeled");
	cx_fabric_free(f);

	/* but a backend still maps once */
	refuse_with(BASE, "-device ivshmem-plain,memdev=vm0,id=iv\n", 7,
		    "memory backend vm0 can't be used multiple times: t0 "
		    "(line 5)", NULL);
	refuse_with(HB_RP, "-device ivshmem-plain,memdev=vm0,id=iv\n"
		    "-device cxl-type3,bus=rp0,volatile-memdev=vm0,id=t0\n", 6,
		    "can't be used multiple times: iv (line 5)", NULL);
	refuse_with(HB_RP, "-M memory-backend=vm0\n"
		    "-device cxl-type3,bus=rp0,volatile-memdev=vm0,id=t0\n", 6,
		    "-machine memory-backend (line 5)", NULL);
	/* a PCIe device on a CXL root port takes the port's one slot */
	refuse_with(HB_RP, "-device virtio-net-pci,bus=rp0,id=n0\n"
		    "-device cxl-type3,bus=rp0,volatile-memdev=vm0,id=t0\n", 6,
		    "root port rp0 already has virtio-net-pci n0 (line 5)",
		    NULL);
	f = load_with(HB_RP, "-device virtio-net-pci,bus=rp0,id=n0\n");
	expect_warning(f, "virtio-net-pci n0 sits on CXL bus rp0", NULL);
	cx_fabric_free(f);

	/* -numa memdev is kept; sharing it with a CXL device is noted */
	f = load_with(BASE, "-numa node,memdev=vm0,nodeid=1\n");
	expect_warning(f, "t.topo:5:", "NUMA node (-numa at line 7)");
	cx_fabric_free(f);
}

/* ------------------------------------------------------------------ */
/* the 2021 development branch (seeds/002)                              */
/* ------------------------------------------------------------------ */

#define LEGACY                                                             \
	"-m 4G,slots=8,maxmem=8G\n"                                        \
	"-machine type=q35,accel=kvm,nvdimm=on,cxl=on\n"                   \
	"-object memory-backend-file,id=cxl-mem1,share=on,"                \
	"mem-path=/tmp/cxlemu-test-window1,size=512M\n"                    \
	"-object memory-backend-file,id=cxl-label1,share=on,"              \
	"mem-path=/tmp/cxlemu-test-label1,size=1K\n"                       \
	"-object memory-backend-file,id=cxl-label2,share=on,"              \
	"mem-path=/tmp/cxlemu-test-label2,size=1K\n"                       \
	"-device pxb-cxl,id=cxl.0,bus=pcie.0,bus_nr=52,uid=0,"             \
	"len-window-base=1,window-base[0]=0x4c00000000,memdev[0]=cxl-mem1\n" \
	"-device cxl-rp,id=rp0,bus=cxl.0,addr=0.0,chassis=0,slot=0,port=0\n" \
	"-device cxl-rp,id=rp1,bus=cxl.0,addr=1.0,chassis=0,slot=1,port=1\n"

static void test_legacy_dialect(void **state)
{
	(void)state;
	struct cx_fabric *f = load_with(
		LEGACY,
		"-device cxl-type3,bus=rp0,memdev=cxl-mem1,id=cxl-pmem0,"
		"size=256M,lsa=cxl-label1\n"
		"-device cxl-type3,bus=rp1,memdev=cxl-mem1,id=cxl-pmem1,"
		"size=256M,lsa=cxl-label2\n");
	struct cx_host *h = host(f, 0);
	assert_int_equal(h->windows.n, 1);
	struct cx_window *w = window(h, 0);
	assert_true(w->legacy);
	assert_int_equal(w->index, 0);
	assert_int_equal(w->base, 0x4c00000000ULL);
	assert_int_equal(w->size, 512 * MIB);
	assert_int_equal(w->ways, 1);
	assert_ptr_equal(w->targets[0], h->hbs.v[0]);
	assert_int_equal(memdev(h, 0)->pmem_size, 256 * MIB);
	assert_int_equal(memdev(h, 0)->legacy_offset, 0);
	assert_int_equal(memdev(h, 1)->pmem_size, 256 * MIB);
	assert_int_equal(memdev(h, 1)->legacy_offset, 256 * MIB);
	assert_ptr_equal(memdev(h, 0)->pmem_be, memdev(h, 1)->pmem_be);
	assert_int_equal(memdev(h, 0)->vmem_size, 0);
	expect_warning(f, "t.topo:6:", "read as CXL window 0");
	expect_warning(f, "t.topo:9:", "offset 0 of backend cxl-mem1");
	expect_warning(f, "t.topo:10:", "offset 256 MiB of backend cxl-mem1");
	expect_warning(f, "uid=0", "bus_nr, 52");
	cx_fabric_free(f);

	/* slices must fit */
	refuse_with(LEGACY, "-device cxl-type3,bus=rp0,memdev=cxl-mem1,id=a,"
		    "size=256M,lsa=cxl-label1\n"
		    "-device cxl-type3,bus=rp1,memdev=cxl-mem1,id=b,"
		    "size=512M,lsa=cxl-label2\n", 10, "256 MiB left",
		    "must fit in the backend");
	refuse_with(LEGACY, "-device cxl-type3,bus=rp0,memdev=cxl-mem1,id=a,"
		    "size=100M,lsa=cxl-label1\n", 9, "size=100M",
		    "multiple of 256 MiB");
	/* the carve-out is only for memdev= */
	refuse_with(LEGACY, "-device cxl-type3,bus=rp0,volatile-memdev="
		    "cxl-mem1,id=a,size=256M\n", 9, "size= is the pre-7.1 form",
		    "volatile-memdev=");
	/* a legacy window's memory cannot also be a whole device */
	refuse_with(LEGACY, "-device cxl-type3,bus=rp0,volatile-memdev="
		    "cxl-mem1,id=a\n", 9, "can't be used multiple times: "
		    "cxl.0 (line 6)", NULL);
	/* nor can a carved backend */
	refuse_with(LEGACY, "-object memory-backend-ram,id=x,size=512M\n"
		    "-device cxl-type3,bus=rp0,memdev=x,id=a,size=256M,"
		    "lsa=cxl-label1\n"
		    "-device cxl-type3,bus=rp1,volatile-memdev=x,id=b\n", 11,
		    "can't be used multiple times: a (line 10)", NULL);

	refuse("-M cxl=on\n-object memory-backend-ram,id=m,size=256M\n"
	       "-device pxb-cxl,bus_nr=5,id=h,window-base[0]=0x4c00000000\n",
	       3, "needs both window-base[0] and memdev[0]", NULL);
	refuse("-M cxl=on\n-object memory-backend-ram,id=m,size=256M\n"
	       "-device pxb-cxl,bus_nr=5,id=h,len-window-base=2,"
	       "window-base[0]=0x4c00000000,memdev[0]=m\n", 3,
	       "len-window-base=2 but 1", NULL);
	refuse("-M cxl=on\n-object memory-backend-ram,id=m,size=256M\n"
	       "-device pxb-cxl,bus_nr=5,id=h,window-base[0]=0x4c00001000,"
	       "memdev[0]=m\n", 3, "non-zero multiple of 256 MiB", NULL);
	refuse("-M cxl=on\n-object memory-backend-ram,id=m,size=100M\n"
	       "-device pxb-cxl,bus_nr=5,id=h,window-base[0]=0x4c00000000,"
	       "memdev[0]=m\n", 3, "takes its size from backend m", NULL);
	/* legacy windows follow the cxl-fmw ones and must not overlap them */
	f = load("-M cxl=on -m 4G,maxmem=8G,slots=8\n"
		 "-object memory-backend-ram,id=m,size=256M\n"
		 "-device pxb-cxl,bus_nr=5,id=h,window-base[0]=0x4c00000000,"
		 "memdev[0]=m\n"
		 "-M cxl-fmw.0.targets.0=h,cxl-fmw.0.size=1G\n");
	assert_int_equal(host(f, 0)->windows.n, 2);
	assert_false(window(host(f, 0), 0)->legacy);
	assert_true(window(host(f, 0), 1)->legacy);
	assert_int_equal(window(host(f, 0), 1)->index, 1);
	cx_fabric_free(f);
	refuse("-M cxl=on -m 4G,maxmem=8G,slots=8\n"
	       "-object memory-backend-ram,id=m,size=256M\n"
	       "-device pxb-cxl,bus_nr=5,id=h,window-base[0]=0x4a0000000,"
	       "memdev[0]=m\n"
	       "-M cxl-fmw.0.targets.0=h,cxl-fmw.0.size=1G\n", 3,
	       "-device pxb-cxl,bus_nr=5,id=h,window-base[0]=0x4a0000000,"
	       "memdev[0]=m: window 1 (0x4a0000000-0x4afffffff) overlaps "
	       "window 0 (0x490000000-0x4cfffffff, line 4)", NULL);
	/* nor lie in RAM: 4 GiB of RAM, 4 GiB + 8 x 1 GiB of hotplug */
	refuse("-M cxl=on -m 4G,maxmem=8G,slots=8\n"
	       "-object memory-backend-ram,id=m,size=256M\n"
	       "-device pxb-cxl,bus_nr=5,id=h,window-base[0]=0x480000000,"
	       "memdev[0]=m\n", 3, "window 0 at 0x480000000 lies below "
	       "0x480100000", NULL);
	f = load("-M cxl=on -m 4G,maxmem=8G,slots=8\n"
		 "-object memory-backend-ram,id=m,size=256M\n"
		 "-device pxb-cxl,bus_nr=5,id=h,window-base[0]=0x490000000,"
		 "memdev[0]=m\n");
	assert_int_equal(window(host(f, 0), 0)->base, 0x490000000ULL);
	cx_fabric_free(f);
	/* a window past 1 TiB is noted */
	f = load("-M cxl=on\n-device pxb-cxl,bus_nr=5,id=h\n"
		 "-device cxl-rp,bus=h,id=r\n"
		 "-M cxl-fmw.0.targets.0=h,cxl-fmw.0.size=1T\n");
	expect_warning(f, "t.topo:4:", "above 1 TiB");
	cx_fabric_free(f);
}

/* ------------------------------------------------------------------ */
/* the model after finalize                                             */
/* ------------------------------------------------------------------ */

static void test_naming_after_finalize(void **state)
{
	(void)state;
	struct cx_fabric *f = load(
		"-M q35,cxl=on -m 4G,maxmem=8G,slots=8\n"
		"-object memory-backend-ram,id=a,size=256M\n"
		"-object memory-backend-ram,id=b,size=256M\n"
		"-object memory-backend-ram,id=c,size=256M\n"
		"-device pxb-cxl,bus_nr=12,id=hb0\n"
		"-device pxb-cxl,bus_nr=40,id=hb1\n"
		"-device cxl-rp,bus=hb0,id=r0,port=0,slot=0\n"
		"-device cxl-rp,bus=hb0,id=r1,port=1,slot=1\n"
		"-device cxl-rp,bus=hb1,id=r2,port=0,slot=2\n"
		"-device cxl-upstream,bus=r1,id=us\n"
		"-device cxl-downstream,bus=us,id=d0,port=0,slot=3\n"
		"-device cxl-type3,bus=r2,volatile-memdev=c,id=zz\n"
		"-device cxl-type3,bus=d0,volatile-memdev=a,id=aa\n"
		"-device cxl-type3,bus=r0,volatile-memdev=b,id=mm\n"
		"-M cxl-fmw.0.targets.0=hb0,cxl-fmw.0.targets.1=hb1,"
		"cxl-fmw.0.size=4G\n");
	struct cx_host *h = host(f, 0);
	/* memN in the order of the -device cxl-type3 options */
	assert_string_equal(memdev(h, 0)->qid, "zz");
	assert_string_equal(memdev(h, 1)->qid, "aa");
	assert_string_equal(memdev(h, 2)->qid, "mm");
	for (int i = 0; i < 3; i++)
		assert_int_equal(memdev(h, i)->index, i);
	/* root0, host bridges port1-2 (the last declared first, as QEMU's
	 * DSDT lists them), the switch port3, endpoints 4-6 */
	struct cx_port *hb0 = h->hbs.v[0], *hb1 = h->hbs.v[1];
	struct cx_port *r0 = hb0->children.v[0], *r1 = hb0->children.v[1];
	struct cx_port *r2 = hb1->children.v[0];
	struct cx_port *us = r1->children.v[0], *d0 = us->children.v[0];
	assert_int_equal(hb0->port_id, 2);
	assert_int_equal(hb1->port_id, 1);
	assert_int_equal(hb0->hb_index, 1);
	assert_int_equal(hb1->hb_index, 0);
	assert_int_equal(us->port_id, 3);
	assert_int_equal(r0->port_id, -1);
	assert_int_equal(memdev(h, 0)->endpoint_id, 4);
	assert_int_equal(memdev(h, 1)->endpoint_id, 5);
	assert_int_equal(memdev(h, 2)->endpoint_id, 6);
	/* PCI buses depth first below each host bridge */
	assert_int_equal(r0->pci_bus, 12);
	assert_int_equal(r0->bus_nr, 13);
	assert_int_equal(r1->pci_dev, 1);
	assert_int_equal(r1->bus_nr, 14);
	assert_int_equal(us->pci_bus, 14);
	assert_int_equal(us->bus_nr, 15);
	assert_int_equal(d0->pci_bus, 15);
	assert_int_equal(d0->bus_nr, 16);
	assert_int_equal(r2->pci_bus, 40);
	assert_int_equal(r2->bus_nr, 41);
	assert_int_equal(memdev(h, 0)->pci_bus, 41);
	assert_int_equal(memdev(h, 1)->pci_bus, 16);
	assert_int_equal(memdev(h, 1)->depth, 3);
	assert_int_equal(memdev(h, 2)->depth, 2);
	/* the root decoder is decoder0.0 */
	struct cx_window *w = window(h, 0);
	assert_int_equal(w->dec.port_id, 0);
	assert_int_equal(w->dec.id, 0);
	assert_int_equal(w->dec.nr_targets, 2);
	assert_false(hb0->passthrough);
	assert_true(hb1->passthrough);
	cx_fabric_free(f);
}

static void test_shared_mem_paths(void **state)
{
	(void)state;
	const char *two =
		"[host a]\n"
		"-object memory-backend-file,id=m,size=256M,"
		"mem-path=/tmp/cxlemu-test-shared,share=on\n"
		"[host b]\n"
		"-object memory-backend-file,id=m,size=%s,"
		"mem-path=/tmp/cxlemu-test-shared,share=%s\n";
	char t[512];
	snprintf(t, sizeof(t), two, "256M", "on");
	struct cx_fabric *f = load(t);
	assert_int_equal(f->warnings.n, 0);
	cx_fabric_free(f);

	snprintf(t, sizeof(t), two, "512M", "on");
	refuse(t, 4, "mem-path '/tmp/cxlemu-test-shared' is shared with "
	       "backend m of host a (line 2)", "must agree on its size");

	snprintf(t, sizeof(t), two, "256M", "off");
	f = load(t);
	expect_warning(f, "t.topo:4: host b:", "private copy");
	cx_fabric_free(f);

	f = load("-object memory-backend-file,id=a,size=1G,mem-path=/tmp/z,"
		 "share=on\n-object memory-backend-file,id=b,size=1G,"
		 "mem-path=/tmp/z,share=on\n");
	expect_warning(f, "backends a and b both map '/tmp/z'", NULL);
	cx_fabric_free(f);
}

static void test_default_topology(void **state)
{
	(void)state;
	struct cx_fabric *f = NULL;
	cx_err e;
	assert_int_equal(cx_config_load_text("default", cx_default_topology,
					     &f, &e), 0);
	assert_int_equal(f->hosts.n, 2);
	assert_int_equal(f->warnings.n, 0);
	for (int i = 0; i < 2; i++) {
		struct cx_host *h = host(f, i);
		assert_string_equal(h->name, i ? "host2" : "host1");
		assert_int_equal(h->memdevs.n, 1);
		struct cx_memdev *m = memdev(h, 0);
		assert_string_equal(m->qid, "cxl-mem0");
		assert_int_equal(m->vmem_size, 256 * MIB);
		assert_string_equal(m->vmem_be->mem_path,
				    "/tmp/cxlemu-demo-shared.raw");
		assert_true(m->vmem_be->share);
		assert_int_equal(window(h, 0)->base, 0x390000000ULL);
		assert_int_equal(window(h, 0)->size, 4 * GIB);
		assert_int_equal(((struct cx_port *)h->hbs.v[0])->bus_nr, 52);
	}
	cx_fabric_free(f);
}

/* ------------------------------------------------------------------ */
/* files                                                                */
/* ------------------------------------------------------------------ */

static void test_topology_files(void **state)
{
	(void)state;
	const char *src = getenv("CXLEMU_SRC");
	char dir[4096];
	snprintf(dir, sizeof(dir), "%s/tests/topologies", src ? src : ".");
	DIR *d = opendir(dir);
	assert_non_null(d);
	struct dirent *de;
	int valid = 0, broken = 0;
	while ((de = readdir(d))) {
		size_t n = strlen(de->d_name);
		if (n < 6 || strcmp(de->d_name + n - 5, ".topo"))
			continue;
		char path[8192];
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		struct cx_fabric *f = NULL;
		cx_err e;
		int rc = cx_config_load_file(path, &f, &e);
		if (strncmp(de->d_name, "broken-", 7)) {
			if (rc)
				print_message("%s\n", e.msg);
			assert_int_equal(rc, 0);
			assert_true(f->hosts.n >= 1);
			cx_fabric_free(f);
			valid++;
			continue;
		}
		/* broken files say what they expect on their first line */
		FILE *fp = fopen(path, "r");
		char first[512] = "";
		assert_non_null(fp);
		assert_non_null(fgets(first, sizeof(first), fp));
		fclose(fp);
		first[strcspn(first, "\n")] = 0;
		assert_true(!strncmp(first, "# expect: ", 10));
		assert_true(rc < 0);
		assert_null(f);
		assert_non_null(strstr(e.msg, path));
		if (!strstr(e.msg, first + 10)) {
			print_message("%s: '%s' lacks '%s'\n", path, e.msg,
				      first + 10);
			fail();
		}
		broken++;
	}
	closedir(d);
	/* 5 documentation examples, seeds 000-003 */
	assert_true(valid >= 11);
	assert_true(broken >= 1);
}

static void test_seed_files_model(void **state)
{
	(void)state;
	const char *src = getenv("CXLEMU_SRC");
	char path[4096];
	struct cx_fabric *f;
	cx_err e;

	snprintf(path, sizeof(path), "%s/tests/topologies/"
		 "qemu-doc-2hb-interleave.topo", src ? src : ".");
	assert_int_equal(cx_config_load_file(path, &f, &e), 0);
	struct cx_host *h = host(f, 0);
	assert_int_equal(h->memdevs.n, 4);
	assert_int_equal(window(h, 0)->ways, 2);
	assert_int_equal(window(h, 0)->gran, 8192);
	assert_int_equal(window(h, 0)->base, 0x490000000ULL);
	for (int i = 0; i < 4; i++) {
		assert_int_equal(memdev(h, i)->pmem_size, 256 * MIB);
		assert_int_equal(memdev(h, i)->lsa_size, 256 * MIB);
	}
	cx_fabric_free(f);

	snprintf(path, sizeof(path), "%s/tests/topologies/"
		 "seed003-numa-setup.topo", src ? src : ".");
	assert_int_equal(cx_config_load_file(path, &f, &e), 0);
	h = host(f, 0);
	assert_int_equal(h->ram_size, 64 * GIB);
	assert_int_equal(memdev(h, 0)->vmem_size, 19 * GIB);
	assert_string_equal(h->words.v[0], "taskset");
	expect_warning(f, "NUMA node", NULL);
	cx_fabric_free(f);

	snprintf(path, sizeof(path), "%s/tests/topologies/"
		 "seed000-shared-lab.topo", src ? src : ".");
	assert_int_equal(cx_config_load_file(path, &f, &e), 0);
	assert_int_equal(f->hosts.n, 2);
	assert_string_equal(memdev(host(f, 0), 0)->vmem_be->mem_path,
			    memdev(host(f, 1), 0)->vmem_be->mem_path);
	assert_int_equal(window(host(f, 1), 0)->base, 0x390000000ULL);
	cx_fabric_free(f);
}

static void test_load_file_errors(void **state)
{
	(void)state;
	struct cx_fabric *f = (void *)1;
	cx_err e;
	assert_true(cx_config_load_file("/nonexistent/x.topo", &f, &e) < 0);
	assert_null(f);
	assert_non_null(strstr(e.msg, "/nonexistent/x.topo"));
	assert_non_null(strstr(e.msg, "cannot open"));

	char tmpl[] = "/tmp/cxlemu-test-topoXXXXXX";
	int fd = mkstemp(tmpl);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "-m 1G\0x", 7), 7);
	close(fd);
	assert_true(cx_config_load_file(tmpl, &f, &e) < 0);
	assert_non_null(strstr(e.msg, "NUL byte"));
	unlink(tmpl);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_base_loads),
		cmocka_unit_test(test_quotes_comments_continuations),
		cmocka_unit_test(test_flattened_paste),
		cmocka_unit_test(test_unterminated_quotes),
		cmocka_unit_test(test_line_of_option_word),
		cmocka_unit_test(test_host_sections),
		cmocka_unit_test(test_socket_access),
		cmocka_unit_test(test_program_name),
		cmocka_unit_test(test_option_values),
		cmocka_unit_test(test_key_value_syntax),
		cmocka_unit_test(test_key_value_join),
		cmocka_unit_test(test_size_spellings),
		cmocka_unit_test(test_bool_spellings),
		cmocka_unit_test(test_memory_option),
		cmocka_unit_test(test_object_rules),
		cmocka_unit_test(test_machine_rules),
		cmocka_unit_test(test_window_rules),
		cmocka_unit_test(test_window_xor),
		cmocka_unit_test(test_window_ways),
		cmocka_unit_test(test_window_base),
		cmocka_unit_test(test_host_bridge_rules),
		cmocka_unit_test(test_root_port_rules),
		cmocka_unit_test(test_switch_rules),
		cmocka_unit_test(test_type3_rules),
		cmocka_unit_test(test_device_ids),
		cmocka_unit_test(test_other_devices),
		cmocka_unit_test(test_legacy_dialect),
		cmocka_unit_test(test_naming_after_finalize),
		cmocka_unit_test(test_shared_mem_paths),
		cmocka_unit_test(test_default_topology),
		cmocka_unit_test(test_topology_files),
		cmocka_unit_test(test_seed_files_model),
		cmocka_unit_test(test_load_file_errors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
