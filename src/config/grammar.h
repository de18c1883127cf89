/*
 * grammar.h - QEMU's command-line grammar, written down once: which
 * options take a value, how a command line's words become options, and
 * how an option's `key=val,...` value is read and written back.
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

#endif
