/* twshim stress tests — a loopback server that counts what it received.
 *
 *   twstress-server [-r READY_FD] [-o OUT] [-T THREADS] [-P LO-HI] PORT...
 *
 * Listens on 127.0.0.1:PORT for each PORT, THREADS accepting threads per
 * port (default 16).  Per connection: read STRESS_REQ_LEN bytes, answer one
 * byte, read until EOF or reset, close.  The peer's port as the kernel gave
 * it to accept() is checked against LO-HI (the pinned range) when given.
 * Writes "ready" to READY_FD once every port listens.  On SIGTERM, once no
 * connection is in progress (bounded wait), writes one line per port to
 * OUT (default stdout):
 *   port=P conns=N bytes=B eof=E rst=R err=X outside=K peer_min=A peer_max=B reuseaddr=V
 * reuseaddr is SO_REUSEADDR of the listener as the kernel reports it after
 * bind(): the server never sets it, so 1 means the library did. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "stress_util.h"

#define PORTS_MAX 8

struct port_stats {
	uint16_t port;
	int lfd;
	int reuseaddr;
	atomic_ulong conns, bytes, eof, rst, err, outside;
	atomic_uint peer_min, peer_max;
};

static struct port_stats ports[PORTS_MAX];
static unsigned nports;
static unsigned range_lo, range_hi = 65535;
static atomic_int active; /* connections being served */

static void note_peer(struct port_stats *ps, unsigned peer)
{
	if (peer < range_lo || peer > range_hi)
		atomic_fetch_add(&ps->outside, 1);
	unsigned cur = atomic_load(&ps->peer_min);
	while (peer < cur && !atomic_compare_exchange_weak(&ps->peer_min, &cur, peer))
		;
	cur = atomic_load(&ps->peer_max);
	while (peer > cur && !atomic_compare_exchange_weak(&ps->peer_max, &cur, peer))
		;
}

static void serve(struct port_stats *ps, int fd)
{
	struct sockaddr_in peer = { .sin_family = AF_UNSPEC };
	socklen_t plen = sizeof(peer);
	if (getpeername(fd, (struct sockaddr *)&peer, &plen) == 0)
		note_peer(ps, ntohs(peer.sin_port));

	char buf[4096];
	size_t got = 0;
	bool answered = false;
	for (;;) {
		ssize_t n = read(fd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n == 0) {
			atomic_fetch_add(&ps->eof, 1);
			break;
		}
		if (n < 0) {
			atomic_fetch_add(errno == ECONNRESET ? &ps->rst : &ps->err, 1);
			break;
		}
		atomic_fetch_add(&ps->bytes, (unsigned long)n);
		got += (size_t)n;
		if (!answered && got >= STRESS_REQ_LEN) {
			answered = true;
			if (!stress_write_all(fd, "a", 1)) {
				/* The client may already be gone (exit with the
				 * answer unread is not something clients here do). */
				atomic_fetch_add(&ps->err, 1);
			}
		}
	}
	close(fd);
}

static void *accept_loop(void *arg)
{
	struct port_stats *ps = arg;
	for (;;) {
		int fd = accept(ps->lfd, NULL, NULL);
		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			perror("accept");
			exit(1);
		}
		atomic_fetch_add(&active, 1);
		atomic_fetch_add(&ps->conns, 1);
		serve(ps, fd);
		atomic_fetch_sub(&active, 1);
	}
	return NULL;
}

static int listen_on(struct port_stats *ps)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(ps->port) };
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) != 0 || listen(fd, 4096) != 0) {
		fprintf(stderr, "twstress-server: port %u: %s\n", ps->port, strerror(errno));
		close(fd);
		return -1;
	}
	socklen_t len = sizeof(ps->reuseaddr);
	if (getsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &ps->reuseaddr, &len) != 0)
		ps->reuseaddr = -1;
	return fd;
}

static void write_summary(FILE *out)
{
	/* Wait for connections whose peer already went away but whose
	 * handler has not recorded it yet; bounded only against a stuck
	 * handler (a loaded or sanitized run is slow, never that slow). */
	uint64_t deadline = stress_now_ms() + 120000;
	while (atomic_load(&active) > 0 && stress_now_ms() < deadline) {
		struct timespec ts = { 0, 1000000 };
		nanosleep(&ts, NULL);
	}
	for (unsigned i = 0; i < nports; i++) {
		struct port_stats *ps = &ports[i];
		unsigned long conns = atomic_load(&ps->conns);
		fprintf(out,
			"port=%u conns=%lu bytes=%lu eof=%lu rst=%lu err=%lu outside=%lu "
			"peer_min=%u peer_max=%u reuseaddr=%d active=%d\n",
			ps->port, conns, atomic_load(&ps->bytes), atomic_load(&ps->eof),
			atomic_load(&ps->rst), atomic_load(&ps->err), atomic_load(&ps->outside),
			conns ? atomic_load(&ps->peer_min) : 0, atomic_load(&ps->peer_max),
			ps->reuseaddr, atomic_load(&active));
	}
	fflush(out);
}

int main(int argc, char **argv)
{
	int ready_fd = -1, threads = 16, o;
	const char *out_path = NULL;
	while ((o = getopt(argc, argv, "r:o:T:P:")) != -1) {
		switch (o) {
		case 'r': ready_fd = (int)stress_num(optarg, 0, 1024, "ready fd"); break;
		case 'o': out_path = optarg; break;
		case 'T': threads = (int)stress_num(optarg, 1, 256, "threads"); break;
		case 'P': {
			char *dash = strchr(optarg, '-');
			if (!dash) {
				fprintf(stderr, "-P wants LO-HI\n");
				return 2;
			}
			*dash = '\0';
			range_lo = (unsigned)stress_num(optarg, 1, 65535, "range low");
			range_hi = (unsigned)stress_num(dash + 1, range_lo, 65535, "range high");
			break;
		}
		default:
			fprintf(stderr, "usage: twstress-server [-r FD] [-o OUT] [-T N] [-P LO-HI] PORT...\n");
			return 2;
		}
	}
	if (optind >= argc || argc - optind > PORTS_MAX) {
		fprintf(stderr, "twstress-server: 1-%d ports\n", PORTS_MAX);
		return 2;
	}

	/* SIGTERM is taken by sigwait() in main only. */
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);

	for (int i = optind; i < argc; i++) {
		struct port_stats *ps = &ports[nports++];
		ps->port = (uint16_t)stress_num(argv[i], 1, 65535, "port");
		atomic_init(&ps->peer_min, 65536u);
		ps->lfd = listen_on(ps);
		if (ps->lfd < 0)
			return 1;
		for (int t = 0; t < threads; t++) {
			pthread_t th;
			if (pthread_create(&th, NULL, accept_loop, ps) != 0) {
				fprintf(stderr, "twstress-server: pthread_create failed\n");
				return 1;
			}
			pthread_detach(th);
		}
	}
	if (ready_fd >= 0) {
		stress_write_all(ready_fd, "ready\n", 6);
		close(ready_fd);
	}

	int sig;
	sigwait(&set, &sig);
	FILE *out = out_path ? fopen(out_path, "w") : stdout;
	if (!out) {
		perror(out_path);
		_exit(1);
	}
	write_summary(out);
	/* The accepting threads are still blocked in accept(): leave now. */
	_exit(0);
}
