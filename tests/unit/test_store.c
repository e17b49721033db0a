/* Unit tests of the store (state/store.h), the durable desired state:
 * round trips, transactions and their undo, and what happens on open to
 * each kind of damage a crash (torn tail) or something else (anything
 * else) can leave. On-disk format: snapshot at PATH, journal at
 * PATH.journal, one record a line, "crc32c-hex8 json\n". A full disk is
 * not simulated here. */
#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "state/crc32.h"
#include "state/store.h"

#include "check.h"

static char test_dir[64];

/* Each test gets fresh file names in the one temporary directory. */
struct paths {
	char snap[256];
	char journal[272];
};

static void paths_new(struct paths *p, const char *name)
{
	snprintf(p->snap, sizeof(p->snap), "%s/%s.json", test_dir, name);
	snprintf(p->journal, sizeof(p->journal), "%s.journal", p->snap);
}

/* The whole file, NUL-terminated, or NULL when absent. */
static char *file_read(const char *path, size_t *ret_len)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	long n;

	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = malloc((size_t)n + 1);
	if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
		free(buf);
		buf = NULL;
	}
	fclose(f);
	if (buf) {
		buf[n] = '\0';
		if (ret_len)
			*ret_len = (size_t)n;
	}
	return buf;
}

static int file_write(const char *path, const char *mode, const void *buf,
		      size_t len)
{
	FILE *f = fopen(path, mode);
	int ok;

	if (!f)
		return -1;
	ok = fwrite(buf, 1, len, f) == len;
	return fclose(f) == 0 && ok ? 0 : -1;
}

static long file_size(const char *path)
{
	struct stat st;

	return stat(path, &st) < 0 ? -1 : (long)st.st_size;
}

static int file_equals(const char *path, const char *want, size_t want_len)
{
	size_t len = 0;
	char *buf = file_read(path, &len);
	int eq = buf && len == want_len && !memcmp(buf, want, len);

	free(buf);
	return eq;
}

/* One journal record with a correct CRC, as store_commit writes it. */
static void journal_line(char *buf, size_t size, const char *json)
{
	snprintf(buf, size, "%08x %s\n", crc32c(json, strlen(json)), json);
}

static struct store *store_open_ok(const char *path)
{
	struct store *s = NULL;
	char err[512] = "";
	int r = store_open(path, &s, err, sizeof(err));

	if (r < 0) {
		fprintf(stderr, "  store_open(%s): %d %s\n", path, r, err);
		return NULL;
	}
	return s;
}

/* Opens the store at `path` into `s`, or ends the test with a failed
 * check. */
#define OPEN_OR_RETURN(s, path)            \
	do {                               \
		(s) = store_open_ok(path); \
		CHECK((s) != NULL);        \
		if (!(s))                  \
			return;            \
	} while (0)

/* A store on fresh paths named `name`; NULL (and a failed check) when it
 * cannot be opened. */
static struct store *store_open_new(struct paths *p, const char *name)
{
	struct store *s;

	paths_new(p, name);
	s = store_open_ok(p->snap);
	CHECK(s != NULL);
	return s;
}

/* store_open must fail, say why, and hand back nothing. */
static int store_open_fails(const char *path, const char *word)
{
	struct store *s = (struct store *)0x1;
	char err[512] = "";
	int r = store_open(path, &s, err, sizeof(err));

	if (r >= 0) {
		store_free(s);
		return 0;
	}
	if (!*err || (word && !strstr(err, word))) {
		fprintf(stderr, "  unexpected message: %s\n", err);
		return 0;
	}
	return s == (struct store *)0x1;
}

static int commit_set(struct store *s, const char *key, json_t *value)
{
	struct store_txn *t = store_txn_new();
	int r;

	store_txn_set(t, key, value);
	r = store_commit(s, t);
	store_txn_free(t);
	return r;
}

/* 1 when `key` holds an integer equal to `want`; want < 0: absent. */
static int has_int(struct store *s, const char *key, json_int_t want)
{
	json_t *v = store_get(s, key);
	int ok = want < 0 ? v == NULL
			  : json_is_integer(v) && json_integer_value(v) == want;

	json_decref(v);
	return ok;
}

static void test_roundtrip(void)
{
	struct paths p;
	struct store *s;
	struct store_txn *t;
	json_t *v, *old, *list;
	char *journal, *nl;
	size_t len;

	s = store_open_new(&p, "roundtrip");
	if (!s)
		return;
	CHECK(store_count(s) == 0);
	CHECK(store_seq(s) == 0);
	CHECK(store_get(s, "ns/blue") == NULL);

	t = store_txn_new();
	CHECK(t && store_txn_len(t) == 0);
	/* Empty: nothing written. */
	CHECK(store_commit(s, t) == STORE_UNCHANGED);
	CHECK(store_seq(s) == 0);
	store_txn_set(t, "ns/blue", json_pack("{s:b}", "managed", 1));
	store_txn_set(t, "ns/red", json_object());
	store_txn_set(t, "link/blue/va",
		      json_pack("{s:i, s:s}", "mtu", 1500, "note", "a\nb\"c"));
	CHECK(store_txn_len(t) == 3);
	CHECK(store_commit(s, t) == 0);
	store_txn_free(t);
	CHECK(store_seq(s) == 1);
	CHECK(store_count(s) == 3);

	v = store_get(s, "ns/blue");
	CHECK(json_is_true(json_object_get(v, "managed")));
	json_decref(v);

	list = store_list(s, "ns/");
	CHECK(json_object_size(list) == 2);
	CHECK(json_object_get(list, "ns/red") != NULL);
	json_decref(list);
	list = store_list(s, "veth/");
	CHECK(list && json_object_size(list) == 0);
	json_decref(list);

	/* A reader may keep a value; a later commit does not change it. */
	old = store_get(s, "link/blue/va");
	CHECK(commit_set(s, "link/blue/va", json_pack("{s:i}", "mtu", 9000)) ==
	      0);
	CHECK(json_integer_value(json_object_get(old, "mtu")) == 1500);
	json_decref(old);
	CHECK(store_seq(s) == 2);
	store_free(s);

	/* The journal holds one line per commit, each with a valid CRC. */
	journal = file_read(p.journal, &len);
	CHECK(journal != NULL);
	nl = journal ? strchr(journal, '\n') : NULL;
	CHECK(nl && nl[1] != '\0' && strchr(nl + 1, '\n') == journal + len - 1);
	if (nl) {
		char hex[9];

		memcpy(hex, journal, 8);
		hex[8] = '\0';
		CHECK(journal[8] == ' ');
		CHECK(strtoul(hex, NULL, 16) ==
		      crc32c(journal + 9, (size_t)(nl - journal) - 9));
	}
	free(journal);

	OPEN_OR_RETURN(s, p.snap);
	CHECK(store_seq(s) == 2);
	CHECK(store_count(s) == 3);
	v = store_get(s, "link/blue/va");
	CHECK(json_integer_value(json_object_get(v, "mtu")) == 9000);
	json_decref(v);
	v = store_get(s, "ns/red");
	CHECK(json_is_object(v) && json_object_size(v) == 0);
	json_decref(v);
	v = store_get(s, "ns/blue");
	CHECK(json_is_true(json_object_get(v, "managed")));
	json_decref(v);
	store_free(s);
	store_free(NULL); /* a no-op */
}

static void test_set_del(void)
{
	struct paths p;
	struct store *s;
	struct store_txn *t;

	s = store_open_new(&p, "setdel");
	if (!s)
		return;
	t = store_txn_new();
	store_txn_set(t, "a", json_integer(1));
	store_txn_set(t, "b", json_integer(2));
	store_txn_set(t, "gone", json_integer(0));
	CHECK(store_commit(s, t) == 0);
	store_txn_free(t);

	/* Sets and deletes in one transaction, a key touched twice, and the
	 * delete of a key that was never there. */
	t = store_txn_new();
	store_txn_del(t, "a");
	store_txn_set(t, "b", json_integer(20));
	store_txn_set(t, "c", json_integer(3));
	store_txn_set(t, "gone", json_integer(5));
	store_txn_del(t, "gone");
	store_txn_del(t, "never");
	store_txn_set(t, "twice", json_integer(1));
	store_txn_set(t, "twice", json_integer(2));
	CHECK(store_txn_len(t) == 8);
	CHECK(store_commit(s, t) == 0);
	store_txn_free(t);

	CHECK(store_seq(s) == 2);
	CHECK(has_int(s, "a", -1));
	CHECK(has_int(s, "b", 20));
	CHECK(has_int(s, "c", 3));
	CHECK(has_int(s, "gone", -1));
	CHECK(has_int(s, "never", -1));
	CHECK(has_int(s, "twice", 2));
	CHECK(store_count(s) == 3);
	store_free(s);

	OPEN_OR_RETURN(s, p.snap);
	CHECK(store_seq(s) == 2);
	CHECK(has_int(s, "a", -1));
	CHECK(has_int(s, "b", 20));
	CHECK(has_int(s, "c", 3));
	CHECK(has_int(s, "gone", -1));
	CHECK(has_int(s, "twice", 2));
	CHECK(store_count(s) == 3);
	store_free(s);
}

