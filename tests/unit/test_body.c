/* Unit tests of api/body.c (strict request bodies) and api/problem.c (the
 * one error type): what is refused, with which status, naming which field,
 * and the shape of the problem document a client receives. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/body.h"
#include "api/problem.h"

#include "check.h"

/* One field of every type, as a veth body would use them. */
static const struct body_field test_fields[] = {
	{ "name", BODY_STRING, true },
	{ "master", BODY_STRING_OR_NULL, false },
	{ "mtu", BODY_INT, false },
	{ "up", BODY_BOOL, false },
	{ "peer", BODY_OBJECT, false },
	{ NULL, 0, false },
};

static const struct body_field test_peer_fields[] = {
	{ "name", BODY_STRING, true },
	{ "namespace", BODY_STRING, false },
	{ NULL, 0, false },
};

/* The problem must also serialize: a client is owed a document. */
static int body_problem_ok(const struct problem *p, int status)
{
	json_t *j = problem_to_json(p);
	int ok = j && p->status == status && p->detail[0] != '\0' &&
		 json_integer_value(json_object_get(j, "status")) == status;

	json_decref(j);
	return ok;
}

/* Parses `len` bytes and expects a 400 "malformed-json" and no object. */
static int body_refused(const char *buf, size_t len, bool allow_empty)
{
	struct problem p = PROBLEM_INIT;
	json_t *obj = NULL;
	int r, ok;

	r = body_parse(buf, len, allow_empty, &obj, &p);
	ok = r == -400 && obj == NULL && body_problem_ok(&p, 400) && p.type &&
	     !strcmp(p.type, "malformed-json");
	json_decref(obj);
	problem_clear(&p);
	return ok;
}

/* Parses `lit`, then expects body_check to refuse its "name" for a NUL. */
static int nul_value_named(const char *lit)
{
	static const struct body_field fields[] = {
		{ "name", BODY_STRING, true },
		{ NULL, 0, false },
	};
	struct problem p = PROBLEM_INIT;
	json_t *obj = NULL, *e;
	int ok;

	ok = body_parse(lit, strlen(lit), false, &obj, &p) == 0 &&
	     body_check(obj, fields, "", &p) == -400 && p.status == 400 &&
	     (e = json_array_get(p.errors, 0)) != NULL &&
	     !strcmp(json_string_value(json_object_get(e, "field")), "name");
	json_decref(obj);
	problem_clear(&p);
	return ok;
}

#define REFUSED(lit) body_refused((lit), sizeof(lit) - 1, true)

/* Parses and expects an object with `n` members and no problem. */
static int body_accepted(const char *buf, size_t len, bool allow_empty,
			 size_t n)
{
	struct problem p = PROBLEM_INIT;
	json_t *obj = NULL;
	int r, ok;

	r = body_parse(buf, len, allow_empty, &obj, &p);
	ok = r == 0 && json_is_object(obj) && json_object_size(obj) == n &&
	     p.status == 0 && p.errors == NULL;
	json_decref(obj);
	problem_clear(&p);
	return ok;
}

#define ACCEPTED(lit, n) body_accepted((lit), sizeof(lit) - 1, false, (n))

static void test_parse_empty(void)
{
	CHECK(body_accepted("", 0, true, 0));
	CHECK(body_accepted(NULL, 0, true, 0));
	CHECK(body_accepted(" \t\r\n", 4, true, 0));
	CHECK(body_refused("", 0, false));
	CHECK(body_refused(" \r\n", 3, false));
	/* Only JSON whitespace counts as empty. */
	CHECK(body_refused("\v", 1, true));
	CHECK(body_refused("\f", 1, true));
	CHECK(body_refused("\0", 1, true));
	/* A given body is parsed even when none was needed. */
	CHECK(body_refused("x", 1, true));
}

