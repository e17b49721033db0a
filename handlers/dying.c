#include "dying.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "../api/name.h"
#include "../netlink/link.h"

/* A small ring: a link is only dying for the moment the kernel takes to
 * finish a namespace's teardown. */
#define DYING_MAX     256
#define DYING_SECONDS 10

static struct {
	char ns[NAME_NS_MAX + 1];
	char name[IFNAMSIZ];
	int ifindex;
	time_t since;
} dying[DYING_MAX];
static unsigned dying_next;
static pthread_mutex_t dying_mu = PTHREAD_MUTEX_INITIALIZER;

void dying_add(const char *ns, const char *name, int ifindex)
{
	pthread_mutex_lock(&dying_mu);
	snprintf(dying[dying_next].ns, sizeof(dying[0].ns), "%s", ns);
	snprintf(dying[dying_next].name, sizeof(dying[0].name), "%s", name);
	dying[dying_next].ifindex = ifindex;
	dying[dying_next].since = time(NULL);
	dying_next = (dying_next + 1) % DYING_MAX;
	pthread_mutex_unlock(&dying_mu);
}

bool dying_is(const char *ns, const struct nl_link *l)
{
	time_t now = time(NULL);
	bool found = false;

	pthread_mutex_lock(&dying_mu);
	for (unsigned i = 0; i < DYING_MAX && !found; i++)
		found = dying[i].ifindex == l->ifindex &&
			now - dying[i].since <= DYING_SECONDS &&
			!strcmp(dying[i].name, l->name) &&
			!strcmp(dying[i].ns, ns);
	pthread_mutex_unlock(&dying_mu);
	return found;
}
