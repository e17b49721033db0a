#include "record.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "../api/value.h"
#include "link_kind.h"

static int record_bad(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int record_bad(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err && errlen) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return -EBADMSG;
}

int record_type_of_key(const char *key, enum record_type *ret)
{
	if (!strncmp(key, "ns/", 3))
		*ret = RECORD_NS;
	else if (!strncmp(key, "link/", 5))
		*ret = RECORD_LINK;
	else if (!strncmp(key, "addr/", 5))
		*ret = RECORD_ADDR;
	else if (!strncmp(key, "route/", 6))
		*ret = RECORD_ROUTE;
	else if (!strncmp(key, "sysctl/", 7))
		*ret = RECORD_SYSCTL;
	else
		return -EINVAL;
	return 0;
}

const char *record_kind_name(enum record_kind k)
{
	switch (k) {
	case RECORD_KIND_VETH: return "veth";
	case RECORD_KIND_BRIDGE: return "bridge";
	default: break;
	}
	return link_kind_of(k) ? link_kind_of(k)->name : NULL;
}

static int record_kind_parse(json_t *v, struct record_link *r, char *err,
			     size_t errlen);

enum record_kind record_link_kind_of(json_t *json)
{
	struct record_link r = { 0 };

	record_kind_parse(json_object_get(json, "kind"), &r, NULL, 0);
	return r.kind;
}

/* A boolean member: sets `*out` and the bit, or says why not. */
static int record_bool(json_t *v, const char *k, unsigned bit,
		       struct record_link *r, bool *out, char *err,
		       size_t errlen)
{
	if (!json_is_boolean(v))
		return record_bad(err, errlen,
				  "link record: %s is not a boolean", k);
	*out = json_is_true(v);
	r->has |= bit;
	return 0;
}

static int record_kind_parse(json_t *v, struct record_link *r, char *err,
			     size_t errlen)
{
	const char *s = json_string_value(v);

	if (s && !strcmp(s, "veth"))
		r->kind = RECORD_KIND_VETH;
	else if (s && !strcmp(s, "bridge"))
		r->kind = RECORD_KIND_BRIDGE;
	else if (link_kind_named(s))
		r->kind = link_kind_named(s)->kind;
	else
		return record_bad(err, errlen, "link record: unknown kind");
	return 0;
}

static int record_mtu_parse(json_t *v, struct record_link *r, char *err,
			    size_t errlen)
{
	json_int_t n = json_integer_value(v);

	if (!json_is_integer(v) || n < 0 || n > UINT32_MAX)
		return record_bad(err, errlen,
				  "link record: mtu is not an MTU");
	r->mtu = (uint32_t)n;
	r->has |= RECORD_HAS_MTU;
	return 0;
}

static int record_mac_parse(json_t *v, struct record_link *r, char *err,
			    size_t errlen)
{
	const char *s = json_string_value(v);

	if (!s || value_parse_mac(s, r->mac))
		return record_bad(err, errlen,
				  "link record: mac is not a MAC address");
	r->mac_text = s;
	r->has |= RECORD_HAS_MAC;
	return 0;
}

static int record_master_parse(json_t *v, struct record_link *r, char *err,
			       size_t errlen)
{
	if (!json_is_null(v) && !json_is_string(v))
		return record_bad(err, errlen,
				  "link record: master is not a name or null");
	r->master = json_string_value(v);
	r->has |= RECORD_HAS_MASTER;
	return 0;
}

static int record_peer_parse(json_t *v, struct record_link *r, char *err,
			     size_t errlen)
{
	const char *k;
	json_t *x;

	if (!json_is_object(v))
		return record_bad(err, errlen,
				  "link record: peer is not an object");
	json_object_foreach(v, k, x) {
		if (!strcmp(k, "namespace") && json_is_string(x))
			r->veth.peer_ns = json_string_value(x);
		else if (!strcmp(k, "name") && json_is_string(x))
			r->veth.peer_name = json_string_value(x);
		else
			return record_bad(err, errlen,
					  "link record: peer.%s is unknown or "
					  "not a string",
					  k);
	}
	if (!r->veth.peer_ns || !r->veth.peer_name)
		return record_bad(err, errlen,
				  "link record: peer lacks namespace or name");
	r->has |= RECORD_HAS_PEER;
	return 0;
}

