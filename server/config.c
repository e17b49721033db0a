#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../base/log.h"
#include "origin.h"
#include "version.h"

/* How a flag's value is taken into struct config. */
enum config_kind {
	CONFIG_TEXT, /* a const char * field, the value as given */
	CONFIG_UINT, /* an unsigned field, a number from min to max */
	CONFIG_SIZE, /* a size_t field, the same */
	CONFIG_TRUE, /* a bool field, set by the flag (no value) */
	CONFIG_TAKE, /* its own function: a list, or a word it checks */
	/* Not settings: never in a config file. */
	CONFIG_FILE, /* --config, read before everything else */
	CONFIG_VERSION,
	CONFIG_HELP,
};

struct config_flag {
	const char *name;
	enum config_kind kind;
	size_t offset; /* offsetof(struct config, ...) */
	unsigned long min, max;
	int base;				  /* of a number: 10 when 0 */
	int (*take)(struct config *c, char *arg); /* CONFIG_TAKE */
};

static int config_listen(struct config *c, char *arg);
static int config_log_level(struct config *c, char *arg);
static int config_log_format(struct config *c, char *arg);
static int config_cors(struct config *c, char *arg);
static int config_allowed_host(struct config *c, char *arg);
static int config_reconcile(struct config *c, char *arg);

#define CONFIG_AT(field) offsetof(struct config, field)
/* The rows of config_flags, by kind (each inside its own braces). */
#define FLAG_TEXT(n, field) \
	.name = n, .kind = CONFIG_TEXT, .offset = CONFIG_AT(field)
#define FLAG_TRUE(n, field) \
	.name = n, .kind = CONFIG_TRUE, .offset = CONFIG_AT(field)
#define FLAG_UINT(n, field, lo, hi)                                            \
	.name = n, .kind = CONFIG_UINT, .offset = CONFIG_AT(field), .min = lo, \
	.max = hi
#define FLAG_SIZE(n, field, lo, hi)                                            \
	.name = n, .kind = CONFIG_SIZE, .offset = CONFIG_AT(field), .min = lo, \
	.max = hi
#define FLAG_TAKE(n, fn) .name = n, .kind = CONFIG_TAKE, .take = fn
#define FLAG_ONLY(n, k)	 .name = n, .kind = k

/* Every flag, once: getopt's table is made from it, and a config file's
 * `name = value` lines are looked up in it (README.md, "Flags"). */
static const struct config_flag config_flags[] = {
	{ FLAG_TAKE("listen", config_listen) },
	{ FLAG_TEXT("state-file", state_file) },
	{ FLAG_TEXT("netns-dir", netns_dir) },
	{ FLAG_SIZE("max-objects", max_objects, 1, 1000000000) },
	{ FLAG_SIZE("max-body", max_body, 1, 1ul << 30) },
	{ FLAG_UINT("threads", threads, 1, 256) },
	{ FLAG_UINT("connection-timeout", conn_timeout, 1, 86400) },
	{ FLAG_UINT("header-timeout", header_timeout, 1, 86400) },
	{ FLAG_UINT("max-connections", max_connections, 1, 1000000) },
	{ FLAG_UINT("max-connections-per-ip", max_connections_per_ip, 1,
		    1000000) },
	{ FLAG_SIZE("max-header-size", max_header_size, 4096, 1ul << 24) },
	{ FLAG_TAKE("log-level", config_log_level) },
	{ FLAG_TAKE("log-format", config_log_format) },
	{ FLAG_UINT("socket-mode", socket_mode, 0, 0777), .base = 8 },
	{ FLAG_TEXT("socket-group", socket_group) },
	{ FLAG_TEXT("token-file", token_file) },
	{ FLAG_TRUE("insecure", insecure) },
	{ FLAG_TEXT("tls-cert", tls_cert) },
	{ FLAG_TEXT("tls-key", tls_key) },
	{ FLAG_TEXT("tls-client-ca", tls_client_ca) },
	{ FLAG_TEXT("tls-priority", tls_priority) },
	{ FLAG_TAKE("cors-origin", config_cors) },
	{ FLAG_TAKE("allowed-host", config_allowed_host) },
	{ FLAG_TEXT("user", user) },
	{ FLAG_UINT("netlink-timeout", netlink_timeout, 1, 3600) },
	{ FLAG_TEXT("test-stall-netns", test_stall_netns) },
	{ FLAG_UINT("max-subscribers", max_subscribers, 1, 100000) },
	{ FLAG_TAKE("reconcile", config_reconcile) },
	{ FLAG_SIZE("events-history", events_history, 10000, 10000000) },
	{ FLAG_SIZE("events-buffer", events_buffer, 16, 5000000) },
	{ FLAG_ONLY("config", CONFIG_FILE) },
	{ FLAG_ONLY("version", CONFIG_VERSION) },
	{ FLAG_ONLY("help", CONFIG_HELP) },
};

