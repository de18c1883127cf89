/*
 * messages.c - how the topology parser speaks: every error reads
 * "FILE:LINE: OPTION AS WRITTEN: what is wrong (the rule)", every warning
 * "FILE:LINE: note" ("FILE:LINE: host NAME: note" in a file with
 * sections); and the property checks all steps share (types from
 * config/props.c, unsigned properties with defaults).
 */
#include "topo.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* ------------------------------------------------------------------ */
/* messages                                                              */
/* ------------------------------------------------------------------ */

static int verr(struct hctx *x, int line, const struct copt *o,
		const char *fmt, va_list ap)
{
	char msg[CX_ERR_MAX];
	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (!o)
		return cx_fail(x->c->e, EINVAL, "%s:%d: %s", x->c->file, line,
			       msg);
	size_t tl = strlen(o->text);
	return cx_fail(x->c->e, EINVAL, "%s:%d: %.*s%s: %s", x->c->file,
		       o->line, OPT_SHOWN, o->text,
		       tl > OPT_SHOWN ? "..." : "", msg);
}

/* error about option o: "file:line: -opt value: message" */
int oerr(struct hctx *x, const struct copt *o, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int rc = verr(x, o->line, o, fmt, ap);
	va_end(ap);
	return rc;
}

/* error at a line, not about one option */
int lerr(struct hctx *x, int line, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int rc = verr(x, line, NULL, fmt, ap);
	va_end(ap);
	return rc;
}

/* an error from a util parser, placed at option o */
int perr(struct hctx *x, const struct copt *o, const cx_err *t)
{
	return oerr(x, o, "%s", t->msg);
}

void cwarn(struct ctx *c, const char *host, int line, const char *fmt, ...)
{
	char msg[CX_ERR_MAX];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (c->sections && host)
		cx_vec_push(&c->f->warnings,
			    cx_xasprintf("%s:%d: host %s: %s", c->file, line,
					 host, msg));
	else
		cx_vec_push(&c->f->warnings,
			    cx_xasprintf("%s:%d: %s", c->file, line, msg));
}

/* ------------------------------------------------------------------ */
/* properties                                                            */
/* ------------------------------------------------------------------ */

/* an unsigned property with a default */
int get_uint(struct hctx *x, const struct copt *o,
	     const struct cfg_kvlist *kv, const char *owner,
	     const char *key, uint64_t max, uint64_t def, uint64_t *out)
{
	const char *s = cfg_kv_get(kv, key);
	cx_err t;
	char what[160];

	*out = def;
	if (!s)
		return 0;
	snprintf(what, sizeof(what), "%s property '%s'", owner, key);
	if (cx_parse_u64(s, out, what, &t))
		return perr(x, o, &t);
	if (*out > max)
		return oerr(x, o, "%s: %s is out of range (0 to %llu)", what, s,
			    (unsigned long long)max);
	return 0;
}

/* the current properties of a table, for a message */
static void list_props(char *buf, size_t n, const struct cfg_prop *t)
{
	size_t used = 0;
	buf[0] = 0;
	for (; t && t->name && used + 2 < n; t++) {
		if (t->flags & CFG_PROP_INDEXED)
			continue;
		int k = snprintf(buf + used, n - used, "%s%s",
				 used ? ", " : "", t->name);
		if (k < 0)
			break;
		used += (size_t)k;
	}
}

/*
 * Check every key of a modeled device or object against its type's
 * properties (config/props.c): unknown keys are errors, values must have
 * the property's type, kept properties that change QEMU's behaviour get
 * a warning.
 */
int check_props(struct hctx *x, const struct copt *o,
		const struct cfg_kvlist *kv, const char *owner,
		const char *id)
{
	const struct cfg_type *type = cfg_type_find(owner);

	for (int i = 0; i < kv->n; i++) {
		const struct cfg_kv *k = &kv->kv[i];
		const struct cfg_prop *p;
		cx_err t;

		for (int j = i + 1; j < kv->n; j++)
			if (!strcmp(kv->kv[j].key, k->key))
				return oerr(x, o, "'%s' is given twice",
					    k->key);
		if (k->implied || cfg_generic_key(k->key))
			continue;
		if (!(p = cfg_prop_find(owner, k->key))) {
			char known[600];
			list_props(known, sizeof(known), type->tables[0]);
			return oerr(x, o, "%s has no property '%s' (its "
				    "properties include %s)", owner, k->key,
				    known);
		}
		if (cfg_prop_check(p, owner, k->val, &t))
			return perr(x, o, &t);
		if (p->note)
			WARN(x, o->line, "%s %s: %s=%s is kept but not "
			     "modeled: %s", owner, id, k->key, k->val,
			     p->note);
	}
	return 0;
}
