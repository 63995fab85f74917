/* twshim benchmark — client connect/close cycles on loopback.
 *
 * One cycle is what a probe does: socket, connect to 127.0.0.1:PORT, the
 * server side accepts, the client closes first, the server closes.  The
 * listener lives in the same process (fixed port below any ephemeral
 * range), so a cycle needs no other process and no thread hand-off.
 *
 *   --count N          run N cycles; prints us_per_cycle (mean)
 *   --seconds S        run for S seconds; prints ok, fail, conn_per_s,
 *                      ok_before_first_fail and first_errno
 *   --threads T        T threads, each with its own listener (PORT+i);
 *                      needs --seconds; prints conn_per_s of all threads
 *   --linger-self      the program sets SO_LINGER {1,0} itself
 *   --linger2-self     the program sets TCP_LINGER2 -1 itself (what
 *                      TWSHIM_LINGER=safe sets at connect)
 *   --peer-open K      the server side keeps the last K accepted sockets
 *                      open (closing the oldest): a peer that does not
 *                      close at once, so its kernel delays the ACK of our
 *                      FIN (delayed-ACK timer); default 0: closes at once
 *   --bind-self LO-HI  the program sets SO_REUSEADDR and binds each client
 *                      socket to the next port of LO-HI itself
 *   --hold K           first open K connections and keep them open (they
 *                      take the first K ports of --bind-self, or K pinned
 *                      ports under the library)
 *   --latency          also print p50_ns and p99_ns of single cycles
 *   --rate R           with --seconds (one thread): start a cycle every 1/R s
 *                      instead of back to back; a late cycle starts at once
 *                      but the schedule never bursts to catch up
 *   --port P           listener port (default 5000)
 *   --turn IN,OUT      lock-step with another process (A/B across two
 *                      processes, e.g. supervised vs not): before each batch
 *                      of --batch cycles wait for a byte on FIFO IN, after
 *                      it write one to FIFO OUT; prints batch_us= the us per
 *                      cycle of every batch, in order (--lead: go first)
 *   --batch N          cycles per --turn batch (default 200)
 *
 * Errors of connect() are counted, never fatal: "plain connect fails after
 * ~10 connections" is one of the measured facts. */
#include <fcntl.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdatomic.h>

#include "bench_util.h"

struct opts {
	unsigned long count;
	unsigned long seconds;
	unsigned long threads;
	bool linger_self;
	bool linger2_self;
	unsigned long peer_open;
	bool bind_self;
	unsigned lo, hi;
	unsigned long hold;
	bool latency;
	unsigned port;
	unsigned long rate;
	const char *turn_in, *turn_out;
	bool lead;
	unsigned long batch;
};

struct worker {
	const struct opts *o;
	int listener;
	unsigned port;
	unsigned next_bind; /* next --bind-self port */
	int *open_ring;     /* --peer-open: accepted sockets still open */
	unsigned long ring_next;
	unsigned long ok, fail, ok_before_first_fail;
	int first_errno;
	pthread_t tid;
};

static atomic_bool stop_flag;
static pthread_barrier_t start_barrier;

/* One client socket, prepared the way the program under test would. */
static int client_socket(struct worker *w)
{
	int c = socket(AF_INET, SOCK_STREAM, 0);
	if (c < 0)
		bench_die("socket");
	if (w->o->linger_self) {
		struct linger lg = { 1, 0 };
		if (setsockopt(c, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)) != 0)
			bench_die("SO_LINGER");
	}
	if (w->o->linger2_self) {
		int m1 = -1;
		if (setsockopt(c, IPPROTO_TCP, TCP_LINGER2, &m1, sizeof(m1)) != 0)
			bench_die("TCP_LINGER2");
	}
	if (w->o->bind_self) {
		int one = 1;
		if (setsockopt(c, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0)
			bench_die("SO_REUSEADDR");
		struct sockaddr_in sa = bench_loopback((uint16_t)w->next_bind);
		sa.sin_addr.s_addr = htonl(INADDR_ANY);
		if (bind(c, (struct sockaddr *)&sa, sizeof(sa)) != 0)
			bench_die("bind client to port %u", w->next_bind);
		w->next_bind = w->next_bind >= w->o->hi ? w->o->lo + (unsigned)w->o->hold : w->next_bind + 1;
	}
	return c;
}

/* One probe cycle.  Returns 0, or the errno of a failed connect. */
static int cycle(struct worker *w)
{
	int c = client_socket(w);
	struct sockaddr_in dst = bench_loopback((uint16_t)w->port);
	if (connect(c, (struct sockaddr *)&dst, sizeof(dst)) != 0) {
		int err = errno;
		close(c);
		return err;
	}
	int a = accept(w->listener, NULL, NULL);
	if (a < 0)
		bench_die("accept");
	close(c); /* the client closes first, as a probe does */
	if (w->open_ring) {
		int *slot = &w->open_ring[w->ring_next++ % w->o->peer_open];
		if (*slot >= 0)
			close(*slot);
		*slot = a;
	} else {
		close(a);
	}
	return 0;
}

