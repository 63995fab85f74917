/* twsafe-common — see twsafe-common.h. */
#include "twsafe-common.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

void twsafe_fnv(uint64_t *h, const void *p, size_t n)
{
	const unsigned char *b = p;
	for (size_t i = 0; i < n; i++) {
		*h ^= b[i];
		*h *= 0x100000001b3ULL;
	}
}

void twsafe_pattern(unsigned char *buf, size_t n, uint64_t off)
{
	/* Not periodic with any buffer size, so a lost or repeated chunk
	 * changes the checksum. */
	for (size_t i = 0; i < n; i++) {
		uint64_t x = off + i;
		buf[i] = (unsigned char)((x * 131u) ^ (x >> 9) ^ (x >> 17));
	}
}

bool twsafe_sockaddr(const char *addr, unsigned port, struct sockaddr_storage *ss, socklen_t *len)
{
	struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof *ss);
	if (inet_pton(AF_INET, addr, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)port);
		*len = sizeof *s4;
		return true;
	}
	if (inet_pton(AF_INET6, addr, &s6->sin6_addr) == 1) {
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)port);
		*len = sizeof *s6;
		return true;
	}
	return false;
}

int twsafe_connect(const char *addr, unsigned port)
{
	struct sockaddr_storage ss;
	socklen_t len;

	if (!twsafe_sockaddr(addr, port, &ss, &len)) {
		errno = EINVAL;
		return -1;
	}
	int fd = socket(ss.ss_family, SOCK_STREAM, 0);
	if (fd < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&ss, len) < 0) {
		int err = errno;
		close(fd);
		errno = err;
		return -1;
	}
	return fd;
}

unsigned twsafe_local_port(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof ss;
	if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0)
		return 0;
	if (ss.ss_family == AF_INET)
		return ntohs(((struct sockaddr_in *)&ss)->sin_port);
	if (ss.ss_family == AF_INET6)
		return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
	return 0;
}

uint64_t twsafe_send_pattern(int fd, uint64_t n, uint64_t *fnv)
{
	unsigned char buf[65536];
	uint64_t done = 0;
	while (done < n) {
		size_t chunk = n - done < sizeof buf ? (size_t)(n - done) : sizeof buf;
		twsafe_pattern(buf, chunk, done);
		size_t off = 0;
		while (off < chunk) {
			ssize_t w = send(fd, buf + off, chunk - off, MSG_NOSIGNAL);
			if (w < 0) {
				if (errno == EINTR)
					continue;
				return done + off;
			}
			twsafe_fnv(fnv, buf + off, (size_t)w);
			off += (size_t)w;
		}
		done += chunk;
	}
	return done;
}

uint64_t twsafe_fwrite_pattern(FILE *f, uint64_t n, uint64_t *fnv)
{
	unsigned char buf[65536];
	uint64_t done = 0;
	while (done < n) {
		size_t chunk = n - done < sizeof buf ? (size_t)(n - done) : sizeof buf;
		twsafe_pattern(buf, chunk, done);
		size_t w = fwrite(buf, 1, chunk, f);
		twsafe_fnv(fnv, buf, w);
		done += w;
		if (w < chunk)
			break;
	}
	return done;
}

unsigned long twsafe_num(const char *prog, const char *s, unsigned long max)
{
	char *end;
	errno = 0;
	unsigned long v = strtoul(s, &end, 10);
	if (errno || end == s || *end || s[0] == '-' || v > max) {
		fprintf(stderr, "%s: bad number '%s'\n", prog, s);
		exit(2);
	}
	return v;
}
