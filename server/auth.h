/* Bearer tokens: loaded once from --token-file, compared in constant time,
 * never logged. */
#ifndef NETNSD_AUTH_H
#define NETNSD_AUTH_H

#include <stdbool.h>

/* Loads the tokens; refuses a file that is not a regular file, that group or
 * others can access, or that is owned by anyone but root, the user netnsd
 * runs as and `user` (the account of --user, or NULL). Prints why. */
int auth_load(const char *path, const char *user);
bool auth_enabled(void);
/* Checks an Authorization header value ("Bearer <token>"). */
bool auth_check(const char *header);

#endif
