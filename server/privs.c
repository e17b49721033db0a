#include "privs.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/capability.h>

#include "../base/log.h"

/* The overflow id: what the kernel shows for ids a user namespace does not
 * map, and the id of `nobody`. */
#define PRIVS_OVERFLOW_ID 65534

static const int privs_keep[] = { CAP_NET_ADMIN, CAP_SYS_ADMIN };

/* The --user account, copied out of getpwnam()'s buffer, which the next
 * getpwuid() (naming a directory's owner) overwrites. */
struct privs_user {
	const char *name;
	uid_t uid;
	gid_t gid;
};

static bool privs_kept(int cap)
{
	return cap == CAP_NET_ADMIN || cap == CAP_SYS_ADMIN;
}

/* Why `u` cannot be netnsd's --user, or NULL. An account other services
 * share would own netnsd's state and namespaces along with them. */
static const char *privs_shared(const struct privs_user *u)
{
	if (u->uid == 0)
		return "it is root: without --user netnsd runs as root, and with it as root it would drop nothing";
	if (u->gid == 0)
		return "its group is root's (gid 0), which owns files throughout the system";
	if (u->uid == PRIVS_OVERFLOW_ID || !strcmp(u->name, "nobody"))
		return "nobody is shared by design: other services run as it, and the kernel shows every id a user namespace does not map as it, so all of them would own netnsd's state and namespaces";
	if (u->gid == PRIVS_OVERFLOW_ID)
		return "its group is the overflow group (65534, nogroup), shared by design";
	return NULL;
}

/* mkdir -p: the directories above, if missing, as `mkdir -p` makes them;
 * the last with `mode`. *made says whether this call made the last. */
static int privs_mkdir(const char *path, mode_t mode, bool *made)
{
	char buf[PATH_MAX];
	size_t len;

	*made = false;
	len = strlen(path);
	while (len > 1 && path[len - 1] == '/')
		len--; /* "dir/" is "dir", made here, not in the loop */
	if (len >= sizeof(buf))
		return -ENAMETOOLONG;
	memcpy(buf, path, len);
	buf[len] = '\0';
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, 0755) < 0 && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(buf, mode) == 0)
		*made = true;
	else if (errno != EEXIST)
		return -errno;
	return 0;
}

/* Refuses a directory others may write: they could plant or swap the files
 * netnsd trusts there (README.md "Securing netnsd"). The service's own
 * group may write it. */
static int privs_dir_check_mode(const char *what, const char *path,
				const struct stat *st, gid_t gid)
{
	struct group *gr;

	if (st->st_mode & S_IWOTH) {
		log_error(
			"%s %s is writable by every user (mode %04o): they could plant or swap the files netnsd trusts there; chmod o-w it, or use a directory of its own",
			what, path, (unsigned)(st->st_mode & 07777));
		return -1;
	}
	if ((st->st_mode & S_IWGRP) && st->st_gid != gid) {
		gr = getgrgid(st->st_gid);
		log_error(
			"%s %s is writable by group %s (mode %04o), which netnsd does not run as: its members could plant or swap the files netnsd trusts there; chmod g-w it, or use a directory of its own",
			what, path, gr ? gr->gr_name : "(unknown)",
			(unsigned)(st->st_mode & 07777));
		return -1;
	}
	return 0;
}

/* A --user directory: made now (and given to the user at once, so that a
 * failure later leaves it fit for the next start), or the user's already.
 * A directory someone else owns is never given away: `--state-file
 * /var/lib/x.json` must not hand /var/lib to the user. Returns an open
 * descriptor of it. */
