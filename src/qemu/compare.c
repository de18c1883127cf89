/*
 * compare.c - a guest's `cxl list` against cxlemu's listing of the same
 * topology, difference by difference.
 *
 * The guest names memdevs, ports, endpoints and decoders in probe order;
 * cxlemu names them in command-line order.  So the guest's names are first
 * rewritten to cxlemu's through what both agree on, the PCI buses QEMU
 * hands out: a memdev by the bus of its PCI device ("host"), an endpoint by
 * its memdev, a host bridge port by a memdev below it, a switch port by its
 * upstream port's bus, a decoder by its port.  Then the two JSON trees are
 * walked together: objects key by key, arrays of named objects by name (or
 * position / port id), scalars by value.  A memdev's "host" (cxlemu's is
 * the device's id=) and region UUIDs (random on both sides) are compared
 * by presence only; port, dport and target names by value.
 */
#include "qemu.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct rename {
	char *from, *to;
};

struct cmp {
	struct cx_host *h;
	cx_vec renames;      /* struct rename * */
	cx_vec *diffs;
	int ndiff;
};

static void add_rename(struct cmp *c, const char *from, const char *to)
{
	for (int i = 0; i < c->renames.n; i++)
		if (!strcmp(((struct rename *)c->renames.v[i])->from, from))
			return;
	struct rename *r = cx_xcalloc(1, sizeof(*r));
	r->from = cx_xstrdup(from);
	r->to = cx_xstrdup(to);
	cx_vec_push(&c->renames, r);
}

static const char *renamed(struct cmp *c, const char *from)
{
	for (int i = 0; i < c->renames.n; i++) {
		struct rename *r = c->renames.v[i];
		if (!strcmp(r->from, from))
			return r->to;
	}
	return NULL;
}

