/* Unit tests of server/origin.c: which Host values a listener answers to
 * (the DNS rebinding defence), and the start-up checks of --cors-origin and
 * --allowed-host. Each rule is checked from both sides. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "server/origin.h"

#include "check.h"

static struct sockaddr_in origin_v4(const char *addr)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };

	inet_pton(AF_INET, addr, &sin.sin_addr);
	return sin;
}

static struct sockaddr_in6 origin_v6(const char *addr)
{
	struct sockaddr_in6 sin6 = { .sin6_family = AF_INET6 };

	inet_pton(AF_INET6, addr, &sin6.sin6_addr);
	return sin6;
}

#define HOST(host, local, verdict)                                      \
	CHECK(origin_host_check(host, (const struct sockaddr *)(local), \
				allowed, n_allowed) == (verdict))

static void test_host_loopback_listener(void)
{
	struct sockaddr_in lo = origin_v4("127.0.0.1");
	const char *const *allowed = NULL;
	size_t n_allowed = 0;

	/* What curl, browsers on the machine and orchestrators send. */
	HOST("127.0.0.1:8080", &lo, ORIGIN_HOST_OK);
	HOST("127.0.0.1", &lo, ORIGIN_HOST_OK);
	HOST("127.0.0.1:", &lo, ORIGIN_HOST_OK); /* RFC 9110: empty port */
	HOST("127.1.2.3:8080", &lo, ORIGIN_HOST_OK);
	HOST("localhost:8080", &lo, ORIGIN_HOST_OK);
	HOST("localhost", &lo, ORIGIN_HOST_OK);
	HOST("LocalHost:8080", &lo, ORIGIN_HOST_OK);
	HOST("localhost.:8080", &lo, ORIGIN_HOST_OK);
	HOST("[::1]:8080", &lo, ORIGIN_HOST_OK);
	HOST("[::1]", &lo, ORIGIN_HOST_OK);
	HOST("[0:0:0:0:0:0:0:1]:8080", &lo, ORIGIN_HOST_OK);

	/* DNS rebinding: a name that is not this server's. */
	HOST("rebind.attacker.example:8080", &lo, ORIGIN_HOST_UNKNOWN);
	HOST("rebind.attacker.example", &lo, ORIGIN_HOST_UNKNOWN);
	HOST("localhost.attacker.example", &lo, ORIGIN_HOST_UNKNOWN);
	HOST("attacker-localhost", &lo, ORIGIN_HOST_UNKNOWN);
	HOST("localhostx", &lo, ORIGIN_HOST_UNKNOWN);
	HOST("sub.localhost", &lo, ORIGIN_HOST_UNKNOWN);
	HOST("2130706433", &lo, ORIGIN_HOST_UNKNOWN); /* a name, not 127/8 */
	HOST("198.18.0.1:8080", &lo, ORIGIN_HOST_UNKNOWN);
	HOST("0.0.0.0:8080", &lo, ORIGIN_HOST_UNKNOWN);
	HOST("[::]:8080", &lo, ORIGIN_HOST_UNKNOWN);
	HOST("[2001:db8::1]:8080", &lo, ORIGIN_HOST_UNKNOWN);
	HOST("[::ffff:127.0.0.1]", &lo, ORIGIN_HOST_UNKNOWN);

	/* Not host[:port] at all. */
	HOST("", &lo, ORIGIN_HOST_MALFORMED);
	HOST(":8080", &lo, ORIGIN_HOST_MALFORMED);
	HOST("a b", &lo, ORIGIN_HOST_MALFORMED);
	HOST("localhost:80:80", &lo, ORIGIN_HOST_MALFORMED);
	HOST("localhost:http", &lo, ORIGIN_HOST_MALFORMED);
	HOST("localhost:123456", &lo, ORIGIN_HOST_MALFORMED);
	HOST("::1", &lo, ORIGIN_HOST_MALFORMED);
	HOST("[::1", &lo, ORIGIN_HOST_MALFORMED);
	HOST("[::1]x", &lo, ORIGIN_HOST_MALFORMED);
	HOST("[127.0.0.1]", &lo, ORIGIN_HOST_MALFORMED);
	HOST("[fe80::1%25eth0]", &lo, ORIGIN_HOST_MALFORMED);
	HOST("user@localhost", &lo, ORIGIN_HOST_MALFORMED);
	HOST(".", &lo, ORIGIN_HOST_MALFORMED);
	HOST("..localhost", &lo, ORIGIN_HOST_MALFORMED);
	HOST("localhost/x", &lo, ORIGIN_HOST_MALFORMED);
}

