/* Which requests netnsd answers at all, judged by their Host and Origin
 * headers before any handler runs: the defence against DNS rebinding and
 * cross-site requests from web pages (README.md, "Securing netnsd";
 * openapi/openapi.yaml, "Answers outside the operations below"). */
#ifndef NETNSD_ORIGIN_H
#define NETNSD_ORIGIN_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

#include "../api/problem.h"
#include "config.h"

struct MHD_Connection;

/* Checks a --cors-origin value and rewrites it in place into the form a
 * browser sends in Origin (lowercase scheme and host, no default port), so
 * that a plain comparison finds it. NULL when it is fine, else why not. */
const char *origin_cors_normalize(char *origin);

/* Checks an --allowed-host value (a DNS name, or an IP address, IPv6 with or
 * without brackets; no port) and rewrites it in place: lowercase, without a
 * final dot. NULL when it is fine, else why not. */
const char *origin_host_normalize(char *name);

enum origin_host_verdict {
	ORIGIN_HOST_OK,
	ORIGIN_HOST_UNKNOWN,   /* well formed, but not a name of this server */
	ORIGIN_HOST_MALFORMED, /* not host[:port] (RFC 9110, 7.2) */
};

/* The verdict on one Host value: a loopback name or address, an address
 * equal to `local` (the address the client connected to, or NULL), or one
 * of the `allowed` names or addresses (normalised as above); with any port
 * or none. */
enum origin_host_verdict origin_host_check(const char *host,
					   const struct sockaddr *local,
					   const char *const *allowed,
					   size_t n_allowed);

/* Whether a request's Origin value is one of --cors-origin (normalised). */
bool origin_cors_allowed(const char *origin, const struct config *cfg);

/* Whether `origin` (an Origin value) is the origin of a request that came
 * with Host `host` (already checked) on a listener with TLS or without:
 * a page this server served itself (README.md, "Dashboard"). */
bool origin_is_self(const char *origin, const char *host, bool tls);

/* The one check of server/http.c, when a request's headers are complete:
 * 0 when the request may go on, else a negative status with p set (400 for
 * a malformed or repeated Host, 421 for a Host this server does not answer
 * to, 403 for an Origin not allowed: neither in --cors-origin nor the
 * server's own, origin_is_self). Unix-socket connections skip the Host
 * check; the Origin check applies everywhere. */
int origin_check(struct MHD_Connection *conn, const struct config *cfg,
		 const char *target, struct problem *p);

#endif
