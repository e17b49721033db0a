/* State-file loading: store_open() on a snapshot and a journal the fuzzer
 * writes, then a script of operations on what it opened. Damage must fail
 * cleanly with every file left byte for byte as it was; what opens must
 * answer the same through every path (indexed list, scan, get), and survive
 * commits, undo, compaction and reopening unchanged.
 *
 * Input, a container of three sections, each optional:
 *   <snapshot bytes>%%journal\n<journal bytes>%%ops\n<one op a line>
 * An empty snapshot section means no snapshot file; a missing journal
 * section, no journal file. A journal line that starts with "????????" gets
 * the right CRC there, so that the fuzzer can reach past the checksum into
 * the records. Ops:
 *   s KEY JSON   set KEY in the pending transaction
 *   d KEY        delete KEY in the pending transaction
 *   c            commit the pending transaction
 *   u            commit it, then its undo: nothing must change
 *   k            compact
 *   r            close and open again
 *   l PREFIX     list
 *   g KEY        get
 *   D N K A B    damage: compact, commit N records (each synced, as requests
 *                are answered), close, then damage the journal, kind K:
 *                z (B zero bytes at A), x (bit B of byte A flipped),
 *                p (record A written twice), m (record A removed); open
 *                again. Either the open refuses and no file changed, or it
 *                serves every record before the damage, exactly; it must
 *                refuse when a record after the damage says a damaged one
 *                was on disk (only the last record has none after it).
 *                Ends the script. */
#include "fuzz.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>

#include "state/crc32.h"
#include "state/store.h"

#define FUZZ_OPS_MAX	     64
#define FUZZ_PREFIX_KEYS_MAX 64

static char fuzz_dir[PATH_MAX];
static char fuzz_snap[PATH_MAX + 32], fuzz_journal[PATH_MAX + 64],
	fuzz_tmp[PATH_MAX + 64];

static void fuzz_remove_files(void)
{
	unlink(fuzz_snap);
	unlink(fuzz_journal);
	unlink(fuzz_tmp);
}

static void fuzz_cleanup(void)
{
	char sub[PATH_MAX + 8];

	fuzz_remove_files();
	snprintf(sub, sizeof(sub), "%s/s", fuzz_dir);
	rmdir(sub);
	rmdir(fuzz_dir);
}

/* One private directory per process, on tmpfs when there is one: the store
 * syncs after every write. The snapshot sits one level down so that
 * store_open() also makes its directory. */
static void fuzz_setup(void)
{
	const char *base = getenv("FUZZ_TMPDIR");

	if (fuzz_dir[0])
		return;
	if (!base && access("/dev/shm", W_OK) == 0)
		base = "/dev/shm";
	if (!base)
		base = getenv("TMPDIR");
	if (!base)
		base = "/tmp";
	snprintf(fuzz_dir, sizeof(fuzz_dir), "%s/netnsd-fuzz-store-XXXXXX",
		 base);
	if (!mkdtemp(fuzz_dir)) {
		perror("mkdtemp");
		abort();
	}
	snprintf(fuzz_snap, sizeof(fuzz_snap), "%s/s/state.json", fuzz_dir);
	snprintf(fuzz_journal, sizeof(fuzz_journal), "%s.journal", fuzz_snap);
	snprintf(fuzz_tmp, sizeof(fuzz_tmp), "%s.tmp", fuzz_snap);
	atexit(fuzz_cleanup);
}

static void fuzz_write(const char *path, const uint8_t *buf, size_t len)
{
	char sub[PATH_MAX + 8];
	int fd;

	snprintf(sub, sizeof(sub), "%s/s", fuzz_dir);
	mkdir(sub, 0700);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	FUZZ_CHECK(fd >= 0);
	FUZZ_CHECK(write(fd, buf, len) == (ssize_t)len);
	close(fd);
}

/* The file's bytes, or NULL when it does not exist. */
static char *fuzz_read(const char *path, size_t *ret_len)
{
	struct stat st;
	char *buf;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		FUZZ_CHECK(errno == ENOENT);
		return NULL;
	}
	FUZZ_CHECK(fstat(fd, &st) == 0);
	buf = malloc((size_t)st.st_size + 1);
	FUZZ_CHECK(buf);
	FUZZ_CHECK(read(fd, buf, (size_t)st.st_size) == st.st_size);
	buf[st.st_size] = '\0';
	close(fd);
	*ret_len = (size_t)st.st_size;
	return buf;
}

