/* twtest-server — a bounded loopback TCP server for the end-to-end tests.
 *
 *   twtest-server [-a ADDR] [-p PORT] [-m MODE] [-n CONNS] [-t SECONDS]
 *                 [-r FD] [-o FILE] [-d MS] [-b BYTES]
 *
 *   -a ADDR    listen address, numeric IPv4 or IPv6 (default 127.0.0.1)
 *   -p PORT    port; 0 picks one (default 0)
 *   -m MODE    reply      read a line, write "OK\n", wait for the client to
 *                         close (the client closes first, as a probe does)
 *              http       read a request head, answer 200 with
 *                         "Connection: close", wait for the client to close
 *              sink       read everything, slowly: -d MS between reads of at
 *                         most -b BYTES (also the receive buffer size);
 *                         count bytes and an FNV-1a checksum per connection
 *              closefirst read a line (or EOF), write "OK\n", close first
 *   -d MS      reply and http modes: after the reply, wait MS before reading
 *              on (a server slow to notice the client's close: its kernel
 *              then delays the ACK of the client's FIN)
 *   -n CONNS   exit after CONNS connections have ended (0: no limit)
 *   -t SECONDS exit once nothing happened for this long: no connection, no
 *              data, no close (default 120).  A bound for a test whose
 *              client died, measured from the last event, so a slow
 *              (loaded, sanitized) run that keeps progressing never hits it
 *   -r FD      readiness: write "PORT\n" to FD once listening, then close it
 *              (default: stdout)
 *   -o FILE    one line per finished connection, and the summary, go there
 *              (default: stdout)
 *
 * A line per connection: conn=N peer=ADDR:PORT bytes=N fnv=HEX line=0|1
 * end=eof|reset|error|server.  At exit a summary line: server: accepted=N
 * ended=N lines=N replies=N eof=N reset=N bytes=N timeout=0|1.
 * Exit status: 0, or 3 when the idle bound came before CONNS connections.
 *
 * Single-threaded around poll(); the per-read delay of `sink` is a
 * per-connection deadline, so one slow reader never blocks the others. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

enum mode { M_REPLY, M_HTTP, M_SINK, M_CLOSEFIRST };

struct cfg {
	const char *addr;
	unsigned port;
	enum mode mode;
	unsigned long max_conns;
	unsigned timeout_s;
	int ready_fd;
	const char *out_path;
	unsigned delay_ms;
	unsigned chunk;
};

struct conn {
	int fd;
	unsigned long id;
	char peer[INET6_ADDRSTRLEN + 8];
	uint64_t bytes;
	uint64_t fnv;
	bool got_line;
	bool replied;
	unsigned head_state; /* http: how much of "\r\n\r\n" was seen */
	int64_t next_read_ms; /* sink: not before this time */
};

struct stats {
	unsigned long accepted, ended, lines, replies, eof, reset;
	uint64_t bytes;
};

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void die(const char *what)
{
	fprintf(stderr, "twtest-server: %s: %s\n", what, strerror(errno));
	exit(2);
}

static void usage(void)
{
	fputs("usage: twtest-server [-a ADDR] [-p PORT] [-m reply|http|sink|closefirst]\n"
	      "       [-n CONNS] [-t SECONDS] [-r FD] [-o FILE] [-d MS] [-b BYTES]\n", stderr);
	exit(2);
}

static unsigned long num(const char *s, unsigned long max)
{
	char *end;
	errno = 0;
	unsigned long v = strtoul(s, &end, 10);
	if (errno || end == s || *end || s[0] == '-' || v > max) {
		fprintf(stderr, "twtest-server: bad number '%s'\n", s);
		exit(2);
	}
	return v;
}

static void parse(int argc, char **argv, struct cfg *c)
{
	int o;

	*c = (struct cfg){ .addr = "127.0.0.1", .timeout_s = 120, .ready_fd = 1,
			   .chunk = 1024 };
	while ((o = getopt(argc, argv, "a:p:m:n:t:r:o:d:b:")) != -1) {
		switch (o) {
		case 'a': c->addr = optarg; break;
		case 'p': c->port = (unsigned)num(optarg, 65535); break;
		case 'n': c->max_conns = num(optarg, 100000000); break;
		case 't': c->timeout_s = (unsigned)num(optarg, 86400); break;
		case 'r': c->ready_fd = (int)num(optarg, 1024); break;
		case 'o': c->out_path = optarg; break;
		case 'd': c->delay_ms = (unsigned)num(optarg, 10000); break;
		case 'b': c->chunk = (unsigned)num(optarg, 1 << 20); break;
		case 'm':
			if (!strcmp(optarg, "reply"))
				c->mode = M_REPLY;
			else if (!strcmp(optarg, "http"))
				c->mode = M_HTTP;
			else if (!strcmp(optarg, "sink"))
				c->mode = M_SINK;
			else if (!strcmp(optarg, "closefirst"))
				c->mode = M_CLOSEFIRST;
			else
				usage();
			break;
		default:
			usage();
		}
	}
	if (optind != argc || c->chunk == 0)
		usage();
}

