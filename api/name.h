/* Name rules of README.md and openapi/openapi.yaml; every name is checked here before it reaches a
 * path or the kernel. */
#ifndef NETNSD_NAME_H
#define NETNSD_NAME_H

#include <stdbool.h>

#define NAME_NS_MAX   64
#define NAME_LINK_MAX 15
#define NAME_HOST     "host"

/* Each returns NULL when the name is acceptable, else why it is not. */
const char *name_check_namespace(const char *name);
const char *name_check_link(const char *name);	   /* a link in a request */
const char *name_check_new_link(const char *name); /* a name we give */

bool name_is_host(const char *ns);

#endif
