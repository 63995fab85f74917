/* twshim — a small async-signal-safe formatter for log lines.
 *
 * Supports %s %d %u %ld %lu %zu %x %c %%; no floating point, no
 * allocation, no locale.  Always NUL-terminates; returns the length
 * written (truncated to size - 1). */
#ifndef TWSHIM_FMT_H
#define TWSHIM_FMT_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

size_t tw_vfmt(char *buf, size_t size, const char *fmt, va_list ap);
size_t tw_fmt(char *buf, size_t size, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* UTC time as RFC 3339 with microseconds: "2026-12-02T00:44:44.123456Z".
 * No locale, no tz file: safe in a signal handler. */
size_t tw_fmt_rfc3339(char *buf, size_t size, int64_t sec, long nsec);

#endif
