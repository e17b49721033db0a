#include "ns.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>
#include <linux/magic.h>
#include <linux/rtnetlink.h>

#include "../api/name.h"
#include "link.h"
#include "monitor.h"
#include "ns_mark.h"

#define NL_NS_IDLE_MAX 4

struct nl_ns_entry {
	struct nl_ns_entry *next;
	char name[NAME_NS_MAX + 1];
	dev_t dev;
	ino_t ino;
	uint64_t gen;
	struct nl_sock *idle[NL_NS_IDLE_MAX];
	int n_idle;
	/* The namespace's link names by ifindex, from one dump, good while
	 * `watch` (subscribed to link notifications before the dump) has
	 * heard of no change. */
	struct nl_sock *watch;
	struct nl_ns_name *names; /* sorted by ifindex; NULL: none */
	size_t n_names;
};

static char nl_ns_dirname[PATH_MAX] = "/run/netns";
static pthread_mutex_t nl_ns_mu = PTHREAD_MUTEX_INITIALIZER;
static struct nl_ns_entry *nl_ns_entries;
static uint64_t nl_ns_gen;
static bool nl_ns_dir_shared;
static const char *nl_ns_stall_name;

void nl_ns_test_stall(const char *ns)
{
	nl_ns_stall_name = ns;
}

int nl_ns_init(const char *netns_dir)
{
	if (strlen(netns_dir) >= sizeof(nl_ns_dirname) - NAME_NS_MAX - 2)
		return -ENAMETOOLONG;
	snprintf(nl_ns_dirname, sizeof(nl_ns_dirname), "%s", netns_dir);
	return nl_host_init();
}

const char *nl_ns_dir(void)
{
	return nl_ns_dirname;
}

int nl_ns_path(const char *ns, char *buf, size_t len)
{
	if (name_is_host(ns) || name_check_namespace(ns))
		return -EINVAL;
	if ((size_t)snprintf(buf, len, "%s/%s", nl_ns_dirname, ns) >= len)
		return -ENAMETOOLONG;
	return 0;
}

/* The file that names `ns` (its device and inode): -EINVAL for a name
 * that is no namespace name, -ENOENT for any other reason it is not one
 * (absent, unreadable, not a regular file). */
static int nl_ns_identity(const char *ns, dev_t *dev, ino_t *ino)
{
	char path[PATH_MAX];
	struct stat st;
	int r;

	if (name_is_host(ns)) {
		if (fstat(nl_host_fd(), &st) < 0)
			return -ENOENT;
	} else {
		r = nl_ns_path(ns, path, sizeof(path));
		if (r < 0)
			return r == -EINVAL ? r : -ENOENT;
		if (lstat(path, &st) < 0)
			return -ENOENT;
		if (!S_ISREG(st.st_mode))
			return -ENOENT; /* a symlink or anything else is none */
	}
	*dev = st.st_dev;
	*ino = st.st_ino;
	return 0;
}

static void nl_ns_entry_close_idle(struct nl_ns_entry *e)
{
	while (e->n_idle > 0)
		nl_sock_close(e->idle[--e->n_idle]);
	/* The watch is a socket in the namespace too: it goes with them. */
	nl_sock_close(e->watch);
	e->watch = NULL;
	free(e->names);
	e->names = NULL;
	e->n_names = 0;
}

static struct nl_ns_entry *nl_ns_find_locked(const char *ns, bool create)
{
	struct nl_ns_entry *e;

	for (e = nl_ns_entries; e; e = e->next)
		if (!strcmp(e->name, ns))
			return e;
	if (!create)
		return NULL;
	e = calloc(1, sizeof(*e));
	if (!e)
		return NULL;
	snprintf(e->name, sizeof(e->name), "%s", ns);
	e->gen = ++nl_ns_gen;
	e->next = nl_ns_entries;
	nl_ns_entries = e;
	return e;
}

/* The entry of `ns` as the namespace it now names (dev, ino): one that named
 * another before (replaced behind our back) starts over, its sockets closed
 * and its generation new, so sockets out in use are not taken back. */
static struct nl_ns_entry *nl_ns_entry_locked(const char *ns, dev_t dev,
					      ino_t ino)
{
	struct nl_ns_entry *e = nl_ns_find_locked(ns, true);

	if (e && (e->dev != dev || e->ino != ino)) {
		nl_ns_entry_close_idle(e);
		e->dev = dev;
		e->ino = ino;
		e->gen = ++nl_ns_gen;
	}
	return e;
}

/* Closes the pooled sockets of namespaces that vanished or were replaced
 * behind our back, so the pool never keeps a deleted namespace alive:
 * every entry, or only that of `only`. */
