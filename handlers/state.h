#ifndef NETNSD_HANDLER_STATE_H
#define NETNSD_HANDLER_STATE_H

#include "../api/request.h"

int state_handle_get(struct request *req, struct reply *rep);
int state_handle_put(struct request *req, struct reply *rep);
int state_handle_confirm(struct request *req, struct reply *rep);

#endif