/* One member of a link record. */
static int record_member(const char *k, json_t *v, struct record_link *r,
			 char *err, size_t errlen)
{
	if (!strcmp(k, "mtu"))
		return record_mtu_parse(v, r, err, errlen);
	if (!strcmp(k, "up"))
		return record_bool(v, k, RECORD_HAS_UP, r, &r->up, err, errlen);
	if (!strcmp(k, "owned"))
		return record_bool(v, k, RECORD_HAS_OWNED, r, &r->owned, err,
				   errlen);
	if (!strcmp(k, "kind"))
		return record_kind_parse(v, r, err, errlen);
	if (!strcmp(k, "mac"))
		return record_mac_parse(v, r, err, errlen);
	if (!strcmp(k, "master"))
		return record_master_parse(v, r, err, errlen);
	if (!strcmp(k, "stp"))
		return record_bool(v, k, RECORD_HAS_STP, r, &r->bridge.stp, err,
				   errlen);
	if (!strcmp(k, "vlan_filtering"))
		return record_bool(v, k, RECORD_HAS_VLAN_FILTERING, r,
				   &r->bridge.vlan_filtering, err, errlen);
	if (!strcmp(k, "peer"))
		return record_peer_parse(v, r, err, errlen);
	if (!strcmp(k, "options"))
		return 0; /* read once the kind is known */
	return record_bad(err, errlen, "link record: unknown member %s", k);
}

/* Members that only some kinds may hold: a peer is a veth's, bridge
 * options a bridge's (or attributes of a link netnsd did not create). */
static int record_link_check(const struct record_link *r, char *err,
			     size_t errlen)
{
	if ((r->has & RECORD_HAS_PEER) && r->kind != RECORD_KIND_VETH)
		return record_bad(err, errlen,
				  "link record: a peer on a link not a veth");
	if ((r->has & (RECORD_HAS_STP | RECORD_HAS_VLAN_FILTERING)) &&
	    r->kind == RECORD_KIND_VETH)
		return record_bad(err, errlen,
				  "link record: bridge options on a veth");
	return 0;
}

/* "options", the kind table's (state/link_kind.h): a record of one of its
 * kinds has them, no other record does. */
static int record_options_parse(json_t *json, struct record_link *r, char *err,
				size_t errlen)
{
	const struct link_kind *lk = link_kind_of(r->kind);
	json_t *v = json_object_get(json, "options");
	char why[160];
	int e;

	if (!v && !lk)
		return 0;
	if (!lk)
		return record_bad(err, errlen,
				  "link record: options on a link of no kind "
				  "that has them");
	if (!v)
		return record_bad(err, errlen,
				  "link record: a %s without options",
				  lk->name);
	e = link_kind_parse(lk, v, &r->opts, why, sizeof(why));
	if (e < 0)
		return record_bad(err, errlen, "%s", why);
	r->has |= RECORD_HAS_OPTIONS;
	return 0;
}

int record_link_parse(json_t *json, struct record_link *ret, char *err,
		      size_t errlen)
{
	const char *k;
	json_t *v;
	int r = 0, m;

	memset(ret, 0, sizeof(*ret));
	if (!json_is_object(json))
		return record_bad(err, errlen, "link record: not an object");
	/* One pass over the record rather than a lookup per member; a bad
	 * member is reported (the first) and the others still read. */
	json_object_foreach(json, k, v) {
		m = record_member(k, v, ret, r ? NULL : err, errlen);
		if (m < 0 && !r)
			r = m;
	}
	if (!r)
		r = record_link_check(ret, err, errlen);
	return r ?: record_options_parse(json, ret, err, errlen);
}

static void record_warn_stderr(const char *msg)
{
	fprintf(stderr, "netnsd: %s\n", msg);
}

static void (*record_warn)(const char *msg) = record_warn_stderr;

void record_set_warn(void (*fn)(const char *msg))
{
	record_warn = fn ? fn : record_warn_stderr;
}

int record_link_read(json_t *json, struct record_link *ret)
{
	char err[160];
	int r = record_link_parse(json, ret, err, sizeof(err));

	if (r < 0)
		record_warn(err);
	return r;
}

static int record_set(json_t *o, const char *k, json_t *v)
{
	return json_object_set_new(o, k, v);
}