static void nl_ns_sweep_locked(const char *only)
{
	struct nl_ns_entry **pe = &nl_ns_entries, *e;
	dev_t dev;
	ino_t ino;

	while ((e = *pe)) {
		if ((!only || !strcmp(e->name, only)) &&
		    !name_is_host(e->name) &&
		    (nl_ns_identity(e->name, &dev, &ino) < 0 || dev != e->dev ||
		     ino != e->ino)) {
			nl_ns_entry_close_idle(e);
			*pe = e->next;
			free(e);
			continue;
		}
		pe = &e->next;
	}
}

void nl_ns_sweep(void)
{
	pthread_mutex_lock(&nl_ns_mu);
	nl_ns_sweep_locked(NULL);
	pthread_mutex_unlock(&nl_ns_mu);
}

void nl_ns_sweep_one(const char *ns)
{
	pthread_mutex_lock(&nl_ns_mu);
	nl_ns_sweep_locked(ns);
	pthread_mutex_unlock(&nl_ns_mu);
}

int nl_ns_open_fd(const char *ns, int *ret_fd)
{
	char path[PATH_MAX];
	struct statfs sfs;
	int fd, r;

	if (name_is_host(ns)) {
		fd = fcntl(nl_host_fd(), F_DUPFD_CLOEXEC, 0);
		if (fd < 0)
			return -errno;
		*ret_fd = fd;
		return 0;
	}
	r = nl_ns_path(ns, path, sizeof(path));
	if (r < 0)
		return r;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return errno == ELOOP ? -ENOENT : -errno;
	/* A file left without its mount (after a reboot, say) is no
	 * namespace. */
	if (fstatfs(fd, &sfs) < 0 || sfs.f_type != NSFS_MAGIC) {
		close(fd);
		return -ENOENT;
	}
	*ret_fd = fd;
	return 0;
}

int nl_ns_probe(const char *ns)
{
	int fd, r;

	if (name_is_host(ns))
		return 1;
	r = nl_ns_open_fd(ns, &fd);
	if (r == -ENOENT)
		return 0;
	if (r < 0)
		return r;
	close(fd);
	return 1;
}

bool nl_ns_exists(const char *ns)
{
	return nl_ns_probe(ns) > 0;
}

/* A new netlink socket inside `ns`. */
static int nl_ns_sock_open(const char *ns, struct nl_sock **ret)
{
	int fd, r;

	r = nl_ns_open_fd(ns, &fd);
	if (r < 0)
		return r;
	r = nl_sock_open(fd, ret);
	close(fd);
	return r;
}

int nl_ns_get(const char *ns, struct nl_sock **ret)
{
	struct nl_ns_entry *e;
	struct nl_sock *s = NULL;
	uint64_t gen;
	dev_t dev;
	ino_t ino;
	int r;

	r = nl_ns_identity(ns, &dev, &ino);
	if (r < 0)
		return r;

	pthread_mutex_lock(&nl_ns_mu);
	e = nl_ns_entry_locked(ns, dev, ino);
	if (!e) {
		pthread_mutex_unlock(&nl_ns_mu);
		return -ENOMEM;
	}
	if (e->n_idle > 0)
		s = e->idle[--e->n_idle];
	gen = e->gen;
	pthread_mutex_unlock(&nl_ns_mu);
	if (!s) {
		r = nl_ns_sock_open(ns, &s);
		if (r < 0)
			return r;
		s->gen = gen;
	}
	/* Marked as handed out, pooled or new alike: the socket that made
	 * the namespace (nl_ns_add) answers, so that it can be made. */
	s->stall = nl_ns_stall_name && !strcmp(ns, nl_ns_stall_name);
	*ret = s;
	return 0;
}

/* A socket opened inside `ns` by its maker goes to the pool, as if it had
 * been got and put back; `st` is the namespace the socket is in, so that
 * a file replaced meanwhile is told apart by the next nl_ns_get(). */
static void nl_ns_pool_add(const char *ns, struct nl_sock *s,
			   const struct stat *st)
{
	struct nl_ns_entry *e;

	pthread_mutex_lock(&nl_ns_mu);
	e = nl_ns_entry_locked(ns, st->st_dev, st->st_ino);
	if (e && e->n_idle < NL_NS_IDLE_MAX) {
		s->gen = e->gen;
		e->idle[e->n_idle++] = s;
		s = NULL;
	}
	pthread_mutex_unlock(&nl_ns_mu);
	nl_sock_close(s);
}

