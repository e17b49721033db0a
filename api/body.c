#include "body.h"

#include <stdio.h>
#include <string.h>

int body_parse(const char *buf, size_t len, bool allow_empty, json_t **ret,
	       struct problem *p)
{
	json_error_t jerr;
	json_t *root;
	size_t i;

	for (i = 0; i < len; i++)
		if (buf[i] != ' ' && buf[i] != '\t' && buf[i] != '\r' &&
		    buf[i] != '\n')
			break;
	if (i == len) {
		if (!allow_empty)
			return problem_set(p, 400, "malformed-json",
					   "a JSON object body is required");
		*ret = json_object();
		return 0;
	}

	/* NUL is let through here so that body_check() can name the field
	 * that carries it. */
	root = json_loadb(buf, len, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL,
			  &jerr);
	if (!root)
		return problem_set(p, 400, "malformed-json",
				   "malformed JSON at line %d column %d: %s",
				   jerr.line, jerr.column, jerr.text);
	if (!json_is_object(root)) {
		json_decref(root);
		return problem_set(p, 400, "malformed-json",
				   "the body must be a JSON object");
	}
	*ret = root;
	return 0;
}

static const char *body_type_word(enum body_type t)
{
	switch (t) {
	case BODY_STRING: return "a string";
	case BODY_STRING_OR_NULL: return "a string or null";
	case BODY_INT: return "an integer";
	case BODY_BOOL: return "a boolean";
	case BODY_OBJECT: return "an object";
	}
	return "?";
}

bool body_type_ok(json_t *v, enum body_type t)
{
	switch (t) {
	case BODY_STRING: return json_is_string(v);
	case BODY_STRING_OR_NULL: return json_is_string(v) || json_is_null(v);
	case BODY_INT: return json_is_integer(v);
	case BODY_BOOL: return json_is_boolean(v);
	case BODY_OBJECT: return json_is_object(v);
	}
	return false;
}

int body_check(json_t *obj, const struct body_field *fields, const char *prefix,
	       struct problem *p)
{
	const struct body_field *f;
	const char *key;
	char name[128];
	json_t *v;
	int bad = 0;

	json_object_foreach(obj, key, v) {
		for (f = fields; f->name; f++)
			if (!strcmp(f->name, key))
				break;
		snprintf(name, sizeof(name), "%s%s", prefix, key);
		if (!f->name) {
			problem_field(p, name, "unknown field");
			bad = 1;
		} else if (!body_type_ok(v, f->type)) {
			problem_field(p, name, "must be %s",
				      body_type_word(f->type));
			bad = 1;
		} else if (json_is_string(v) && strlen(json_string_value(v)) !=
							json_string_length(v)) {
			problem_field(p, name, "must not contain NUL");
			bad = 1;
		}
	}
	for (f = fields; f->name; f++) {
		if (f->required && !json_object_get(obj, f->name)) {
			snprintf(name, sizeof(name), "%s%s", prefix, f->name);
			problem_field(p, name, "is required");
			bad = 1;
		}
	}
	return bad ? -p->status : 0;
}
