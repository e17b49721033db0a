#include "address.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "../api/bodies.h"
#include "../api/value.h"
#include "../base/log.h"
#include "../netlink/addr.h"
#include "../netlink/link.h"
#include "../netlink/ns.h"
#include "../state/apply.h"
#include "../state/key.h"
#include "../state/record.h"
#include "../state/store.h"
#include "address_opts.h"
#include "common.h"
#include "link_view.h"

/* The link of the path, in the namespace of the path. */
static int address_link(struct request *req, struct reply *rep,
			const char **ret_ns, struct nl_sock **ret_s,
			struct nl_link *ret_l)
{
	const char *ns, *name;
	int r;

	r = handler_link_path(req, rep, "link", &ns, &name, ret_s);
	if (r < 0)
		return r;
	r = nl_link_get(*ret_s, name, ret_l);
	if (r < 0) {
		nl_ns_put(ns, *ret_s);
		*ret_s = NULL;
		return r == -ENODEV ? problem_link_missing(&rep->problem,
							   "link", name, ns)
				    : handler_kernel_failed(rep, r,
							    "reading the link");
	}
	*ret_ns = ns;
	return 0;
}

static json_t *address_to_json(const char *cidr, int family, bool managed,
			       bool present)
{
	json_t *o = json_pack("{s:s, s:s, s:b}", "address", cidr, "family",
			      family == AF_INET ? "ipv4" : "ipv6", "managed",
			      managed);

	if (o && managed) {
		json_object_set_new(o, "in_sync", json_boolean(present));
		if (!present)
			json_object_set_new(o, "drift",
					    json_pack("[s]", "missing"));
	}
	return o;
}

int address_handle_list(struct request *req, struct reply *rep)
{
	struct nl_addr *addrs = NULL;
	struct nl_sock *s = NULL;
	struct nl_link l;
	json_t *items, *want, *v, *item;
	char prefix[KEY_MAX], text[64];
	const char *ns, *k;
	size_t n = 0;
	int r;

	r = address_link(req, rep, &ns, &s, &l);
	if (r < 0)
		return r;
	r = nl_addr_dump(s, l.ifindex, &addrs, &n);
	if (r < 0) {
		nl_ns_put(ns, s);
		return handler_kernel_failed(rep, r, "listing addresses");
	}
	key_addr_prefix(prefix, ns, l.name);
	want = store_list(req->store, prefix);
	items = json_array();
	for (size_t i = 0; i < n; i++) {
		char key[KEY_MAX];

		value_format_cidr(&addrs[i].cidr, text, sizeof(text));
		key_addr(key, ns, l.name, text);
		item = address_to_json(text, addrs[i].cidr.family,
				       json_object_get(want, key) != NULL,
				       true);
		address_opts_render(item, &addrs[i]);
		json_array_append_new(items, item);
	}
	json_object_foreach(want, k, v) {
		const char *cidr = k + strlen(prefix);
		size_t i;
		json_t *x;
		bool found = false;

		json_array_foreach(items, i, x)
			if (!strcmp(json_string_value(
					    json_object_get(x, "address")),
				    cidr))
				found = true;
		if (!found)
			json_array_append_new(items,
					      address_to_json(cidr,
							      strchr(cidr, ':')
								      ? AF_INET6
								      : AF_INET,
							      true, false));
	}
	json_decref(want);
	free(addrs);
	nl_ns_put(ns, s);
	return handler_reply(rep, 200, json_pack("{s:o}", "items", items),
			     NULL);
}

/* The address a request names, on its link, under the namespace's lock. */
struct address_ask {
	const char *ns;
	struct nl_sock *s;
	struct nl_link l;
	struct cidr c;
	char text[64];
	char key[KEY_MAX];
	bool desired, present;
	/* How it is added (the POST's options; for a PUT, the record's). */
	struct record_addr opts;
	bool has_opts;
};