void nl_ns_put(const char *ns, struct nl_sock *s)
{
	struct nl_ns_entry *e;

	if (!s)
		return;
	pthread_mutex_lock(&nl_ns_mu);
	e = nl_ns_find_locked(ns, false);
	if (e && !s->dirty && e->gen == s->gen && e->n_idle < NL_NS_IDLE_MAX) {
		e->idle[e->n_idle++] = s;
		s = NULL;
	}
	pthread_mutex_unlock(&nl_ns_mu);
	nl_sock_close(s);
}

static int nl_ns_name_cmp(const void *a, const void *b)
{
	const struct nl_ns_name *x = a, *y = b;

	return (x->ifindex > y->ifindex) - (x->ifindex < y->ifindex);
}

int nl_ns_name_find(const struct nl_ns_name *names, size_t n, int ifindex,
		    char *ret_name)
{
	struct nl_ns_name key = { .ifindex = ifindex };
	const struct nl_ns_name *hit;

	hit = bsearch(&key, names, n, sizeof(*names), nl_ns_name_cmp);
	if (!hit)
		return -ENODEV;
	memcpy(ret_name, hit->name, IFNAMSIZ);
	return 0;
}

/* A copy of the cached names, if the watch heard of no change since the
 * dump: -EAGAIN when there are none to give. Called with nl_ns_mu held. */
static int nl_ns_cached_names_locked(struct nl_ns_entry *e,
				     struct nl_ns_name **ret, size_t *ret_n)
{
	struct nl_ns_name *copy;
	int r;

	if (!e->watch || !e->names)
		return -EAGAIN;
	r = nl_sock_drain(e->watch);
	if (r != 0) {
		free(e->names);
		e->names = NULL;
		e->n_names = 0;
		if (r < 0) {
			nl_sock_close(e->watch);
			e->watch = NULL;
		}
		return -EAGAIN;
	}
	copy = malloc((e->n_names ? e->n_names : 1) * sizeof(*copy));
	if (!copy)
		return -ENOMEM;
	memcpy(copy, e->names, e->n_names * sizeof(*copy));
	*ret = copy;
	*ret_n = e->n_names;
	return 0;
}

/* One dump of the namespace's links, as names sorted by ifindex. */
static int nl_ns_names_dump(const char *ns, struct nl_ns_name **ret,
			    size_t *ret_n)
{
	struct nl_ns_name *names;
	struct nl_sock *s = NULL;
	struct nl_link *links = NULL;
	size_t n = 0;
	int r;

	r = nl_ns_get(ns, &s);
	if (r < 0)
		return r;
	r = nl_link_dump(s, &links, &n);
	nl_ns_put(ns, s);
	if (r < 0)
		return r;
	names = calloc(n ? n : 1, sizeof(*names));
	if (!names) {
		free(links);
		return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		names[i].ifindex = links[i].ifindex;
		memcpy(names[i].name, links[i].name, IFNAMSIZ);
	}
	free(links);
	qsort(names, n, sizeof(*names), nl_ns_name_cmp);
	*ret = names;
	*ret_n = n;
	return 0;
}

int nl_ns_link_names(const char *ns, struct nl_ns_name **ret, size_t *ret_n)
{
	struct nl_ns_name *names = NULL, *keep = NULL;
	struct nl_sock *watch = NULL;
	struct nl_ns_entry *e;
	uint64_t gen = 0;
	size_t n = 0;
	dev_t dev;
	ino_t ino;
	int r;

	r = nl_ns_identity(ns, &dev, &ino);
	if (r < 0)
		return r;
	pthread_mutex_lock(&nl_ns_mu);
	e = nl_ns_find_locked(ns, false);
	if (e && e->dev == dev && e->ino == ino) {
		r = nl_ns_cached_names_locked(e, ret, ret_n);
		if (r != -EAGAIN) {
			pthread_mutex_unlock(&nl_ns_mu);
			return r;
		}
		gen = e->gen;
		/* Still subscribed: what changes from now on, during the
		 * dump too, it hears. */
		watch = e->watch;
		e->watch = NULL;
	}
	pthread_mutex_unlock(&nl_ns_mu);

	if (!watch) {
		/* Subscribed before the dump, or a change in between would
		 * go unheard. */
		r = nl_ns_sock_open(ns, &watch);
		if (r == 0)
			r = nl_sock_watch_links(watch);
		if (r < 0) {
			nl_sock_close(watch);
			watch = NULL;
		}
	}
	r = nl_ns_names_dump(ns, &names, &n);
	if (r < 0) {
		nl_sock_close(watch);
		return r;
	}
	if (watch) {
		keep = malloc((n ? n : 1) * sizeof(*keep));
		if (keep)
			memcpy(keep, names, n * sizeof(*keep));
	}

	/* Kept for the next callers if the namespace is still the one
	 * dumped and no other thread kept names meanwhile. */
	pthread_mutex_lock(&nl_ns_mu);
	e = nl_ns_find_locked(ns, false);
	if (keep && e && e->dev == dev && e->ino == ino &&
	    (!gen || e->gen == gen) && !e->watch) {
		e->watch = watch;
		e->names = keep;
		e->n_names = n;
		watch = NULL;
		keep = NULL;
	}
	pthread_mutex_unlock(&nl_ns_mu);
	nl_sock_close(watch);
	free(keep);
	*ret = names;
	*ret_n = n;
	return 0;
}

