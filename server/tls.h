/* TLS policy: which protocol versions and ciphers are offered, and which
 * client certificates are good for client authentication. */
#ifndef NETNSD_TLS_H
#define NETNSD_TLS_H

#include <gnutls/gnutls.h>
#include <stdbool.h>

/* TLS 1.2 and 1.3 only, AEAD ciphers with forward secrecy only (README,
 * Security); --tls-priority replaces it. */
#define TLS_PRIORITY_DEFAULT                                           \
	"SECURE128:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2:-CIPHER-ALL:"   \
	"+AES-256-GCM:+AES-128-GCM:+CHACHA20-POLY1305:-MAC-ALL:+AEAD:" \
	"-KX-ALL:+ECDHE-ECDSA:+ECDHE-RSA:+DHE-RSA:%SERVER_PRECEDENCE"

/* 0 if GnuTLS accepts the priority string; else -1, with the reason and
 * where in the string it is logged. */
int tls_priority_check(const char *priority);

/* True if the peer's certificate may be used to authenticate a client:
 * its extended key usage names clientAuth, or it has no such extension
 * (RFC 5280, 4.2.1.12: no extension means any purpose). Its chain must be
 * checked separately (gnutls_certificate_verify_peers2). */
bool tls_peer_is_client(gnutls_session_t session);

#endif
