#include "state.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../api/bodies.h"
#include "../base/log.h"
#include "../state/apply_state.h"
#include "../state/store.h"
#include "common.h"

/* GET /v1/state is written straight from the store into one buffer of the
 * exact size: no copy of the store, and no tree of the whole answer, is ever
 * built. A first pass only counts the bytes, the second writes them. */
struct state_out {
	char *text; /* NULL while counting */
	size_t len;
	size_t cap;
	const char *section; /* "ns", "link", "addr", "route" or "sysctl" */
	size_t n_items;	     /* written in the current section */
};

/* The flags of every other JSON answer (see http_dump()). */
#define STATE_DUMP_FLAGS (JSON_COMPACT | JSON_ENSURE_ASCII)

static int state_out_put(const char *buf, size_t size, void *userdata)
{
	struct state_out *out = userdata;

	if (out->text) {
		/* Only when the state changed between the passes. */
		if (size > out->cap - out->len) {
			size_t cap = out->cap * 2 > out->len + size
					     ? out->cap * 2
					     : out->len + size;
			char *grown = realloc(out->text, cap);

			if (!grown)
				return -1;
			out->text = grown;
			out->cap = cap;
		}
		memcpy(out->text + out->len, buf, size);
	}
	out->len += size;
	return 0;
}

static int state_out_str(struct state_out *out, const char *s)
{
	return state_out_put(s, strlen(s), out);
}

/* One item of the current section, as an element of its array. An item
 * that cannot be made (a name that is no valid UTF-8) is left out. */
static int state_out_item(struct state_out *out, json_t *item)
{
	int r = 0;

	if (!item)
		return 0;
	if (out->n_items++ && state_out_str(out, ",") < 0)
		r = -ENOMEM;
	else if (json_dump_callback(item, state_out_put, out,
				    STATE_DUMP_FLAGS) < 0)
		r = -ENOMEM;
	json_decref(item);
	return r;
}

/* A link record with its namespace and name (a sysctl's with its key),
 * borrowing its values. */
static json_t *state_record_item(json_t *v, const char *ns, const char *what,
				 const char *name)
{
	json_t *o;

	if (!json_is_object(v))
		return json_incref(v);
	o = json_object();
	if (!o || json_object_update(o, v) < 0) {
		json_decref(o);
		return NULL;
	}
	json_object_set_new(o, "namespace", json_string(ns));
	json_object_set_new(o, what, json_string(name));
	return o;
}

/* An address with the options its record holds (nodad, noprefixroute,
 * lifetimes), named as in AddressCreate (openapi/openapi.yaml). */
static json_t *state_addr_item(json_t *v, const char *ns, const char *link,
			       const char *cidr)
{
	json_t *o = json_pack("{s:s, s:s, s:s}", "namespace", ns, "link", link,
			      "address", cidr);

	if (o && json_is_object(v))
		json_object_update_missing(o, v);
	return o;
}

/* A route record with its namespace: the record names it whole. */
static json_t *state_route_item(json_t *v, const char *ns)
{
	json_t *o = json_object();

	if (!o || json_object_update(o, v) < 0) {
		json_decref(o);
		return NULL;
	}
	json_object_set_new(o, "namespace", json_string(ns));
	return o;
}

static int state_out_record(const char *key, json_t *v, void *userdata)
{
	struct state_out *out = userdata;
	char buf[256];
	char *a, *b, *rest;

	snprintf(buf, sizeof(buf), "%s", key);
	a = strchr(buf, '/');
	if (!a)
		return 0;
	*a++ = '\0';
	if (strcmp(buf, out->section))
		return 0;
	if (!strcmp(buf, "ns"))
		return state_out_item(out, json_pack("{s:s}", "name", a));
	b = strchr(a, '/');
	if (!b)
		return 0;
	*b++ = '\0';
	if (!strcmp(buf, "link"))
		return state_out_item(out, state_record_item(v, a, "name", b));
	if (!strcmp(buf, "route"))
		return state_out_item(out, state_route_item(v, a));
	if (!strcmp(buf, "sysctl"))
		return state_out_item(out, state_record_item(v, a, "key", b));
	rest = strchr(b, '/');
	if (!rest)
		return 0;
	*rest++ = '\0';
	return state_out_item(out, state_addr_item(v, a, b, rest));
}

/* One pass over the store: the whole answer, or (text NULL) its length. */
static int state_out_all(struct state_out *out, struct store *store,
			 uint64_t seq)
{
	/* Each section walks its own indexed prefix, not the whole store. */
	static const struct {
		const char *head;
		const char *section;
		const char *prefix;
	} sections[] = {
		{ ",\"namespaces\":[", "ns", "ns/" },
		{ "],\"links\":[", "link", "link/" },
		{ "],\"addresses\":[", "addr", "addr/" },
		{ "],\"routes\":[", "route", "route/" },
		{ "],\"sysctls\":[", "sysctl", "sysctl/" },
	};
	char head[48];
	int r;

	snprintf(head, sizeof(head), "{\"revision\":%" JSON_INTEGER_FORMAT,
		 (json_int_t)seq);
	if (state_out_str(out, head) < 0)
		return -ENOMEM;
	for (size_t i = 0; i < sizeof(sections) / sizeof(sections[0]); i++) {
		if (state_out_str(out, sections[i].head) < 0)
			return -ENOMEM;
		out->section = sections[i].section;
		out->n_items = 0;
		r = store_foreach(store, sections[i].prefix, state_out_record,
				  out);
		if (r < 0)
			return r;
	}
	/* Like every JSON answer, it ends with a newline. */
	if (state_out_str(out, "]}\n") < 0)
		return -ENOMEM;
	return 0;
}

