/*
 * util.h - small shared helpers: error messages, growable arrays, and the
 * number/size/boolean spellings that QEMU accepts on its command line.
 *
 * Library code never prints or exits.  A function that can fail takes a
 * `cx_err *` and, on failure, fills it with a sentence naming the object,
 * the value and the rule, then returns a negative errno-style code.
 */
#ifndef CXLEMU_UTIL_H
#define CXLEMU_UTIL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CX_ERR_MAX 1024

typedef struct cx_err {
	char msg[CX_ERR_MAX];
} cx_err;

/* Fill *e (if not NULL) with a formatted message; returns -code (code > 0). */
int cx_fail(cx_err *e, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Prefix an existing message: "prefix: old message". */
void cx_err_prefix(cx_err *e, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

void *cx_xcalloc(size_t n, size_t sz);
void *cx_xrealloc(void *p, size_t sz);
char *cx_xstrdup(const char *s);
char *cx_xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Growable array of pointers. */
typedef struct cx_vec {
	void **v;
	int n, cap;
} cx_vec;
void cx_vec_push(cx_vec *vec, void *p);
void cx_vec_remove(cx_vec *vec, void *p);
void cx_vec_free(cx_vec *vec);
/* Push a newly formatted string (the vector owns it); dropped if memory
 * runs out. */
void cx_vec_vpushf(cx_vec *vec, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));
#define CX_VEC_AT(vec, type, i) ((type *)(vec).v[(i)])

/*
 * QEMU size syntax (qemu_strtosz): a decimal or 0x-hex number, optionally
 * fractional, with an optional B/K/M/G/T/P/E suffix (binary units, either
 * case).  Returns 0 or -EINVAL with a message naming `what`.
 */
int cx_parse_size(const char *s, uint64_t *out, const char *what, cx_err *e);
/* Plain unsigned integer: decimal, 0x-hex or 0-octal, no suffix. */
int cx_parse_u64(const char *s, uint64_t *out, const char *what, cx_err *e);
/* QEMU booleans: on/off, yes/no, true/false, y/n (and 1/0 is not QEMU). */
int cx_parse_bool(const char *s, bool *out, const char *what, cx_err *e);

/* Hex digits into bytes, white space and ':' allowed between digits.
 * Writes at most cap bytes to out (out NULL: only check and count) and
 * sets *len.  -EINVAL for any other character (e says which and where) or
 * an odd number of digits; -E2BIG for more than cap bytes. */
int cx_hex_decode(const char *s, uint8_t *out, size_t cap, size_t *len,
		  cx_err *e);

/* write(2) all of buf, again after EINTR and short writes: 0, or -1 with
 * errno set. */
int cx_write_all(int fd, const void *buf, size_t len);

/* Bytes as lowercase hex digits, malloc'd and NUL-terminated. */
char *cx_hex_encode(const uint8_t *p, size_t n);

/* Render bytes the way people read them: "256 MiB", "4 GiB", "0x1000". */
void cx_fmt_size(char *buf, size_t len, uint64_t v);

static inline bool cx_is_pow2(uint64_t v) { return v && !(v & (v - 1)); }
static inline int cx_log2(uint64_t v)
{
	int r = 0;
	while (v > 1) {
		v >>= 1;
		r++;
	}
	return r;
}

#define CX_SZ_256M (256ULL << 20)
#define CX_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#endif
