#include "apply_move.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "../base/log.h"
#include "../netlink/ns.h"
#include "apply.h"
#include "desired.h"
#include "intent.h"
#include "key.h"
#include "record.h"

void apply_change_only_new(struct nl_link_change *c, const struct nl_link *l)
{
	if (c->name && !strcmp(c->name, l->name))
		c->name = NULL;
	if (c->mtu == l->mtu)
		c->mtu = 0;
	if (c->mac && l->has_mac && !memcmp(c->mac, l->mac, 6))
		c->mac = NULL;
	if (c->up >= 0 && c->up == !!(l->flags & IFF_UP))
		c->up = -1;
	if (c->master >= 0 && c->master == l->master)
		c->master = -1;
}

/* Puts a link back as `old` was, after a failed or unrecorded change. The
 * link is found by name (new or old) in `s`, its namespace before any move.
 * 0 once it is back; -ENODEV when it is under neither name. */
static int apply_move_revert(struct nl_sock *s, const struct nl_link *old,
			     const char *new_name, bool with_master)
{
	struct nl_link_change c = NL_LINK_CHANGE_INIT;
	struct nl_link now;
	int r;

	if (nl_link_get(s, old->name, &now) < 0 &&
	    (!new_name || nl_link_get(s, new_name, &now) < 0))
		return -ENODEV;
	c.ifindex = now.ifindex;
	if (strcmp(now.name, old->name))
		c.name = old->name;
	if (now.mtu != old->mtu)
		c.mtu = old->mtu;
	if (old->has_mac && memcmp(now.mac, old->mac, 6))
		c.mac = old->mac;
	if ((now.flags ^ old->flags) & IFF_UP)
		c.up = !!(old->flags & IFF_UP);
	if (with_master && now.master != old->master)
		c.master = old->master;
	r = nl_link_set(s, &c);
	if (r < 0)
		log_error(
			"link %s could not be put back after a failed change: %s",
			old->name, nl_extack());
	return r;
}

/* The marker first: if a crash interrupts the rename or move, start-up
 * takes the link back to where its records say. */
static int apply_move_mark(struct store *store, const struct apply_move *m,
			   char mkey[KEY_MAX], struct store_txn **ret_undo,
			   struct problem *prob)
{
	struct store_txn *mt = store_txn_new();
	struct record_marker mk = { m->old->ifindex, m->ns, m->name };
	int r;

	key_moving(mkey, m->ns2, m->name2);
	if (mt) {
		/* Written before the kernel is touched, which is what a kill
		 * needs; durable with the change's own record. */
		store_txn_keep_revision(mt);
		store_txn_lazy(mt);
		store_txn_set(mt, mkey, record_marker_format(&mk));
	}
	r = intent_begin(store, mt, false, ret_undo, prob);
	store_txn_free(mt);
	return r;
}

/* The move itself, renamed on the way; *ret_s2 then a socket in ns2 and
 * *ret the link there. *ret_back false when it is out of reach. */
static int apply_move_go(const struct apply_move *m, struct nl_sock **ret_s2,
			 struct nl_link *ret, bool *ret_back,
			 struct problem *prob)
{
	struct nl_link_change c = NL_LINK_CHANGE_INIT;
	int r;

	c.ifindex = m->old->ifindex;
	c.netns_fd = m->netns_fd;
	c.name = strcmp(m->name, m->name2) ? m->name2 : NULL;
	r = nl_link_set(m->s, &c);
	if (r < 0)
		return problem_errno(prob, r, "moving the link", nl_extack());
	r = nl_ns_get(m->ns2, ret_s2);
	if (r < 0) {
		/* Moved, but out of reach: the marker stays for start-up to
		 * take it back. */
		*ret_back = false;
		return problem_errno(prob, r, "finding the moved link", NULL);
	}
	r = nl_link_get(*ret_s2, m->name2, ret);
	return r < 0 ? problem_errno(prob, r, "finding the moved link",
				     nl_extack())
		     : 0;
}

/* Back where it was: the old name first, then home, then the old master.
 * Whether it is back. */
