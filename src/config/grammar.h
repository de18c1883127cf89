/*
 * grammar.h - QEMU's command-line grammar, written down once: which
 * options take a value, how a command line's words become options, how
 * an option's `key=val,...` value is read and written back, and the
 * properties of the devices and objects cxlemu models (grammar.c has the
 * options and lists, props.c the properties).
 * The topology parser (config/) builds the fabric from these options and
 * `qemu-args` (qemu/) re-emits them; both split a line here, so what
 * `cxlemu check` accepts is exactly what `qemu-args` prints.
 *
 * The option table holds QEMU's facts (qemu-options.hx: DEF(name, HAS_ARG
 * or 0, ...)), checked against the 7.2 and 10.0 binaries: an option with
 * a value takes the next word whatever it is, an option without one never
 * does.  Options of other releases or builds (-sdl, -curses, -no-hpet,
 * ...) are kept, so that pasted command lines of any era split the way
 * the QEMU they were written for splits them.
 */
#ifndef CXLEMU_CONFIG_GRAMMAR_H
#define CXLEMU_CONFIG_GRAMMAR_H

#include <stdbool.h>

#include "util/util.h"

/* ---- the option table ---- */

enum {
	CFG_OPT_VALUE = 1 << 0,   /* takes the next word as its value */
	CFG_OPT_MODELED = 1 << 1, /* builds the fabric: its value must not
				     be an option word */
	CFG_OPT_FRONTEND = 1 << 2,/* display, monitor, daemon or
				     accelerator: how QEMU is run and seen,
				     not the machine */
};

struct cfg_optdef {
	const char *name;         /* without the dash: "device", "S" */
	unsigned flags;           /* CFG_OPT_* */
	const char *implied;      /* a key=value list whose first bare item
				     is this key ("driver" for -device);
				     NULL for other values */
};

/* The row of option NAME (without dashes), or NULL when QEMU has none. */
const struct cfg_optdef *cfg_optdef_find(const char *name);
/* The whole table (for tests that walk it); returns its length. */
int cfg_optdefs(const struct cfg_optdef **out);
/* The option a word names: "-device" and "--device" are "device"; NULL
 * when the word is not an option ("x", "-", "--"). */
const char *cfg_opt_name(const char *word);

/* ---- a command line, split into options ---- */

struct cfg_opt {
	const char *name;         /* points into the option's word */
	const struct cfg_optdef *def; /* NULL: not an option QEMU has */
	int word;                 /* index of the option's word */
	int value;                /* index of its value's word, -1: none */
};

struct cfg_note {
	int word;                 /* the word the note is about */
	char *msg;
};

struct cfg_cmdline {
	struct cfg_opt *opt;
	int n;
	int program;              /* leading words naming the program */
	struct cfg_note *note;    /* accepted input worth a remark */
	int nnote;
	int err_word;             /* on failure: the word that is wrong */
};

/*
 * Split the words of one host's command line.  Leading words that are not
 * options are the program (`sudo qemu-system-x86_64`, or a wrapper such as
 * `numactl -m 0 ${QEMU}` up to the word naming QEMU); "..." stands for
 * options left out and is skipped with a note.  An option QEMU does not
 * have is kept with a note, taking the next word as its value when that
 * word is not an option.  HOST names the host in messages.  On error
 * returns -EINVAL, sets out->err_word and fills e without a location;
 * the caller adds one.  Free with cfg_cmdline_free either way.
 */
int cfg_cmdline_split(char *const *words, int n, const char *host,
		      struct cfg_cmdline *out, cx_err *e);
void cfg_cmdline_free(struct cfg_cmdline *c);

/* ---- option values: key=value lists ---- */

/*
 * cfg_kv_parse() splits one option value, `key=val,key=val`, the way
 * QEMU's option parsers do: `,,` is a literal comma, the first item
 * without `=` is the implied key (the driver of -device, the type of
 * -object and -machine, the size of -m), and a later bare `key` means
 * `key=on`.  cfg_kv_join() writes a list back so that it parses the same.
 */