static bool fuzz_same(const char *path, const uint8_t *want, size_t len)
{
	size_t got_len;
	char *got = fuzz_read(path, &got_len);
	bool same;

	if (!want)
		same = !got;
	else
		same = got && got_len == len && !memcmp(got, want, len);
	free(got);
	return same;
}

/* The keys of `model` that start with `prefix`, found the slow way. */
static json_t *fuzz_filter(json_t *model, const char *prefix)
{
	json_t *out = json_object(), *v;
	size_t plen = strlen(prefix);
	const char *key;

	json_object_foreach(model, key, v)
		if (!strncmp(key, prefix, plen))
			json_object_set(out, key, v);
	return out;
}

static int fuzz_collect(const char *key, json_t *value, void *userdata)
{
	return json_object_set(userdata, key, value) < 0 ? -ENOMEM : 0;
}

/* Two objects with the same keys in the same order. */
static bool fuzz_same_order(json_t *a, json_t *b)
{
	void *ia = json_object_iter(a), *ib = json_object_iter(b);

	for (; ia && ib; ia = json_object_iter_next(a, ia),
			 ib = json_object_iter_next(b, ib))
		if (strcmp(json_object_iter_key(ia), json_object_iter_key(ib)))
			return false;
	return !ia && !ib;
}

static void fuzz_check_list(struct store *s, json_t *model, const char *prefix)
{
	json_t *got = store_list(s, prefix), *want = fuzz_filter(model, prefix);
	json_t *walked = json_object();

	FUZZ_CHECK(got && json_equal(got, want));
	/* store_foreach() visits the same, in store_list()'s order. */
	FUZZ_CHECK(walked &&
		   store_foreach(s, prefix, fuzz_collect, walked) == 0 &&
		   json_equal(walked, want) && fuzz_same_order(walked, got));
	json_decref(walked);
	json_decref(got);
	json_decref(want);
}

/* The store holds exactly `model`, through every way of reading it. With
 * `deep`, each key's every prefix up to a '/' is listed too. */
static void fuzz_check_store(struct store *s, json_t *model, bool deep)
{
	json_t *all = store_list(s, ""), *v;
	const char *key;
	size_t n = 0;

	FUZZ_CHECK(all && json_equal(all, model));
	json_decref(all);
	FUZZ_CHECK(store_count(s) == json_object_size(model));
	json_object_foreach(model, key, v) {
		json_t *got = store_get(s, key);

		FUZZ_CHECK(got && json_equal(got, v));
		json_decref(got);
		if (!deep || n++ >= FUZZ_PREFIX_KEYS_MAX)
			continue;
		for (const char *p = key; *p; p++) {
			char *prefix;

			if (*p != '/')
				continue;
			prefix = strndup(key, (size_t)(p - key) + 1);
			FUZZ_CHECK(prefix);
			fuzz_check_list(s, model, prefix);
			free(prefix);
		}
	}
}

/* What a snapshot file must be for store_open() to have taken it. */
static void fuzz_check_snapshot(const char *text, size_t len, json_t *model,
				uint64_t seq)
{
	json_t *root = json_loadb(
		text, len, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, NULL);
	json_t *version, *jseq, *objects;

	FUZZ_CHECK(root);
	FUZZ_CHECK(!strcmp(json_string_value(json_object_get(root, "format"))
				   ?: "",
			   "netnsd-state"));
	version = json_object_get(root, "version");
	FUZZ_CHECK(json_is_integer(version) &&
		   json_integer_value(version) == 1);
	jseq = json_object_get(root, "seq");
	FUZZ_CHECK(json_is_integer(jseq) && json_integer_value(jseq) >= 0);
	objects = json_object_get(root, "objects");
	FUZZ_CHECK(json_is_object(objects));
	if (model) {
		FUZZ_CHECK((uint64_t)json_integer_value(jseq) == seq);
		FUZZ_CHECK(json_equal(objects, model));
	}
	json_decref(root);
}

static struct store *fuzz_open(void)
{
	struct store *s = NULL;
	char err[512];
	int r;

	r = store_open(fuzz_snap, &s, err, sizeof(err));
	if (r < 0)
		fprintf(stderr, "store_open: %d: %s\n", r, err);
	FUZZ_CHECK(r == 0 && s);
	return s;
}

