/* How many desired objects differ from the kernel right now: one dump of
 * links and addresses per namespace, whatever the number of objects. */
#ifndef NETNSD_DRIFT_H
#define NETNSD_DRIFT_H

#include <stddef.h>

#include "store.h"

int drift_count(struct store *s, size_t *ret);

#endif
