/*
 * json_print.h - printing JSON as ndctl does (pretty, no space after ':',
 * a single-element array printed as its element under -u).
 */
#ifndef CXLEMU_JSON_PRINT_H
#define CXLEMU_JSON_PRINT_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stdio.h>

/* Print like ndctl's util_display_json_array. Consumes `jarray`. */
void cx_json_print(FILE *f, struct json_object *jarray, bool human);
/* Print one object pretty (ndctl style). Does not consume. */
void cx_json_print_obj(FILE *f, struct json_object *obj);

#endif
