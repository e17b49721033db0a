/* An RFC 9457 problem: the one error type every layer above netlink carries. */
#ifndef NETNSD_PROBLEM_H
#define NETNSD_PROBLEM_H

#include <jansson.h>
#include <stdarg.h>

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

json_t *problem_to_json(const struct problem *p);
void problem_clear(struct problem *p);

#endif
