/*
 * util.c - error messages, allocation that cannot silently fail, growable
 * pointer arrays, and QEMU's spellings of sizes, integers and booleans.
 */
#include "util.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int cx_fail(cx_err *e, int code, const char *fmt, ...)
{
	if (e) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
		va_end(ap);
	}
	return code > 0 ? -code : code;
}

void cx_err_prefix(cx_err *e, const char *fmt, ...)
{
	char old[CX_ERR_MAX];
	va_list ap;
	int n;

	if (!e)
		return;
	memcpy(old, e->msg, sizeof(old));
	va_start(ap, fmt);
	n = vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(e->msg) - 3)
		return;
	size_t left = sizeof(e->msg) - (size_t)n;
	memcpy(e->msg + n, ": ", 2);
	size_t ol = strnlen(old, sizeof(old) - 1);
	if (ol > left - 3)
		ol = left - 3;
	memcpy(e->msg + n + 2, old, ol);
	e->msg[n + 2 + ol] = 0;
}

static void *oom(void)
{
	fputs("cxlemu: out of memory\n", stderr);
	abort();
}

void *cx_xcalloc(size_t n, size_t sz)
{
	void *p = calloc(n ? n : 1, sz ? sz : 1);
	return p ? p : oom();
}

void *cx_xrealloc(void *p, size_t sz)
{
	void *q = realloc(p, sz ? sz : 1);
	return q ? q : oom();
}

char *cx_xstrdup(const char *s)
{
	char *p = strdup(s ? s : "");
	return p ? p : oom();
}

char *cx_xasprintf(const char *fmt, ...)
{
	char *p = NULL;
	va_list ap;
	va_start(ap, fmt);
	if (vasprintf(&p, fmt, ap) < 0)
		p = oom();
	va_end(ap);
	return p;
}

void cx_vec_push(cx_vec *vec, void *p)
{
	if (vec->n == vec->cap) {
		vec->cap = vec->cap ? vec->cap * 2 : 8;
		vec->v = cx_xrealloc(vec->v, sizeof(void *) * (size_t)vec->cap);
	}
	vec->v[vec->n++] = p;
}

static int hexval(int ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	ch = tolower(ch);
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	return -1;
}

char *cx_hex_encode(const uint8_t *p, size_t n)
{
	static const char digits[] = "0123456789abcdef";
	char *s = cx_xcalloc(1, n * 2 + 1);

	for (size_t i = 0; i < n; i++) {
		s[2 * i] = digits[p[i] >> 4];
		s[2 * i + 1] = digits[p[i] & 15];
	}
	return s;
}

int cx_hex_decode(const char *s, uint8_t *out, size_t cap, size_t *len,
		  cx_err *e)
{
	size_t n = 0, digits = 0;
	int hi = -1;

	for (const char *p = s; *p; p++) {
		int v = hexval((unsigned char)*p);
		if (v < 0) {
			if (isspace((unsigned char)*p) || *p == ':')
				continue;
			return cx_fail(e, EINVAL, "'%c' (at character %zu) is "
				       "not a hex digit", *p,
				       (size_t)(p - s) + 1);
		}
		digits++;
		if (hi < 0) {
			hi = v;
			continue;
		}
		if (n == cap)
			return cx_fail(e, E2BIG, "more than %zu bytes", cap);
		if (out)
			out[n] = (uint8_t)(hi << 4 | v);
		n++;
		hi = -1;
	}
	if (hi >= 0)
		return cx_fail(e, EINVAL, "%zu hex digits is not a whole "
			       "number of bytes", digits);
	*len = n;
	return 0;
}

void cx_vec_vpushf(cx_vec *vec, const char *fmt, va_list ap)
{
	char *s = NULL;

	if (vasprintf(&s, fmt, ap) >= 0)
		cx_vec_push(vec, s);
}

void cx_vec_remove(cx_vec *vec, void *p)
{
	for (int i = 0; i < vec->n; i++) {
		if (vec->v[i] == p) {
			memmove(&vec->v[i], &vec->v[i + 1],
				sizeof(void *) * (size_t)(vec->n - i - 1));
			vec->n--;
			return;
		}
	}
}

