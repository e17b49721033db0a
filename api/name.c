#include "name.h"

#include <string.h>

static bool name_char_portable(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-';
}

/* What every name is checked for first: given, not empty, and at most
 * `max` bytes (`too_long` says so in the unit the client counts). */
static const char *name_check_length(const char *name, size_t max,
				     const char *too_long)
{
	if (!name)
		return "is required";
	if (!*name)
		return "must not be empty";
	return strlen(name) > max ? too_long : NULL;
}

const char *name_check_namespace(const char *name)
{
	const char *why = name_check_length(name, NAME_NS_MAX,
					    "must be at most 64 characters");

	if (why)
		return why;
	if (name[0] == '.' || name[0] == '-')
		return "must not start with '.' or '-'";
	for (size_t i = 0; name[i]; i++)
		if (!name_char_portable(name[i]))
			return "may contain only A-Z, a-z, 0-9, '_', '.' and '-'";
	return NULL;
}

const char *name_check_link(const char *name)
{
	const char *why = name_check_length(name, NAME_LINK_MAX,
					    "must be at most 15 bytes");

	if (why)
		return why;
	if (!strcmp(name, ".") || !strcmp(name, ".."))
		return "must not be '.' or '..'";
	for (size_t i = 0; name[i]; i++) {
		unsigned char c = (unsigned char)name[i];

		if (c == '/' || c == ':')
			return "must not contain '/' or ':'";
		if (c <= ' ' || c == 0x7f)
			return "must not contain whitespace or control characters";
		/* The kernel counts bytes and clients count characters: in
		 * ASCII the two agree (openapi.yaml, LinkName). */
		if (c >= 0x80)
			return "must be printable ASCII (a link another tool named otherwise is listed, but netnsd cannot act on it)";
	}
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
