/* Bearer tokens: loaded once from --token-file, compared in constant time,
 * never logged. */
#ifndef NETNSD_AUTH_H
#define NETNSD_AUTH_H

#include <stdbool.h>

/* Loads the tokens; refuses a file others can read or write. Prints why. */
int auth_load(const char *path);
bool auth_enabled(void);
/* Checks an Authorization header value ("Bearer <token>"). */
bool auth_check(const char *header);

#endif
