/*
 * lexer.c - topology files into hosts and words (see cfg.h); the words'
 * QEMU grammar is grammar.c's.
 *
 * The word splitter is a small state machine over the bytes of the file.
 * Outside quotes, whitespace and newlines end a word, `#` at the start of a
 * word comments out the rest of the line, a backslash before a newline
 * joins lines and before any other character makes it literal.  Inside
 * single quotes everything is literal; inside double quotes a backslash
 * only escapes $ ` " \ and newline, as in the shell.  Nothing is expanded:
 * `${QEMU}` stays `${QEMU}`.
 *
 * One departure from the shell: a backslash followed by blanks at the
 * start of a word is read as a line continuation.  The shell would make a
 * word of a lone space, which QEMU would refuse; in pasted documents it is
 * always a continuation with trailing blanks, or one whose newline was
 * lost when the text was flattened (`-smp 4 \ ... \ -object ...`).  Inside
 * a word (`file=my\ disk.img`) the backslash still escapes the space.
 *
 * A line whose first non-blank character is `[` is a section header and
 * must read `[host NAME]` or `[fabric]`, either followed by KEY=VALUE
 * settings: `coherency=noncoherent` for a host whose view of shared
 * memory is not coherent (CXL 2 hosts: its DAX devices start in that
 * mode; cxlemu/coherency.h), the sockets' owner, group and mode and the
 * externally shared files (access.c reads those).  Headers are recognised at the start of any
 * line that does not continue a word or a quote, even after a trailing
 * backslash: pasted scripts often end their last line with one.
 */
#include "cfg.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- a growable byte string ---- */

struct sbuf {
	char *s;
	size_t n, cap;
};

static void sb_putc(struct sbuf *b, char c)
{
	if (b->n + 2 > b->cap) {
		b->cap = b->cap ? b->cap * 2 : 64;
		b->s = cx_xrealloc(b->s, b->cap);
	}
	b->s[b->n++] = c;
	b->s[b->n] = 0;
}

static char *sb_take(struct sbuf *b)
{
	char *s = b->s ? b->s : cx_xstrdup("");
	b->s = NULL;
	b->n = b->cap = 0;
	return s;
}

/* ---- documents ---- */

static struct cfg_hostsrc *doc_add_host(struct cfg_doc *d, const char *name,
					int line)
{
	if (d->n == d->cap) {
		d->cap = d->cap ? d->cap * 2 : 4;
		d->hosts = cx_xrealloc(d->hosts, sizeof(*d->hosts) *
				       (size_t)d->cap);
	}
	struct cfg_hostsrc *h = &d->hosts[d->n++];
	memset(h, 0, sizeof(*h));
	h->name = cx_xstrdup(name);
	h->line = line;
	return h;
}

static void host_add_word(struct cfg_hostsrc *h, char *text, int line)
{
	if (h->n == h->cap) {
		h->cap = h->cap ? h->cap * 2 : 32;
		h->w = cx_xrealloc(h->w, sizeof(*h->w) * (size_t)h->cap);
	}
	h->w[h->n].text = text;
	h->w[h->n].line = line;
	h->n++;
}

static void hostsrc_free(struct cfg_hostsrc *h)
{
	for (int j = 0; j < h->n; j++)
		free(h->w[j].text);
	free(h->w);
	for (int j = 0; j < h->nattrs; j++)
		free(h->attrs[j]);
	free(h->attrs);
	free(h->name);
}

void cfg_doc_free(struct cfg_doc *d)
{
	for (int i = 0; i < d->n; i++)
		hostsrc_free(&d->hosts[i]);
	free(d->hosts);
	hostsrc_free(&d->fabric);
	memset(d, 0, sizeof(*d));
}

static bool name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.';
}

/* Does the header at s ('[') start the [fabric] section? */
static bool fabric_header(const char *s)
{
	s++;
	while (*s == ' ' || *s == '\t')
		s++;
	return !strncmp(s, "fabric", 6) &&
	       (s[6] == ']' || s[6] == ' ' || s[6] == '\t');
}

/*
 * Parse the section header that starts at text[i] (a '[').  Returns the
 * index of the newline ending the line (or the end of the text).
 */
