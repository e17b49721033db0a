#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "version.h"

static void config_usage(FILE *f)
{
	fprintf(f,
		"Usage: netnsd [OPTION]...\n"
		"Manage Linux network namespaces, links, veth pairs, bridges and addresses\n"
		"over a REST API, keeping them as durable desired state.\n"
		"\n"
		"  --listen ADDR:PORT|unix:PATH  where to serve (default 127.0.0.1:8080;\n"
		"                                IPv6 as [::1]:8080; may be repeated)\n"
		"  --state-file PATH             desired state (default /var/lib/netnsd/state.json;\n"
		"                                its journal is PATH.journal)\n"
		"  --netns-dir DIR               named namespaces, shared with `ip netns`\n"
		"                                (default /run/netns)\n"
		"  --max-body BYTES              largest request body (default 1048576)\n"
		"  --threads N                   HTTP worker threads (default 4)\n"
		"  --connection-timeout SECONDS  idle connection timeout (default 30)\n"
		"  --log-level LEVEL             debug, info, warn or error (default info)\n"
		"  --version                     print the version and exit\n"
		"  --help                        print this help and exit\n");
}

static int config_number(const char *flag, const char *text, unsigned long min,
			 unsigned long max, unsigned long *ret)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(text, &end, 10);
	if (errno || !*text || *end || text[0] == '-' || v < min || v > max) {
		fprintf(stderr, "netnsd: %s wants a number from %lu to %lu, not '%s'\n",
			flag, min, max, text);
		return -1;
	}
	*ret = v;
	return 0;
}

int config_parse(int argc, char **argv, struct config *c)
{
	enum { O_LISTEN = 256, O_STATE, O_NETNS, O_MAXBODY, O_THREADS,
	       O_TIMEOUT, O_LOGLEVEL, O_VERSION, O_HELP };
	static const struct option opts[] = {
		{ "listen", required_argument, NULL, O_LISTEN },
		{ "state-file", required_argument, NULL, O_STATE },
		{ "netns-dir", required_argument, NULL, O_NETNS },
		{ "max-body", required_argument, NULL, O_MAXBODY },
		{ "threads", required_argument, NULL, O_THREADS },
		{ "connection-timeout", required_argument, NULL, O_TIMEOUT },
		{ "log-level", required_argument, NULL, O_LOGLEVEL },
		{ "version", no_argument, NULL, O_VERSION },
		{ "help", no_argument, NULL, O_HELP },
		{ NULL, 0, NULL, 0 },
	};
	unsigned long n;
	int o;

	memset(c, 0, sizeof(*c));
	c->state_file = "/var/lib/netnsd/state.json";
	c->netns_dir = "/run/netns";
	c->max_body = 1u << 20;
	c->threads = 4;
	c->conn_timeout = 30;
	c->log_level = "info";

	opterr = 0;
	while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (o) {
		case O_LISTEN:
			if (c->n_listen == CONFIG_LISTEN_MAX) {
				fprintf(stderr, "netnsd: at most %d --listen\n",
					CONFIG_LISTEN_MAX);
				return -1;
			}
			c->listen[c->n_listen++] = optarg;
			break;
		case O_STATE:
			c->state_file = optarg;
			break;
		case O_NETNS:
			c->netns_dir = optarg;
			break;
		case O_MAXBODY:
			if (config_number("--max-body", optarg, 1, 1ul << 30, &n))
				return -1;
			c->max_body = n;
			break;
		case O_THREADS:
			if (config_number("--threads", optarg, 1, 256, &n))
				return -1;
			c->threads = (unsigned)n;
			break;
		case O_TIMEOUT:
			if (config_number("--connection-timeout", optarg, 1,
					  86400, &n))
				return -1;
			c->conn_timeout = (unsigned)n;
			break;
		case O_LOGLEVEL:
			if (log_set_level(optarg) < 0) {
				fprintf(stderr,
					"netnsd: --log-level is debug, info, warn or error, not '%s'\n",
					optarg);
				return -1;
			}
			c->log_level = optarg;
			break;
		case O_VERSION:
			printf("netnsd %s\n", NETNSD_VERSION);
			return 1;
		case O_HELP:
			config_usage(stdout);
			return 1;
		default:
			if (optopt)
				fprintf(stderr, "netnsd: option needs a value or is unknown: %s (try --help)\n",
					argv[optind - 1]);
			else
				fprintf(stderr, "netnsd: unknown option %s (try --help)\n",
					argv[optind - 1]);
			return -1;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "netnsd: unexpected argument '%s' (try --help)\n",
			argv[optind]);
		return -1;
	}
	if (!c->n_listen)
		c->listen[c->n_listen++] = "127.0.0.1:8080";
	if (!*c->state_file || !*c->netns_dir) {
		fprintf(stderr, "netnsd: --state-file and --netns-dir must not be empty\n");
		return -1;
	}
	return 0;
}
