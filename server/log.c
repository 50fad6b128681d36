/* log.c: the log sink. Lines go to stderr with a UTC timestamp, or to
 * syslog with the matching priority. */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <syslog.h>
#include <time.h>

#include <openssl/err.h>

/* Set once by log_open() before any other thread or the loop starts. */
static bool log_to_syslog;
static enum log_level log_min = LOG_LVL_INFO;

void log_open(bool use_syslog, enum log_level min_level)
{
	log_to_syslog = use_syslog;
	log_min = min_level;
	if (use_syslog)
		openlog("calldeskd", LOG_PID, LOG_DAEMON);
}

static int syslog_priority(enum log_level level)
{
	switch (level) {
	case LOG_LVL_DEBUG: return LOG_DEBUG;
	case LOG_LVL_INFO: return LOG_INFO;
	case LOG_LVL_WARN: return LOG_WARNING;
	case LOG_LVL_ERROR: return LOG_ERR;
	}
	return LOG_INFO;
}

static const char *level_name(enum log_level level)
{
	static const char *const names[] = { "debug", "info", "warn", "error" };
	return names[level];
}

void log_msg(enum log_level level, const char *fmt, ...)
{
	if (level < log_min)
		return;
	va_list ap;
	va_start(ap, fmt);
	if (log_to_syslog) {
		vsyslog(syslog_priority(level), fmt, ap);
	} else {
		char stamp[32];
		time_t now = time(NULL);
		struct tm tm;
		gmtime_r(&now, &tm);
		strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%SZ", &tm);
		flockfile(stderr);
		fprintf(stderr, "%s %s: ", stamp, level_name(level));
		vfprintf(stderr, fmt, ap);
		fputc('\n', stderr);
		funlockfile(stderr);
	}
	va_end(ap);
}

void log_openssl(enum log_level level, const char *what)
{
	unsigned long e;
	char buf[256];
	while ((e = ERR_get_error()) != 0) {
		ERR_error_string_n(e, buf, sizeof buf);
		log_msg(level, "%s: %s", what, buf);
	}
}
