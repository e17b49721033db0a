/* dummy: a link that drops what it is given; no data. */
#include "kind.h"

const struct nl_kind nl_kind_dummy = {
	.name = "dummy",
	.fill = NULL,
	.parse = NULL,
	.parent_in_link = false,
};