void nl_ns_forget(const char *ns)
{
	struct nl_ns_entry *e;

	/* The event monitor's socket is one more that would keep it. */
	monitor_ns_gone(ns);

	pthread_mutex_lock(&nl_ns_mu);
	e = nl_ns_find_locked(ns, false);
	if (e) {
		nl_ns_entry_close_idle(e);
		e->gen = ++nl_ns_gen;
		e->dev = 0;
		e->ino = 0;
	}
	pthread_mutex_unlock(&nl_ns_mu);
}

/* As ip netns does: the directory becomes a shared mount point so that a
 * namespace mounted here is seen in every mount namespace that shares it. */
static int nl_ns_dir_prepare(void)
{
	int r = 0;

	pthread_mutex_lock(&nl_ns_mu);
	if (nl_ns_dir_shared)
		goto out;
	if (mkdir(nl_ns_dirname, 0755) < 0 && errno != EEXIST) {
		r = -errno;
		goto out;
	}
	if (mount("", nl_ns_dirname, "none", MS_SHARED | MS_REC, NULL) < 0) {
		if (errno != EINVAL) {
			r = -errno;
			goto out;
		}
		if (mount(nl_ns_dirname, nl_ns_dirname, "none",
			  MS_BIND | MS_REC, NULL) < 0 ||
		    mount("", nl_ns_dirname, "none", MS_SHARED | MS_REC, NULL) <
			    0) {
			r = -errno;
			goto out;
		}
	}
	nl_ns_dir_shared = true;
out:
	pthread_mutex_unlock(&nl_ns_mu);
	return r;
}

/* The netns directory, to reach its files by name with *at() calls: never
 * through a symlink put in place of the directory itself. */
