/* twshim benchmark — cost of close() on an fd the library never recorded.
 *
 *   bench-close file PATH N     close() of N regular-file fds (open(PATH))
 *   bench-close socket N        close() of N fresh, unconnected TCP sockets
 *
 * Prints "ns_per_close=X" (only the close() calls are timed: fds are
 * opened in batches, untimed, then closed in a timed loop).
 *
 * Before measuring, the program makes one real client connection on
 * loopback and keeps it open.  Under TWSHIM_LINGER=safe or TWSHIM_PORTS
 * that connection is recorded, so the library's fd table exists and every
 * close() below goes through the real lookup instead of the shortcut for
 * "no table yet".  Without the library it costs nothing. */
#include <fcntl.h>

#include "bench_util.h"

#define BATCH 1000
#define WARM_PORT 5090

static int warm_client = -1, warm_server = -1, warm_listener = -1;

static void warm_fd_table(void)
{
	warm_listener = bench_listen(WARM_PORT, 4);
	warm_client = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sa = bench_loopback(WARM_PORT);
	if (warm_client < 0 || connect(warm_client, (struct sockaddr *)&sa, sizeof(sa)) != 0)
		bench_die("warm-up connect");
	warm_server = accept(warm_listener, NULL, NULL);
	if (warm_server < 0)
		bench_die("warm-up accept");
}

static int open_one(int kind, const char *path)
{
	int fd = kind == 'f' ? open(path, O_RDONLY) : socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0)
		bench_die("open/socket");
	return fd;
}

int main(int argc, char **argv)
{
	int kind;
	const char *path = NULL;
	unsigned long n;
	if (argc == 4 && strcmp(argv[1], "file") == 0) {
		kind = 'f';
		path = argv[2];
		n = bench_ulong_arg(argv[3], "count");
	} else if (argc == 3 && strcmp(argv[1], "socket") == 0) {
		kind = 's';
		n = bench_ulong_arg(argv[2], "count");
	} else {
		fprintf(stderr, "usage: bench-close file PATH N | bench-close socket N\n");
		return 2;
	}
	bench_raise_nofile(BATCH + 64);
	warm_fd_table();

	static int fds[BATCH];
	uint64_t total_ns = 0;
	unsigned long done = 0;
	while (done < n) {
		unsigned long k = n - done < BATCH ? n - done : BATCH;
		for (unsigned long i = 0; i < k; i++)
			fds[i] = open_one(kind, path);
		uint64_t t0 = bench_now_ns();
		for (unsigned long i = 0; i < k; i++)
			close(fds[i]);
		total_ns += bench_now_ns() - t0;
		done += k;
	}
	close(warm_client);
	close(warm_server);
	close(warm_listener);
	printf("ns_per_close=%.2f\n", (double)total_ns / (double)n);
	return 0;
}