static void test_host_other_listeners(void)
{
	struct sockaddr_in out = origin_v4("198.18.5.1");
	struct sockaddr_in6 out6 = origin_v6("2001:db8::5");
	const char *const *allowed = NULL;
	size_t n_allowed = 0;

	/* The address the client connected to (for a 0.0.0.0 listener, the
	 * one of the host's it reached), and loopback, but no name. */
	HOST("198.18.5.1:8080", &out, ORIGIN_HOST_OK);
	HOST("198.18.5.2:8080", &out, ORIGIN_HOST_UNKNOWN);
	HOST("127.0.0.1:8080", &out, ORIGIN_HOST_OK);
	HOST("[2001:db8::5]:8080", &out6, ORIGIN_HOST_OK);
	HOST("[2001:DB8:0::5]", &out6, ORIGIN_HOST_OK);
	HOST("[2001:db8::6]", &out6, ORIGIN_HOST_UNKNOWN);
	HOST("198.18.5.1", &out6, ORIGIN_HOST_UNKNOWN);
	HOST("netnsd.example:8080", &out, ORIGIN_HOST_UNKNOWN);
	/* No local address known: loopback only. */
	HOST("198.18.5.1", NULL, ORIGIN_HOST_UNKNOWN);
	HOST("localhost", NULL, ORIGIN_HOST_OK);
}

static void test_host_allowed(void)
{
	static const char *const allowed[] = { "netnsd.example", "198.18.9.9",
					       "2001:db8::9", "[2001:db8::a]" };
	size_t n_allowed = 4;
	struct sockaddr_in out = origin_v4("198.18.5.1");

	HOST("netnsd.example:8080", &out, ORIGIN_HOST_OK);
	HOST("NETNSD.Example", &out, ORIGIN_HOST_OK);
	HOST("netnsd.example.:8443", &out, ORIGIN_HOST_OK);
	HOST("198.18.9.9:8080", &out, ORIGIN_HOST_OK);
	HOST("[2001:db8::9]:8080", &out, ORIGIN_HOST_OK);
	HOST("[2001:db8::a]", &out, ORIGIN_HOST_OK);
	HOST("198.18.5.1:8080", &out, ORIGIN_HOST_OK);
	HOST("x.netnsd.example", &out, ORIGIN_HOST_UNKNOWN);
	HOST("netnsd.example.attacker.example", &out, ORIGIN_HOST_UNKNOWN);
	HOST("netnsd.exampl", &out, ORIGIN_HOST_UNKNOWN);
	HOST("198.18.9.8", &out, ORIGIN_HOST_UNKNOWN);
}

/* normalize(in) gives want (NULL: refused, with a reason). */
static void cors(const char *in, const char *want)
{
	char buf[256];
	const char *why;

	snprintf(buf, sizeof(buf), "%s", in);
	why = origin_cors_normalize(buf);
	if (!want) {
		CHECK(why && *why);
		if (!why)
			fprintf(stderr, "  --cors-origin %s: accepted\n", in);
		return;
	}
	CHECK(!why);
	CHECK(!strcmp(buf, want));
	if (why || strcmp(buf, want))
		fprintf(stderr, "  --cors-origin %s: %s, got %s\n", in,
			why ? why : "accepted", buf);
}

static void allowed_host(const char *in, const char *want)
{
	char buf[256];
	const char *why;

	snprintf(buf, sizeof(buf), "%s", in);
	why = origin_host_normalize(buf);
	if (!want) {
		CHECK(why && *why);
		if (!why)
			fprintf(stderr, "  --allowed-host %s: accepted\n", in);
		return;
	}
	CHECK(!why);
	CHECK(!strcmp(buf, want));
	if (why || strcmp(buf, want))
		fprintf(stderr, "  --allowed-host %s: %s, got %s\n", in,
			why ? why : "accepted", buf);
}

