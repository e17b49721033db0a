#include "sysctl.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "../api/name.h"
#include "monitor.h"
#include "ns.h"
#include "sock.h"

int nl_sysctl_in(const char *ns, int (*fn)(void *userdata), void *userdata)
{
	int fd, r;

	if (name_is_host(ns))
		return fn(userdata);
	r = nl_ns_open_fd(ns, &fd);
	if (r < 0)
		return r;
	r = nl_enter(fd);
	close(fd);
	if (r < 0)
		return r;
	r = fn(userdata);
	/* Aborts rather than leave the thread in another namespace, where
	 * its next request would act on the wrong one. */
	nl_enter_host();
	return r;
}

int nl_sysctl_file_read(const char *path, char *buf, size_t len)
{
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	/* Up to `len` bytes: a value that leaves no room for the NUL is
	 * too long, and is told rather than cut. */
	do
		n = read(fd, buf, len);
	while (n < 0 && errno == EINTR);
	close(fd);
	if (n < 0)
		return -errno;
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
		n--;
	if ((size_t)n >= len)
		return -EOVERFLOW;
	buf[n] = '\0';
	return 0;
}

int nl_sysctl_file_write(const char *path, const char *value)
{
	size_t len = strlen(value);
	ssize_t n;
	int fd, r = 0, token;

	fd = open(path, O_WRONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	/* A change of netnsd's, as a netlink request is (netlink/monitor.h):
	 * the kernel queues the notification of a value it tells of
	 * (RTM_NEWNETCONF) before the write returns. */
	token = monitor_own_begin(0, 0);
	do
		n = write(fd, value, len);
	while (n < 0 && errno == EINTR);
	monitor_own_end(token);
	if (n < 0)
		r = -errno;
	else if ((size_t)n != len)
		r = -EIO;
	if (close(fd) < 0 && r == 0)
		r = -errno;
	return r;
}

struct nl_sysctl_io {
	const char *path;
	char *buf;
	size_t len;
	const char *value;
};

static int nl_sysctl_read_fn(void *userdata)
{
	struct nl_sysctl_io *io = userdata;

	return nl_sysctl_file_read(io->path, io->buf, io->len);
}

static int nl_sysctl_write_fn(void *userdata)
{
	struct nl_sysctl_io *io = userdata;

	return nl_sysctl_file_write(io->path, io->value);
}

int nl_sysctl_read(const char *ns, const char *path, char *buf, size_t len)
{
	struct nl_sysctl_io io = { .path = path, .buf = buf, .len = len };

	return nl_sysctl_in(ns, nl_sysctl_read_fn, &io);
}

int nl_sysctl_write(const char *ns, const char *path, const char *value)
{
	struct nl_sysctl_io io = { .path = path, .value = value };

	return nl_sysctl_in(ns, nl_sysctl_write_fn, &io);
}
