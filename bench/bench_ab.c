/* twshim benchmark — in-process A/B of connect + close cycles.
 *
 *   bench-ab N [--a WORK] [--b WORK] [--range LO-HI] [--batch K] [--port P]
 *
 * One cycle: socket, connect to a listener of this process, accept, the
 * client closes, the server closes (as bench-cycle).  Batches of K cycles
 * (default 200) alternate between two sides in one process, A B B A A B …,
 * so both see the same machine at nearly the same time:
 *
 *   A  calls libc's socket, connect, close, setsockopt and bind directly (pointers
 *      from dlsym on libc.so.6): a preloaded library never sees them;
 *      this is the floor, the program doing the WORK itself;
 *   B  calls them the ordinary way (through a preloaded library, if any).
 *
 * WORK is a comma list of what a side does itself before connect:
 *   linger      SO_LINGER {1,0}
 *   linger2     TCP_LINGER2 -1 (what TWSHIM_LINGER=safe sets)
 *   bind        SO_REUSEADDR, then bind to the next port of LO-HI
 *   portrange   IP_LOCAL_PORT_RANGE LO-HI (Linux >= 6.3; the kernel picks)
 * or "none".  Run once with the library and the same WORK given to both
 * sides without it: the second run is the method's bias (identical work).
 *
 * Prints a_us, b_us (median µs per cycle of the batches of each side) and
 * added_us, the median over neighbouring batch pairs of B - A. */
#include <dlfcn.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include "bench_util.h"

#ifndef IP_LOCAL_PORT_RANGE
#define IP_LOCAL_PORT_RANGE 51
#endif

enum { W_LINGER = 1, W_BIND = 2, W_PORTRANGE = 4, W_LINGER2 = 8 };

struct calls {
	int (*socket)(int, int, int);
	int (*connect)(int, const struct sockaddr *, socklen_t);
	int (*close)(int);
	int (*setsockopt)(int, int, int, const void *, socklen_t);
	int (*bind)(int, const struct sockaddr *, socklen_t);
};

static struct calls direct, plt = { socket, connect, close, setsockopt, bind };
static unsigned lo, hi, next_port;
static int listener;
static unsigned short port = 5000;

static void *libc_sym(void *libc, const char *name)
{
	void *p = dlsym(libc, name);
	if (!p)
		bench_die("dlsym(libc, %s)", name);
	return p;
}

static void find_libc(void)
{
	void *libc = dlopen("libc.so.6", RTLD_NOW | RTLD_NOLOAD);
	void *p;

	if (!libc)
		bench_die("dlopen(libc.so.6, RTLD_NOLOAD): %s", dlerror());
	p = libc_sym(libc, "socket");
	memcpy(&direct.socket, &p, sizeof(p));
	p = libc_sym(libc, "connect");
	memcpy(&direct.connect, &p, sizeof(p));
	p = libc_sym(libc, "close");
	memcpy(&direct.close, &p, sizeof(p));
	p = libc_sym(libc, "setsockopt");
	memcpy(&direct.setsockopt, &p, sizeof(p));
	p = libc_sym(libc, "bind");
	memcpy(&direct.bind, &p, sizeof(p));
}

static unsigned parse_work(const char *s)
{
	unsigned w = 0;
	char buf[64], *tok, *save = NULL;

	snprintf(buf, sizeof(buf), "%s", s);
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		if (!strcmp(tok, "linger"))
			w |= W_LINGER;
		else if (!strcmp(tok, "linger2"))
			w |= W_LINGER2;
		else if (!strcmp(tok, "bind"))
			w |= W_BIND;
		else if (!strcmp(tok, "portrange"))
			w |= W_PORTRANGE;
		else if (strcmp(tok, "none"))
			bench_die("unknown work '%s' (linger, linger2, bind, portrange, none)", tok);
	}
	return w;
}

