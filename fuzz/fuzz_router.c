/* Path routing and parameter decoding, against the real route table
 * (server/routes.c, linked with stub handlers). The first input byte picks
 * the method, the rest is the path as libmicrohttpd hands it on. Every
 * answer is compared with a plain second implementation of the rules the
 * router's header states, and every decoded parameter that passes the name
 * checks is one a file name can safely be made of. */
#include "fuzz.h"

#include "api/name.h"
#include "api/value.h"
#include "server/router.h"

/* Limits of server/router.c (not exported): longer paths and more segments
 * are 404. */
#define FUZZ_PATH_MAX	  2048
#define FUZZ_SEGMENTS_MAX 12

static const char *const fuzz_methods[] = {
	"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "get",
};

#define FUZZ_N_METHODS (sizeof(fuzz_methods) / sizeof(fuzz_methods[0]))

struct fuzz_seg {
	const char *s;
	size_t len;
};

/* Segments of the part of `path` before any '?'; false when it cannot
 * match any route (no leading '/', an empty segment, too many). One
 * trailing slash after a segment is not a segment: *ret_slash says so. */
static bool fuzz_split_slash(const char *path, struct fuzz_seg *seg,
			     size_t *ret_n, bool *ret_slash)
{
	size_t end = strcspn(path, "?"), n = 0, i = 1;

	*ret_slash = false;
	if (path[0] != '/')
		return false;
	if (end == 1) { /* the root: no segment */
		*ret_n = 0;
		return true;
	}
	for (;;) {
		size_t j = i;

		while (j < end && path[j] != '/')
			j++;
		if (j == i && j == end && n > 0) {
			*ret_slash = true;
			break;
		}
		if (j == i || n == FUZZ_SEGMENTS_MAX)
			return false;
		seg[n].s = path + i;
		seg[n].len = j - i;
		n++;
		if (j == end)
			break;
		i = j + 1;
	}
	*ret_n = n;
	return true;
}

static bool fuzz_split(const char *path, struct fuzz_seg *seg, size_t *ret_n)
{
	bool slash;

	return fuzz_split_slash(path, seg, ret_n, &slash) && !slash;
}

static bool fuzz_is_param(const char *s, size_t len)
{
	return len >= 2 && s[0] == '{' && s[len - 1] == '}';
}

/* Pattern segments, split the same way (patterns have no '?'). */
static size_t fuzz_pattern(const char *pattern, struct fuzz_seg *seg)
{
	size_t n = 0;

	FUZZ_CHECK(fuzz_split(pattern, seg, &n));
	return n;
}

static bool fuzz_matches(const char *pattern, const struct fuzz_seg *seg,
			 size_t n)
{
	struct fuzz_seg pat[FUZZ_SEGMENTS_MAX];
	size_t pn = fuzz_pattern(pattern, pat);

	if (pn != n)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!fuzz_is_param(pat[i].s, pat[i].len) &&
		    (pat[i].len != seg[i].len ||
		     memcmp(pat[i].s, seg[i].s, seg[i].len)))
			return false;
	return true;
}

/* Percent-decodes into out (at least len + 1 bytes); -1 for a bad escape
 * or an encoded NUL, else the decoded length. */
static long fuzz_decode(const char *s, size_t len, char *out)
{
	size_t o = 0;

	for (size_t i = 0; i < len; i++) {
		if (s[i] != '%') {
			out[o++] = s[i];
			continue;
		}
		if (len - i < 3 || value_hex_digit(s[i + 1]) < 0 ||
		    value_hex_digit(s[i + 2]) < 0)
			return -1;
		out[o] = (char)(value_hex_digit(s[i + 1]) << 4 |
				value_hex_digit(s[i + 2]));
		if (!out[o++])
			return -1;
		i += 2;
	}
	out[o] = '\0';
	return (long)o;
}

static bool fuzz_method_fits(const char *route_method, const char *method)
{
	return !strcmp(route_method, method) ||
	       (!strcmp(method, "HEAD") && !strcmp(route_method, "GET"));
}

/* A parameter that passes the check for its kind names one file or link:
 * never a path of its own. */
static void fuzz_check_param(const char *name, const char *value)
{
	if (!strcmp(name, "ns") && !name_check_namespace(value)) {
		FUZZ_CHECK(!strchr(value, '/') && value[0] != '.');
	}
	if ((!strcmp(name, "link") || !strcmp(name, "br") ||
	     !strcmp(name, "name")) &&
	    !name_check_link(value)) {
		FUZZ_CHECK(!strchr(value, '/'));
		FUZZ_CHECK(strcmp(value, ".") && strcmp(value, ".."));
	}
}

