#include "log.h"

#include <errno.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

enum log_format { LOG_TEXT, LOG_LOGFMT, LOG_JSON };

static enum log_level log_min = LOG_LEVEL_INFO;
static enum log_format log_format = LOG_TEXT;
static const char *const log_names[] = { "debug", "info", "warn", "error" };

int log_set_level(const char *name)
{
	for (int i = 0; i < 4; i++) {
		if (!strcmp(name, log_names[i])) {
			log_min = (enum log_level)i;
			return 0;
		}
	}
	return -1;
}

int log_set_format(const char *name)
{
	if (!strcmp(name, "text"))
		log_format = LOG_TEXT;
	else if (!strcmp(name, "logfmt"))
		log_format = LOG_LOGFMT;
	else if (!strcmp(name, "json"))
		log_format = LOG_JSON;
	else
		return -1;
	return 0;
}

/* Appends `s` to buf, quoted for logfmt when needed, with control bytes
 * escaped so a client's bytes can never forge a line. */
static size_t log_put(char *buf, size_t used, size_t cap, const char *s,
		      int quote)
{
	if (quote && used < cap)
		buf[used++] = '"';
	for (; *s && used + 5 < cap; s++) {
		unsigned char c = (unsigned char)*s;

		if (c < 0x20 || c == 0x7f)
			used += (size_t)snprintf(buf + used, cap - used,
						 "\\x%02x", c);
		else if (quote && (c == '"' || c == '\\')) {
			buf[used++] = '\\';
			buf[used++] = (char)c;
		} else
			buf[used++] = (char)c;
	}
	if (quote && used < cap)
		buf[used++] = '"';
	return used;
}

/* One write(2) per line, with no stdio lock between threads: a single
 * write keeps a line whole in an O_APPEND file, and in a pipe up to
 * PIPE_BUF (4 KiB, more than a text line's 2 KiB; a longer JSON line may
 * mix with another there). */
static void log_write_line(const char *text, size_t len)
{
	struct iovec iov[2] = {
		{ .iov_base = (void *)text, .iov_len = len },
		{ .iov_base = "\n", .iov_len = 1 },
	};
	int i = 0;

	while (i < 2) {
		ssize_t n = writev(STDERR_FILENO, iov + i, 2 - i);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return; /* nowhere to log to: nothing to be done */
		for (; i < 2 && (size_t)n >= iov[i].iov_len; i++)
			n -= (ssize_t)iov[i].iov_len;
		if (i < 2) {
			iov[i].iov_base = (char *)iov[i].iov_base + n;
			iov[i].iov_len -= (size_t)n;
		}
	}
}

static int log_needs_quotes(const char *s)
{
	return !*s || strpbrk(s, " =\"\\") != NULL;
}

void log_fields(enum log_level level, const char *msg, int n,
		const char *const keys[], const char *const vals[])
{
	char line[2048], stamp[40];
	struct timespec ts;
	struct tm tm;
	size_t used = 0;

	if (level < log_min)
		return;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(stamp + strlen(stamp), sizeof(stamp) - strlen(stamp),
		 ".%03ldZ", ts.tv_nsec / 1000000);

	if (log_format == LOG_JSON) {
		json_t *o = json_pack("{s:s, s:s, s:s}", "time", stamp, "level",
				      log_names[level], "msg", msg);
		char *text;

		for (int i = 0; o && i < n; i++)
			json_object_set_new(o, keys[i], json_string(vals[i]));
		text = o ? json_dumps(o, JSON_COMPACT | JSON_ENSURE_ASCII)
			 : NULL;
		if (text)
			log_write_line(text, strlen(text));
		free(text);
		json_decref(o);
		return;
	}
	if (log_format == LOG_LOGFMT) {
		used = (size_t)snprintf(line, sizeof(line),
					"time=%s level=%s msg=", stamp,
					log_names[level]);
		used = log_put(line, used, sizeof(line), msg,
			       log_needs_quotes(msg));
	} else {
		used = (size_t)snprintf(line, sizeof(line), "%s %s ", stamp,
					log_names[level]);
		used = log_put(line, used, sizeof(line), msg, 0);
	}
	for (int i = 0; i < n && used + 8 < sizeof(line); i++) {
		line[used++] = ' ';
		used = log_put(line, used, sizeof(line), keys[i], 0);
		line[used++] = '=';
		used = log_put(line, used, sizeof(line), vals[i],
			       log_needs_quotes(vals[i]));
	}
	log_write_line(line, used < sizeof(line) ? used : sizeof(line) - 1);
}

void log_msg(enum log_level level, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	if (level < log_min)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log_fields(level, msg, 0, NULL, NULL);
}
