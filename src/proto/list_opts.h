/*
 * list_opts.h - what a `cxl list` asks for: ndctl's selectors and
 * filters, their defaults, and their form on the wire.  The listing
 * itself (proto/json.h) builds from the model; these do not.
 */
#ifndef CXLEMU_LIST_OPTS_H
#define CXLEMU_LIST_OPTS_H

#include <json-c/json.h>
#include <stdbool.h>

#include "util/util.h"

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
	bool extents;      /* -N: dynamic capacity extents */
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

#endif