static void fuzz_check_match(const struct route *route,
			     const struct fuzz_seg *seg, size_t n,
			     struct request *req, int r, struct problem *p)
{
	struct fuzz_seg pat[FUZZ_SEGMENTS_MAX];
	size_t pn = fuzz_pattern(route->pattern, pat), k = 0;
	char *want[FUZZ_SEGMENTS_MAX] = { NULL };
	long len[FUZZ_SEGMENTS_MAX];
	bool bad = false;

	FUZZ_CHECK(pn == n);
	for (size_t i = 0; i < n && !bad; i++) {
		if (!fuzz_is_param(pat[i].s, pat[i].len))
			continue;
		want[i] = malloc(seg[i].len + 1);
		if (!want[i])
			abort();
		len[i] = fuzz_decode(seg[i].s, seg[i].len, want[i]);
		bad = len[i] < 0;
	}
	if (bad) {
		FUZZ_CHECK(r == -400);
		FUZZ_CHECK(p->type && !strcmp(p->type, "invalid-path"));
		fuzz_check_problem(p, 400);
		goto out;
	}
	FUZZ_CHECK(r == 0 && p->status == 0);
	for (size_t i = 0; i < n; i++) {
		char name[64];

		if (!want[i])
			continue;
		FUZZ_CHECK(k < req->n_params);
		/* Decoded in full: no NUL cuts it short. */
		FUZZ_CHECK(strlen(req->params[k]) == (size_t)len[i]);
		FUZZ_CHECK(!memcmp(req->params[k], want[i], (size_t)len[i]));
		FUZZ_CHECK(pat[i].len - 2 < sizeof(name));
		memcpy(name, pat[i].s + 1, pat[i].len - 2);
		name[pat[i].len - 2] = '\0';
		FUZZ_CHECK(request_param(req, name) == req->params[k]);
		fuzz_check_param(name, req->params[k]);
		k++;
	}
	FUZZ_CHECK(req->n_params == k);
out:
	for (size_t i = 0; i < n; i++)
		free(want[i]);
}

/* The Allow list of a 405: each method of a route whose pattern matches,
 * once, in table order. */
static void fuzz_allow(const struct fuzz_seg *seg, size_t n, char *buf,
		       size_t len)
{
	buf[0] = '\0';
	for (size_t i = 0; i < router_n_routes; i++) {
		const struct route *r = &router_routes[i];
		bool seen = false;

		if (!fuzz_matches(r->pattern, seg, n))
			continue;
		for (size_t j = 0; j < i && !seen; j++)
			seen = !strcmp(router_routes[j].method, r->method) &&
			       fuzz_matches(router_routes[j].pattern, seg, n);
		if (!seen)
			snprintf(buf + strlen(buf), len - strlen(buf), "%s%s",
				 *buf ? ", " : "", r->method);
	}
}

/* A number parameter's value as README.md ("Query parameters") has it:
 * plain decimal, no sign or leading zero, from 1 (0 when `zero`) to
 * `max`; -1 when not. */
static long long fuzz_query_number(const char *v, unsigned max, bool zero)
{
	unsigned long long n;

	if (!v || !*v || strspn(v, "0123456789") != strlen(v) ||
	    strlen(v) > 10 || (v[0] == '0' && (v[1] || !zero)))
		return -1;
	n = strtoull(v, NULL, 10);
	return n > max ? -1 : (long long)n;
}

/* The query of a matched route, parameter by parameter, as
 * libmicrohttpd splits it (on '&', then the first '='): router_query
 * accepts exactly the route's own parameters, a boolean with the value
 * true or false (stored in its field), a number as a plain decimal in its
 * range (stored), a text one with any value but none or an empty one
 * (kept as given), and an error's field is "query." and at most 64
 * printable bytes of the name, then "...". */
