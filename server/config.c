#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../base/log.h"
#include "origin.h"
#include "version.h"

enum {
	O_LISTEN = 256,
	O_STATE,
	O_NETNS,
	O_MAXOBJECTS,
	O_MAXBODY,
	O_THREADS,
	O_TIMEOUT,
	O_HDRTIMEOUT,
	O_MAXCONN,
	O_MAXCONNIP,
	O_MAXHEADER,
	O_LOGLEVEL,
	O_LOGFORMAT,
	O_SOCKMODE,
	O_SOCKGROUP,
	O_TOKENFILE,
	O_INSECURE,
	O_TLSCERT,
	O_TLSKEY,
	O_TLSCA,
	O_TLSPRIO,
	O_CORS,
	O_ALLOWEDHOST,
	O_USER,
	O_NLTIMEOUT,
	O_TESTSTALL,
	O_MAXSUBS,
	O_RECONCILE,
	O_EVHISTORY,
	O_EVBUFFER,
	O_CONFIG,
	O_VERSION,
	O_HELP,
};

static const struct option config_opts[] = {
	{ "listen", required_argument, NULL, O_LISTEN },
	{ "state-file", required_argument, NULL, O_STATE },
	{ "netns-dir", required_argument, NULL, O_NETNS },
	{ "max-objects", required_argument, NULL, O_MAXOBJECTS },
	{ "max-body", required_argument, NULL, O_MAXBODY },
	{ "threads", required_argument, NULL, O_THREADS },
	{ "connection-timeout", required_argument, NULL, O_TIMEOUT },
	{ "header-timeout", required_argument, NULL, O_HDRTIMEOUT },
	{ "max-connections", required_argument, NULL, O_MAXCONN },
	{ "max-connections-per-ip", required_argument, NULL, O_MAXCONNIP },
	{ "max-header-size", required_argument, NULL, O_MAXHEADER },
	{ "log-level", required_argument, NULL, O_LOGLEVEL },
	{ "log-format", required_argument, NULL, O_LOGFORMAT },
	{ "socket-mode", required_argument, NULL, O_SOCKMODE },
	{ "socket-group", required_argument, NULL, O_SOCKGROUP },
	{ "token-file", required_argument, NULL, O_TOKENFILE },
	{ "insecure", no_argument, NULL, O_INSECURE },
	{ "tls-cert", required_argument, NULL, O_TLSCERT },
	{ "tls-key", required_argument, NULL, O_TLSKEY },
	{ "tls-client-ca", required_argument, NULL, O_TLSCA },
	{ "tls-priority", required_argument, NULL, O_TLSPRIO },
	{ "cors-origin", required_argument, NULL, O_CORS },
	{ "allowed-host", required_argument, NULL, O_ALLOWEDHOST },
	{ "user", required_argument, NULL, O_USER },
	{ "netlink-timeout", required_argument, NULL, O_NLTIMEOUT },
	{ "test-stall-netns", required_argument, NULL, O_TESTSTALL },
	{ "max-subscribers", required_argument, NULL, O_MAXSUBS },
	{ "reconcile", required_argument, NULL, O_RECONCILE },
	{ "events-history", required_argument, NULL, O_EVHISTORY },
	{ "events-buffer", required_argument, NULL, O_EVBUFFER },
	{ "config", required_argument, NULL, O_CONFIG },
	{ "version", no_argument, NULL, O_VERSION },
	{ "help", no_argument, NULL, O_HELP },
	{ NULL, 0, NULL, 0 },
};

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