static void test_undo(void)
{
	struct paths p;
	struct store *s;
	struct store_txn *t, *u;

	s = store_open_new(&p, "undo");
	if (!s)
		return;
	t = store_txn_new();
	store_txn_set(t, "a", json_integer(1));
	store_txn_set(t, "b", json_integer(2));
	CHECK(store_commit(s, t) == 0);
	store_txn_free(t);

	t = store_txn_new();
	store_txn_set(t, "a", json_integer(10));
	store_txn_del(t, "b");
	store_txn_set(t, "c", json_integer(3));
	store_txn_set(t, "d", json_integer(4));
	store_txn_set(t, "d", json_integer(5));
	store_txn_del(t, "a");
	u = store_txn_undo(s, t); /* taken before t is applied */
	CHECK(u != NULL);
	if (!u) {
		store_txn_free(t);
		store_free(s);
		return;
	}
	CHECK(store_txn_len(u) == store_txn_len(t));
	CHECK(store_commit(s, t) == 0);
	CHECK(has_int(s, "a", -1));
	CHECK(has_int(s, "b", -1));
	CHECK(has_int(s, "c", 3));
	CHECK(has_int(s, "d", 5));

	CHECK(store_commit(s, u) == 0);
	CHECK(has_int(s, "a", 1));
	CHECK(has_int(s, "b", 2));
	CHECK(has_int(s, "c", -1));
	CHECK(has_int(s, "d", -1));
	CHECK(store_count(s) == 2);
	CHECK(store_seq(s) == 3);
	store_txn_free(t);
	store_txn_free(u);

	/* The undo of an empty transaction is empty. */
	t = store_txn_new();
	u = store_txn_undo(s, t);
	CHECK(u && store_txn_len(u) == 0);
	store_txn_free(t);
	store_txn_free(u);
	store_free(s);

	OPEN_OR_RETURN(s, p.snap);
	CHECK(has_int(s, "a", 1));
	CHECK(has_int(s, "b", 2));
	CHECK(has_int(s, "c", -1));
	CHECK(has_int(s, "d", -1));
	CHECK(store_seq(s) == 3);
	store_free(s);
}

/* Two commits, then the store closed: the journal before each tearing. */
static char *store_two_commits(const struct paths *p, size_t *ret_len)
{
	struct store *s = store_open_ok(p->snap);

	if (!s)
		return NULL;
	if (commit_set(s, "a", json_integer(1)) < 0 ||
	    commit_set(s, "b", json_integer(2)) < 0) {
		store_free(s);
		return NULL;
	}
	store_free(s);
	return file_read(p->journal, ret_len);
}

/* After a tail is appended, open keeps records 1-2, cuts the file back and
 * can commit and reopen. */
static void test_torn_tail(const char *name, const char *tail, size_t tail_len)
{
	struct paths p;
	struct store *s;
	char *good;
	size_t good_len = 0;

	paths_new(&p, name);
	good = store_two_commits(&p, &good_len);
	CHECK(good != NULL);
	if (!good)
		return;
	CHECK(file_write(p.journal, "ab", tail, tail_len) == 0);
	CHECK(file_size(p.journal) == (long)(good_len + tail_len));

	s = store_open_ok(p.snap);
	CHECK(s != NULL);
	if (!s) {
		free(good);
		return;
	}
	CHECK(store_seq(s) == 2);
	CHECK(has_int(s, "a", 1));
	CHECK(has_int(s, "b", 2));
	CHECK(has_int(s, "c", -1));
	CHECK(file_equals(p.journal, good, good_len));

	CHECK(commit_set(s, "c", json_integer(3)) == 0);
	CHECK(store_seq(s) == 3);
	store_free(s);

	s = store_open_ok(p.snap);
	CHECK(s != NULL);
	if (s) {
		CHECK(store_seq(s) == 3);
		CHECK(has_int(s, "a", 1));
		CHECK(has_int(s, "b", 2));
		CHECK(has_int(s, "c", 3));
		store_free(s);
	}
	free(good);
}

/* After a tail is appended that no crash leaves, open fails with `word`
 * in its message and the journal stays as it is. */
static void test_tail_refused(const char *name, const char *tail,
			      size_t tail_len, const char *word)
{
	struct paths p;
	char *good, *buf;
	size_t good_len = 0, len;

	paths_new(&p, name);
	good = store_two_commits(&p, &good_len);
	CHECK(good != NULL);
	if (!good)
		return;
	CHECK(file_write(p.journal, "ab", tail, tail_len) == 0);
	buf = file_read(p.journal, &len);
	CHECK(buf && len == good_len + tail_len);
	CHECK(store_open_fails(p.snap, word));
	CHECK(buf && file_equals(p.journal, buf, len));
	CHECK(file_size(p.snap) == -1);
	free(buf);
	free(good);
}

static void test_torn(void)
{
	char line[256];

	/* A record cut short by a crash, at several points. */
	journal_line(line, sizeof(line),
		     "{\"seq\":3,\"ops\":[{\"set\":\"c\",\"value\":9}]}");
	test_torn_tail("torn_half", line, strlen(line) / 2);
	test_torn_tail("torn_crc", line, 5);
	test_torn_tail("torn_noline", line, strlen(line) - 1);
	/* Garbage without a newline. */
	test_torn_tail("torn_garbage", "\0\xff\x13garbage", 10);
	/* A whole last line (every byte of it reached the disk) that is no
	 * record: a flipped bit or garbage, which no crash writes. */
	line[0] = line[0] == '0' ? '1' : '0';
	test_tail_refused("last_badcrc", line, strlen(line), "record 3");
	journal_line(line, sizeof(line), "{\"seq\":3,\"ops\":[{\"bogus\":1}]}");
	test_tail_refused("last_badops", line, strlen(line), "record 3");
	journal_line(line, sizeof(line),
		     "{\"seq\":3,\"ops\":[{\"set\":\"c\",\"value\":9}]");
	test_tail_refused("last_cutjson", line, strlen(line), "record 3");
	test_tail_refused("last_empty", "\n", 1, "record 3");
	/* A "synced" that is not below the record's own sequence. */
	journal_line(line, sizeof(line),
		     "{\"seq\":3,\"synced\":3,\"ops\":[{\"del\":\"c\"}]}");
	test_tail_refused("last_synced", line, strlen(line), "record 3");
	/* Cut short where the zeros written ahead of records begin, and
	 * garbage past such zeros: both are what a crash leaves. */
	{
		char room[4096] = { 0 };
		size_t half = strlen(line) / 2;

		memcpy(room, line, half);
		test_torn_tail("torn_into_room", room, sizeof(room));
		memcpy(room + sizeof(room) - 7, "garbage", 7);
		test_torn_tail("torn_past_room", room, sizeof(room));
	}
	/* Pages of unsynced records reaching the disk out of order: a hole of
	 * zeros, then the end of one record and a whole next one, which says
	 * that only sequence 2 was on disk, then the room again. None of it
	 * was answered; it goes, the hole too. */
	{
		char room[4096] = { 0 };
		size_t n;

		journal_line(
			line, sizeof(line),
			"{\"seq\":4,\"synced\":2,\"ops\":[{\"set\":\"d\",\"value\":4}]}");
		n = strlen(line);
		memcpy(room + 100, "9}]}\n", 5);
		memcpy(room + 105, line, n);
		test_torn_tail("torn_hole", room, sizeof(room));
		/* The same record saying sequence 3 was on disk: the hole
		 * took an answered record. */
		journal_line(
			line, sizeof(line),
			"{\"seq\":4,\"synced\":3,\"ops\":[{\"set\":\"d\",\"value\":4}]}");
		memcpy(room + 105, line, strlen(line));
		test_tail_refused("hole_vouched", room, sizeof(room),
				  "sequence 3 was on disk");
		/* Written before records said what was on disk: it cannot
		 * tell, and start-up stops. */
		memset(room, 0, sizeof(room));
		journal_line(
			line, sizeof(line),
			"{\"seq\":4,\"ops\":[{\"set\":\"d\",\"value\":4}]}");
		memcpy(room + 100, "9}]}\n", 5);
		memcpy(room + 105, line, strlen(line));
		test_tail_refused("hole_old_record", room, sizeof(room),
				  "older netnsd");
		/* A whole last record whose CRC fails, then the room. */
		memset(room, 0, sizeof(room));
		memcpy(room, line, n);
		room[0] = room[0] == '0' ? '1' : '0';
		test_tail_refused("last_badcrc_room", room, sizeof(room),
				  "record 3");
	}
}

