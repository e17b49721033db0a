#include "confirm.h"

#include <jansson.h>
#include <time.h>

#include "../state/apply_state.h"
#include "../state/store.h"
#include "http.h"
#include "../base/log.h"
#include "loop.h"
#include "watch.h"

/* A rollback that failed is tried again this much later, not at every
 * tick: its failure is logged each time. */
#define CONFIRM_RETRY_S 10

static time_t confirm_not_before;

/* The deadline of the apply waiting for confirmation, or 0. */
static time_t confirm_deadline(struct store *store, json_t **ret_previous)
{
	json_t *v = store_get(store, APPLY_STATE_CONFIRM_KEY);
	time_t t = 0;

	if (v)
		t = (time_t)json_integer_value(json_object_get(v, "deadline"));
	if (ret_previous)
		*ret_previous =
			v ? json_incref(json_object_get(v, "previous")) : NULL;
	json_decref(v);
	return t;
}

long confirm_wait_ms(struct store *store)
{
	time_t t = confirm_deadline(store, NULL), now = time(NULL);

	if (!t)
		return -1;
	if (t < confirm_not_before)
		t = confirm_not_before;
	return t <= now ? 0 : (long)(t - now) * 1000;
}

void confirm_armed(void)
{
	loop_wake();
}

static void confirm_forget(struct store_txn *t, void *arg)
{
	(void)arg;
	store_txn_del(t, APPLY_STATE_CONFIRM_KEY);
}

void confirm_tick(struct store *store)
{
	struct problem prob = PROBLEM_INIT;
	json_t *previous = NULL;
	struct plan p;
	time_t t;
	int r;

	if (confirm_wait_ms(store) != 0)
		return;
	http_mutations_lock();
	/* Confirmed, or rolled back, while the lock was awaited. */
	t = confirm_deadline(store, &previous);
	plan_init(&p);
	if (!t || !previous || t > time(NULL))
		goto out;
	watch_bulk_begin();
	r = apply_state_document(store, previous, false, confirm_forget, NULL,
				 &p, &prob);
	watch_bulk_end(NULL, r == 0);
	if (r < 0) {
		confirm_not_before = time(NULL) + CONFIRM_RETRY_S;
		log_error(
			"the apply was not confirmed in time, and rolling it back failed: %s (tried again in %d s)",
			prob.detail, CONFIRM_RETRY_S);
		goto out;
	}
	log_warn("the apply was not confirmed by its deadline: rolled back "
		 "(%zu changes)",
		 p.n);
out:
	http_mutations_unlock();
	plan_clear(&p);
	problem_clear(&prob);
	json_decref(previous);
}
