/* Unit tests of api/value.c: MTU range, MAC and CIDR parsing, and the
 * canonical text each value is answered in. Addresses come only from the
 * ranges reserved for such use: 198.18.0.0/15 and 2001:db8::/32. */
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "api/value.h"

#include "check.h"

static void test_mtu(void)
{
	CHECK(value_check_mtu(68) == NULL);
	CHECK(value_check_mtu(576) == NULL);
	CHECK(value_check_mtu(1280) == NULL);
	CHECK(value_check_mtu(1500) == NULL);
	CHECK(value_check_mtu(9000) == NULL);
	CHECK(value_check_mtu(65535) == NULL);
	CHECK(value_check_mtu(65536) == NULL);
	CHECK(value_check_mtu(2147483647LL) == NULL);

	CHECK(value_check_mtu(67) != NULL);
	CHECK(value_check_mtu(0) != NULL);
	CHECK(value_check_mtu(-1) != NULL);
	CHECK(value_check_mtu(-1500) != NULL);
	CHECK(value_check_mtu(2147483648LL) != NULL);
	CHECK(value_check_mtu(4294967296LL + 1500) != NULL); /* wraps to 1500 */
	CHECK(value_check_mtu(LLONG_MAX) != NULL);
	CHECK(value_check_mtu(LLONG_MIN) != NULL);
	/* The message states the range, so a user can fix the request. */
	CHECK(value_check_mtu(67) && strstr(value_check_mtu(67), "68"));
}

/* Parses a MAC that must be accepted and compares its bytes. */
static int mac_is(const char *text, const uint8_t want[6])
{
	uint8_t mac[6];

	memset(mac, 0xaa, sizeof(mac));
	return value_parse_mac(text, mac) == NULL && !memcmp(mac, want, 6);
}

/* Refused, with a reason, and the output left as it was. */
static int mac_refused(const char *text)
{
	static const uint8_t canary[6] = { 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa };
	uint8_t mac[6];
	const char *why;

	memcpy(mac, canary, sizeof(mac));
	why = value_parse_mac(text, mac);
	return why && *why && !memcmp(mac, canary, 6);
}

static void test_mac(void)
{
	static const uint8_t m1[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x01 };
	static const uint8_t m2[6] = { 0x02, 0xab, 0xcd, 0xef, 0x00, 0x01 };
	static const uint8_t m3[6] = { 0x00, 0x00, 0x00, 0x00, 0x00, 0x01 };
	static const uint8_t m4[6] = { 0xfe, 0xdc, 0xba, 0x98, 0x76, 0x54 };
	uint8_t mac[6];
	char buf[18];
	const char *why;

	CHECK(mac_is("02:00:00:00:00:01", m1));
	CHECK(mac_is("02:ab:cd:ef:00:01", m2));
	CHECK(mac_is("02:AB:CD:EF:00:01", m2));
	CHECK(mac_is("02:Ab:cD:eF:00:01", m2));
	CHECK(mac_is("00:00:00:00:00:01", m3)); /* only all-zero is refused */
	CHECK(mac_is("fe:dc:ba:98:76:54", m4)); /* 0xfe: unicast, local */

	/* Separators other than ':' and other shapes. */
	CHECK(mac_refused("02-00-00-00-00-01"));
	CHECK(mac_refused("02.00.00.00.00.01"));
	CHECK(mac_refused("02:00:00-00:00:01"));
	CHECK(mac_refused("02 00 00 00 00 01"));
	CHECK(mac_refused("0200.0000.0001"));
	CHECK(mac_refused("020000000001"));
	CHECK(mac_refused("2:0:0:0:0:1"));
	/* Wrong length. */
	CHECK(mac_refused(""));
	CHECK(mac_refused("02"));
	CHECK(mac_refused("02:00:00:00:00"));
	CHECK(mac_refused("02:00:00:00:00:0"));
	CHECK(mac_refused("02:00:00:00:00:01:"));
	CHECK(mac_refused("02:00:00:00:00:01:02"));
	CHECK(mac_refused(" 02:00:00:00:00:01"));
	CHECK(mac_refused("02:00:00:00:00:01 "));
	CHECK(mac_refused("02:00:00:00:00:01\n"));
	/* Right length, bad digits. */
	CHECK(mac_refused("02:00:00:00:00:0g"));
	CHECK(mac_refused("g2:00:00:00:00:01"));
	CHECK(mac_refused("02:00:00:00:00: 1"));
	CHECK(mac_refused("02:00:00:00:00:1 "));
	CHECK(mac_refused("+2:00:00:00:00:01"));
	CHECK(mac_refused("02:00:00:00:00:-1"));
	CHECK(mac_refused("02:00:00:00:00:\xc3\xa9"));
	/* Multicast (lowest bit of the first byte) and broadcast. */
	CHECK(mac_refused("01:00:5e:00:00:01"));
	CHECK(mac_refused("33:33:00:00:00:01"));
	CHECK(mac_refused("03:00:00:00:00:01"));
	CHECK(mac_refused("ff:ff:ff:ff:ff:ff"));
	CHECK(mac_refused("FF:FF:FF:FF:FF:FF"));
	/* All zeros. */
	CHECK(mac_refused("00:00:00:00:00:00"));

	why = value_parse_mac("01:00:5e:00:00:01", mac);
	CHECK(why && strstr(why, "unicast"));
	why = value_parse_mac("00:00:00:00:00:00", mac);
	CHECK(why && strstr(why, "zero"));

	/* Canonical form: lower case, colons, two digits a byte. */
	value_format_mac(m1, buf);
	CHECK(!strcmp(buf, "02:00:00:00:00:01"));
	value_format_mac(m4, buf);
	CHECK(!strcmp(buf, "fe:dc:ba:98:76:54"));
	CHECK(value_parse_mac("02:AB:CD:EF:00:01", mac) == NULL);
	value_format_mac(mac, buf);
	CHECK(!strcmp(buf, "02:ab:cd:ef:00:01"));
}

