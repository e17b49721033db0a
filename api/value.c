#include "value.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

const char *value_check_mtu(long long mtu)
{
	if (mtu < VALUE_MTU_MIN || mtu > VALUE_MTU_MAX)
		return "must be an integer from 68 to 2147483647";
	return NULL;
}

int value_hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

const char *value_parse_mac(const char *text, uint8_t ret_mac[6])
{
	uint8_t mac[6];
	int i;

	if (strlen(text) != 17)
		return "must look like 02:00:00:00:00:01";
	for (i = 0; i < 6; i++) {
		int hi = value_hex_digit(text[i * 3]),
		    lo = value_hex_digit(text[i * 3 + 1]);

		if (hi < 0 || lo < 0 || (i < 5 && text[i * 3 + 2] != ':'))
			return "must look like 02:00:00:00:00:01";
		mac[i] = (uint8_t)(hi << 4 | lo);
	}
	if (mac[0] & 1)
		return "must be a unicast address (lowest bit of the first byte clear)";
	if (!(mac[0] | mac[1] | mac[2] | mac[3] | mac[4] | mac[5]))
		return "must not be all zeros";
	memcpy(ret_mac, mac, 6);
	return NULL;
}

static const char *value_parse_prefix(const char *text, int max, int *ret)
{
	char *end;
	long v;

	if (!*text || strlen(text) > 3 || text[0] < '0' || text[0] > '9' ||
	    (text[0] == '0' && text[1]))
		return "prefix length must be a decimal number";
	v = strtol(text, &end, 10);
	if (*end || v < 0 || v > max)
		return max == 32 ? "prefix length must be 0 to 32 for IPv4"
				 : "prefix length must be 0 to 128 for IPv6";
	*ret = (int)v;
	return NULL;
}

const char *value_parse_ip_prefix(const char *ip, const char *prefix,
				  struct cidr *ret)
{
	struct cidr c;

	memset(&c, 0, sizeof(c));
	if (inet_pton(AF_INET, ip, c.addr) == 1)
		c.family = AF_INET;
	else if (inet_pton(AF_INET6, ip, c.addr) == 1)
		c.family = AF_INET6;
	else
		return "must be an IPv4 or IPv6 address with a prefix length, like 198.18.0.1/24";
	if (value_parse_prefix(prefix, c.family == AF_INET ? 32 : 128,
			       &c.prefixlen))
		return value_parse_prefix(
			prefix, c.family == AF_INET ? 32 : 128, &c.prefixlen);
	*ret = c;
	return NULL;
}

const char *value_parse_cidr(const char *text, struct cidr *ret)
{
	char ip[INET6_ADDRSTRLEN + 1];
	const char *slash = strchr(text, '/');
	size_t n;

	if (!slash)
		return "must be an IPv4 or IPv6 address with a prefix length, like 198.18.0.1/24";
	n = (size_t)(slash - text);
	if (n == 0 || n >= sizeof(ip))
		return "must be an IPv4 or IPv6 address with a prefix length, like 198.18.0.1/24";
	memcpy(ip, text, n);
	ip[n] = '\0';
	return value_parse_ip_prefix(ip, slash + 1, ret);
}

bool value_cidr_host_bits(const struct cidr *c)
{
	int bytes = c->family == AF_INET ? 4 : 16;

	for (int i = 0; i < bytes; i++) {
		int keep = c->prefixlen - i * 8;
		uint8_t mask = keep >= 8   ? 0xff
			       : keep <= 0 ? 0
					   : (uint8_t)(0xff << (8 - keep));

		if (c->addr[i] & (uint8_t)~mask)
			return true;
	}
	return false;
}

bool value_cidr_equal(const struct cidr *a, const struct cidr *b)
{
	return a->family == b->family && a->prefixlen == b->prefixlen &&
	       !memcmp(a->addr, b->addr, a->family == AF_INET ? 4 : 16);
}

void value_format_mac(const uint8_t mac[6], char buf[18])
{
	snprintf(buf, 18, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1],
		 mac[2], mac[3], mac[4], mac[5]);
}

void value_format_cidr(const struct cidr *c, char *buf, size_t len)
{
	char ip[INET6_ADDRSTRLEN];

	inet_ntop(c->family, c->addr, ip, sizeof(ip));
	snprintf(buf, len, "%s/%d", ip, c->prefixlen);
}

void value_format_ip(int family, const uint8_t *addr, char buf[64])
{
	if (!inet_ntop(family, addr, buf, 64))
		buf[0] = '\0';
}
