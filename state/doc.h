/* The whole desired state as one document (openapi/openapi.yaml, State):
 * what GET /v1/state answers and PUT /v1/state takes. Reading one checks it
 * whole before anything is planned, and says every problem at once, each
 * with a JSON pointer to the offending entry ("/links/3/peer"): names,
 * values, duplicates, a veth end without its peer, a namespace, a bridge or
 * a link that the document names but does not declare. */
#ifndef NETNSD_DOC_H
#define NETNSD_DOC_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "../api/problem.h"
#include "../api/value.h"
#include "record.h"
#include "sysctl_doc.h"

struct doc_ns {
	const char *name;
	size_t index; /* in the document's array */
};

struct doc_link {
	const char *ns, *name;
	struct record_link rec; /* strings point into the document */
	size_t index;
};

struct doc_addr {
	const char *ns, *link;
	struct cidr cidr;
	char text[64]; /* canonical "ip/len" */
	struct record_addr opts;
	size_t index;
};

struct doc_route {
	const char *ns;
	struct record_route rec; /* strings point into the document */
	size_t index;
};

struct doc {
	json_t *root; /* a reference: the strings above point into it */
	json_t *keep; /* the records' parts, which their strings point into */
	struct doc_ns *ns;
	size_t n_ns;
	struct doc_link *links;
	size_t n_links;
	struct doc_addr *addrs;
	size_t n_addrs;
	/* The same entries sorted by name (then by place in the document),
	 * for lookups in O(log n): a document of thousands of entries is
	 * checked and planned without a scan per entry. */
	const struct doc_ns **ns_sorted;
	const struct doc_link **links_sorted;
	const struct doc_addr **addrs_sorted;
	struct doc_route *routes;
	size_t n_routes;
	struct doc_sysctl *sysctls; /* state/sysctl_doc.h */
	size_t n_sysctls;
};

/* Reads and checks `root`. 0, or a 400 problem listing every error found
 * (and `d` then empty). The document's members only the server sets
 * ("revision", a link's "owned") are ignored: a link with a kind is one
 * netnsd makes, a link without one a record of attributes of a link made
 * elsewhere. */
int doc_parse(json_t *root, struct doc *d, struct problem *prob);
void doc_free(struct doc *d);

/* The entries by name, or NULL; of two under one name, the first in the
 * document. */
const struct doc_link *doc_link_find(const struct doc *d, const char *ns,
				     const char *name);
bool doc_has_ns(const struct doc *d, const char *ns);
/* Whether the document has the address `text` (canonical "ip/len") on
 * ns/link. */
bool doc_has_addr(const struct doc *d, const char *ns, const char *link,
		  const char *text);

#endif
