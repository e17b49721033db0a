/* GET /v1/links: the links of every namespace in one answer, for views of
 * the whole topology (openapi/openapi.yaml, listAllLinks). */
#ifndef NETNSD_HANDLER_LINKS_ALL_H
#define NETNSD_HANDLER_LINKS_ALL_H

#include "../api/request.h"

int links_all_handle_list(struct request *req, struct reply *rep);

#endif