static int listen_on(const struct cfg *c, unsigned *port_out)
{
	struct sockaddr_storage ss = { 0 };
	socklen_t len;
	struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;

	if (inet_pton(AF_INET, c->addr, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)c->port);
		len = sizeof *s4;
	} else if (inet_pton(AF_INET6, c->addr, &s6->sin6_addr) == 1) {
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)c->port);
		len = sizeof *s6;
	} else {
		fprintf(stderr, "twtest-server: bad address '%s'\n", c->addr);
		exit(2);
	}

	int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		die("socket");
	int one = 1;
	/* closefirst leaves TIME_WAIT on the server port; let a rerun bind. */
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0)
		die("SO_REUSEADDR");
	if (ss.ss_family == AF_INET6 &&
	    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one) < 0)
		die("IPV6_V6ONLY");
	if (c->mode == M_SINK) {
		/* Inherited by accepted sockets: a small window makes the
		 * sender's data sit unacknowledged, which is the point. */
		int rcv = (int)c->chunk;
		if (setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof rcv) < 0)
			die("SO_RCVBUF");
	}
	if (bind(fd, (struct sockaddr *)&ss, len) < 0)
		die("bind");
	if (listen(fd, 4096) < 0)
		die("listen");
	len = sizeof ss;
	if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0)
		die("getsockname");
	*port_out = ntohs(ss.ss_family == AF_INET ? s4->sin_port : s6->sin6_port);
	return fd;
}

static void announce(int fd, unsigned port)
{
	char buf[16];
	int n = snprintf(buf, sizeof buf, "%u\n", port);
	if (write(fd, buf, (size_t)n) != n)
		die("readiness write");
	if (fd != STDOUT_FILENO)
		close(fd);
}

static void peer_name(int fd, char *out, size_t cap)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof ss;
	char host[INET6_ADDRSTRLEN] = "?";
	unsigned port = 0;

	if (getpeername(fd, (struct sockaddr *)&ss, &len) == 0) {
		if (ss.ss_family == AF_INET) {
			struct sockaddr_in *s = (struct sockaddr_in *)&ss;
			inet_ntop(AF_INET, &s->sin_addr, host, sizeof host);
			port = ntohs(s->sin_port);
		} else if (ss.ss_family == AF_INET6) {
			struct sockaddr_in6 *s = (struct sockaddr_in6 *)&ss;
			inet_ntop(AF_INET6, &s->sin6_addr, host, sizeof host);
			port = ntohs(s->sin6_port);
		}
	}
	snprintf(out, cap, "%s:%u", host, port);
}

static void fnv_update(uint64_t *h, const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		*h ^= (unsigned char)p[i];
		*h *= 0x100000001b3ULL;
	}
}

/* Blocking-enough write of a short reply on a non-blocking socket: the
 * replies are a few bytes into an empty send buffer. */
static bool send_reply(int fd, const char *msg)
{
	size_t len = strlen(msg);
	ssize_t n = send(fd, msg, len, MSG_NOSIGNAL);
	return n == (ssize_t)len;
}

static const char http_reply[] =
	"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 3\r\n"
	"Connection: close\r\n\r\nOK\n";

/* Returns true when the connection has ended (fd closed by us). */
static bool finish(struct conn *c, const char *end, struct stats *st, FILE *out)
{
	fprintf(out, "conn=%lu peer=%s bytes=%llu fnv=%016llx line=%d end=%s\n", c->id, c->peer,
		(unsigned long long)c->bytes, (unsigned long long)c->fnv, c->got_line ? 1 : 0,
		end);
	st->ended++;
	close(c->fd);
	c->fd = -1;
	return true;
}

static void note_data(struct conn *c, enum mode mode, const char *buf, size_t n, struct stats *st)
{
	fnv_update(&c->fnv, buf, n);
	c->bytes += n;
	st->bytes += n;
	if (c->got_line)
		return;
	if (mode == M_HTTP) {
		static const char term[] = "\r\n\r\n";
		for (size_t i = 0; i < n && c->head_state < 4; i++) {
			if (buf[i] == term[c->head_state])
				c->head_state++;
			else
				c->head_state = buf[i] == '\r' ? 1 : 0;
		}
		if (c->head_state == 4) {
			c->got_line = true;
			st->lines++;
		}
	} else if (memchr(buf, '\n', n)) {
		c->got_line = true;
		st->lines++;
	}
}