static void test_parse_objects(void)
{
	struct problem p = PROBLEM_INIT;
	json_t *obj = NULL;

	CHECK(ACCEPTED("{}", 0));
	CHECK(ACCEPTED(" {} \n", 0));
	CHECK(ACCEPTED("{\"name\":\"blue\"}", 1));
	CHECK(ACCEPTED("{\"name\":\"blue\",\"mtu\":1500,\"up\":true}", 3));
	CHECK(ACCEPTED("{\"peer\":{\"name\":\"vb\"}}", 1));
	CHECK(ACCEPTED("{\"name\":\"caf\xc3\xa9\"}", 1));
	CHECK(ACCEPTED("{\"name\":\"caf\\u00e9\"}", 1));
	CHECK(ACCEPTED("{\"name\":\"\\ud83d\\ude00\"}", 1)); /* pair */
	CHECK(ACCEPTED("{\"mtu\":9223372036854775807}", 1));
	CHECK(ACCEPTED("{\"mtu\":-9223372036854775808}", 1));

	/* The object handed back carries the values. */
	CHECK(body_parse("{\"name\":\"blue\",\"mtu\":1500}", 26, false, &obj,
			 &p) == 0);
	CHECK(obj &&
	      !strcmp(json_string_value(json_object_get(obj, "name")), "blue"));
	CHECK(json_integer_value(json_object_get(obj, "mtu")) == 1500);
	json_decref(obj);
	problem_clear(&p);
}

static void test_parse_refused(void)
{
	static char deep[100000 + 16];
	size_t n;

	/* Not an object. */
	CHECK(REFUSED("[]"));
	CHECK(REFUSED("[{}]"));
	CHECK(REFUSED("42"));
	CHECK(REFUSED("\"blue\""));
	CHECK(REFUSED("null"));
	CHECK(REFUSED("true"));
	/* Trailing garbage, or a second document. */
	CHECK(REFUSED("{} x"));
	CHECK(REFUSED("{}{}"));
	CHECK(REFUSED("{},"));
	CHECK(REFUSED("{}\0"));
	CHECK(REFUSED("{}\0{}"));
	CHECK(REFUSED("{\"name\":\"a\"}\n{\"name\":\"b\"}"));
	/* Truncated. */
	CHECK(REFUSED("{"));
	CHECK(REFUSED("{\"name\""));
	CHECK(REFUSED("{\"name\":"));
	CHECK(REFUSED("{\"name\":\"blue"));
	CHECK(REFUSED("{\"name\":\"blue\""));
	/* Not JSON, though some parsers take it. */
	CHECK(REFUSED("{name:\"blue\"}"));
	CHECK(REFUSED("{'name':'blue'}"));
	CHECK(REFUSED("{\"name\":\"blue\",}"));
	CHECK(REFUSED("{\"mtu\":01500}"));
	CHECK(REFUSED("{\"mtu\":+1500}"));
	CHECK(REFUSED("{\"mtu\":0x5dc}"));
	CHECK(REFUSED("{\"mtu\":NaN}"));
	CHECK(REFUSED("{\"mtu\":Infinity}"));
	CHECK(REFUSED("{} // comment"));
	CHECK(REFUSED("/* c */ {}"));
	CHECK(REFUSED("\xef\xbb\xbf{}"));	/* byte order mark */
	CHECK(REFUSED("{\"name\":\"a\tb\"}"));	/* raw control character */
	CHECK(REFUSED("{\"name\":\"a\\qb\"}")); /* bad escape */
	/* Duplicate keys: which one would win is not for us to guess. */
	CHECK(REFUSED("{\"name\":\"a\",\"name\":\"b\"}"));
	CHECK(REFUSED("{\"name\":\"a\",\"name\":\"a\"}"));
	CHECK(REFUSED("{\"peer\":{\"name\":\"a\",\"name\":\"b\"}}"));
	/* Invalid UTF-8: lone continuation, truncated sequence, overlong
	 * '/', encoded surrogate, beyond U+10FFFF, and 0xff. */
	CHECK(REFUSED("{\"name\":\"\x80\"}"));
	CHECK(REFUSED("{\"name\":\"\xc3\"}"));
	CHECK(REFUSED("{\"name\":\"\xc0\xaf\"}"));
	CHECK(REFUSED("{\"name\":\"\xed\xa0\x80\"}"));
	CHECK(REFUSED("{\"name\":\"\xf4\x90\x80\x80\"}"));
	CHECK(REFUSED("{\"name\":\"\xff\"}"));
	CHECK(REFUSED("{\"\xff\":1}"));
	CHECK(REFUSED("{\"name\":\"blue\"}\xff"));
	/* NUL inside strings, escaped or raw, in values and in keys. */
	/* An escaped NUL in a value parses, so that the field check can
	 * name the field carrying it. */
	CHECK(nul_value_named("{\"name\":\"a\\u0000b\"}"));
	CHECK(nul_value_named("{\"name\":\"\\u0000\"}"));
	CHECK(REFUSED("{\"na\\u0000me\":\"a\"}"));
	CHECK(REFUSED("{\"name\":\"a\0b\"}"));
	/* Lone surrogate escapes. */
	CHECK(REFUSED("{\"name\":\"\\ud800\"}"));
	CHECK(REFUSED("{\"name\":\"\\udc00x\"}"));
	/* Numbers that do not fit. */
	CHECK(REFUSED("{\"mtu\":99999999999999999999999}"));
	CHECK(REFUSED("{\"mtu\":9223372036854775808}"));
	CHECK(REFUSED("{\"mtu\":-9223372036854775809}"));
	CHECK(REFUSED("{\"mtu\":1e400}"));

	/* Deep nesting must fail cleanly, not exhaust the stack. */
	memset(deep, '[', 100000);
	CHECK(body_refused(deep, 100000, true));
	n = strlen(strcpy(deep, "{\"peer\":"));
	memset(deep + n, '[', 100000);
	CHECK(body_refused(deep, n + 100000, true));
	for (n = 0; n + 5 < 100000; n += 5)
		memcpy(deep + n, "{\"a\":", 5);
	CHECK(body_refused(deep, n, true));
}