void cx_vec_free(cx_vec *vec)
{
	free(vec->v);
	vec->v = NULL;
	vec->n = vec->cap = 0;
}

int cx_parse_u64(const char *s, uint64_t *out, const char *what, cx_err *e)
{
	char *end;
	unsigned long long v;

	if (!s || !*s || *s == '-' || isspace((unsigned char)*s))
		return cx_fail(e, EINVAL, "%s: '%s' is not a number", what,
			       s ? s : "");
	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || *end)
		return cx_fail(e, EINVAL,
			       "%s: '%s' is not an unsigned integer "
			       "(decimal or 0x-hex)", what, s);
	*out = v;
	return 0;
}

int cx_parse_size(const char *s, uint64_t *out, const char *what, cx_err *e)
{
	char *end;
	uint64_t mul = 1, fnum = 0, fden = 1;
	unsigned long long v;

	if (!s || !*s || *s == '-' || *s == '+' || isspace((unsigned char)*s))
		goto bad;
	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno == ERANGE)
		goto big;
	if (end == s)
		goto bad;
	if (*end == '.') {
		/* QEMU accepts a decimal fraction of a unit (1.5G); digits
		 * only: no exponent, no inf/nan, no hex fraction */
		if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
			goto bad;
		end++;
		if (!isdigit((unsigned char)*end))
			goto bad;
		for (; isdigit((unsigned char)*end); end++) {
			if (fden < 1000000000000000000ULL) {
				fnum = fnum * 10 + (uint64_t)(*end - '0');
				fden *= 10;
			}
		}
	}
	switch (toupper((unsigned char)*end)) {
	case 'B': mul = 1; end++; break;
	case 'K': mul = 1ULL << 10; end++; break;
	case 'M': mul = 1ULL << 20; end++; break;
	case 'G': mul = 1ULL << 30; end++; break;
	case 'T': mul = 1ULL << 40; end++; break;
	case 'P': mul = 1ULL << 50; end++; break;
	case 'E': mul = 1ULL << 60; end++; break;
	case '\0': break;
	default: goto bad;
	}
	if (*end)
		goto bad;
	if (fnum && mul == 1)
		goto bad; /* a fraction of a byte */
	if (v > UINT64_MAX / mul)
		goto big;
	/* fnum/fden < 1, so the fraction adds less than one unit; compute
	 * it as (mul / fden) * fnum + (mul % fden) * fnum / fden, exactly */
	uint64_t part = (mul / fden) * fnum + (mul % fden) * fnum / fden;
	if (v * mul > UINT64_MAX - part)
		goto big;
	*out = v * mul + part;
	return 0;
bad:
	return cx_fail(e, EINVAL,
		       "%s: '%s' is not a size (a number with an optional "
		       "B, K, M, G, T, P or E suffix)", what, s ? s : "");
big:
	return cx_fail(e, ERANGE, "%s: '%s' is too large for 64 bits", what, s);
}

int cx_parse_bool(const char *s, bool *out, const char *what, cx_err *e)
{
	static const char *yes[] = { "on", "yes", "true", "y" };
	static const char *no[] = { "off", "no", "false", "n" };

	for (size_t i = 0; s && i < CX_ARRAY_SIZE(yes); i++) {
		if (!strcmp(s, yes[i])) {
			*out = true;
			return 0;
		}
		if (!strcmp(s, no[i])) {
			*out = false;
			return 0;
		}
	}
	return cx_fail(e, EINVAL,
		       "%s: '%s' is not a boolean (use on/off, yes/no, "
		       "true/false or y/n)", what, s ? s : "");
}

void cx_fmt_size(char *buf, size_t len, uint64_t v)
{
	static const char *unit[] = { "KiB", "MiB", "GiB", "TiB", "PiB", "EiB" };
	int u = -1;
	uint64_t x = v;

	while (x && !(x & 1023) && u < 5) {
		x >>= 10;
		u++;
	}
	if (u < 0)
		snprintf(buf, len, "%llu", (unsigned long long)v);
	else
		snprintf(buf, len, "%llu %s", (unsigned long long)x, unit[u]);
}

int cx_write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;
	while (len) {
		ssize_t w = write(fd, p, len);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		len -= (size_t)w;
	}
	return 0;
}
