/* twshim — logging with write(2) only: async-signal-safe, never stdout.
 *
 * Lines look like "2026-12-02T00:44:44.123456Z twshim[curl:1234]: warn: text"
 * (UTC, RFC 3339, from clock_gettime and our own formatting: no localtime,
 * which takes locks and reads files).  The destination is
 * stderr or TWSHIM_LOG_FILE, opened for each line (O_APPEND|O_CLOEXEC|
 * O_NOFOLLOW) so that a program closing or reusing fd numbers can never
 * make the library write into one of its own files or sockets.  When the file
 * cannot be opened, one line says why, once per process, and the lines go
 * to stderr.
 * errno is preserved by every function here. */
#ifndef TWSHIM_LOG_H
#define TWSHIM_LOG_H

#include <stdbool.h>

#include "twshim/policy.h"

void tw_log_configure(enum tw_log_level level, const char *file, bool secure_mode);
bool tw_log_enabled(enum tw_log_level level);
void tw_log(enum tw_log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Whatever TWSHIM_LOG says (a line the operator asked for). */
void tw_log_always(enum tw_log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* No tw_error here: an error line is tw_log(TW_LOG_ERROR, ...); the name
 * tw_error is the command's printer (tools/message.h), which the
 * supervisor uses beside this log. */

#define tw_warn(...) tw_log(TW_LOG_WARN, __VA_ARGS__)
#define tw_info(...) tw_log(TW_LOG_INFO, __VA_ARGS__)
#define tw_debug(...)                                  \
	do {                                           \
		if (tw_log_enabled(TW_LOG_DEBUG))      \
			tw_log(TW_LOG_DEBUG, __VA_ARGS__); \
	} while (0)

#endif
