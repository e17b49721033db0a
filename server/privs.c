#include "privs.h"

#include <errno.h>
#include <grp.h>
#include <libgen.h>
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

#include "log.h"

static const int privs_keep[] = { CAP_NET_ADMIN, CAP_SYS_ADMIN };

static bool privs_kept(int cap)
{
	return cap == CAP_NET_ADMIN || cap == CAP_SYS_ADMIN;
}

static int privs_chown(const char *path, uid_t uid, gid_t gid)
{
	if (chown(path, uid, gid) < 0 && errno != ENOENT) {
		log_error("--user: cannot give %s to the user: %s", path,
			  strerror(errno));
		return -1;
	}
	return 0;
}

int privs_drop(const char *user, const char *netns_dir, const char *state_file)
{
	struct __user_cap_header_struct hdr = { _LINUX_CAPABILITY_VERSION_3,
						0 };
	struct __user_cap_data_struct data[2];
	char buf[PATH_MAX];
	struct passwd *pw;
	uint32_t keep = 0;

	pw = getpwnam(user);
	if (!pw) {
		log_error("--user: no such user %s", user);
		return -1;
	}
	/* Without CAP_DAC_OVERRIDE the user must own what it writes: the
	 * namespace files, the state and its journal. */
	mkdir(netns_dir, 0755);
	snprintf(buf, sizeof(buf), "%s", state_file);
	if (privs_chown(netns_dir, pw->pw_uid, pw->pw_gid) < 0 ||
	    privs_chown(dirname(buf), pw->pw_uid, pw->pw_gid) < 0 ||
	    privs_chown(state_file, pw->pw_uid, pw->pw_gid) < 0)
		return -1;
	snprintf(buf, sizeof(buf), "%s.journal", state_file);
	if (privs_chown(buf, pw->pw_uid, pw->pw_gid) < 0)
		return -1;

	/* The bounding set first: dropping from it needs CAP_SETPCAP. */
	for (int cap = 0; cap <= CAP_LAST_CAP; cap++)
		if (!privs_kept(cap) &&
		    prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0 && errno != EINVAL)
			goto fail;
	if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0 || setgroups(0, NULL) < 0 ||
	    setgid(pw->pw_gid) < 0 || setuid(pw->pw_uid) < 0)
		goto fail;
	for (size_t i = 0; i < sizeof(privs_keep) / sizeof(privs_keep[0]); i++)
		keep |= 1u << privs_keep[i];
	memset(data, 0, sizeof(data));
	data[0].effective = data[0].permitted = data[0].inheritable = keep;
	if (syscall(SYS_capset, &hdr, data) < 0)
		goto fail;
	for (size_t i = 0; i < sizeof(privs_keep) / sizeof(privs_keep[0]); i++)
		if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, privs_keep[i],
			  0, 0) < 0)
			goto fail;
	prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0);
	if (setuid(0) == 0) {
		log_error("--user: could become root again; refusing to run");
		return -1;
	}
	log_info("running as %s with CAP_NET_ADMIN and CAP_SYS_ADMIN only",
		 user);
	return 0;
fail:
	log_error("--user: cannot drop privileges: %s", strerror(errno));
	return -1;
}