static int parse_header(const char *file, const char *text, size_t len,
			size_t i, int line, struct cfg_doc *d, size_t *end,
			cx_err *e)
{
	size_t eol = i;
	while (eol < len && text[eol] != '\n')
		eol++;
	*end = eol;

	/* the header text, without trailing blanks or a trailing comment */
	size_t close = i;
	while (close < eol && text[close] != ']')
		close++;
	int shown = (int)(eol - i);
	if (shown > 60)
		shown = 60;
	if (close == eol)
		return cx_fail(e, EINVAL,
			       "%s:%d: '%.*s' is not a section header: a "
			       "line starting with '[' must read [host NAME]",
			       file, line, shown, text + i);
	for (size_t k = close + 1; k < eol; k++) {
		if (text[k] == '#')
			break;
		if (text[k] != ' ' && text[k] != '\t' && text[k] != '\r')
			return cx_fail(e, EINVAL,
				       "%s:%d: unexpected text after the "
				       "section header '%.*s'", file, line,
				       (int)(close + 1 - i), text + i);
	}

	/* "[host NAME KEY=VALUE...]" or "[fabric KEY=VALUE...]", with blanks
	 * allowed around the words */
	size_t p = i + 1;
	while (p < close && (text[p] == ' ' || text[p] == '\t'))
		p++;
	size_t kw = p;
	while (kw < close && text[kw] != ' ' && text[kw] != '\t')
		kw++;
	bool fabric = kw - p == 6 && !strncmp(text + p, "fabric", 6);
	if (!fabric && (kw - p != 4 || strncmp(text + p, "host", 4)))
		return cx_fail(e, EINVAL,
			       "%s:%d: '%.*s' is not a section header: the "
			       "sections are [host NAME] and [fabric]", file,
			       line, (int)(close + 1 - i), text + i);
	p = kw;
	struct cfg_hostsrc *h;
	if (fabric) {
		if (d->has_fabric)
			return cx_fail(e, EINVAL, "%s:%d: [fabric] is already "
				       "given at line %d; there is one fabric",
				       file, line, d->fabric.line);
		d->has_fabric = true;
		h = &d->fabric;
		h->name = cx_xstrdup("fabric");
		h->line = line;
	} else {
		while (p < close && (text[p] == ' ' || text[p] == '\t'))
			p++;
		size_t q = p;
		while (q < close && text[q] != ' ' && text[q] != '\t')
			q++;
		if (q == p)
			return cx_fail(e, EINVAL,
				       "%s:%d: [host] needs a name: [host NAME]",
				       file, line);
		for (size_t k = p; k < q; k++)
			if (!name_char(text[k]))
				return cx_fail(e, EINVAL,
					       "%s:%d: host name '%.*s' may "
					       "only use letters, digits, '-', "
					       "'_' and '.'", file, line,
					       (int)(q - p), text + p);
		char *name = cx_xasprintf("%.*s", (int)(q - p), text + p);
		for (int k = 0; k < d->n; k++) {
			if (!strcmp(d->hosts[k].name, name)) {
				int rc = cx_fail(e, EINVAL,
						 "%s:%d: host '%s' is already "
						 "defined at line %d; host names "
						 "must be unique", file, line,
						 name, d->hosts[k].line);
				free(name);
				return rc;
			}
		}
		h = doc_add_host(d, name, line);
		free(name);
		p = q;
	}
	/* the settings: KEY=VALUE words (access.c reads them) */
	for (;;) {
		while (p < close && (text[p] == ' ' || text[p] == '\t'))
			p++;
		if (p == close)
			break;
		size_t q = p;
		while (q < close && text[q] != ' ' && text[q] != '\t')
			q++;
		if (!memchr(text + p, '=', q - p) || text[p] == '=')
			return cx_fail(e, EINVAL, "%s:%d: '%.*s' in the section "
				       "header is not a setting: settings "
				       "read KEY=VALUE", file, line,
				       (int)(q - p), text + p);
		if (!fabric && q - p > 10 && !strncmp(text + p, "coherency=",
						       10)) {
			/* how the host sees shared memory (cxlemu/coherency.h) */
			size_t vl = q - p - 10;
			const char *v = text + p + 10;
			if (vl == 11 && !strncmp(v, "noncoherent", 11))
				h->noncoherent = true;
			else if (vl == 8 && !strncmp(v, "coherent", 8))
				h->noncoherent = false;
			else
				return cx_fail(e, EINVAL, "%s:%d: '%.*s' in the "
					       "section header: coherency is "
					       "noncoherent or coherent", file,
					       line, (int)(q - p), text + p);
			p = q;
			continue;
		}
		h->attrs = cx_xrealloc(h->attrs, sizeof(*h->attrs) *
				       (size_t)(h->nattrs + 1));
		h->attrs[h->nattrs++] = cx_xasprintf("%.*s", (int)(q - p),
						     text + p);
		p = q;
	}
	return 0;
}

