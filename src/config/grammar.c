/*
 * grammar.c - QEMU's option table, the split of a command line into
 * options, and key=value lists (see grammar.h).
 *
 * The split walks the words once: the program name first, then an option
 * word, then its value when the table says it takes one.  Every decision
 * that depends on QEMU's grammar is read from the table, so the topology
 * parser and `qemu-args` cannot split one line two ways.
 */
#include "grammar.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define V CFG_OPT_VALUE
#define MOD (CFG_OPT_VALUE | CFG_OPT_MODELED)
#define FE CFG_OPT_FRONTEND

/*
 * QEMU's options, by name.  Those marked "older" or "build" are gone from
 * current releases or exist only in some builds (SDL, curses); they keep
 * their place so that old command lines split as their QEMU split them.
 */
static const struct cfg_optdef optdefs[] = {
	{ "D", V, NULL },
	{ "L", V, NULL },
	{ "M", MOD, "type" },
	{ "S", FE, NULL },
	{ "accel", V | FE, NULL },
	{ "acpitable", V, NULL },
	{ "action", V, NULL },
	{ "add-fd", V, NULL },
	{ "alt-grab", 0, NULL },              /* older, SDL builds */
	{ "append", V, NULL },
	{ "async-teardown", 0, NULL },        /* older */
	{ "audio", V, NULL },
	{ "audio-help", 0, NULL },            /* older */
	{ "audiodev", V, NULL },
	{ "balloon", V, NULL },               /* older */
	{ "bios", V, NULL },
	{ "blockdev", V, NULL },
	{ "boot", V, NULL },
	{ "bt", V, NULL },                    /* older */
	{ "cdrom", V, NULL },
	{ "chardev", V, NULL },
	{ "chroot", V, NULL },                /* older */
	{ "clock", V, NULL },                 /* older */
	{ "compat", V, NULL },
	{ "cpu", V, NULL },
	{ "ctrl-grab", 0, NULL },             /* older, SDL builds */
	{ "curses", FE, NULL },               /* curses builds */
	{ "d", V, NULL },
	{ "daemonize", FE, NULL },
	{ "debugcon", V, NULL },
	{ "device", MOD, "driver" },
	{ "dfilter", V, NULL },
	{ "display", V | FE, NULL },
	{ "drive", V, NULL },
	{ "dtb", V, NULL },
	{ "dump-vmstate", V, NULL },
	{ "echr", V, NULL },
	{ "enable-fips", 0, NULL },           /* older */
	{ "enable-hax", 0, NULL },            /* older */
	{ "enable-kvm", FE, NULL },
	{ "enable-sync-profile", 0, NULL },
	{ "fda", V, NULL },
	{ "fdb", V, NULL },
	{ "fsdev", V, NULL },
	{ "full-screen", 0, NULL },
	{ "fw_cfg", V, NULL },
	{ "g", V, NULL },
	{ "gdb", V, NULL },
	{ "global", V, NULL },
	{ "h", 0, NULL },
	{ "hda", V, NULL },
	{ "hdachs", V, NULL },                /* older */
	{ "hdb", V, NULL },
	{ "hdc", V, NULL },
	{ "hdd", V, NULL },
	{ "help", 0, NULL },
	{ "icount", V, NULL },
	{ "incoming", V, NULL },
	{ "initrd", V, NULL },
	{ "iscsi", V, NULL },
	{ "jitdump", 0, NULL },
	{ "k", V, NULL },
	{ "kernel", V, NULL },
	{ "loadvm", V, NULL },
	{ "localtime", 0, NULL },             /* older */
	{ "m", MOD, "size" },
	{ "machine", MOD, "type" },
	{ "mem-path", V, NULL },
	{ "mem-prealloc", 0, NULL },
	{ "mon", V | FE, NULL },
	{ "monitor", V | FE, NULL },
	{ "msg", V, NULL },
	{ "mtdblock", V, NULL },
	{ "name", V, NULL },
	{ "net", V, NULL },
	{ "netdev", V, NULL },
	{ "nic", V, NULL },
	{ "no-acpi", 0, NULL },               /* older */
	{ "no-fd-bootchk", 0, NULL },
	{ "no-frame", 0, NULL },              /* older, SDL builds */
	{ "no-hpet", 0, NULL },               /* older */
	{ "no-kvm", 0, NULL },                /* older */
	{ "no-kvm-irqchip", 0, NULL },        /* older */
	{ "no-kvm-pit", 0, NULL },            /* older */
	{ "no-kvm-pit-reinjection", 0, NULL },/* older */
	{ "no-quit", 0, NULL },               /* older, SDL builds */
	{ "no-reboot", 0, NULL },
	{ "no-shutdown", 0, NULL },
	{ "no-user-config", 0, NULL },
	{ "nodefaults", 0, NULL },
	{ "nodefconfig", 0, NULL },           /* older */
	{ "nographic", FE, NULL },
	{ "numa", V, "type" },
	{ "object", MOD, "qom-type" },
	{ "old-param", 0, NULL },
	{ "only-migratable", 0, NULL },
	{ "option-rom", V, NULL },
	{ "overcommit", V, NULL },
	{ "parallel", V, NULL },
	{ "perfmap", 0, NULL },
	{ "pflash", V, NULL },
	{ "pidfile", V | FE, NULL },
	{ "plugin", V, NULL },
	{ "portrait", 0, NULL },              /* older */
	{ "preconfig", 0, NULL },
	{ "prom-env", V, NULL },
	{ "qmp", V | FE, NULL },
	{ "qmp-pretty", V | FE, NULL },
	{ "qtest", V, NULL },
	{ "qtest-log", V, NULL },
	{ "readconfig", V, NULL },
	{ "realtime", V, NULL },              /* older */
	{ "rotate", V, NULL },                /* older */
	{ "rtc", V, NULL },
	{ "rtc-td-hack", 0, NULL },           /* older */
	{ "run-with", V, NULL },
	{ "runas", V, NULL },                 /* older */
	{ "s", 0, NULL },
	{ "sandbox", V, NULL },
	{ "sd", V, NULL },
	{ "sdl", FE, NULL },                  /* SDL builds */
	{ "seed", V, NULL },
	{ "semihosting", 0, NULL },
	{ "semihosting-config", V, NULL },
	{ "serial", V | FE, NULL },
	{ "set", V, NULL },
	{ "shim", V, NULL },
	{ "show-cursor", 0, NULL },           /* older */
	{ "singlestep", 0, NULL },            /* older */
	{ "smbios", V, NULL },
	{ "smp", V, "cpus" },
	{ "snapshot", 0, NULL },
	{ "soundhw", V, NULL },               /* older */
	{ "spice", V | FE, NULL },
	{ "tb-size", V, NULL },               /* older */
	{ "tpmdev", V, NULL },
	{ "trace", V, NULL },
	{ "usb", 0, NULL },
	{ "usbdevice", V, NULL },
	{ "uuid", V, NULL },
	{ "version", 0, NULL },
	{ "vga", V, NULL },
	{ "virtfs", V, NULL },
	{ "virtfs_synth", 0, NULL },          /* older */
	{ "virtioconsole", V, NULL },         /* older */
	{ "vnc", V | FE, NULL },
	{ "watchdog", V, NULL },              /* older */
	{ "watchdog-action", V, NULL },
	{ "win2k-hack", 0, NULL },
	{ "writeconfig", V, NULL },           /* older */
	{ "xen-attach", 0, NULL },
	{ "xen-create", 0, NULL },            /* older */
	{ "xen-domid", V, NULL },
	{ "xen-domid-restrict", 0, NULL },
};