static int privs_dir_own(const char *what, const char *path, mode_t mode,
			 const struct privs_user *u)
{
	struct stat st;
	bool made;
	int fd, r;

	r = privs_mkdir(path, mode, &made);
	if (r < 0) {
		log_error("%s %s cannot be made: %s", what, path, strerror(-r));
		return -1;
	}
	/* A directory just made is opened without following a symlink, so
	 * one put in its place meanwhile is not what gets given. */
	fd = open(path,
		  O_RDONLY | O_DIRECTORY | O_CLOEXEC | (made ? O_NOFOLLOW : 0));
	if (fd < 0 || fstat(fd, &st) < 0) {
		log_error("%s %s cannot be opened: %s", what, path,
			  strerror(errno));
		goto fail;
	}
	if (made && fchown(fd, u->uid, u->gid) < 0) {
		log_error("--user: cannot give %s %s to %s: %s", what, path,
			  u->name, strerror(errno));
		goto fail;
	}
	if (!made && st.st_uid != u->uid) {
		struct passwd *o = getpwuid(st.st_uid);

		log_error(
			"--user %s: %s %s is owned by %s, and netnsd did not make it: it hands over only a directory it makes. Give it a dedicated directory: one that does not exist yet (netnsd makes it), or one made for it (install -d -o %s -m 0700 DIR)",
			u->name, what, path, o ? o->pw_name : "another user",
			u->name);
		goto fail;
	}
	if (!made && privs_dir_check_mode(what, path, &st, u->gid) < 0)
		goto fail;
	return fd;
fail:
	if (fd >= 0)
		close(fd);
	return -1;
}

/* Gives the user a state file root left in its directory (a start before
 * --user was used), so that it can open it once dropped. Never through a
 * symlink, and never a file with another name elsewhere (a hard link):
 * those are opened, later, with the user's rights alone. */
static int privs_file_give(int dirfd, const char *dir, const char *name,
			   const struct privs_user *u)
{
	struct stat st;
	int fd, r = -1;

	/* Looked at and given through one descriptor: the name is in a
	 * directory the user owns, which could swap it in between. O_PATH
	 * opens nothing of the file (a FIFO or a device is not touched);
	 * with O_NOFOLLOW a symlink is the link itself, never given. */
	fd = openat(dirfd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT)
			return 0;
		log_error("--user: cannot look at %s/%s: %s", dir, name,
			  strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) < 0) {
		log_error("--user: cannot look at %s/%s: %s", dir, name,
			  strerror(errno));
		goto out;
	}
	r = 0;
	if (!S_ISREG(st.st_mode) || st.st_uid == u->uid)
		goto out;
	r = -1;
	if (st.st_nlink != 1) {
		log_error(
			"--user: %s/%s has other names (hard links): netnsd will not give it to %s",
			dir, name, u->name);
		goto out;
	}
	if (fchownat(fd, "", u->uid, u->gid, AT_EMPTY_PATH) < 0) {
		log_error("--user: cannot give %s/%s to %s: %s", dir, name,
			  u->name, strerror(errno));
		goto out;
	}
	r = 0;
out:
	close(fd);
	return r;
}

/* The state directory and the file's name in it. */
static int privs_state_split(const char *state_file, char *dir, size_t len,
			     const char **base)
{
	const char *slash = strrchr(state_file, '/');

	*base = slash ? slash + 1 : state_file;
	if (!slash)
		return snprintf(dir, len, ".") < (int)len ? 0 : -1;
	if (slash == state_file)
		return snprintf(dir, len, "/") < (int)len ? 0 : -1;
	return snprintf(dir, len, "%.*s", (int)(slash - state_file),
			state_file) < (int)len
		       ? 0
		       : -1;
}

static int privs_give_state(const char *state_file, const struct privs_user *u)
{
	static const char *const suffixes[] = { "", ".journal", ".tmp" };
	char dir[PATH_MAX], name[NAME_MAX + 1];
	const char *base;
	int dirfd, r = 0;

	if (privs_state_split(state_file, dir, sizeof(dir), &base) < 0) {
		log_error("--state-file %s: name too long", state_file);
		return -1;
	}
	dirfd = privs_dir_own("--state-file's directory", dir, 0700, u);
	if (dirfd < 0)
		return -1;
	for (size_t i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++) {
		if (snprintf(name, sizeof(name), "%s%s", base, suffixes[i]) >=
		    (int)sizeof(name)) {
			log_error("--state-file %s: name too long", state_file);
			r = -1;
			break;
		}
		if (privs_file_give(dirfd, dir, name, u) < 0) {
			r = -1;
			break;
		}
	}
	close(dirfd);
	return r;
}

