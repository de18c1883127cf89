/*
 * cfg.h - private to the config layer: the two lexical steps between a
 * topology file and the model.
 *
 * cfg_split() cuts the file into hosts and shell words: `[host NAME]`
 * sections, `#` comments, single and double quotes, backslash escapes and
 * continuations.  Every word remembers the line it starts on, so errors
 * can point at it.  A newline inside a host section is only whitespace:
 * the whole section is one command line.
 *
 * cfg_kv_parse() splits one QEMU option value, `key=val,key=val`, the way
 * QEMU's option parsers do: `,,` is a literal comma, the first item without
 * `=` is the implied key (the driver of -device, the type of -object and
 * -machine, the size of -m), and a later bare `key` means `key=on`.
 */
#ifndef CXLEMU_CONFIG_CFG_H
#define CXLEMU_CONFIG_CFG_H

#include <stdbool.h>

#include "util/util.h"

struct cfg_word {
	char *text;                 /* after quote removal */
	int line;                   /* where the word starts */
};

struct cfg_hostsrc {
	char *name;
	int line;                   /* of `[host NAME]`; 0 when implicit */
	struct cfg_word *w;
	int n, cap;
};

struct cfg_doc {
	struct cfg_hostsrc *hosts;
	int n, cap;
	bool sections;              /* the file used [host NAME] */
};

/* Split `text` (named `file` in messages).  On error returns -EINVAL and
 * fills e with "file:line: what is wrong". */
int cfg_split(const char *file, const char *text, struct cfg_doc *doc,
	      cx_err *e);
void cfg_doc_free(struct cfg_doc *doc);

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

#endif