static void cycle(const struct calls *c, unsigned work)
{
	int s = c->socket(AF_INET, SOCK_STREAM, 0), a, one = 1;
	struct sockaddr_in dst = bench_loopback(port);

	if (s < 0)
		bench_die("socket");
	if (work & W_LINGER) {
		struct linger lg = { 1, 0 };
		if (c->setsockopt(s, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)) != 0)
			bench_die("SO_LINGER");
	}
	if (work & W_LINGER2) {
		int v = -1;
		if (c->setsockopt(s, IPPROTO_TCP, TCP_LINGER2, &v, sizeof(v)) != 0)
			bench_die("TCP_LINGER2");
	}
	if (work & W_PORTRANGE) {
		uint32_t r = lo | (uint32_t)hi << 16;
		if (c->setsockopt(s, IPPROTO_IP, IP_LOCAL_PORT_RANGE, &r, sizeof(r)) != 0)
			bench_die("IP_LOCAL_PORT_RANGE");
	}
	if (work & W_BIND) {
		struct sockaddr_in sa = bench_loopback((uint16_t)next_port);
		sa.sin_addr.s_addr = htonl(INADDR_ANY);
		if (c->setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
		    c->bind(s, (struct sockaddr *)&sa, sizeof(sa)) != 0)
			bench_die("bind client to port %u", next_port);
		next_port = next_port >= hi ? lo : next_port + 1;
	}
	if (c->connect(s, (struct sockaddr *)&dst, sizeof(dst)) != 0)
		bench_die("connect");
	a = accept(listener, NULL, NULL);
	if (a < 0)
		bench_die("accept");
	c->close(s); /* the client closes first, as a probe does */
	close(a);
}

static double batch_us(const struct calls *c, unsigned work, unsigned long k)
{
	uint64_t t0 = bench_now_ns();

	for (unsigned long i = 0; i < k; i++)
		cycle(c, work);
	return (double)(bench_now_ns() - t0) / 1000.0 / (double)k;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static double median(double *v, unsigned long n)
{
	qsort(v, n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

int main(int argc, char **argv)
{
	unsigned long n, batch = 200, pairs;
	unsigned wa = 0, wb = 0;
	double *a, *b, *d;

	if (argc < 2)
		bench_die("usage: bench-ab N [--a WORK] [--b WORK] [--range LO-HI] [--batch K] [--port P]");
	n = bench_ulong_arg(argv[1], "count");
	for (int i = 2; i + 1 < argc; i += 2) {
		if (!strcmp(argv[i], "--a")) {
			wa = parse_work(argv[i + 1]);
		} else if (!strcmp(argv[i], "--b")) {
			wb = parse_work(argv[i + 1]);
		} else if (!strcmp(argv[i], "--batch")) {
			batch = bench_ulong_arg(argv[i + 1], "batch");
		} else if (!strcmp(argv[i], "--port")) {
			port = (unsigned short)bench_ulong_arg(argv[i + 1], "port");
		} else if (!strcmp(argv[i], "--range")) {
			if (sscanf(argv[i + 1], "%u-%u", &lo, &hi) != 2 || lo == 0 || lo > hi || hi > 65535)
				bench_die("bad range '%s'", argv[i + 1]);
		} else {
			bench_die("unknown option '%s'", argv[i]);
		}
	}
	if (((wa | wb) & (W_BIND | W_PORTRANGE)) && !lo)
		bench_die("bind and portrange need --range");
	pairs = batch ? n / batch / 2 : 0;
	if (pairs < 2)
		bench_die("need N >= 4 batches");
	next_port = lo;
	find_libc();
	listener = bench_listen(port, 4096);

	a = calloc(pairs, sizeof(*a));
	b = calloc(pairs, sizeof(*b));
	d = calloc(pairs, sizeof(*d));
	if (!a || !b || !d)
		bench_die("calloc");
	batch_us(&direct, wa, batch); /* warm-up, not counted */
	batch_us(&plt, wb, batch);
	for (unsigned long i = 0; i < pairs; i++) {
		/* A B, then B A: neither side is always first */
		if (i % 2 == 0) {
			a[i] = batch_us(&direct, wa, batch);
			b[i] = batch_us(&plt, wb, batch);
		} else {
			b[i] = batch_us(&plt, wb, batch);
			a[i] = batch_us(&direct, wa, batch);
		}
		d[i] = b[i] - a[i];
	}
	printf("a_us=%.3f b_us=%.3f added_us=%.3f pairs=%lu\n", median(a, pairs), median(b, pairs),
	       median(d, pairs), pairs);
	return 0;
}
