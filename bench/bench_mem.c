/* twshim benchmark — resident memory.
 *
 *   bench-mem K [HIGH_FD]
 *
 * Prints "rss_start_kb=A rss_after_kb=B": resident set size when main() starts, and
 * after opening K loopback client connections that stay open (the library,
 * under TWSHIM_LINGER=safe or TWSHIM_PORTS, records each of them in its fd
 * table).  With HIGH_FD, the client sockets are moved to fds HIGH_FD,
 * HIGH_FD+1, ... before connecting, to show that the table follows the fds
 * actually used, not the highest fd number. */
#include <fcntl.h>

#include "bench_util.h"

#define PORT 5095

static long rss_kb(void)
{
	/* smaps_rollup walks the page tables: exact.  VmRSS in /proc/self/status
	 * comes from per-CPU counters that may lag by tens of pages. */
	FILE *f = fopen("/proc/self/smaps_rollup", "r");
	if (!f)
		bench_die("open /proc/self/smaps_rollup");
	char line[256];
	long kb = -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "Rss: %ld kB", &kb) == 1)
			break;
	fclose(f);
	return kb;
}

int main(int argc, char **argv)
{
	long start = rss_kb();
	if (argc < 2 || argc > 3) {
		fprintf(stderr, "usage: bench-mem K [HIGH_FD]\n");
		return 2;
	}
	unsigned long k = bench_ulong_arg(argv[1], "K");
	unsigned long high = argc == 3 ? bench_ulong_arg(argv[2], "HIGH_FD") : 0;
	bench_raise_nofile((high ? high + k : 0) + 2 * k + 256);

	int l = bench_listen(PORT, 4096);
	struct sockaddr_in dst = bench_loopback(PORT);
	for (unsigned long i = 0; i < k; i++) {
		int c = socket(AF_INET, SOCK_STREAM, 0);
		if (c < 0)
			bench_die("socket");
		if (high) {
			/* fcntl(F_DUPFD) is not an interposed close path */
			int moved = fcntl(c, F_DUPFD, (int)(high + i));
			if (moved < 0)
				bench_die("F_DUPFD");
			close(c);
			c = moved;
		}
		if (connect(c, (struct sockaddr *)&dst, sizeof(dst)) != 0)
			bench_die("connect %lu", i);
		if (accept(l, NULL, NULL) < 0)
			bench_die("accept");
		/* both ends stay open until exit */
	}
	printf("rss_start_kb=%ld rss_after_kb=%ld\n", start, rss_kb());
	return 0;
}
