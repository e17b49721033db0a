#include "jsonbuf.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void jsonbuf_free(struct jsonbuf *b)
{
	if (!b)
		return;
	free(b->data);
	memset(b, 0, sizeof(*b));
}

static bool jsonbuf_room(struct jsonbuf *b, size_t more)
{
	size_t cap;
	char *grown;

	if (b->err)
		return false;
	if (b->len + more + 1 <= b->cap)
		return true;
	if (more > SIZE_MAX / 4 - b->len) { /* doubling would wrap */
		b->err = -ENOMEM;
		return false;
	}
	cap = b->cap ? b->cap : 4096;
	while (cap < b->len + more + 1)
		cap *= 2;
	grown = realloc(b->data, cap);
	if (!grown) {
		b->err = -ENOMEM;
		return false;
	}
	b->data = grown;
	b->cap = cap;
	return true;
}

void jsonbuf_reserve(struct jsonbuf *b, size_t more)
{
	jsonbuf_room(b, more);
}

void jsonbuf_raw(struct jsonbuf *b, const char *text, size_t len)
{
	if (!jsonbuf_room(b, len))
		return;
	memcpy(b->data + b->len, text, len);
	b->len += len;
	b->data[b->len] = '\0';
}

void jsonbuf_lit(struct jsonbuf *b, const char *text)
{
	jsonbuf_raw(b, text, strlen(text));
}

void jsonbuf_json(struct jsonbuf *b, const json_t *j)
{
	char *text;

	if (b->err)
		return;
	if (!j) {
		b->err = -EINVAL;
		return;
	}
	text = json_dumps(j,
			  JSON_COMPACT | JSON_ENSURE_ASCII | JSON_ENCODE_ANY);
	if (!text) {
		b->err = -ENOMEM;
		return;
	}
	jsonbuf_lit(b, text);
	free(text);
}

void jsonbuf_str(struct jsonbuf *b, const char *s)
{
	json_t *j;
	size_t n;

	if (!s) {
		jsonbuf_raw(b, "null", 4);
		return;
	}
	/* Names and words are plain ASCII nearly always: copied as they
	 * are. Anything else is left to jansson, whose escaping (and whose
	 * refusal of what is not UTF-8) is then the same by construction. */
	for (n = 0; s[n]; n++)
		if ((unsigned char)s[n] < 0x20 || (unsigned char)s[n] > 0x7e ||
		    s[n] == '"' || s[n] == '\\')
			break;
	if (!s[n]) {
		if (!jsonbuf_room(b, n + 2))
			return;
		b->data[b->len++] = '"';
		memcpy(b->data + b->len, s, n);
		b->len += n;
		b->data[b->len++] = '"';
		b->data[b->len] = '\0';
		return;
	}
	if (b->err)
		return;
	j = json_string(s);
	if (!j) {
		b->err = -EILSEQ;
		return;
	}
	jsonbuf_json(b, j);
	json_decref(j);
}

void jsonbuf_int(struct jsonbuf *b, long long n)
{
	/* By hand: printf's machinery costs more than the digits. */
	unsigned long long u =
		n < 0 ? 0ULL - (unsigned long long)n : (unsigned long long)n;
	char text[24], *p = text + sizeof(text);

	do {
		*--p = (char)('0' + u % 10);
		u /= 10;
	} while (u);
	if (n < 0)
		*--p = '-';
	jsonbuf_raw(b, p, (size_t)(text + sizeof(text) - p));
}

void jsonbuf_bool(struct jsonbuf *b, bool v)
{
	if (v)
		jsonbuf_raw(b, "true", 4);
	else
		jsonbuf_raw(b, "false", 5);
}

void jsonbuf_rewind(struct jsonbuf *b, size_t len)
{
	if (b->err == -ENOMEM)
		return; /* what is lost stays lost */
	b->err = 0;
	if (len < b->len) {
		b->len = len;
		b->data[len] = '\0';
	}
}

char *jsonbuf_steal(struct jsonbuf *b, size_t *ret_len)
{
	char *text;

	if (b->err || !jsonbuf_room(b, 0)) {
		jsonbuf_free(b);
		return NULL;
	}
	text = b->data;
	*ret_len = b->len;
	memset(b, 0, sizeof(*b));
	return text;
}
