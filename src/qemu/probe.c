/*
 * probe.c - ask an installed QEMU what it has.
 *
 * QEMU answers `-device T,help` with one line per property ("  name=<type>
 * - text"), or an error when it lacks the device type, and `--version` with
 * "QEMU emulator version X.Y.Z (...)".  Translation decisions in args.c are
 * made on these answers (does cxl-type3 have volatile-memdev?) and the
 * version is only used in messages, so a patched or backported QEMU is
 * judged by what it really accepts.
 */
#include "qemu.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const qdev_names[CX_QDEV_NR] = {
	[CX_QDEV_TYPE3] = "cxl-type3",
	[CX_QDEV_PXB] = "pxb-cxl",
	[CX_QDEV_RP] = "cxl-rp",
	[CX_QDEV_USP] = "cxl-upstream",
	[CX_QDEV_DSP] = "cxl-downstream",
	[CX_QDEV_SWCCI] = "cxl-switch-mailbox-cci",
};

const char *cx_qdev_name(enum cx_qdev d)
{
	return d >= 0 && d < CX_QDEV_NR ? qdev_names[d] : "?";
}

int cx_qdev_from_name(const char *driver)
{
	for (int i = 0; i < CX_QDEV_NR; i++)
		if (!strcmp(driver, qdev_names[i]))
			return i;
	return -1;
}

const char *cx_qemu_default_binary(void)
{
	const char *b = getenv("CXLEMU_QEMU");
	return b && *b ? b : "qemu-system-x86_64";
}

int cx_qemu_parse_props(const char *text, cx_vec *props)
{
	const char *p = text;
	int n = 0;

	while (p && *p) {
		const char *eol = strchr(p, '\n');
		size_t ll = eol ? (size_t)(eol - p) : strlen(p);
		/* property lines are indented: "  name=<type> ..." */
		if (ll > 2 && (p[0] == ' ' || p[0] == '\t')) {
			const char *s = p;
			while (s < p + ll && isspace((unsigned char)*s))
				s++;
			const char *q = s;
			while (q < p + ll && *q != '=' && !isspace((unsigned char)*q))
				q++;
			if (q < p + ll && *q == '=' && q > s) {
				char *name = cx_xcalloc(1, (size_t)(q - s) + 1);
				memcpy(name, s, (size_t)(q - s));
				cx_vec_push(props, name);
				n++;
			}
		}
		p = eol ? eol + 1 : NULL;
	}
	return n;
}

int cx_qemu_parse_version(const char *text, struct cx_qemu_caps *caps,
			  cx_err *e)
{
	const char *p = strstr(text, "version ");
	int ma = 0, mi = 0, mc = 0, n;

	if (!p || sscanf(p + 8, "%d.%d%n", &ma, &mi, &n) < 2)
		return cx_fail(e, EINVAL, "cannot read a QEMU version from "
			       "'%.80s'; expected 'QEMU emulator version X.Y.Z'",
			       text);
	p += 8 + n;
	if (*p == '.')
		mc = atoi(p + 1);
	caps->major = ma;
	caps->minor = mi;
	caps->micro = mc;
	free(caps->version);
	caps->version = cx_xasprintf("%d.%d.%d", ma, mi, mc);
	return 0;
}

bool cx_qemu_has_prop(const struct cx_qemu_caps *caps, enum cx_qdev d,
		      const char *prop)
{
	const struct cx_qemu_dev_caps *dc = &caps->dev[d];
	if (!dc->present)
		return false;
	for (int i = 0; i < dc->props.n; i++)
		if (!strcmp(dc->props.v[i], prop))
			return true;
	return false;
}

static void free_strvec(cx_vec *v)
{
	for (int i = 0; i < v->n; i++)
		free(v->v[i]);
	cx_vec_free(v);
}

void cx_qemu_caps_free(struct cx_qemu_caps *caps)
{
	if (!caps)
		return;
	free(caps->binary);
	free(caps->version);
	for (int i = 0; i < CX_QDEV_NR; i++)
		free_strvec(&caps->dev[i].props);
	free_strvec(&caps->backend_props);
	memset(caps, 0, sizeof(*caps));
}

/* `BINARY -device T,help`: exit 0 and a "T options:" header when known. */
static int probe_help(const char *bin, const char *opt, const char *what,
		      bool *present, cx_vec *props, cx_err *e)
{
	char *arg = cx_xasprintf("%s,help", what);
	char *argv[] = {(char *)bin, (char *)opt, arg, NULL};
	char *out = NULL;
	int st, rc;

	rc = cx_run_capture(argv, NULL, 20000, &out, &st, e);
	free(arg);
	if (rc) {
		free(out);
		return rc;
	}
	*present = st == 0 && strstr(out, "options:") != NULL;
	if (*present)
		cx_qemu_parse_props(out, props);
	free(out);
	return 0;
}

int cx_qemu_probe(const char *bin, struct cx_qemu_caps *caps, cx_err *e)
{
	char *argv[] = {(char *)bin, "--version", NULL};
	char *out = NULL;
	int st, rc;
	bool dummy;

	memset(caps, 0, sizeof(*caps));
	caps->binary = cx_xstrdup(bin);
	rc = cx_run_capture(argv, NULL, 20000, &out, &st, e);
	if (rc) {
		cx_err_prefix(e, "QEMU probe");
		cx_qemu_caps_free(caps);
		free(out);
		return rc == -ENOENT ? rc : -ENOENT;
	}
	if (st != 0) {
		rc = cx_fail(e, ENOENT, "QEMU probe: '%s --version' exited "
			     "with status %d: %.200s", bin, st, out);
		goto fail;
	}
	if ((rc = cx_qemu_parse_version(out, caps, e)))
		goto fail;
	free(out);
	out = NULL;
	for (int i = 0; i < CX_QDEV_NR; i++) {
		rc = probe_help(bin, "-device", qdev_names[i],
				&caps->dev[i].present, &caps->dev[i].props, e);
		if (rc)
			goto fail;
	}
	rc = probe_help(bin, "-object", "memory-backend-file", &dummy,
			&caps->backend_props, e);
	if (rc)
		goto fail;
	if (!caps->dev[CX_QDEV_TYPE3].present || !caps->dev[CX_QDEV_PXB].present) {
		rc = cx_fail(e, ENOTSUP, "QEMU %s at %s has no CXL devices "
			     "(cxl-type3 and pxb-cxl arrived in QEMU 7.1)",
			     caps->version, bin);
		goto fail;
	}
	return 0;
fail:
	free(out);
	cx_qemu_caps_free(caps);
	return rc;
}