/* A transaction as the model sees it: [[key, value] or [key], ...]. */
static void fuzz_model_apply(json_t *model, json_t *pending)
{
	json_t *op;
	size_t i;

	json_array_foreach(pending, i, op) {
		const char *key = json_string_value(json_array_get(op, 0));

		if (json_array_size(op) == 2)
			json_object_set(model, key, json_array_get(op, 1));
		else
			json_object_del(model, key);
	}
}

/* Commits, and tells whether the transaction is in: only one past the
 * largest seq a snapshot can hold is refused, and then nothing changes. A
 * transaction that leaves the model as it was writes no record and keeps
 * the revision. */
static bool fuzz_commit(struct store *s, struct store_txn *t, json_t *pending,
			json_t *model)
{
	uint64_t seq = store_seq(s), rev = store_revision(s);
	json_t *after = json_deep_copy(model);
	bool changed;
	int r;

	FUZZ_CHECK(after);
	fuzz_model_apply(after, pending);
	changed = !json_equal(after, model);
	json_decref(after);
	r = store_commit(s, t);
	if (changed && seq >= INT64_MAX) {
		FUZZ_CHECK(r == -EOVERFLOW && store_seq(s) == seq);
		return false;
	}
	FUZZ_CHECK(r == (changed ? 0 : STORE_UNCHANGED));
	FUZZ_CHECK(store_seq(s) == seq + (changed ? 1 : 0));
	FUZZ_CHECK(changed || store_revision(s) == rev);
	store_sync(s);
	fuzz_model_apply(model, pending);
	return true;
}

static void fuzz_compact(struct store *s, json_t *model)
{
	size_t len;
	char *text;

	FUZZ_CHECK(store_compact(s) == 0);
	text = fuzz_read(fuzz_snap, &len);
	FUZZ_CHECK(text);
	fuzz_check_snapshot(text, len, model, store_seq(s));
	free(text);
	text = fuzz_read(fuzz_journal, &len);
	FUZZ_CHECK(text && len == 0);
	free(text);
	FUZZ_CHECK(access(fuzz_tmp, F_OK) < 0);
}

/* A key must be a C string of valid UTF-8 (names are checked long before
 * they reach the store), and a value any JSON jansson holds, NUL in
 * strings included. */
static char *fuzz_key(const char *s, size_t len)
{
	json_t *k;

	if (memchr(s, '\0', len))
		return NULL;
	k = json_stringn(s, len);
	if (!k)
		return NULL;
	json_decref(k);
	return strndup(s, len);
}

/* Nothing cut was vouched for: a record past the `kept` bytes, where a
 * record begins (after a newline), says that the last sequence on disk
 * when it was written is one that was kept (`seq` and before). The open
 * refuses a whole line there that is no record, so each one is. */
static void fuzz_check_cut(const char *journal, size_t len, size_t kept,
			   uint64_t seq)
{
	size_t pos = kept;

	while (pos < len) {
		const char *nl = memchr(journal + pos, '\n', len - pos);
		size_t end = nl ? (size_t)(nl - journal) : len;
		json_t *rec = NULL, *synced;
		char hex[9];

		if (!nl)
			break;
		if ((pos == kept || journal[pos - 1] == '\n') &&
		    end - pos > 9 && !memchr(journal + pos, '\0', end - pos)) {
			snprintf(hex, sizeof(hex), "%08x",
				 crc32c(journal + pos + 9, end - pos - 9));
			if (!memcmp(hex, journal + pos, 8))
				rec = json_loadb(journal + pos + 9,
						 end - pos - 9, JSON_ALLOW_NUL,
						 NULL);
		}
		synced = json_object_get(rec, "synced");
		if (json_is_integer(json_object_get(rec, "seq")))
			FUZZ_CHECK(json_is_integer(synced) &&
				   json_integer_value(synced) >= 0 &&
				   (uint64_t)json_integer_value(synced) <= seq);
		json_decref(rec);
		pos = end + 1;
	}
}

/* A copy of the journal section with every "????????" CRC filled in. */
static uint8_t *fuzz_journal_fixup(const uint8_t *in, size_t len)
{
	uint8_t *out = malloc(len + 1);
	size_t pos = 0;

	FUZZ_CHECK(out);
	memcpy(out, in, len);
	while (pos < len) {
		uint8_t *nl = memchr(out + pos, '\n', len - pos);
		size_t end = nl ? (size_t)(nl - out) : len;
		char hex[9];

		if (end - pos >= 9 && !memcmp(out + pos, "????????", 8)) {
			snprintf(hex, sizeof(hex), "%08x",
				 crc32c(out + pos + 9, end - pos - 9));
			memcpy(out + pos, hex, 8);
		}
		pos = end + 1;
	}
	return out;
}

