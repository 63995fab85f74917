/* twshim — the command's printer (see message.h). */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "message.h"

static void write_all(const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(STDERR_FILENO, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return;
		p += w;
		n -= (size_t)w;
	}
}

void tw_error(const char *cmd, const char *fmt, ...)
{
	static const char prog[] = "twshim: ";
	const char *c = cmd ? cmd : "", *sep = cmd ? ": " : "";
	char small[1024], *line;
	va_list ap;
	int n, h;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	/* The line without its '\n'; one more byte for the NUL that the
	 * formatting writes and the '\n' then replaces. */
	size_t body = strlen(prog) + strlen(c) + strlen(sep) + (size_t)n;
	line = body < sizeof(small) ? small : malloc(body + 1);
	if (!line) { /* out of memory: what fits, still one line */
		line = small;
		body = sizeof(small) - 1;
	}
	h = snprintf(line, body + 1, "%s%s%s", prog, c, sep);
	if (h >= 0) {
		if ((size_t)h < body) {
			va_start(ap, fmt);
			vsnprintf(line + h, body + 1 - (size_t)h, fmt, ap);
			va_end(ap);
		}
		line[body] = '\n';
		write_all(line, body + 1);
	}
	if (line != small)
		free(line);
}
