/* The sysctl allow-list (state/sysctl_key.c): which keys are taken, where
 * they lead under /proc/sys, which are refused as malformed (400) or not
 * on the list (404), and the values each accepts. */
#include <errno.h>
#include <string.h>

#include "check.h"
#include "state/sysctl_key.h"

static void test_good(void)
{
	static const struct {
		const char *key, *path;
		enum sysctl_scope scope;
		const char *link;
	} good[] = {
		{ "net.ipv4.ip_forward", "/proc/sys/net/ipv4/ip_forward",
		  SYSCTL_SCOPE_NS, "" },
		{ "net.ipv4.conf.all.forwarding",
		  "/proc/sys/net/ipv4/conf/all/forwarding", SYSCTL_SCOPE_ALL,
		  "" },
		{ "net.ipv6.conf.default.accept_ra",
		  "/proc/sys/net/ipv6/conf/default/accept_ra",
		  SYSCTL_SCOPE_DEFAULT, "" },
		{ "net.ipv4.conf.eth0.rp_filter",
		  "/proc/sys/net/ipv4/conf/eth0/rp_filter", SYSCTL_SCOPE_LINK,
		  "eth0" },
		{ "net.ipv4.conf.eth0.100.arp_ignore",
		  "/proc/sys/net/ipv4/conf/eth0.100/arp_ignore",
		  SYSCTL_SCOPE_LINK, "eth0.100" },
		{ "net.ipv6.conf.abcdefghijklmno.disable_ipv6",
		  "/proc/sys/net/ipv6/conf/abcdefghijklmno/disable_ipv6",
		  SYSCTL_SCOPE_LINK, "abcdefghijklmno" },
	};
	struct sysctl_key k;
	const char *why;

	for (size_t i = 0; i < sizeof(good) / sizeof(*good); i++) {
		CHECK(sysctl_key_parse(good[i].key, &k, &why) == 0);
		CHECK(!strcmp(k.key, good[i].key));
		CHECK(!strcmp(k.path, good[i].path));
		CHECK(k.scope == good[i].scope);
		CHECK(!strcmp(k.link, good[i].link));
	}
}

static void test_refused(void)
{
	static const char *const malformed[] = {
		"",
		"net/ipv4/ip_forward",
		"net.ipv4.conf.a/b.rp_filter",
		"net.ipv4.conf.../rp_filter",
		"net.ipv4.conf..rp_filter",
		"net.ipv4.conf.....rp_filter",
		"../../etc/passwd",
		"net.ipv4.conf.a\\b.rp_filter",
		"net.ipv4.conf.a b.rp_filter",
		"net.ipv4.conf.a:b.rp_filter",
		"net.ipv4.conf.\xc3\xa9.rp_filter",
		"net.ipv4.conf.abcdefghijklmnop.rp_filter",
		"net.ipv4.conf.rp_filter",
		"net.ipv4.conf..",
		"net.ipv6.conf.all.forwarding.........................",
	};
	static const char *const unknown[] = {
		"net.core.somaxconn",	       "kernel.hostname",
		"net.ipv4.conf.all.hidden",    "net.ipv4.conf.all.",
		"net.ipv6.conf.all.rp_filter", "net.ipv4.conf.all.accept_ra",
		"net.ipv4.ip_forward.",	       "net.ipv4.ip_forwarding",
		"net.ipv4.tcp_syncookies",
	};
	struct sysctl_key k;
	const char *why;

	CHECK(sysctl_key_parse(NULL, &k, &why) == -EINVAL && why);
	for (size_t i = 0; i < sizeof(malformed) / sizeof(*malformed); i++) {
		why = NULL;
		CHECK(sysctl_key_parse(malformed[i], &k, &why) == -EINVAL);
		CHECK(why != NULL);
		CHECK(k.path[0] == '\0');
	}
	for (size_t i = 0; i < sizeof(unknown) / sizeof(*unknown); i++) {
		CHECK(sysctl_key_parse(unknown[i], &k, &why) == -ENOENT);
		CHECK(k.path[0] == '\0' || !strstr(k.path, ".."));
	}
}

static void test_values(void)
{
	struct sysctl_key k;
	const char *why;

	CHECK(sysctl_key_parse("net.ipv4.ip_forward", &k, &why) == 0);
	CHECK(!sysctl_value_check(&k, "0") && !sysctl_value_check(&k, "1"));
	CHECK(sysctl_value_check(&k, "2") && sysctl_value_check(&k, "01"));
	CHECK(sysctl_value_check(&k, "") && sysctl_value_check(&k, NULL));
	CHECK(sysctl_value_check(&k, " 1") && sysctl_value_check(&k, "1\n"));
	CHECK(sysctl_value_check(&k, "-1") && sysctl_value_check(&k, "+1"));
	CHECK(sysctl_value_check(&k, "99") && sysctl_value_check(&k, "100"));
	CHECK(sysctl_key_parse("net.ipv4.conf.all.arp_ignore", &k, &why) == 0);
	CHECK(!sysctl_value_check(&k, "3") && !sysctl_value_check(&k, "8"));
	CHECK(sysctl_value_check(&k, "4") && sysctl_value_check(&k, "9"));
	CHECK(sysctl_key_parse("net.ipv4.conf.x.rp_filter", &k, &why) == 0);
	CHECK(!sysctl_value_check(&k, "2") && sysctl_value_check(&k, "3"));
	CHECK(sysctl_key_parse("net.ipv6.conf.x.accept_ra", &k, &why) == 0);
	CHECK(!sysctl_value_check(&k, "2") && sysctl_value_check(&k, "3"));
}

static int n_each;

static void count_key(const char *key, void *userdata)
{
	struct sysctl_key k;
	const char *why;

	(void)userdata;
	CHECK(sysctl_key_parse(key, &k, &why) == 0);
	n_each++;
}

static void test_each(void)
{
	sysctl_key_each(NULL, 0, count_key, NULL);
	CHECK(n_each == 1);
	n_each = 0;
	sysctl_key_each("all", 0, count_key, NULL);
	CHECK(n_each == 8);
	n_each = 0;
	sysctl_key_each("eth0", 6, count_key, NULL);
	CHECK(n_each == 3);
}

int main(void)
{
	test_good();
	test_refused();
	test_values();
	test_each();
	return check_report();
}