static void fuzz_check_query(const struct route *route, const char *path)
{
	const char *q = strchr(path, '?');
	char *copy, *save = NULL, *kv;
	struct request req = { 0 };

	if (!q)
		return;
	copy = strdup(q + 1);
	FUZZ_CHECK(copy);
	for (kv = strtok_r(copy, "&", &save); kv;
	     kv = strtok_r(NULL, "&", &save)) {
		struct problem p = PROBLEM_INIT;
		char *eq = strchr(kv, '=');
		const struct route_query_def *def = NULL;
		const char *field;
		json_t *doc;
		bool ok;
		int r;

		if (eq)
			*eq++ = '\0';
		for (size_t i = 0; i < router_n_queries; i++)
			if ((route->query & router_queries[i].bit) &&
			    !strcmp(router_queries[i].name, kv))
				def = &router_queries[i];
		if (def && def->type == ROUTE_QUERY_NUMBER)
			ok = fuzz_query_number(eq, def->max, def->zero) >= 0;
		else if (def && def->type == ROUTE_QUERY_BOOL)
			ok = eq &&
			     (!strcmp(eq, "true") || !strcmp(eq, "false"));
		else
			ok = def && eq && *eq;
		memset(&req, 0, sizeof(req));
		r = router_query(route, &req, kv, eq, &p);
		FUZZ_CHECK((r == 0) == ok);
		if (ok && def->type == ROUTE_QUERY_NUMBER) {
			FUZZ_CHECK(*(unsigned *)((char *)&req + def->offset) ==
				   (unsigned)fuzz_query_number(eq, def->max,
							       def->zero));
			continue;
		}
		if (ok && def->type == ROUTE_QUERY_BOOL) {
			FUZZ_CHECK(*(bool *)((char *)&req + def->offset) ==
				   !strcmp(eq, "true"));
			continue;
		}
		if (ok) {
			FUZZ_CHECK(request_query_value(&req, def->bit, 0) ==
				   eq);
			FUZZ_CHECK(!request_query_value(&req, def->bit, 1));
			continue;
		}
		FUZZ_CHECK(r == -400 && p.status == 400 && p.errors);
		field = json_string_value(
			json_object_get(json_array_get(p.errors, 0), "field"));
		FUZZ_CHECK(field && !strncmp(field, "query.", 6));
		FUZZ_CHECK(strlen(field) <= 6 + 64 + 3);
		for (const char *c = field; *c; c++)
			FUZZ_CHECK(*c > 0x20 && *c < 0x7f);
		doc = problem_to_json(&p);
		FUZZ_CHECK(doc);
		json_decref(doc);
		problem_clear(&p);
	}
	free(copy);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_seg seg[FUZZ_SEGMENTS_MAX];
	struct request req = { 0 };
	struct problem p = PROBLEM_INIT;
	const struct route *route = NULL, *want = NULL;
	const char *method;
	char allow[128], want_allow[128];
	bool known = false, slash = false;
	size_t n = 0;
	char *path;
	int r;

	if (size < 1)
		return 0;
	method = fuzz_methods[data[0] % FUZZ_N_METHODS];
	path = fuzz_cstr(data + 1, size - 1);

	r = router_match(method, path, &route, &req, allow, sizeof(allow), &p);

	if (strlen(path) <= FUZZ_PATH_MAX &&
	    fuzz_split_slash(path, seg, &n, &slash)) {
		for (size_t i = 0; i < router_n_routes && !want; i++) {
			if (!fuzz_matches(router_routes[i].pattern, seg, n))
				continue;
			known = true;
			if (fuzz_method_fits(router_routes[i].method, method))
				want = &router_routes[i];
		}
	}
	if (known && slash) {
		/* Sent to the path without the slash, whatever the method. */
		FUZZ_CHECK(r == -308 && !route && req.n_params == 0);
		FUZZ_CHECK(p.type && !strcmp(p.type, "trailing-slash"));
		fuzz_check_problem(&p, 308);
	} else if (want) {
		FUZZ_CHECK(route == want);
		FUZZ_CHECK(allow[0] == '\0');
		fuzz_check_match(route, seg, n, &req, r, &p);
		fuzz_check_query(route, path);
	} else if (known) {
		FUZZ_CHECK(r == -405 && !route && req.n_params == 0);
		fuzz_allow(seg, n, want_allow, sizeof(want_allow));
		FUZZ_CHECK(!strcmp(allow, want_allow));
		fuzz_check_problem(&p, 405);
	} else if (strlen(path) > FUZZ_PATH_MAX) {
		/* Over-long paths are refused as such, whatever they name. */
		FUZZ_CHECK(r == -400 && !route && req.n_params == 0);
		fuzz_check_problem(&p, 400);
	} else {
		FUZZ_CHECK(r == -404 && !route && req.n_params == 0);
		fuzz_check_problem(&p, 404);
	}

	request_clear(&req);
	FUZZ_CHECK(req.n_params == 0);
	problem_clear(&p);
	free(path);
	return 0;
}