struct cfg_kv {
	char *key;
	char *val;
	bool bare;                  /* written as `key`, read as key=on */
	bool implied;               /* the value of the implied key */
};

struct cfg_kvlist {
	struct cfg_kv *kv;
	int n, cap;
};

/* Parse one option value.  `implied` names the key of a leading item
 * without `=` (NULL: none).  On error returns -EINVAL and fills e with a
 * message that names the offending item (no location). */
int cfg_kv_parse(const char *s, const char *implied, struct cfg_kvlist *out,
		 cx_err *e);
void cfg_kvlist_free(struct cfg_kvlist *l);
/* The value of `key` (the last one given), or NULL. */
const char *cfg_kv_get(const struct cfg_kvlist *l, const char *key);
/* Give `key` the value `val`: the last item with that key, or a new one
 * at the end. */
void cfg_kv_set(struct cfg_kvlist *l, const char *key, const char *val);
/* Remove item i, or every item with `key` (returns how many). */
void cfg_kv_del_at(struct cfg_kvlist *l, int i);
int cfg_kv_del(struct cfg_kvlist *l, const char *key);
/* The list as QEMU reads it: items joined by ',', commas in keys and
 * values doubled, implied and bare items written as they were given.
 * The caller frees the string. */
char *cfg_kv_join(const struct cfg_kvlist *l);

/* ---- properties of the modeled devices, backends and machine ---- */

enum cfg_ptype {
	CFG_PT_STR, CFG_PT_BOOL, CFG_PT_U8, CFG_PT_U16, CFG_PT_U32,
	CFG_PT_U64, CFG_PT_SIZE,
	CFG_PT_LINK,                /* the id of a memory backend */
	CFG_PT_ADDR,                /* PCI slot[.function] */
};

enum {
	CFG_PROP_LEGACY = 1 << 0,   /* the 2021 cxl-2.0v4 development branch:
				       never in a QEMU release */
	CFG_PROP_INDEXED = 1 << 1,  /* written name[N]: window-base[0] */
	CFG_PROP_ANY_QEMU = 1 << 2, /* qdev takes it on every device; a
				       probed `-device T,help` need not
				       list it */
};

struct cfg_prop {
	const char *name;
	enum cfg_ptype type;
	const char *note;           /* kept but not modeled: why (a warning) */
	const char *since;          /* the QEMU release that brought it,
				       when newer than its device */
	unsigned flags;             /* CFG_PROP_* */
};

/* A device driver or object type cxlemu models, and its properties. */
struct cfg_type {
	const char *name;           /* "cxl-type3", "memory-backend-file" */
	const char *since;          /* QEMU release that brought it */
	const struct cfg_prop *const *tables; /* most specific first; each
				       ends with a NULL name */
	int ntables;
};

/* The type named `name`, or NULL when cxlemu does not model it. */
const struct cfg_type *cfg_type_find(const char *name);
/* Property `key` of type `name` (window-base[3] matches window-base[N]);
 * NULL when it has none. */
const struct cfg_prop *cfg_prop_find(const char *name, const char *key);
/* Keys every -device or -object takes beside its properties: id, bus,
 * driver, qom-type. */
bool cfg_generic_key(const char *key);
/* Check `val` against the property's type; on error returns -EINVAL and
 * fills e with a message naming "OWNER property 'NAME'" (no location). */
int cfg_prop_check(const struct cfg_prop *p, const char *owner,
		   const char *val, cx_err *e);
/* "name[3]" with base "name" -> 3; false for anything else. */
bool cfg_indexed_key(const char *key, const char *base, int *idx);
/* A -machine property QEMU has that cxlemu keeps without modeling it. */
bool cfg_machine_prop_kept(const char *key);
/* A -machine key that is cxlemu's own, with no QEMU equivalent:
 * cxl-fmw.N.interleave-arithmetic and cxl-fmw.N.xormap.K (qemu-args
 * leaves them out). */
bool cfg_machine_key_cxlemu_only(const char *key);

#endif