static int nl_ns_dir_open(void)
{
	int fd = open(nl_ns_dirname,
		      O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

	return fd < 0 ? -errno : fd;
}

/* Whether `ns` in the directory is the file `st` describes, itself and not
 * a symlink or another file put under its name. */
static bool nl_ns_is(int dirfd, const char *ns, const struct stat *st)
{
	struct stat now;

	return fstatat(dirfd, ns, &now, AT_SYMLINK_NOFOLLOW) == 0 &&
	       now.st_dev == st->st_dev && now.st_ino == st->st_ino;
}

/* Makes the namespace's file and returns it open: O_EXCL never follows a
 * symlink, and the descriptor, not the name, is what gets mounted on. */
static int nl_ns_file_create(int dirfd, const char *ns)
{
	const int flags = O_RDONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC;
	struct stat st;
	int fd;

	fd = openat(dirfd, ns, flags, 0);
	if (fd >= 0 || errno != EEXIST || nl_ns_exists(ns))
		return fd < 0 ? -errno : fd;
	/* A plain file with nothing mounted on it is what a crash or a reboot
	 * leaves: no namespace, so it may be replaced. */
	if (fstatat(dirfd, ns, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
	    !S_ISREG(st.st_mode) || unlinkat(dirfd, ns, 0) < 0)
		return -EEXIST;
	fd = openat(dirfd, ns, flags, 0);
	return fd < 0 ? -errno : fd;
}

/* Creates `ns` as `ip netns add` does, but mounts through the descriptor of
 * the file it made (/proc/self/fd/N): whoever can write the directory (the
 * --user account, README.md "Securing netnsd") may swap the name for a
 * symlink between the creation and the mount, and a mount by name would
 * follow it and cover a file of their choice. The name is then checked to
 * lead to the new namespace; if it does not, the mount is taken back. */
int nl_ns_add(const char *ns)
{
	char path[PATH_MAX], self[64], target[64];
	struct nl_sock *s = NULL;
	struct stat file = { 0 }, made; /* the file made, the namespace */
	bool mounted = false;
	int dirfd = -1, fd = -1, r, token;

	r = nl_ns_path(ns, path, sizeof(path));
	if (r < 0)
		return r;
	/* The namespace appearing is netnsd's doing, for the event
	 * monitor (netlink/monitor.c), until it watches it itself. */
	token = monitor_own_begin(0, 0);
	r = nl_ns_dir_prepare();
	if (r < 0)
		goto out;
	dirfd = nl_ns_dir_open();
	if (dirfd < 0) {
		r = dirfd;
		goto out;
	}
	fd = nl_ns_file_create(dirfd, ns);
	if (fd < 0) {
		r = fd;
		goto out;
	}
	if (fstat(fd, &file) < 0) {
		r = -errno;
		goto fail_unlink;
	}

	/* A fresh namespace for this thread only, pinned by the bind mount;
	 * its first socket is opened while the thread is in it, then straight
	 * back to the host namespace. */
	if (unshare(CLONE_NEWNET) < 0) {
		r = -errno;
		goto fail_unlink;
	}
	snprintf(self, sizeof(self), "/proc/self/task/%ld/ns/net",
		 (long)gettid());
	snprintf(target, sizeof(target), "/proc/self/fd/%d", fd);
	/* Marked (README.md, "Ownership") and lo up before the mount gives
	 * it a name: a crash before the mount takes the namespace with the
	 * thread, so no namespace netnsd made is ever seen unmarked. */
	r = nl_sock_open(NL_SOCK_HERE, &s);
	if (r == 0)
		r = nl_ns_mark_set(s, 1);
	if (r == 0) {
		mounted = mount(self, target, "none", MS_BIND, NULL) == 0;
		r = mounted ? 0 : -errno;
	}
	if (r == 0 && stat(self, &made) < 0)
		r = -errno;
	nl_enter_host();
	if (r == 0 && !nl_ns_is(dirfd, ns, &made))
		r = -EEXIST; /* the name is no longer the file made */
	if (r < 0)
		goto fail;

	nl_ns_pool_add(ns, s, &made);
	monitor_ns_added(ns);
	goto out;

fail:
	nl_sock_close(s);
	if (mounted) {
		nl_ns_forget(ns);
		/* Through the descriptor too: the mount on the file made. */
		umount2(target, MNT_DETACH);
	}
fail_unlink:
	if (nl_ns_is(dirfd, ns, &file))
		unlinkat(dirfd, ns, 0);
	else
		r = -EEXIST; /* swapped: the name is someone else's now */
out:
	if (fd >= 0)
		close(fd);
	if (dirfd >= 0)
		close(dirfd);
	monitor_own_end(token);
	return r;
}

int nl_ns_del(const char *ns)
{
	char path[PATH_MAX];
	int dirfd, r;

	r = nl_ns_path(ns, path, sizeof(path));
	if (r < 0)
		return r;
	/* While the namespace still answers: which far ends go with it. */
	monitor_ns_deleting(ns);
	nl_ns_forget(ns);
	/* Never through a symlink: it could point at any mount point. */
	if (umount2(path, MNT_DETACH | UMOUNT_NOFOLLOW) < 0 &&
	    errno != EINVAL) {
		r = -errno;
		if (r == -ENOENT)
			return r;
	}
	dirfd = nl_ns_dir_open();
	if (dirfd < 0)
		return dirfd;
	r = unlinkat(dirfd, ns, 0) < 0 ? -errno : 0;
	close(dirfd);
	/* A reader that ran between the first forget and the unmount (reads
	 * take no lock) may have pooled a socket in the namespace, which
	 * would keep it, and its veths' far ends, alive until the sweep. */
	nl_ns_forget(ns);
	return r;
}

static int nl_ns_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int nl_ns_list(char ***ret_names, size_t *ret_n)
{
	char **names = NULL, **grown;
	size_t n = 0, cap = 0;
	struct dirent *de;
	DIR *d;

	d = opendir(nl_ns_dirname);
	if (!d) {
		if (errno == ENOENT) {
			*ret_names = NULL;
			*ret_n = 0;
			return 0;
		}
		return -errno;
	}
	while ((de = readdir(d))) {
		if (name_check_namespace(de->d_name) ||
		    name_is_host(de->d_name))
			continue;
		if (de->d_type != DT_REG && de->d_type != DT_UNKNOWN)
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 16;
			grown = realloc(names, cap * sizeof(*names));
			if (!grown)
				goto nomem;
			names = grown;
		}
		names[n] = strdup(de->d_name);
		if (!names[n])
			goto nomem;
		n++;
	}
	closedir(d);
	if (n)
		qsort(names, n, sizeof(*names), nl_ns_cmp);
	*ret_names = names;
	*ret_n = n;
	return 0;
nomem:
	closedir(d);
	nl_ns_list_free(names, n);
	return -ENOMEM;
}

void nl_ns_list_free(char **names, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
}
