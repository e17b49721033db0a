#include "dashboard.h"

#include <string.h>

/* Generated at build time from web/ (CMakeLists.txt). */
extern const char web_index_html[], web_app_js[], web_app_css[];
extern const unsigned long web_index_html_len, web_app_js_len, web_app_css_len;

static int dashboard_file(struct reply *rep, const char *text,
			  unsigned long len, const char *type)
{
	rep->text = text;
	rep->text_len = len;
	rep->content_type = type;
	rep->csp = DASHBOARD_CSP;
	rep->status = 200;
	return 0;
}

int dashboard_handle_page(struct request *req, struct reply *rep)
{
	(void)req;
	return dashboard_file(rep, web_index_html, web_index_html_len,
			      "text/html; charset=utf-8");
}

int dashboard_handle_script(struct request *req, struct reply *rep)
{
	(void)req;
	return dashboard_file(rep, web_app_js, web_app_js_len,
			      "text/javascript; charset=utf-8");
}

int dashboard_handle_style(struct request *req, struct reply *rep)
{
	(void)req;
	return dashboard_file(rep, web_app_css, web_app_css_len,
			      "text/css; charset=utf-8");
}

bool dashboard_is_asset(const char *method, const char *path)
{
	if (strcmp(method, "GET") && strcmp(method, "HEAD"))
		return false;
	return !strcmp(path, "/") || !strcmp(path, "/app.js") ||
	       !strcmp(path, "/app.css");
}
