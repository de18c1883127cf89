/*
 * cfg.h - private to the config layer: the lexical step between a
 * topology file and the model (QEMU's grammar for the words is in
 * grammar.h).
 *
 * cfg_split() cuts the file into hosts and shell words: `[host NAME]`
 * sections, `#` comments, single and double quotes, backslash escapes and
 * continuations.  Every word remembers the line it starts on, so errors
 * can point at it.  A newline inside a host section is only whitespace:
 * the whole section is one command line.
 */
#ifndef CXLEMU_CONFIG_CFG_H
#define CXLEMU_CONFIG_CFG_H

#include <stdbool.h>

#include "grammar.h"
#include "model/model.h"
#include "util/util.h"

struct cfg_word {
	char *text;                 /* after quote removal */
	int line;                   /* where the word starts */
};

struct cfg_hostsrc {
	char *name;
	int line;                   /* of `[host NAME]`; 0 when implicit */
	bool noncoherent;           /* [host NAME coherency=noncoherent] */
	struct cfg_word *w;
	int n, cap;
	char **attrs;               /* KEY=VALUE words after the name */
	int nattrs;
};

struct cfg_doc {
	struct cfg_hostsrc *hosts;
	int n, cap;
	bool sections;              /* the file used [host NAME] */
	struct cfg_hostsrc fabric;  /* `[fabric KEY=VALUE...]`: settings of
				       the fabric itself; it holds no words */
	bool has_fabric;
};

/* Split `text` (named `file` in messages).  On error returns -EINVAL and
 * fills e with "file:line: what is wrong". */
int cfg_split(const char *file, const char *text, struct cfg_doc *doc,
	      cx_err *e);
void cfg_doc_free(struct cfg_doc *doc);

/* The settings of the section headers (access.c): who may open each
 * socket, which backing files are shared outside the fabric. */
int cfg_apply_headers(const char *file, const struct cfg_doc *doc,
		      struct cx_fabric *f, cx_err *e);

#endif
