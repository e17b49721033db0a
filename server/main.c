/* netnsd: load the desired state, serve the API, re-apply the desired state
 * (retrying what may pass), report ready and serve until told to stop. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "../netlink/monitor.h"
#include "../netlink/ns.h"
#include "../state/record.h"
#include "../state/store.h"
#include "config.h"
#include "autoheal.h"
#include "confirm.h"
#include "converge.h"
#include "events.h"
#include "events_http.h"
#include "http.h"
#include "../base/log.h"
#include "loop.h"
#include "metrics.h"
#include "notify.h"
#include "../base/nslock.h"
#include "privs.h"
#include "version.h"
#include "watch.h"

/* The start-up re-apply; what it leaves that may pass is retried from the
 * main loop (see converge.h). */
static void main_reconcile(struct store *store)
{
	http_mutations_lock();
	json_decref(converge_run(store, CONVERGE_STARTUP));
	http_mutations_unlock();
}

/* A stored record that does not read as it should: a bug, said loudly. */
static void main_record_warn(const char *msg)
{
	log_error("desired state: %s", msg);
}

/* How long the main loop may sleep: until the first deadline of a job that
 * has one (a retry, a rollback, a repair, the clock's next second while
 * main_periodic() has work: `periodic`, or -1); -1: until woken
 * (server/loop.h). */
static long main_wait_ms(struct store *store, long periodic)
{
	long ms = converge_wait_ms();
	const long waits[] = { confirm_wait_ms(store), autoheal_wait_ms(),
			       periodic };

	for (size_t i = 0; i < sizeof(waits) / sizeof(*waits); i++)
		if (waits[i] >= 0 && (ms < 0 || waits[i] < ms))
			ms = waits[i];
	return ms;
}

static double main_seconds(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* The jobs of the clock, once a second while there is one: the sweep of
 * slow connections and the event streams' heartbeats (streams are
 * connections), and, only when the kernel is not watched, the sweep of
 * namespaces deleted behind our back (otherwise the monitor's news drives
 * it: netlink/ns.h). Whether it is due again. */
static bool main_periodic(void)
{
	bool more = http_sweep();

	events_tick();
	if (!monitor_active()) {
		nl_ns_sweep();
		more = true;
	}
	return more;
}

/* Every connection is a descriptor: let the connection limit, not the
 * default soft limit of 1024, be what bounds them. */
static void main_raise_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

/* Signals that stop the daemon: every thread inherits the blocked set,
 * so only the main loop sees SIGINT and SIGTERM (server/loop.h). */
static void main_block_signals(sigset_t *stop)
{
	sigemptyset(stop);
	sigaddset(stop, SIGINT);
	sigaddset(stop, SIGTERM);
	pthread_sigmask(SIG_BLOCK, stop, NULL);
	signal(SIGPIPE, SIG_IGN);
}

/* What netlink needs before anything else: the timeouts, the test hook,
 * and the netns directory. */
static int main_netlink(const struct config *cfg)
{
	int r;

	nl_set_timeout(cfg->netlink_timeout);
	nslock_set_wait(cfg->netlink_timeout);
	if (cfg->test_stall_netns) {
		nl_ns_test_stall(cfg->test_stall_netns);
		log_warn(
			"--test-stall-netns %s: a test hook; netlink requests in that namespace are never sent and time out",
			cfg->test_stall_netns);
	}
	r = nl_ns_init(cfg->netns_dir);
	if (r < 0)
		log_error("cannot use --netns-dir %s: %s", cfg->netns_dir,
			  strerror(-r));
	return r;
}

/* The desired state, opened once privileges are dropped. */
static int main_store(const struct config *cfg, struct store **ret)
{
	char err[512];
	int r;

	r = store_open(cfg->state_file, ret, err, sizeof(err));
	if (r < 0) {
		log_error("%s", err);
		return r;
	}
	log_info("netnsd %s: desired state %s holds %zu objects",
		 NETNSD_VERSION, cfg->state_file, store_count(*ret));
	store_set_max_objects(*ret, cfg->max_objects);
	if (store_objects(*ret) > cfg->max_objects)
		log_warn(
			"the desired state holds %zu objects, more than --max-objects %zu: nothing is deleted, but creations are refused until there is room",
			store_objects(*ret), cfg->max_objects);
	return 0;
}