#define CONFIG_N_FLAGS (sizeof(config_flags) / sizeof(config_flags[0]))
/* getopt_long's value of config_flags[i]: past every short option. */
#define CONFIG_GETOPT_BASE 256

static char *config_file_text;

static void config_usage(FILE *f)
{
	fprintf(f,
		"Usage: netnsd [OPTION]...\n"
		"Manage Linux network namespaces, links, veth pairs, bridges and addresses\n"
		"over a REST API, keeping them as durable desired state.\n"
		"\n"
		"Serving:\n"
		"  --listen ADDR:PORT|unix:PATH  where to serve (default 127.0.0.1:8080;\n"
		"                                IPv6 as [::1]:8080; repeatable)\n"
		"  --socket-mode MODE            mode of unix sockets, octal (default 0660)\n"
		"  --socket-group GROUP          group of unix sockets (default root)\n"
		"  --threads N                   HTTP worker threads (default 4)\n"
		"  --max-body BYTES              largest request body (default 1048576)\n"
		"  --max-header-size BYTES       memory for a request's headers (default 32768)\n"
		"  --max-connections N           open connections in all (default 1000)\n"
		"  --max-connections-per-ip N    open connections per client address (default 64)\n"
		"  --connection-timeout SECONDS  idle or slow connection timeout (default 30)\n"
		"  --header-timeout SECONDS      time to send a request's headers, from the\n"
		"                                connection's start or the previous answer\n"
		"                                (default 10)\n"
		"State:\n"
		"  --state-file PATH             desired state (default /var/lib/netnsd/state.json;\n"
		"                                its journal is PATH.journal)\n"
		"  --netns-dir DIR               named namespaces, shared with `ip netns`\n"
		"                                (default /run/netns)\n"
		"  --max-objects N               most desired objects (namespaces, links,\n"
		"                                addresses); creations past it get 403\n"
		"                                (default 100000)\n"
		"Security:\n"
		"  --token-file PATH             bearer tokens, one per line; a regular file,\n"
		"                                mode 0600 or 0400, owned by root or netnsd's user\n"
		"  --tls-cert PATH, --tls-key PATH  serve HTTPS with this certificate and key\n"
		"  --tls-client-ca PATH          require client certificates signed by this CA\n"
		"                                (and made for client authentication)\n"
		"  --tls-priority STRING         GnuTLS priority string (default: TLS 1.2 and\n"
		"                                1.3, AEAD ciphers with forward secrecy only)\n"
		"  --cors-origin ORIGIN          allow browser calls from ORIGIN, written\n"
		"                                scheme://host[:port] (repeatable)\n"
		"  --allowed-host NAME           also answer requests whose Host is NAME, besides\n"
		"                                loopback and the listener's address (repeatable)\n"
		"  --insecure                    allow a non-loopback TCP listener without a\n"
		"                                token file or TLS\n"
		"  --user USER                   run as USER with only CAP_NET_ADMIN and\n"
		"                                CAP_SYS_ADMIN\n"
		"Watching (GET /v1/events):\n"
		"  --max-subscribers N           event streams open at once (default 64)\n"
		"  --reconcile MODE              manual (default): drift is reported; auto:\n"
		"                                repaired within a second (self-healing)\n"
		"  --events-history N            events kept for resuming (default 10000,\n"
		"                                at least 10000)\n"
		"  --events-buffer N             events a subscriber may fall behind before\n"
		"                                it gets `resync` and its stream ends\n"
		"                                (default 1000)\n"
		"Operation:\n"
		"  --config PATH                 read flags from PATH first (`name = value` lines)\n"
		"  --log-level LEVEL             debug, info, warn or error (default info)\n"
		"  --log-format FORMAT           text, logfmt or json (default text)\n"
		"  --netlink-timeout SECONDS     longest wait for the kernel's answer, or for\n"
		"                                another request's lock (default 5)\n"
		"  --test-stall-netns NAME       TESTING ONLY: the kernel seems never to answer\n"
		"                                in namespace NAME\n"
		"  --version                     print the version and exit\n"
		"  --help                        print this help and exit\n");
}