/* Handle readable input on one connection; returns true if it ended. */
static bool service(struct conn *c, const struct cfg *cfg, struct stats *st, FILE *out)
{
	char buf[65536];
	size_t want = cfg->mode == M_SINK ? cfg->chunk : sizeof buf;
	if (want > sizeof buf)
		want = sizeof buf;

	ssize_t n = recv(c->fd, buf, want, 0);
	if (n < 0) {
		if (errno == EAGAIN || errno == EINTR)
			return false;
		if (errno == ECONNRESET) {
			st->reset++;
			return finish(c, "reset", st, out);
		}
		return finish(c, "error", st, out);
	}
	if (n == 0) {
		st->eof++;
		if (cfg->mode == M_CLOSEFIRST && !c->replied && send_reply(c->fd, "OK\n"))
			st->replies++;
		return finish(c, "eof", st, out);
	}
	note_data(c, cfg->mode, buf, (size_t)n, st);
	if (c->got_line && !c->replied && cfg->mode != M_SINK) {
		c->replied = send_reply(c->fd, cfg->mode == M_HTTP ? http_reply : "OK\n");
		if (c->replied)
			st->replies++;
		if (cfg->mode == M_CLOSEFIRST)
			return finish(c, "server", st, out);
	}
	if (cfg->delay_ms && (cfg->mode == M_SINK || c->replied))
		c->next_read_ms = now_ms() + cfg->delay_ms;
	return false;
}

struct table {
	struct conn *v;
	struct pollfd *p;
	size_t n, cap;
};

static void table_add(struct table *t, int fd, unsigned long id)
{
	if (t->n == t->cap) {
		t->cap = t->cap * 2;
		t->v = realloc(t->v, t->cap * sizeof *t->v);
		t->p = realloc(t->p, (t->cap + 1) * sizeof *t->p);
		if (!t->v || !t->p)
			die("realloc");
	}
	t->v[t->n] = (struct conn){ .fd = fd, .id = id, .fnv = 0xcbf29ce484222325ULL };
	peer_name(fd, t->v[t->n].peer, sizeof t->v[t->n].peer);
	t->n++;
}

static void table_compact(struct table *t)
{
	size_t j = 0;
	for (size_t i = 0; i < t->n; i++)
		if (t->v[i].fd >= 0)
			t->v[j++] = t->v[i];
	t->n = j;
}

static void accept_all(int lfd, struct table *t, struct stats *st)
{
	for (;;) {
		int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EAGAIN || errno == EINTR || errno == ECONNABORTED)
				return;
			die("accept");
		}
		st->accepted++;
		table_add(t, fd, st->accepted);
	}
}

int main(int argc, char **argv)
{
	struct cfg cfg;
	parse(argc, argv, &cfg);

	FILE *out = stdout;
	if (cfg.out_path) {
		out = fopen(cfg.out_path, "w");
		if (!out)
			die(cfg.out_path);
	}
	setvbuf(out, NULL, _IOLBF, 0);
	signal(SIGPIPE, SIG_IGN);
	struct sigaction sa = { .sa_handler = on_signal };
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);

	unsigned port;
	int lfd = listen_on(&cfg, &port);
	announce(cfg.ready_fd, port);

	/* p[0] is the listener; p[i + 1] mirrors v[i]. */
	struct table t = { .cap = 64 };
	t.v = malloc(t.cap * sizeof *t.v);
	t.p = malloc((t.cap + 1) * sizeof *t.p);
	if (!t.v || !t.p)
		die("malloc");
	struct stats st = { 0 };
	int64_t deadline = now_ms() + (int64_t)cfg.timeout_s * 1000;
	bool timed_out = false;

	while (!stop_requested && (cfg.max_conns == 0 || st.ended < cfg.max_conns)) {
		int64_t now = now_ms();
		if (now >= deadline) {
			timed_out = true;
			break;
		}
		int64_t wait = deadline - now;
		bool stop_accepting = cfg.max_conns && st.accepted >= cfg.max_conns;
		t.p[0] = (struct pollfd){ .fd = stop_accepting ? -1 : lfd, .events = POLLIN };
		for (size_t i = 0; i < t.n; i++) {
			struct conn *c = &t.v[i];
			bool ready = c->next_read_ms <= now;
			t.p[i + 1] = (struct pollfd){ .fd = ready ? c->fd : -1, .events = POLLIN };
			if (!ready && c->next_read_ms - now < wait)
				wait = c->next_read_ms - now;
		}
		int r = poll(t.p, t.n + 1, (int)(wait > 1000 ? 1000 : wait));
		if (r < 0) {
			if (errno == EINTR)
				continue;
			die("poll");
		}
		if (r > 0)
			deadline = now_ms() + (int64_t)cfg.timeout_s * 1000;
		size_t n_before = t.n;
		for (size_t i = 0; i < n_before; i++)
			if (t.p[i + 1].fd >= 0 && t.p[i + 1].revents)
				service(&t.v[i], &cfg, &st, out);
		table_compact(&t);
		if (t.p[0].revents & POLLIN)
			accept_all(lfd, &t, &st);
	}

	fprintf(out, "server: accepted=%lu ended=%lu lines=%lu replies=%lu eof=%lu reset=%lu "
		"bytes=%llu timeout=%d\n", st.accepted, st.ended, st.lines, st.replies, st.eof,
		st.reset, (unsigned long long)st.bytes, timed_out ? 1 : 0);
	fflush(out);
	return timed_out && cfg.max_conns ? 3 : 0;
}
