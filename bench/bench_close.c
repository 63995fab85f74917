/* twshim benchmark — cost of close() on an fd the library never recorded.
 *
 *   bench-close file PATH N     close() of N regular-file fds (open(PATH))
 *   bench-close socket N        close() of N fresh, unconnected TCP sockets
 *   bench-close udp N           close() of N fresh UDP sockets
 *
 * Sockets are made with libc's socket() called directly (the library's
 * socket() marks a TCP socket as known TCP, which is a record): what is
 * measured is close() of an fd the library never recorded.
 *
 * Prints "ns_per_close=X" (only the close() calls are timed: fds are
 * opened in batches, untimed, then closed in a timed loop).
 *
 * With --ab as the first argument, batches alternate between close() (the
 * interposed one when the library is preloaded) and libc's own close,
 * called through a pointer taken from libc.so.6 itself, in the same
 * process: "ns_hook=X ns_direct=Y ns_added=Z", Z the median over pairs of
 * neighbouring batches of their difference.  The kernel does the same work
 * in both halves, so Z is the library's cost alone, with drift cancelled
 * batch by batch.  Without the library Z measures the method's own bias.
 *
 * Before measuring, the program makes one real client connection on
 * loopback and keeps it open.  Under TWSHIM_LINGER=safe or TWSHIM_PORTS
 * that connection is recorded, so the library's fd table exists and every
 * close() below goes through the real lookup instead of the shortcut for
 * "no table yet".  Without the library it costs nothing. */
#include <dlfcn.h>
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

static int (*direct_socket)(int, int, int);

static int open_one(int kind, const char *path)
{
	int fd = kind == 'f' ? open(path, O_RDONLY)
			     : direct_socket(AF_INET, kind == 'u' ? SOCK_DGRAM : SOCK_STREAM, 0);
	if (fd < 0)
		bench_die("open/socket");
	return fd;
}

static int (*direct_close)(int);

static void find_libc_close(void)
{
	void *libc = dlopen("libc.so.6", RTLD_NOW | RTLD_NOLOAD);
	if (!libc)
		bench_die("dlopen(libc.so.6, RTLD_NOLOAD): %s", dlerror());
	void *p = dlsym(libc, "close");
	if (!p)
		bench_die("dlsym(libc, close)");
	memcpy(&direct_close, &p, sizeof(p));
	p = dlsym(libc, "socket");
	if (!p)
		bench_die("dlsym(libc, socket)");
	memcpy(&direct_socket, &p, sizeof(p));
}

int main(int argc, char **argv)
{
	bool ab = argc > 1 && strcmp(argv[1], "--ab") == 0;
	find_libc_close();
	if (ab) {
		argc--;
		argv++;
	}
	int kind;
	const char *path = NULL;
	unsigned long n;
	if (argc == 4 && strcmp(argv[1], "file") == 0) {
		kind = 'f';
		path = argv[2];
		n = bench_ulong_arg(argv[3], "count");
	} else if (argc == 3 && (strcmp(argv[1], "socket") == 0 || strcmp(argv[1], "udp") == 0)) {
		kind = argv[1][0] == 'u' ? 'u' : 's';
		n = bench_ulong_arg(argv[2], "count");
	} else {
		fprintf(stderr, "usage: bench-close file PATH N | bench-close socket|udp N\n");
		return 2;
	}
	bench_raise_nofile(BATCH + 64);
	warm_fd_table();

	static int fds[BATCH];
	unsigned long batches = (n + BATCH - 1) / BATCH;
	uint64_t *per = calloc(batches, sizeof(*per));
	if (!per)
		bench_die("calloc");
	uint64_t total[2] = { 0, 0 };
	unsigned long count[2] = { 0, 0 };
	unsigned long done = 0;
	for (unsigned long b = 0; done < n; b++) {
		unsigned long k = n - done < BATCH ? n - done : BATCH;
		/* --ab: even batches interposed, odd ones direct */
		int direct = ab && (b & 1);
		for (unsigned long i = 0; i < k; i++)
			fds[i] = open_one(kind, path);
		uint64_t t0 = bench_now_ns();
		if (direct)
			for (unsigned long i = 0; i < k; i++)
				direct_close(fds[i]);
		else
			for (unsigned long i = 0; i < k; i++)
				close(fds[i]);
		uint64_t dt = bench_now_ns() - t0;
		per[b] = dt * BATCH / k;
		total[direct] += dt;
		count[direct] += k;
		done += k;
	}
	close(warm_client);
	close(warm_server);
	close(warm_listener);
	if (!ab) {
		printf("ns_per_close=%.2f\n", (double)total[0] / (double)n);
		return 0;
	}
	/* pairs (hook, direct) of neighbouring batches */
	unsigned long pairs = batches / 2;
	double *d = calloc(pairs ? pairs : 1, sizeof(*d));
	if (!d || pairs == 0)
		bench_die("--ab needs at least two batches");
	for (unsigned long i = 0; i < pairs; i++)
		d[i] = ((double)per[2 * i] - (double)per[2 * i + 1]) / BATCH;
	/* insertion sort: a few hundred values */
	for (unsigned long i = 1; i < pairs; i++)
		for (unsigned long j = i; j > 0 && d[j - 1] > d[j]; j--) {
			double t = d[j];
			d[j] = d[j - 1];
			d[j - 1] = t;
		}
	printf("ns_hook=%.2f ns_direct=%.2f ns_added=%.2f\n", (double)total[0] / (double)count[0],
	       (double)total[1] / (double)count[1], d[pairs / 2]);
	free(d);
	free(per);
	return 0;
}
