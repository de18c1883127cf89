/*
 * list_opts.c - `cxl list`'s selectors and filters as options: ndctl's
 * defaults and verbosity levels, its one refusal, and their form on the
 * wire (list_opts.h).  Nothing here knows the model: the client library
 * and the preload send these, the daemon's listing reads them.
 */
#include "proto/list_opts.h"

#include <errno.h>
#include <string.h>

/* ---- options ---- */

static int nr_selectors(const struct cx_list_opts *o)
{
	return o->memdevs + o->buses + o->ports + o->endpoints + o->decoders +
	       o->regions;
}

static bool filter_has(const char *filter, const char *needle)
{
	const char *s = filter;
	char tok[512];

	if (!filter)
		return false;
	while (*s) {
		size_t n;
		while (*s == ' ' || *s == ',' || *s == '\t')
			s++;
		n = strcspn(s, " ,\t");
		if (n && n < sizeof(tok)) {
			memcpy(tok, s, n);
			tok[n] = 0;
			if (strstr(tok, needle))
				return true;
		}
		s += n;
	}
	return false;
}

void cx_list_opts_verbose(struct cx_list_opts *o, int level)
{
	if (level >= 3) {
		o->health = o->partition = o->firmware = o->alert = true;
		o->dax = o->media_errors = true;
	}
	if (level >= 2)
		o->idle = true;
	if (level >= 1) {
		o->buses = o->ports = o->endpoints = o->decoders = true;
		o->targets = o->regions = o->extents = true;
	}
}

int cx_list_opts_check(const struct cx_list_opts *o, cx_err *e)
{
	if (o->single && !o->port_filter)
		return cx_fail(e, EINVAL, "list: -S/--single lists one port "
			       "without its descendants, so it needs a port "
			       "filter (-p/--port)");
	return 0;
}

void cx_list_opts_defaults(struct cx_list_opts *o)
{
	if (nr_selectors(o) == 0) {
		if (o->memdev_filter || o->serial_filter)
			o->memdevs = true;
		if (o->bus_filter)
			o->buses = true;
		if (o->port_filter)
			o->ports = true;
		if (o->endpoint_filter)
			o->endpoints = true;
		if (o->decoder_filter)
			o->decoders = true;
		o->single = true;
		if (o->region_filter)
			o->regions = true;
	}
	if (nr_selectors(o) == 0) {
		o->regions = true;
		o->memdevs = true;
	}
	if (filter_has(o->port_filter, "root") && o->ports)
		o->buses = true;
	if (filter_has(o->port_filter, "endpoint") && o->ports)
		o->endpoints = true;
}

#define BOOL_OPTS(X)                                                    \
	X(memdevs) X(buses) X(ports) X(endpoints) X(decoders) X(regions) \
	X(targets) X(dax) X(idle) X(human) X(health) X(partition)       \
	X(firmware) X(alert) X(media_errors) X(single) X(extents)
#define STR_OPTS(X)                                                     \
	X(memdev_filter) X(serial_filter) X(bus_filter) X(port_filter)  \
	X(endpoint_filter) X(decoder_filter) X(region_filter)

struct json_object *cx_list_opts_to_json(const struct cx_list_opts *o)
{
	struct json_object *j = json_object_new_object();

#define X(f) json_object_object_add(j, #f, json_object_new_boolean(o->f));
	BOOL_OPTS(X)
#undef X
#define X(f) if (o->f) json_object_object_add(j, #f, json_object_new_string(o->f));
	STR_OPTS(X)
#undef X
	return j;
}

int cx_list_opts_from_json(struct json_object *j, struct cx_list_opts *o,
			   cx_err *e)
{
	memset(o, 0, sizeof(*o));
	if (!j || !json_object_is_type(j, json_type_object))
		return cx_fail(e, EINVAL, "list options: expected a JSON "
			       "object");
	json_object_object_foreach(j, key, val) {
		bool known = false;
#define X(f)                                                              \
		if (!strcmp(key, #f)) {                                   \
			if (!json_object_is_type(val, json_type_boolean)) \
				return cx_fail(e, EINVAL, "list options: '%s' " \
					       "must be true or false", key); \
			o->f = json_object_get_boolean(val);              \
			known = true;                                     \
		}
		BOOL_OPTS(X)
#undef X
#define X(f)                                                              \
		if (!strcmp(key, #f)) {                                   \
			if (!json_object_is_type(val, json_type_string))  \
				return cx_fail(e, EINVAL, "list options: '%s' " \
					       "must be a string", key);  \
			o->f = json_object_get_string(val);               \
			known = true;                                     \
		}
		STR_OPTS(X)
#undef X
		if (!known)
			return cx_fail(e, EINVAL, "list options: unknown "
				       "option '%s'", key);
	}
	return 0;
}

