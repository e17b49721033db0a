/* Unit tests of api/jsonbuf.c: what it writes is what json_dumps prints for
 * the same values (compact, ASCII only), escapes and all, and it refuses
 * what jansson refuses. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/jsonbuf.h"

#include "check.h"

/* jsonbuf_str(s) is json_dumps of json_string(s). */
static int str_same(const char *s)
{
	struct jsonbuf b = JSONBUF_INIT;
	json_t *j = json_string(s);
	char *want = json_dumps(j, JSON_COMPACT | JSON_ENSURE_ASCII |
					   JSON_ENCODE_ANY),
	     *got;
	size_t len = 0;
	int same;

	jsonbuf_str(&b, s);
	got = jsonbuf_steal(&b, &len);
	same = want && got && !strcmp(want, got) && len == strlen(want);
	if (!same)
		fprintf(stderr, "want %s, got %s\n", want ? want : "(null)",
			got ? got : "(null)");
	free(want);
	free(got);
	json_decref(j);
	return same;
}

static void test_strings(void)
{
	CHECK(str_same(""));
	CHECK(str_same("veth0"));
	CHECK(str_same("a.b-c_d@e"));
	CHECK(str_same("with \"quotes\" and \\ backslash"));
	CHECK(str_same("tab\there, newline\n, cr\r, \b\f and \x01\x1f"));
	CHECK(str_same("slash / stays"));
	CHECK(str_same("del \x7f"));
	CHECK(str_same("caf\xc3\xa9"));		  /* U+00E9 */
	CHECK(str_same("\xe2\x82\xac"));	  /* U+20AC */
	CHECK(str_same("\xf0\x9f\x98\x80 face")); /* a surrogate pair */
}

static void test_invalid_utf8(void)
{
	struct jsonbuf b = JSONBUF_INIT;
	size_t len = 0;

	jsonbuf_lit(&b, "[");
	jsonbuf_str(&b, "ok");
	len = b.len;
	jsonbuf_lit(&b, ",");
	jsonbuf_str(&b, "bad \xff byte");
	CHECK(b.err == -EILSEQ);
	jsonbuf_lit(&b, "ignored");
	/* The half-written item goes, and writing goes on. */
	jsonbuf_rewind(&b, len);
	CHECK(b.err == 0);
	jsonbuf_lit(&b, "]");
	CHECK(b.data && !strcmp(b.data, "[\"ok\"]"));
	jsonbuf_free(&b);
	jsonbuf_free(&b);
	jsonbuf_free(NULL);

	/* A failure left in place makes the text unavailable. */
	jsonbuf_str(&b, "\xc3");
	CHECK(jsonbuf_steal(&b, &len) == NULL);
}

static void test_values(void)
{
	struct jsonbuf b = JSONBUF_INIT;
	json_t *j = json_pack("{s:i, s:b, s:n, s:[s, s], s:{}}", "n", -42, "t",
			      1, "z", "a", "x", "y\"", "o");
	char *want = json_dumps(j, JSON_COMPACT | JSON_ENSURE_ASCII), *got;
	size_t len = 0;

	jsonbuf_lit(&b, "{\"n\":");
	jsonbuf_int(&b, -42);
	jsonbuf_lit(&b, ",\"t\":");
	jsonbuf_bool(&b, true);
	jsonbuf_lit(&b, ",\"z\":");
	jsonbuf_str(&b, NULL);
	jsonbuf_lit(&b, ",\"a\":");
	jsonbuf_json(&b, json_object_get(j, "a"));
	jsonbuf_lit(&b, ",\"o\":{}}");
	got = jsonbuf_steal(&b, &len);
	CHECK(got && want && !strcmp(got, want) && len == strlen(want));
	free(got);
	free(want);
	json_decref(j);

	jsonbuf_bool(&b, false);
	jsonbuf_int(&b, 9223372036854775807LL);
	got = jsonbuf_steal(&b, &len);
	CHECK(got && !strcmp(got, "false9223372036854775807"));
	free(got);

	/* Integers read as jansson prints them. */
	{
		static const long long ns[] = { 0,
						-1,
						7,
						10,
						-10,
						65536,
						2147483647,
						-2147483648LL,
						(-9223372036854775807LL - 1) };
		char want_int[32];

		for (size_t i = 0; i < sizeof(ns) / sizeof(ns[0]); i++) {
			jsonbuf_int(&b, ns[i]);
			snprintf(want_int, sizeof(want_int), "%lld", ns[i]);
			got = jsonbuf_steal(&b, &len);
			CHECK(got && !strcmp(got, want_int));
			free(got);
		}
	}

	/* Room made ahead changes nothing written. */
	jsonbuf_reserve(&b, 1 << 20);
	CHECK(b.err == 0 && b.len == 0 && b.cap > 1 << 20);
	jsonbuf_lit(&b, "x");
	CHECK(!strcmp(b.data, "x"));
	jsonbuf_free(&b);

	/* Large output grows the buffer. */
	for (int i = 0; i < 100000; i++)
		jsonbuf_str(&b, "0123456789");
	CHECK(b.err == 0 && b.len == 1200000);
	jsonbuf_free(&b);

	jsonbuf_json(&b, NULL);
	CHECK(b.err == -EINVAL);
	jsonbuf_free(&b);
}

int main(void)
{
	test_strings();
	test_invalid_utf8();
	test_values();
	return check_report();
}