static void count_result(struct worker *w, int err)
{
	if (err == 0) {
		w->ok++;
		return;
	}
	if (w->fail++ == 0) {
		w->first_errno = err;
		w->ok_before_first_fail = w->ok;
	}
}

/* --rate: sleep until the next slot; never more than one slot of debt. */
static void pace(uint64_t *next, uint64_t period)
{
	uint64_t now = bench_now_ns();
	if (now < *next) {
		struct timespec ts = { (time_t)((*next - now) / 1000000000u), (long)((*next - now) % 1000000000u) };
		while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
			;
	} else if (now > *next + period) {
		*next = now;
	}
	*next += period;
}

static void *timed_worker(void *arg)
{
	struct worker *w = arg;
	pthread_barrier_wait(&start_barrier);
	if (w->o->rate) {
		uint64_t period = 1000000000u / w->o->rate, next = bench_now_ns();
		while (!atomic_load_explicit(&stop_flag, memory_order_relaxed)) {
			pace(&next, period);
			count_result(w, cycle(w));
		}
		return NULL;
	}
	while (!atomic_load_explicit(&stop_flag, memory_order_relaxed))
		for (int i = 0; i < 64; i++)
			count_result(w, cycle(w));
	return NULL;
}

static void hold_connections(struct worker *w, unsigned long k)
{
	struct sockaddr_in dst = bench_loopback((uint16_t)w->port);
	for (unsigned long i = 0; i < k; i++) {
		int c = client_socket(w);
		if (connect(c, (struct sockaddr *)&dst, sizeof(dst)) != 0)
			bench_die("held connection %lu", i);
		if (accept(w->listener, NULL, NULL) < 0)
			bench_die("accept held connection");
	}
	/* the rotation of --bind-self now skips the held ports */
	w->next_bind = w->o->lo + (unsigned)k;
}

static void run_count(struct worker *w)
{
	const struct opts *o = w->o;
	uint64_t *lat = o->latency ? calloc(o->count, sizeof(*lat)) : NULL;
	if (o->latency && !lat)
		bench_die("calloc");
	uint64_t t0 = bench_now_ns();
	for (unsigned long i = 0; i < o->count; i++) {
		uint64_t s = lat ? bench_now_ns() : 0;
		count_result(w, cycle(w));
		if (lat)
			lat[i] = bench_now_ns() - s;
	}
	uint64_t dt = bench_now_ns() - t0;
	printf("us_per_cycle=%.3f ok=%lu fail=%lu\n", (double)dt / 1000.0 / (double)o->count, w->ok,
	       w->fail);
	if (lat) {
		qsort(lat, o->count, sizeof(*lat), bench_cmp_u64);
		printf("p50_ns=%llu p99_ns=%llu\n", (unsigned long long)bench_pct(lat, o->count, 50),
		       (unsigned long long)bench_pct(lat, o->count, 99));
		free(lat);
	}
}

static void token(int fd, bool write_it)
{
	char b = 't';
	ssize_t n;

	do
		n = write_it ? write(fd, &b, 1) : read(fd, &b, 1);
	while (n < 0 && errno == EINTR);
	if (n != 1)
		bench_die("turn FIFO");
}

/* Batches alternate with the other process's: both see the same machine. */
static void run_turns(struct worker *w)
{
	const struct opts *o = w->o;
	unsigned long nb = o->count / o->batch;
	/* O_RDWR: opening a FIFO this way never waits for the other end. */
	int in = open(o->turn_in, O_RDWR | O_CLOEXEC), out = open(o->turn_out, O_RDWR | O_CLOEXEC);

	if (in < 0 || out < 0 || nb == 0)
		bench_die("--turn %s,%s (and --count >= --batch)", o->turn_in, o->turn_out);
	for (unsigned long i = 0; i < o->batch; i++) /* warm-up, not timed */
		count_result(w, cycle(w));
	printf("batch_us=");
	for (unsigned long b = 0; b < nb; b++) {
		if (b > 0 || !o->lead)
			token(in, false);
		uint64_t t0 = bench_now_ns();
		for (unsigned long i = 0; i < o->batch; i++)
			count_result(w, cycle(w));
		uint64_t dt = bench_now_ns() - t0;
		token(out, true);
		printf("%s%.3f", b ? "," : "", (double)dt / 1000.0 / (double)o->batch);
	}
	if (o->lead)
		token(in, false); /* the other side's last batch */
	printf(" ok=%lu fail=%lu\n", w->ok, w->fail);
}

