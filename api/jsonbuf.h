/* JSON text written straight into one growing buffer, for answers too large
 * to build as a json_t tree first (a namespace's thousand links). The text
 * is byte for byte what json_dumps(JSON_COMPACT | JSON_ENSURE_ASCII) would
 * print for the same values, so either way of answering looks the same. */
#ifndef NETNSD_JSONBUF_H
#define NETNSD_JSONBUF_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

struct jsonbuf {
	char *data;
	size_t len, cap;
	/* 0, or the first failure: -ENOMEM, or -EILSEQ for a string that
	 * is not UTF-8 (jansson refuses those too). Writes after a failure
	 * are ignored. */
	int err;
};

#define JSONBUF_INIT          \
	{                     \
		NULL, 0, 0, 0 \
	}

void jsonbuf_free(struct jsonbuf *b);
/* Makes room for `more` bytes at once, when the size is known roughly:
 * growing by doubling copies and faults in a large answer several times. */
void jsonbuf_reserve(struct jsonbuf *b, size_t more);

/* Text that is already JSON: punctuation, keys written as "\"name\":". */
void jsonbuf_raw(struct jsonbuf *b, const char *text, size_t len);
void jsonbuf_lit(struct jsonbuf *b, const char *text);
/* A string value, quoted and escaped; NULL writes null. */
void jsonbuf_str(struct jsonbuf *b, const char *s);
void jsonbuf_int(struct jsonbuf *b, long long n);
void jsonbuf_bool(struct jsonbuf *b, bool v);
/* Any jansson value, as json_dumps prints it; NULL writes nothing and
 * fails with -EINVAL. */
void jsonbuf_json(struct jsonbuf *b, const json_t *j);

/* Goes back to `len` bytes and forgets a failure: drops a half-written
 * item. */
void jsonbuf_rewind(struct jsonbuf *b, size_t len);

/* The text (NUL-terminated, `*ret_len` bytes without the NUL), now the
 * caller's to free; NULL after a failure. The buffer is left empty. */
char *jsonbuf_steal(struct jsonbuf *b, size_t *ret_len);

#endif
