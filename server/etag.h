/* Entity tags and the conditional request headers that carry them (RFC
 * 9110, 8.8.3 and 13.1): what a GET answers as ETag, and whether an
 * If-Match or If-None-Match field value names it. */
#ifndef NETNSD_ETAG_H
#define NETNSD_ETAG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* '"', 16 hex digits, '"', NUL. */
#define ETAG_SIZE 19

/* The 64-bit hash of a representation's bytes (XXH64, seed 0). */
uint64_t etag_hash(const void *data, size_t len);

/* The strong ETag of a representation: the hash of its exact bytes, in
 * hex, quoted. Opaque to clients (README.md, "Conditional requests"):
 * equal bytes give equal tags, and a change of the bytes another one. */
void etag_of(const char *body, size_t len, char out[ETAG_SIZE]);

/* What one or more If-Match or If-None-Match fields say of a tag. */
struct etag_cond {
	bool present; /* the field was sent at least once */
	bool star;    /* "*": any current representation */
	bool strong;  /* the tag is listed, not weak: If-Match's comparison */
	bool weak;    /* the tag is listed, weak or not: If-None-Match's */
};

/* Reads one field value (a comma-separated list of entity-tags, or "*")
 * into `c`, comparing each tag with `etag` (NULL: nothing to compare with,
 * only presence and "*" are noted). A value that is not a valid list
 * matches nothing, which is the safe reading for both fields. */
void etag_cond_add(struct etag_cond *c, const char *value, const char *etag);

#endif
