/* dummy: no options (openapi/openapi.yaml, "LinkCreate"). */
#include "link_kind.h"

const struct link_kind link_kind_dummy = {
	.name = "dummy",
	.kind = RECORD_KIND_DUMMY,
};