#define FUZZ_DAMAGE_RECORDS 16

/* Where each record of a journal of whole records begins; returns how
 * many (at most FUZZ_DAMAGE_RECORDS), with the file's end after them. */
static int fuzz_records(const char *buf, size_t len,
			size_t at[FUZZ_DAMAGE_RECORDS + 1])
{
	int n = 0;
	size_t pos = 0;

	while (pos < len && n < FUZZ_DAMAGE_RECORDS) {
		const char *nl = memchr(buf + pos, '\n', len - pos);

		FUZZ_CHECK(nl);
		at[n++] = pos;
		pos = (size_t)(nl - buf) + 1;
	}
	FUZZ_CHECK(pos == len);
	at[n] = len;
	return n;
}

/* The damage op (see the top of the file). Records 1..n of the journal
 * are `seq0` + 1..n; models[i] is the content after record i. On a
 * refusal *sp is NULL. */
static void fuzz_damage(struct store **sp, json_t *model, const char *arg,
			size_t arg_len)
{
	json_t *models[FUZZ_DAMAGE_RECORDS + 1] = { NULL };
	size_t at[FUZZ_DAMAGE_RECORDS + 1], len, len2, a = 0, b = 0;
	uint64_t seq0 = store_seq(*sp);
	char spec[64], kind = 0, *buf, *snap, err[512];
	int n = 0, k, first = 0, last = 0; /* damaged records, from 1 */
	size_t snap_len;
	struct store *s;
	int r;

	if (arg_len >= sizeof(spec) || seq0 > INT64_MAX - 64)
		return;
	memcpy(spec, arg, arg_len);
	spec[arg_len] = '\0';
	if (sscanf(spec, "%d %c %zu %zu", &n, &kind, &a, &b) < 3 || n < 1 ||
	    n > FUZZ_DAMAGE_RECORDS)
		return;
	fuzz_compact(*sp, model);
	models[0] = json_deep_copy(model);
	for (int i = 1; i <= n; i++) {
		struct store_txn *t = store_txn_new();
		char key[16];

		snprintf(key, sizeof(key), "dmg/%d", i);
		FUZZ_CHECK(t);
		store_txn_set(t, key, json_integer(i));
		FUZZ_CHECK(store_commit(*sp, t) == 0);
		store_sync(*sp);
		store_txn_free(t);
		json_object_set_new(model, key, json_integer(i));
		models[i] = json_deep_copy(model);
		FUZZ_CHECK(models[i]);
	}
	store_free(*sp);
	*sp = NULL;
	buf = fuzz_read(fuzz_journal, &len);
	snap = fuzz_read(fuzz_snap, &snap_len);
	FUZZ_CHECK(buf && snap);
	FUZZ_CHECK(fuzz_records(buf, len, at) == n);
	buf = realloc(buf, 2 * len + 1);
	FUZZ_CHECK(buf);
	switch (kind) {
	case 'z':
	case 'x':
		if (a >= len)
			goto out; /* nothing damaged */
		if (kind == 'x') {
			buf[a] ^= (char)(1u << (b % 8));
			b = 1;
		}
		b = b < len - a ? b : len - a;
		if (!b)
			goto out;
		if (kind == 'z')
			memset(buf + a, 0, b);
		for (k = 1; k <= n; k++) {
			if (!first && at[k] > a)
				first = k;
			if (at[k - 1] < a + b)
				last = k;
		}
		break;
	case 'p':
	case 'm':
		if (a < 1 || a > (size_t)n)
			goto out;
		first = last = (int)a;
		len2 = at[a] - at[a - 1];
		if (kind == 'p') {
			memmove(buf + at[a] + len2, buf + at[a], len - at[a]);
			memcpy(buf + at[a], buf + at[a - 1], len2);
			len += len2;
		} else {
			memmove(buf + at[a - 1], buf + at[a], len - at[a]);
			len -= len2;
		}
		break;
	default: goto out;
	}
	fuzz_write(fuzz_journal, (const uint8_t *)buf, len);
	err[0] = '\0';
	s = NULL;
	r = store_open(fuzz_snap, &s, err, sizeof(err));
	FUZZ_CHECK(fuzz_same(fuzz_snap, (const uint8_t *)snap, snap_len));
	if (r < 0) {
		/* Refused, said why, and touched nothing. What a power loss
		 * leaves (zeros over the last record, or its end lost) opens;
		 * a removed last record is as if never written. */
		FUZZ_CHECK(r == -EBADMSG && err[0] && !s);
		FUZZ_CHECK(!(last == n && (kind == 'z' || kind == 'm')));
		FUZZ_CHECK(fuzz_same(fuzz_journal, (const uint8_t *)buf, len));
		goto out;
	}
	/* Record i + 1 says record i was on disk: damage before the last
	 * record must refuse, and so must a repeated record or a flipped bit
	 * anywhere (no crash writes them), unless the bit made a NUL or took
	 * the final newline: then the last record reads as cut short. */
	FUZZ_CHECK(last == n && (kind == 'z' || kind == 'm' ||
				 (kind == 'x' && (!buf[a] || a == len - 1))));
	/* Every record before the damage is served, and nothing else. */
	FUZZ_CHECK(store_seq(s) == seq0 + (uint64_t)first - 1);
	json_object_clear(model);
	json_object_update(model, models[first - 1]);
	fuzz_check_store(s, model, true);
	*sp = s;
out:
	if (!*sp) {
		/* Undamaged: opens with every record. */
		if (!first && kind) {
			*sp = fuzz_open();
			FUZZ_CHECK(store_seq(*sp) == seq0 + (uint64_t)n);
		}
	}
	for (int i = 0; i <= FUZZ_DAMAGE_RECORDS; i++)
		json_decref(models[i]);
	free(buf);
	free(snap);
}