int cfg_split(const char *file, const char *text, struct cfg_doc *d,
	      cx_err *e)
{
	size_t len = strlen(text), i = 0;
	int line = 1, word_line = 0;
	bool at_line_start = true, in_word = false;
	struct sbuf w = { 0 };
	struct cfg_hostsrc *cur = NULL;
	int rc = 0;

	memset(d, 0, sizeof(*d));

#define END_WORD()                                                        \
	do {                                                              \
		if (in_word) {                                            \
			if (!cur)                                         \
				cur = doc_add_host(d, "host0", 0);        \
			host_add_word(cur, sb_take(&w), word_line);       \
			in_word = false;                                  \
		}                                                         \
	} while (0)
#define START_WORD()                                                      \
	do {                                                              \
		if (!in_word) {                                           \
			in_word = true;                                   \
			word_line = line;                                 \
		}                                                         \
	} while (0)

	while (i < len) {
		if (at_line_start && !in_word) {
			size_t j = i;
			while (j < len && (text[j] == ' ' || text[j] == '\t'))
				j++;
			if (j < len && text[j] == '[') {
				if (!d->sections && d->n > 0 && d->hosts[0].n) {
					rc = cx_fail(e, EINVAL,
						     "%s:%d: '%s' comes before "
						     "the first [host NAME] "
						     "section; a file with "
						     "sections must start with "
						     "one", file,
						     d->hosts[0].w[0].line,
						     d->hosts[0].w[0].text);
					goto out;
				}
				d->sections = true;
				size_t end;
				rc = parse_header(file, text, len, j, line, d,
						  &end, e);
				if (rc)
					goto out;
				cur = fabric_header(text + j) ? &d->fabric :
				      &d->hosts[d->n - 1];
				i = end;
				continue;
			}
			at_line_start = false;
		}
		char c = text[i];
		if (c == '\n') {
			END_WORD();
			line++;
			at_line_start = true;
			i++;
			continue;
		}
		if (c == ' ' || c == '\t' || c == '\r' || c == '\f' ||
		    c == '\v') {
			END_WORD();
			i++;
			continue;
		}
		if (c == '#' && !in_word) {
			while (i < len && text[i] != '\n')
				i++;
			continue;
		}
		if (c == '\\' && !in_word && i + 1 < len &&
		    (text[i + 1] == ' ' || text[i + 1] == '\t')) {
			/* "\ " between words: a continuation whose newline
			 * was lost or followed by blanks, never a word */
			i++;
			while (i < len && (text[i] == ' ' || text[i] == '\t' ||
					   text[i] == '\r'))
				i++;
			if (i < len && text[i] == '\n') {
				i++;
				line++;
				at_line_start = true;
			}
			continue;
		}
		if (c == '\\') {
			if (i + 1 < len && text[i + 1] == '\n') {
				i += 2;
				line++;
				at_line_start = !in_word;
				continue;
			}
			if (i + 2 < len && text[i + 1] == '\r' &&
			    text[i + 2] == '\n') {
				i += 3;
				line++;
				at_line_start = !in_word;
				continue;
			}
			START_WORD();
			if (i + 1 < len)
				sb_putc(&w, text[i + 1]);
			i += 2;
			continue;
		}
		if (c == '\'') {
			int qline = line;
			START_WORD();
			if (!w.s)
				sb_putc(&w, 0), w.n = 0; /* "" is a word */
			i++;
			while (i < len && text[i] != '\'') {
				if (text[i] == '\n')
					line++;
				sb_putc(&w, text[i++]);
			}
			if (i >= len) {
				rc = cx_fail(e, EINVAL,
					     "%s:%d: the single quote opened "
					     "here is never closed", file,
					     qline);
				goto out;
			}
			i++;
			continue;
		}
		if (c == '"') {
			int qline = line;
			START_WORD();
			if (!w.s)
				sb_putc(&w, 0), w.n = 0;
			i++;
			while (i < len && text[i] != '"') {
				if (text[i] == '\\' && i + 1 < len) {
					char n = text[i + 1];
					if (n == '\n') {
						line++;
						i += 2;
						continue;
					}
					if (n == '$' || n == '`' || n == '"' ||
					    n == '\\') {
						sb_putc(&w, n);
						i += 2;
						continue;
					}
				}
				if (text[i] == '\n')
					line++;
				sb_putc(&w, text[i++]);
			}
			if (i >= len) {
				rc = cx_fail(e, EINVAL,
					     "%s:%d: the double quote opened "
					     "here is never closed", file,
					     qline);
				goto out;
			}
			i++;
			continue;
		}
		START_WORD();
		sb_putc(&w, c);
		i++;
	}
	END_WORD();
	if (d->n == 0)
		doc_add_host(d, "host0", 0);
out:
	free(w.s);
	if (rc)
		cfg_doc_free(d);
	return rc;
#undef END_WORD
#undef START_WORD
}
