/* What the fuzz targets share. An invariant that breaks aborts, so libFuzzer
 * keeps the input and the run fails; assert() would vanish under NDEBUG. */
#ifndef NETNSD_FUZZ_H
#define NETNSD_FUZZ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "api/problem.h"

#define FUZZ_CHECK(expr)                                                 \
	do {                                                             \
		if (!(expr)) {                                           \
			fprintf(stderr, "%s:%d: invariant broken: %s\n", \
				__FILE__, __LINE__, #expr);              \
			abort();                                         \
		}                                                        \
	} while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The input as a C string: what the HTTP layer hands on is cut at the first
 * NUL, so the targets see it the same way. */
static inline char *fuzz_cstr(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);

	if (!s)
		abort();
	memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

/* Every problem must reach the client: it renders to JSON that survives a
 * round trip (so its text is valid UTF-8), with the status it was given. */
static inline void fuzz_check_problem(const struct problem *p, int status)
{
	const char *type, *title;
	json_t *o, *errors, *e, *back;
	char *text;
	size_t i;

	FUZZ_CHECK(p->status == status);
	o = problem_to_json(p);
	FUZZ_CHECK(o);
	FUZZ_CHECK(json_integer_value(json_object_get(o, "status")) == status);
	type = json_string_value(json_object_get(o, "type"));
	FUZZ_CHECK(type && !strncmp(type, "urn:netnsd:problem:", 19));
	title = json_string_value(json_object_get(o, "title"));
	FUZZ_CHECK(title && *title);
	FUZZ_CHECK(json_is_string(json_object_get(o, "detail")));
	errors = json_object_get(o, "errors");
	if (errors) {
		FUZZ_CHECK(json_is_array(errors));
		json_array_foreach(errors, i, e) {
			FUZZ_CHECK(json_is_string(json_object_get(e, "field")));
			FUZZ_CHECK(
				json_is_string(json_object_get(e, "message")));
		}
	}
	text = json_dumps(o, JSON_COMPACT);
	FUZZ_CHECK(text);
	back = json_loads(text, 0, NULL);
	FUZZ_CHECK(back && json_equal(back, o));
	json_decref(back);
	free(text);
	json_decref(o);
}

#endif