/* 1 when buf[from..len) is all zeros. */
static int all_zero(const char *buf, size_t from, size_t len)
{
	for (size_t i = from; i < len; i++)
		if (buf[i])
			return 0;
	return 1;
}

/* While open, the journal's file runs ahead of its records by zeros
 * (free room that makes an append overwrite blocks the file has); closed,
 * it holds the records alone. A file with the room, as a kill leaves it,
 * opens with every record, the next one goes right after them, and damage
 * before the room is still damage. */
static void test_room(void)
{
	struct paths p;
	struct store *s = store_open_new(&p, "room");
	char *open_buf = NULL, *buf = NULL, *nl;
	size_t open_len = 0, len = 0, rec_len;

	if (!s)
		return;
	CHECK(commit_set(s, "a", json_integer(1)) == 0);
	open_buf = file_read(p.journal, &open_len);
	CHECK(open_buf != NULL);
	if (!open_buf)
		goto out;
	nl = memchr(open_buf, '\n', open_len);
	CHECK(nl != NULL);
	if (!nl)
		goto out;
	rec_len = (size_t)(nl - open_buf) + 1;
	CHECK(open_len > rec_len && open_len % 4096 == 0);
	CHECK(all_zero(open_buf, rec_len, open_len));
	store_free(s);
	s = NULL;
	CHECK(file_equals(p.journal, open_buf, rec_len));

	/* As a kill leaves it: the record, then the room. */
	CHECK(file_write(p.journal, "wb", open_buf, open_len) == 0);
	s = store_open_ok(p.snap);
	CHECK(s != NULL);
	if (!s)
		goto out;
	CHECK(store_seq(s) == 1);
	CHECK(has_int(s, "a", 1));
	CHECK(file_size(p.journal) == (long)open_len); /* room, not torn */
	CHECK(commit_set(s, "b", json_integer(2)) == 0);
	buf = file_read(p.journal, &len);
	CHECK(buf && len == open_len && !memcmp(buf, open_buf, rec_len));
	CHECK(buf && len > rec_len && buf[rec_len] != '\0');
	store_free(s);
	s = store_open_ok(p.snap);
	CHECK(s != NULL);
	if (s) {
		CHECK(store_seq(s) == 2);
		CHECK(has_int(s, "a", 1));
		CHECK(has_int(s, "b", 2));
		store_free(s);
		s = NULL;
	}

	/* Two records and the room; the first one damaged: not a torn tail. */
	if (buf) {
		buf[0] = buf[0] == '0' ? '1' : '0';
		CHECK(file_write(p.journal, "wb", buf, len) == 0);
		CHECK(store_open_fails(p.snap, "record 1"));
		CHECK(file_equals(p.journal, buf, len));
	}
out:
	store_free(s);
	free(open_buf);
	free(buf);
}

/* Compaction empties the journal, room and all; a record larger than a
 * step comes after it, then a small one, each right after the one before,
 * with the room rounded up to a whole step. */
static void test_room_steps(void)
{
	struct paths p;
	struct store *s = store_open_new(&p, "room_steps");
	char big[10001], *buf = NULL, *nl;
	size_t len = 0, big_len;
	json_t *v;

	if (!s)
		return;
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	CHECK(commit_set(s, "a", json_integer(1)) == 0);
	CHECK(file_size(p.journal) == 4096);
	CHECK(store_compact(s) == 0);
	CHECK(file_size(p.journal) == 0);
	CHECK(commit_set(s, "big", json_string(big)) == 0);
	buf = file_read(p.journal, &len);
	nl = buf ? memchr(buf, '\n', len) : NULL;
	CHECK(nl != NULL);
	big_len = nl ? (size_t)(nl - buf) + 1 : 0;
	CHECK(big_len > sizeof(big) && len % 4096 == 0 && len >= big_len &&
	      len < big_len + 4096);
	CHECK(buf && all_zero(buf, big_len, len));
	CHECK(commit_set(s, "c", json_integer(3)) == 0);
	free(buf);
	buf = file_read(p.journal, &len);
	CHECK(buf && len > big_len && buf[big_len] != '\0');
	free(buf);
	store_free(s);

	OPEN_OR_RETURN(s, p.snap);
	CHECK(store_seq(s) == 3);
	v = store_get(s, "big");
	CHECK(json_is_string(v) && strlen(json_string_value(v)) == 10000);
	json_decref(v);
	CHECK(has_int(s, "a", 1));
	CHECK(has_int(s, "c", 3));
	store_free(s);
}

/* Damage anywhere but the last record fails open and changes no file. */
static void test_damaged_journal(const char *name, const char *word,
				 void (*damage)(char *buf, size_t *len))
{
	struct paths p;
	struct store *s;
	char *buf, *snap;
	size_t len = 0, snap_len = 0;

	s = store_open_new(&p, name);
	if (!s)
		return;
	/* A snapshot (seq 1) and three journal records (2, 3, 4). */
	CHECK(commit_set(s, "a", json_integer(1)) == 0);
	CHECK(store_compact(s) == 0);
	CHECK(commit_set(s, "b", json_integer(2)) == 0);
	CHECK(commit_set(s, "c", json_integer(3)) == 0);
	CHECK(commit_set(s, "d", json_integer(4)) == 0);
	store_free(s);

	buf = file_read(p.journal, &len);
	snap = file_read(p.snap, &snap_len);
	CHECK(buf != NULL && snap != NULL);
	if (!buf || !snap) {
		free(buf);
		free(snap);
		return;
	}
	buf = realloc(buf, len + 1024);
	damage(buf, &len);
	CHECK(file_write(p.journal, "wb", buf, len) == 0);

	CHECK(store_open_fails(p.snap, word));
	CHECK(file_equals(p.journal, buf, len));
	CHECK(file_equals(p.snap, snap, snap_len));
	/* Failing again changes nothing either. */
	CHECK(store_open_fails(p.snap, word));
	CHECK(file_equals(p.journal, buf, len));
	CHECK(file_equals(p.snap, snap, snap_len));
	free(buf);
	free(snap);
}

/* Flips a byte of the JSON of the first record. */
static void damage_first_json(char *buf, size_t *len)
{
	(void)len;
	buf[12] ^= 0x20;
}

/* Flips a hex digit of the CRC of the second record. */
static void damage_second_crc(char *buf, size_t *len)
{
	char *nl = memchr(buf, '\n', *len);

	nl[1] = nl[1] == 'f' ? 'e' : 'f';
}

/* Cuts the first record in half, as if torn, with two records after it
 * (the first of which then reads as the rest of its line). */
static void damage_torn_middle(char *buf, size_t *len)
{
	char *l2 = (char *)memchr(buf, '\n', *len) + 1;
	size_t half = (size_t)(l2 - buf) / 2;

	memmove(buf + half, l2, *len - (size_t)(l2 - buf));
	*len -= (size_t)(l2 - buf) - half;
}

/* Garbage, a whole line, between records. */
static void damage_garbage_line(char *buf, size_t *len)
{
	static const char junk[] = "hello world\n";
	char *l2 = (char *)memchr(buf, '\n', *len) + 1;

	memmove(l2 + sizeof(junk) - 1, l2, *len - (size_t)(l2 - buf));
	memcpy(l2, junk, sizeof(junk) - 1);
	*len += sizeof(junk) - 1;
}