/* Plans and applies adding (`add`) or removing `a`'s address, recorded
 * first; 1 when a dry run was answered. */
static int address_apply(struct request *req, struct reply *rep,
			 struct address_ask *a, bool add)
{
	struct store_txn *t = NULL;
	struct apply ap = { 0 };
	struct plan p;
	int r;

	plan_init(&p);
	r = plan_addr(&p, a->ns, a->l.name, a->l.ifindex, &a->c, &a->opts, add,
		      a->present);
	r = handler_planned(req, rep, &p, r);
	if (r != 0)
		goto out;
	t = store_txn_new();
	if (t && add) {
		store_txn_set(t, a->key, record_addr_format(&a->opts));
		if (!a->desired)
			store_txn_creates(t);
	} else if (t) {
		store_txn_del(t, a->key);
	}
	r = apply_run(&ap, req->store, &p, t, false, &rep->problem);
	/* A gateway it puts on a subnet again: the desired routes the
	 * kernel took when the address went come back with it. (A whole
	 * state's apply plans its routes as steps of their own.) */
	if (r == 0 && add && !a->present)
		apply_restore_routes(req->store, a->s, a->ns, a->l.name);
out:
	apply_end(&ap);
	store_txn_free(t);
	plan_clear(&p);
	return r;
}

/* The link, the address and what is known of it; checks that it may be
 * changed. */
static int address_find(struct request *req, struct reply *rep,
			struct address_ask *a)
{
	int r = address_link(req, rep, &a->ns, &a->s, &a->l);

	if (r < 0)
		return r;
	r = handler_check_host_link(req, rep, a->ns, nl_link_is_ours(&a->l),
				    a->l.name);
	if (r == 0)
		r = handler_check_dying(rep, a->ns, &a->l);
	if (r < 0)
		return r;
	value_format_cidr(&a->c, a->text, sizeof(a->text));
	key_addr(a->key, a->ns, a->l.name, a->text);
	{
		json_t *held = store_get(req->store, a->key);

		a->desired = held != NULL;
		/* A PUT keeps the options the address was made with. */
		if (held && !a->has_opts)
			record_addr_read(held, &a->opts);
		json_decref(held);
	}
	r = apply_see_addr(a->s, a->l.ifindex, &a->c, &a->present);
	return r < 0 ? handler_kernel_failed(rep, r, "reading the addresses")
		     : 0;
}

/* POST (create only) and PUT (create, or 200 when it is there). */
static int address_put(struct request *req, struct reply *rep,
		       struct address_ask *a, bool create_only)
{
	json_t *o;
	bool created;
	int r = address_find(req, rep, a);

	if (r < 0)
		goto out;
	if (create_only && a->present) {
		r = problem_set(&rep->problem, 409, "already-exists",
				"%s is already on %s", a->text, a->l.name);
		goto out;
	}
	created = !a->present;
	r = address_apply(req, rep, a, true);
	if (r != 0) {
		r = r > 0 ? 0 : r;
		goto out;
	}
	if (created)
		log_info("added %s to %s/%s", a->text, a->ns, a->l.name);
	o = address_to_json(a->text, a->c.family, true, true);
	address_opts_describe(o, a->s, a->l.ifindex, &a->c);
	r = handler_reply(rep, created ? 201 : 200, o,
			  "/v1/namespaces/%s/links/%s/addresses/%s", a->ns,
			  a->l.name, a->text);
out:
	nl_ns_put(a->ns, a->s);
	return r;
}

int address_handle_create(struct request *req, struct reply *rep)
{
	struct address_ask a = { .opts = RECORD_ADDR_INIT };
	json_t *body = NULL;
	const char *why;
	int r;

	r = handler_body(req, rep, body_address_create, false, &body);
	if (r < 0)
		return r;
	why = value_parse_cidr(
		json_string_value(json_object_get(body, "address")), &a.c);
	r = why ? problem_field(&rep->problem, "address", "%s", why)
		: address_opts_parse(body, &a.c, &a.opts, rep);
	json_decref(body);
	if (r < 0)
		return r;
	a.has_opts = true;
	return address_put(req, rep, &a, true);
}

