/* log.h: levelled logging to stderr or syslog, with printf checking.
 * The only process-wide state is the sink chosen at start-up (stderr or
 * syslog) and the minimum level; both are set once by main before the
 * loop starts. Never log passwords, card numbers or note text. */
#ifndef CALLDESK_LOG_H
#define CALLDESK_LOG_H

#include <stdbool.h>

enum log_level { LOG_LVL_DEBUG, LOG_LVL_INFO, LOG_LVL_WARN, LOG_LVL_ERROR };

void log_open(bool use_syslog, enum log_level min_level);
void log_msg(enum log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#define log_debug(...) log_msg(LOG_LVL_DEBUG, __VA_ARGS__)
#define log_info(...) log_msg(LOG_LVL_INFO, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_LVL_WARN, __VA_ARGS__)
#define log_error(...) log_msg(LOG_LVL_ERROR, __VA_ARGS__)

/* Drains OpenSSL's error queue into the log at the given level, each
 * entry prefixed with what. */
void log_openssl(enum log_level level, const char *what);

#endif
