/* Unit tests of api/name.c: the name rules of openapi/openapi.yaml
 * (NamespaceName, LinkName, NewLinkName), each checked from both sides,
 * since a rule that refuses everything passes half of them. */
#include <stdio.h>
#include <string.h>

#include "api/name.h"

#include "check.h"

/* A refusal must also say why, in a non-empty sentence. */
#define VALID(fn, s)   CHECK((fn)(s) == NULL)
#define INVALID(fn, s) CHECK((fn)(s) != NULL && *(fn)(s) != '\0')

/* A string of `n` copies of `c` (n < 256). */
static const char *name_repeat(char *buf, char c, size_t n)
{
	memset(buf, c, n);
	buf[n] = '\0';
	return buf;
}

static void test_namespace_valid(void)
{
	char buf[256];

	VALID(name_check_namespace, "a");
	VALID(name_check_namespace, "Z");
	VALID(name_check_namespace, "0");
	VALID(name_check_namespace, "_");
	VALID(name_check_namespace, "blue");
	VALID(name_check_namespace, "Blue-Team_2");
	VALID(name_check_namespace, "9lives");
	VALID(name_check_namespace, "_private");
	VALID(name_check_namespace, "a.b.c");
	VALID(name_check_namespace, "a..b"); /* dots inside are fine */
	VALID(name_check_namespace, "a.");
	VALID(name_check_namespace, "a-");
	VALID(name_check_namespace, "host"); /* valid syntax, reserved */
	VALID(name_check_namespace, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOP"
				    "QRSTUVWXYZ0123456789_.");
	VALID(name_check_namespace, name_repeat(buf, 'n', 1));
	VALID(name_check_namespace, name_repeat(buf, 'n', 63));
	VALID(name_check_namespace, name_repeat(buf, 'n', NAME_NS_MAX));
}

static void test_namespace_invalid(void)
{
	char buf[256];

	INVALID(name_check_namespace, NULL);
	INVALID(name_check_namespace, "");
	INVALID(name_check_namespace, name_repeat(buf, 'n', NAME_NS_MAX + 1));
	INVALID(name_check_namespace, name_repeat(buf, 'n', 200));
	/* Path tricks: these become file names under /run/netns. */
	INVALID(name_check_namespace, ".");
	INVALID(name_check_namespace, "..");
	INVALID(name_check_namespace, "...");
	INVALID(name_check_namespace, ".hidden");
	INVALID(name_check_namespace, "../etc");
	INVALID(name_check_namespace, "/");
	INVALID(name_check_namespace, "a/b");
	INVALID(name_check_namespace, "/etc/passwd");
	INVALID(name_check_namespace, "a\\b");
	/* Leading '-' would read as an option to `ip netns`. */
	INVALID(name_check_namespace, "-");
	INVALID(name_check_namespace, "-blue");
	INVALID(name_check_namespace, "--help");
	/* Whitespace and control characters. */
	INVALID(name_check_namespace, " ");
	INVALID(name_check_namespace, " blue");
	INVALID(name_check_namespace, "blue ");
	INVALID(name_check_namespace, "bl ue");
	INVALID(name_check_namespace, "a\tb");
	INVALID(name_check_namespace, "a\nb");
	INVALID(name_check_namespace, "a\rb");
	INVALID(name_check_namespace, "a\x01");
	INVALID(name_check_namespace, "a\x1f");
	INVALID(name_check_namespace, "a\x7f");
	/* Other punctuation outside [A-Za-z0-9_.-]. */
	INVALID(name_check_namespace, "a:b");
	INVALID(name_check_namespace, "a@b");
	INVALID(name_check_namespace, "a%2Fb");
	INVALID(name_check_namespace, "a*");
	INVALID(name_check_namespace, "a?");
	INVALID(name_check_namespace, "a+b");
	INVALID(name_check_namespace, "a,b");
	INVALID(name_check_namespace, "a=b");
	INVALID(name_check_namespace, "a~");
	INVALID(name_check_namespace, "$(id)");
	INVALID(name_check_namespace, "a;b");
	INVALID(name_check_namespace, "'a'");
	INVALID(name_check_namespace, "\"a\"");
	/* Non-ASCII: valid UTF-8, invalid UTF-8, and a lone high byte. */
	INVALID(name_check_namespace, "bl\xc3\xa9");
	INVALID(name_check_namespace, "\xc3\xa9");
	INVALID(name_check_namespace, "a\xff");
	INVALID(name_check_namespace, "a\x80");
	INVALID(name_check_namespace, "\xe2\x80\x8b"); /* zero-width space */
	/* 64 characters but one of them bad, at either end. */
	name_repeat(buf, 'n', NAME_NS_MAX);
	buf[NAME_NS_MAX - 1] = '/';
	INVALID(name_check_namespace, buf);
	buf[NAME_NS_MAX - 1] = 'n';
	buf[0] = '.';
	INVALID(name_check_namespace, buf);
}

