/* An RFC 9457 problem: the one error type every layer above netlink carries. */
#ifndef NETNSD_PROBLEM_H
#define NETNSD_PROBLEM_H

#include <jansson.h>
#include <stdarg.h>
#include <stdbool.h>

struct problem {
	int status;	   /* HTTP status; 0 means "no problem" */
	const char *type;  /* short slug, e.g. "invalid-value" */
	const char *title; /* fixed human summary for the type */
	char detail[512];  /* this occurrence, never internals */
	json_t *errors;	   /* array of {"field", "message"} or NULL */
	json_t *step;	 /* the step that failed: {"action", "path"}, or NULL */
	size_t n_errors; /* every error found; errors[] holds the first few */
};

/* errors[] lists at most this many; error_count says how many there were,
 * so that a body of many bad fields cannot make a large answer
 * (openapi/openapi.yaml, Problem). */
#define PROBLEM_ERRORS_MAX 20

#define PROBLEM_INIT                             \
	{                                        \
		0, NULL, NULL, "", NULL, NULL, 0 \
	}

/* Sets status, type and title, and formats detail. Returns -status as a
 * convenient non-zero error for callers. */
int problem_set(struct problem *p, int status, const char *type,
		const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* Adds one entry to errors[] (counted only, past PROBLEM_ERRORS_MAX); a 400
 * "invalid-value" is set if no status yet. */
int problem_field(struct problem *p, const char *field, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Builds a problem from a negative errno of an operation described by `what`,
 * with the kernel's own words (extended ACK) when it gave any. */
int problem_errno(struct problem *p, int err, const char *what,
		  const char *kernel_msg);

/* Maps a negative errno to the HTTP status the API documents for it. */
int problem_status_for_errno(int err);

/* The refusals found in more than one place, one function a rule, so that
 * one case reads the same wherever it is found. Each returns as
 * problem_set does. */

/* 404: the namespace `ns` is not there. */
int problem_ns_missing(struct problem *p, const char *ns);

/* 409 already-exists: creating a namespace whose name is taken. */
int problem_ns_exists(struct problem *p, const char *ns);

/* 404: no `what` ("link", "bridge", "parent link") named `name` in `ns`. */
int problem_link_missing(struct problem *p, const char *what, const char *name,
			 const char *ns);

/* 409 already-exists: creating a link whose name netnsd's own link holds;
 * `put_what` names what a PUT on the path would converge instead ("bridge",
 * "link"), NULL where no PUT is meant (the link came meanwhile). */
int problem_link_exists(struct problem *p, const char *ns, const char *name,
			const char *put_what);

/* 409 already-exists: the name is held by a link netnsd did not make,
 * which neither a POST nor a PUT may take over. */
int problem_link_foreign(struct problem *p, const char *ns, const char *name);

/* 409 already-exists: creating a veth pair when either end's name is
 * taken; `put_hint` as for problem_link_exists. */
int problem_pair_exists(struct problem *p, const char *ns, const char *name,
			const char *pns, const char *pname, bool put_hint);

/* 400 invalid-value: a master named that is not a bridge. */
int problem_not_bridge(struct problem *p, const char *ns, const char *name);

/* Field `field`: a bridge named as its own port. */
int problem_own_port(struct problem *p, const char *field);

/* Field `at` of PUT /v1/state: a namespace that the document does not
 * declare. */
int problem_ns_undeclared(struct problem *p, const char *at, const char *ns);

json_t *problem_to_json(const struct problem *p);
void problem_clear(struct problem *p);

#endif
