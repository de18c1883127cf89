/*
 * json_print.c - JSON printed as ndctl prints it (json_print.h).
 */
#include "proto/json_print.h"

#define PRINT_FLAGS (JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE)

void cx_json_print(FILE *f, struct json_object *jarray, bool human)
{
	if (!jarray)
		return;
	if (!json_object_is_type(jarray, json_type_array)) {
		fprintf(f, "%s\n",
			json_object_to_json_string_ext(jarray, PRINT_FLAGS));
	} else {
		size_t n = json_object_array_length(jarray);
		if (n > 1 || !human)
			fprintf(f, "%s\n", json_object_to_json_string_ext(
						   jarray, PRINT_FLAGS));
		else if (n)
			fprintf(f, "%s\n", json_object_to_json_string_ext(
				json_object_array_get_idx(jarray, 0),
				PRINT_FLAGS));
	}
	json_object_put(jarray);
}

void cx_json_print_obj(FILE *f, struct json_object *obj)
{
	fprintf(f, "%s\n", json_object_to_json_string_ext(obj, PRINT_FLAGS));
}
