/* twshim benchmarks — small helpers shared by the benchmark programs.
 *
 * Header-only on purpose: each benchmark is one self-contained executable
 * that the runner starts with or without the library, so nothing here may
 * depend on twshim itself. */
#ifndef TWSHIM_BENCH_UTIL_H
#define TWSHIM_BENCH_UTIL_H

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static inline uint64_t bench_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

__attribute__((noreturn, format(printf, 1, 2)))
static inline void bench_die(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("bench: ", stderr);
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, " (errno %d: %s)\n", errno, strerror(errno));
	va_end(ap);
	exit(2);
}

/* Benchmarks hold thousands of fds (both ends of each connection). */
static inline void bench_raise_nofile(rlim_t want)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
		bench_die("getrlimit");
	if (rl.rlim_cur >= want)
		return;
	rl.rlim_cur = want;
	if (rl.rlim_max < want)
		rl.rlim_max = want;
	if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
		bench_die("setrlimit(RLIMIT_NOFILE, %lu)", (unsigned long)want);
}

static inline struct sockaddr_in bench_loopback(uint16_t port)
{
	struct sockaddr_in sa;
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons(port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	return sa;
}

/* A listener on 127.0.0.1:port.  The port is fixed (not 0) so that it never
 * takes one of the few ephemeral ports a benchmark namespace may have. */
static inline int bench_listen(uint16_t port, int backlog)
{
	int l = socket(AF_INET, SOCK_STREAM, 0);
	if (l < 0)
		bench_die("socket");
	int one = 1;
	if (setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0)
		bench_die("SO_REUSEADDR");
	struct sockaddr_in sa = bench_loopback(port);
	if (bind(l, (struct sockaddr *)&sa, sizeof(sa)) != 0)
		bench_die("bind listener to 127.0.0.1:%u", port);
	if (listen(l, backlog) != 0)
		bench_die("listen");
	return l;
}

static inline int bench_cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

/* Percentile (0-100) of n sorted values, nearest rank. */
static inline uint64_t bench_pct(const uint64_t *sorted, size_t n, double pct)
{
	if (n == 0)
		return 0;
	size_t rank = (size_t)(pct / 100.0 * (double)n + 0.5);
	if (rank < 1)
		rank = 1;
	if (rank > n)
		rank = n;
	return sorted[rank - 1];
}

static inline unsigned long bench_ulong_arg(const char *s, const char *what)
{
	char *end;
	errno = 0;
	unsigned long v = strtoul(s, &end, 10);
	if (errno || end == s || *end)
		bench_die("bad %s: '%s'", what, s);
	return v;
}

#endif
