#include "origin.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/types.h>
#include <sys/un.h>

/* An IP address, either family, for comparisons. */
struct origin_ip {
	int family;
	unsigned char bytes[16];
};

/* Parses an IPv4 literal, or an IPv6 one with or without brackets, of
 * exactly `len` bytes. */
static bool origin_ip_parse(const char *s, size_t len, struct origin_ip *ip)
{
	char buf[INET6_ADDRSTRLEN + 2];

	if (len >= 2 && s[0] == '[' && s[len - 1] == ']') {
		s++;
		len -= 2;
		if (!memchr(s, ':', len))
			return false; /* brackets hold IPv6 only */
	}
	if (!len || len >= sizeof(buf))
		return false;
	memcpy(buf, s, len);
	buf[len] = '\0';
	if (inet_pton(AF_INET, buf, ip->bytes) == 1) {
		ip->family = AF_INET;
		return true;
	}
	if (inet_pton(AF_INET6, buf, ip->bytes) == 1) {
		ip->family = AF_INET6;
		return true;
	}
	return false;
}

static bool origin_ip_equal(const struct origin_ip *a,
			    const struct origin_ip *b)
{
	return a->family == b->family &&
	       !memcmp(a->bytes, b->bytes, a->family == AF_INET ? 4 : 16);
}

static bool origin_ip_is_loopback(const struct origin_ip *ip)
{
	static const unsigned char v6_loopback[16] = { [15] = 1 };

	if (ip->family == AF_INET)
		return ip->bytes[0] == 127;
	return !memcmp(ip->bytes, v6_loopback, 16);
}

static bool origin_ip_from_sockaddr(const struct sockaddr *sa,
				    struct origin_ip *ip)
{
	if (sa && sa->sa_family == AF_INET) {
		ip->family = AF_INET;
		memcpy(ip->bytes, &((const struct sockaddr_in *)sa)->sin_addr,
		       4);
		return true;
	}
	if (sa && sa->sa_family == AF_INET6) {
		ip->family = AF_INET6;
		memcpy(ip->bytes, &((const struct sockaddr_in6 *)sa)->sin6_addr,
		       16);
		return true;
	}
	return false;
}

/* A DNS name as netnsd accepts it in Host, Origin and --allowed-host:
 * letters, digits, '-', '_' and dots between labels (browsers send
 * internationalised names as punycode). */
static bool origin_name_ok(const char *s, size_t len)
{
	if (!len || len > 253 || s[0] == '.' || s[0] == '-')
		return false;
	for (size_t i = 0; i < len; i++)
		if ((!isalnum((unsigned char)s[i]) && !strchr("-._", s[i])) ||
		    (s[i] == '.' && i + 1 < len && s[i + 1] == '.'))
			return false;
	return true;
}

/* A port: 1 to 5 digits (`allow_empty`: none at all, which RFC 9110's
 * Host allows). */
static bool origin_port_ok(const char *s, size_t len, bool allow_empty)
{
	if (!len)
		return allow_empty;
	return len <= 5 && strspn(s, "0123456789") >= len;
}

/* Splits host[:port] into the host part: its length, or -1 when malformed.
 * An IPv6 address is in brackets, as in a URL. */
static ssize_t origin_split(const char *s, size_t len, bool allow_empty_port)
{
	const char *end = s + len, *colon;
	size_t hlen;

	if (len && s[0] == '[') {
		const char *close = memchr(s, ']', len);

		if (!close)
			return -1;
		hlen = (size_t)(close - s) + 1;
	} else {
		colon = memchr(s, ':', len);
		hlen = colon ? (size_t)(colon - s) : len;
	}
	if (!hlen)
		return -1;
	if (hlen < len &&
	    (s[hlen] != ':' ||
	     !origin_port_ok(s + hlen + 1, (size_t)(end - s) - hlen - 1,
			     allow_empty_port)))
		return -1;
	return (ssize_t)hlen;
}

static void origin_lower(char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		s[i] = (char)tolower((unsigned char)s[i]);
}