int address_handle_put(struct request *req, struct reply *rep)
{
	struct address_ask a = { .opts = RECORD_ADDR_INIT };
	json_t *body = NULL;
	const char *why;
	int r;

	/* The path names the address entirely: a body may only be empty. */
	r = handler_body(req, rep, body_empty, true, &body);
	json_decref(body);
	if (r < 0)
		return r;
	why = value_parse_ip_prefix(request_param(req, "ip"),
				    request_param(req, "prefixlen"), &a.c);
	if (why)
		return problem_field(&rep->problem, "ip", "%s", why);
	return address_put(req, rep, &a, false);
}

/* The address named by the path ({ip}/{prefixlen}) on the link of the
 * path: its canonical text, its desired-state key, whether it is desired. */
static int address_of_path(struct request *req, struct reply *rep,
			   const char **ret_ns, struct nl_sock **ret_s,
			   struct nl_link *ret_l, struct cidr *ret_c,
			   char text[64], char key[KEY_MAX], bool *ret_desired)
{
	const char *why;
	json_t *desired;
	int r;

	why = value_parse_ip_prefix(request_param(req, "ip"),
				    request_param(req, "prefixlen"), ret_c);
	if (why)
		return problem_field(&rep->problem, "ip", "%s", why);
	r = address_link(req, rep, ret_ns, ret_s, ret_l);
	if (r < 0)
		return r;
	value_format_cidr(ret_c, text, 64);
	key_addr(key, *ret_ns, ret_l->name, text);
	desired = store_get(req->store, key);
	*ret_desired = desired != NULL;
	json_decref(desired);
	return 0;
}

int address_handle_get(struct request *req, struct reply *rep)
{
	struct nl_addr *addrs = NULL;
	struct nl_sock *s = NULL;
	struct nl_link l;
	struct cidr c;
	char key[KEY_MAX], text[64];
	const char *ns = NULL;
	bool present = false, desired = false;
	json_t *o;
	size_t n = 0;
	int r;

	r = address_of_path(req, rep, &ns, &s, &l, &c, text, key, &desired);
	if (r < 0)
		return r;
	r = nl_addr_dump(s, l.ifindex, &addrs, &n);
	if (r < 0) {
		r = handler_kernel_failed(rep, r, "listing addresses");
		goto out;
	}
	present = address_opts_find(addrs, n, &c) != NULL;
	if (!present && !desired) {
		r = problem_set(&rep->problem, 404, "not-found",
				"%s is not on %s", text, l.name);
		goto out;
	}
	o = address_to_json(text, c.family, desired, present);
	if (present)
		address_opts_render(o, address_opts_find(addrs, n, &c));
	r = handler_reply(rep, 200, o, NULL);
out:
	free(addrs);
	nl_ns_put(ns, s);
	return r;
}

int address_handle_delete(struct request *req, struct reply *rep)
{
	struct address_ask a = { .opts = RECORD_ADDR_INIT };
	const char *why;
	int r;

	why = value_parse_ip_prefix(request_param(req, "ip"),
				    request_param(req, "prefixlen"), &a.c);
	if (why)
		return problem_field(&rep->problem, "ip", "%s", why);
	r = address_find(req, rep, &a);
	if (r < 0)
		goto out;
	if (!a.present && !a.desired) {
		r = problem_set(&rep->problem, 404, "not-found",
				"%s is not on %s", a.text, a.l.name);
		goto out;
	}
	r = address_apply(req, rep, &a, false);
	if (r != 0) {
		r = r > 0 ? 0 : r;
		goto out;
	}
	log_info("deleted %s from %s/%s", a.text, a.ns, a.l.name);
	r = handler_reply(rep, 204, NULL, NULL);
out:
	nl_ns_put(a.ns, a.s);
	return r;
}
