#include "http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <netdb.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "log.h"
#include "router.h"

struct http_req {
	char *body;
	size_t len, cap;
	bool too_large;
	bool answered; /* an early answer (413) is already queued */
};

static struct MHD_Daemon *http_daemons[CONFIG_LISTEN_MAX];
static size_t http_n_daemons;
static const struct config *http_cfg;
static struct store *http_store;
static pthread_rwlock_t http_rw;

void http_mutations_lock(void)
{
	pthread_rwlock_wrlock(&http_rw);
}

void http_mutations_unlock(void)
{
	pthread_rwlock_unlock(&http_rw);
}

static enum MHD_Result http_send(struct MHD_Connection *conn, int status,
				 char *body, size_t len,
				 const char *content_type, const char *allow,
				 const char *location)
{
	struct MHD_Response *resp;
	enum MHD_Result r;

	resp = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
	if (!resp) {
		free(body);
		return MHD_NO;
	}
	if (content_type)
		MHD_add_response_header(resp, "Content-Type", content_type);
	if (allow && *allow)
		MHD_add_response_header(resp, "Allow", allow);
	if (location && *location)
		MHD_add_response_header(resp, "Location", location);
	MHD_add_response_header(resp, "Cache-Control", "no-store");
	r = MHD_queue_response(conn, (unsigned int)status, resp);
	MHD_destroy_response(resp);
	return r;
}

static char *http_dump(json_t *j, size_t *ret_len)
{
	char *s = json_dumps(j, JSON_COMPACT | JSON_ENSURE_ASCII);
	size_t len;

	if (!s)
		return NULL;
	len = strlen(s);
	s[len] = '\n'; /* the NUL becomes a newline; the length excludes it */
	*ret_len = len + 1;
	return s;
}

/* The single exit of every error: a problem document, nothing else. */
static enum MHD_Result http_send_problem(struct MHD_Connection *conn,
					 struct problem *p, const char *allow)
{
	json_t *j = problem_to_json(p);
	size_t len = 0;
	char *body = j ? http_dump(j, &len) : NULL;

	json_decref(j);
	if (p->status >= 500)
		log_warn("answered %d: %s", p->status, p->detail);
	if (!body)
		return MHD_NO;
	return http_send(conn, p->status, body, len,
			 "application/problem+json", allow, NULL);
}

static bool http_is_json(const char *ct)
{
	size_t n = strlen("application/json");

	if (!ct || strncasecmp(ct, "application/json", n))
		return false;
	return ct[n] == '\0' || ct[n] == ';' || ct[n] == ' ';
}

static bool http_query_true(struct MHD_Connection *conn, const char *name)
{
	const char *v = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND,
						    name);

	return v && (!strcmp(v, "true") || !strcmp(v, "1"));
}

static enum MHD_Result http_dispatch(struct MHD_Connection *conn,
				     const char *url, const char *method,
				     struct http_req *hr)
{
	struct request req = { .method = method, .path = url,
			       .body = hr->body ? hr->body : "",
			       .body_len = hr->len, .store = http_store };
	struct reply rep = { .problem = PROBLEM_INIT };
	const struct route *route = NULL;
	char allow[128];
	enum MHD_Result r;
	const char *ct;
	size_t len = 0;
	char *body;

	if (router_match(method, url, &route, &req, allow, sizeof(allow),
			 &rep.problem) < 0) {
		r = http_send_problem(conn, &rep.problem, allow);
		goto out;
	}
	if (hr->len > 0) {
		ct = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
						 "Content-Type");
		if (!http_is_json(ct)) {
			problem_set(&rep.problem, 415, "unsupported-media-type",
				    "the body must be sent as Content-Type: application/json");
			r = http_send_problem(conn, &rep.problem, NULL);
			goto out;
		}
	}
	req.force = http_query_true(conn, "force");

	if (route->flags & ROUTE_MUTATES)
		pthread_rwlock_wrlock(&http_rw);
	else
		pthread_rwlock_rdlock(&http_rw);
	route->handle(&req, &rep);
	pthread_rwlock_unlock(&http_rw);

	if (rep.problem.status) {
		r = http_send_problem(conn, &rep.problem, NULL);
		goto out;
	}
	if (rep.text) {
		body = malloc(rep.text_len ? rep.text_len : 1);
		if (!body) {
			r = MHD_NO;
			goto out;
		}
		memcpy(body, rep.text, rep.text_len);
		r = http_send(conn, rep.status, body, rep.text_len,
			      rep.content_type, NULL, NULL);
		goto out;
	}
	if (rep.json) {
		body = http_dump(rep.json, &len);
		if (!body) {
			r = MHD_NO;
			goto out;
		}
		r = http_send(conn, rep.status, body, len, "application/json",
			      NULL, rep.location);
		goto out;
	}
	r = http_send(conn, rep.status ? rep.status : 204, NULL, 0, NULL, NULL,
		      NULL);