static bool apply_move_back(const struct apply_move *m, struct nl_sock *s2)
{
	struct nl_link_change home = NL_LINK_CHANGE_INIT;
	struct nl_link now;
	bool back;
	int hfd = -1;

	if (!s2)
		return apply_move_revert(m->s, m->old, m->name2, true) == 0;
	apply_move_revert(s2, m->old, m->name2, false);
	back = nl_ns_open_fd(m->ns, &hfd) == 0 &&
	       nl_link_get(s2, m->old->name, &now) == 0;
	if (back) {
		home.ifindex = now.ifindex;
		home.netns_fd = hfd;
		back = nl_link_set(s2, &home) == 0;
	}
	if (back)
		apply_move_revert(m->s, m->old, NULL, true);
	else
		log_error("link %s could not be moved back to %s", m->old->name,
			  m->ns);
	if (hfd >= 0)
		close(hfd);
	return back;
}

/* The records where the link now is, its marker forgotten with them. */
static int apply_move_record(struct store *store, struct apply_move *m,
			     const char *mkey, struct problem *prob)
{
	struct store_txn *t = store_txn_new();
	char key[KEY_MAX];
	int r;

	if (t) {
		desired_relocate_link(store, t, m->ns, m->name, m->ns2,
				      m->name2);
		key_link(key, m->ns2, m->name2);
		store_txn_set(t, key, m->record);
		m->record = NULL;
		store_txn_del(t, mkey);
	}
	r = intent_commit(store, t, prob);
	store_txn_free(t);
	return r;
}

int apply_move(struct store *store, struct apply_move *m,
	       struct nl_sock **ret_s2, struct nl_link *ret,
	       struct problem *prob)
{
	bool moved = strcmp(m->ns, m->ns2) != 0, back = true;
	struct nl_link_change c = m->attrs;
	struct store_txn *undo = NULL;
	struct nl_sock *s2 = NULL;
	struct nl_link after = *m->old;
	char mkey[KEY_MAX];
	int r;

	r = apply_move_mark(store, m, mkey, &undo, prob);
	if (r < 0)
		goto out;
	if (moved) {
		r = apply_move_go(m, &s2, &after, &back, prob);
		if (r < 0)
			goto undo;
	}
	c.ifindex = after.ifindex;
	if (!moved)
		c.name = m->name2;
	/* The kernel takes a moved link down; it stays as it was unless the
	 * request says otherwise. */
	if (moved && c.up < 0 && (m->old->flags & IFF_UP))
		c.up = 1;
	apply_change_only_new(&c, &after);
	if (c.name || c.mtu || c.mac || c.up >= 0 || c.master >= 0) {
		r = nl_link_set(moved ? s2 : m->s, &c);
		if (r < 0) {
			r = problem_errno(prob, r, "changing the link",
					  nl_extack());
			goto undo;
		}
	}
	r = apply_move_record(store, m, mkey, prob);
	if (r < 0)
		goto undo;
	store_txn_free(undo);
	undo = NULL;
	/* A move drops every address, taking a link down its IPv6 ones:
	 * desired ones return. */
	if (c.up == 0 || moved)
		apply_restore_addresses(store, moved ? s2 : m->s, m->ns2,
					m->name2);
	if (c.up == 1)
		apply_restore_routes(store, moved ? s2 : m->s, m->ns2,
				     m->name2);
	r = nl_link_get(moved ? s2 : m->s, m->name2, ret);
	if (r < 0)
		r = problem_errno(prob, r, "reading the link", nl_extack());
	goto out;

undo:
	if (back)
		back = apply_move_back(m, s2);
	apply_restore_addresses(store, m->s, m->ns, m->name);
out:
	if (undo && back) {
		/* Failed after its mark, but the link is back where it was. */
		intent_undo(store, undo, "a rename or move");
	} else if (undo) {
		log_error(
			"link %s/%s was left at %s/%s by a failed change: the next reconcile takes it back",
			m->ns, m->name, m->ns2, m->name2);
	}
	store_txn_free(undo);
	json_decref(m->record);
	m->record = NULL;
	if (s2 && r == 0)
		*ret_s2 = s2;
	else if (s2)
		nl_ns_put(m->ns2, s2);
	return r;
}
