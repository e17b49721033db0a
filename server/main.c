/* netnsd: load the desired state, re-apply it, serve the API until told to
 * stop. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../netlink/ns.h"
#include "../state/reconcile.h"
#include "../state/store.h"
#include "config.h"
#include "http.h"
#include "log.h"
#include "version.h"

static void main_log_report(json_t *report)
{
	json_t *v;
	size_t i;

	json_array_foreach(json_object_get(report, "actions"), i, v)
		log_info("reconcile: %s", json_string_value(v));
	json_array_foreach(json_object_get(report, "failures"), i, v)
		log_warn("reconcile: %s failed: %s",
			 json_string_value(json_object_get(v, "object")),
			 json_string_value(json_object_get(v, "error")));
}

int main(int argc, char **argv)
{
	struct store *store = NULL;
	struct config cfg;
	sigset_t stop;
	json_t *report;
	char err[512];
	int r, sig;

	r = config_parse(argc, argv, &cfg);
	if (r)
		return r > 0 ? 0 : 2;

	/* Every thread inherits the blocked set, so only sigwait() below
	 * sees SIGINT and SIGTERM. */
	sigemptyset(&stop);
	sigaddset(&stop, SIGINT);
	sigaddset(&stop, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &stop, NULL);
	signal(SIGPIPE, SIG_IGN);

	r = nl_ns_init(cfg.netns_dir);
	if (r < 0) {
		fprintf(stderr, "netnsd: cannot use --netns-dir %s: %s\n",
			cfg.netns_dir, strerror(-r));
		return 1;
	}
	r = store_open(cfg.state_file, &store, err, sizeof(err));
	if (r < 0) {
		fprintf(stderr, "netnsd: %s\n", err);
		return 1;
	}
	log_info("netnsd %s: desired state %s holds %zu objects",
		 NETNSD_VERSION, cfg.state_file, store_count(store));

	report = reconcile_run(store);
	main_log_report(report);
	log_info("start-up reconcile: %zu actions, %zu failures",
		 json_array_size(json_object_get(report, "actions")),
		 json_array_size(json_object_get(report, "failures")));
	json_decref(report);

	if (http_start(&cfg, store) < 0) {
		store_free(store);
		return 1;
	}
	do {
		r = sigwait(&stop, &sig);
	} while (r == EINTR);
	log_info("stopping on %s", strsignal(sig));
	http_stop();
	store_free(store);
	return 0;
}
