#ifndef NETNSD_HANDLER_HEALTH_H
#define NETNSD_HANDLER_HEALTH_H

#include "../server/router.h"

int health_handle_healthz(struct request *req, struct reply *rep);

#endif
