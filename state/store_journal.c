/* The store's files: the snapshot (every object, written whole by a
 * compaction) and the journal (one line per committed transaction,
 * "crc32c-hex json", appended), how they are read back at start-up
 * (replay, the torn tail a power loss leaves), and how records are
 * appended and the journal emptied into a new snapshot. */
#include "store_impl.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "crc32.h"

#define STORE_FORMAT  "netnsd-state"
#define STORE_VERSION 1
/* Compaction runs when the journal is larger than both of these, so its
 * O(N) cost is spread over at least as many O(1) commits. */
#define STORE_COMPACT_MIN   (4u << 20)
#define STORE_COMPACT_RATIO 2
/* The journal's file grows by whole steps of zeros written ahead of the
 * records (see store_journal_extend). One page: on a full disk a record
 * still fits exactly where it would without them. */
#define STORE_JOURNAL_STEP 4096

static int store_fsync_dir(const char *path)
{
	char *copy = strdup(path);
	int fd, r = 0;

	if (!copy)
		return -ENOMEM;
	fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	free(copy);
	if (fd < 0)
		return -errno;
	if (fsync(fd) < 0)
		r = -errno;
	close(fd);
	return r;
}

static int store_mkdir_parents(const char *path)
{
	char buf[PATH_MAX];
	char *p;

	if (strlen(path) >= sizeof(buf))
		return -ENAMETOOLONG;
	strcpy(buf, path);
	for (p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, 0700) < 0 && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	return 0;
}

static int store_read_file(const char *path, char **ret_buf, size_t *ret_len)
{
	struct stat st;
	char *buf = NULL;
	size_t done = 0;
	int fd, r;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0) {
		r = -errno;
		goto out;
	}
	buf = malloc((size_t)st.st_size + 1);
	if (!buf) {
		r = -ENOMEM;
		goto out;
	}
	while (done < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + done, (size_t)st.st_size - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			r = n < 0 ? -errno : -EIO;
			goto out;
		}
		done += (size_t)n;
	}
	buf[done] = '\0';
	*ret_buf = buf;
	*ret_len = done;
	buf = NULL;
	r = 0;
out:
	free(buf);
	close(fd);
	return r;
}

