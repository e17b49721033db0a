/* Request bodies: body_parse() and body_check() against the field tables the
 * handlers use (api/bodies.h), and the problems both build. The first input byte chooses
 * the table and whether an empty body is allowed; the rest is the body. */
#include "fuzz.h"

#include "api/bodies.h"
#include "api/body.h"

/* The handlers' own tables (api/bodies.h), and the kind table's body. */
static const struct body_field *const fuzz_tables[] = {
	body_empty,	     body_ns_create,	body_ns_put,
	body_link_patch,     body_link_new,	body_link_new_base,
	body_address_create, body_veth,		body_veth_peer,
	body_bridge,	     body_bridge_patch, body_route,
	body_sysctl,
};

#define FUZZ_N_TABLES (sizeof(fuzz_tables) / sizeof(fuzz_tables[0]))

/* How many errors body_check() must report, worked out the plain way. */
static size_t fuzz_expected_errors(json_t *obj, const struct body_field *fields)
{
	const struct body_field *f;
	const char *key;
	size_t bad = 0;
	json_t *v;

	json_object_foreach(obj, key, v) {
		for (f = fields; f->name && strcmp(f->name, key); f++)
			;
		if (!f->name || !body_type_ok(v, f->type) ||
		    (json_is_string(v) &&
		     strlen(json_string_value(v)) != json_string_length(v)))
			bad++;
	}
	for (f = fields; f->name; f++)
		if (f->required && !json_object_get(obj, f->name))
			bad++;
	return bad;
}

static void fuzz_check_fields(json_t *obj, const struct body_field *fields,
			      const char *prefix, struct problem *p)
{
	size_t before = json_array_size(p->errors), counted = p->n_errors;
	size_t expected, kept, i;
	int status = p->status, r;

	expected = fuzz_expected_errors(obj, fields);
	r = body_check(obj, fields, prefix, p);
	/* Every error is counted; errors[] keeps only the first few. */
	FUZZ_CHECK(p->n_errors == counted + expected);
	kept = counted + expected < PROBLEM_ERRORS_MAX ? counted + expected
						       : PROBLEM_ERRORS_MAX;
	FUZZ_CHECK(json_array_size(p->errors) == kept);
	if (!expected) {
		FUZZ_CHECK(r == 0 && p->status == status);
		return;
	}
	FUZZ_CHECK(r == -400 && p->status == 400);
	for (i = before; i < json_array_size(p->errors); i++) {
		json_t *e = json_array_get(p->errors, i);
		const char *field =
			json_string_value(json_object_get(e, "field"));

		FUZZ_CHECK(field && !strncmp(field, prefix, strlen(prefix)));
	}
}

/* Problems from client words: a field name or a kernel message can be any
 * bytes, and still the problem must render. */
static void fuzz_problems(const uint8_t *data, size_t size)
{
	struct problem p = PROBLEM_INIT;
	char *text = fuzz_cstr(data, size);
	int status;

	problem_field(&p, text, "%s", text);
	problem_field(&p, "x", "%s%s", text, text);
	fuzz_check_problem(&p, 400);
	problem_clear(&p);

	status = problem_errno(&p, -(int)(size % 150), text, text);
	FUZZ_CHECK(status == -problem_status_for_errno(-(int)(size % 150)));
	fuzz_check_problem(&p, -status);
	problem_clear(&p);
	free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct problem p = PROBLEM_INIT;
	const struct body_field *fields;
	json_t *body = NULL, *peer;
	bool allow_empty;
	int r;

	if (size < 1)
		return 0;
	allow_empty = data[0] & 1;
	fields = fuzz_tables[(data[0] >> 1) % FUZZ_N_TABLES];
	data++;
	size--;

	r = body_parse((const char *)data, size, allow_empty, &body, &p);
	if (r < 0) {
		FUZZ_CHECK(r == -400 && !body);
		FUZZ_CHECK(p.type && !strcmp(p.type, "malformed-json"));
		fuzz_check_problem(&p, 400);
		problem_clear(&p);
		fuzz_problems(data, size);
		return 0;
	}
	FUZZ_CHECK(r == 0 && json_is_object(body) && p.status == 0);

	fuzz_check_fields(body, fields, "", &p);
	peer = json_object_get(body, "peer");
	if (fields == body_veth && json_is_object(peer))
		fuzz_check_fields(peer, body_veth_peer, "peer.", &p);
	if (p.status)
		fuzz_check_problem(&p, 400);
	else
		FUZZ_CHECK(!p.errors);

	problem_clear(&p);
	json_decref(body);
	return 0;
}
