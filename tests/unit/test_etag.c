/* Unit tests of server/etag.c: the ETag of a body, and how If-Match and
 * If-None-Match values are read against it (RFC 9110, 8.8.3 and 13.1). */
#include <stdio.h>
#include <string.h>

#include "server/etag.h"

#include "check.h"

static const char *tag = "\"0123456789abcdef\"";

static struct etag_cond cond_of(const char *value)
{
	struct etag_cond c = { 0 };

	etag_cond_add(&c, value, tag);
	return c;
}

/* XXH64 with seed 0, as its specification's reference implementation
 * (libxxhash 0.8.1) computes it: every path of the function, from the
 * bytes-only tail to several 32-byte stripes and all three tails. */
static const struct {
	const char *in;
	unsigned long long want;
} vectors[] = {
	{ "", 0xef46db3751d8e999ULL },
	{ "a", 0xd24ec4f1a98c6e5bULL },
	{ "abc", 0x44bc2cf5ad770999ULL },
	{ "{\"status\":\"ok\"}\n", 0x012e770a3c933edeULL },
	{ "0123456789abcdef0123456789abcdef", 0x642a94958e71e6c5ULL },
	{ "The quick brown fox jumps over the lazy dog",
	  0x0b242d361fda71bcULL },
	{ "{\"items\":[{\"name\":\"red\",\"managed\":true,\"links\":2,\"in_sync\":true}]}\n",
	  0x55080b19361a7edeULL },
};

static void test_etag_of(void)
{
	char a[ETAG_SIZE], b[ETAG_SIZE];
	unsigned char bin[1003];

	for (size_t i = 0; i < sizeof(vectors) / sizeof(vectors[0]); i++) {
		unsigned long long got =
			etag_hash(vectors[i].in, strlen(vectors[i].in));

		if (got != vectors[i].want)
			fprintf(stderr, "  XXH64(\"%s\") = %016llx\n",
				vectors[i].in, got);
		CHECK(got == vectors[i].want);
	}
	/* Binary bytes, and lengths that end in each kind of tail. */
	for (size_t i = 0; i < sizeof(bin); i++)
		bin[i] = (unsigned char)(i * 7 + 3);
	CHECK(etag_hash(bin, 37) == 0xe32ef63802f5a3fdULL);
	CHECK(etag_hash(bin, 44) == 0xa4b19436ab40edb0ULL);
	CHECK(etag_hash(bin, 1003) == 0x778430d269b09bd7ULL);
	etag_of("{\"items\":[]}\n", 13, a);
	CHECK(strlen(a) == 18 && a[0] == '"' && a[17] == '"');
	CHECK(strspn(a + 1, "0123456789abcdef") == 16);
	/* The same bytes, the same tag; one byte more or other, another. */
	etag_of("{\"items\":[]}\n", 13, b);
	CHECK(!strcmp(a, b));
	etag_of("{\"items\":[]}\n", 12, b);
	CHECK(strcmp(a, b));
	etag_of("{\"items\":[1]}\n", 14, b);
	CHECK(strcmp(a, b));
	etag_of("", 0, b);
	CHECK(!strcmp(b, "\"ef46db3751d8e999\""));
}

static void test_cond(void)
{
	struct etag_cond c;

	c = cond_of(tag);
	CHECK(c.present && c.strong && c.weak && !c.star);
	c = cond_of("W/\"0123456789abcdef\"");
	CHECK(c.present && !c.strong && c.weak);
	c = cond_of("\"x\", \"0123456789abcdef\" ,\"y\"");
	CHECK(c.strong && c.weak);
	c = cond_of(" , \"x\",,\t\"0123456789abcdef\"");
	CHECK(c.strong);
	c = cond_of("\"x\"");
	CHECK(c.present && !c.strong && !c.weak && !c.star);
	c = cond_of("*");
	CHECK(c.present && c.star);
	c = cond_of("  *  ");
	CHECK(c.star);
	/* Not a list of entity-tags: matches nothing, for either field. */
	c = cond_of("0123456789abcdef");
	CHECK(c.present && !c.strong && !c.weak && !c.star);
	c = cond_of("\"0123456789abcdef");
	CHECK(!c.strong && !c.weak);
	c = cond_of("\"0123456789abcdef\" x");
	CHECK(!c.strong && !c.weak);
	c = cond_of("*, \"0123456789abcdef\"");
	CHECK(!c.star && !c.strong);
	c = cond_of("w/\"0123456789abcdef\"");
	CHECK(!c.weak);
	c = cond_of("\"a b\", \"0123456789abcdef\"");
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