json_t *record_link_format(const struct record_link *r)
{
	json_t *o = json_object();
	int e = !o;

	if (!o)
		return NULL;
	if (r->kind != RECORD_KIND_NONE)
		e |= record_set(o, "kind",
				json_string(record_kind_name(r->kind)));
	if (r->has & RECORD_HAS_OWNED)
		e |= record_set(o, "owned", json_boolean(r->owned));
	if (r->has & RECORD_HAS_UP)
		e |= record_set(o, "up", json_boolean(r->up));
	if (r->has & RECORD_HAS_MTU)
		e |= record_set(o, "mtu", json_integer(r->mtu));
	if (r->has & RECORD_HAS_MAC)
		e |= record_set(o, "mac", json_string(r->mac_text));
	if (r->has & RECORD_HAS_MASTER)
		e |= record_set(o, "master",
				r->master ? json_string(r->master)
					  : json_null());
	if (r->has & RECORD_HAS_STP)
		e |= record_set(o, "stp", json_boolean(r->bridge.stp));
	if (r->has & RECORD_HAS_VLAN_FILTERING)
		e |= record_set(o, "vlan_filtering",
				json_boolean(r->bridge.vlan_filtering));
	if (r->has & RECORD_HAS_PEER)
		e |= record_set(o, "peer",
				json_pack("{s:s, s:s}", "namespace",
					  r->veth.peer_ns, "name",
					  r->veth.peer_name));
	if ((r->has & RECORD_HAS_OPTIONS) && link_kind_of(r->kind))
		e |= record_set(
			o, "options",
			link_kind_format(link_kind_of(r->kind), &r->opts));
	if (e) {
		json_decref(o);
		return NULL;
	}
	return o;
}

static bool record_str_eq(const char *a, const char *b)
{
	return a == b || (a && b && !strcmp(a, b));
}

static bool record_opts_equal(const struct record_link *a,
			      const struct record_link *b)
{
	const struct link_kind *lk = link_kind_of(a->kind);
	char hw[64], ww[64];
	const char *opt;

	return lk && a->opts.has == b->opts.has &&
	       record_str_eq(a->opts.parent, b->opts.parent) &&
	       record_str_eq(a->opts.parent_ns, b->opts.parent_ns) &&
	       !link_kind_differs(lk, &a->opts, &b->opts, &opt, hw, ww,
				  sizeof(hw));
}

bool record_link_equal(const struct record_link *a, const struct record_link *b)
{
	unsigned h = a->has;

	if (a->kind != b->kind || h != b->has)
		return false;
	return (!(h & RECORD_HAS_OWNED) || a->owned == b->owned) &&
	       (!(h & RECORD_HAS_UP) || a->up == b->up) &&
	       (!(h & RECORD_HAS_MTU) || a->mtu == b->mtu) &&
	       (!(h & RECORD_HAS_MAC) || !memcmp(a->mac, b->mac, 6)) &&
	       (!(h & RECORD_HAS_MASTER) ||
		record_str_eq(a->master, b->master)) &&
	       (!(h & RECORD_HAS_STP) || a->bridge.stp == b->bridge.stp) &&
	       (!(h & RECORD_HAS_VLAN_FILTERING) ||
		a->bridge.vlan_filtering == b->bridge.vlan_filtering) &&
	       (!(h & RECORD_HAS_PEER) ||
		(record_str_eq(a->veth.peer_ns, b->veth.peer_ns) &&
		 record_str_eq(a->veth.peer_name, b->veth.peer_name))) &&
	       (!(h & RECORD_HAS_OPTIONS) || record_opts_equal(a, b));
}

int record_empty_parse(json_t *json, char *err, size_t errlen)
{
	if (!json_is_object(json) || json_object_size(json))
		return record_bad(err, errlen, "record is not {}");
	return 0;
}

json_t *record_empty_format(void)
{
	return json_object();
}

int record_ns_parse(json_t *json, struct record_ns *ret, char *err,
		    size_t errlen)
{
	json_t *v;
	const char *k;

	memset(ret, 0, sizeof(*ret));
	if (!json_is_object(json))
		return record_bad(err, errlen,
				  "namespace record is not an object");
	json_object_foreach(json, k, v) {
		bool *b = !strcmp(k, "marked")	  ? &ret->marked
			  : !strcmp(k, "adopted") ? &ret->adopted
						  : NULL;

		if (!b || !json_is_boolean(v))
			return record_bad(
				err, errlen,
				"namespace record: unknown or malformed member %s",
				k);
		*b = json_is_true(v);
	}
	return 0;
}

json_t *record_ns_format(const struct record_ns *r)
{
	json_t *o = json_object();

	if (o && ((r->marked && record_set(o, "marked", json_true()) < 0) ||
		  (r->adopted && record_set(o, "adopted", json_true()) < 0))) {
		json_decref(o);
		return NULL;
	}
	return o;
}