static int config_number(const char *flag, const char *text, unsigned long min,
			 unsigned long max, int base, unsigned long *ret)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(text, &end, base);
	if (errno || !*text || *end || !isdigit((unsigned char)text[0]) ||
	    v < min || v > max) {
		fprintf(stderr,
			"netnsd: --%s wants a number from %lu to %lu, not '%s'\n",
			flag, min, max, text);
		return -1;
	}
	*ret = v;
	return 0;
}

/* Adds `arg` to a list flag's values (at most `max`), after `normalize`
 * (NULL: none) has found nothing wrong with it. */
static int config_list_add(const char *list[], size_t *n, size_t max,
			   const char *flag, char *arg,
			   const char *(*normalize)(char *))
{
	const char *why;

	if (*n == max) {
		fprintf(stderr, "netnsd: at most %zu --%s\n", max, flag);
		return -1;
	}
	why = normalize ? normalize(arg) : NULL;
	if (why) {
		fprintf(stderr, "netnsd: --%s '%s' %s\n", flag, arg, why);
		return -1;
	}
	list[(*n)++] = arg;
	return 0;
}

static int config_listen(struct config *c, char *arg)
{
	return config_list_add(c->listen, &c->n_listen, CONFIG_LISTEN_MAX,
			       "listen", arg, NULL);
}

static int config_cors(struct config *c, char *arg)
{
	return config_list_add(c->cors_origins, &c->n_cors, CONFIG_CORS_MAX,
			       "cors-origin", arg, origin_cors_normalize);
}

static int config_allowed_host(struct config *c, char *arg)
{
	return config_list_add(c->allowed_hosts, &c->n_allowed_hosts,
			       CONFIG_HOSTS_MAX, "allowed-host", arg,
			       origin_host_normalize);
}

static int config_log_level(struct config *c, char *arg)
{
	if (log_set_level(arg) < 0) {
		fprintf(stderr,
			"netnsd: --log-level is debug, info, warn or error, not '%s'\n",
			arg);
		return -1;
	}
	c->log_level = arg;
	return 0;
}

static int config_log_format(struct config *c, char *arg)
{
	if (log_set_format(arg) < 0) {
		fprintf(stderr,
			"netnsd: --log-format is text, logfmt or json, not '%s'\n",
			arg);
		return -1;
	}
	c->log_format = arg;
	return 0;
}

static int config_reconcile(struct config *c, char *arg)
{
	if (strcmp(arg, "auto") && strcmp(arg, "manual")) {
		fprintf(stderr,
			"netnsd: --reconcile is auto or manual, not '%s'\n",
			arg);
		return -1;
	}
	c->reconcile_auto = !strcmp(arg, "auto");
	return 0;
}

