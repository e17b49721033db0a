/* Unit tests of netlink/link_index.c: every link is found by name and by
 * ifindex, absent ones are not, and duplicates resolve to the first, as the
 * linear scan it replaces did. */
#include <stdio.h>
#include <string.h>

#include "netlink/link_index.h"

#include "check.h"

#define N 3000

static struct nl_link links[N];

static void test_many(void)
{
	struct link_index x;
	char name[IFNAMSIZ];
	int found = 0;

	for (int i = 0; i < N; i++) {
		snprintf(links[i].name, sizeof(links[i].name), "v%d", i);
		/* Sparse, and sharing low bits, as real ifindexes do. */
		links[i].ifindex = 1 + i * 64;
	}
	CHECK(link_index_build(&x, links, N) == 0);
	for (int i = 0; i < N; i++) {
		snprintf(name, sizeof(name), "v%d", i);
		found += link_index_name(&x, name) == &links[i];
		found += link_index_ifindex(&x, 1 + i * 64) == &links[i];
	}
	CHECK(found == 2 * N);
	CHECK(link_index_name(&x, "v3000") == NULL);
	CHECK(link_index_name(&x, "") == NULL);
	CHECK(link_index_name(&x, "v1 ") == NULL);
	CHECK(link_index_ifindex(&x, 0) == NULL);
	CHECK(link_index_ifindex(&x, 2) == NULL);
	CHECK(link_index_ifindex(&x, -1) == NULL);
	link_index_clear(&x);
	/* A cleared index finds nothing, and clearing twice is harmless. */
	CHECK(link_index_name(&x, "v1") == NULL);
	CHECK(link_index_ifindex(&x, 1) == NULL);
	link_index_clear(&x);
	link_index_clear(NULL);
}

static void test_duplicates_and_empty(void)
{
	struct nl_link d[3];
	struct link_index x;

	memset(d, 0, sizeof(d));
	strcpy(d[0].name, "eth0");
	d[0].ifindex = 7;
	strcpy(d[1].name, "eth0");
	d[1].ifindex = 8;
	strcpy(d[2].name, "eth1");
	d[2].ifindex = 7;
	CHECK(link_index_build(&x, d, 3) == 0);
	CHECK(link_index_name(&x, "eth0") == &d[0]);
	CHECK(link_index_name(&x, "eth1") == &d[2]);
	CHECK(link_index_ifindex(&x, 7) == &d[0]);
	CHECK(link_index_ifindex(&x, 8) == &d[1]);
	link_index_clear(&x);

	CHECK(link_index_build(&x, NULL, 0) == 0);
	CHECK(link_index_name(&x, "lo") == NULL);
	CHECK(link_index_ifindex(&x, 1) == NULL);
	link_index_clear(&x);
}

int main(void)
{
	test_many();
	test_duplicates_and_empty();
	return check_report();
}
