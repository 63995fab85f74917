/* twshim stress tests — shared helpers; see stress_util.h. */
#include "stress_util.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

unsigned long stress_num(const char *s, unsigned long min, unsigned long max, const char *what)
{
	char *end;
	errno = 0;
	unsigned long v = strtoul(s, &end, 10);
	if (errno || end == s || *end || s[0] == '-' || v < min || v > max) {
		fprintf(stderr, "bad %s '%s' (%lu-%lu)\n", what, s, min, max);
		exit(2);
	}
	return v;
}

int stress_fd_count(void)
{
	DIR *d = opendir("/proc/self/fd");
	if (!d)
		return -1;
	int n = 0;
	const struct dirent *e;
	while ((e = readdir(d)))
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n - 1; /* the directory stream's own fd */
}

uint64_t stress_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

bool stress_write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;
	while (len) {
		ssize_t n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return false;
		p += n;
		len -= (size_t)n;
	}
	return true;
}

bool stress_read_full(int fd, void *buf, size_t len)
{
	char *p = buf;
	while (len) {
		ssize_t n = read(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n == 0)
				errno = ECONNRESET;
			return false;
		}
		p += n;
		len -= (size_t)n;
	}
	return true;
}

/* connect() returned EINTR: the handshake goes on; wait for its end. */
static int finish_interrupted_connect(int fd)
{
	struct pollfd pfd = { .fd = fd, .events = POLLOUT };
	for (;;) {
		int r = poll(&pfd, 1, 30000);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return r == 0 ? ETIMEDOUT : errno;
		break;
	}
	int err = 0;
	socklen_t len = sizeof(err);
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0)
		return errno;
	return err;
}

int stress_connect(uint16_t port)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0)
		return -1;
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(port) };
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	int err = 0;
	if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) != 0) {
		err = errno;
		if (err == EINTR)
			err = finish_interrupted_connect(fd);
	}
	if (err) {
		close(fd);
		errno = err;
		return -1;
	}
	return fd;
}

int stress_exchange(uint16_t port)
{
	int fd = stress_connect(port);
	if (fd < 0)
		return -1;
	char req[STRESS_REQ_LEN];
	memset(req, 'q', sizeof(req));
	char ans;
	if (!stress_write_all(fd, req, sizeof(req)) || !stress_read_full(fd, &ans, 1)) {
		int err = errno;
		close(fd);
		errno = err;
		return -1;
	}
	return fd;
}
