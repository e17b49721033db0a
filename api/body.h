/* Strict JSON request bodies: parse, then check every field against a table
 * so unknown fields and wrong types are refused before any handler acts. */
#ifndef NETNSD_BODY_H
#define NETNSD_BODY_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "problem.h"

enum body_type {
	BODY_STRING,
	BODY_STRING_OR_NULL,
	BODY_INT,
	BODY_BOOL,
	BODY_OBJECT,
};

struct body_field {
	const char *name;
	enum body_type type;
	bool required;
};

/* Parses `len` bytes as one JSON object. An empty body gives an empty object
 * when `allow_empty`. Duplicate keys, trailing bytes, NUL and bad UTF-8 are
 * refused. */
int body_parse(const char *buf, size_t len, bool allow_empty, json_t **ret,
	       struct problem *p);

/* Whether `v` is of type `t`. */
bool body_type_ok(json_t *v, enum body_type t);

/* Checks `obj` against `fields` (terminated by a NULL name); field names in
 * errors are prefixed with `prefix` ("peer." for nested objects). */
int body_check(json_t *obj, const struct body_field *fields, const char *prefix,
	       struct problem *p);

#endif