/* A record lost: the second of three removed, CRCs all correct. */
static void damage_lost_record(char *buf, size_t *len)
{
	char *l2 = (char *)memchr(buf, '\n', *len) + 1;
	char *l3 = memchr(l2, '\n', *len - (size_t)(l2 - buf)) + 1;

	memmove(l2, l3, *len - (size_t)(l3 - buf));
	*len -= (size_t)(l3 - l2);
}

/* A record replayed twice (valid lines, repeated sequence). */
static void damage_repeated_record(char *buf, size_t *len)
{
	char *l2 = (char *)memchr(buf, '\n', *len) + 1;

	memmove(l2 + (l2 - buf), l2, *len - (size_t)(l2 - buf));
	memcpy(l2, buf, (size_t)(l2 - buf));
	*len += (size_t)(l2 - buf);
}

/* Records lost between the snapshot (seq 1) and the journal: the journal
 * now starts at seq 3. */
static void damage_lost_first(char *buf, size_t *len)
{
	char *l2 = (char *)memchr(buf, '\n', *len) + 1;

	memmove(buf, l2, *len - (size_t)(l2 - buf));
	*len -= (size_t)(l2 - buf);
}

static void test_damaged(void)
{
	test_damaged_journal("dmg_json", "record 1", damage_first_json);
	test_damaged_journal("dmg_crc", "record 2", damage_second_crc);
	test_damaged_journal("dmg_torn", "record 1", damage_torn_middle);
	test_damaged_journal("dmg_junk", "record 2", damage_garbage_line);
	test_damaged_journal("dmg_lost", "sequence", damage_lost_record);
	test_damaged_journal("dmg_again", "sequence", damage_repeated_record);
	test_damaged_journal("dmg_first", "sequence", damage_lost_first);
}

/* A journal of `n` records, each synced before the next is written (as
 * requests are answered) but those from `from` to `to`, written as one
 * batch that no sync covered until the record after it: the bytes as a
 * kill leaves them, the room included. The store is closed and the file
 * put back as it was; the snapshot is absent. */
static char *journal_of(const struct paths *p, int n, int from, int to,
			size_t *ret_len)
{
	struct store *s = store_open_ok(p->snap);
	char key[16], val[160];
	char *buf = NULL;

	if (!s)
		return NULL;
	memset(val, 'x', sizeof(val) - 1);
	val[sizeof(val) - 1] = '\0';
	for (int i = 1; i <= n; i++) {
		snprintf(key, sizeof(key), "k%03d", i);
		if (commit_set(s, key, json_string(val)) < 0)
			goto out;
		if (i < from || i > to)
			store_sync(s);
	}
	buf = file_read(p->journal, ret_len);
out:
	store_free(s);
	if (buf && file_write(p->journal, "wb", buf, *ret_len) < 0) {
		free(buf);
		buf = NULL;
	}
	return buf;
}

/* Where record `k` (from 1) begins in `buf`, and its length with the
 * newline. */
static size_t record_at(const char *buf, size_t len, int k, size_t *ret_len)
{
	size_t pos = 0;
	const char *nl;

	for (int i = 1; i < k; i++)
		pos = (size_t)((const char *)memchr(buf + pos, '\n',
						    len - pos) -
			       buf) +
		      1;
	nl = memchr(buf + pos, '\n', len - pos);
	*ret_len = (size_t)(nl - buf) + 1 - pos;
	return pos;
}

/* Damage to records that records after them say were on disk: start-up
 * stops with `word` in its message, and neither file changes (there is no
 * snapshot: none appears). */
static void test_hole_refused(const char *name, const char *word, int n,
			      int from, int to,
			      void (*damage)(char *buf, size_t *len))
{
	struct paths p;
	size_t len = 0;
	char *buf;

	paths_new(&p, name);
	buf = journal_of(&p, n, from, to, &len);
	CHECK(buf != NULL);
	if (!buf)
		return;
	buf = realloc(buf, len + 4096);
	damage(buf, &len);
	CHECK(file_write(p.journal, "wb", buf, len) == 0);
	CHECK(store_open_fails(p.snap, word));
	CHECK(file_equals(p.journal, buf, len));
	CHECK(file_size(p.snap) == -1);
	CHECK(store_open_fails(p.snap, word));
	CHECK(file_equals(p.journal, buf, len));
	CHECK(file_size(p.snap) == -1);
	free(buf);
}

/* One zero byte in the middle of record 18 of 100. */
static void damage_zero_byte_18(char *buf, size_t *len)
{
	size_t n, at = record_at(buf, *len, 18, &n);

	buf[at + n / 2] = '\0';
}

/* The page at 4096 lost (zeros). */
static void damage_page_4096(char *buf, size_t *len)
{
	CHECK(*len >= 3 * 4096);
	memset(buf + 4096, 0, 4096);
}

/* A bit flipped in the value of record 50 (an 'x' becomes a 'y'). */
static void damage_bit_50(char *buf, size_t *len)
{
	size_t n, at = record_at(buf, *len, 50, &n);

	buf[at + n - 20] ^= 0x01;
}

/* The same in the last record of 100, a whole line. */
static void damage_bit_last(char *buf, size_t *len)
{
	size_t n, at = record_at(buf, *len, 100, &n);

	buf[at + n - 20] ^= 0x01;
}

/* Record 50 written twice. */
static void damage_dup_50(char *buf, size_t *len)
{
	size_t n, at = record_at(buf, *len, 50, &n);

	memmove(buf + at + n, buf + at, *len - at);
	*len += n;
}

/* Record 50 removed: the sequence jumps from 49 to 51. */
static void damage_drop_50(char *buf, size_t *len)
{
	size_t n, at = record_at(buf, *len, 50, &n);

	memmove(buf + at, buf + at + n, *len - at - n);
	*len -= n;
}

/* Of 100 synced records, then 101-106 in one batch, then 107 (whose sync
 * covers the batch) and 108 (which says so): a hole in record 102. */
static void damage_hole_synced_batch(char *buf, size_t *len)
{
	size_t n, at = record_at(buf, *len, 102, &n);

	memset(buf + at + 10, 0, n - 20);
}

/* After a kill with a batch of 5 unsynced records after 100 synced ones,
 * `damage` leaves what a power loss can: start-up serves `want_seq`
 * records and cuts the journal right after the last of them. */
static void test_hole_torn(const char *name, long want_seq,
			   void (*damage)(char *buf, size_t *len))
{
	struct paths p;
	struct store *s;
	size_t len = 0, n, at;
	char *buf;

	paths_new(&p, name);
	buf = journal_of(&p, 105, 101, 105, &len);
	CHECK(buf != NULL);
	if (!buf)
		return;
	damage(buf, &len);
	CHECK(file_write(p.journal, "wb", buf, len) == 0);
	s = store_open_ok(p.snap);
	CHECK(s != NULL);
	if (!s)
		goto out;
	CHECK(store_seq(s) == (uint64_t)want_seq);
	CHECK(store_count(s) == (size_t)want_seq);
	at = record_at(buf, len, (int)want_seq, &n);
	CHECK(file_equals(p.journal, buf, at + n));
	CHECK(commit_set(s, "after", json_integer(1)) == 0);
	store_free(s);
	s = store_open_ok(p.snap);
	CHECK(s != NULL);
	if (s) {
		CHECK(store_seq(s) == (uint64_t)want_seq + 1);
		CHECK(has_int(s, "after", 1));
		store_free(s);
	}
out:
	free(buf);
}

/* The last record of the batch cut short where the room begins. */
static void torn_last_of_batch(char *buf, size_t *len)
{
	size_t n, at = record_at(buf, *len, 105, &n);

	memset(buf + at + n / 2, 0, *len - at - n / 2);
}

/* Pages of the batch out of order: from the middle of record 101 to the
 * middle of 103 zeros, records 104 and 105 whole after them. */
static void torn_batch_out_of_order(char *buf, size_t *len)
{
	size_t n1, n3, at1 = record_at(buf, *len, 101, &n1);
	size_t at3 = record_at(buf, *len, 103, &n3);

	memset(buf + at1 + n1 / 2, 0, at3 + n3 / 2 - (at1 + n1 / 2));
}

/* Record 103 alone lost to a hole, 104 and 105 whole. */
static void torn_batch_hole_103(char *buf, size_t *len)
{
	size_t n, at = record_at(buf, *len, 103, &n);

	memset(buf + at, 0, n - 30);
}

