/* twshim — reading /proc/sys; see procsys.h. */
#include "procsys.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "fmt.h"

#define PROCSYS "/proc/sys"

/* Raw close: inside the library, close() is our own interposer. */
static void raw_close(int fd)
{
	(void)syscall(SYS_close, fd);
}

int tw_procsys_open_dir(const char *dir)
{
	char path[256];

	if (tw_fmt(path, sizeof(path), "%s/%s", PROCSYS, dir) + 1 >= sizeof(path))
		return -1;
	return open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
}

void tw_procsys_close_dir(int dirfd)
{
	if (dirfd >= 0)
		raw_close(dirfd);
}

ssize_t tw_procsys_read_at(int dirfd, const char *name, char *buf, size_t size)
{
	size_t n = 0;

	if (size == 0 || (dirfd < 0 && dirfd != AT_FDCWD))
		return -1;
	int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	while (n + 1 < size) {
		/* Small reads: procfs allocates and zeroes a kernel buffer as
		 * large as the request, and the library reads at start-up. */
		size_t want = size - 1 - n < 4096 ? size - 1 - n : 4096;
		ssize_t r = read(fd, buf + n, want);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			raw_close(fd);
			return -1;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	raw_close(fd);
	buf[n] = '\0';
	return (ssize_t)n;
}

ssize_t tw_procsys_read(const char *name, char *buf, size_t size)
{
	char path[256];

	if (tw_fmt(path, sizeof(path), "%s/%s", PROCSYS, name) + 1 >= sizeof(path))
		return -1;
	return tw_procsys_read_at(AT_FDCWD, path, buf, size);
}
