#include "link_kind.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "../api/name.h"

static const struct link_kind *const link_kinds[] = {
	&link_kind_macvlan, &link_kind_vxlan, &link_kind_vlan,
	&link_kind_ipvlan,  &link_kind_dummy,
};

#define LINK_KINDS_N (sizeof(link_kinds) / sizeof(link_kinds[0]))

/* Every option: its bit, its name, its type in a body. "remote" and
 * "group" share a bit: one address, unicast or multicast. */
static const struct {
	unsigned bit;
	const char *name;
	enum body_type type;
} link_opts[] = {
	{ LINK_OPT_PARENT, "parent", BODY_STRING },
	{ LINK_OPT_PARENT_NS, "parent_namespace", BODY_STRING },
	{ LINK_OPT_MODE, "mode", BODY_STRING },
	{ LINK_OPT_VNI, "vni", BODY_INT },
	{ LINK_OPT_ID, "id", BODY_INT },
	{ LINK_OPT_LOCAL, "local", BODY_STRING },
	{ LINK_OPT_REMOTE, "remote", BODY_STRING },
	{ LINK_OPT_REMOTE, "group", BODY_STRING },
	{ LINK_OPT_DSTPORT, "dstport", BODY_INT },
	{ LINK_OPT_LEARNING, "learning", BODY_BOOL },
};

#define LINK_OPTS_N (sizeof(link_opts) / sizeof(link_opts[0]))

const struct link_kind *link_kind_named(const char *name)
{
	for (size_t i = 0; name && i < LINK_KINDS_N; i++)
		if (!strcmp(link_kinds[i]->name, name))
			return link_kinds[i];
	return NULL;
}

const struct link_kind *link_kind_of(enum record_kind kind)
{
	for (size_t i = 0; i < LINK_KINDS_N; i++)
		if (link_kinds[i]->kind == kind)
			return link_kinds[i];
	return NULL;
}

const char *link_kind_names(void)
{
	return "macvlan, vxlan, vlan, ipvlan or dummy";
}

int link_kind_fields(const struct link_kind *lk, const struct body_field *base,
		     struct body_field *out, size_t cap)
{
	size_t n = 0;

	for (; base->name; base++)
		if (n + 1 < cap)
			out[n++] = *base;
	for (size_t i = 0; i < LINK_OPTS_N; i++)
		if ((lk->opts & link_opts[i].bit) && n + 1 < cap)
			out[n++] =
				(struct body_field){ link_opts[i].name,
						     link_opts[i].type, false };
	out[n] = (struct body_field){ NULL, 0, false };
	return n + 1 < cap ? 0 : -ENOBUFS;
}

static bool link_kind_multicast(int family, const uint8_t *a)
{
	return family == AF_INET ? (a[0] & 0xf0) == 0xe0 : a[0] == 0xff;
}

static bool link_kind_zero(int family, const uint8_t *a)
{
	static const uint8_t zero[16];

	return !memcmp(a, zero, family == AF_INET ? 4 : 16);
}

/* An IP address (no prefix) into family and bytes. */
static int link_kind_ip(const char *s, int *family, uint8_t *addr)
{
	if (s && inet_pton(AF_INET, s, addr) == 1)
		*family = AF_INET;
	else if (s && inet_pton(AF_INET6, s, addr) == 1)
		*family = AF_INET6;
	else
		return -EINVAL;
	return 0;
}

