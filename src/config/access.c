/*
 * access.c - the fabric's own settings, which QEMU's command lines have no
 * words for: who may open each of the daemon's sockets.
 *
 * They ride on the section headers of a topology file,
 *
 *     [fabric owner=root group=cxl mode=0660]       the administrative socket
 *     [host host1 owner=alice mode=0600]            host1's own socket
 *
 * and on `cxlemu start --access WHO:owner=U,group=G,mode=M`, which
 * parses its value with cx_access_parse().  `[fabric external=PATH]`
 * (as often as needed) names a share=on backing file that programs
 * outside the fabric map too, a QEMU guest of the lab's mixed mode: the
 * fabric cannot scope or take back what they map, so it hands such media
 * out as they are and `list` says so.  Users and groups are names or
 * numbers, resolved here so that a typo is an error of the topology, with
 * its line, rather than of the daemon; a mode is octal.
 */
#include "cfg.h"
#include "config.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A user or group name, or a number. */
static int resolve_id(const char *key, const char *val, bool user, long *out,
		      cx_err *e)
{
	char *end;
	unsigned long n = strtoul(val, &end, 10);

	if (*val >= '0' && *val <= '9' && !*end && n < 0xffffffffUL) {
		*out = (long)n;
		return 0;
	}
	if (user) {
		struct passwd *pw = getpwnam(val);
		if (pw) {
			*out = (long)pw->pw_uid;
			return 0;
		}
	} else {
		struct group *gr = getgrnam(val);
		if (gr) {
			*out = (long)gr->gr_gid;
			return 0;
		}
	}
	return cx_fail(e, EINVAL, "%s=%s: this machine has no %s '%s'", key,
		       val, user ? "user" : "group", val);
}

int cx_access_parse_item(const char *key, const char *val,
			 struct cx_access *a, cx_err *e)
{
	if (!strcmp(key, "owner"))
		return resolve_id(key, val, true, &a->owner, e);
	if (!strcmp(key, "group"))
		return resolve_id(key, val, false, &a->group, e);
	if (!strcmp(key, "mode")) {
		char *end;
		unsigned long m = strtoul(val, &end, 8);
		if (!*val || *end || m > 0777)
			return cx_fail(e, EINVAL, "mode=%s: a socket's mode is "
				       "octal permission bits, 0 to 0777 "
				       "(0600: its owner only; 0660: its "
				       "group too)", val);
		a->mode = (int)m;
		return 0;
	}
	return cx_fail(e, EINVAL, "'%s' is not a socket setting (they are "
		       "owner, group and mode)", key);
}

int cx_access_parse(const char *spec, struct cx_access *a, cx_err *e)
{
	char *copy = cx_xstrdup(spec), *save = NULL;
	int rc = 0;

	a->owner = a->group = -1;
	a->mode = -1;
	for (char *it = strtok_r(copy, ",", &save); it && !rc;
	     it = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(it, '=');
		if (!eq || eq == it || !eq[1]) {
			rc = cx_fail(e, EINVAL, "'%s' is not KEY=VALUE (owner=, "
				     "group=, mode=)", it);
			break;
		}
		*eq = 0;
		rc = cx_access_parse_item(it, eq + 1, a, e);
	}
	free(copy);
	return rc;
}

/* Does a share=on file backend of the fabric name `path`? */
static bool shared_file(struct cx_fabric *f, const char *path)
{
	for (int i = 0; i < f->hosts.n; i++) {
		struct cx_host *h = f->hosts.v[i];
		for (int j = 0; j < h->backends.n; j++) {
			struct cx_backend *b = h->backends.v[j];
			if (b->kind == CX_BACKEND_FILE && b->share &&
			    b->mem_path && !strcmp(b->mem_path, path))
				return true;
		}
	}
	return false;
}

/* The settings of one header into `a` (and the fabric's own). */
static int header(const char *file, const struct cfg_hostsrc *src,
		  bool fabric, struct cx_fabric *f, struct cx_access *a,
		  cx_err *e)
{
	for (int i = 0; i < src->nattrs; i++) {
		char *kv = cx_xstrdup(src->attrs[i]);
		char *eq = strchr(kv, '=');
		int rc = 0;
		*eq = 0;
		if (fabric && !strcmp(kv, "external")) {
			if (!shared_file(f, eq + 1))
				rc = cx_fail(e, EINVAL, "external=%s: no "
					     "memory-backend-file with share=on "
					     "has this mem-path (only such a file "
					     "can be mapped outside the fabric)",
					     eq + 1);
			else
				cx_vec_push(&f->external, cx_xstrdup(eq + 1));
		} else if (fabric && strcmp(kv, "owner") &&
			   strcmp(kv, "group") && strcmp(kv, "mode")) {
			rc = cx_fail(e, EINVAL, "'%s' is not a setting of the "
				     "fabric (they are owner, group and mode of "
				     "its socket, and external)", kv);
		} else {
			rc = cx_access_parse_item(kv, eq + 1, a, e);
		}
		free(kv);
		if (rc) {
			if (fabric)
				cx_err_prefix(e, "%s:%d: [fabric]", file,
					      src->line);
			else
				cx_err_prefix(e, "%s:%d: [host %s]", file,
					      src->line, src->name);
			return rc;
		}
	}
	return 0;
}

int cfg_apply_headers(const char *file, const struct cfg_doc *doc,
		      struct cx_fabric *f, cx_err *e)
{
	int rc;

	if (doc->has_fabric) {
		if (doc->fabric.n)
			return cx_fail(e, EINVAL, "%s:%d: '%s' is under "
				       "[fabric], which holds only the "
				       "settings on its header line; QEMU "
				       "command lines go under [host NAME]",
				       file, doc->fabric.w[0].line,
				       doc->fabric.w[0].text);
		if ((rc = header(file, &doc->fabric, true, f, &f->admin_access,
				  e)))
			return rc;
	}
	for (int i = 0; i < doc->n; i++) {
		struct cx_host *h = cx_host_find(f, doc->hosts[i].name);
		if (h && (rc = header(file, &doc->hosts[i], false, f,
				      &h->access, e)))
			return rc;
	}
	return 0;
}