static void test_cors_origin(void)
{
	cors("https://dash.example", "https://dash.example");
	cors("http://localhost:3000", "http://localhost:3000");
	cors("HTTPS://Dash.Example:8443", "https://dash.example:8443");
	cors("https://dash.example:443", "https://dash.example");
	cors("http://dash.example:80", "http://dash.example");
	cors("http://dash.example:443", "http://dash.example:443");
	cors("http://[::1]:9000", "http://[::1]:9000");
	cors("http://[2001:DB8::1]", "http://[2001:db8::1]");
	cors("http://198.18.0.1:9000", "http://198.18.0.1:9000");

	/* What no browser ever sends in Origin. */
	cors("http://host:9000/", NULL);
	cors("http://host:9000/app", NULL);
	cors("http://host?x", NULL);
	cors("http://host#x", NULL);
	cors("host:9000", NULL);
	cors("dash.example", NULL);
	cors("*", NULL);
	cors("null", NULL);
	cors("NULL", NULL);
	cors("ftp://dash.example", NULL);
	cors("file://", NULL);
	cors("https://", NULL);
	cors("https://:443", NULL);
	cors("https://dash.example:", NULL);
	cors("https://dash.example:0", NULL);
	cors("https://dash.example:08443", NULL);
	cors("https://dash.example:65536", NULL);
	cors("https://dash.example:https", NULL);
	cors("https://user@dash.example", NULL);
	cors("https://*.example", NULL);
	cors("http://[::1", NULL);
	cors("http://[nope]", NULL);
	cors("", NULL);
}

static void test_allowed_host(void)
{
	allowed_host("netnsd.example", "netnsd.example");
	allowed_host("NetNSD.Example.", "netnsd.example");
	allowed_host("198.18.0.1", "198.18.0.1");
	allowed_host("2001:DB8::1", "2001:db8::1");
	allowed_host("[2001:db8::1]", "[2001:db8::1]");
	allowed_host("node_1", "node_1");

	allowed_host("netnsd.example:8080", NULL);
	allowed_host("[2001:db8::1]:8080", NULL);
	allowed_host("*", NULL);
	allowed_host("*.example", NULL);
	allowed_host("http://netnsd.example", NULL);
	allowed_host("", NULL);
	allowed_host(".", NULL);
	allowed_host(".example", NULL);
	allowed_host("a..example", NULL);
	allowed_host("a b", NULL);
}

/* The page netnsd serves (GET /) sends its own origin: the scheme of the
 * listener and the Host it was asked by. Any other is a cross-site one. */
static void test_is_self(void)
{
	CHECK(origin_is_self("http://127.0.0.1:8080", "127.0.0.1:8080", false));
	CHECK(origin_is_self("http://localhost:8080", "LocalHost:8080", false));
	CHECK(origin_is_self("https://[::1]:8443", "[::1]:8443", true));
	CHECK(origin_is_self("http://netnsd.example", "netnsd.example:80",
			     false));
	CHECK(origin_is_self("https://netnsd.example", "netnsd.example", true));
	CHECK(origin_is_self("http://127.0.0.1", "127.0.0.1:", false));

	CHECK(!origin_is_self("https://127.0.0.1:8080", "127.0.0.1:8080",
			      false));
	CHECK(!origin_is_self("http://127.0.0.1:8080", "127.0.0.1:8080", true));
	CHECK(!origin_is_self("http://localhost:3000", "localhost:8080",
			      false));
	CHECK(!origin_is_self("http://127.0.0.1:8080", "localhost:8080",
			      false));
	CHECK(!origin_is_self("https://attacker.example", "127.0.0.1", true));
	CHECK(!origin_is_self("null", "127.0.0.1:8080", false));
	CHECK(!origin_is_self("http://127.0.0.1:8080/", "127.0.0.1:8080",
			      false));
	CHECK(!origin_is_self("", "127.0.0.1:8080", false));
	CHECK(!origin_is_self(NULL, "127.0.0.1:8080", false));
	CHECK(!origin_is_self("http://127.0.0.1:8080", NULL, false));
}

int main(void)
{
	test_host_loopback_listener();
	test_host_other_listeners();
	test_host_allowed();
	test_cors_origin();
	test_allowed_host();
	test_is_self();
	return check_report();
}
