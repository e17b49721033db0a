/* The daemon's configuration: command-line flags, optionally read first from
 * a file of `name = value` lines (--config). */
#ifndef NETNSD_CONFIG_H
#define NETNSD_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#define CONFIG_LISTEN_MAX 8
#define CONFIG_CORS_MAX	  16
#define CONFIG_HOSTS_MAX  16

struct config {
	const char *listen[CONFIG_LISTEN_MAX];
	size_t n_listen;
	const char *state_file;
	const char *netns_dir;
	size_t max_objects;
	size_t max_body;
	unsigned threads;
	unsigned conn_timeout;
	unsigned header_timeout;
	unsigned max_connections;
	unsigned max_connections_per_ip;
	size_t max_header_size;
	const char *log_level;
	const char *log_format;
	/* security */
	unsigned socket_mode;
	const char *socket_group;
	const char *token_file;
	bool insecure;
	const char *tls_cert;
	const char *tls_key;
	const char *tls_client_ca;
	const char *tls_priority;
	const char *cors_origins[CONFIG_CORS_MAX];
	size_t n_cors;
	/* names (or addresses) clients may use in Host, besides loopback
	 * and the listener's own address */
	const char *allowed_hosts[CONFIG_HOSTS_MAX];
	size_t n_allowed_hosts;
	const char *user;
	/* bounds every wait for the kernel, and for locks (README.md,
	 * "Timeouts") */
	unsigned netlink_timeout;
	const char *test_stall_netns; /* testing only: netlink/ns.h */
	/* the event stream (README.md, "Watching") */
	unsigned max_subscribers;
	bool reconcile_auto; /* --reconcile=auto: self-healing (autoheal.h) */
	size_t events_history;
	size_t events_buffer;
};

/* 0 to run, 1 to exit successfully (--help, --version), -1 on a bad flag
 * (the message is already printed). Strings point into argv or into a
 * config file kept for the life of the process. */
int config_parse(int argc, char **argv, struct config *c);

#endif
