#include "link_ask.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <linux/if_ether.h>

#include "../api/name.h"
#include "../api/value.h"
#include "../base/log.h"
#include "../netlink/ns.h"
#include "../state/apply.h"
#include "../state/desired.h"
#include "../state/key.h"
#include "common.h"

static int link_ask_bool(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);

	return v ? json_is_true(v) : -1;
}

int link_ask_from_json(json_t *o, const char *prefix, struct problem *prob,
		       struct link_ask *ret)
{
	char field[64];
	const char *why;
	json_t *v;

	memset(ret, 0, sizeof(*ret));
	ret->name = json_string_value(json_object_get(o, "name"));
	if (ret->name && (why = name_check_new_link(ret->name))) {
		snprintf(field, sizeof(field), "%sname", prefix);
		problem_field(prob, field, "link name %s", why);
	}
	if ((v = json_object_get(o, "mtu"))) {
		snprintf(field, sizeof(field), "%smtu", prefix);
		if ((why = value_check_mtu(json_integer_value(v))))
			problem_field(prob, field, "%s", why);
		else
			ret->mtu = (unsigned)json_integer_value(v);
	}
	if ((v = json_object_get(o, "mac"))) {
		snprintf(field, sizeof(field), "%smac", prefix);
		if ((why = value_parse_mac(json_string_value(v), ret->mac)))
			problem_field(prob, field, "%s", why);
		else
			ret->has_mac = true;
	}
	ret->up = link_ask_bool(o, "up");
	ret->stp = link_ask_bool(o, "stp");
	ret->vlan_filtering = link_ask_bool(o, "vlan_filtering");
	return prob->status ? -prob->status : 0;
}

int link_ask_name(struct link_ask *ask, const char *path_name,
		  struct problem *prob)
{
	if (!path_name) {
		if (!ask->name)
			return problem_field(prob, "name", "is required");
		return 0;
	}
	if (ask->name && strcmp(ask->name, path_name))
		return problem_field(
			prob, "name",
			"must be the name in the path (%s), or be left out",
			path_name);
	ask->name = path_name;
	return 0;
}

/* A random locally administered unicast MAC, as the kernel would pick. */
static int link_ask_random_mac(struct record_link *w, char text[18],
			       struct problem *prob)
{
	if (getrandom(w->mac, sizeof(w->mac), 0) != sizeof(w->mac))
		return problem_errno(prob, -EIO, "choosing a MAC address",
				     NULL);
	w->mac[0] = (uint8_t)((w->mac[0] & 0xfe) | 0x02);
	value_format_mac(w->mac, text);
	w->mac_text = text;
	w->has |= RECORD_HAS_MAC;
	return 0;
}

/* Where nothing is held: what the kernel's link has, or a new one's
 * defaults. */
static int link_ask_base(enum record_kind kind, const struct nl_link *l,
			 struct record_link *w, char mac[18],
			 struct problem *prob)
{
	memset(w, 0, sizeof(*w));
	w->kind = kind;
	w->has = RECORD_HAS_OWNED | RECORD_HAS_UP;
	w->owned = true;
	if (!l) {
		/* A veth's MTU is recorded so that a change behind netnsd's
		 * back is drift; a bridge's follows its ports. */
		if (kind == RECORD_KIND_VETH) {
			w->has |= RECORD_HAS_MTU;
			w->mtu = ETH_DATA_LEN;
		}
		/* A fixed MAC: a bridge's then does not follow its ports as
		 * they come and go, and a re-created link gets it back. */
		return link_ask_random_mac(w, mac, prob);
	}
	w->up = l->flags & IFF_UP;
	if (kind == RECORD_KIND_VETH) {
		w->has |= RECORD_HAS_MTU;
		w->mtu = l->mtu;
	}
	if (l->has_mac) {
		memcpy(w->mac, l->mac, 6);
		value_format_mac(w->mac, mac);
		w->mac_text = mac;
		w->has |= RECORD_HAS_MAC;
	}
	return 0;
}

void link_ask_apply(const struct link_ask *ask, struct record_link *w,
		    char mac[18])
{
	if (ask->mtu) {
		w->has |= RECORD_HAS_MTU;
		w->mtu = ask->mtu;
	}
	if (ask->has_mac) {
		memcpy(w->mac, ask->mac, 6);
		value_format_mac(w->mac, mac);
		w->mac_text = mac;
		w->has |= RECORD_HAS_MAC;
	}
	if (ask->up >= 0) {
		w->has |= RECORD_HAS_UP;
		w->up = ask->up;
	}
	if (ask->stp >= 0) {
		w->has |= RECORD_HAS_STP;
		w->bridge.stp = ask->stp;
	}
	if (ask->vlan_filtering >= 0) {
		w->has |= RECORD_HAS_VLAN_FILTERING;
		w->bridge.vlan_filtering = ask->vlan_filtering;
	}
}