/* A refused field: the error that names `field` carries `word`. */
static int body_error_has(const struct problem *p, const char *field,
			  const char *word)
{
	json_t *e;
	size_t i;

	json_array_foreach(p->errors, i, e) {
		const char *f = json_string_value(json_object_get(e, "field"));
		const char *m =
			json_string_value(json_object_get(e, "message"));

		if (f && m && !strcmp(f, field) && strstr(m, word))
			return 1;
	}
	return 0;
}

/* Parses `text`, checks it against test_fields, and keeps the problem. */
static int body_check_text(const char *text, struct problem *p)
{
	struct problem pp = PROBLEM_INIT;
	json_t *obj = NULL;
	int r;

	if (body_parse(text, strlen(text), false, &obj, &pp) < 0) {
		fprintf(stderr, "  does not parse: %s (%s)\n", text, pp.detail);
		problem_clear(&pp);
		return 1;
	}
	r = body_check(obj, test_fields, "", p);
	json_decref(obj);
	return r;
}

/* Expects exactly one error, on `field`, with `word` in its message. */
static int body_one_error(const char *text, const char *field, const char *word)
{
	struct problem p = PROBLEM_INIT;
	int r, ok;

	r = body_check_text(text, &p);
	ok = r == -400 && body_problem_ok(&p, 400) && p.type &&
	     !strcmp(p.type, "invalid-value") &&
	     json_array_size(p.errors) == 1 &&
	     body_error_has(&p, field, word) && strstr(p.detail, field);
	if (!ok)
		fprintf(stderr, "  %s: r=%d detail=%s\n", text, r, p.detail);
	problem_clear(&p);
	return ok;
}

static int body_no_error(const char *text)
{
	struct problem p = PROBLEM_INIT;
	int r, ok;

	r = body_check_text(text, &p);
	ok = r == 0 && p.status == 0 && p.errors == NULL;
	problem_clear(&p);
	return ok;
}

