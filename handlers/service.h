/* The service's own endpoints: probes, metrics and the API document. */
#ifndef NETNSD_HANDLER_SERVICE_H
#define NETNSD_HANDLER_SERVICE_H

#include "../api/request.h"

int service_handle_healthz(struct request *req, struct reply *rep);
int service_handle_readyz(struct request *req, struct reply *rep);
int service_handle_metrics(struct request *req, struct reply *rep);
int service_handle_openapi(struct request *req, struct reply *rep);

#endif