static void test_holes(void)
{
	test_hole_refused("hole_byte18", "sequence 18", 100, 0, 0,
			  damage_zero_byte_18);
	test_hole_refused("hole_page4096", "on disk", 100, 0, 0,
			  damage_page_4096);
	test_hole_refused("hole_bit50", "record 50", 100, 0, 0, damage_bit_50);
	test_hole_refused("hole_bitlast", "record 100", 100, 0, 0,
			  damage_bit_last);
	test_hole_refused("hole_dup50", "sequence 50 after 50", 100, 0, 0,
			  damage_dup_50);
	test_hole_refused("hole_drop50", "sequence 51 after 49", 100, 0, 0,
			  damage_drop_50);
	test_hole_refused("hole_synced_batch", "sequence 102", 108, 101, 106,
			  damage_hole_synced_batch);
	test_hole_torn("hole_torn_last", 104, torn_last_of_batch);
	test_hole_torn("hole_out_of_order", 100, torn_batch_out_of_order);
	test_hole_torn("hole_103", 102, torn_batch_hole_103);
}

/* A snapshot holding `text` fails open, and neither file changes. */
static void test_bad_snapshot(const char *name, const char *text,
			      const char *word)
{
	struct paths p;
	char line[256];

	paths_new(&p, name);
	CHECK(file_write(p.snap, "wb", text, strlen(text)) == 0);
	journal_line(line, sizeof(line),
		     "{\"seq\":1,\"ops\":[{\"set\":\"a\",\"value\":1}]}");
	CHECK(file_write(p.journal, "wb", line, strlen(line)) == 0);
	CHECK(store_open_fails(p.snap, word));
	CHECK(file_equals(p.snap, text, strlen(text)));
	CHECK(file_equals(p.journal, line, strlen(line)));
}

static void test_snapshots(void)
{
	static const char good[] =
		"{\"format\":\"netnsd-state\",\"version\":1,\"seq\":7,"
		"\"objects\":{\"a\":1}}\n";
	struct paths p;
	struct store *s;

	test_bad_snapshot("snap_json", "{\"format\":\"netnsd-state\",",
			  "damaged");
	test_bad_snapshot("snap_empty", "", "damaged");
	test_bad_snapshot("snap_garbage",
			  "\x7f"
			  "ELF\x02\x01",
			  "damaged");
	test_bad_snapshot("snap_trailing",
			  "{\"format\":\"netnsd-state\",\"version\":1,"
			  "\"seq\":0,\"objects\":{}} x",
			  "damaged");
	test_bad_snapshot("snap_dup",
			  "{\"format\":\"netnsd-state\",\"version\":1,"
			  "\"seq\":0,\"objects\":{},\"seq\":0}",
			  "damaged");
	test_bad_snapshot("snap_array", "[]", "not a netnsd state");
	test_bad_snapshot("snap_format",
			  "{\"format\":\"other\",\"version\":1,\"seq\":0,"
			  "\"objects\":{}}",
			  "not a netnsd state");
	test_bad_snapshot("snap_noformat",
			  "{\"version\":1,\"seq\":0,\"objects\":{}}",
			  "not a netnsd state");
	test_bad_snapshot("snap_objects",
			  "{\"format\":\"netnsd-state\",\"version\":1,"
			  "\"seq\":0,\"objects\":[]}",
			  "not a netnsd state");
	test_bad_snapshot("snap_noseq",
			  "{\"format\":\"netnsd-state\",\"version\":1,"
			  "\"objects\":{}}",
			  "not a netnsd state");
	test_bad_snapshot("snap_negseq",
			  "{\"format\":\"netnsd-state\",\"version\":1,"
			  "\"seq\":-1,\"objects\":{}}",
			  "not a netnsd state");
	test_bad_snapshot("snap_version",
			  "{\"format\":\"netnsd-state\",\"version\":2,"
			  "\"seq\":0,\"objects\":{}}",
			  "version 2");

	/* A good hand-written snapshot, for contrast, is read. */
	paths_new(&p, "snap_good");
	CHECK(file_write(p.snap, "wb", good, sizeof(good) - 1) == 0);
	s = store_open_ok(p.snap);
	CHECK(s != NULL);
	if (s) {
		CHECK(store_seq(s) == 7);
		CHECK(has_int(s, "a", 1));
		CHECK(commit_set(s, "b", json_integer(2)) == 0);
		CHECK(store_seq(s) == 8);
		store_free(s);
	}
}

static void test_compact(void)
{
	struct paths p;
	struct store *s;
	struct store_txn *t;
	json_t *snap;
	char *old_journal;
	size_t old_len = 0;
	char key[32];

	s = store_open_new(&p, "compact");
	if (!s)
		return;
	for (int i = 0; i < 50; i++) {
		snprintf(key, sizeof(key), "k%d", i);
		CHECK(commit_set(s, key, json_integer(i)) == 0);
	}
	t = store_txn_new();
	store_txn_del(t, "k0");
	CHECK(store_commit(s, t) == 0);
	store_txn_free(t);
	CHECK(store_seq(s) == 51);
	old_journal = file_read(p.journal, &old_len);

	CHECK(file_size(p.snap) < 0);
	CHECK(store_compact(s) == 0);
	CHECK(file_size(p.journal) == 0);
	CHECK(file_size(p.snap) > 0);
	snap = json_load_file(p.snap, 0, NULL);
	CHECK(json_is_object(snap));
	CHECK(json_is_string(json_object_get(snap, "format")) &&
	      !strcmp(json_string_value(json_object_get(snap, "format")),
		      "netnsd-state"));
	CHECK(json_integer_value(json_object_get(snap, "seq")) == 51);
	CHECK(json_object_size(json_object_get(snap, "objects")) == 49);
	json_decref(snap);
	/* Compacting twice is fine. */
	CHECK(store_compact(s) == 0);
	CHECK(commit_set(s, "after", json_integer(1)) == 0);
	CHECK(store_seq(s) == 52);
	store_free(s);

	s = store_open_ok(p.snap);
	CHECK(s != NULL);
	if (!s) {
		free(old_journal);
		return;
	}
	CHECK(store_seq(s) == 52);
	CHECK(store_count(s) == 50);
	CHECK(has_int(s, "k0", -1));
	CHECK(has_int(s, "k1", 1));
	CHECK(has_int(s, "k49", 49));
	CHECK(has_int(s, "after", 1));
	CHECK(store_compact(s) == 0);
	store_free(s);

	/* A compaction whose journal cut was lost: the old records, all
	 * covered by the snapshot, are skipped, not applied again. */
	CHECK(old_journal != NULL);
	if (old_journal)
		CHECK(file_write(p.journal, "wb", old_journal, old_len) == 0);
	s = store_open_ok(p.snap);
	CHECK(s != NULL);
	if (s) {
		CHECK(store_seq(s) == 52);
		CHECK(store_count(s) == 50);
		CHECK(has_int(s, "k0", -1));
		CHECK(has_int(s, "after", 1));
		CHECK(commit_set(s, "later", json_integer(2)) == 0);
		CHECK(store_seq(s) == 53);
		store_free(s);
	}
	s = store_open_ok(p.snap);
	CHECK(s != NULL);
	if (s) {
		CHECK(store_seq(s) == 53);
		CHECK(has_int(s, "later", 2));
		CHECK(has_int(s, "k0", -1));
		store_free(s);
	}
	free(old_journal);
}

static void test_lock(void)
{
	struct paths p;
	struct store *s, *s2;

	s = store_open_new(&p, "lock");
	if (!s)
		return;
	CHECK(commit_set(s, "a", json_integer(1)) == 0);
	CHECK(store_open_fails(p.snap, "in use"));
	/* The refused opener did not disturb the owner. */
	CHECK(commit_set(s, "b", json_integer(2)) == 0);
	CHECK(store_seq(s) == 2);
	store_free(s);

	s2 = store_open_ok(p.snap);
	CHECK(s2 != NULL);
	if (s2) {
		CHECK(has_int(s2, "b", 2));
		store_free(s2);
	}
}

static void test_parents(void)
{
	char path[256];
	struct store *s;

	/* The directory of the state file is made when missing. */
	snprintf(path, sizeof(path), "%s/var/lib/netnsd/state.json", test_dir);
	s = store_open_ok(path);
	CHECK(s != NULL);
	if (s) {
		CHECK(commit_set(s, "a", json_integer(1)) == 0);
		store_free(s);
	}
	s = store_open_ok(path);
	CHECK(s != NULL);
	if (s) {
		CHECK(has_int(s, "a", 1));
		store_free(s);
	}
}