/* Parses `text` and formats it back; 1 when accepted and equal to `want`. */
static int cidr_canon(const char *text, const char *want)
{
	struct cidr c;
	char buf[64];

	memset(&c, 0, sizeof(c));
	if (value_parse_cidr(text, &c))
		return 0;
	value_format_cidr(&c, buf, sizeof(buf));
	if (strcmp(buf, want)) {
		fprintf(stderr, "  %s formats as %s, not %s\n", text, buf,
			want);
		return 0;
	}
	return 1;
}

/* Refused, with a reason, and the output left as it was. */
static int cidr_refused(const char *text)
{
	struct cidr c, canary;
	const char *why;

	memset(&canary, 0x5a, sizeof(canary));
	c = canary;
	why = value_parse_cidr(text, &c);
	return why && *why && !memcmp(&c, &canary, sizeof(c));
}

static void test_cidr_ipv4(void)
{
	static const uint8_t a[4] = { 198, 18, 0, 1 };
	struct cidr c;
	const char *why;

	memset(&c, 0, sizeof(c));
	CHECK(value_parse_cidr("198.18.0.1/24", &c) == NULL);
	CHECK(c.family == AF_INET);
	CHECK(c.prefixlen == 24);
	CHECK(!memcmp(c.addr, a, 4));

	CHECK(cidr_canon("198.18.0.1/24", "198.18.0.1/24"));
	CHECK(cidr_canon("198.18.0.1/0", "198.18.0.1/0"));
	CHECK(cidr_canon("198.18.0.1/1", "198.18.0.1/1"));
	CHECK(cidr_canon("198.18.0.1/32", "198.18.0.1/32"));
	CHECK(cidr_canon("198.19.255.254/15", "198.19.255.254/15"));
	/* A host address keeps its host bits: it is not a route. */
	CHECK(cidr_canon("198.18.7.9/16", "198.18.7.9/16"));

	/* Prefix out of range, or not plain decimal. */
	CHECK(cidr_refused("198.18.0.1/33"));
	CHECK(cidr_refused("198.18.0.1/99"));
	CHECK(cidr_refused("198.18.0.1/128"));
	CHECK(cidr_refused("198.18.0.1/-1"));
	CHECK(cidr_refused("198.18.0.1/+24"));
	CHECK(cidr_refused("198.18.0.1/024"));
	CHECK(cidr_refused("198.18.0.1/00"));
	CHECK(cidr_refused("198.18.0.1/0024"));
	CHECK(cidr_refused("198.18.0.1/0x18"));
	CHECK(cidr_refused("198.18.0.1/2e1"));
	CHECK(cidr_refused("198.18.0.1/24 "));
	CHECK(cidr_refused("198.18.0.1/ 24"));
	CHECK(cidr_refused("198.18.0.1/24x"));
	CHECK(cidr_refused("198.18.0.1/24/24"));
	CHECK(cidr_refused("198.18.0.1/4294967320")); /* 2^32 + 24 */
	/* Missing parts. */
	CHECK(cidr_refused("198.18.0.1"));
	CHECK(cidr_refused("198.18.0.1/"));
	CHECK(cidr_refused("/24"));
	CHECK(cidr_refused("/"));
	CHECK(cidr_refused(""));
	/* Bad addresses. */
	CHECK(cidr_refused("198.18.0.256/24"));
	CHECK(cidr_refused("198.18.0/24"));
	CHECK(cidr_refused("198.18.1/24"));
	CHECK(cidr_refused("198.18.0.1.5/24"));
	CHECK(cidr_refused("198.18.0.01/24")); /* octal in some parsers */
	CHECK(cidr_refused("198.018.0.1/24"));
	CHECK(cidr_refused("0xc6.18.0.1/24"));
	CHECK(cidr_refused(" 198.18.0.1/24"));
	CHECK(cidr_refused("198.18.0.1 /24"));
	CHECK(cidr_refused("198.18.0.-1/24"));
	CHECK(cidr_refused("blue/24"));
	CHECK(cidr_refused("198.18.0.1\n/24"));
	CHECK(cidr_refused("198.18.0.1198.18.0.1198.18.0.1198.18.0.1198.18.0."
			   "1198.18.0.1/24"));

	why = value_parse_cidr("198.18.0.1/33", &c);
	CHECK(why && strstr(why, "32"));
}

