#include "problem.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

static const char *problem_title(int status)
{
	switch (status) {
	case 308: return "Permanent Redirect";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 409: return "Conflict";
	case 412: return "Precondition Failed";
	case 413: return "Content Too Large";
	case 415: return "Unsupported Media Type";
	case 421: return "Misdirected Request";
	case 431: return "Request Header Fields Too Large";
	case 501: return "Not Implemented";
	case 503: return "Service Unavailable";
	case 504: return "Gateway Timeout";
	case 507: return "Insufficient Storage";
	default: return "Internal Server Error";
	}
}

/* The length of the valid UTF-8 character at `s` (as jansson checks it:
 * no overlong forms, no surrogates, nothing past U+10FFFF), or 0. */
static size_t problem_utf8_len(const unsigned char *s)
{
	uint32_t cp;
	size_t n;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		n = 2;
		cp = s[0] & 0x1f;
	} else if ((s[0] & 0xf0) == 0xe0) {
		n = 3;
		cp = s[0] & 0x0f;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		n = 4;
		cp = s[0] & 0x07;
	} else {
		return 0;
	}
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80) /* also stops at the NUL */
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
	    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

/* Replaces every byte that is not part of a valid UTF-8 character with '?'.
 * Text cut to fit a buffer can end inside a character, and client bytes can
 * be anything; either would make the problem impossible to send as JSON. */
static void problem_utf8_fix(char *text)
{
	unsigned char *s = (unsigned char *)text;

	while (*s) {
		size_t n = problem_utf8_len(s);

		if (n)
			s += n;
		else
			*s++ = '?';
	}
}

int problem_set(struct problem *p, int status, const char *type,
		const char *fmt, ...)
{
	va_list ap;

	p->status = status;
	p->type = type;
	p->title = problem_title(status);
	va_start(ap, fmt);
	vsnprintf(p->detail, sizeof(p->detail), fmt, ap);
	va_end(ap);
	problem_utf8_fix(p->detail);
	return -status;
}

int problem_field(struct problem *p, const char *field, const char *fmt, ...)
{
	char msg[256], name[256];
	va_list ap;

	/* Past the cap the error is counted, not kept: memory and the answer
	 * stay small whatever the body holds. The first error is in detail. */
	if (p->status && p->n_errors >= PROBLEM_ERRORS_MAX) {
		p->n_errors++;
		return -p->status;
	}
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	problem_utf8_fix(msg);
	snprintf(name, sizeof(name), "%s", field);
	problem_utf8_fix(name);

	if (!p->status) {
		problem_set(p, 400, "invalid-value", "%s: %s", name, msg);
	}
	if (!p->errors)
		p->errors = json_array();
	json_array_append_new(p->errors, json_pack("{s:s, s:s}", "field", name,
						   "message", msg));
	p->n_errors++;
	return -p->status;
}

int problem_status_for_errno(int err)
{
	switch (-err) {
	case EEXIST:
	case EBUSY:
	case EXFULL:
	case ENOTEMPTY:
	case EADDRINUSE: return 409;
	case ENOENT:
	case ENODEV:
	case ESRCH:
	case EADDRNOTAVAIL: return 404;
	case EINVAL:
	case ERANGE:
	case EOPNOTSUPP:
	case EAFNOSUPPORT:
	case E2BIG:
	case ENAMETOOLONG:
	case ELOOP: return 400;
	case ENOSPC:
	case EDQUOT: return 507;
	/* Only a netlink wait that ran out (netlink/sock.h) gives it: the
	 * kernel stands behind netnsd as an upstream server would. */
	case ETIMEDOUT: return 504;
	default: return 500;
	}
}

static const char *problem_type_for_status(int status)
{
	switch (status) {
	case 400: return "invalid-value";
	case 404: return "not-found";
	case 409: return "conflict";
	case 507: return "insufficient-storage";
	case 504: return "kernel-timeout";
	default: return "internal";
	}
}

int problem_errno(struct problem *p, int err, const char *what,
		  const char *kernel_msg)
{
	int status = problem_status_for_errno(err);
	const char *why =
		kernel_msg && *kernel_msg ? kernel_msg : strerror(-err);

	if (err == -EXFULL && !(kernel_msg && *kernel_msg))
		why = "the bridge has no free port (at most 1023)";
	if (err == -ETIMEDOUT && !(kernel_msg && *kernel_msg))
		why = "the kernel did not answer in time";
	return problem_set(p, status, problem_type_for_status(status), "%s: %s",
			   what, why);
}

int problem_ns_missing(struct problem *p, const char *ns)
{
	return problem_set(p, 404, "not-found", "namespace %s does not exist",
			   ns);
}

int problem_ns_exists(struct problem *p, const char *ns)
{
	return problem_set(p, 409, "already-exists",
			   "namespace %s already exists", ns);
}

int problem_link_missing(struct problem *p, const char *what, const char *name,
			 const char *ns)
{
	return problem_set(p, 404, "not-found",
			   "%s %s does not exist in namespace %s", what, name,
			   ns);
}

int problem_link_exists(struct problem *p, const char *ns, const char *name,
			const char *put_what)
{
	if (!put_what)
		return problem_set(
			p, 409, "already-exists",
			"a link named %s already exists in namespace %s", name,
			ns);
	return problem_set(
		p, 409, "already-exists",
		"a link named %s already exists in namespace %s (PUT converges an existing %s)",
		name, ns, put_what);
}

int problem_link_foreign(struct problem *p, const char *ns, const char *name)
{
	return problem_set(
		p, 409, "already-exists",
		"a link named %s already exists in namespace %s and was not created by netnsd: it cannot be converged",
		name, ns);
}

int problem_pair_exists(struct problem *p, const char *ns, const char *name,
			const char *pns, const char *pname, bool put_hint)
{
	return problem_set(
		p, 409, "already-exists",
		"a link named %s already exists in namespace %s, or %s in namespace %s%s",
		name, ns, pname, pns,
		put_hint ? " (PUT converges an existing pair)" : "");
}

int problem_not_bridge(struct problem *p, const char *ns, const char *name)
{
	return problem_set(p, 400, "invalid-value",
			   "%s in namespace %s is not a bridge", name, ns);
}

int problem_own_port(struct problem *p, const char *field)
{
	return problem_field(p, field, "a bridge cannot be its own port");
}

int problem_ns_undeclared(struct problem *p, const char *at, const char *ns)
{
	return problem_field(p, at, "namespace %s is not declared", ns);
}

json_t *problem_to_json(const struct problem *p)
{
	char type[96];
	json_t *o;

	snprintf(type, sizeof(type), "urn:netnsd:problem:%s",
		 p->type ? p->type : "internal");
	o = json_pack("{s:s, s:s, s:i, s:s}", "type", type, "title",
		      p->title ? p->title : problem_title(p->status), "status",
		      p->status, "detail", p->detail);
	if (o && p->errors) {
		json_object_set(o, "errors", p->errors);
		json_object_set_new(o, "error_count",
				    json_integer((json_int_t)p->n_errors));
	}
	if (o && p->step)
		json_object_set(o, "step", p->step);
	return o;
}

void problem_clear(struct problem *p)
{
	json_decref(p->errors);
	json_decref(p->step);
	memset(p, 0, sizeof(*p));
}
