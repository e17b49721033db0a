/* Unit tests of server/etag.c: the ETag of a body, and how If-Match and
 * If-None-Match values are read against it (RFC 9110, 8.8.3 and 13.1). */
#include <stdio.h>
#include <string.h>

#include "server/etag.h"

#include "check.h"

static const char *tag = "\"0123456789abcdef0123456789abcdef\"";

static struct etag_cond cond_of(const char *value)
{
	struct etag_cond c = { 0 };

	etag_cond_add(&c, value, tag);
	return c;
}

static void test_etag_of(void)
{
	char a[ETAG_SIZE], b[ETAG_SIZE], e[ETAG_SIZE];

	CHECK(etag_of("{\"items\":[]}\n", 13, a) == 0);
	CHECK(strlen(a) == 34 && a[0] == '"' && a[33] == '"');
	CHECK(strspn(a + 1, "0123456789abcdef") == 32);
	/* The same bytes, the same tag; one byte more or other, another. */
	CHECK(etag_of("{\"items\":[]}\n", 13, b) == 0 && !strcmp(a, b));
	CHECK(etag_of("{\"items\":[]}\n", 12, b) == 0 && strcmp(a, b));
	CHECK(etag_of("{\"items\":[1]}\n", 14, b) == 0 && strcmp(a, b));
	/* SHA-256 of nothing: e3b0c442 98fc1c14 9afbf4c8 996fb924 ... */
	CHECK(etag_of("", 0, e) == 0 &&
	      !strcmp(e, "\"e3b0c44298fc1c149afbf4c8996fb924\""));
}

static void test_cond(void)
{
	struct etag_cond c;

	c = cond_of(tag);
	CHECK(c.present && c.strong && c.weak && !c.star);
	c = cond_of("W/\"0123456789abcdef0123456789abcdef\"");
	CHECK(c.present && !c.strong && c.weak);
	c = cond_of("\"x\", \"0123456789abcdef0123456789abcdef\" ,\"y\"");
	CHECK(c.strong && c.weak);
	c = cond_of(" , \"x\",,\t\"0123456789abcdef0123456789abcdef\"");
	CHECK(c.strong);
	c = cond_of("\"x\"");
	CHECK(c.present && !c.strong && !c.weak && !c.star);
	c = cond_of("*");
	CHECK(c.present && c.star);
	c = cond_of("  *  ");
	CHECK(c.star);
	/* Not a list of entity-tags: matches nothing, for either field. */
	c = cond_of("0123456789abcdef0123456789abcdef");
	CHECK(c.present && !c.strong && !c.weak && !c.star);
	c = cond_of("\"0123456789abcdef0123456789abcdef");
	CHECK(!c.strong && !c.weak);
	c = cond_of("\"0123456789abcdef0123456789abcdef\" x");
	CHECK(!c.strong && !c.weak);
	c = cond_of("*, \"0123456789abcdef0123456789abcdef\"");
	CHECK(!c.star && !c.strong);
	c = cond_of("w/\"0123456789abcdef0123456789abcdef\"");
	CHECK(!c.weak);
	c = cond_of("\"a b\", \"0123456789abcdef0123456789abcdef\"");
	CHECK(!c.strong);
	c = cond_of("");
	CHECK(c.present && !c.strong && !c.star);
	/* Several fields add up. */
	c = cond_of("\"x\"");
	etag_cond_add(&c, tag, tag);
	CHECK(c.strong);
	/* Without a current tag, only presence and * count. */
	memset(&c, 0, sizeof(c));
	etag_cond_add(&c, tag, NULL);
	CHECK(c.present && !c.strong && !c.weak);
}

int main(void)
{
	test_etag_of();
	test_cond();
	return check_report();
}
