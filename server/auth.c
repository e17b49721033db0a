#include "auth.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "log.h"

#define AUTH_MAX       64
#define AUTH_TOKEN_MAX 512

static char *auth_tokens[AUTH_MAX];
static size_t auth_n;

int auth_load(const char *path)
{
	char line[AUTH_TOKEN_MAX + 2], *tok;
	struct stat st;
	FILE *f;

	f = fopen(path, "re");
	if (!f) {
		log_error("cannot read --token-file %s: %s", path,
			  strerror(errno));
		return -1;
	}
	if (fstat(fileno(f), &st) < 0 || (st.st_mode & 0007)) {
		log_error(
			"--token-file %s is readable or writable by others (mode %03o); chmod o= it first",
			path, st.st_mode & 0777);
		fclose(f);
		return -1;
	}
	while (fgets(line, sizeof(line), f)) {
		size_t len = strcspn(line, "\r\n");

		if (len == AUTH_TOKEN_MAX + 1 ||
		    (line[len] == '\0' && !feof(f))) {
			log_error("--token-file %s has a line over %d bytes",
				  path, AUTH_TOKEN_MAX);
			fclose(f);
			return -1;
		}
		line[len] = '\0';
		/* Blanks around a token are not part of it: a header's value
		 * is trimmed the same way. */
		while (len && (line[len - 1] == ' ' || line[len - 1] == '\t'))
			line[--len] = '\0';
		tok = line + strspn(line, " \t");
		if (!*tok || tok[0] == '#')
			continue;
		if (auth_n == AUTH_MAX) {
			log_error("--token-file %s has more than %d tokens",
				  path, AUTH_MAX);
			fclose(f);
			return -1;
		}
		auth_tokens[auth_n++] = strdup(tok);
	}
	fclose(f);
	if (!auth_n) {
		log_error("--token-file %s holds no token", path);
		return -1;
	}
	return 0;
}

bool auth_enabled(void)
{
	return auth_n > 0;
}

/* Equal or not, in time that depends only on the lengths. */
static unsigned auth_differs(const char *a, size_t alen, const char *b,
			     size_t blen)
{
	unsigned d = alen != blen;

	for (size_t i = 0; i < alen; i++)
		d |= (unsigned char)a[i] ^
		     (unsigned char)b[blen ? i % blen : 0];
	return d;
}

bool auth_check(const char *header)
{
	unsigned ok = 0;
	const char *tok;
	size_t len;

	if (!header || strncasecmp(header, "Bearer ", 7))
		return false;
	tok = header + 7;
	while (*tok == ' ' || *tok == '\t')
		tok++;
	len = strlen(tok);
	while (len && (tok[len - 1] == ' ' || tok[len - 1] == '\t'))
		len--;
	if (!len || len > AUTH_TOKEN_MAX)
		return false;
	/* Every token is compared, so timing tells nothing of which. */
	for (size_t i = 0; i < auth_n; i++)
		ok |= !auth_differs(tok, len, auth_tokens[i],
				    strlen(auth_tokens[i]));
	return ok != 0;
}