out:
	json_decref(rep.json);
	problem_clear(&rep.problem);
	router_request_clear(&req);
	return r;
}

static enum MHD_Result http_too_large(struct MHD_Connection *conn)
{
	struct problem p = PROBLEM_INIT;
	enum MHD_Result r;

	problem_set(&p, 413, "body-too-large",
		    "the request body is larger than %zu bytes",
		    http_cfg->max_body);
	r = http_send_problem(conn, &p, NULL);
	problem_clear(&p);
	return r;
}

static enum MHD_Result http_access(void *cls, struct MHD_Connection *conn,
				   const char *url, const char *method,
				   const char *version, const char *upload,
				   size_t *upload_size, void **con_cls)
{
	struct http_req *hr = *con_cls;
	const char *cl;

	(void)cls;
	(void)version;
	if (!hr) {
		hr = calloc(1, sizeof(*hr));
		if (!hr)
			return MHD_NO;
		*con_cls = hr;
		/* Never trust the size the client announces beyond refusing
		 * it early; the bytes are counted as they come anyway. */
		cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
						 "Content-Length");
		if (cl && strtoull(cl, NULL, 10) > http_cfg->max_body) {
			hr->answered = true;
			return http_too_large(conn);
		}
		return MHD_YES;
	}
	if (*upload_size) {
		if (!hr->too_large && hr->len + *upload_size > http_cfg->max_body) {
			hr->too_large = true;
			free(hr->body);
			hr->body = NULL;
			hr->len = hr->cap = 0;
		}
		if (!hr->too_large && !hr->answered) {
			if (hr->len + *upload_size + 1 > hr->cap) {
				size_t cap = hr->cap ? hr->cap : 1024;
				char *grown;

				while (cap < hr->len + *upload_size + 1)
					cap *= 2;
				grown = realloc(hr->body, cap);
				if (!grown)
					return MHD_NO;
				hr->body = grown;
				hr->cap = cap;
			}
			memcpy(hr->body + hr->len, upload, *upload_size);
			hr->len += *upload_size;
			hr->body[hr->len] = '\0';
		}
		*upload_size = 0;
		return MHD_YES;
	}
	if (hr->answered)
		return MHD_YES;
	if (hr->too_large)
		return http_too_large(conn);
	return http_dispatch(conn, url, method, hr);
}

static void http_completed(void *cls, struct MHD_Connection *conn,
			   void **con_cls, enum MHD_RequestTerminationCode toe)
{
	struct http_req *hr = *con_cls;

	(void)cls;
	(void)conn;
	(void)toe;
	if (!hr)
		return;
	free(hr->body);
	free(hr);
	*con_cls = NULL;
}

/* Paths are split and decoded by the router, segment by segment, so that an
 * encoded '/' stays inside its segment: MHD must hand them over raw. */
static size_t http_unescape_none(void *cls, struct MHD_Connection *c, char *s)
{
	(void)cls;
	(void)c;
	return strlen(s);
}

static void http_mhd_log(void *cls, const char *fmt, va_list ap)
{
	char line[512];

	(void)cls;
	vsnprintf(line, sizeof(line), fmt, ap);
	line[strcspn(line, "\n")] = '\0';
	log_debug("libmicrohttpd: %s", line);
}

static int http_listen_unix(const char *path)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct stat st;
	int fd;

	if (strlen(path) >= sizeof(sun.sun_path)) {
		log_error("cannot listen on unix:%s: path too long", path);
		return -1;
	}
	strcpy(sun.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		goto fail;
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			log_error("cannot listen on unix:%s: it exists and is not a socket",
				  path);
			close(fd);
			return -1;
		}
		/* A socket nobody answers on is stale: remove it. */
		if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == 0) {
			log_error("cannot listen on unix:%s: another process serves it",
				  path);
			close(fd);
			return -1;
		}
		unlink(path);
	}
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0)
		goto fail;
	if (chmod(path, 0660) < 0)
		goto fail;
	if (listen(fd, 128) < 0)
		goto fail;
	return fd;