int link_ask_record(const struct link_ask *ask, enum record_kind kind,
		    const struct record_link *held, const struct nl_link *l,
		    struct record_link *w, char mac[18], struct problem *prob)
{
	int r = 0;

	if (held && held->kind == kind && held->owned)
		*w = *held;
	else
		r = link_ask_base(kind, l, w, mac, prob);
	if (r < 0)
		return r;
	link_ask_apply(ask, w, mac);
	return 0;
}

int link_ask_find(struct reply *rep, struct store *store, struct nl_sock *s,
		  const char *ns, const char *name, bool create_only,
		  const char *what, struct nl_link *l, bool *exists,
		  json_t **held, struct record_link *held_w)
{
	int r = nl_link_get(s, name, l);

	*held = NULL;
	if (r < 0 && r != -ENODEV)
		return handler_kernel_failed(rep, r, "looking for the name");
	*exists = r == 0;
	/* A PUT converges only a link netnsd made: the hint is for those. */
	if (*exists && create_only)
		return nl_link_is_ours(l)
			       ? problem_link_exists(&rep->problem, ns, name,
						     what)
			       : problem_link_foreign(&rep->problem, ns, name);
	*held = desired_link(store, ns, name);
	if (*held)
		record_link_read(*held, held_w);
	return 0;
}

int link_put_read(struct request *req, struct reply *rep, const char *param,
		  const struct body_field *fields, struct link_put *lp)
{
	int r = param ? handler_link_param(req, rep, param, &lp->path_name) : 0;

	if (r == 0)
		r = handler_ns_param(req, rep, true, &lp->ns);
	return r < 0 ? r : handler_body(req, rep, fields, false, &lp->body);
}

int link_put_open(struct request *req, struct reply *rep, const char *what,
		  struct link_put *lp)
{
	const char *names[] = { lp->ns, lp->ns2 };
	int r = link_ask_from_json(lp->body, "", &rep->problem, &lp->ask);

	if (r == 0)
		r = link_ask_name(&lp->ask, lp->path_name, &rep->problem);
	if (r == 0)
		r = handler_lock_all(req, rep, names, lp->ns2 ? 2 : 1);
	if (r == 0)
		r = handler_ns_sock(req, rep, lp->ns, &lp->s);
	if (r == 0)
		r = link_ask_find(rep, req->store, lp->s, lp->ns, lp->ask.name,
				  !lp->path_name, what, &lp->l, &lp->exists,
				  &lp->held, &lp->held_w);
	return r;
}

int link_put_apply(struct request *req, struct reply *rep, struct link_put *lp,
		   const struct record_link *want)
{
	int r = link_apply_one(req, rep, lp->s, lp->ns, lp->ask.name, want,
			       &lp->l);

	if (r != 0)
		return r;
	handler_unlock(req);
	if (!lp->exists)
		log_info("created %s %s/%s", record_kind_name(want->kind),
			 lp->ns, lp->ask.name);
	return 0;
}

void link_put_close(struct link_put *lp)
{
	json_decref(lp->held);
	json_decref(lp->body); /* last: the record's strings point into it */
	nl_ns_put(lp->ns, lp->s);
}

int link_apply_one(struct request *req, struct reply *rep, struct nl_sock *s,
		   const char *ns, const char *name,
		   const struct record_link *want, struct nl_link *ret)
{
	const char *master =
		want->has & RECORD_HAS_MASTER ? want->master : NULL;
	struct store_txn *t = NULL;
	struct apply ap = { 0 };
	struct apply_seen seen;
	struct plan p;
	char key[KEY_MAX];
	int r;

	plan_init(&p);
	r = apply_see_link(s, name, master, &seen);
	if (r == 0 && (want->has & RECORD_HAS_OPTIONS))
		r = apply_see_parent(s, want->opts.parent, want->opts.parent_ns,
				     &seen);
	if (r < 0) {
		r = handler_kernel_failed(rep, r, "reading the link");
		goto out;
	}
	r = plan_link(&p, ns, name, want, &seen.seen, &rep->problem);
	r = handler_planned(req, rep, &p, r);
	if (r != 0)
		goto out;
	key_link(key, ns, name);
	t = store_txn_new();
	if (t) {
		store_txn_set(t, key, record_link_format(want));
		if (!seen.seen.link)
			store_txn_creates(t);
	}
	r = apply_run(&ap, req->store, &p, t, false, &rep->problem);
	if (r < 0)
		goto out;
	r = nl_link_get(s, name, ret);
	if (r < 0) {
		/* A failed request changes nothing. */
		r = handler_kernel_failed(rep, r, "reading the link");
		apply_take_back(&ap, key);
	}
out:
	apply_end(&ap);
	store_txn_free(t);
	plan_clear(&p);
	return r;
}
