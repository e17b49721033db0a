/* Operator-facing log lines on stderr, as text, logfmt or JSON. At the
 * bottom of the layers (docs/DESIGN.md) so that any of them may log; below
 * server/ and handlers/, a line above debug is only for what no answer
 * carries (a change that could not be taken back, a namespace the event
 * monitor cannot watch). Nothing secret is ever passed here. */
#ifndef NETNSD_LOG_H
#define NETNSD_LOG_H

enum log_level {
	LOG_LEVEL_DEBUG,
	LOG_LEVEL_INFO,
	LOG_LEVEL_WARN,
	LOG_LEVEL_ERROR
};

int log_set_level(const char *name);
int log_set_format(const char *name);

void log_msg(enum log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* One line with extra fields: keys[i] = vals[i] for i < n. */
void log_fields(enum log_level level, const char *msg, int n,
		const char *const keys[], const char *const vals[]);

#define log_debug(...) log_msg(LOG_LEVEL_DEBUG, __VA_ARGS__)
#define log_info(...)  log_msg(LOG_LEVEL_INFO, __VA_ARGS__)
#define log_warn(...)  log_msg(LOG_LEVEL_WARN, __VA_ARGS__)
#define log_error(...) log_msg(LOG_LEVEL_ERROR, __VA_ARGS__)

#endif
