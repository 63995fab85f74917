/* twshim — log lines with write(2); see log.h for why the file is opened per line. */
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <string.h>
#include <unistd.h>
#include <sys/syscall.h>

#include "fmt.h"

static enum tw_log_level log_level = TW_LOG_ERROR;
static const char *log_file; /* NULL: stderr */

void tw_log_configure(enum tw_log_level level, const char *file, bool secure_mode)
{
	log_level = level;
	/* In secure-execution mode (setuid and friends) never open a path the
	 * environment chose. */
	log_file = secure_mode ? NULL : file;
}

bool tw_log_enabled(enum tw_log_level level)
{
	return level <= log_level;
}

static const char *const level_names[] = { "error", "warn", "info", "debug" };

/* Raw system calls: the library's own output must never pass through the
 * interposed close() or depend on libc state after fork. */
static void write_all(int fd, const char *buf, size_t len)
{
	while (len) {
		ssize_t n = write(fd, buf, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return;
		buf += n;
		len -= (size_t)n;
	}
}

void tw_log(enum tw_log_level level, const char *fmt, ...)
{
	if (!tw_log_enabled(level))
		return;
	int saved = errno;
	char line[768];
	size_t n = tw_fmt(line, sizeof(line), "twshim[%s:%d]: %s: ", program_invocation_short_name,
			  (int)getpid(), level_names[level]);
	va_list ap;
	va_start(ap, fmt);
	n += tw_vfmt(line + n, sizeof(line) - n, fmt, ap);
	va_end(ap);
	if (n >= sizeof(line) - 1)
		n = sizeof(line) - 2;
	line[n++] = '\n';

	if (log_file) {
		int fd = open(log_file, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY, 0600);
		if (fd >= 0) {
			/* One write of the whole line: O_APPEND keeps lines from
			 * several processes whole. */
			write_all(fd, line, n);
			syscall(SYS_close, fd);
			errno = saved;
			return;
		}
	}
	write_all(STDERR_FILENO, line, n);
	errno = saved;
}