static void record_addr_defaults(struct record_addr *r)
{
	memset(r, 0, sizeof(*r));
	r->valid_lft = RECORD_LIFETIME_FOREVER;
	r->preferred_lft = RECORD_LIFETIME_FOREVER;
}

/* A lifetime member: whole seconds, 0 to forever - 1 (forever is not
 * written: it is the default). */
static int record_lft_parse(json_t *v, const char *k, uint32_t *out, char *err,
			    size_t errlen)
{
	json_int_t n = json_integer_value(v);

	if (!json_is_integer(v) || n < 0 || n >= RECORD_LIFETIME_FOREVER)
		return record_bad(err, errlen,
				  "address record: %s is not a lifetime", k);
	*out = (uint32_t)n;
	return 0;
}

static int record_addr_member(const char *k, json_t *v, struct record_addr *r,
			      char *err, size_t errlen)
{
	bool *flag = !strcmp(k, "nodad")	   ? &r->nodad
		     : !strcmp(k, "noprefixroute") ? &r->noprefixroute
						   : NULL;

	if (flag) {
		if (!json_is_boolean(v))
			return record_bad(err, errlen,
					  "address record: %s is not a boolean",
					  k);
		*flag = json_is_true(v);
		return 0;
	}
	if (!strcmp(k, "valid_lifetime"))
		return record_lft_parse(v, k, &r->valid_lft, err, errlen);
	if (!strcmp(k, "preferred_lifetime"))
		return record_lft_parse(v, k, &r->preferred_lft, err, errlen);
	return record_bad(err, errlen, "address record: unknown member %s", k);
}

int record_addr_parse(json_t *json, struct record_addr *ret, char *err,
		      size_t errlen)
{
	json_t *v;
	const char *k;
	int r = 0;

	record_addr_defaults(ret);
	if (!json_is_object(json))
		return record_bad(err, errlen,
				  "address record is not an object");
	json_object_foreach(json, k, v) {
		int e = record_addr_member(k, v, ret, err, errlen);

		if (e < 0 && r == 0)
			r = e; /* the first wrong member is the one told */
	}
	if (r == 0 && ret->preferred_lft > ret->valid_lft)
		r = record_bad(
			err, errlen,
			"address record: preferred_lifetime is past valid_lifetime");
	return r;
}

json_t *record_addr_format(const struct record_addr *r)
{
	json_t *o = json_object();
	int e = 0;

	if (!o)
		return NULL;
	if (r->nodad)
		e |= record_set(o, "nodad", json_true());
	if (r->noprefixroute)
		e |= record_set(o, "noprefixroute", json_true());
	if (r->valid_lft != RECORD_LIFETIME_FOREVER)
		e |= record_set(o, "valid_lifetime",
				json_integer(r->valid_lft));
	if (r->preferred_lft != RECORD_LIFETIME_FOREVER)
		e |= record_set(o, "preferred_lifetime",
				json_integer(r->preferred_lft));
	if (e) {
		json_decref(o);
		return NULL;
	}
	return o;
}

void record_addr_read(json_t *json, struct record_addr *ret)
{
	char err[128];

	if (record_addr_parse(json, ret, err, sizeof(err)) < 0)
		record_warn(err);
}

/* A sysctl's value text: what the allow-list's keys hold (small decimal
 * numbers), so that a damaged record is caught here, not written to
 * /proc/sys. */
