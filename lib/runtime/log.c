/* twshim — log lines with write(2); see log.h for why the file is opened per line. */
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/syscall.h>

#include "fmt.h"

static enum tw_log_level log_level = TW_LOG_ERROR;
static const char *log_file; /* NULL: stderr */
static atomic_flag file_failure_told = ATOMIC_FLAG_INIT;

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

/* strerror() is neither async-signal-safe nor locale-free. */
static const char *open_error(int err)
{
	switch (err) {
	case ENOENT: return "no such file or directory";
	case ENOTDIR: return "a path component is not a directory";
	case EACCES: return "permission denied";
	case EPERM: return "operation not permitted";
	case ELOOP: return "it is a symbolic link (never followed)";
	case EISDIR: return "it is a directory";
	case EROFS: return "read-only file system";
	case ENOSPC: return "no space left on device";
	case EMFILE: return "too many open files";
	default: return "open failed";
	}
}

/* "2026-12-02T00:44:44.123456Z twshim[curl:1234]: warn: " */
static size_t prefix(char *buf, size_t size, enum tw_log_level level)
{
	struct timespec ts = { 0, 0 };

	clock_gettime(CLOCK_REALTIME, &ts); /* vDSO; async-signal-safe */
	size_t n = tw_fmt_rfc3339(buf, size, (int64_t)ts.tv_sec, ts.tv_nsec);
	return n + tw_fmt(buf + n, size - n, " twshim[%s:%d]: %s: ", program_invocation_short_name,
			  (int)getpid(), level_names[level]);
}

/* Once per process: the file named by TWSHIM_LOG_FILE could not be opened. */
static void tell_file_failure(int err)
{
	if (atomic_flag_test_and_set(&file_failure_told))
		return;
	char line[768];
	size_t n = prefix(line, sizeof(line), TW_LOG_ERROR);
	n += tw_fmt(line + n, sizeof(line) - n,
		    "TWSHIM_LOG_FILE=%s cannot be opened (%s, errno %d): log lines go to stderr", log_file,
		    open_error(err), err);
	if (n >= sizeof(line) - 1)
		n = sizeof(line) - 2;
	line[n++] = '\n';
	write_all(STDERR_FILENO, line, n);
}

static void vlog(enum tw_log_level level, const char *fmt, va_list ap);

void tw_log(enum tw_log_level level, const char *fmt, ...)
{
	if (!tw_log_enabled(level))
		return;
	va_list ap;
	va_start(ap, fmt);
	vlog(level, fmt, ap);
	va_end(ap);
}

void tw_log_always(enum tw_log_level level, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vlog(level, fmt, ap);
	va_end(ap);
}

static void vlog(enum tw_log_level level, const char *fmt, va_list ap)
{
	int saved = errno;
	char line[768];
	size_t n = prefix(line, sizeof(line), level);
	n += tw_vfmt(line + n, sizeof(line) - n, fmt, ap);
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
		tell_file_failure(errno);
	}
	write_all(STDERR_FILENO, line, n);
	errno = saved;
}