static void diff(struct cmp *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void diff(struct cmp *c, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	cx_vec_vpushf(c->diffs, fmt, ap);
	va_end(ap);
	c->ndiff++;
}

/* "0000:0d:00.0" -> 0x0d; "pci0000:0c" -> 0x0c; -1 otherwise */
static int pci_bus_of(const char *s)
{
	unsigned dom, bus, dev, fn;
	if (s && sscanf(s, "%x:%x:%x.%x", &dom, &bus, &dev, &fn) == 4)
		return (int)bus;
	if (s && sscanf(s, "pci%x:%x", &dom, &bus) == 2)
		return (int)bus;
	return -1;
}

static const char *jstr(struct json_object *o, const char *key)
{
	struct json_object *v;
	if (!json_object_is_type(o, json_type_object) ||
	    !json_object_object_get_ex(o, key, &v) ||
	    !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

static struct cx_memdev *memdev_on_bus(struct cx_host *h, int bus)
{
	for (int i = 0; i < h->memdevs.n; i++) {
		struct cx_memdev *m = h->memdevs.v[i];
		if (m->pci_bus == bus)
			return m;
	}
	return NULL;
}

/*
 * Pass 0: Linux 6.12 names a host bridge's CXL port, root dport and root
 * decoder target after its PCI root (pci0000:BB) with the ACPI device
 * (ACPI0016:NN) as alias; 6.1, and cxlemu, the other way round.  Rewrite
 * the guest's to 6.1's form, so the rest compares by value; returns how
 * many were rewritten.
 */
static int hb_names_61(struct json_object *o, struct json_object *map)
{
	int n = 0;
	if (json_object_is_type(o, json_type_array)) {
		for (size_t i = 0; i < json_object_array_length(o); i++)
			n += hb_names_61(json_object_array_get_idx(o, i), map);
		return n;
	}
	if (!json_object_is_type(o, json_type_object))
		return 0;
	static const char *const named[] = {"dport", "target"};
	const char *alias = jstr(o, "alias");
	for (int k = 0; k < 2; k++) {
		const char *v = jstr(o, named[k]);
		if (!v || !alias || strncmp(v, "pci", 3) ||
		    strncmp(alias, "ACPI0016:", 9))
			continue;
		char *pci = cx_xstrdup(v), *acpi = cx_xstrdup(alias);
		if (map)
			json_object_object_add(map, pci,
					       json_object_new_string(acpi));
		json_object_object_add(o, named[k], json_object_new_string(acpi));
		json_object_object_add(o, "alias", json_object_new_string(pci));
		free(pci);
		free(acpi);
		n++;
	}
	const char *host = jstr(o, "host");
	struct json_object *to;
	if (map && jstr(o, "port") && host && !strncmp(host, "pci", 3) &&
	    json_object_object_get_ex(map, host, &to)) {
		json_object_object_add(o, "host", json_object_get(to));
		n++;
	}
	json_object_object_foreach(o, k, v) {
		(void)k;
		n += hb_names_61(v, map);
	}
	return n;
}

/* pass 1: memdevs by their PCI bus */
static void map_memdevs(struct cmp *c, struct json_object *o)
{
	if (json_object_is_type(o, json_type_array)) {
		for (size_t i = 0; i < json_object_array_length(o); i++)
			map_memdevs(c, json_object_array_get_idx(o, i));
		return;
	}
	if (!json_object_is_type(o, json_type_object))
		return;
	const char *m = jstr(o, "memdev"), *host = jstr(o, "host");
	int bus = pci_bus_of(host);
	if (m && bus >= 0) {
		struct cx_memdev *md = memdev_on_bus(c->h, bus);
		char to[32];
		if (md) {
			snprintf(to, sizeof(to), "mem%d", md->index);
			add_rename(c, m, to);
		} else {
			diff(c, "guest %s sits on PCI bus 0x%02x, where cxlemu has "
			     "no memdev", m, bus);
		}
	}
	json_object_object_foreach(o, k, v) {
		(void)k;
		map_memdevs(c, v);
	}
}

/* the first memdev name at or below o */
static const char *first_memdev(struct json_object *o)
{
	if (json_object_is_type(o, json_type_array)) {
		for (size_t i = 0; i < json_object_array_length(o); i++) {
			const char *m = first_memdev(json_object_array_get_idx(o, i));
			if (m)
				return m;
		}
		return NULL;
	}
	if (!json_object_is_type(o, json_type_object))
		return NULL;
	if (jstr(o, "memdev"))
		return jstr(o, "memdev");
	json_object_object_foreach(o, k, v) {
		(void)k;
		const char *m = first_memdev(v);
		if (m)
			return m;
	}
	return NULL;
}

static struct cx_memdev *cx_memdev_named(struct cx_host *h, const char *n)
{
	int idx;
	if (!n || sscanf(n, "mem%d", &idx) != 1 || idx < 0 || idx >= h->memdevs.n)
		return NULL;
	return h->memdevs.v[idx];
}

/* pass 2: ports and endpoints */
static void map_ports(struct cmp *c, struct json_object *o)
{
	if (json_object_is_type(o, json_type_array)) {
		for (size_t i = 0; i < json_object_array_length(o); i++)
			map_ports(c, json_object_array_get_idx(o, i));
		return;
	}
	if (!json_object_is_type(o, json_type_object))
		return;
	const char *port = jstr(o, "port"), *ep = jstr(o, "endpoint");
	const char *host = jstr(o, "host");
	char to[32];
	if (ep && host) {
		const char *m = renamed(c, host);
		struct cx_memdev *md = cx_memdev_named(c->h, m);
		if (md) {
			snprintf(to, sizeof(to), "endpoint%d", md->endpoint_id);
			add_rename(c, ep, to);
		}
	}
	if (port && host) {
		struct cx_port *p = NULL;
		int bus = pci_bus_of(host);
		if (!strncmp(host, "ACPI0016:", 9)) {
			/* a host bridge: the one above a memdev below it */
			struct cx_memdev *md = cx_memdev_named(
				c->h, renamed(c, first_memdev(o) ? first_memdev(o) : ""));
			p = md ? cx_memdev_hb(md) : NULL;
			if (!p) {
				/* no memdev listed below: by ACPI order */
				int idx = atoi(host + 9);
				if (idx >= 0 && idx < c->h->hbs.n)
					p = c->h->hbs.v[idx];
			}
		} else if (!strncmp(host, "pci", 3) && bus >= 0) {
			/* a host bridge as Linux 6.12 names it: its root bus */
			for (int i = 0; i < c->h->hbs.n; i++) {
				struct cx_port *q = c->h->hbs.v[i];
				if ((q->bus_nr & 0xff) == bus)
					p = q;
			}
		} else if (bus >= 0) {
			for (int i = 0; i < c->h->ports.n; i++) {
				struct cx_port *q = c->h->ports.v[i];
				if (q->kind == CX_PORT_USP && q->pci_bus == bus)
					p = q;
			}
		}
		if (p && p->port_id >= 0) {
			snprintf(to, sizeof(to), "port%d", p->port_id);
			add_rename(c, port, to);
		}
	}
	json_object_object_foreach(o, k, v) {
		(void)k;
		map_ports(c, v);
	}
}

/* Rewrite every name token in s: memN, portN, endpointN, decoderN.M. */
static char *rewrite(struct cmp *c, const char *s)
{
	static const char *const pfx[] = {"endpoint", "decoder", "port", "mem",
					  NULL};
	size_t cap = strlen(s) * 2 + 32, len = 0;
	char *out = cx_xcalloc(1, cap);

	for (const char *p = s; *p;) {
		int matched = 0;
		bool word_start = p == s || !isalnum((unsigned char)p[-1]);
		for (int i = 0; word_start && pfx[i] && !matched; i++) {
			size_t pl = strlen(pfx[i]);
			if (strncmp(p, pfx[i], pl) || !isdigit((unsigned char)p[pl]))
				continue;
			const char *q = p + pl;
			while (isdigit((unsigned char)*q))
				q++;
			char tok[64];
			size_t tl = (size_t)(q - p);
			if (tl >= sizeof(tok))
				continue;
			memcpy(tok, p, tl);
			tok[tl] = 0;
			const char *to = NULL;
			char buf[64];
			if (!strcmp(pfx[i], "decoder")) {
				/* decoderX.Y: rename the port X */
				int x = atoi(tok + 7);
				char pn[32];
				snprintf(pn, sizeof(pn), "port%d", x);
				const char *rp = renamed(c, pn);
				if (!rp) {
					snprintf(pn, sizeof(pn), "endpoint%d", x);
					rp = renamed(c, pn);
				}
				if (rp) {
					const char *num = rp + strcspn(rp, "0123456789");
					snprintf(buf, sizeof(buf), "decoder%s", num);
					to = buf;
				}
			} else {
				to = renamed(c, tok);
			}
			if (!to)
				to = tok;
			size_t n = strlen(to);
			if (len + n + 2 >= cap) {
				cap = (len + n) * 2 + 32;
				out = cx_xrealloc(out, cap);
			}
			memcpy(out + len, to, n);
			len += n;
			p = q;
			matched = 1;
		}
		if (!matched) {
			if (len + 2 >= cap) {
				cap *= 2;
				out = cx_xrealloc(out, cap);
			}
			out[len++] = *p++;
		}
	}
	out[len] = 0;
	return out;
}

static struct json_object *rewrite_tree(struct cmp *c, struct json_object *o)
{
	if (json_object_is_type(o, json_type_array)) {
		struct json_object *a = json_object_new_array();
		for (size_t i = 0; i < json_object_array_length(o); i++)
			json_object_array_add(a, rewrite_tree(
				c, json_object_array_get_idx(o, i)));
		return a;
	}
	if (json_object_is_type(o, json_type_object)) {
		struct json_object *n = json_object_new_object();
		json_object_object_foreach(o, k, v) {
			char *nk = rewrite(c, k);
			json_object_object_add(n, nk, rewrite_tree(c, v));
			free(nk);
		}
		return n;
	}
	if (json_object_is_type(o, json_type_string)) {
		char *s = rewrite(c, json_object_get_string(o));
		struct json_object *r = json_object_new_string(s);
		free(s);
		return r;
	}
	return json_object_get(o);
}

/* ---- the walk ---- */

/* Values compared by presence only: a memdev's "host" (cxlemu prints the
 * device's id= there, by design) and region UUIDs (random on both sides).
 * Port, dport and target names are QEMU's PCI and ACPI numbering, which
 * cxlemu models: they are compared by value. */
static bool name_only(const char *key, struct json_object *obj)
{
	return !strcmp(key, "uuid") ||
	       (!strcmp(key, "host") &&
		json_object_object_get_ex(obj, "memdev", NULL) &&
		!json_object_object_get_ex(obj, "endpoint", NULL));
}

/* the identity of an array element: "memdev:mem0", "position:2" */
static char *ident(struct json_object *o)
{
	static const char *const keys[] = {
		"endpoint", "port", "bus", "decoder", "region", "memdev",
		"position", "id", "chardev", NULL,
	};
	if (!json_object_is_type(o, json_type_object))
		return NULL;
	for (int i = 0; keys[i]; i++) {
		struct json_object *v;
		if (json_object_object_get_ex(o, keys[i], &v) &&
		    !json_object_is_type(v, json_type_object) &&
		    !json_object_is_type(v, json_type_array))
			return cx_xasprintf("%s=%s", keys[i],
					    json_object_to_json_string(v));
	}
	return NULL;
}

static void walk(struct cmp *c, const char *path, struct json_object *ours,
		 struct json_object *guest);

static void walk_array(struct cmp *c, const char *path, struct json_object *a,
		       struct json_object *b)
{
	size_t na = json_object_array_length(a), nb = json_object_array_length(b);
	bool named = false;
	if (na) {
		char *first = ident(json_object_array_get_idx(a, 0));
		named = first != NULL;
		free(first);
	}
	if (!named && nb) {
		char *first = ident(json_object_array_get_idx(b, 0));
		named = first != NULL;
		free(first);
	}
	if (!named) {
		size_t n = na < nb ? na : nb;
		for (size_t i = 0; i < n; i++) {
			char *p = cx_xasprintf("%s[%zu]", path, i);
			walk(c, p, json_object_array_get_idx(a, i),
			     json_object_array_get_idx(b, i));
			free(p);
		}
		if (na != nb)
			diff(c, "%s: cxlemu has %zu entries, the guest %zu", path,
			     na, nb);
		return;
	}
	bool *used = cx_xcalloc(nb + 1, sizeof(bool));
	for (size_t i = 0; i < na; i++) {
		struct json_object *x = json_object_array_get_idx(a, i);
		char *id = ident(x);
		size_t j;
		for (j = 0; id && j < nb; j++) {
			char *jd = ident(json_object_array_get_idx(b, j));
			bool same = jd && !strcmp(id, jd) && !used[j];
			free(jd);
			if (same)
				break;
		}
		char *p = cx_xasprintf("%s[%s]", path, id ? id : "?");
		if (!id || j == nb) {
			diff(c, "%s: only in cxlemu", p);
		} else {
			used[j] = true;
			walk(c, p, x, json_object_array_get_idx(b, j));
		}
		free(p);
		free(id);
	}
	for (size_t j = 0; j < nb; j++) {
		if (used[j])
			continue;
		char *id = ident(json_object_array_get_idx(b, j));
		diff(c, "%s[%s]: only in the guest", path, id ? id : "?");
		free(id);
	}
	free(used);
}

static void walk(struct cmp *c, const char *path, struct json_object *a,
		 struct json_object *b)
{
	enum json_type ta = json_object_get_type(a), tb = json_object_get_type(b);
	if (ta != tb) {
		diff(c, "%s: cxlemu %s, the guest %s", path,
		     json_object_to_json_string_ext(a, JSON_C_TO_STRING_PLAIN),
		     json_object_to_json_string_ext(b, JSON_C_TO_STRING_PLAIN));
		return;
	}
	if (ta == json_type_array) {
		walk_array(c, path, a, b);
		return;
	}
	if (ta == json_type_object) {
		json_object_object_foreach(a, k, va) {
			struct json_object *vb;
			char *p = cx_xasprintf("%s.%s", path, k);
			if (!json_object_object_get_ex(b, k, &vb))
				diff(c, "%s: only in cxlemu (%s)", p,
				     json_object_to_json_string_ext(
					     va, JSON_C_TO_STRING_PLAIN));
			else if (!name_only(k, a))
				walk(c, p, va, vb);
			free(p);
		}
		json_object_object_foreach(b, kb, vb2) {
			struct json_object *va2;
			if (!json_object_object_get_ex(a, kb, &va2))
				diff(c, "%s.%s: only in the guest (%s)", path, kb,
				     json_object_to_json_string_ext(
					     vb2, JSON_C_TO_STRING_PLAIN));
		}
		return;
	}
	const char *sa = json_object_to_json_string_ext(a, JSON_C_TO_STRING_PLAIN);
	char *keep = cx_xstrdup(sa);
	const char *sb = json_object_to_json_string_ext(b, JSON_C_TO_STRING_PLAIN);
	if (strcmp(keep, sb))
		diff(c, "%s: cxlemu %s, the guest %s", path, keep, sb);
	free(keep);
}

/* Differences that are known and explained: cxlemu follows newer ndctl
 * on purpose, or QEMU 7.2 / Linux 6.1 lack something. */
static const struct {
	const char *needle, *why;
} explained[] = {
	{"host bridges: the guest names them by PCI root",
	 "Linux 6.12 names a host bridge pci0000:BB (alias ACPI0016:NN), 6.1 "
	 "ACPI0016:NN (alias pci0000:BB); cxlemu's listing and its /sys view "
	 "keep 6.1's form for now"},
	{"].type: only in cxlemu (\"",
	 "ndctl >= 77 prints a region's mode as \"type\"; the guests' ndctl "
	 "76 (Debian 12, also with Linux 6.12) does not"},
	{"qos_class: only in cxlemu (",
	 "ndctl >= 79 prints root decoders' and memdevs' QoS classes "
	 "(Linux >= 6.8 exposes them); the guests' ndctl 76 does not"},
	{".dynamic_ram_a_size: only in cxlemu",
	 "Linux 6.12 has no dynamic capacity driver (its DCD series is not "
	 "merged) and shows no DC capacity; cxlemu shows DC region 0 as the "
	 "series' dynamic_ram_a partition, as ndctl's pending DCD patches "
	 "print it"},
};

static const char *explain(const char *d)
{
	for (size_t i = 0; i < CX_ARRAY_SIZE(explained); i++)
		if (strstr(d, explained[i].needle))
			return explained[i].why;
	return NULL;
}

int cx_compare_listing(struct cx_host *h, struct json_object *ours,
		       struct json_object *guest, cx_vec *diffs,
		       struct json_object **renamed_out, cx_err *e)
{
	struct cmp c = {.h = h, .diffs = diffs};

	if (!h || !ours || !guest)
		return cx_fail(e, EINVAL, "compare: nothing to compare");
	/* the dports and targets first (they carry both names), then the
	 * ports' hosts through what they said */
	struct json_object *map = json_object_new_object();
	int hbn = hb_names_61(guest, map);
	hbn += hb_names_61(guest, map);
	json_object_put(map);
	if (hbn)
		diff(&c, "host bridges: the guest names them by PCI root with "
		     "the ACPI device as alias (%d names), cxlemu the other way "
		     "round; compared after swapping", hbn);
	map_memdevs(&c, guest);
	map_ports(&c, guest);
	struct json_object *g = rewrite_tree(&c, guest);
	walk(&c, "", ours, g);
	/* mark the explained ones; count only the others */
	for (int i = 0; i < diffs->n; i++) {
		const char *why = explain(diffs->v[i]);
		if (!why)
			continue;
		char *x = cx_xasprintf("%s -- explained: %s",
				       (char *)diffs->v[i], why);
		free(diffs->v[i]);
		diffs->v[i] = x;
		c.ndiff--;
	}
	if (renamed_out)
		*renamed_out = g;
	else
		json_object_put(g);
	for (int i = 0; i < c.renames.n; i++) {
		struct rename *r = c.renames.v[i];
		free(r->from);
		free(r->to);
		free(r);
	}
	cx_vec_free(&c.renames);
	return c.ndiff;
}