static void test_check(void)
{
	struct problem p = PROBLEM_INIT;
	json_t *obj, *peer;

	CHECK(body_no_error("{\"name\":\"va\"}"));
	CHECK(body_no_error("{\"name\":\"\",\"master\":null}"));
	CHECK(body_no_error("{\"name\":\"va\",\"master\":\"br0\",\"mtu\":1500,"
			    "\"up\":false,\"peer\":{}}"));
	CHECK(body_no_error("{\"name\":\"va\",\"mtu\":-1}")); /* type only */

	/* Unknown fields, including near-misses in case and spelling. */
	CHECK(body_one_error("{\"name\":\"va\",\"nmae\":\"vb\"}", "nmae",
			     "unknown"));
	CHECK(body_one_error("{\"name\":\"va\",\"Name\":\"vb\"}", "Name",
			     "unknown"));
	CHECK(body_one_error("{\"name\":\"va\",\"mtu \":1}", "mtu ",
			     "unknown"));
	CHECK(body_one_error("{\"name\":\"va\",\"\":1}", "", "unknown"));

	/* Wrong type, for each type. */
	CHECK(body_one_error("{\"name\":1}", "name", "string"));
	CHECK(body_one_error("{\"name\":null}", "name", "string"));
	CHECK(body_one_error("{\"name\":[\"va\"]}", "name", "string"));
	CHECK(body_one_error("{\"name\":{}}", "name", "string"));
	CHECK(body_one_error("{\"name\":\"va\",\"master\":1}", "master",
			     "string or null"));
	CHECK(body_one_error("{\"name\":\"va\",\"master\":false}", "master",
			     "string or null"));
	CHECK(body_one_error("{\"name\":\"va\",\"mtu\":\"1500\"}", "mtu",
			     "integer"));
	CHECK(body_one_error("{\"name\":\"va\",\"mtu\":1500.0}", "mtu",
			     "integer"));
	CHECK(body_one_error("{\"name\":\"va\",\"mtu\":1.5e3}", "mtu",
			     "integer"));
	CHECK(body_one_error("{\"name\":\"va\",\"mtu\":null}", "mtu",
			     "integer"));
	CHECK(body_one_error("{\"name\":\"va\",\"mtu\":true}", "mtu",
			     "integer"));
	CHECK(body_one_error("{\"name\":\"va\",\"up\":1}", "up", "boolean"));
	CHECK(body_one_error("{\"name\":\"va\",\"up\":\"true\"}", "up",
			     "boolean"));
	CHECK(body_one_error("{\"name\":\"va\",\"up\":null}", "up", "boolean"));
	CHECK(body_one_error("{\"name\":\"va\",\"peer\":\"vb\"}", "peer",
			     "object"));
	CHECK(body_one_error("{\"name\":\"va\",\"peer\":[]}", "peer",
			     "object"));
	CHECK(body_one_error("{\"name\":\"va\",\"peer\":null}", "peer",
			     "object"));

	/* Missing required field. */
	CHECK(body_one_error("{}", "name", "required"));
	CHECK(body_one_error("{\"mtu\":1500}", "name", "required"));

	/* Every mistake is reported at once, not only the first. */
	CHECK(body_check_text("{\"nmae\":\"va\",\"mtu\":\"x\",\"up\":0}", &p) ==
	      -400);
	CHECK(p.status == 400);
	CHECK(json_array_size(p.errors) == 4);
	CHECK(body_error_has(&p, "nmae", "unknown"));
	CHECK(body_error_has(&p, "mtu", "integer"));
	CHECK(body_error_has(&p, "up", "boolean"));
	CHECK(body_error_has(&p, "name", "required"));
	problem_clear(&p);
	CHECK(p.status == 0 && p.errors == NULL);

	/* Nested objects: the prefix names the path to the field. */
	obj = json_pack("{s:s, s:{s:i, s:s}}", "name", "va", "peer", "name", 7,
			"nmspace", "red");
	peer = json_object_get(obj, "peer");
	CHECK(body_check(obj, test_fields, "", &p) == 0);
	CHECK(body_check(peer, test_peer_fields, "peer.", &p) == -400);
	CHECK(json_array_size(p.errors) == 2);
	CHECK(body_error_has(&p, "peer.name", "string"));
	CHECK(body_error_has(&p, "peer.nmspace", "unknown"));
	CHECK(!body_error_has(&p, "name", "string"));
	problem_clear(&p);
	json_object_del(peer, "name");
	CHECK(body_check(peer, test_peer_fields, "peer.", &p) == -400);
	CHECK(body_error_has(&p, "peer.name", "required"));
	problem_clear(&p);
	json_decref(obj);

	/* A string holding NUL cannot come from body_parse, but a caller
	 * may build one; it is refused all the same. */
	obj = json_object();
	json_object_set_new(obj, "name", json_stringn("va\0x", 4));
	CHECK(body_check(obj, test_fields, "", &p) == -400);
	CHECK(body_error_has(&p, "name", "NUL"));
	problem_clear(&p);
	json_decref(obj);

	/* A status set before (say a 409) is kept; errors are added. */
	obj = json_pack("{s:i}", "name", 1);
	problem_set(&p, 409, "conflict", "already there");
	CHECK(body_check(obj, test_fields, "", &p) == -409);
	CHECK(p.status == 409 && json_array_size(p.errors) == 1);
	CHECK(!strcmp(p.detail, "already there"));
	problem_clear(&p);
	json_decref(obj);
}

