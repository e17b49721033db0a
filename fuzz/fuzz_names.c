/* Names and values: every check is compared with the rule openapi.yaml states,
 * worked out here the plain way, and every value that passes must format to
 * a canonical text that parses back to the same value. The input is one or
 * two NUL-separated strings; the second is the prefix length for
 * value_parse_ip_prefix(). Raw bytes also feed the formatters. */
#include "fuzz.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <sys/socket.h>

#include "api/name.h"
#include "api/value.h"

static bool fuzz_portable(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-';
}

/* 1-64 characters of [A-Za-z0-9_.-], not starting with '.' or '-'. */
static bool fuzz_ns_ok(const char *s)
{
	size_t len = strlen(s);

	if (len < 1 || len > 64 || s[0] == '.' || s[0] == '-')
		return false;
	for (size_t i = 0; i < len; i++)
		if (!fuzz_portable(s[i]))
			return false;
	return true;
}

/* 1-15 printable ASCII bytes, not "." or "..", no '/', ':' or space. */
static bool fuzz_link_ok(const char *s)
{
	size_t len = strlen(s);

	if (len < 1 || len > 15 || !strcmp(s, ".") || !strcmp(s, ".."))
		return false;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '/' || c == ':' || c < 0x21 || c > 0x7e)
			return false;
	}
	/* Names become JSON strings: jansson, checked independently, must
	 * take them. */
	{
		json_t *j = json_string(s);
		bool ok = j != NULL;

		json_decref(j);
		FUZZ_CHECK(ok);
		return true;
	}
}

static bool fuzz_new_link_ok(const char *s)
{
	if (!fuzz_link_ok(s))
		return false;
	for (; *s; s++)
		if (!fuzz_portable(*s) && *s != '@')
			return false;
	return true;
}

static void fuzz_names(const char *s)
{
	const char *why;

	why = name_check_namespace(s);
	FUZZ_CHECK(!why == fuzz_ns_ok(s));
	if (!why) {
		/* It becomes a file name under the netns directory. */
		FUZZ_CHECK(!strchr(s, '/'));
		FUZZ_CHECK(strcmp(s, ".") && strcmp(s, ".."));
	}
	FUZZ_CHECK(!name_check_link(s) == fuzz_link_ok(s));
	why = name_check_new_link(s);
	FUZZ_CHECK(!why == fuzz_new_link_ok(s));
	if (!why)
		FUZZ_CHECK(!name_check_link(s));
	FUZZ_CHECK(name_is_host(s) == !strcmp(s, "host"));
}

static void fuzz_mac(const char *s)
{
	uint8_t mac[6], again[6];
	bool ok = strlen(s) == 17;
	char text[18], lower[18];

	for (int i = 0; ok && i < 17; i++)
		ok = i % 3 == 2 ? s[i] == ':' : isxdigit((unsigned char)s[i]);
	if (ok) {
		for (int i = 0; i < 6; i++)
			mac[i] = (uint8_t)strtoul(
				(char[]){ s[i * 3], s[i * 3 + 1], 0 }, NULL,
				16);
		ok = !(mac[0] & 1) &&
		     (mac[0] | mac[1] | mac[2] | mac[3] | mac[4] | mac[5]);
	}
	FUZZ_CHECK(!value_parse_mac(s, again) == ok);
	if (!ok)
		return;
	FUZZ_CHECK(!memcmp(mac, again, 6));
	value_format_mac(again, text);
	for (int i = 0; i < 18; i++)
		lower[i] = (char)tolower((unsigned char)s[i]);
	FUZZ_CHECK(!strcmp(text, lower));
}

/* A valid CIDR formats into 64 bytes and parses back to the same value, and
 * the format of that is the same text: the form is canonical. */
static void fuzz_cidr_roundtrip(const struct cidr *c)
{
	char text[64], again_text[64];
	struct cidr again;

	memset(text, 'x', sizeof(text));
	value_format_cidr(c, text, sizeof(text));
	FUZZ_CHECK(memchr(text, '\0', sizeof(text)));
	FUZZ_CHECK(!value_parse_cidr(text, &again));
	FUZZ_CHECK(again.family == c->family &&
		   again.prefixlen == c->prefixlen &&
		   !memcmp(again.addr, c->addr, sizeof(c->addr)));
	value_format_cidr(&again, again_text, sizeof(again_text));
	FUZZ_CHECK(!strcmp(text, again_text));
}