#undef V
#undef MOD
#undef FE

const struct cfg_optdef *cfg_optdef_find(const char *name)
{
	for (size_t i = 0; i < CX_ARRAY_SIZE(optdefs); i++)
		if (!strcmp(optdefs[i].name, name))
			return &optdefs[i];
	return NULL;
}

int cfg_optdefs(const struct cfg_optdef **out)
{
	*out = optdefs;
	return (int)CX_ARRAY_SIZE(optdefs);
}

const char *cfg_opt_name(const char *w)
{
	if (w[0] != '-' || !w[1])
		return NULL;
	w++;
	if (*w == '-')
		w++;
	return *w ? w : NULL;
}

/* ---- words that are not options ---- */

static bool looks_like_qemu(const char *w)
{
	return strcasestr(w, "qemu") != NULL;
}

static bool looks_like_program(const char *w)
{
	static const char *const wrappers[] = {
		"sudo", "taskset", "numactl", "env", "exec", "nice", "time",
		"doas", "chrt", "ionice", "$", "#",
	};
	const char *base = strrchr(w, '/');
	base = base ? base + 1 : w;
	if (looks_like_qemu(w))
		return true;
	for (size_t i = 0; i < CX_ARRAY_SIZE(wrappers); i++)
		if (!strcmp(wrappers[i], base))
			return true;
	return false;
}

static bool is_elision(const char *w)
{
	return !strcmp(w, "...") || !strcmp(w, "\xe2\x80\xa6");
}