/* The desired state as five lists a client can read without knowing the
 * store's keys. */
int state_handle_get(struct request *req, struct reply *rep)
{
	uint64_t seq = store_revision(req->store);
	struct state_out out = { 0 };
	int r;

	r = state_out_all(&out, req->store, seq);
	if (r < 0)
		goto fail;
	out.cap = out.len;
	out.len = 0;
	out.text = malloc(out.cap);
	if (!out.text) {
		r = -ENOMEM;
		goto fail;
	}
	r = state_out_all(&out, req->store, seq);
	if (r < 0)
		goto fail;
	rep->text_owned = out.text;
	rep->text = out.text;
	rep->text_len = out.len;
	rep->content_type = "application/json";
	rep->status = 200;
	return 0;
fail:
	free(out.text);
	return problem_set(&rep->problem, 500, "internal",
			   "the desired state could not be rendered (%s)",
			   strerror(-r));
}

/* The desired state as a document (what GET answers), or NULL. */
static json_t *state_document(struct store *store)
{
	struct state_out out = { 0 };
	json_t *doc = NULL;

	if (state_out_all(&out, store, store_revision(store)) < 0)
		return NULL;
	out.cap = out.len;
	out.len = 0;
	out.text = malloc(out.cap);
	if (out.text && state_out_all(&out, store, store_revision(store)) == 0)
		doc = json_loadb(out.text, out.len, 0, NULL);
	free(out.text);
	if (doc)
		json_object_del(doc, "revision");
	return doc;
}

/* The record of an apply waiting for its confirmation, made with the
 * apply's own records. */
struct state_confirm {
	json_t *previous;
	time_t deadline;
};

static void state_confirm_edit(struct store_txn *t, void *arg)
{
	struct state_confirm *c = arg;

	store_txn_set(t, APPLY_STATE_CONFIRM_KEY,
		      json_pack("{s:I, s:O}", "deadline",
				(json_int_t)c->deadline, "previous",
				c->previous));
}

/* ?confirm=SECONDS: the state before, to go back to at the deadline. One
 * at a time: another apply waits for this one to be confirmed. */
static int state_confirm_prepare(struct request *req, struct reply *rep,
				 struct state_confirm *c)
{
	json_t *pending = store_get(req->store, APPLY_STATE_CONFIRM_KEY);

	json_decref(pending);
	if (pending)
		return problem_set(
			&rep->problem, 409, "already-exists",
			"an apply is waiting for its confirmation: POST /v1/state/confirm, or wait for its rollback, before another");
	c->previous = state_document(req->store);
	if (!c->previous)
		return problem_errno(&rep->problem, -ENOMEM,
				     "reading the state before", NULL);
	c->deadline = time(NULL) + req->confirm;
	return 0;
}

/* The answer: the revision, the changes, and the deadline of a confirm. */
static json_t *state_applied(struct request *req, const struct plan *p,
			     const struct state_confirm *c)
{
	json_t *o = json_pack("{s:I, s:o}", "revision",
			      (json_int_t)store_revision(req->store), "changes",
			      plan_to_json(p));
	char when[32];
	struct tm tm;

	if (o && c->previous && gmtime_r(&c->deadline, &tm) &&
	    strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm))
		json_object_set_new(o, "confirm_by", json_string(when));
	return o;
}

/* PUT /v1/state: the desired state becomes the document, as one
 * transaction (state/apply_state.h). */
int state_handle_put(struct request *req, struct reply *rep)
{
	struct state_confirm c = { 0 };
	json_t *body = NULL;
	struct plan p;
	int r;

	plan_init(&p);
	r = body_parse(req->body, req->body_len, false, &body, &rep->problem);
	if (r == 0 && req->confirm && !req->dry_run)
		r = state_confirm_prepare(req, rep, &c);
	if (r == 0)
		r = apply_state_document(req->store, body, req->dry_run,
					 c.previous ? state_confirm_edit : NULL,
					 &c, &p, &rep->problem);
	if (r < 0)
		goto out;
	if (req->dry_run) {
		r = handler_plan_reply(rep, &p);
		goto out;
	}
	if (p.n)
		log_info("applied the desired state: %zu changes%s", p.n,
			 c.previous ? ", to be confirmed" : "");
	r = handler_reply(rep, 200, state_applied(req, &p, &c), NULL);
out:
	plan_clear(&p);
	json_decref(c.previous);
	json_decref(body);
	return r;
}

/* POST /v1/state/confirm: the apply waiting for it stays. */
int state_handle_confirm(struct request *req, struct reply *rep)
{
	json_t *pending = store_get(req->store, APPLY_STATE_CONFIRM_KEY);
	struct store_txn *t;
	int r;

	json_decref(pending);
	if (!pending)
		return problem_set(
			&rep->problem, 404, "not-found",
			"no apply is waiting for its confirmation (none was made with ?confirm=, or it was rolled back at its deadline)");
	t = store_txn_new();
	if (t)
		store_txn_del(t, APPLY_STATE_CONFIRM_KEY);
	r = handler_commit(req, rep, t);
	store_txn_free(t);
	if (r < 0)
		return r;
	log_info("the applied state is confirmed");
	return handler_reply(rep, 200,
			     json_pack("{s:b, s:I}", "confirmed", 1, "revision",
				       (json_int_t)store_revision(req->store)),
			     NULL);
}
