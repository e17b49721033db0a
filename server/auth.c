#include "auth.h"

#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../base/log.h"

#define AUTH_MAX       64
#define AUTH_TOKEN_MAX 512

static char *auth_tokens[AUTH_MAX];
static size_t auth_n;

/* The token file must be the operator's alone: owned by root or by the user
 * netnsd runs as, and shut to group and others (README.md, "Securing
 * netnsd"). Tokens are read before --user drops privileges (server/main.c),
 * so the account of --user may own it too. */
static bool auth_owner_ok(uid_t owner, const char *user)
{
	struct passwd *pw;

	if (owner == 0 || owner == geteuid())
		return true;
	pw = user ? getpwnam(user) : NULL;
	return pw && owner == pw->pw_uid;
}

/* Checks what was opened, not the path again: the file cannot be swapped
 * between the check and the read. */
static int auth_file_ok(int fd, const char *path, const char *user)
{
	struct stat st;

	if (fstat(fd, &st) < 0) {
		log_error("cannot stat --token-file %s: %s", path,
			  strerror(errno));
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		log_error(
			"--token-file %s is not a regular file; give a file with one token per line",
			path);
		return -1;
	}
	if (st.st_mode & 0077) {
		log_error(
			"--token-file %s is open to group or others (mode %04o); run chmod 600 %s",
			path, (unsigned)(st.st_mode & 07777), path);
		return -1;
	}
	if (!auth_owner_ok(st.st_uid, user)) {
		log_error(
			"--token-file %s is owned by uid %u, not by root or the user netnsd runs as (uid %u%s%s); run chown root %s",
			path, (unsigned)st.st_uid, (unsigned)geteuid(),
			user ? " or --user " : "", user ? user : "", path);
		return -1;
	}
	return 0;
}

int auth_load(const char *path, const char *user)
{
	char line[AUTH_TOKEN_MAX + 2], *tok;
	FILE *f;
	int fd;

	/* O_NONBLOCK: a FIFO put in its place must not hang start-up. */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0) {
		log_error("cannot read --token-file %s: %s", path,
			  strerror(errno));
		return -1;
	}
	if (auth_file_ok(fd, path, user) < 0) {
		close(fd);
		return -1;
	}
	f = fdopen(fd, "r");
	if (!f) {
		log_error("cannot read --token-file %s: %s", path,
			  strerror(errno));
		close(fd);
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