static int store_write_all(int fd, const char *buf, size_t len, off_t off)
{
	while (len) {
		ssize_t n = pwrite(fd, buf, len, off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		buf += n;
		len -= (size_t)n;
		off += n;
	}
	return 0;
}

/* Records are read with NUL allowed in strings, but a key is used as a C
 * string: "a\u0000b" would land on "a". */
static bool store_key_valid(json_t *key)
{
	return json_is_string(key) &&
	       strlen(json_string_value(key)) == json_string_length(key);
}

static bool store_ops_valid(json_t *ops)
{
	size_t i;
	json_t *op;

	if (!json_is_array(ops))
		return false;
	json_array_foreach(ops, i, op) {
		json_t *set = json_object_get(op, "set");
		json_t *del = json_object_get(op, "del");

		if (set && store_key_valid(set) && json_object_get(op, "value"))
			continue;
		if (del && store_key_valid(del) && !set)
			continue;
		return false;
	}
	return true;
}

static int store_load_snapshot(struct store *s, char *err, size_t errlen)
{
	json_error_t jerr;
	json_t *root = NULL, *objects, *seq, *rev;
	const char *format;
	json_int_t version;
	char *buf = NULL;
	size_t len;
	int r;

	r = store_read_file(s->path, &buf, &len);
	if (r == -ENOENT)
		return 0;
	if (r < 0) {
		snprintf(err, errlen, "cannot read state file %s: %s", s->path,
			 strerror(-r));
		return r;
	}
	/* JSON_ALLOW_NUL: a string with "\u0000" that a commit wrote must
	 * read back, or the state would no longer open. */
	root = json_loadb(buf, len, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL,
			  &jerr);
	if (!root) {
		snprintf(
			err, errlen,
			"state file %s is damaged (line %d: %s); it was left as it is",
			s->path, jerr.line, jerr.text);
		r = -EBADMSG;
		goto out;
	}
	format = json_string_value(json_object_get(root, "format"));
	/* Not cut to an int: version 4294967297 is not version 1. */
	version = json_integer_value(json_object_get(root, "version"));
	objects = json_object_get(root, "objects");
	seq = json_object_get(root, "seq");
	if (!format || strcmp(format, STORE_FORMAT) ||
	    !json_is_object(objects) || !json_is_integer(seq) ||
	    json_integer_value(seq) < 0) {
		snprintf(
			err, errlen,
			"state file %s is not a netnsd state snapshot; it was left as it is",
			s->path);
		r = -EBADMSG;
		goto out;
	}
	if (version != STORE_VERSION) {
		snprintf(
			err, errlen,
			"state file %s has format version %" JSON_INTEGER_FORMAT
			", this netnsd reads %d",
			s->path, version, STORE_VERSION);
		r = -EBADMSG;
		goto out;
	}
	json_decref(s->objects);
	s->objects = json_incref(objects);
	if (store_index_all(s, objects) < 0) {
		snprintf(err, errlen, "out of memory");
		r = -ENOMEM;
		goto out;
	}
	s->seq = (uint64_t)json_integer_value(seq);
	/* Snapshots before the revision had it equal to seq. */
	rev = json_object_get(root, "revision");
	s->revision = json_is_integer(rev) && json_integer_value(rev) >= 0
			      ? (uint64_t)json_integer_value(rev)
			      : s->seq;
	s->snapshot_size = (off_t)len;
	r = 0;
out:
	json_decref(root);
	free(buf);
	return r;
}

/* Parses one journal line (without its newline): "crc32c-hex json". A
 * record holds "seq", "ops", and since sync points were recorded "synced"
 * (the last sequence on disk when it was written, below its own). */
static json_t *store_parse_record(const char *line, size_t len)
{
	char hex[9];
	char *end;
	unsigned long crc;
	json_t *rec, *seq, *synced;

	if (len < 10 || line[8] != ' ')
		return NULL;
	memcpy(hex, line, 8);
	hex[8] = '\0';
	crc = strtoul(hex, &end, 16);
	if (*end || crc != crc32c(line + 9, len - 9))
		return NULL;
	rec = json_loadb(line + 9, len - 9,
			 JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, NULL);
	seq = json_object_get(rec, "seq");
	synced = json_object_get(rec, "synced");
	/* A negative seq would pass, cast, for the one after INT64_MAX, and
	 * then be written back negative into a snapshot no open accepts. */
	if (!rec || !json_is_integer(seq) || json_integer_value(seq) < 0 ||
	    (synced &&
	     (!json_is_integer(synced) || json_integer_value(synced) < 0 ||
	      json_integer_value(synced) >= json_integer_value(seq))) ||
	    !store_ops_valid(json_object_get(rec, "ops"))) {
		json_decref(rec);
		return NULL;
	}
	return rec;
}

/* The line that begins at `pos`: true when it is whole, a record's length
 * of bytes up to a newline (`*ret_end`) with no NUL in them, which no
 * record holds; false for a piece, which a NUL (zeros: the room, or a
 * hole) or the end of the file cuts at `*ret_end`. */
static bool store_journal_line(const char *buf, size_t len, size_t pos,
			       size_t *ret_end)
{
	const char *nl = memchr(buf + pos, '\n', len - pos);
	size_t end = nl ? (size_t)(nl - buf) : len;
	const char *nul = memchr(buf + pos, '\0', end - pos);

	*ret_end = nul ? (size_t)(nul - buf) : end;
	return nl && !nul;
}

/* Judges a record found past the damage: `lost` is the first sequence the
 * damage took, `prev`/`prev_end` the record found before this one and
 * where it ended. Fills `why` and returns false when the record shows that
 * the damage is no tear. */
static bool store_tail_record(json_t *rec, size_t pos, uint64_t lost,
			      uint64_t prev, size_t prev_end, char *why,
			      size_t whylen)
{
	uint64_t seq =
		(uint64_t)json_integer_value(json_object_get(rec, "seq"));
	json_t *synced = json_object_get(rec, "synced");

	if (!synced) {
		snprintf(
			why, whylen,
			"the record of sequence %llu at byte %zu, written by an older netnsd, cannot tell whether that one was on disk",
			(unsigned long long)seq, pos);
		return false;
	}
	if ((uint64_t)json_integer_value(synced) >= lost) {
		snprintf(
			why, whylen,
			"the record of sequence %llu at byte %zu says sequence %llu was on disk",
			(unsigned long long)seq, pos,
			(unsigned long long)json_integer_value(synced));
		return false;
	}
	if (seq <= prev || (pos == prev_end && seq != prev + 1)) {
		snprintf(
			why, whylen,
			"the record of sequence %llu at byte %zu comes %s sequence %llu",
			(unsigned long long)seq, pos,
			pos == prev_end ? "right after" : "after",
			(unsigned long long)prev);
		return false;
	}
	return true;
}

/* Judges buf[from..len), what follows the last whole record, `last`, by
 * the rule above store_load_journal. Returns 0 for zeros alone (free
 * room), 1 for a tear to cut, or fills `why` and returns -EBADMSG. */
static int store_journal_tail(const char *buf, size_t from, size_t len,
			      uint64_t last, char *why, size_t whylen)
{
	size_t pos = from, end, prev_end = from;
	uint64_t prev = last + 1; /* the first record lost: none before it */
	bool boundary = true;	  /* a record begins at pos */
	bool torn = false;
	json_t *rec;

	while (pos < len) {
		if (!buf[pos]) {
			pos++;
			boundary = false;
			continue;
		}
		torn = true;
		if (!store_journal_line(buf, len, pos, &end)) {
			/* A record's piece that a hole or the end cut. */
			pos = end;
			boundary = false;
			continue;
		}
		rec = store_parse_record(buf + pos, end - pos);
		if (!rec && boundary) {
			/* Every byte of it reached the disk: a bit flipped or
			 * garbage, not a tear. */
			snprintf(why, whylen,
				 "at byte %zu a whole record fails its check",
				 pos);
			return -EBADMSG;
		}
		/* Without a record, the end of one whose start a hole took. */
		if (rec && !store_tail_record(rec, pos, last + 1, prev,
					      prev_end, why, whylen)) {
			json_decref(rec);
			return -EBADMSG;
		}
		if (rec) {
			prev = (uint64_t)json_integer_value(
				json_object_get(rec, "seq"));
			prev_end = end + 1;
		}
		json_decref(rec);
		pos = end + 1;
		boundary = true;
	}
	return torn ? 1 : 0;
}

/* The journal's records follow the snapshot's sequence one by one from the
 * start of the file (records the snapshot holds already, a compaction whose
 * cut was lost, are skipped). Where they stop, the rest of the file must be
 * what a power loss can leave; then it is cut. Anything else stops
 * start-up, and nothing is written.
 *
 * What a power loss leaves: the records up to the last completed
 * fdatasync, whole; after them, the records written since, one after the
 * other in sequence order, of which each page reached the disk in full, in
 * part or not at all, in any order, over zeros (the room written ahead of
 * them) or past the file's end. So, after the last whole record:
 *  - zeros, and pieces of records that zeros or the end of the file cut;
 *  - no whole line (no NUL, up to a newline, where a record begins) that
 *    fails its check: all of it reached the disk as written, so it is a
 *    flipped bit or garbage, even as the last line;
 *  - records only past the first one lost, in order, each one more than
 *    the record right before it;
 *  - and no record that says the first one lost was on disk: each record
 *    carries "synced", the last sequence a completed fdatasync covered
 *    when it was written, so such a record proves the lost one was
 *    answered (a hole in record 18 of 100, a lost page in the middle).
 *    A record from before "synced" existed proves nothing either way: one
 *    past a hole stops start-up.
 * None of what is cut was answered: the sync that would cover it covers
 * the lost record first, and none did. The limit: damage to the last
 * batch, which no record after it vouches for, reads as a tear when it is
 * zeros or a cut (as a power loss leaves it), and is cut. */
static int store_load_journal(struct store *s, char *err, size_t errlen)
{
	char *buf = NULL, why[256];
	size_t len, pos = 0, end;
	uint64_t last = s->seq;
	int r, lineno = 0;

	r = store_read_file(s->journal_path, &buf, &len);
	if (r == -ENOENT)
		return 0;
	if (r < 0) {
		snprintf(err, errlen, "cannot read journal %s: %s",
			 s->journal_path, strerror(-r));
		return r;
	}
	while (pos < len && buf[pos] &&
	       store_journal_line(buf, len, pos, &end)) {
		json_t *rec = store_parse_record(buf + pos, end - pos);
		uint64_t seq;

		lineno++;
		if (!rec) {
			snprintf(
				err, errlen,
				"journal %s is damaged at byte %zu (record %d): a whole record fails its check; it was left as it is",
				s->journal_path, pos, lineno);
			r = -EBADMSG;
			goto out;
		}
		seq = (uint64_t)json_integer_value(json_object_get(rec, "seq"));
		/* Records the snapshot holds already (a compaction whose
		 * journal cut was lost) are skipped. Every other record must
		 * follow the one before it, the first one the snapshot: a gap
		 * is lost transactions, not a torn tail. */
		if (seq > s->seq || last != s->seq) {
			if (seq != last + 1) {
				json_decref(rec);
				snprintf(
					err, errlen,
					"journal %s is damaged at byte %zu (record %d, sequence %llu after %llu); it was left as it is",
					s->journal_path, pos, lineno,
					(unsigned long long)seq,
					(unsigned long long)last);
				r = -EBADMSG;
				goto out;
			}
			store_apply(s, json_object_get(rec, "ops"));
			last = seq;
			/* Older records have no "rev": one change each. */
			if (json_is_integer(json_object_get(rec, "rev")) &&
			    json_integer_value(json_object_get(rec, "rev")) >=
				    0)
				s->revision = (uint64_t)json_integer_value(
					json_object_get(rec, "rev"));
			else
				s->revision++;
		}
		json_decref(rec);
		pos = end + 1;
	}
	r = store_journal_tail(buf, pos, len, last, why, sizeof(why));
	if (r < 0) {
		snprintf(
			err, errlen,
			"journal %s is damaged at byte %zu (record %d, sequence %llu, %s), and %s; it was left as it is",
			s->journal_path, pos, lineno + 1,
			(unsigned long long)last + 1,
			buf[pos] ? "cut short" : "zeros", why);
		goto out;
	}
	s->seq = last;
	s->journal_size = (off_t)pos;
	s->journal_alloc = (off_t)len;
	/* r: 1 tells the caller to cut the torn tail. */
out:
	free(buf);
	return r;
}

/* Opens and locks the journal, creating it and its directory when
 * absent: one netnsd per state. */
static int store_journal_lock(struct store *s, char *err, size_t errlen)
{
	int r;

	r = store_mkdir_parents(s->path);
	if (r < 0) {
		snprintf(err, errlen, "cannot create the directory of %s: %s",
			 s->path, strerror(-r));
		return r;
	}
	s->journal_fd =
		open(s->journal_path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (s->journal_fd < 0) {
		r = -errno;
		snprintf(err, errlen, "cannot open journal %s: %s",
			 s->journal_path, strerror(-r));
		return r;
	}
	if (flock(s->journal_fd, LOCK_EX | LOCK_NB) < 0) {
		r = -errno;
		snprintf(
			err, errlen,
			"state %s is in use by another process (is another netnsd running?)",
			s->path);
		return r;
	}
	return 0;
}

int store_journal_open(struct store *s, char *err, size_t errlen)
{
	int r, torn;

	r = store_journal_lock(s, err, errlen);
	if (r < 0)
		return r;
	r = store_load_snapshot(s, err, errlen);
	if (r < 0)
		return r;
	torn = store_load_journal(s, err, errlen);
	if (torn < 0)
		return torn;
	if (torn && ftruncate(s->journal_fd, s->journal_size) < 0) {
		r = -errno;
		snprintf(err, errlen, "cannot cut the torn tail of %s: %s",
			 s->journal_path, strerror(-r));
		return r;
	}
	/* What was read counts as on disk from here on, and the records
	 * written next say so ("synced"): after a kill, the page cache can
	 * hold records that no sync covered. */
	if (fdatasync(s->journal_fd) < 0) {
		r = -errno;
		snprintf(err, errlen, "cannot sync journal %s: %s",
			 s->journal_path, strerror(-r));
		return r;
	}
	if (torn)
		s->journal_alloc = s->journal_size;
	s->journal_loaded = true;
	r = store_fsync_dir(s->journal_path);
	if (r < 0) {
		snprintf(err, errlen, "cannot sync the directory of %s: %s",
			 s->path, strerror(-r));
		return r;
	}
	return 0;
}

void store_journal_close(struct store *s)
{
	/* Stopped, the journal holds its records alone, as readers expect;
	 * the zeros are written again by the next extension. A failure
	 * leaves them, which the next open reads as free room (or, after a
	 * failed append, as a torn tail). A journal that was not read and
	 * accepted is left exactly as it is. */
	if (s->journal_loaded &&
	    (s->journal_alloc > s->journal_size || s->tail_dirty) &&
	    ftruncate(s->journal_fd, s->journal_size) == 0)
		fdatasync(s->journal_fd);
	if (s->journal_fd >= 0)
		close(s->journal_fd);
}

int store_compact_locked(struct store *s)
{
	char *tmp = NULL, *text = NULL;
	json_t *root;
	int fd = -1, r;
	size_t len;

	root = json_pack("{s:s, s:i, s:I, s:O}", "format", STORE_FORMAT,
			 "version", STORE_VERSION, "seq", (json_int_t)s->seq,
			 "objects", s->objects);
	if (root)
		json_object_set_new(root, "revision",
				    json_integer((json_int_t)s->revision));
	if (!root)
		return -ENOMEM;
	text = json_dumps(root, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(root);
	if (!text || asprintf(&tmp, "%s.tmp", s->path) < 0) {
		r = -ENOMEM;
		tmp = NULL;
		goto out;
	}
	len = strlen(text);
	text[len++] = '\n'; /* replaces the NUL; len counts it */
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0) {
		r = -errno;
		goto out;
	}
	r = store_write_all(fd, text, len, 0);
	if (r == 0 && fsync(fd) < 0)
		r = -errno;
	if (r < 0)
		goto out_unlink;
	close(fd);
	fd = -1;
	if (rename(tmp, s->path) < 0) {
		r = -errno;
		goto out_unlink;
	}
	r = store_fsync_dir(s->path);
	if (r < 0)
		goto out;
	/* The snapshot now holds every record, which carry seq numbers it
	 * covers: emptying the journal may fail or tear without harm. */
	s->snapshot_size = (off_t)len;
	if (ftruncate(s->journal_fd, 0) < 0) {
		r = -errno;
		goto out;
	}
	/* Empty now, whether or not the sync below succeeds: the next record
	 * goes at the start, and the next sync makes the cut durable too. */
	s->journal_size = 0;
	s->journal_alloc = 0;
	s->tail_dirty = false;
	if (fdatasync(s->journal_fd) < 0) {
		/* As in store_sync_locked: the cut may not be on disk, and
		 * records written at the start from here on could then sit
		 * before old ones a restart would refuse. Stop, and let the
		 * restart read what is really there (the snapshot holds it
		 * all). */
		fprintf(stderr,
			"netnsd: fatal: cannot sync the emptied journal: %s\n",
			strerror(errno));
		abort();
	}
	r = 0;
	goto out;
out_unlink:
	unlink(tmp);
out:
	if (fd >= 0)
		close(fd);
	free(tmp);
	free(text);
	return r;
}

int store_compact(struct store *s)
{
	int r;

	pthread_mutex_lock(&s->mu);
	r = store_compact_locked(s);
	pthread_mutex_unlock(&s->mu);
	return r;
}

/* Writes zeros from the end of the journal's file to the step at or after
 * `need`. An append then overwrites blocks the file already has, and its
 * fdatasync writes the record alone, not the inode's new size and blocks
 * as well (on ext4 that is about a third less time and CPU per sync); the
 * inode is written once a step. Zeros are free room to the reader. On
 * failure (a full disk) the file is cut back and the record is appended
 * as it would be without them. */
static void store_journal_extend(struct store *s, off_t need)
{
	static const char zeros[STORE_JOURNAL_STEP];
	off_t to = (need + STORE_JOURNAL_STEP - 1) / STORE_JOURNAL_STEP *
		   STORE_JOURNAL_STEP;
	off_t at = s->journal_alloc;

	while (at < to) {
		size_t n = (size_t)(to - at) < sizeof(zeros) ? (size_t)(to - at)
							     : sizeof(zeros);

		if (store_write_all(s->journal_fd, zeros, n, at) < 0) {
			/* Zeros left past the end would be free room; the
			 * next append or the close cuts them all the same. */
			if (ftruncate(s->journal_fd, s->journal_alloc) < 0)
				s->tail_dirty = true;
			return;
		}
		at += (off_t)n;
	}
	s->journal_alloc = to;
}

/* The line of the record that commits `ops` as sequence seq + 1 and
 * revision `rev`, "crc32c-hex json\n", and its length; NULL without
 * memory. */
static char *store_journal_record(struct store *s, json_t *ops, uint64_t rev,
				  size_t *ret_len)
{
	char *json, *line;
	json_t *rec;
	size_t len;

	/* "synced": what a completed sync covers, so that a reader who
	 * finds this record past damage knows whether the damaged records
	 * were answered (see store_load_journal). Read without `sync_mu`: an
	 * older value only vouches for less. */
	rec = json_pack(
		"{s:I, s:I, s:I, s:O}", "seq", (json_int_t)(s->seq + 1), "rev",
		(json_int_t)rev, "synced",
		(json_int_t)__atomic_load_n(&s->synced_seq, __ATOMIC_ACQUIRE),
		"ops", ops);
	json = rec ? json_dumps(rec, JSON_COMPACT) : NULL;
	json_decref(rec);
	if (!json)
		return NULL;
	len = strlen(json);
	line = malloc(len + 11);
	if (line) {
		snprintf(line, 10, "%08x", crc32c(json, len));
		line[8] = ' ';
		memcpy(line + 9, json, len);
		line[9 + len] = '\n';
		*ret_len = len + 10;
	}
	free(json);
	return line;
}

int store_journal_append(struct store *s, json_t *ops, uint64_t rev)
{
	size_t len;
	char *line = store_journal_record(s, ops, rev, &len);
	int r;

	if (!line)
		return -ENOMEM;
	if (s->tail_dirty) {
		if (ftruncate(s->journal_fd, s->journal_size) < 0) {
			r = -errno;
			goto out;
		}
		s->tail_dirty = false;
		s->journal_alloc = s->journal_size;
	}
	if (s->journal_size + (off_t)len > s->journal_alloc)
		store_journal_extend(s, s->journal_size + (off_t)len);
	r = store_write_all(s->journal_fd, line, len, s->journal_size);
	if (r < 0) {
		/* Nothing of this record may survive: a later record would
		 * otherwise follow garbage. A failed cut is retried before the
		 * next append. */
		if (ftruncate(s->journal_fd, s->journal_size) < 0)
			s->tail_dirty = true;
		else
			s->journal_alloc = s->journal_size;
		goto out;
	}
	s->journal_size += (off_t)len;
	if (s->journal_alloc < s->journal_size)
		s->journal_alloc = s->journal_size;
out:
	free(line);
	return r;
}

bool store_journal_outgrown(const struct store *s)
{
	return s->journal_size > (off_t)STORE_COMPACT_MIN &&
	       s->journal_size > STORE_COMPACT_RATIO * s->snapshot_size;
}