/* An option only QEMU takes: no wrapper program has it, so the program
 * name ends before it (numactl's -m is not QEMU's). */
static bool qemu_only(const char *name)
{
	const struct cfg_optdef *d = name ? cfg_optdef_find(name) : NULL;
	return d && (d->flags & CFG_OPT_MODELED) && strcmp(name, "m");
}

/* ---- the split ---- */

static void add_opt(struct cfg_cmdline *c, const char *name, int word,
		    int value)
{
	c->opt = cx_xrealloc(c->opt, sizeof(*c->opt) * (size_t)(c->n + 1));
	c->opt[c->n].name = name;
	c->opt[c->n].def = cfg_optdef_find(name);
	c->opt[c->n].word = word;
	c->opt[c->n].value = value;
	c->n++;
}

static void add_note(struct cfg_cmdline *c, int word, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void add_note(struct cfg_cmdline *c, int word, const char *fmt, ...)
{
	char msg[CX_ERR_MAX];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	c->note = cx_xrealloc(c->note, sizeof(*c->note) *
			      (size_t)(c->nnote + 1));
	c->note[c->nnote].word = word;
	c->note[c->nnote].msg = cx_xstrdup(msg);
	c->nnote++;
}

/* the length of the program name at the start of the line */
static int program_words(char *const *w, int n)
{
	int i = 0;

	if (!n || w[0][0] == '-')
		return 0;
	for (int k = 0; k < n; k++) {
		if (qemu_only(cfg_opt_name(w[k])))
			break;
		if (looks_like_qemu(w[k]))
			return k + 1;
	}
	while (i < n && w[i][0] != '-')
		i++;
	return i;
}

int cfg_cmdline_split(char *const *w, int n, const char *host,
		      struct cfg_cmdline *c, cx_err *e)
{
	int i;

	memset(c, 0, sizeof(*c));
	c->err_word = -1;
	c->program = i = program_words(w, n);
	while (i < n) {
		const char *t = w[i];
		const char *name = cfg_opt_name(t);
		const struct cfg_optdef *d = name ? cfg_optdef_find(name) : NULL;

		c->err_word = i;
		if (is_elision(t)) {
			add_note(c, i, "'%s' stands for options left out; it "
				 "is skipped", t);
			i++;
			continue;
		}
		if (!name) {
			if (looks_like_program(t))
				return cx_fail(e, EINVAL, "'%s' starts a second "
					       "command line inside host %s; "
					       "give each command line its own "
					       "[host NAME] section", t, host);
			return cx_fail(e, EINVAL, "'%s' is not an option (QEMU "
				       "options start with '-'); if it starts "
				       "another command line, put that under "
				       "its own [host NAME] section", t);
		}
		if (d && (d->flags & CFG_OPT_VALUE)) {
			if (i + 1 >= n)
				return cx_fail(e, EINVAL, "%s needs a value", t);
			if ((d->flags & CFG_OPT_MODELED) &&
			    w[i + 1][0] == '-' && cfg_opt_name(w[i + 1]))
				return cx_fail(e, EINVAL, "%s is followed by the "
					       "option '%s' instead of its "
					       "value", t, w[i + 1]);
			add_opt(c, name, i, i + 1);
			i += 2;
		} else if (d) {
			add_opt(c, name, i, -1);
			i++;
		} else if (i + 1 < n && !cfg_opt_name(w[i + 1]) &&
			   !is_elision(w[i + 1]) &&
			   !looks_like_program(w[i + 1])) {
			add_note(c, i, "%s is not a QEMU option cxlemu knows; "
				 "it is kept, with '%s' taken as its value", t,
				 w[i + 1]);
			add_opt(c, name, i, i + 1);
			i += 2;
		} else {
			add_note(c, i, "%s is not a QEMU option cxlemu knows; "
				 "it is kept, without a value", t);
			add_opt(c, name, i, -1);
			i++;
		}
	}
	c->err_word = -1;
	return 0;
}

void cfg_cmdline_free(struct cfg_cmdline *c)
{
	for (int i = 0; i < c->nnote; i++)
		free(c->note[i].msg);
	free(c->note);
	free(c->opt);
	memset(c, 0, sizeof(*c));
}

/* ---- key=value lists ---- */

static void kv_add(struct cfg_kvlist *l, char *key, char *val, bool bare,
		   bool implied)
{
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 8;
		l->kv = cx_xrealloc(l->kv, sizeof(*l->kv) * (size_t)l->cap);
	}
	l->kv[l->n].key = key;
	l->kv[l->n].val = val;
	l->kv[l->n].bare = bare;
	l->kv[l->n].implied = implied;
	l->n++;
}