/* The prefix length: decimal, no sign, no leading zero, within max. */
static bool fuzz_prefix_ok(const char *s, int max, int *ret)
{
	size_t len = strlen(s);
	int v = 0;

	if (len < 1 || len > 3 || (s[0] == '0' && len > 1))
		return false;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (s[i] - '0');
	}
	*ret = v;
	return v <= max;
}

static void fuzz_cidr(const char *s)
{
	struct cidr c, want;
	const char *slash = strchr(s, '/');
	bool ok = false;
	char *ip;

	memset(&want, 0, sizeof(want));
	if (slash) {
		ip = strndup(s, (size_t)(slash - s));
		if (!ip)
			abort();
		if (inet_pton(AF_INET, ip, want.addr) == 1)
			want.family = AF_INET;
		else if (inet_pton(AF_INET6, ip, want.addr) == 1)
			want.family = AF_INET6;
		free(ip);
		ok = want.family &&
		     fuzz_prefix_ok(slash + 1,
				    want.family == AF_INET ? 32 : 128,
				    &want.prefixlen);
	}
	FUZZ_CHECK(!value_parse_cidr(s, &c) == ok);
	if (!ok)
		return;
	FUZZ_CHECK(c.family == want.family && c.prefixlen == want.prefixlen &&
		   !memcmp(c.addr, want.addr, sizeof(c.addr)));
	fuzz_cidr_roundtrip(&c);
}

/* An address and a prefix given apart (the URL form) are the same value as
 * "ip/prefix" in a body. */
static void fuzz_ip_prefix(const char *ip, const char *prefix)
{
	struct cidr a, b;
	const char *why_a, *why_b;
	char *joined;

	if (asprintf(&joined, "%s/%s", ip, prefix) < 0)
		abort();
	why_a = value_parse_ip_prefix(ip, prefix, &a);
	why_b = value_parse_cidr(joined, &b);
	free(joined);
	if (strchr(ip, '/'))
		FUZZ_CHECK(why_a);
	else
		FUZZ_CHECK(!why_a == !why_b);
	if (why_a)
		return;
	FUZZ_CHECK(a.family == b.family && a.prefixlen == b.prefixlen &&
		   !memcmp(a.addr, b.addr, sizeof(a.addr)));
	fuzz_cidr_roundtrip(&a);
}

/* Raw bytes as values: any MAC formats and parses back when it is a valid
 * one, and any address with an in-range prefix round-trips. */
static void fuzz_raw(const uint8_t *data, size_t size)
{
	uint8_t raw[32] = { 0 }, mac[6];
	long long mtu;
	struct cidr c;
	char text[18];

	memcpy(raw, data, size < sizeof(raw) ? size : sizeof(raw));

	memcpy(&mtu, raw, sizeof(mtu));
	FUZZ_CHECK(!value_check_mtu(mtu) == (mtu >= 68 && mtu <= 2147483647));

	value_format_mac(raw, text);
	FUZZ_CHECK(strlen(text) == 17);
	FUZZ_CHECK(!value_parse_mac(text, mac) ==
		   (!(raw[0] & 1) &&
		    (raw[0] | raw[1] | raw[2] | raw[3] | raw[4] | raw[5])));

	memset(&c, 0, sizeof(c));
	c.family = raw[8] & 1 ? AF_INET6 : AF_INET;
	c.prefixlen = raw[9] % (c.family == AF_INET ? 33 : 129);
	memcpy(c.addr, raw + 10, c.family == AF_INET ? 4 : 16);
	fuzz_cidr_roundtrip(&c);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fuzz_cstr(data, size);
	const char *second = "";
	size_t first_len = strlen(s);

	if (first_len < size)
		second = s + first_len + 1;

	fuzz_names(s);
	fuzz_mac(s);
	fuzz_cidr(s);
	fuzz_ip_prefix(s, second);
	fuzz_raw(data, size);
	free(s);
	return 0;
}
