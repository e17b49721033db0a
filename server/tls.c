#include "tls.h"

#include <gnutls/x509.h>
#include <string.h>

#include "../base/log.h"

int tls_priority_check(const char *priority)
{
	gnutls_priority_t cache;
	const char *err_pos = NULL;
	int r = gnutls_priority_init(&cache, priority, &err_pos);

	if (r < 0) {
		log_error("--tls-priority '%s' is not a valid GnuTLS priority "
			  "string (%s, at '%s')",
			  priority, gnutls_strerror(r),
			  err_pos ? err_pos : priority);
		return -1;
	}
	gnutls_priority_deinit(cache);
	return 0;
}

/* Whether a certificate's extended key usage allows TLS client
 * authentication. anyExtendedKeyUsage alone is not enough, as OpenSSL
 * decides too: a certificate meant for a client says so. */
static bool tls_crt_is_client(gnutls_x509_crt_t crt)
{
	char oid[128];
	size_t size;
	int r;

	for (unsigned i = 0;; i++) {
		size = sizeof(oid);
		r = gnutls_x509_crt_get_key_purpose_oid(crt, i, oid, &size,
							NULL);
		if (r == GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE)
			return i == 0; /* no extension at all: any purpose */
		if (r == GNUTLS_E_SHORT_MEMORY_BUFFER)
			continue; /* too long to be the one we look for */
		if (r < 0)
			return false;
		if (!strcmp(oid, GNUTLS_KP_TLS_WWW_CLIENT))
			return true;
	}
}

bool tls_peer_is_client(gnutls_session_t session)
{
	const gnutls_datum_t *certs;
	gnutls_x509_crt_t crt;
	unsigned n = 0;
	bool ok;

	certs = gnutls_certificate_get_peers(session, &n);
	if (!certs || !n || gnutls_x509_crt_init(&crt) < 0)
		return false;
	ok = gnutls_x509_crt_import(crt, &certs[0], GNUTLS_X509_FMT_DER) >= 0 &&
	     tls_crt_is_client(crt);
	gnutls_x509_crt_deinit(crt);
	return ok;
}
