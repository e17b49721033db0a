/* The daemon's own endpoints: probes, metrics, the API document and the
 * reconcile run on request. They answer about the daemon itself (its
 * convergence, its counters), so they live with it rather than among the
 * resources of handlers/, which never reach up into server/. */
#ifndef NETNSD_SERVICE_H
#define NETNSD_SERVICE_H

#include "../api/request.h"

int service_handle_healthz(struct request *req, struct reply *rep);
int service_handle_readyz(struct request *req, struct reply *rep);
int service_handle_metrics(struct request *req, struct reply *rep);
int service_handle_openapi(struct request *req, struct reply *rep);
/* POST /v1/reconcile: one converge_run, logged and counted there. */
int service_handle_reconcile(struct request *req, struct reply *rep);

#endif