const char *origin_cors_normalize(char *origin)
{
	char *sep = strstr(origin, "://"), *host, *port;
	size_t slen;
	ssize_t hlen;
	struct origin_ip ip;

	if (!strcmp(origin, "*"))
		return "is not supported: list each origin allowed, as scheme://host[:port]";
	if (!strcasecmp(origin, "null"))
		return "is the origin of file:// pages and sandboxed frames, which any page can open; list real origins, as scheme://host[:port]";
	if (!sep)
		return "wants scheme://host[:port], e.g. https://dash.example:8443";
	slen = (size_t)(sep - origin);
	if (!((slen == 4 && !strncasecmp(origin, "http", 4)) ||
	      (slen == 5 && !strncasecmp(origin, "https", 5))))
		return "wants the scheme http or https";
	host = sep + 3;
	if (strpbrk(host, "/?#"))
		return "wants no path, query or fragment (not even a final '/'): an Origin is scheme://host[:port]";
	hlen = origin_split(host, strlen(host), false);
	if (hlen < 0)
		return "wants scheme://host[:port] with a port of digits";
	if (host[0] == '[' ? !origin_ip_parse(host, (size_t)hlen, &ip)
			   : !origin_name_ok(host, (size_t)hlen))
		return "wants a host name of letters, digits, '-', '.' and '_', or an IP address (IPv6 in brackets)";
	port = host + hlen;
	if (*port &&
	    (port[1] == '0' || atoi(port + 1) < 1 || atoi(port + 1) > 65535))
		return "wants a port from 1 to 65535";
	origin_lower(origin, (size_t)(port - origin));
	/* Browsers leave the scheme's default port out of an Origin. */
	if ((slen == 4 && !strcmp(port, ":80")) ||
	    (slen == 5 && !strcmp(port, ":443")))
		*port = '\0';
	return NULL;
}

const char *origin_host_normalize(char *name)
{
	size_t len = strlen(name);
	struct origin_ip ip;

	if (origin_ip_parse(name, len, &ip)) {
		origin_lower(name, len);
		return NULL;
	}
	if (strchr(name, ':') || name[0] == '[')
		return "wants a name or an address without a port (any port is accepted)";
	if (len > 1 && name[len - 1] == '.')
		len--;
	if (!origin_name_ok(name, len))
		return "wants a DNS name (letters, digits, '-', '.' and '_') or an IP address";
	name[len] = '\0';
	origin_lower(name, len);
	return NULL;
}

static bool origin_ip_allowed(const struct origin_ip *ip,
			      const struct sockaddr *local,
			      const char *const *allowed, size_t n_allowed)
{
	struct origin_ip other;

	if (origin_ip_is_loopback(ip))
		return true;
	if (origin_ip_from_sockaddr(local, &other) &&
	    origin_ip_equal(ip, &other))
		return true;
	for (size_t i = 0; i < n_allowed; i++)
		if (origin_ip_parse(allowed[i], strlen(allowed[i]), &other) &&
		    origin_ip_equal(ip, &other))
			return true;
	return false;
}

enum origin_host_verdict origin_host_check(const char *host,
					   const struct sockaddr *local,
					   const char *const *allowed,
					   size_t n_allowed)
{
	ssize_t hlen = origin_split(host, strlen(host), true);
	size_t len;
	struct origin_ip ip;

	if (hlen < 0)
		return ORIGIN_HOST_MALFORMED;
	len = (size_t)hlen;
	if (host[0] == '[' || origin_ip_parse(host, len, &ip)) {
		if (!origin_ip_parse(host, len, &ip))
			return ORIGIN_HOST_MALFORMED;
		return origin_ip_allowed(&ip, local, allowed, n_allowed)
			       ? ORIGIN_HOST_OK
			       : ORIGIN_HOST_UNKNOWN;
	}
	if (!origin_name_ok(host, len))
		return ORIGIN_HOST_MALFORMED;
	/* "localhost." is "localhost": a final dot only says the name is
	 * absolute. */
	if (len > 1 && host[len - 1] == '.')
		len--;
	if (len == 9 && !strncasecmp(host, "localhost", 9))
		return ORIGIN_HOST_OK;
	for (size_t i = 0; i < n_allowed; i++)
		if (strlen(allowed[i]) == len &&
		    !strncasecmp(host, allowed[i], len))
			return ORIGIN_HOST_OK;
	return ORIGIN_HOST_UNKNOWN;
}

bool origin_cors_allowed(const char *origin, const struct config *cfg)
{
	for (size_t i = 0; i < cfg->n_cors; i++)
		if (!strcmp(origin, cfg->cors_origins[i]))
			return true;
	return false;
}

bool origin_is_self(const char *origin, const char *host, bool tls)
{
	char o[300], self[300];
	int n;

	if (!origin || !host || strlen(origin) >= sizeof(o))
		return false;
	snprintf(o, sizeof(o), "%s", origin);
	n = snprintf(self, sizeof(self), "%s://%s", tls ? "https" : "http",
		     host);
	if (n <= 0 || (size_t)n >= sizeof(self))
		return false;
	if (self[n - 1] == ':') /* "host:" is "host" (RFC 9110, 7.2) */
		self[n - 1] = '\0';
	if (origin_cors_normalize(o) || origin_cors_normalize(self))
		return false;
	return !strcmp(o, self);
}

/* What the request's headers say, gathered in one pass. */
struct origin_headers {
	const struct config *cfg;
	const char *host;
	size_t hosts;
	size_t origins;
	const char *bad_origin; /* the first Origin not allowed */
};