static void test_link_valid(void)
{
	char buf[256];

	VALID(name_check_link, "a");
	VALID(name_check_link, "lo");
	VALID(name_check_link, "eth0");
	VALID(name_check_link, "veth0@if3");
	VALID(name_check_link, "br-lan");
	VALID(name_check_link, "wlp0s20f3");
	VALID(name_check_link, name_repeat(buf, 'x', NAME_LINK_MAX));
	/* The kernel allows more than names we give: leading '.' or '-',
	 * and other punctuation. */
	VALID(name_check_link, "...");
	VALID(name_check_link, ".x");
	VALID(name_check_link, "-x");
	VALID(name_check_link, "a+b");
	VALID(name_check_link, "a%b");
	VALID(name_check_link, "~!");
	/* Non-ASCII, which the kernel also allows, is not asked for: a
	 * client counts characters where the kernel counts bytes. */
	INVALID(name_check_link, "caf\xc3\xa9");
	INVALID(name_check_link,
		"\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9x");
	INVALID(name_check_link, "a\x80");
	INVALID(name_check_link, "a\xff");
}

static void test_link_invalid(void)
{
	char buf[256];

	INVALID(name_check_link, NULL);
	INVALID(name_check_link, "");
	INVALID(name_check_link, name_repeat(buf, 'x', NAME_LINK_MAX + 1));
	INVALID(name_check_link, name_repeat(buf, 'x', 64));
	/* 16 bytes, only eight characters: the limit is in bytes. */
	INVALID(name_check_link, "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3"
				 "\xa9\xc3\xa9\xc3\xa9");
	INVALID(name_check_link, ".");
	INVALID(name_check_link, "..");
	INVALID(name_check_link, "/");
	INVALID(name_check_link, "a/b");
	INVALID(name_check_link, "../x");
	INVALID(name_check_link, ":");
	INVALID(name_check_link, "eth0:1");
	INVALID(name_check_link, " ");
	INVALID(name_check_link, " eth0");
	INVALID(name_check_link, "eth0 ");
	INVALID(name_check_link, "a\tb");
	INVALID(name_check_link, "a\nb");
	INVALID(name_check_link, "a\vb");
	INVALID(name_check_link, "a\fb");
	INVALID(name_check_link, "a\rb");
	INVALID(name_check_link, "a\x01");
	INVALID(name_check_link, "a\x1b");
	INVALID(name_check_link, "a\x7f");
}

static void test_new_link_valid(void)
{
	char buf[256];

	VALID(name_check_new_link, "a");
	VALID(name_check_new_link, "veth0");
	VALID(name_check_new_link, "VETH0");
	VALID(name_check_new_link, "br-lan");
	VALID(name_check_new_link, "a_b");
	VALID(name_check_new_link, "a.b");
	VALID(name_check_new_link, "v@1");
	VALID(name_check_new_link, "@");
	VALID(name_check_new_link, "-x"); /* openapi.yaml limits only the set */
	VALID(name_check_new_link, ".x");
	VALID(name_check_new_link, "...");
	VALID(name_check_new_link, name_repeat(buf, 'v', NAME_LINK_MAX));
	VALID(name_check_new_link, "Az09_.@-Az09_.@");
}

static void test_new_link_invalid(void)
{
	char buf[256];

	/* Everything an existing link name may not be... */
	INVALID(name_check_new_link, NULL);
	INVALID(name_check_new_link, "");
	INVALID(name_check_new_link, name_repeat(buf, 'v', NAME_LINK_MAX + 1));
	INVALID(name_check_new_link, ".");
	INVALID(name_check_new_link, "..");
	INVALID(name_check_new_link, "a/b");
	INVALID(name_check_new_link, "a:b");
	INVALID(name_check_new_link, "a b");
	INVALID(name_check_new_link, "a\tb");
	INVALID(name_check_new_link, "a\x01");
	INVALID(name_check_new_link, "a\x7f");
	/* ...and what the kernel would take but we do not give. */
	INVALID(name_check_new_link, "a+b");
	INVALID(name_check_new_link, "a%b");
	INVALID(name_check_new_link, "a#b");
	INVALID(name_check_new_link, "a,b");
	INVALID(name_check_new_link, "a=b");
	INVALID(name_check_new_link, "a*b");
	INVALID(name_check_new_link, "a\\b");
	INVALID(name_check_new_link, "a'b");
	INVALID(name_check_new_link, "caf\xc3\xa9");
	INVALID(name_check_new_link, "a\xff");
}

static void test_is_host(void)
{
	CHECK(name_is_host("host"));
	CHECK(name_is_host(NAME_HOST));
	CHECK(!name_is_host(NULL));
	CHECK(!name_is_host(""));
	CHECK(!name_is_host("Host"));
	CHECK(!name_is_host("HOST"));
	CHECK(!name_is_host("hos"));
	CHECK(!name_is_host("hostx"));
	CHECK(!name_is_host("host "));
	CHECK(!name_is_host(" host"));
	CHECK(!name_is_host("blue"));
}

int main(void)
{
	test_namespace_valid();
	test_namespace_invalid();
	test_link_valid();
	test_link_invalid();
	test_new_link_valid();
	test_new_link_invalid();
	test_is_host();
	return check_report();
}
