/* Command-line configuration of the daemon. */
#ifndef NETNSD_CONFIG_H
#define NETNSD_CONFIG_H

#include <stddef.h>

#define CONFIG_LISTEN_MAX 8

struct config {
	const char *listen[CONFIG_LISTEN_MAX];
	size_t n_listen;
	const char *state_file;
	const char *netns_dir;
	size_t max_body;
	unsigned threads;
	unsigned conn_timeout;
	const char *log_level;
};

/* 0 to run, 1 to exit successfully (--help, --version), -1 on a bad flag
 * (the message is already printed). */
int config_parse(int argc, char **argv, struct config *c);

#endif