static void fuzz_ops(struct store **sp, const char *ops, size_t len,
		     json_t *model)
{
	struct store_txn *t = store_txn_new();
	json_t *pending = json_array();
	const char *end = ops + len;
	int n = 0;

	FUZZ_CHECK(t && pending);
	while (ops < end && n++ < FUZZ_OPS_MAX) {
		const char *nl = memchr(ops, '\n', (size_t)(end - ops));
		const char *line = ops, *arg = "", *sp2;
		size_t line_len = nl ? (size_t)(nl - ops) : (size_t)(end - ops);
		size_t arg_len = 0;
		char *key;

		ops = nl ? nl + 1 : end;
		if (!line_len)
			continue;
		if (line_len >= 2 && line[1] == ' ') {
			arg = line + 2;
			arg_len = line_len - 2;
		}
		switch (line[0]) {
		case 's':
			sp2 = memchr(arg, ' ', arg_len);
			if (!sp2)
				break;
			key = fuzz_key(arg, (size_t)(sp2 - arg));
			if (key) {
				json_t *v = json_loadb(
					sp2 + 1,
					arg_len - (size_t)(sp2 + 1 - arg),
					JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);

				if (v) {
					json_array_append_new(
						pending,
						json_pack("[s, O]", key, v));
					store_txn_set(t, key, v);
				}
			}
			free(key);
			break;
		case 'd':
			key = fuzz_key(arg, arg_len);
			if (key) {
				json_array_append_new(pending,
						      json_pack("[s]", key));
				store_txn_del(t, key);
			}
			free(key);
			break;
		case 'c': fuzz_commit(*sp, t, pending, model); goto fresh;
		case 'u': {
			struct store_txn *u = store_txn_undo(*sp, t);
			json_t *before = json_deep_copy(model);
			uint64_t rev = store_revision(*sp);

			FUZZ_CHECK(u && before);
			if (fuzz_commit(*sp, t, pending, model)) {
				uint64_t seq = store_seq(*sp);
				int r = store_commit(*sp, u);

				if (store_txn_len(u) && seq >= INT64_MAX) {
					FUZZ_CHECK(r == -EOVERFLOW);
				} else {
					FUZZ_CHECK(r ==
						   (store_txn_len(u)
							    ? 0
							    : STORE_UNCHANGED));
					/* A change and its undo: the
					 * revision is where it was. */
					FUZZ_CHECK(store_revision(*sp) == rev);
					json_object_clear(model);
					json_object_update(model, before);
				}
			}
			store_txn_free(u);
			json_decref(before);
			fuzz_check_store(*sp, model, false);
			goto fresh;
		}
		case 'k': fuzz_compact(*sp, model); break;
		case 'D': fuzz_damage(sp, model, arg, arg_len); goto end;
		case 'r': {
			uint64_t seq = store_seq(*sp);
			uint64_t rev = store_revision(*sp);

			store_free(*sp);
			*sp = fuzz_open();
			FUZZ_CHECK(store_seq(*sp) == seq);
			FUZZ_CHECK(store_revision(*sp) == rev);
			fuzz_check_store(*sp, model, true);
			break;
		}
		case 'l':
			key = fuzz_key(arg, arg_len);
			if (key)
				fuzz_check_list(*sp, model, key);
			free(key);
			break;
		case 'g':
			key = fuzz_key(arg, arg_len);
			if (key) {
				json_t *got = store_get(*sp, key);
				json_t *want = json_object_get(model, key);

				FUZZ_CHECK(!got == !want);
				FUZZ_CHECK(!got || json_equal(got, want));
				json_decref(got);
			}
			free(key);
			break;
		}
		continue;
	fresh:
		store_txn_free(t);
		t = store_txn_new();
		json_array_clear(pending);
		FUZZ_CHECK(t);
		fuzz_check_store(*sp, model, false);
	}
end:
	store_txn_free(t);
	json_decref(pending);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *snap = data, *ops = NULL, *j, *o;
	uint8_t *journal = NULL;
	size_t snap_len = size, journal_len = 0, ops_len = 0, len;
	struct store *s = NULL;
	json_t *model;
	char err[512], *text;
	uint64_t seq;
	int r;

	fuzz_setup();
	j = memmem(data, size, "%%journal\n", 10);
	o = j ? memmem(j + 10, size - (size_t)(j + 10 - data), "%%ops\n", 6)
	      : memmem(data, size, "%%ops\n", 6);
	if (j) {
		snap_len = (size_t)(j - data);
		journal_len = (size_t)((o ? o : data + size) - (j + 10));
		journal = fuzz_journal_fixup(j + 10, journal_len);
	}
	if (o) {
		if (!j)
			snap_len = (size_t)(o - data);
		ops = o + 6;
		ops_len = size - (size_t)(ops - data);
	}
	if (!snap_len)
		snap = NULL;

	fuzz_remove_files();
	if (snap)
		fuzz_write(fuzz_snap, snap, snap_len);
	if (journal)
		fuzz_write(fuzz_journal, journal, journal_len);

	err[0] = '\0';
	r = store_open(fuzz_snap, &s, err, sizeof(err));
	FUZZ_CHECK(fuzz_same(fuzz_snap, snap, snap_len));
	FUZZ_CHECK(access(fuzz_tmp, F_OK) < 0);
	text = fuzz_read(fuzz_journal, &len);
	if (r < 0) {
		/* Damage: refused, said why, and nothing touched. An absent
		 * journal may have been created empty, to be locked. */
		FUZZ_CHECK(r == -EBADMSG && err[0] && !s);
		if (journal)
			FUZZ_CHECK(text && len == journal_len &&
				   !memcmp(text, journal, len));
		else
			FUZZ_CHECK(!text || len == 0);
		free(text);
		free(journal);
		fuzz_remove_files();
		return 0;
	}
	/* Opened: at most a torn tail was cut from the journal, back to the
	 * end of a whole record; zeros after the records stay as free room. */
	FUZZ_CHECK(s && text);
	if (journal) {
		const char *nul = memchr(text, '\0', len);
		size_t records = nul ? (size_t)(nul - text) : len;

		FUZZ_CHECK(len <= journal_len && !memcmp(text, journal, len));
		FUZZ_CHECK(records == 0 || text[records - 1] == '\n');
		for (size_t i = records; i < len; i++)
			FUZZ_CHECK(text[i] == '\0');
		fuzz_check_cut((const char *)journal, journal_len, records,
			       store_seq(s));
	} else {
		FUZZ_CHECK(len == 0);
	}
	free(text);
	free(journal);
	if (snap)
		fuzz_check_snapshot((const char *)snap, snap_len, NULL, 0);

	model = store_list(s, "");
	FUZZ_CHECK(model);
	fuzz_check_store(s, model, true);
	if (ops)
		fuzz_ops(&s, (const char *)ops, ops_len, model);
	if (!s) {
		/* A damage op's open refused (and checked that). */
		json_decref(model);
		fuzz_remove_files();
		return 0;
	}

	/* Whatever was done survives a restart. */
	seq = store_seq(s);
	store_free(s);
	s = fuzz_open();
	FUZZ_CHECK(store_seq(s) == seq);
	fuzz_check_store(s, model, false);
	store_free(s);
	json_decref(model);
	fuzz_remove_files();
	return 0;
}
