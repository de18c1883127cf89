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
#include "proto/json_print.h"
#include "proto/list_opts.h"

/* The listing: a json array exactly as `cxl list` would print it. */
struct json_object *cx_json_list(struct cx_host *h,
				 const struct cx_list_opts *o, cx_err *e);

#define CX_JSON_HUMAN    (1u << 0)  /* -u */
#define CX_JSON_MAPPINGS (1u << 1)  /* -T: region mappings */
#define CX_JSON_DAX      (1u << 2)  /* -X: daxregion */
#define CX_JSON_MEDIA_ERRORS (1u << 3) /* -L: media_errors */
#define CX_JSON_EXTENTS  (1u << 4)  /* -N: a dynamic_ram_a region's extents */
/* One region as create-region prints it (with mappings). */
struct json_object *cx_json_region(struct cx_region *r, unsigned flags);
/* daxctl device / region objects (issue 3) */
struct json_object *cx_json_dax_device(struct cx_region *r, unsigned flags);
/* A region's devices appended to arr: daxZ.0, or those of a dynamic_ram_a
 * region, daxR.K (one per tag, one per untagged extent). */
void cx_json_dax_devices(struct cx_region *r, unsigned flags,
			 struct json_object *arr);

/* ndctl's number forms: with `human`, a size >= 5000 KiB becomes
 * "256.00 MiB (268.44 MB)" and a hex value "%#llx"; otherwise integers. */
/* Dynamic capacity extents as ndctl's DCD series lists them:
 * [{offset (the DPA), length, uuid (the tag), shared_sequence}]. */
struct cx_dc_extent;
struct json_object *cx_json_dc_extents(const struct cx_dc_extent *v, int n,
				       bool human);
/* The DAX devices over a host memdev's dynamic capacity (dcdN.K):
 * [{device, size, uuid (tagged), extents}]. */
struct cx_memdev;
struct json_object *cx_json_dcd_dax(struct cx_memdev *m, bool human);
struct json_object *cx_json_size(uint64_t v, bool human);
struct json_object *cx_json_hex(uint64_t v, bool human);

#endif