/* Everything up to serving: listeners bound as root, privileges dropped,
 * the state opened, the event stream and the kernel monitor started. */
static int main_start(const struct config *cfg, const sigset_t *stop,
		      struct store **store)
{
	struct timespec now;
	int r = loop_init(stop);

	if (r < 0) {
		log_error("cannot set up the main loop: %s", strerror(-r));
		return -1;
	}
	if (main_netlink(cfg) < 0 || http_prepare(cfg) < 0)
		return -1;
	/* Dropped before the state is opened: with --user its directory is
	 * the user's, so a file there is opened with the user's rights only
	 * (a symlink the user planted must not be followed as root). */
	if (privs_drop(cfg->user, cfg->netns_dir, cfg->state_file) < 0 ||
	    main_store(cfg, store) < 0)
		return -1;
	if (events_init(*store, cfg->events_history, cfg->events_buffer,
			cfg->max_subscribers) < 0)
		return -1;
	/* The microseconds since the epoch: past every id of every run
	 * before (a run tells far fewer than a million events a second),
	 * and exact as a number in a browser (below 2^53). */
	clock_gettime(CLOCK_REALTIME, &now);
	events_set_first_id((uint64_t)now.tv_sec * 1000000u +
			    (uint64_t)now.tv_nsec / 1000u);
	r = events_http_init();
	if (r < 0)
		log_warn(
			"cannot watch event streams for clients that go away (%s): they are found by the next heartbeat",
			strerror(-r));
	else
		loop_watch(r);
	/* Watching before the start-up reconcile: its repairs are events. */
	autoheal_set(cfg->reconcile_auto);
	watch_start(*store);
	return http_serve(*store) < 0 ? -1 : 0;
}

/* The clock of main_periodic(): whole seconds from the start, whatever
 * woke the loop, so that a connection's client that went away is found
 * within a second of going, as before the clock could stop. Milliseconds
 * to the next one, or -1 while it has no work. */
static long main_clock_ms(double start, bool armed)
{
	double now = main_seconds() - start;
	long ms = (long)((1.0 - (now - (double)(long)now)) * 1000) + 1;

	return armed ? ms : -1;
}

/* Retries what the start-up reconcile could not do yet, says ready when
 * converge.c does, and runs what has a deadline when it is due. Nothing
 * here runs on a clock while it has nothing to do: an idle daemon is
 * never woken. Returns the signal that stopped it. */
static int main_serve(struct store *store)
{
	double start = main_seconds(), second = 0;
	bool ready = false, armed = true;
	int sig;

	for (;;) {
		struct converge_status st;

		converge_status(&st);
		if (st.ready && !ready) {
			ready = true;
			notify_send("READY=1");
			log_info("ready");
		}
		sig = loop_wait(
			main_wait_ms(store, main_clock_ms(start, armed)));
		if (sig > 0)
			return sig;
		events_http_reap();
		converge_tick(store);
		confirm_tick(store);
		autoheal_tick(store);
		/* A wake-up may be a new connection: main_periodic()
		 * looks on the next second, and the clock stops there if
		 * it has no work (one wake-up more, at most). */
		armed = true;
		if ((double)(long)(main_seconds() - start) > second) {
			second = (double)(long)(main_seconds() - start);
			armed = main_periodic();
		}
	}
}

int main(int argc, char **argv)
{
	struct store *store = NULL;
	struct config cfg;
	sigset_t stop;
	int r, sig;

	r = config_parse(argc, argv, &cfg);
	if (r)
		return r > 0 ? 0 : 2;
	main_block_signals(&stop);
	main_raise_nofile();
	record_set_warn(main_record_warn);
	if (main_start(&cfg, &stop, &store) < 0) {
		store_free(store);
		return 1;
	}
	/* Serving already, so /healthz answers and /readyz says 503, while
	 * the topology comes back. */
	main_reconcile(store);
	sig = main_serve(store);
	log_info("stopping on %s", strsignal(sig));
	notify_send("STOPPING=1");
	http_stop();
	watch_stop();
	store_free(store);
	return 0;
}