/* Without --user: only the modes of the directories that exist (netnsd
 * makes the others, 0700 and 0755). */
static int privs_check_dirs(const char *netns_dir, const char *state_file)
{
	char dir[PATH_MAX];
	const char *base;
	struct stat st;

	if (privs_state_split(state_file, dir, sizeof(dir), &base) < 0) {
		log_error("--state-file %s: name too long", state_file);
		return -1;
	}
	if (stat(dir, &st) == 0 &&
	    privs_dir_check_mode("--state-file's directory", dir, &st,
				 getgid()) < 0)
		return -1;
	if (stat(netns_dir, &st) == 0 &&
	    privs_dir_check_mode("--netns-dir", netns_dir, &st, getgid()) < 0)
		return -1;
	return 0;
}

/* Drops to `u` keeping only CAP_NET_ADMIN and CAP_SYS_ADMIN, permitted and
 * effective. Nothing is inheritable or ambient: netnsd executes nothing, and
 * no_new_privs makes sure no execve could give anything back. */
static int privs_setid(const struct privs_user *u)
{
	struct __user_cap_header_struct hdr = { _LINUX_CAPABILITY_VERSION_3,
						0 };
	struct __user_cap_data_struct data[2];
	uint32_t keep = 0;

	/* The bounding set first (dropping from it needs CAP_SETPCAP), to
	 * the last capability this kernel knows, which may be newer than
	 * our headers. */
	for (int cap = 0; prctl(PR_CAPBSET_READ, cap, 0, 0, 0) >= 0; cap++)
		if (!privs_kept(cap) &&
		    prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0)
			return -1;
	if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0 || setgroups(0, NULL) < 0 ||
	    setresgid(u->gid, u->gid, u->gid) < 0 ||
	    setresuid(u->uid, u->uid, u->uid) < 0)
		return -1;
	for (size_t i = 0; i < sizeof(privs_keep) / sizeof(privs_keep[0]); i++)
		keep |= 1u << privs_keep[i];
	memset(data, 0, sizeof(data));
	data[0].effective = data[0].permitted = keep;
	if (syscall(SYS_capset, &hdr, data) < 0 ||
	    prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 ||
	    prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0 ||
	    prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return -1;
	return 0;
}

int privs_drop(const char *user, const char *netns_dir, const char *state_file)
{
	struct privs_user u = { user, 0, 0 };
	struct passwd *ent;
	const char *why;
	int fd;

	if (!user)
		return privs_check_dirs(netns_dir, state_file);
	ent = getpwnam(user);
	if (!ent) {
		log_error("--user: no such user %s", user);
		return -1;
	}
	u.uid = ent->pw_uid;
	u.gid = ent->pw_gid;
	why = privs_shared(&u);
	if (why) {
		log_error(
			"--user %s refused: %s. Make an account for netnsd alone (useradd --system --user-group --no-create-home --shell /usr/sbin/nologin netnsd)",
			user, why);
		return -1;
	}
	/* Without CAP_DAC_OVERRIDE the user must own what it writes: the
	 * namespace files, the state and its journal. */
	if (privs_give_state(state_file, &u) < 0)
		return -1;
	fd = privs_dir_own("--netns-dir", netns_dir, 0755, &u);
	if (fd < 0)
		return -1;
	close(fd);
	if (privs_setid(&u) < 0) {
		log_error("--user: cannot drop privileges: %s",
			  strerror(errno));
		return -1;
	}
	if (setuid(0) == 0) {
		log_error("--user: could become root again; refusing to run");
		return -1;
	}
	log_info("running as %s with CAP_NET_ADMIN and CAP_SYS_ADMIN only",
		 user);
	return 0;
}
