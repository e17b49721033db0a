#include "etag.h"

#include <gnutls/crypto.h>
#include <string.h>

int etag_of(const char *body, size_t len, char out[ETAG_SIZE])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char d[32];

	/* SHA-256: GnuTLS is linked already, and with the CPU's SHA
	 * instructions the hash of a thousand links' JSON takes a fraction
	 * of what rendering it did. A tag a client could make collide would
	 * let a stale If-Match pass; 128 bits of it are plenty. */
	if (gnutls_hash_fast(GNUTLS_DIG_SHA256, body, len, d) < 0)
		return -1;
	out[0] = '"';
	for (size_t i = 0; i < 16; i++) {
		out[1 + 2 * i] = hex[d[i] >> 4];
		out[2 + 2 * i] = hex[d[i] & 0xf];
	}
	out[33] = '"';
	out[34] = '\0';
	return 0;
}

static const char *etag_ows(const char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	return s;
}

/* One entity-tag at s (RFC 9110, 8.8.3: [W/]"etagc*"): its opaque tag, with
 * the quotes, in *tag and *tag_len; returns the end, or NULL. */
static const char *etag_one(const char *s, bool *weak, const char **tag,
			    size_t *tag_len)
{
	const char *t;

	*weak = !strncmp(s, "W/", 2);
	if (*weak)
		s += 2;
	if (*s != '"')
		return NULL;
	for (t = s + 1; *t != '"'; t++) {
		unsigned char c = (unsigned char)*t;

		if (c != 0x21 && (c < 0x23 || c == 0x7f))
			return NULL; /* also the NUL of an unclosed quote */
	}
	*tag = s;
	*tag_len = (size_t)(t + 1 - s);
	return t + 1;
}

void etag_cond_add(struct etag_cond *c, const char *value, const char *etag)
{
	bool strong = false, weak = false;
	const char *s = etag_ows(value);

	c->present = true;
	if (*s == '*' && !*etag_ows(s + 1)) {
		c->star = true;
		return;
	}
	while (*s) {
		const char *tag;
		size_t len;
		bool w;

		if (*s == ',') { /* empty list elements are allowed */
			s = etag_ows(s + 1);
			continue;
		}
		s = etag_one(s, &w, &tag, &len);
		if (!s)
			return; /* not a list of entity-tags: matches nothing */
		if (etag && len == strlen(etag) && !memcmp(tag, etag, len)) {
			weak = true;
			strong = strong || !w;
		}
		s = etag_ows(s);
		if (*s && *s != ',')
			return;
	}
	c->strong = c->strong || strong;
	c->weak = c->weak || weak;
}
