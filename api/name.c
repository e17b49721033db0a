#include "name.h"

#include <stdint.h>
#include <string.h>

static bool name_char_portable(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-';
}

const char *name_check_namespace(const char *name)
{
	size_t len;

	if (!name)
		return "is required";
	len = strlen(name);
	if (len == 0)
		return "must not be empty";
	if (len > NAME_NS_MAX)
		return "must be at most 64 characters";
	if (name[0] == '.' || name[0] == '-')
		return "must not start with '.' or '-'";
	for (size_t i = 0; i < len; i++)
		if (!name_char_portable(name[i]))
			return "may contain only A-Z, a-z, 0-9, '_', '.' and '-'";
	return NULL;
}

/* Whether `s` is valid UTF-8: names end up as JSON strings, which must be. */
static bool name_utf8(const unsigned char *s)
{
	while (*s) {
		int n = *s < 0x80	      ? 1
			: (*s & 0xe0) == 0xc0 ? 2
			: (*s & 0xf0) == 0xe0 ? 3
			: (*s & 0xf8) == 0xf0 ? 4
					      : 0;
		uint32_t cp = n == 1   ? *s
			      : n == 2 ? *s & 0x1fu
			      : n == 3 ? *s & 0x0fu
				       : *s & 0x07u;

		if (!n)
			return false;
		for (int i = 1; i < n; i++) {
			if ((s[i] & 0xc0) != 0x80)
				return false;
			cp = cp << 6 | (s[i] & 0x3fu);
		}
		if ((n == 2 && cp < 0x80) || (n == 3 && cp < 0x800) ||
		    (n == 4 && cp < 0x10000) || cp > 0x10ffff ||
		    (cp >= 0xd800 && cp <= 0xdfff))
			return false;
		s += n;
	}
	return true;
}

const char *name_check_link(const char *name)
{
	size_t len;

	if (!name)
		return "is required";
	len = strlen(name);
	if (len == 0)
		return "must not be empty";
	if (len > NAME_LINK_MAX)
		return "must be at most 15 bytes";
	if (!strcmp(name, ".") || !strcmp(name, ".."))
		return "must not be '.' or '..'";
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)name[i];

		if (c == '/' || c == ':')
			return "must not contain '/' or ':'";
		if (c <= ' ' || c == 0x7f)
			return "must not contain whitespace or control characters";
	}
	if (!name_utf8((const unsigned char *)name))
		return "must be valid UTF-8";
	return NULL;
}

const char *name_check_new_link(const char *name)
{
	const char *why = name_check_link(name);

	if (why)
		return why;
	for (const char *c = name; *c; c++)
		if (!name_char_portable(*c) && *c != '@')
			return "may contain only A-Z, a-z, 0-9, '_', '.', '@' and '-'";
	return NULL;
}

bool name_is_host(const char *ns)
{
	return ns && !strcmp(ns, NAME_HOST);
}