static bool record_sysctl_text(json_t *v)
{
	const char *s = json_string_value(v);
	size_t n = s ? strlen(s) : 0;

	if (!n || n > 8)
		return false;
	for (size_t i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return true;
}

int record_sysctl_parse(json_t *json, struct record_sysctl *ret, char *err,
			size_t errlen)
{
	const char *k;
	json_t *v;

	memset(ret, 0, sizeof(*ret));
	if (!json_is_object(json))
		return record_bad(err, errlen, "sysctl record: not an object");
	json_object_foreach(json, k, v) {
		if (!record_sysctl_text(v))
			return record_bad(err, errlen,
					  "sysctl record: %s is not a value",
					  k);
		if (!strcmp(k, "value"))
			ret->value = json_string_value(v);
		else if (!strcmp(k, "original"))
			ret->original = json_string_value(v);
		else
			return record_bad(err, errlen,
					  "sysctl record: unknown member %s",
					  k);
	}
	if (!ret->value)
		return record_bad(err, errlen, "sysctl record: no value");
	return 0;
}

json_t *record_sysctl_format(const struct record_sysctl *r)
{
	if (!r->original)
		return json_pack("{s:s}", "value", r->value);
	return json_pack("{s:s, s:s}", "value", r->value, "original",
			 r->original);
}

static int record_marker_member(const char *k, json_t *v,
				struct record_marker *m)
{
	json_int_t n = json_integer_value(v);

	if (!strcmp(k, "ifindex") && json_is_integer(v) && n > 0 &&
	    n <= INT32_MAX)
		m->ifindex = (int)n;
	else if (!strcmp(k, "namespace") && json_is_string(v))
		m->ns = json_string_value(v);
	else if (!strcmp(k, "name") && json_is_string(v))
		m->name = json_string_value(v);
	else
		return -EBADMSG;
	return 0;
}

int record_marker_parse(json_t *json, struct record_marker *ret, char *err,
			size_t errlen)
{
	const char *k;
	json_t *v;

	memset(ret, 0, sizeof(*ret));
	if (!json_is_object(json))
		return record_bad(err, errlen, "marker: not an object");
	json_object_foreach(json, k, v) {
		if (record_marker_member(k, v, ret) < 0)
			return record_bad(err, errlen,
					  "marker: %s is unknown or malformed",
					  k);
	}
	if (!ret->ifindex || !ret->ns != !ret->name)
		return record_bad(err, errlen, "marker: members missing");
	return 0;
}

json_t *record_marker_format(const struct record_marker *m)
{
	if (!m->ns)
		return json_pack("{s:i}", "ifindex", m->ifindex);
	return json_pack("{s:s, s:s, s:i}", "namespace", m->ns, "name", m->name,
			 "ifindex", m->ifindex);
}

static const char *record_or(const char *s, const char *none)
{
	return s ? s : none;
}

int record_drift_words(const struct record_drift_item *it, char *buf,
		       size_t len)
{
	static const char *const attr[RECORD_DRIFT_N] = {
		[RECORD_DRIFT_MAC] = "mac",
		[RECORD_DRIFT_UP] = "up",
		[RECORD_DRIFT_MASTER] = "master",
		[RECORD_DRIFT_STP] = "stp",
		[RECORD_DRIFT_VLAN_FILTERING] = "vlan_filtering",
		[RECORD_DRIFT_VALUE] = "value",
	};

	switch (it->code) {
	case RECORD_DRIFT_MISSING: return snprintf(buf, len, "missing");
	case RECORD_DRIFT_MTU:
		return snprintf(buf, len, "mtu is %lld, desired %lld",
				it->have_n, it->want_n);
	case RECORD_DRIFT_PEER:
		return snprintf(buf, len, "peer is %s/%s, desired %s/%s",
				record_or(it->have[0], "unknown"),
				record_or(it->have[1], "unknown"),
				record_or(it->want[0], "(null)"),
				record_or(it->want[1], "(null)"));
	case RECORD_DRIFT_IMPOSTOR:
		return snprintf(
			buf, len,
			"a link netnsd did not create has taken its name");
	case RECORD_DRIFT_ADDRESS:
		return snprintf(buf, len, "address %s is missing",
				record_or(it->want[0], ""));
	case RECORD_DRIFT_OPTION:
		return snprintf(buf, len, "%s is %s, desired %s",
				record_or(it->have[1], "option"),
				record_or(it->have[0], "none"),
				record_or(it->want[0], "none"));
	default: break;
	}
	if ((unsigned)it->code >= RECORD_DRIFT_N || !attr[it->code])
		return snprintf(buf, len, "unknown drift");
	return snprintf(buf, len, "%s is %s, desired %s", attr[it->code],
			record_or(it->have[0], "none"),
			record_or(it->want[0], "none"));
}

/* ---- Routes --------------------------------------------------------- */

static const struct {
	uint8_t value;
	const char *name;
} record_scopes[] = {
	{ 0, "global" }, /* RT_SCOPE_UNIVERSE */
	{ 200, "site" }, /* RT_SCOPE_SITE */
	{ 253, "link" }, /* RT_SCOPE_LINK */
	{ 254, "host" }, /* RT_SCOPE_HOST */
};

int record_route_scope_parse(const char *name, uint8_t *ret)
{
	for (size_t i = 0; i < sizeof(record_scopes) / sizeof(record_scopes[0]);
	     i++) {
		if (!strcmp(record_scopes[i].name, name)) {
			*ret = record_scopes[i].value;
			return 0;
		}
	}
	return -EINVAL;
}

const char *record_route_scope_name(uint8_t scope)
{
	for (size_t i = 0; i < sizeof(record_scopes) / sizeof(record_scopes[0]);
	     i++)
		if (record_scopes[i].value == scope)
			return record_scopes[i].name;
	return NULL;
}

static int record_u32(json_t *v, const char *k, uint32_t *out, char *err,
		      size_t errlen)
{
	json_int_t n = json_integer_value(v);

	if (!json_is_integer(v) || n < 0 || n > (json_int_t)UINT32_MAX)
		return record_bad(
			err, errlen,
			"route record: %s is not a 32-bit unsigned integer", k);
	*out = (uint32_t)n;
	return 0;
}

static int record_route_member(const char *k, json_t *v, struct record_route *r,
			       char *err, size_t errlen)
{
	const char *s = json_string_value(v);
	struct cidr via;

	if (!strcmp(k, "metric"))
		return record_u32(v, k, &r->metric, err, errlen);
	if (!strcmp(k, "table"))
		return record_u32(v, k, &r->table, err, errlen);
	if (!s)
		return record_bad(err, errlen,
				  "route record: %s is unknown or not a string",
				  k);
	if (!strcmp(k, "dst")) {
		if (value_parse_cidr(s, &r->dst) ||
		    value_cidr_host_bits(&r->dst))
			return record_bad(err, errlen,
					  "route record: dst is malformed");
		r->dst_text = s;
	} else if (!strcmp(k, "via")) {
		if (value_parse_ip_prefix(s, strchr(s, ':') ? "128" : "32",
					  &via))
			return record_bad(err, errlen,
					  "route record: via is malformed");
		memcpy(r->via, via.addr, sizeof(r->via));
		r->has_via = true;
		r->via_text = s;
	} else if (!strcmp(k, "dev")) {
		r->dev = s;
	} else if (!strcmp(k, "scope")) {
		if (record_route_scope_parse(s, &r->scope) < 0)
			return record_bad(err, errlen,
					  "route record: scope is unknown");
	} else {
		return record_bad(err, errlen, "route record: %s is unknown",
				  k);
	}
	return 0;
}

int record_route_parse(json_t *json, struct record_route *ret, char *err,
		       size_t errlen)
{
	bool has_table = false;
	const char *k;
	json_t *v;
	int r;

	memset(ret, 0, sizeof(*ret));
	if (!json_is_object(json))
		return record_bad(err, errlen, "route record: not an object");
	json_object_foreach(json, k, v) {
		r = record_route_member(k, v, ret, err, errlen);
		if (r < 0)
			return r;
		has_table = has_table || !strcmp(k, "table");
	}
	if (!ret->dst_text || !has_table || ret->table == 0)
		return record_bad(err, errlen,
				  "route record: dst or table missing");
	if (!ret->has_via && !ret->dev)
		return record_bad(err, errlen,
				  "route record: neither via nor dev");
	if (ret->has_via &&
	    !strchr(ret->via_text, ':') != (ret->dst.family == AF_INET))
		return record_bad(err, errlen,
				  "route record: via is of another family");
	return 0;
}

json_t *record_route_format(const struct record_route *r)
{
	char dst[64], gw[64];
	json_t *o;

	value_format_cidr(&r->dst, dst, sizeof(dst));
	o = json_pack("{s:s, s:I, s:I, s:s}", "dst", dst, "metric",
		      (json_int_t)r->metric, "table", (json_int_t)r->table,
		      "scope",
		      record_or(record_route_scope_name(r->scope), "global"));
	if (o && r->has_via) {
		value_format_ip(r->dst.family, r->via, gw);
		if (record_set(o, "via", json_string(gw)) < 0) {
			json_decref(o);
			return NULL;
		}
	}
	if (o && r->dev && record_set(o, "dev", json_string(r->dev)) < 0) {
		json_decref(o);
		return NULL;
	}
	return o;
}

bool record_route_equal(const struct record_route *a,
			const struct record_route *b)
{
	size_t alen = a->dst.family == AF_INET ? 4 : 16;

	return value_cidr_equal(&a->dst, &b->dst) && a->metric == b->metric &&
	       a->table == b->table && a->scope == b->scope &&
	       a->has_via == b->has_via &&
	       (!a->has_via || !memcmp(a->via, b->via, alen)) &&
	       record_str_eq(a->dev, b->dev);
}
