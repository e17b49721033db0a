/* Validation and canonical forms of the values requests carry. */
#ifndef NETNSD_VALUE_H
#define NETNSD_VALUE_H

#include <stdbool.h>
#include <stdint.h>
#include <netinet/in.h>

#define VALUE_MTU_MIN 68
#define VALUE_MTU_MAX 0x7fffffff

struct cidr {
	int family; /* AF_INET or AF_INET6 */
	uint8_t addr[16];
	int prefixlen;
};

/* Each returns NULL when valid, else why not. */
const char *value_check_mtu(long long mtu);
const char *value_parse_mac(const char *text, uint8_t ret_mac[6]);

/* The value of one hexadecimal digit, either case; -1 for another char. */
int value_hex_digit(char c);
const char *value_parse_cidr(const char *text, struct cidr *ret);
/* Parses an address and prefix given separately (as in a URL). */
const char *value_parse_ip_prefix(const char *ip, const char *prefix,
				  struct cidr *ret);

/* Whether bits past the prefix length are set (198.18.8.1/24): not the
 * network of a route. */
bool value_cidr_host_bits(const struct cidr *c);

/* Same family, prefix length and address. */
bool value_cidr_equal(const struct cidr *a, const struct cidr *b);

void value_format_mac(const uint8_t mac[6], char buf[18]);
/* Writes "198.18.0.1/24" (canonical text) into buf of at least 64 bytes. */
void value_format_cidr(const struct cidr *c, char *buf, size_t len);
/* Writes the address alone ("198.18.0.1", "2001:db8::1") of `family`. */
void value_format_ip(int family, const uint8_t *addr, char buf[64]);

#endif