/* Applies one option; `name` is its long name for messages. */
static int config_apply(struct config *c, int o, const char *name, char *arg)
{
	const char *why;
	unsigned long n;

	switch (o) {
	case O_LISTEN:
		if (c->n_listen == CONFIG_LISTEN_MAX) {
			fprintf(stderr, "netnsd: at most %d --listen\n",
				CONFIG_LISTEN_MAX);
			return -1;
		}
		c->listen[c->n_listen++] = arg;
		return 0;
	case O_STATE: c->state_file = arg; return 0;
	case O_NETNS: c->netns_dir = arg; return 0;
	case O_MAXOBJECTS:
		if (config_number(name, arg, 1, 1000000000, 10, &n))
			return -1;
		c->max_objects = n;
		return 0;
	case O_MAXBODY:
		if (config_number(name, arg, 1, 1ul << 30, 10, &n))
			return -1;
		c->max_body = n;
		return 0;
	case O_THREADS:
		if (config_number(name, arg, 1, 256, 10, &n))
			return -1;
		c->threads = (unsigned)n;
		return 0;
	case O_TIMEOUT:
		if (config_number(name, arg, 1, 86400, 10, &n))
			return -1;
		c->conn_timeout = (unsigned)n;
		return 0;
	case O_HDRTIMEOUT:
		if (config_number(name, arg, 1, 86400, 10, &n))
			return -1;
		c->header_timeout = (unsigned)n;
		return 0;
	case O_MAXCONN:
		if (config_number(name, arg, 1, 1000000, 10, &n))
			return -1;
		c->max_connections = (unsigned)n;
		return 0;
	case O_MAXCONNIP:
		if (config_number(name, arg, 1, 1000000, 10, &n))
			return -1;
		c->max_connections_per_ip = (unsigned)n;
		return 0;
	case O_MAXHEADER:
		if (config_number(name, arg, 4096, 1ul << 24, 10, &n))
			return -1;
		c->max_header_size = n;
		return 0;
	case O_LOGLEVEL:
		if (log_set_level(arg) < 0) {
			fprintf(stderr,
				"netnsd: --log-level is debug, info, warn or error, not '%s'\n",
				arg);
			return -1;
		}
		c->log_level = arg;
		return 0;
	case O_LOGFORMAT:
		if (log_set_format(arg) < 0) {
			fprintf(stderr,
				"netnsd: --log-format is text, logfmt or json, not '%s'\n",
				arg);
			return -1;
		}
		c->log_format = arg;
		return 0;
	case O_SOCKMODE:
		if (config_number(name, arg, 0, 0777, 8, &n))
			return -1;
		c->socket_mode = (unsigned)n;
		return 0;
	case O_SOCKGROUP: c->socket_group = arg; return 0;
	case O_TOKENFILE: c->token_file = arg; return 0;
	case O_INSECURE: c->insecure = true; return 0;
	case O_TLSCERT: c->tls_cert = arg; return 0;
	case O_TLSKEY: c->tls_key = arg; return 0;
	case O_TLSCA: c->tls_client_ca = arg; return 0;
	case O_TLSPRIO: c->tls_priority = arg; return 0;
	case O_CORS:
		if (c->n_cors == CONFIG_CORS_MAX) {
			fprintf(stderr, "netnsd: at most %d --cors-origin\n",
				CONFIG_CORS_MAX);
			return -1;
		}
		why = origin_cors_normalize(arg);
		if (why) {
			fprintf(stderr, "netnsd: --cors-origin '%s' %s\n", arg,
				why);
			return -1;
		}
		c->cors_origins[c->n_cors++] = arg;
		return 0;
	case O_ALLOWEDHOST:
		if (c->n_allowed_hosts == CONFIG_HOSTS_MAX) {
			fprintf(stderr, "netnsd: at most %d --allowed-host\n",
				CONFIG_HOSTS_MAX);
			return -1;
		}
		why = origin_host_normalize(arg);
		if (why) {
			fprintf(stderr, "netnsd: --allowed-host '%s' %s\n", arg,
				why);
			return -1;
		}
		c->allowed_hosts[c->n_allowed_hosts++] = arg;
		return 0;
	case O_USER: c->user = arg; return 0;
	case O_NLTIMEOUT:
		if (config_number(name, arg, 1, 3600, 10, &n))
			return -1;
		c->netlink_timeout = (unsigned)n;
		return 0;
	case O_TESTSTALL: c->test_stall_netns = arg; return 0;
	case O_RECONCILE:
		if (strcmp(arg, "auto") && strcmp(arg, "manual")) {
			fprintf(stderr,
				"netnsd: --reconcile is auto or manual, not '%s'\n",
				arg);
			return -1;
		}
		c->reconcile_auto = !strcmp(arg, "auto");
		return 0;
	case O_MAXSUBS:
		if (config_number(name, arg, 1, 100000, 10, &n))
			return -1;
		c->max_subscribers = (unsigned)n;
		return 0;
	case O_EVHISTORY:
		if (config_number(name, arg, 10000, 10000000, 10, &n))
			return -1;
		c->events_history = n;
		return 0;
	case O_EVBUFFER:
		if (config_number(name, arg, 16, 5000000, 10, &n))
			return -1;
		c->events_buffer = n;
		return 0;
	case O_CONFIG: return 0; /* read before everything else */
	}
	return -1;
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
	for (line = strtok_r(text, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		const struct option *opt;
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
		for (opt = config_opts; opt->name; opt++)
			if (!strcmp(opt->name, name))
				break;
		if (!opt->name || opt->val == O_CONFIG || opt->val == O_HELP ||
		    opt->val == O_VERSION) {
			fprintf(stderr, "netnsd: %s: unknown setting '%s'\n",
				path, name);
			return -1;
		}
		if ((opt->has_arg == required_argument) != (value && *value)) {
			if (opt->has_arg == no_argument && value &&
			    !strcmp(value, "true"))
				value = NULL;
			else {
				fprintf(stderr, "netnsd: %s: '%s' %s\n", path,
					name,
					opt->has_arg == required_argument
						? "needs a value"
						: "takes no value (or 'true')");
				return -1;
			}
		}
		if (config_apply(c, opt->val, opt->name, value) < 0)
			return -1;
	}
	/* Kept for the life of the process: the configuration points into
	 * it (and a pointer to its start keeps leak checkers quiet). */
	config_file_text = text;
	return 0;
}

int config_parse(int argc, char **argv, struct config *c)
{
	const char *config_path = NULL;
	int o, idx;

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

	/* --config first, so the command line can override the file. */
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--config") && i + 1 < argc)
			config_path = argv[i + 1];
		else if (!strncmp(argv[i], "--config=", 9))
			config_path = argv[i] + 9;
	}
	if (config_path && config_read_file(c, config_path) < 0)
		return -1;

	opterr = 0;
	optind = 1;
	while ((o = getopt_long(argc, argv, "", config_opts, &idx)) != -1) {
		if (o == O_VERSION) {
			printf("netnsd %s\n", NETNSD_VERSION);
			return 1;
		}
		if (o == O_HELP) {
			config_usage(stdout);
			return 1;
		}
		if (o == '?' || o == ':') {
			fprintf(stderr,
				"netnsd: unknown option or missing value: %s (try --help)\n",
				argv[optind - 1]);
			return -1;
		}
		if (config_apply(c, o, config_opts[idx].name, optarg) < 0)
			return -1;
	}
	if (optind < argc) {
		fprintf(stderr,
			"netnsd: unexpected argument '%s' (try --help)\n",
			argv[optind]);
		return -1;
	}
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
	return 0;
}
