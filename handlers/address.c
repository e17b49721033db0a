#include "address.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "../api/value.h"
#include "../netlink/addr.h"
#include "../netlink/link.h"
#include "../netlink/ns.h"
#include "../server/log.h"
#include "../state/key.h"
#include "../state/record.h"
#include "../state/store.h"
#include "common.h"
#include "link_view.h"

/* The link of the path, in the namespace of the path. */
static int address_link(struct request *req, struct reply *rep,
			const char **ret_ns, struct nl_sock **ret_s,
			struct nl_link *ret_l)
{
	const char *ns, *name;
	int r;

	r = handler_ns_param(req, rep, true, &ns);
	if (r == 0)
		r = handler_link_param(req, rep, "link", &name);
	if (r == 0)
		r = handler_ns_sock(req, rep, ns, ret_s);
	if (r < 0)
		return r;
	r = nl_link_get(*ret_s, name, ret_l);
	if (r < 0) {
		nl_ns_put(ns, *ret_s);
		*ret_s = NULL;
		return r == -ENODEV
			       ? problem_set(
					 &rep->problem, 404, "not-found",
					 "link %s does not exist in namespace %s",
					 name, ns)
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
	json_t *items, *want, *v;
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
		json_array_append_new(
			items,
			address_to_json(text, addrs[i].cidr.family,
					json_object_get(want, key) != NULL,
					true));
	}
	json_object_foreach(want, k, v)
	{
		const char *cidr = k + strlen(prefix);
		size_t i;
		json_t *x;
		bool found = false;

		json_array_foreach(items, i, x) if (
			!strcmp(json_string_value(
					json_object_get(x, "address")),
				cidr)) found = true;
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

int address_handle_create(struct request *req, struct reply *rep)
{
	static const struct body_field fields[] = {
		{ "address", BODY_STRING, true },
		{ NULL, 0, false },
	};
	struct store_txn *t = NULL, *undo = NULL;
	struct nl_sock *s = NULL;
	struct nl_link l;
	struct cidr c;
	json_t *body = NULL;
	char key[KEY_MAX], text[64];
	const char *ns, *why;
	int r;

	r = handler_body(req, rep, fields, false, &body);
	if (r < 0)
		return r;
	why = value_parse_cidr(
		json_string_value(json_object_get(body, "address")), &c);
	json_decref(body);
	if (why)
		return problem_field(&rep->problem, "address", "%s", why);
	r = address_link(req, rep, &ns, &s, &l);
	if (r < 0)
		return r;
	r = handler_check_host_link(req, rep, ns, nl_link_is_ours(&l), l.name);
	if (r == 0)
		r = handler_check_dying(rep, ns, &l);
	if (r < 0)
		goto out;
	value_format_cidr(&c, text, sizeof(text));
	/* Recorded before the kernel adds it (intent first). */
	t = store_txn_new();
	if (t) {
		key_addr(key, ns, l.name, text);
		store_txn_set(t, key, record_empty_format());
		store_txn_creates(t);
	}
	r = handler_intent(req, rep, t, &undo);
	if (r < 0)
		goto out;
	r = nl_addr_add(s, l.ifindex, &c);
	if (r < 0) {
		r = r == -EEXIST
			    ? problem_set(&rep->problem, 409, "already-exists",
					  "%s is already on %s", text, l.name)
			    : handler_kernel_failed(rep, r,
						    "adding the address");
		handler_intent_undo(req, undo, "adding an address");
		goto out;
	}
	log_info("added %s to %s/%s", text, ns, l.name);
	r = handler_reply(rep, 201, address_to_json(text, c.family, true, true),
			  "/v1/namespaces/%s/links/%s/addresses/%s", ns, l.name,
			  text);
out:
	store_txn_free(t);
	store_txn_free(undo);
	nl_ns_put(ns, s);
	return r;
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

	why = value_parse_ip_prefix(router_param(req, "ip"),
				    router_param(req, "prefixlen"), ret_c);
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
	const char *ns;
	bool present = false, desired;
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
	for (size_t i = 0; i < n; i++)
		present = present || value_cidr_equal(&addrs[i].cidr, &c);
	if (!present && !desired) {
		r = problem_set(&rep->problem, 404, "not-found",
				"%s is not on %s", text, l.name);
		goto out;
	}
	r = handler_reply(rep, 200,
			  address_to_json(text, c.family, desired, present),
			  NULL);
out:
	free(addrs);
	nl_ns_put(ns, s);
	return r;
}

int address_handle_delete(struct request *req, struct reply *rep)
{
	struct store_txn *t = NULL;
	struct nl_sock *s = NULL;
	struct nl_link l;
	struct cidr c;
	char key[KEY_MAX], text[64];
	const char *ns;
	bool removed, desired;
	int r;

	r = address_of_path(req, rep, &ns, &s, &l, &c, text, key, &desired);
	if (r < 0)
		return r;
	r = handler_check_host_link(req, rep, ns, nl_link_is_ours(&l), l.name);
	if (r < 0)
		goto out;
	r = nl_addr_del(s, l.ifindex, &c);
	removed = r == 0;
	if (r < 0 && !(desired && r == -EADDRNOTAVAIL)) {
		r = r == -EADDRNOTAVAIL
			    ? problem_set(&rep->problem, 404, "not-found",
					  "%s is not on %s", text, l.name)
			    : handler_kernel_failed(rep, r,
						    "deleting the address");
		goto out;
	}
	t = store_txn_new();
	if (t)
		store_txn_del(t, key);
	r = handler_commit(req, rep, t);
	if (r < 0) {
		if (removed)
			nl_addr_add(s, l.ifindex, &c);
		goto out;
	}
	log_info("deleted %s from %s/%s", text, ns, l.name);
	r = handler_reply(rep, 204, NULL, NULL);
out:
	store_txn_free(t);
	nl_ns_put(ns, s);
	return r;
}