/* Takes one flag's value (NULL for a flag without one) into `c`. */
static int config_take(struct config *c, const struct config_flag *f, char *arg)
{
	char *field = (char *)c + f->offset;
	unsigned long n;

	switch (f->kind) {
	case CONFIG_TEXT: *(const char **)field = arg; return 0;
	case CONFIG_TRUE: *(bool *)field = true; return 0;
	case CONFIG_UINT:
	case CONFIG_SIZE:
		if (config_number(f->name, arg, f->min, f->max,
				  f->base ? f->base : 10, &n))
			return -1;
		if (f->kind == CONFIG_UINT)
			*(unsigned *)field = (unsigned)n;
		else
			*(size_t *)field = n;
		return 0;
	case CONFIG_TAKE: return f->take(c, arg);
	default: return 0; /* --config: read before everything else */
	}
}

static bool config_has_value(const struct config_flag *f)
{
	return f->kind != CONFIG_TRUE && f->kind != CONFIG_VERSION &&
	       f->kind != CONFIG_HELP;
}

static const struct config_flag *config_flag_find(const char *name)
{
	for (size_t i = 0; i < CONFIG_N_FLAGS; i++)
		if (!strcmp(config_flags[i].name, name))
			return &config_flags[i];
	return NULL;
}

static char *config_trim(char *s)
{
	char *end;

	while (isspace((unsigned char)*s))
		s++;
	end = s + strlen(s);
	while (end > s && isspace((unsigned char)end[-1]))
		*--end = '\0';
	return s;
}

/* Reads `name = value` lines; '#' starts a comment. The text stays
 * allocated: the configuration points into it. */
static int config_read_file(struct config *c, const char *path)
{
	char *text = NULL, *line, *save = NULL;
	size_t cap = 0;
	FILE *f;
	int lineno = 0;
	ssize_t n;

	f = fopen(path, "re");
	if (!f) {
		fprintf(stderr, "netnsd: cannot read --config %s: %s\n", path,
			strerror(errno));
		return -1;
	}
	n = getdelim(&text, &cap, '\0', f);
	fclose(f);
	if (n < 0) {
		free(text);
		return 0; /* empty file */
	}
	/* Kept for the life of the process, from here on: the configuration
	 * points into it, a refused file included (the process exits then,
	 * and the text is still reachable: nothing is lost to a leak
	 * checker). */
	config_file_text = text;
	for (line = strtok_r(text, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		const struct config_flag *flag;
		char *eq, *name, *value;

		lineno++;
		line[strcspn(line, "#")] = '\0';
		line = config_trim(line);
		if (!*line)
			continue;
		eq = strchr(line, '=');
		if (eq)
			*eq = '\0';
		name = config_trim(line);
		value = eq ? config_trim(eq + 1) : NULL;
		flag = config_flag_find(name);
		if (!flag || flag->kind >= CONFIG_FILE) {
			fprintf(stderr, "netnsd: %s: unknown setting '%s'\n",
				path, name);
			return -1;
		}
		if (config_has_value(flag) != (value && *value)) {
			if (!config_has_value(flag) && value &&
			    !strcmp(value, "true"))
				value = NULL;
			else {
				fprintf(stderr, "netnsd: %s: '%s' %s\n", path,
					name,
					config_has_value(flag)
						? "needs a value"
						: "takes no value (or 'true')");
				return -1;
			}
		}
		if (config_take(c, flag, value) < 0)
			return -1;
	}
	return 0;
}

static void config_defaults(struct config *c)
{
	memset(c, 0, sizeof(*c));
	c->state_file = "/var/lib/netnsd/state.json";
	c->netns_dir = "/run/netns";
	c->max_objects = 100000;
	c->max_body = 1u << 20;
	c->threads = 4;
	c->conn_timeout = 30;
	c->header_timeout = 10;
	c->max_connections = 1000;
	c->max_connections_per_ip = 64;
	c->max_header_size = 32768;
	c->max_subscribers = 64;
	c->events_history = 10000;
	c->events_buffer = 1000;
	c->log_level = "info";
	c->log_format = "text";
	c->socket_mode = 0660;
	c->netlink_timeout = 5;
}

/* --config first, so the command line can override the file. */
static int config_file_first(int argc, char **argv, struct config *c)
{
	const char *path = NULL;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--config") && i + 1 < argc)
			path = argv[i + 1];
		else if (!strncmp(argv[i], "--config=", 9))
			path = argv[i] + 9;
	}
	return path ? config_read_file(c, path) : 0;
}