/* A long non-ASCII field name is cut to fit; the cut must not leave half a
 * character, or the problem could not be sent at all. */
static void test_check_long_utf8_field(void)
{
	struct problem p = PROBLEM_INIT;
	char key[2 * 200 + 1];
	json_t *obj, *doc;
	const char *field;

	for (int shift = 0; shift < 2; shift++) {
		size_t n = 0;

		if (shift)
			key[n++] = 'x';
		while (n + 2 < sizeof(key)) {
			key[n++] = '\xc3';
			key[n++] = '\xa9';
		}
		key[n] = '\0';
		obj = json_object();
		json_object_set_new(obj, key, json_integer(1));
		json_object_set_new(obj, "name", json_string("va"));
		CHECK(body_check(obj, test_fields, "", &p) == -400);
		CHECK(json_array_size(p.errors) == 1);
		field = json_string_value(
			json_object_get(json_array_get(p.errors, 0), "field"));
		CHECK(field && !strncmp(field, key, strlen(field) / 2 * 2));
		doc = problem_to_json(&p);
		CHECK(doc != NULL);
		CHECK(json_array_size(json_object_get(doc, "errors")) == 1);
		json_decref(doc);
		problem_clear(&p);
		json_decref(obj);
	}
}

static void test_status_for_errno(void)
{
	CHECK(problem_status_for_errno(-EEXIST) == 409);
	CHECK(problem_status_for_errno(-EBUSY) == 409);
	CHECK(problem_status_for_errno(-EXFULL) == 409);
	CHECK(problem_status_for_errno(-ENOTEMPTY) == 409);
	CHECK(problem_status_for_errno(-EADDRINUSE) == 409);
	CHECK(problem_status_for_errno(-ENOENT) == 404);
	CHECK(problem_status_for_errno(-ENODEV) == 404);
	CHECK(problem_status_for_errno(-ESRCH) == 404);
	CHECK(problem_status_for_errno(-EADDRNOTAVAIL) == 404);
	CHECK(problem_status_for_errno(-EINVAL) == 400);
	CHECK(problem_status_for_errno(-ERANGE) == 400);
	CHECK(problem_status_for_errno(-EOPNOTSUPP) == 400);
	CHECK(problem_status_for_errno(-EAFNOSUPPORT) == 400);
	CHECK(problem_status_for_errno(-E2BIG) == 400);
	CHECK(problem_status_for_errno(-ENAMETOOLONG) == 400);
	CHECK(problem_status_for_errno(-ELOOP) == 400);
	/* A full disk is its own status (handlers/common.c agrees). */
	CHECK(problem_status_for_errno(-ENOSPC) == 507);
	CHECK(problem_status_for_errno(-EDQUOT) == 507);
	/* Everything unexpected is a 500, never a client error. */
	CHECK(problem_status_for_errno(-EIO) == 500);
	CHECK(problem_status_for_errno(-EPERM) == 500);
	CHECK(problem_status_for_errno(-EACCES) == 500);
	CHECK(problem_status_for_errno(-ENOMEM) == 500);
	CHECK(problem_status_for_errno(-ENOBUFS) == 500);
	CHECK(problem_status_for_errno(-EROFS) == 500);
	CHECK(problem_status_for_errno(-EBADMSG) == 500);
	CHECK(problem_status_for_errno(0) == 500);
	CHECK(problem_status_for_errno(-9999) == 500);
}

/* Every key of a problem document, and nothing else. */
static int problem_keys_are(json_t *doc, bool with_errors)
{
	return json_is_string(json_object_get(doc, "type")) &&
	       json_is_string(json_object_get(doc, "title")) &&
	       json_is_integer(json_object_get(doc, "status")) &&
	       json_is_string(json_object_get(doc, "detail")) &&
	       (with_errors ? json_is_array(json_object_get(doc, "errors")) &&
				      json_is_integer(json_object_get(
					      doc, "error_count"))
			    : !json_object_get(doc, "errors") &&
				      !json_object_get(doc, "error_count")) &&
	       json_object_size(doc) == (with_errors ? 6u : 4u);
}