static void test_many(void)
{
	struct paths p;
	struct store *s;
	char key[32];

	s = store_open_new(&p, "many");
	if (!s)
		return;
	for (int i = 0; i < 300; i++) {
		snprintf(key, sizeof(key), "k%d", i % 37);
		if (commit_set(s, key, json_integer(i)) < 0)
			break;
	}
	CHECK(store_seq(s) == 300);
	store_free(s);
	s = store_open_ok(p.snap);
	CHECK(s != NULL);
	if (s) {
		CHECK(store_seq(s) == 300);
		CHECK(store_count(s) == 37);
		/* The last write of each key wins: 299 = 8 * 37 + 3. */
		CHECK(has_int(s, "k3", 299));
		CHECK(has_int(s, "k4", 263));
		store_free(s);
	}
}

struct foreach_seen {
	json_t *keys; /* in the order visited */
	json_t *list; /* store_list() of the same prefix */
	size_t stop_after;
	int same_values;
};

static int foreach_collect(const char *key, json_t *value, void *userdata)
{
	struct foreach_seen *seen = userdata;

	/* The stored value itself, not a copy. */
	if (json_object_get(seen->list, key) != value)
		seen->same_values = 0;
	json_array_append_new(seen->keys, json_string(key));
	if (seen->stop_after && json_array_size(seen->keys) == seen->stop_after)
		return 7;
	return 0;
}

/* 1 when store_foreach() visits what store_list() holds, in its order. */
static int foreach_matches_list(struct store *s, const char *prefix)
{
	struct foreach_seen seen = { .same_values = 1 };
	const char *key;
	json_t *v;
	size_t i = 0;
	int ok;

	seen.keys = json_array();
	seen.list = store_list(s, prefix);
	ok = store_foreach(s, prefix, foreach_collect, &seen) == 0 &&
	     seen.same_values &&
	     json_array_size(seen.keys) == json_object_size(seen.list);
	json_object_foreach(seen.list, key, v) {
		const char *got =
			json_string_value(json_array_get(seen.keys, i++));

		if (!got || strcmp(got, key))
			ok = 0;
	}
	json_decref(seen.keys);
	json_decref(seen.list);
	return ok;
}

static void test_foreach(void)
{
	struct foreach_seen seen = { .same_values = 1 };
	struct paths p;
	struct store *s;
	struct store_txn *t;

	s = store_open_new(&p, "foreach");
	if (!s)
		return;
	CHECK(foreach_matches_list(s, ""));
	CHECK(foreach_matches_list(s, "ns/"));

	t = store_txn_new();
	store_txn_set(t, "ns/blue", json_object());
	store_txn_set(t, "link/blue/va", json_pack("{s:i}", "mtu", 1500));
	store_txn_set(t, "ns/red", json_object());
	store_txn_set(t, "addr/blue/va/198.18.0.1/24", json_object());
	store_txn_set(t, "link/red/vb", json_pack("{s:i}", "mtu", 1400));
	store_txn_set(t, "link/blue/vc", json_pack("{s:i}", "mtu", 1300));
	store_txn_set(t, "addr/blue/va/198.18.0.2/24", json_object());
	store_txn_set(t, "plain", json_integer(1));
	CHECK(store_commit(s, t) == 0);
	store_txn_free(t);
	/* A replaced value keeps its place; a deleted and set again key
	 * moves to the end. */
	CHECK(commit_set(s, "link/blue/va", json_pack("{s:i}", "mtu", 9000)) ==
	      0);
	t = store_txn_new();
	store_txn_del(t, "ns/blue");
	CHECK(store_commit(s, t) == 0);
	store_txn_free(t);
	CHECK(commit_set(s, "ns/blue", json_object()) == 0);

	/* Indexed prefixes, scanned ones, and ones nothing matches. */
	CHECK(foreach_matches_list(s, ""));
	CHECK(foreach_matches_list(s, "ns/"));
	CHECK(foreach_matches_list(s, "link/"));
	CHECK(foreach_matches_list(s, "link/blue/"));
	CHECK(foreach_matches_list(s, "addr/blue/va/"));
	CHECK(foreach_matches_list(s, "addr/blue/va/198.18.0.1/"));
	CHECK(foreach_matches_list(s, "link/blue/v"));
	CHECK(foreach_matches_list(s, "pl"));
	CHECK(foreach_matches_list(s, "veth/"));
	CHECK(foreach_matches_list(s, "nothing"));

	/* A set emptied and filled again; a key too long to be indexed. */
	t = store_txn_new();
	store_txn_del(t, "addr/blue/va/198.18.0.1/24");
	store_txn_del(t, "addr/blue/va/198.18.0.2/24");
	CHECK(store_commit(s, t) == 0);
	store_txn_free(t);
	CHECK(foreach_matches_list(s, "addr/blue/va/"));
	CHECK(foreach_matches_list(s, "addr/"));
	CHECK(commit_set(s, "addr/blue/va/198.18.0.2/24", json_object()) == 0);
	CHECK(commit_set(s, "addr/blue/va/198.18.0.1/24", json_object()) == 0);
	CHECK(foreach_matches_list(s, "addr/blue/va/"));
	{
		char key[320], prefix[320];

		memset(key, 'n', 300);
		strcpy(key + 300, "/x/y");
		CHECK(commit_set(s, key, json_integer(2)) == 0);
		memcpy(prefix, key, 301);
		prefix[301] = '\0';
		CHECK(foreach_matches_list(s, prefix));
		CHECK(foreach_matches_list(s, key));
		t = store_txn_new();
		store_txn_del(t, key);
		CHECK(store_commit(s, t) == 0);
		store_txn_free(t);
		CHECK(foreach_matches_list(s, prefix));
	}

	/* A non-zero return stops the walk and is what it returns. */
	seen.keys = json_array();
	seen.list = store_list(s, "");
	seen.stop_after = 2;
	CHECK(store_foreach(s, "", foreach_collect, &seen) == 7);
	CHECK(json_array_size(seen.keys) == 2);
	CHECK(seen.same_values);
	json_decref(seen.keys);
	json_decref(seen.list);
	store_free(s);

	/* The same after a restart, whose order is the snapshot's. */
	OPEN_OR_RETURN(s, p.snap);
	CHECK(store_compact(s) == 0);
	store_free(s);
	OPEN_OR_RETURN(s, p.snap);
	CHECK(store_count(s) == 8);
	CHECK(foreach_matches_list(s, ""));
	CHECK(foreach_matches_list(s, "link/"));
	CHECK(foreach_matches_list(s, "addr/blue/va/"));
	store_free(s);
}