static void test_cidr_ipv6(void)
{
	static const uint8_t a[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0,
				       0,    0,	   0,	 0,    0, 0, 0, 1 };
	struct cidr c;
	const char *why;

	memset(&c, 0, sizeof(c));
	CHECK(value_parse_cidr("2001:db8::1/64", &c) == NULL);
	CHECK(c.family == AF_INET6);
	CHECK(c.prefixlen == 64);
	CHECK(!memcmp(c.addr, a, 16));

	CHECK(cidr_canon("2001:db8::1/64", "2001:db8::1/64"));
	CHECK(cidr_canon("2001:DB8:0::1/64", "2001:db8::1/64"));
	CHECK(cidr_canon("2001:0db8:0000:0000:0000:0000:0000:0001/64",
			 "2001:db8::1/64"));
	CHECK(cidr_canon("2001:db8:0:0:0:0:0:1/128", "2001:db8::1/128"));
	CHECK(cidr_canon("2001:db8::/32", "2001:db8::/32"));
	CHECK(cidr_canon("2001:db8::1/0", "2001:db8::1/0"));
	CHECK(cidr_canon("2001:db8::1/128", "2001:db8::1/128"));
	/* RFC 5952: the first of two equally long zero runs is shortened. */
	CHECK(cidr_canon("2001:db8:0:0:1:0:0:1/64", "2001:db8::1:0:0:1/64"));
	CHECK(cidr_canon("2001:db8:a:b:c:d:e:f/64", "2001:db8:a:b:c:d:e:f/64"));
	CHECK(cidr_canon("2001:DB8:A:B:C:D:E:F/64", "2001:db8:a:b:c:d:e:f/64"));
	/* The embedded-IPv4 notation is accepted and answered in hex. */
	CHECK(cidr_canon("2001:db8::198.18.0.1/96", "2001:db8::c612:1/96"));

	CHECK(cidr_refused("2001:db8::1/129"));
	CHECK(cidr_refused("2001:db8::1/999"));
	CHECK(cidr_refused("2001:db8::1/1280"));
	CHECK(cidr_refused("2001:db8::1/064"));
	CHECK(cidr_refused("2001:db8::1/-0"));
	CHECK(cidr_refused("2001:db8::1"));
	CHECK(cidr_refused("2001:db8::1/"));
	CHECK(cidr_refused("2001:db8:::1/64"));
	CHECK(cidr_refused("2001:db8::1::1/64"));
	CHECK(cidr_refused("2001:db8::g/64"));
	CHECK(cidr_refused("2001:db8:1:2:3:4:5:6:7/64"));
	CHECK(cidr_refused("2001:db8::1%eth0/64"));
	CHECK(cidr_refused("[2001:db8::1]/64"));
	CHECK(cidr_refused("2001:db8::12345/64"));
	CHECK(cidr_refused(":/64"));

	why = value_parse_cidr("2001:db8::1/129", &c);
	CHECK(why && strstr(why, "128"));
}