static enum MHD_Result origin_header(void *cls, enum MHD_ValueKind kind,
				     const char *key, const char *value)
{
	struct origin_headers *oh = cls;

	(void)kind;
	if (!strcasecmp(key, "Host")) {
		if (!oh->hosts++)
			oh->host = value;
	} else if (!strcasecmp(key, "Origin")) {
		oh->origins++;
		if (!oh->bad_origin && !origin_cors_allowed(value, oh->cfg))
			oh->bad_origin = value;
	}
	return MHD_YES;
}

/* A header value fit for a problem's detail: printable ASCII, bounded. */
static void origin_quote(char *out, size_t size, const char *value)
{
	size_t i;

	for (i = 0; value[i] && i + 1 < size; i++)
		out[i] = value[i] >= 0x20 && value[i] < 0x7f ? value[i] : '?';
	out[i] = '\0';
}

/* The address the client connected to; false on a unix socket. */
static bool origin_local(struct MHD_Connection *conn,
			 struct sockaddr_storage *ss, bool *have)
{
	const union MHD_ConnectionInfo *ci = MHD_get_connection_info(
		conn, MHD_CONNECTION_INFO_CONNECTION_FD);
	socklen_t len = sizeof(*ss);

	*have = ci &&
		getsockname(ci->connect_fd, (struct sockaddr *)ss, &len) == 0;
	return !*have || ss->ss_family != AF_UNIX;
}

/* The authority of an absolute-form target (RFC 9112, 3.2.2), which names
 * the server in place of Host, copied into buf; NULL for a path. */
static const char *origin_target_host(const char *target, char *buf,
				      size_t size)
{
	const char *a;
	size_t len;

	if (!strncasecmp(target, "http://", 7))
		a = target + 7;
	else if (!strncasecmp(target, "https://", 8))
		a = target + 8;
	else
		return NULL;
	len = strcspn(a, "/?#");
	if (len >= size)
		len = size - 1;
	memcpy(buf, a, len);
	buf[len] = '\0';
	return buf;
}

static int origin_check_host(const char *host, const struct sockaddr *local,
			     const struct config *cfg, struct problem *p)
{
	char shown[128];

	switch (origin_host_check(host, local, cfg->allowed_hosts,
				  cfg->n_allowed_hosts)) {
	case ORIGIN_HOST_OK: return 0;
	case ORIGIN_HOST_MALFORMED:
		return problem_set(p, 400, "malformed-request",
				   "the Host header is malformed");
	case ORIGIN_HOST_UNKNOWN: break;
	}
	origin_quote(shown, sizeof(shown), host);
	return problem_set(
		p, 421, "misdirected-request",
		"'%s' is not a loopback or own address of this server, nor a name allowed by --allowed-host; nothing was changed",
		shown);
}

int origin_check(struct MHD_Connection *conn, const struct config *cfg,
		 const char *target, struct problem *p)
{
	struct origin_headers oh = { .cfg = cfg };
	struct sockaddr_storage ss;
	char buf[300], shown[128];
	const char *authority;
	bool have_local;
	int r;

	MHD_get_connection_values(conn, MHD_HEADER_KIND, origin_header, &oh);
	/* A unix socket is guarded by its mode and group, and no browser
	 * reaches it by a name. */
	if (origin_local(conn, &ss, &have_local)) {
		const struct sockaddr *local =
			have_local ? (const struct sockaddr *)&ss : NULL;

		if (oh.hosts > 1)
			return problem_set(
				p, 400, "malformed-request",
				"the Host header is given more than once");
		/* libmicrohttpd refuses HTTP/1.1 without Host: only an
		 * HTTP/1.0 client, never a browser, comes here without. */
		if (oh.host) {
			r = origin_check_host(oh.host, local, cfg, p);
			if (r)
				return r;
		}
		authority = origin_target_host(target, buf, sizeof(buf));
		if (authority) {
			r = origin_check_host(authority, local, cfg, p);
			if (r)
				return r;
		}
		/* The dashboard's own requests (GET /): a page served from
		 * a Host checked above is no cross-site one. */
		if (oh.bad_origin && oh.origins == 1 && oh.host &&
		    origin_is_self(
			    oh.bad_origin, oh.host,
			    MHD_get_connection_info(
				    conn, MHD_CONNECTION_INFO_GNUTLS_SESSION) !=
				    NULL))
			oh.bad_origin = NULL;
	}
	if (oh.bad_origin) {
		origin_quote(shown, sizeof(shown), oh.bad_origin);
		return problem_set(
			p, 403, "origin-not-allowed",
			"requests from the web origin '%s' are not allowed (see --cors-origin); nothing was changed",
			shown);
	}
	return 0;
}