static int rm_entry(const char *path, const struct stat *st, int flag,
		    struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

/* The revision readers see: one more per change, the same for a marker-only
 * transaction, back where it was after an undo; the same after a reopen
 * (journal) and after a compaction (snapshot); a background sync started
 * with store_sync_begin() leaves everything durable for store_sync(). */
static void test_revision(void)
{
	struct store_txn *t, *u;
	struct store *s;
	struct paths p;

	s = store_open_new(&p, "revision");
	if (!s)
		return;
	CHECK(store_revision(s) == 0);
	t = store_txn_new();
	store_txn_set(t, "a", json_integer(1));
	CHECK(store_commit(s, t) == 0);
	store_txn_free(t);
	CHECK(store_revision(s) == 1);

	/* A change, then its undo (an intent the kernel refused). */
	t = store_txn_new();
	store_txn_set(t, "b", json_integer(2));
	u = store_txn_undo(s, t);
	CHECK(store_commit(s, t) == 0);
	store_sync_begin(s, false);
	CHECK(store_revision(s) == 2);
	CHECK(store_commit(s, u) == 0);
	CHECK(store_revision(s) == 1);
	CHECK(store_seq(s) == 3);
	store_txn_free(t);
	store_txn_free(u);

	/* A marker and its removal: the revision stands still. */
	t = store_txn_new();
	store_txn_keep_revision(t);
	store_txn_set(t, "gone-link/x/y", json_object());
	u = store_txn_undo(s, t);
	CHECK(store_commit(s, t) == 0);
	CHECK(store_revision(s) == 1);
	store_txn_lazy(u); /* forgetting a marker: no answer waits for it */
	CHECK(store_commit(s, u) == 0);
	CHECK(store_revision(s) == 1);
	CHECK(has_int(s, "b", -1));
	store_txn_free(t);
	store_txn_free(u);
	store_sync_begin(s, true);
	store_sync(s);
	store_free(s);

	OPEN_OR_RETURN(s, p.snap);
	CHECK(store_revision(s) == 1);
	CHECK(store_seq(s) == 5);
	CHECK(store_compact(s) == 0);
	store_free(s);
	OPEN_OR_RETURN(s, p.snap);
	CHECK(store_revision(s) == 1);
	CHECK(has_int(s, "a", 1));
	store_free(s);
}

/* Two changes whose undos come after both (requests in two namespaces, the
 * first refused): the first undo cannot step back, or the revision would
 * name again a state that had one change and not the other. */
static void test_revision_interleaved(void)
{
	struct store_txn *a, *b, *ua, *ub;
	struct store *s;
	struct paths p;

	s = store_open_new(&p, "revision-interleaved");
	if (!s)
		return;
	a = store_txn_new();
	store_txn_set(a, "a", json_integer(1));
	b = store_txn_new();
	store_txn_set(b, "b", json_integer(2));
	ua = store_txn_undo(s, a);
	ub = store_txn_undo(s, b);
	CHECK(store_commit(s, a) == 0 && store_revision(s) == 1);
	CHECK(store_commit(s, b) == 0 && store_revision(s) == 2);
	CHECK(store_commit(s, ua) == 0);
	CHECK(store_revision(s) == 3); /* not 1, which named {a} */
	CHECK(has_int(s, "a", -1) && has_int(s, "b", 2));
	CHECK(store_commit(s, ub) == 0);
	CHECK(store_revision(s) == 4); /* not 2, which named {a, b} */
	CHECK(has_int(s, "b", -1));
	store_txn_free(ua); /* an undo freed first unlinks itself */
	store_txn_free(a);
	store_txn_free(b);
	store_txn_free(ub);
	store_free(s);
}

/* A request waits for the sync point it took: what was committed before it
 * (lazy commits aside), never for what others commit after. */
static void test_sync_point(void)
{
	struct store_txn *t;
	struct store *s;
	struct paths p;
	uint64_t p1, p2;

	s = store_open_new(&p, "sync-point");
	if (!s)
		return;
	t = store_txn_new();
	store_txn_set(t, "a", json_integer(1));
	CHECK(store_commit(s, t) == 0);
	store_txn_free(t);
	p1 = store_sync_point(s);
	CHECK(p1 == store_seq(s));

	t = store_txn_new();
	store_txn_set(t, "gone-link/x/y", json_object());
	store_txn_keep_revision(t);
	store_txn_lazy(t);
	CHECK(store_commit(s, t) == 0);
	store_txn_free(t);
	CHECK(store_sync_point(s) == p1);

	store_sync_begin(s, false);
	t = store_txn_new();
	store_txn_set(t, "b", json_integer(2));
	CHECK(store_commit(s, t) == 0);
	store_txn_free(t);
	p2 = store_sync_point(s);
	CHECK(p2 == store_seq(s) && p2 > p1);
	store_sync_until(s, p1);
	store_sync_until(s, p2);
	store_sync_until(s, 0);
	store_free(s);

	OPEN_OR_RETURN(s, p.snap);
	CHECK(has_int(s, "a", 1) && has_int(s, "b", 2));
	store_free(s);
}

/* The ops of the last record of the journal (a new reference), or NULL. */
static json_t *journal_last_ops(const char *path)
{
	size_t len = 0;
	char *buf = file_read(path, &len), *end, *start;
	json_t *rec, *ops;

	if (!buf)
		return NULL;
	end = memchr(buf, '\0', len); /* the room after the records */
	end = end ? end : buf + len;
	while (end > buf && end[-1] == '\n')
		*--end = '\0';
	start = strrchr(buf, '\n');
	start = start ? start + 1 : buf;
	rec = strlen(start) > 9 ? json_loads(start + 9, 0, NULL) : NULL;
	ops = json_incref(json_object_get(rec, "ops"));
	json_decref(rec);
	free(buf);
	return ops;
}

/* The journal's bytes are those of `want` (from file_read). */
static int journal_is(const struct paths *p, const char *want, size_t len)
{
	return want && file_equals(p->journal, want, len) &&
	       file_size(p->journal) == (long)len;
}

/* Nothing changed, nothing moves (README.md, "Desired state"): a
 * transaction that leaves every key as it is (the same value, keys in
 * another order; a delete of an absent key; a key set and deleted again)
 * writes no record (the journal's bytes stay), keeps seq, revision and the
 * sync point; one that changes some keys writes those alone. */
static void test_unchanged(void)
{
	struct store_txn *t;
	struct store *s;
	struct paths p;
	char *journal;
	size_t len = 0;
	uint64_t point;
	json_t *ops;

	s = store_open_new(&p, "unchanged");
	if (!s)
		return;
	t = store_txn_new();
	store_txn_set(t, "ns/a", json_object());
	store_txn_set(t, "link/a/v",
		      json_pack("{s:s, s:b, s:i, s:{s:s, s:s}}", "kind", "veth",
				"up", 1, "mtu", 1400, "peer", "namespace", "b",
				"name", "w"));
	CHECK(store_commit(s, t) == 0);
	store_txn_free(t);
	store_sync(s);
	CHECK(store_seq(s) == 1 && store_revision(s) == 1);
	point = store_sync_point(s);
	journal = file_read(p.journal, &len);
	CHECK(journal != NULL);

	/* The same values, the record's keys in another order. */
	t = store_txn_new();
	store_txn_set(t, "ns/a", json_object());
	store_txn_set(t, "link/a/v",
		      json_pack("{s:{s:s, s:s}, s:i, s:b, s:s}", "peer", "name",
				"w", "namespace", "b", "mtu", 1400, "up", 1,
				"kind", "veth"));
	CHECK(store_commit(s, t) == STORE_UNCHANGED);
	store_txn_free(t);
	/* A delete of what is absent; a key set and deleted again. */
	t = store_txn_new();
	store_txn_del(t, "addr/a/v/198.18.0.1/24");
	store_txn_set(t, "ns/c", json_object());
	store_txn_del(t, "ns/c");
	CHECK(store_commit(s, t) == STORE_UNCHANGED);
	store_txn_free(t);
	CHECK(store_seq(s) == 1 && store_revision(s) == 1);
	CHECK(store_sync_point(s) == point);
	CHECK(journal_is(&p, journal, len));
	CHECK(has_int(s, "ns/c", -1) && store_count(s) == 2);

	/* Not the same: an integer and a real are different JSON. */
	t = store_txn_new();
	store_txn_set(t, "ns/a", json_pack("{s:i}", "x", 1));
	CHECK(store_commit(s, t) == 0);
	store_txn_free(t);
	t = store_txn_new();
	store_txn_set(t, "ns/a", json_pack("{s:f}", "x", 1.0));
	CHECK(store_commit(s, t) == 0);
	store_txn_free(t);
	CHECK(store_seq(s) == 3 && store_revision(s) == 3);

	/* Mixed: the record holds the real change alone. */
	t = store_txn_new();
	store_txn_set(t, "ns/a", json_pack("{s:f}", "x", 1.0));
	store_txn_set(t, "link/a/v", json_pack("{s:i}", "mtu", 9000));
	store_txn_del(t, "link/a/none");
	CHECK(store_txn_len(t) == 3);
	CHECK(store_commit(s, t) == 0);
	CHECK(store_txn_len(t) == 3); /* the caller's transaction stays */
	store_txn_free(t);
	CHECK(store_seq(s) == 4 && store_revision(s) == 4);
	ops = journal_last_ops(p.journal);
	CHECK(json_array_size(ops) == 1 &&
	      !strcmp(json_string_value(
			      json_object_get(json_array_get(ops, 0), "set"))
			      ?: "",
		      "link/a/v"));
	json_decref(ops);
	store_sync(s);
	free(journal);
	journal = file_read(p.journal, &len);

	/* A creation that creates nothing is not refused by the limit. */
	store_set_max_objects(s, 1);
	t = store_txn_new();
	store_txn_set(t, "ns/a", json_pack("{s:f}", "x", 1.0));
	store_txn_creates(t);
	CHECK(store_commit(s, t) == STORE_UNCHANGED);
	store_txn_free(t);
	CHECK(journal_is(&p, journal, len));
	store_free(s);

	/* Reopened: the same state, seq and revision, nothing replayed
	 * twice; and the journal as it was, room cut. */
	s = store_open_ok(p.snap);
	CHECK(s != NULL);
	if (s) {
		CHECK(store_seq(s) == 4 && store_revision(s) == 4);
		CHECK(store_count(s) == 2);
		store_free(s);
	}
	free(journal);
}

/* The intent protocol on top: an intent that changes nothing leaves an
 * empty undo (which commits nothing, and never writes back over a later
 * change); one that changes some keys, an undo of those alone; one whose
 * only change is a marker steps no revision, and neither does its undo,
 * which would otherwise step back to a number that named another state. */
static void test_unchanged_undo(void)
{
	struct store_txn *t, *u, *o;
	struct store *s;
	struct paths p;

	s = store_open_new(&p, "unchanged-undo");
	if (!s)
		return;
	CHECK(commit_set(s, "link/a/v", json_integer(1)) == 0);
	CHECK(store_revision(s) == 1);

	/* Dropped whole: the undo is empty, and another change made
	 * between the two (as a concurrent request would) stays. */
	t = store_txn_new();
	store_txn_set(t, "link/a/v", json_integer(1));
	u = store_txn_undo(s, t);
	CHECK(u && store_txn_len(u) == 1);
	CHECK(store_commit(s, t) == STORE_UNCHANGED);
	CHECK(store_txn_len(u) == 0);
	CHECK(commit_set(s, "link/a/v", json_integer(2)) == 0);
	CHECK(store_revision(s) == 2 && store_seq(s) == 2);
	CHECK(store_commit(s, u) == STORE_UNCHANGED);
	CHECK(has_int(s, "link/a/v", 2));
	CHECK(store_revision(s) == 2 && store_seq(s) == 2);
	store_txn_free(t);
	store_txn_free(u);

	/* Dropped in part: the undo puts back the real change alone, and
	 * steps back to the revision that named the state before it. */
	t = store_txn_new();
	store_txn_set(t, "link/a/v", json_integer(2));
	store_txn_set(t, "link/a/w", json_integer(3));
	u = store_txn_undo(s, t);
	CHECK(store_commit(s, t) == 0);
	CHECK(store_revision(s) == 3 && store_txn_len(u) == 1);
	CHECK(store_commit(s, u) == 0);
	CHECK(store_revision(s) == 2 && store_seq(s) == 4);
	CHECK(has_int(s, "link/a/v", 2) && has_int(s, "link/a/w", -1));
	store_txn_free(t);
	store_txn_free(u);

	/* A change of a record that is the same, with its marker (a rename
	 * to the same name): the marker is written, the revision stays, and
	 * its undo does not step back either. */
	t = store_txn_new();
	store_txn_set(t, "link/a/v", json_integer(2));
	store_txn_set(t, "moving/a/v", json_object());
	u = store_txn_undo(s, t);
	CHECK(store_commit(s, t) == 0);
	CHECK(store_seq(s) == 5 && store_revision(s) == 2);
	CHECK(store_txn_len(u) == 1);
	CHECK(store_commit(s, u) == 0);
	CHECK(store_seq(s) == 6 && store_revision(s) == 2);
	CHECK(store_count(s) == 1);
	store_txn_free(t);
	store_txn_free(u);

	/* Interleaved with a real change and its undo: the numbers only
	 * go where they would without the dropped intent. */
	t = store_txn_new();
	store_txn_set(t, "link/a/x", json_integer(4));
	o = store_txn_new();
	store_txn_set(o, "link/a/v", json_integer(2));
	u = store_txn_undo(s, t);
	CHECK(store_commit(s, t) == 0 && store_revision(s) == 3);
	store_txn_free(t);
	t = store_txn_undo(s, o);
	CHECK(store_commit(s, o) == STORE_UNCHANGED);
	CHECK(store_commit(s, t) == STORE_UNCHANGED);
	CHECK(store_revision(s) == 3);
	CHECK(store_commit(s, u) == 0 && store_revision(s) == 2);
	CHECK(has_int(s, "link/a/x", -1));
	store_txn_free(t);
	store_txn_free(o);
	store_txn_free(u);
	store_free(s);

	s = store_open_ok(p.snap);
	CHECK(s != NULL);
	if (s) {
		CHECK(store_seq(s) == 8 && store_revision(s) == 2);
		CHECK(has_int(s, "link/a/v", 2) && store_count(s) == 1);
		store_free(s);
	}
}

/* The limit on desired objects: a creation that would go past it is refused
 * and stores nothing; changes of what exists, deletions and transactions
 * not marked as creations never are; markers are not counted; the count
 * survives a reopen, from the journal and from a snapshot. */
static void test_objects_limit(void)
{
	struct paths p;
	struct store *s;
	struct store_txn *t;
	uint64_t seq;

	s = store_open_new(&p, "limit");
	if (!s)
		return;
	CHECK(store_objects(s) == 0);
	store_set_max_objects(s, 3);
	CHECK(store_max_objects(s) == 3);
	t = store_txn_new();
	store_txn_set(t, "ns/a", json_object());
	store_txn_set(t, "link/a/x", json_object());
	store_txn_set(t, "gone-ns/z", json_object()); /* a marker */
	store_txn_creates(t);
	CHECK(store_commit(s, t) == 0);
	store_txn_free(t);
	CHECK(store_objects(s) == 2 && store_count(s) == 3);

	/* Two more would make 4: refused, nothing stored. */
	seq = store_seq(s);
	t = store_txn_new();
	store_txn_set(t, "link/a/y", json_object());
	store_txn_set(t, "link/b/z", json_object());
	store_txn_creates(t);
	CHECK(store_commit(s, t) == -STORE_EQUOTA);
	store_txn_free(t);
	CHECK(store_seq(s) == seq && store_objects(s) == 2);
	CHECK(has_int(s, "link/a/y", -1));

	/* Not a creation: never refused, even past the limit. */
	t = store_txn_new();
	store_txn_set(t, "link/a/y", json_integer(1));
	store_txn_set(t, "addr/a/y/198.18.0.1/24", json_object());
	CHECK(store_commit(s, t) == 0);
	store_txn_free(t);
	CHECK(store_objects(s) == 4);

	/* A creation that only sets what exists adds nothing: it passes. */
	t = store_txn_new();
	store_txn_set(t, "link/a/y", json_integer(2));
	store_txn_creates(t);
	CHECK(store_commit(s, t) == 0);
	store_txn_free(t);
	CHECK(has_int(s, "link/a/y", 2) && store_objects(s) == 4);

	/* Deletions make room, one object at a time. */
	t = store_txn_new();
	store_txn_del(t, "addr/a/y/198.18.0.1/24");
	store_txn_del(t, "link/a/y");
	store_txn_del(t, "gone-ns/z");
	CHECK(store_commit(s, t) == 0);
	store_txn_free(t);
	CHECK(store_objects(s) == 2 && store_count(s) == 2);
	t = store_txn_new();
	store_txn_set(t, "addr/a/x/198.18.0.2/24", json_object());
	store_txn_creates(t);
	CHECK(store_commit(s, t) == 0);
	store_txn_free(t);
	CHECK(store_objects(s) == 3);
	t = store_txn_new();
	store_txn_set(t, "ns/b", json_object());
	store_txn_creates(t);
	CHECK(store_commit(s, t) == -STORE_EQUOTA);
	store_txn_free(t);
	store_free(s);

	/* Counted again on open: from the journal, then from a snapshot. */
	OPEN_OR_RETURN(s, p.snap);
	CHECK(store_objects(s) == 3);
	CHECK(store_compact(s) == 0);
	store_free(s);
	OPEN_OR_RETURN(s, p.snap);
	CHECK(store_objects(s) == 3);
	store_free(s);
}

int main(void)
{
	strcpy(test_dir, "/tmp/netnsd-test-store-XXXXXX");
	if (!mkdtemp(test_dir)) {
		perror("mkdtemp");
		return 1;
	}
	test_roundtrip();
	test_set_del();
	test_undo();
	test_revision();
	test_revision_interleaved();
	test_unchanged();
	test_unchanged_undo();
	test_sync_point();
	test_torn();
	test_room();
	test_room_steps();
	test_damaged();
	test_holes();
	test_snapshots();
	test_compact();
	test_lock();
	test_parents();
	test_many();
	test_foreach();
	test_objects_limit();
	nftw(test_dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	return check_report();
}