static int link_kind_why(char *why, size_t len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int link_kind_why(char *why, size_t len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, len, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

static int link_kind_mode(const struct link_kind *lk, const char *s,
			  struct record_link_opts *o, char *why, size_t len)
{
	for (const struct link_mode *m = lk->modes; s && m && m->name; m++) {
		if (!strcmp(m->name, s)) {
			o->k.mode = m->value;
			return 0;
		}
	}
	return link_kind_why(why, len, "is not a mode of a %s", lk->name);
}

/* An integer option within [lo, hi]. */
static int link_kind_int(json_t *v, long long lo, long long hi, long long *ret,
			 char *why, size_t len)
{
	if (!json_is_integer(v) || json_integer_value(v) < lo ||
	    json_integer_value(v) > hi)
		return link_kind_why(why, len,
				     "must be an integer from %lld to %lld", lo,
				     hi);
	*ret = json_integer_value(v);
	return 0;
}

static int link_kind_addr(const char *key, json_t *v,
			  struct record_link_opts *o, char *why, size_t len)
{
	bool local = !strcmp(key, "local");
	int *family = local ? &o->k.local_family : &o->k.remote_family;
	uint8_t *addr = local ? o->k.local : o->k.remote;
	bool multicast;

	if (link_kind_ip(json_string_value(v), family, addr) < 0)
		return link_kind_why(why, len,
				     "is not an IPv4 or IPv6 address");
	multicast = link_kind_multicast(*family, addr);
	if (link_kind_zero(*family, addr))
		return link_kind_why(why, len,
				     "must not be the unspecified address");
	if (!strcmp(key, "group") && !multicast)
		return link_kind_why(
			why, len,
			"must be a multicast address (a unicast one is a remote)");
	if (strcmp(key, "group") && multicast)
		return link_kind_why(why, len, "must be a unicast address%s",
				     local ? ""
					   : " (a multicast one is a group)");
	return 0;
}

/* One option `key` of `lk` into `o`: 0, -ENOENT when the kind has no such
 * option, -EINVAL with why in `why`. */
static int link_kind_member(const struct link_kind *lk, const char *key,
			    json_t *v, struct record_link_opts *o, char *why,
			    size_t len)
{
	unsigned bit = 0;
	long long n = 0;
	int r;

	for (size_t i = 0; i < LINK_OPTS_N; i++)
		if (!strcmp(link_opts[i].name, key))
			bit = link_opts[i].bit;
	if (!(lk->opts & bit))
		return -ENOENT;
	switch (bit) {
	case LINK_OPT_PARENT: {
		const char *bad =
			json_is_string(v)
				? name_check_link(json_string_value(v))
				: "is not a string";

		if (bad)
			return link_kind_why(why, len, "link name %s", bad);
		o->parent = json_string_value(v);
		break;
	}
	case LINK_OPT_PARENT_NS: {
		const char *bad =
			json_is_string(v)
				? name_check_namespace(json_string_value(v))
				: "is not a string";

		if (bad)
			return link_kind_why(why, len, "namespace name %s",
					     bad);
		o->parent_ns = json_string_value(v);
		break;
	}
	case LINK_OPT_MODE:
		r = link_kind_mode(lk, json_string_value(v), o, why, len);
		if (r < 0)
			return r;
		break;
	case LINK_OPT_VNI:
		r = link_kind_int(v, 0, 16777215, &n, why, len);
		if (r < 0)
			return r;
		o->k.vni = (uint32_t)n;
		break;
	case LINK_OPT_ID:
		r = link_kind_int(v, 1, 4094, &n, why, len);
		if (r < 0)
			return r;
		o->k.id = (uint16_t)n;
		break;
	case LINK_OPT_DSTPORT:
		r = link_kind_int(v, 1, 65535, &n, why, len);
		if (r < 0)
			return r;
		o->k.port = (uint16_t)n;
		break;
	case LINK_OPT_LEARNING:
		if (!json_is_boolean(v))
			return link_kind_why(why, len, "is not a boolean");
		o->k.learning = json_is_true(v);
		break;
	default:
		r = link_kind_addr(key, v, o, why, len);
		if (r < 0)
			return r;
		break;
	}
	o->has |= bit;
	return 0;
}

void link_kind_init(const struct link_kind *lk, struct record_link_opts *o)
{
	memset(o, 0, sizeof(*o));
	if (lk->modes) {
		o->k.mode = lk->modes[0].value;
		o->has |= LINK_OPT_MODE;
	}
	if (lk->defaults)
		lk->defaults(o);
}

/* Required options there, and the kind's own checks. */
static int link_kind_complete(const struct link_kind *lk,
			      const struct record_link_opts *o,
			      struct problem *prob)
{
	unsigned missing = lk->required & ~o->has;

	for (size_t i = 0; missing && i < LINK_OPTS_N; i++)
		if (missing & link_opts[i].bit)
			return problem_field(prob, link_opts[i].name,
					     "is required for a %s", lk->name);
	if ((o->has & LINK_OPT_PARENT_NS) && !(o->has & LINK_OPT_PARENT))
		return problem_field(
			prob, "parent_namespace",
			"is the namespace of a parent: give parent");
	return lk->check ? lk->check(o, prob) : 0;
}

int link_kind_from_body(const struct link_kind *lk, json_t *body,
			struct record_link_opts *o, struct problem *prob)
{
	char why[128];
	const char *k;
	json_t *v;

	if (json_object_get(body, "remote") && json_object_get(body, "group"))
		return problem_field(prob, "group",
				     "give remote or group, not both");
	json_object_foreach(body, k, v) {
		int r = link_kind_member(lk, k, v, o, why, sizeof(why));

		if (r == -EINVAL)
			problem_field(prob, k, "%s", why);
	}
	if (prob->status)
		return -prob->status;
	return link_kind_complete(lk, o, prob);
}

int link_kind_parse(const struct link_kind *lk, json_t *json,
		    struct record_link_opts *o, char *err, size_t errlen)
{
	struct problem prob = PROBLEM_INIT;
	char why[128];
	const char *k;
	json_t *v;
	int r = 0;

	memset(o, 0, sizeof(*o));
	if (!json_is_object(json)) {
		snprintf(err, errlen, "link record: options is not an object");
		return -EBADMSG;
	}
	json_object_foreach(json, k, v) {
		r = link_kind_member(lk, k, v, o, why, sizeof(why));
		if (r == -ENOENT)
			snprintf(why, sizeof(why), "is not an option of a %s",
				 lk->name);
		if (r < 0) {
			snprintf(err, errlen, "link record: options.%s %s", k,
				 why);
			return -EBADMSG;
		}
	}
	r = link_kind_complete(lk, o, &prob);
	if (r < 0) {
		json_t *e0 = json_array_get(prob.errors, 0);

		snprintf(err, errlen, "link record: options.%s %s",
			 json_string_value(json_object_get(e0, "field")),
			 json_string_value(json_object_get(e0, "message")));
		r = -EBADMSG;
	}
	problem_clear(&prob);
	return r;
}

static const char *link_kind_mode_name(const struct link_kind *lk, uint32_t v)
{
	for (const struct link_mode *m = lk->modes; m && m->name; m++)
		if (m->value == v)
			return m->name;
	return "unknown";
}

/* One option's value in words (as stored: a JSON string's text, or a
 * number or boolean), into `buf`; "none" when `o` lacks it. */
static void link_kind_words(const struct link_kind *lk,
			    const struct record_link_opts *o, unsigned bit,
			    char *buf, size_t len)
{
	char ip[INET6_ADDRSTRLEN] = "";

	if (!(o->has & bit)) {
		snprintf(buf, len, "none");
		return;
	}
	switch (bit) {
	case LINK_OPT_PARENT: snprintf(buf, len, "%s", o->parent); break;
	case LINK_OPT_PARENT_NS: snprintf(buf, len, "%s", o->parent_ns); break;
	case LINK_OPT_MODE:
		snprintf(buf, len, "%s", link_kind_mode_name(lk, o->k.mode));
		break;
	case LINK_OPT_VNI: snprintf(buf, len, "%u", o->k.vni); break;
	case LINK_OPT_ID: snprintf(buf, len, "%u", o->k.id); break;
	case LINK_OPT_DSTPORT: snprintf(buf, len, "%u", o->k.port); break;
	case LINK_OPT_LEARNING:
		snprintf(buf, len, "%s", o->k.learning ? "true" : "false");
		break;
	case LINK_OPT_LOCAL:
		inet_ntop(o->k.local_family, o->k.local, ip, sizeof(ip));
		snprintf(buf, len, "%s", ip);
		break;
	default:
		inet_ntop(o->k.remote_family, o->k.remote, ip, sizeof(ip));
		snprintf(buf, len, "%s", ip);
		break;
	}
}

/* The name an option has in `o`: "group" for a multicast remote. */
static const char *link_kind_opt_name(const struct record_link_opts *o,
				      size_t i)
{
	if (link_opts[i].bit == LINK_OPT_REMOTE &&
	    link_kind_multicast(o->k.remote_family, o->k.remote))
		return "group";
	return link_opts[i].name;
}

json_t *link_kind_format(const struct link_kind *lk,
			 const struct record_link_opts *o)
{
	json_t *obj = json_object();
	char words[INET6_ADDRSTRLEN + 16];
	int e = !obj;

	for (size_t i = 0; obj && i < LINK_OPTS_N; i++) {
		unsigned bit = link_opts[i].bit;
		json_t *v;

		if (!(o->has & bit) || !(lk->opts & bit) ||
		    (i && link_opts[i - 1].bit == bit))
			continue;
		link_kind_words(lk, o, bit, words, sizeof(words));
		if (link_opts[i].type == BODY_INT)
			v = json_loads(words, JSON_DECODE_ANY, NULL);
		else if (link_opts[i].type == BODY_BOOL)
			v = json_boolean(o->k.learning);
		else
			v = json_string(words);
		e |= json_object_set_new(obj, link_kind_opt_name(o, i), v);
	}
	if (e) {
		json_decref(obj);
		return NULL;
	}
	return obj;
}

void link_kind_from_kernel(const struct link_kind *lk, const struct nl_link *l,
			   const char *parent_name, const char *parent_ns,
			   struct record_link_opts *ret)
{
	memset(ret, 0, sizeof(*ret));
	ret->k = l->opts;
	ret->has = lk->opts;
	if (lk->modes == NULL)
		ret->has &= ~LINK_OPT_MODE;
	ret->parent = parent_name;
	ret->parent_ns = parent_name ? parent_ns : NULL;
	if (!parent_name)
		ret->has &= ~LINK_OPT_PARENT;
	if (!ret->parent_ns)
		ret->has &= ~LINK_OPT_PARENT_NS;
	if (!l->opts.local_family)
		ret->has &= ~LINK_OPT_LOCAL;
	if (!l->opts.remote_family)
		ret->has &= ~LINK_OPT_REMOTE;
}

int link_kind_differs(const struct link_kind *lk,
		      const struct record_link_opts *want,
		      const struct record_link_opts *have, const char **option,
		      char *have_words, char *want_words, size_t len)
{
	for (size_t i = 0; i < LINK_OPTS_N; i++) {
		unsigned bit = link_opts[i].bit;

		if (bit == LINK_OPT_PARENT || bit == LINK_OPT_PARENT_NS ||
		    !(want->has & bit) || (i && link_opts[i - 1].bit == bit))
			continue;
		link_kind_words(lk, want, bit, want_words, len);
		link_kind_words(lk, have, bit, have_words, len);
		if (strcmp(want_words, have_words)) {
			*option = link_kind_opt_name(want, i);
			return 1;
		}
	}
	return 0;
}

void link_kind_detail(const struct link_kind *lk,
		      const struct record_link_opts *o, char *buf, size_t len)
{
	char words[INET6_ADDRSTRLEN + 16];
	size_t n = (size_t)snprintf(buf, len, "%s", lk->name);

	for (size_t i = 0; i < LINK_OPTS_N && n < len; i++) {
		unsigned bit = link_opts[i].bit;

		if (!(o->has & bit) || (i && link_opts[i - 1].bit == bit))
			continue;
		link_kind_words(lk, o, bit, words, sizeof(words));
		n += (size_t)snprintf(buf + n, len - n, ", %s %s",
				      link_kind_opt_name(o, i), words);
	}
}
