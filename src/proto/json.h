/*
 * json.h - the fabric as ndctl prints it: `cxl list` objects, keys, nesting
 * and filters, and daxctl's device JSON, built with json-c (as ndctl is).
 *
 * The server builds these objects from its model; the CLI prints them with
 * cx_json_print(), which follows ndctl's display rules (pretty, no space
 * after ':', a single-element array printed as its element under -u).
 */
#ifndef CXLEMU_JSON_H
#define CXLEMU_JSON_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stdio.h>

#include "model/model.h"

/* `cxl list` selectors and filters, ndctl's letters in comments. */
struct cx_list_opts {
	bool memdevs;      /* -M */
	bool buses;        /* -B */
	bool ports;        /* -P */
	bool endpoints;    /* -E */
	bool decoders;     /* -D */
	bool regions;      /* -R */
	bool targets;      /* -T */
	bool dax;          /* -X */
	bool idle;         /* -i */
	bool human;        /* -u */
	bool health;       /* -H */
	bool partition;    /* -I */
	bool firmware;     /* -F */
	bool alert;        /* -A */
	bool media_errors; /* -L */
	bool single;       /* -S */
	const char *memdev_filter;   /* -m */
	const char *serial_filter;   /* -s */
	const char *bus_filter;      /* -b */
	const char *port_filter;     /* -p */
	const char *endpoint_filter; /* -e */
	const char *decoder_filter;  /* -d */
	const char *region_filter;   /* -r */
};

/* Apply ndctl's defaults (filters imply their object type; nothing given
 * means -R -M ... as in ndctl).  Call before cx_json_list. */
void cx_list_opts_defaults(struct cx_list_opts *o);
/* ndctl's -v, -vv, -vvv: what each verbosity level turns on. */
void cx_list_opts_verbose(struct cx_list_opts *o, int level);
/* Reject what `cxl list` rejects (-S without -p). Call before defaults. */
int cx_list_opts_check(const struct cx_list_opts *o, cx_err *e);
/* Move options across the socket. Strings in *o point into `j`. */
struct json_object *cx_list_opts_to_json(const struct cx_list_opts *o);
int cx_list_opts_from_json(struct json_object *j, struct cx_list_opts *o,
			   cx_err *e);

/* The listing: a json array exactly as `cxl list` would print it. */
struct json_object *cx_json_list(struct cx_host *h,
				 const struct cx_list_opts *o, cx_err *e);

#define CX_JSON_HUMAN    (1u << 0)  /* -u */
#define CX_JSON_MAPPINGS (1u << 1)  /* -T: region mappings */
#define CX_JSON_DAX      (1u << 2)  /* -X: daxregion */
#define CX_JSON_MEDIA_ERRORS (1u << 3) /* -L: media_errors */
/* One region as create-region prints it (with mappings). */
struct json_object *cx_json_region(struct cx_region *r, unsigned flags);
/* daxctl device / region objects (issue 3) */
struct json_object *cx_json_dax_device(struct cx_region *r, unsigned flags);

/* ndctl's number forms: with `human`, a size >= 5000 KiB becomes
 * "256.00 MiB (268.44 MB)" and a hex value "%#llx"; otherwise integers. */
struct json_object *cx_json_size(uint64_t v, bool human);
struct json_object *cx_json_hex(uint64_t v, bool human);

/* Print like ndctl's util_display_json_array. Consumes `jarray`. */
void cx_json_print(FILE *f, struct json_object *jarray, bool human);
/* Print one object pretty (ndctl style). Does not consume. */
void cx_json_print_obj(FILE *f, struct json_object *obj);

#endif