static const char *str_of(json_t *doc, const char *key)
{
	const char *s = json_string_value(json_object_get(doc, key));

	return s ? s : "";
}

static void test_problem(void)
{
	struct problem p = PROBLEM_INIT;
	char big[2000];
	json_t *doc, *e;

	CHECK(p.status == 0 && p.errors == NULL && p.detail[0] == '\0');

	/* problem_set: returns -status, fills type, title and detail. */
	CHECK(problem_set(&p, 409, "conflict", "namespace %s exists", "blue") ==
	      -409);
	doc = problem_to_json(&p);
	CHECK(doc && problem_keys_are(doc, false));
	CHECK(!strcmp(str_of(doc, "type"), "urn:netnsd:problem:conflict"));
	CHECK(!strcmp(str_of(doc, "title"), "Conflict"));
	CHECK(json_integer_value(json_object_get(doc, "status")) == 409);
	CHECK(!strcmp(str_of(doc, "detail"), "namespace blue exists"));
	json_decref(doc);
	problem_clear(&p);
	CHECK(p.status == 0 && p.type == NULL && p.detail[0] == '\0');

	/* Titles follow the status. */
	problem_set(&p, 404, "not-found", "x");
	CHECK(p.title && !strcmp(p.title, "Not Found"));
	problem_set(&p, 405, "method-not-allowed", "x");
	CHECK(p.title && !strcmp(p.title, "Method Not Allowed"));
	problem_set(&p, 413, "too-large", "x");
	CHECK(p.title && !strcmp(p.title, "Content Too Large"));
	problem_set(&p, 415, "unsupported-media-type", "x");
	CHECK(p.title && !strcmp(p.title, "Unsupported Media Type"));
	problem_set(&p, 500, "internal", "x");
	CHECK(p.title && !strcmp(p.title, "Internal Server Error"));
	problem_clear(&p);

	/* problem_field: a 400 "invalid-value" naming the field. */
	CHECK(problem_field(&p, "mtu", "must be at least %d", 68) == -400);
	CHECK(problem_field(&p, "mac", "must be unicast") == -400);
	CHECK(p.status == 400 && !strcmp(p.type, "invalid-value"));
	CHECK(strstr(p.detail, "mtu") && strstr(p.detail, "68"));
	doc = problem_to_json(&p);
	CHECK(doc && problem_keys_are(doc, true));
	CHECK(!strcmp(str_of(doc, "type"), "urn:netnsd:problem:invalid-value"));
	CHECK(!strcmp(str_of(doc, "title"), "Bad Request"));
	CHECK(json_array_size(json_object_get(doc, "errors")) == 2);
	CHECK(json_integer_value(json_object_get(doc, "error_count")) == 2);
	e = json_array_get(json_object_get(doc, "errors"), 0);
	CHECK(json_object_size(e) == 2);
	CHECK(!strcmp(str_of(e, "field"), "mtu"));
	CHECK(!strcmp(str_of(e, "message"), "must be at least 68"));
	e = json_array_get(json_object_get(doc, "errors"), 1);
	CHECK(!strcmp(str_of(e, "field"), "mac"));
	json_decref(doc);
	problem_clear(&p);
	CHECK(p.errors == NULL);

	/* A type-less problem still says something valid. */
	p.status = 500;
	doc = problem_to_json(&p);
	CHECK(doc &&
	      !strcmp(str_of(doc, "type"), "urn:netnsd:problem:internal"));
	CHECK(doc && !strcmp(str_of(doc, "title"), "Internal Server Error"));
	json_decref(doc);
	problem_clear(&p);

	/* problem_errno: status from errno, the kernel's words first. */
	CHECK(problem_errno(&p, -EEXIST, "create link va",
			    "File exists (extack)") == -409);
	CHECK(!strcmp(p.type, "conflict"));
	CHECK(!strcmp(p.detail, "create link va: File exists (extack)"));
	problem_clear(&p);
	CHECK(problem_errno(&p, -ENODEV, "get link va", NULL) == -404);
	CHECK(!strcmp(p.type, "not-found"));
	CHECK(strstr(p.detail, "get link va: ") == p.detail);
	CHECK(strstr(p.detail, strerror(ENODEV)) != NULL);
	problem_clear(&p);
	CHECK(problem_errno(&p, -EINVAL, "set mtu", "") == -400);
	CHECK(strstr(p.detail, strerror(EINVAL)) != NULL);
	problem_clear(&p);
	CHECK(problem_errno(&p, -EXFULL, "attach port", NULL) == -409);
	CHECK(strstr(p.detail, "1023") != NULL);
	problem_clear(&p);
	CHECK(problem_errno(&p, -EIO, "commit", NULL) == -500);
	CHECK(!strcmp(p.type, "internal"));
	problem_clear(&p);

	/* A detail too long is cut, and still a valid document, even when
	 * the cut falls inside a multi-byte character. */
	memset(big, 'd', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	problem_set(&p, 400, "invalid-value", "%s", big);
	CHECK(strlen(p.detail) == sizeof(p.detail) - 1);
	doc = problem_to_json(&p);
	CHECK(doc != NULL);
	json_decref(doc);
	for (size_t i = 0; i + 2 < sizeof(big); i += 2)
		memcpy(big + i, "\xc3\xa9", 2);
	big[sizeof(big) - 1] = '\0';
	problem_set(&p, 400, "invalid-value", "%s", big);
	doc = problem_to_json(&p);
	CHECK(doc != NULL);
	CHECK(doc && !strncmp(str_of(doc, "detail"), big, 500));
	json_decref(doc);
	problem_set(&p, 400, "invalid-value", "x%s", big);
	doc = problem_to_json(&p);
	CHECK(doc != NULL);
	json_decref(doc);
	problem_clear(&p);

	problem_clear(&p); /* twice is harmless */
	CHECK(p.status == 0);
}

/* A body of many bad fields: errors[] keeps the first PROBLEM_ERRORS_MAX,
 * error_count counts them all, and the document stays small. */
static void test_check_many_errors(void)
{
	struct problem p = PROBLEM_INIT;
	json_t *obj = json_object(), *doc, *errs;
	char key[32], *text;
	size_t n = 60000;

	json_object_set_new(obj, "name", json_string("va"));
	for (size_t i = 0; i < n; i++) {
		snprintf(key, sizeof(key), "f%zu", i);
		json_object_set_new(obj, key, json_integer(0));
	}
	CHECK(body_check(obj, test_fields, "", &p) == -400);
	CHECK(p.status == 400 && p.n_errors == n);
	CHECK(json_array_size(p.errors) == PROBLEM_ERRORS_MAX);
	doc = problem_to_json(&p);
	errs = json_object_get(doc, "errors");
	CHECK(doc && problem_keys_are(doc, true));
	CHECK(json_array_size(errs) == PROBLEM_ERRORS_MAX);
	CHECK(json_integer_value(json_object_get(doc, "error_count")) ==
	      (json_int_t)n);
	for (size_t i = 0; i < json_array_size(errs); i++)
		CHECK(!strcmp(str_of(json_array_get(errs, i), "message"),
			      "unknown field"));
	text = json_dumps(doc, JSON_COMPACT);
	CHECK(text && strlen(text) < 4096);
	free(text);
	json_decref(doc);
	problem_clear(&p);
	CHECK(p.n_errors == 0 && p.errors == NULL);

	/* The cap is on the problem, not per call: a nested object's errors
	 * add to the count of the errors before it. */
	for (size_t i = 0; i < PROBLEM_ERRORS_MAX - 1; i++)
		problem_field(&p, "x", "bad");
	CHECK(problem_field(&p, "y", "bad") == -400);
	CHECK(problem_field(&p, "z", "bad") == -400);
	CHECK(json_array_size(p.errors) == PROBLEM_ERRORS_MAX);
	CHECK(p.n_errors == PROBLEM_ERRORS_MAX + 1);
	CHECK(!strcmp(str_of(json_array_get(p.errors, PROBLEM_ERRORS_MAX - 1),
			     "field"),
		      "y"));
	problem_clear(&p);
	json_decref(obj);
}

int main(void)
{
	test_parse_empty();
	test_parse_objects();
	test_parse_refused();
	test_check();
	test_check_long_utf8_field();
	test_status_for_errno();
	test_problem();
	test_check_many_errors();
	return check_report();
}