/* getopt_long's table, made from config_flags. */
static const struct option *config_getopt_table(void)
{
	static struct option opts[CONFIG_N_FLAGS + 1];

	for (size_t i = 0; i < CONFIG_N_FLAGS; i++)
		opts[i] = (struct option){ config_flags[i].name,
					   config_has_value(&config_flags[i])
						   ? required_argument
						   : no_argument,
					   NULL, CONFIG_GETOPT_BASE + (int)i };
	return opts;
}

/* The flags of the command line, in order. 1 after --version or --help. */
static int config_command_line(int argc, char **argv, struct config *c)
{
	const struct option *opts = config_getopt_table();
	const struct config_flag *f;
	int o;

	opterr = 0;
	optind = 1;
	while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (o < CONFIG_GETOPT_BASE) {
			fprintf(stderr,
				"netnsd: unknown option or missing value: %s (try --help)\n",
				argv[optind - 1]);
			return -1;
		}
		f = &config_flags[o - CONFIG_GETOPT_BASE];
		if (f->kind == CONFIG_VERSION) {
			printf("netnsd %s\n", NETNSD_VERSION);
			return 1;
		}
		if (f->kind == CONFIG_HELP) {
			config_usage(stdout);
			return 1;
		}
		if (config_take(c, f, optarg) < 0)
			return -1;
	}
	if (optind < argc) {
		fprintf(stderr,
			"netnsd: unexpected argument '%s' (try --help)\n",
			argv[optind]);
		return -1;
	}
	return 0;
}

/* What no single flag can check: flags that go together. */
static int config_check(struct config *c)
{
	if (!c->n_listen)
		c->listen[c->n_listen++] = "127.0.0.1:8080";
	if (!*c->state_file || !*c->netns_dir) {
		fprintf(stderr,
			"netnsd: --state-file and --netns-dir must not be empty\n");
		return -1;
	}
	if (!c->tls_cert != !c->tls_key) {
		fprintf(stderr,
			"netnsd: --tls-cert and --tls-key go together\n");
		return -1;
	}
	if (c->tls_priority && !c->tls_cert) {
		fprintf(stderr,
			"netnsd: --tls-priority needs --tls-cert and --tls-key\n");
		return -1;
	}
	if (c->tls_client_ca && !c->tls_cert) {
		fprintf(stderr,
			"netnsd: --tls-client-ca needs --tls-cert and --tls-key\n");
		return -1;
	}
	/* Further behind, a subscriber's place in the history could be
	 * overwritten while it still reads it (server/events.c). */
	if (c->events_buffer > c->events_history / 2) {
		fprintf(stderr,
			"netnsd: --events-buffer %zu is more than half of --events-history %zu; raise --events-history to at least %zu, or lower --events-buffer\n",
			c->events_buffer, c->events_history,
			2 * c->events_buffer);
		return -1;
	}
	return 0;
}

int config_parse(int argc, char **argv, struct config *c)
{
	int r;

	config_defaults(c);
	if (config_file_first(argc, argv, c) < 0)
		return -1;
	r = config_command_line(argc, argv, c);
	if (r != 0)
		return r;
	return config_check(c);
}