static void test_ip_prefix(void)
{
	struct cidr c, canary;
	char buf[64];

	CHECK(value_parse_ip_prefix("198.18.0.1", "24", &c) == NULL);
	value_format_cidr(&c, buf, sizeof(buf));
	CHECK(!strcmp(buf, "198.18.0.1/24"));
	CHECK(value_parse_ip_prefix("2001:DB8:0::1", "64", &c) == NULL);
	value_format_cidr(&c, buf, sizeof(buf));
	CHECK(!strcmp(buf, "2001:db8::1/64"));
	CHECK(value_parse_ip_prefix("2001:db8::1", "128", &c) == NULL);
	CHECK(c.prefixlen == 128);

	memset(&canary, 0x5a, sizeof(canary));
	c = canary;
	CHECK(value_parse_ip_prefix("198.18.0.1", "33", &c) != NULL);
	CHECK(value_parse_ip_prefix("198.18.0.1", "", &c) != NULL);
	CHECK(value_parse_ip_prefix("198.18.0.1", "024", &c) != NULL);
	CHECK(value_parse_ip_prefix("198.18.0.1/24", "24", &c) != NULL);
	CHECK(value_parse_ip_prefix("", "24", &c) != NULL);
	CHECK(value_parse_ip_prefix("2001:db8::1", "129", &c) != NULL);
	CHECK(value_parse_ip_prefix("2001:db8::1", "6 4", &c) != NULL);
	CHECK(!memcmp(&c, &canary, sizeof(c)));
}

/* A route's destination is a network: no bits past the prefix length. */
static bool host_bits(const char *cidr)
{
	struct cidr c;

	return value_parse_cidr(cidr, &c) == NULL && value_cidr_host_bits(&c);
}

static void test_host_bits(void)
{
	struct cidr c;

	CHECK(!host_bits("198.18.8.0/24"));
	CHECK(!host_bits("0.0.0.0/0"));
	CHECK(!host_bits("198.18.8.1/32"));
	CHECK(!host_bits("198.18.0.0/15"));
	CHECK(!host_bits("198.18.8.128/25"));
	CHECK(!host_bits("::/0"));
	CHECK(!host_bits("2001:db8:8::/64"));
	CHECK(!host_bits("2001:db8::1/128"));
	CHECK(host_bits("198.18.8.1/24"));
	CHECK(host_bits("198.19.0.0/15"));
	CHECK(host_bits("198.18.8.129/25"));
	CHECK(host_bits("0.0.0.1/0"));
	CHECK(host_bits("2001:db8:8::1/64"));
	CHECK(host_bits("2001:db8:8:0:8000::/65") == false);
	CHECK(host_bits("2001:db8:8:0:4000::/65"));
	CHECK(value_parse_cidr("::1/0", &c) == NULL &&
	      value_cidr_host_bits(&c));
}

int main(void)
{
	test_mtu();
	test_mac();
	test_cidr_ipv4();
	test_cidr_ipv6();
	test_ip_prefix();
	test_host_bits();
	return check_report();
}
