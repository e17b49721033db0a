/* The unit tests' one assertion: CHECK counts what passed and reports what
 * failed with its place, and check_report() ends a test's main(). */
#ifndef NETNSD_TESTS_CHECK_H
#define NETNSD_TESTS_CHECK_H

#include <stdio.h>

static int n_passed, n_failed;

#define CHECK(expr)                                                      \
	do {                                                             \
		if (expr) {                                              \
			n_passed++;                                      \
		} else {                                                 \
			n_failed++;                                      \
			fprintf(stderr, "%s:%d: FAILED: %s\n", __FILE__, \
				__LINE__, #expr);                        \
		}                                                        \
	} while (0)

/* Prints the tally; the test's exit status. */
static inline int check_report(void)
{
	printf("%d passed, %d failed\n", n_passed, n_failed);
	return n_failed != 0;
}

#endif