fail:
	log_error("cannot listen on unix:%s: %s", path, strerror(errno));
	if (fd >= 0)
		close(fd);
	return -1;
}

static int http_listen_tcp(const char *spec)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM,
				  .ai_flags = AI_NUMERICHOST | AI_NUMERICSERV };
	struct addrinfo *ai = NULL;
	char host[256];
	const char *port, *colon;
	int fd = -1, one = 1, r;

	if (spec[0] == '[') {
		const char *end = strchr(spec, ']');

		if (!end || end[1] != ':' || (size_t)(end - spec) >= sizeof(host))
			goto bad;
		memcpy(host, spec + 1, (size_t)(end - spec - 1));
		host[end - spec - 1] = '\0';
		port = end + 2;
	} else {
		colon = strrchr(spec, ':');
		if (!colon || (size_t)(colon - spec) >= sizeof(host) ||
		    memchr(spec, ':', (size_t)(colon - spec)))
			goto bad;
		memcpy(host, spec, (size_t)(colon - spec));
		host[colon - spec] = '\0';
		port = colon + 1;
	}
	if (!*host || !*port || strspn(port, "0123456789") != strlen(port))
		goto bad;
	r = getaddrinfo(host, port, &hints, &ai);
	if (r)
		goto bad;
	fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		goto fail;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (ai->ai_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 || listen(fd, 128) < 0)
		goto fail;
	freeaddrinfo(ai);
	return fd;
bad:
	if (ai)
		freeaddrinfo(ai);
	log_error("cannot listen on %s: want ADDR:PORT (numeric, IPv6 in brackets) or unix:PATH",
		  spec);
	return -1;
fail:
	log_error("cannot listen on %s: %s", spec, strerror(errno));
	if (fd >= 0)
		close(fd);
	freeaddrinfo(ai);
	return -1;
}

int http_start(const struct config *cfg, struct store *store)
{
	pthread_rwlockattr_t attr;

	http_cfg = cfg;
	http_store = store;
	pthread_rwlockattr_init(&attr);
	/* Readers must not starve the single writer. */
	pthread_rwlockattr_setkind_np(&attr,
				      PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
	pthread_rwlock_init(&http_rw, &attr);
	pthread_rwlockattr_destroy(&attr);

	for (size_t i = 0; i < cfg->n_listen; i++) {
		const char *spec = cfg->listen[i];
		bool is_unix = !strncmp(spec, "unix:", 5);
		int fd = is_unix ? http_listen_unix(spec + 5) :
				   http_listen_tcp(spec);
		struct MHD_Daemon *d;

		if (fd < 0)
			goto fail;
		d = MHD_start_daemon(
			MHD_USE_AUTO_INTERNAL_THREAD | MHD_USE_ITC, 0, NULL,
			NULL,
			http_access, NULL,
			MHD_OPTION_LISTEN_SOCKET, fd,
			MHD_OPTION_THREAD_POOL_SIZE, cfg->threads,
			MHD_OPTION_CONNECTION_TIMEOUT, cfg->conn_timeout,
			MHD_OPTION_NOTIFY_COMPLETED, http_completed, NULL,
			MHD_OPTION_UNESCAPE_CALLBACK, http_unescape_none, NULL,
			MHD_OPTION_EXTERNAL_LOGGER, http_mhd_log, NULL,
			MHD_OPTION_END);
		if (!d) {
			log_error("cannot serve on %s", spec);
			close(fd);
			goto fail;
		}
		http_daemons[http_n_daemons++] = d;
		log_info("listening on %s", spec);
	}
	return 0;
fail:
	http_stop();
	return -1;
}

void http_stop(void)
{
	for (size_t i = 0; i < http_n_daemons; i++) {
		MHD_socket fd = MHD_quiesce_daemon(http_daemons[i]);

		MHD_stop_daemon(http_daemons[i]);
		if (fd != MHD_INVALID_SOCKET)
			close(fd);
	}
	http_n_daemons = 0;
}