static void run_timed(struct worker *ws, unsigned long n, unsigned long seconds)
{
	if (pthread_barrier_init(&start_barrier, NULL, (unsigned)n + 1) != 0)
		bench_die("barrier");
	for (unsigned long i = 0; i < n; i++)
		if (pthread_create(&ws[i].tid, NULL, timed_worker, &ws[i]) != 0)
			bench_die("pthread_create");
	pthread_barrier_wait(&start_barrier);
	uint64_t t0 = bench_now_ns();
	struct timespec ts = { (time_t)seconds, 0 };
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
	atomic_store(&stop_flag, true);
	uint64_t dt;
	unsigned long ok = 0, fail = 0, before = 0;
	int first_errno = 0;
	for (unsigned long i = 0; i < n; i++) {
		pthread_join(ws[i].tid, NULL);
		ok += ws[i].ok;
		if (ws[i].fail && !first_errno) {
			first_errno = ws[i].first_errno;
			before = ws[i].ok_before_first_fail;
		}
		fail += ws[i].fail;
	}
	/* after every join: the cycles finished after the stop count too */
	dt = bench_now_ns() - t0;
	printf("conn_per_s=%.0f ok=%lu fail=%lu ok_before_first_fail=%lu first_errno=%d\n",
	       (double)ok * 1e9 / (double)dt, ok, fail, fail ? before : ok, first_errno);
}

static void parse_range(const char *s, struct opts *o)
{
	char *end;
	unsigned long lo = strtoul(s, &end, 10);
	if (*end != '-')
		bench_die("bad range '%s'", s);
	unsigned long hi = bench_ulong_arg(end + 1, "range end");
	if (lo == 0 || lo > hi || hi > 65535)
		bench_die("bad range '%s'", s);
	o->lo = (unsigned)lo;
	o->hi = (unsigned)hi;
}

int main(int argc, char **argv)
{
	struct opts o = { .count = 0, .threads = 1, .port = 5000, .batch = 200 };
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (!strcmp(a, "--linger-self")) {
			o.linger_self = true;
		} else if (!strcmp(a, "--linger2-self")) {
			o.linger2_self = true;
		} else if (v && !strcmp(a, "--peer-open")) {
			o.peer_open = bench_ulong_arg(v, "peer-open"), i++;
		} else if (!strcmp(a, "--latency")) {
			o.latency = true;
		} else if (v && !strcmp(a, "--count")) {
			o.count = bench_ulong_arg(v, "count"), i++;
		} else if (v && !strcmp(a, "--seconds")) {
			o.seconds = bench_ulong_arg(v, "seconds"), i++;
		} else if (v && !strcmp(a, "--threads")) {
			o.threads = bench_ulong_arg(v, "threads"), i++;
		} else if (v && !strcmp(a, "--hold")) {
			o.hold = bench_ulong_arg(v, "hold"), i++;
		} else if (v && !strcmp(a, "--rate")) {
			o.rate = bench_ulong_arg(v, "rate"), i++;
		} else if (v && !strcmp(a, "--port")) {
			o.port = (unsigned)bench_ulong_arg(v, "port"), i++;
		} else if (!strcmp(a, "--lead")) {
			o.lead = true;
		} else if (v && !strcmp(a, "--batch")) {
			o.batch = bench_ulong_arg(v, "batch"), i++;
		} else if (v && !strcmp(a, "--turn")) {
			static char buf[4096];
			char *comma;
			snprintf(buf, sizeof(buf), "%s", v);
			comma = strchr(buf, ',');
			if (!comma)
				bench_die("--turn IN,OUT");
			*comma = '\0';
			o.turn_in = buf;
			o.turn_out = comma + 1;
			i++;
		} else if (v && !strcmp(a, "--bind-self")) {
			o.bind_self = true;
			parse_range(v, &o), i++;
		} else {
			fprintf(stderr, "bench-cycle: unknown or incomplete option '%s'\n", a);
			return 2;
		}
	}
	if ((o.count == 0) == (o.seconds == 0) || o.threads == 0 || (o.threads > 1 && !o.seconds))
		bench_die("give --count N or --seconds S (--threads needs --seconds)");
	if (o.rate && (!o.seconds || o.threads > 1 || o.rate > 1000000000u))
		bench_die("--rate needs --seconds and one thread");
	if (o.bind_self && (o.threads > 1 || o.hold >= o.hi - o.lo + 1))
		bench_die("--bind-self: one thread, and --hold smaller than the range");
	bench_raise_nofile(2 * o.hold + o.threads * o.peer_open + 4096);

	struct worker *ws = calloc(o.threads, sizeof(*ws));
	if (!ws)
		bench_die("calloc");
	for (unsigned long i = 0; i < o.threads; i++) {
		ws[i].o = &o;
		ws[i].port = o.port + (unsigned)i;
		ws[i].listener = bench_listen((uint16_t)ws[i].port, 4096);
		ws[i].next_bind = o.lo;
		if (o.peer_open) {
			ws[i].open_ring = malloc(o.peer_open * sizeof(int));
			if (!ws[i].open_ring)
				bench_die("malloc");
			for (unsigned long k = 0; k < o.peer_open; k++)
				ws[i].open_ring[k] = -1;
		}
	}
	hold_connections(&ws[0], o.hold);
	if (o.count && o.turn_in)
		run_turns(&ws[0]);
	else if (o.count)
		run_count(&ws[0]);
	else
		run_timed(ws, o.threads, o.seconds);
	return 0;
}
