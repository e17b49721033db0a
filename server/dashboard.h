/* The dashboard (GET /): one page, its script and its style sheet,
 * compiled into the binary from web/ (README.md, "Dashboard"). */
#ifndef NETNSD_DASHBOARD_H
#define NETNSD_DASHBOARD_H

#include <stdbool.h>

#include "../api/request.h"

/* The policy of the page: its own script and style sheet, requests to
 * this server only, no inline script or style, no framing, no forms that
 * post elsewhere. */
#define DASHBOARD_CSP                                                 \
	"default-src 'none'; script-src 'self'; style-src 'self'; "   \
	"connect-src 'self'; img-src 'self' data:; base-uri 'none'; " \
	"form-action 'none'; frame-ancestors 'none'"
/* The policy of every other answer: a JSON body, a problem or the
 * metrics opened in a browser run nothing and load nothing. */
#define DASHBOARD_CSP_NONE "default-src 'none'; frame-ancestors 'none'"

int dashboard_handle_page(struct request *req, struct reply *rep);
int dashboard_handle_script(struct request *req, struct reply *rep);
int dashboard_handle_style(struct request *req, struct reply *rep);

/* Whether `path` is one of the files above, which need no bearer token
 * (they hold no data: the page asks for the token and sends it with
 * every request of its own). */
bool dashboard_is_asset(const char *method, const char *path);

#endif
