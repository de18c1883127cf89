/*
 * grammar.h - QEMU's command-line grammar, written down once: which
 * options take a value, and how a command line's words become options.
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

#endif
