/* Reading and writing a network namespace's sysctls. The files under
 * /proc/sys/net belong to the network namespace of the thread that opens
 * them, so each access enters the namespace on the calling thread (setns,
 * as a netlink socket is opened inside one: netlink/sock.h), opens, reads
 * or writes, and comes straight back to the host namespace. Paths come
 * from state/sysctl_key.h, which checked every component. */
#ifndef NETNSD_NL_SYSCTL_H
#define NETNSD_NL_SYSCTL_H

#include <stddef.h>

/* Runs fn(userdata) inside namespace `ns` ("host": where the daemon is)
 * and returns what it returned. fn must only touch files (sysctl_file_*
 * below): the thread is in another namespace meanwhile. -ENOENT when
 * there is no such namespace. */
int nl_sysctl_in(const char *ns, int (*fn)(void *userdata), void *userdata);

/* Inside nl_sysctl_in(): the value of the file at `path` without its
 * newline, at most `len` - 1 bytes (-EOVERFLOW when longer: no key of the
 * allow-list has such values). -ENOENT when there is no such file (a link
 * that is not there, IPv6 off in the namespace). */
int nl_sysctl_file_read(const char *path, char *buf, size_t len);
/* Inside nl_sysctl_in(): writes `value` to the file at `path`; the
 * kernel's refusal as a negative errno. */
int nl_sysctl_file_write(const char *path, const char *value);

/* One read or write, entering and leaving the namespace for it. */
int nl_sysctl_read(const char *ns, const char *path, char *buf, size_t len);
int nl_sysctl_write(const char *ns, const char *path, const char *value);

#endif