void cfg_kvlist_free(struct cfg_kvlist *l)
{
	for (int i = 0; i < l->n; i++) {
		free(l->kv[i].key);
		free(l->kv[i].val);
	}
	free(l->kv);
	memset(l, 0, sizeof(*l));
}

const char *cfg_kv_get(const struct cfg_kvlist *l, const char *key)
{
	for (int i = l->n - 1; i >= 0; i--)
		if (!strcmp(l->kv[i].key, key))
			return l->kv[i].val;
	return NULL;
}

void cfg_kv_set(struct cfg_kvlist *l, const char *key, const char *val)
{
	for (int i = l->n - 1; i >= 0; i--) {
		struct cfg_kv *k = &l->kv[i];
		if (strcmp(k->key, key))
			continue;
		free(k->val);
		k->val = cx_xstrdup(val);
		k->bare = false;
		return;
	}
	kv_add(l, cx_xstrdup(key), cx_xstrdup(val), false, false);
}

void cfg_kv_del_at(struct cfg_kvlist *l, int i)
{
	free(l->kv[i].key);
	free(l->kv[i].val);
	memmove(&l->kv[i], &l->kv[i + 1],
		sizeof(*l->kv) * (size_t)(l->n - i - 1));
	l->n--;
}

int cfg_kv_del(struct cfg_kvlist *l, const char *key)
{
	int gone = 0;
	for (int i = l->n - 1; i >= 0; i--)
		if (!strcmp(l->kv[i].key, key)) {
			cfg_kv_del_at(l, i);
			gone++;
		}
	return gone;
}

int cfg_kv_parse(const char *s, const char *implied, struct cfg_kvlist *out,
		 cx_err *e)
{
	size_t i = 0, len = strlen(s);
	char *it = cx_xcalloc(1, len + 1);
	int item = 0, rc = 0;

	memset(out, 0, sizeof(*out));
	if (len == 0)
		rc = cx_fail(e, EINVAL, "the value is empty");
	while (!rc && i <= len) {
		size_t n = 0, eq = 0;
		bool has_eq = false;

		/* one item: up to a single comma; ",," is a literal comma */
		for (; i < len; i++) {
			if (s[i] == ',') {
				if (i + 1 < len && s[i + 1] == ',') {
					it[n++] = s[i++];
					continue;
				}
				break;
			}
			if (s[i] == '=' && !has_eq) {
				has_eq = true;
				eq = n;
			}
			it[n++] = s[i];
		}
		it[n] = 0;
		bool last = i >= len;
		i++; /* skip the comma */

		if (!has_eq && !n)
			rc = cx_fail(e, EINVAL, last ? "the value ends with a "
				     "comma (write ',,' for a literal comma)" :
				     "an empty item between two commas (write "
				     "',,' for a literal comma)");
		else if (has_eq && eq == 0)
			rc = cx_fail(e, EINVAL, "'%s' has no name before '='",
				     it);
		else if (has_eq)
			kv_add(out, cx_xasprintf("%.*s", (int)eq, it),
			       cx_xstrdup(it + eq + 1), false, false);
		else if (item == 0 && implied)
			kv_add(out, cx_xstrdup(implied), cx_xstrdup(it), false,
			       true);
		else
			kv_add(out, cx_xstrdup(it), cx_xstrdup("on"), true,
			       false);
		item++;
		if (last)
			break;
	}
	free(it);
	if (rc)
		cfg_kvlist_free(out);
	return rc;
}

/* append s with its commas doubled */
static void put_escaped(char *buf, size_t *len, const char *s)
{
	for (; *s; s++) {
		buf[(*len)++] = *s;
		if (*s == ',')
			buf[(*len)++] = ',';
	}
}

char *cfg_kv_join(const struct cfg_kvlist *l)
{
	size_t cap = 1, len = 0;
	for (int i = 0; i < l->n; i++)
		cap += 2 * (strlen(l->kv[i].key) + strlen(l->kv[i].val)) + 2;
	char *buf = cx_xcalloc(1, cap);

	for (int i = 0; i < l->n; i++) {
		const struct cfg_kv *k = &l->kv[i];
		if (i)
			buf[len++] = ',';
		if (!k->implied)
			put_escaped(buf, &len, k->key);
		if (!k->implied && !k->bare)
			buf[len++] = '=';
		if (!k->bare)
			put_escaped(buf, &len, k->val);
	}
	buf[len] = 0;
	return buf;
}
