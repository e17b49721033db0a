/* /v1/namespaces/{ns}/sysctls: the allow-listed per-namespace sysctls
 * (README.md, "Sysctls"). */
#ifndef NETNSD_HANDLER_SYSCTL_H
#define NETNSD_HANDLER_SYSCTL_H

#include "../api/request.h"

int sysctl_handle_list(struct request *req, struct reply *rep);
int sysctl_handle_get(struct request *req, struct reply *rep);
int sysctl_handle_put(struct request *req, struct reply *rep);
int sysctl_handle_delete(struct request *req, struct reply *rep);

#endif
