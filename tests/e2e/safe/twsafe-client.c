/* twsafe-client — a short-connection client that closes its sockets
 * through one chosen path, for the TWSHIM_LINGER=safe tests.
 *
 *   twsafe-client [-a ADDR] -p PORT [-n ROUNDS] [-k SOCKETS] [-m MODE]
 *                 [-b BYTES] [-c PATH] [-N] [-v]
 *
 * Each round connects SOCKETS blocking sockets (default 1), runs the
 * exchange on each, then closes all of them through PATH:
 *   MODE  reply  send "hello\n", read up to a newline (we close first)
 *         eof    send "hello\n", read up to EOF (the peer closed first)
 *         send   write BYTES of a test pattern, read nothing
 *   PATH  close        close(fd)
 *         fclose       the exchange runs through fdopen(fd, "r+"); fclose
 *         fdopen2      fdopen(fd, "r") and fdopen(dup(fd), "w"); two fcloses
 *         close_range  close_range(lowest, highest, 0) over the round's fds
 *         closefrom    closefrom(lowest)
 *         dup2 | dup3  dup2/dup3 of /dev/null onto each fd, then close it
 *         dupclose     d = dup(fd); close(fd); close(d)
 *         exit | return | _exit   leave the sockets open and end the
 *                      process that way (one round only)
 *         dupexit      dup(fd) each socket, then exit() with both open
 *         fexit        the exchange runs through fdopen(fd, "w") and is
 *                      left unflushed in stdio; exit() (send mode)
 * -N sets O_NONBLOCK on each socket after the exchange, before the close.
 * Prints one line at the end (before the exit of the exit paths):
 *   attempted=N ok=N failed=N eaddrnotavail=N replies=N sent=N other_errno=E
 * and with -v one line per connection:
 *   conn lport=P sent=N fnv=HEX stdio_pending=N
 * Exit status 0 when every connection succeeded, 1 otherwise. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdio_ext.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "twsafe-common.h"

#define MAX_SOCKETS 64

enum mode { M_REPLY, M_EOF, M_SEND };

struct opts {
	const char *addr;
	unsigned port;
	unsigned long rounds;
	unsigned sockets;
	enum mode mode;
	unsigned long bytes;
	const char *path;
	bool verbose;
	bool nonblock;
};

struct sock {
	int fd;
	FILE *r, *w; /* stdio paths only; r == w for fclose */
	unsigned lport;
	uint64_t sent, fnv;
	bool ok, replied;
};

struct tally {
	unsigned long attempted, ok, failed, addrnotavail, replies;
	uint64_t sent;
	int other_errno;
};

static void usage(void)
{
	fputs("usage: twsafe-client [-a ADDR] -p PORT [-n ROUNDS] [-k SOCKETS]\n"
	      "       [-m reply|eof|send] [-b BYTES] [-c PATH] [-N] [-v]\n", stderr);
	exit(2);
}

static bool is_exit_path(const char *p)
{
	return !strcmp(p, "exit") || !strcmp(p, "return") || !strcmp(p, "_exit") ||
	       !strcmp(p, "dupexit") || !strcmp(p, "fexit");
}

static bool uses_stdio(const char *p)
{
	return !strcmp(p, "fclose") || !strcmp(p, "fdopen2") || !strcmp(p, "fexit");
}

static void parse(int argc, char **argv, struct opts *o)
{
	static const char *const paths[] = { "close", "fclose", "fdopen2", "close_range",
					     "closefrom", "dup2", "dup3", "dupclose",
					     "exit", "return", "_exit", "dupexit", "fexit" };
	int c;

	*o = (struct opts){ .addr = "127.0.0.1", .rounds = 1, .sockets = 1, .path = "close" };
	while ((c = getopt(argc, argv, "a:p:n:k:m:b:c:Nv")) != -1) {
		switch (c) {
		case 'a': o->addr = optarg; break;
		case 'p': o->port = (unsigned)twsafe_num("twsafe-client", optarg, 65535); break;
		case 'n': o->rounds = twsafe_num("twsafe-client", optarg, 10000000); break;
		case 'k': o->sockets = (unsigned)twsafe_num("twsafe-client", optarg, MAX_SOCKETS); break;
		case 'b': o->bytes = twsafe_num("twsafe-client", optarg, 1ul << 30); break;
		case 'c': o->path = optarg; break;
		case 'v': o->verbose = true; break;
		case 'N': o->nonblock = true; break;
		case 'm':
			if (!strcmp(optarg, "reply"))
				o->mode = M_REPLY;
			else if (!strcmp(optarg, "eof"))
				o->mode = M_EOF;
			else if (!strcmp(optarg, "send"))
				o->mode = M_SEND;
			else
				usage();
			break;
		default:
			usage();
		}
	}
	bool known = false;
	for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++)
		known |= !strcmp(o->path, paths[i]);
	if (optind != argc || !o->port || !o->sockets || !known)
		usage();
	if (!strcmp(o->path, "fexit") && o->mode != M_SEND) {
		fputs("twsafe-client: fexit needs -m send\n", stderr);
		exit(2);
	}
	if (is_exit_path(o->path) && o->rounds != 1) {
		fputs("twsafe-client: exit paths take one round\n", stderr);
		exit(2);
	}
}

/* reply/eof over the raw fd; true when "OK\n" came back. */
static bool exchange_fd(int fd, enum mode mode)
{
	static const char line[] = "hello\n";
	if (send(fd, line, sizeof line - 1, MSG_NOSIGNAL) != (ssize_t)(sizeof line - 1))
		return false;
	char buf[256];
	size_t have = 0;
	for (;;) {
		ssize_t n = recv(fd, buf + have, sizeof buf - 1 - have, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		have += (size_t)n;
		buf[have] = '\0';
		if ((mode == M_REPLY && strchr(buf, '\n')) || have == sizeof buf - 1)
			break;
	}
	buf[have] = '\0';
	return mode == M_EOF ? !strcmp(buf, "OK\n") : strchr(buf, '\n') != NULL;
}

/* The same through stdio streams. */
static bool exchange_stdio(FILE *r, FILE *w, enum mode mode)
{
	if (fputs("hello\n", w) == EOF || fflush(w) == EOF)
		return false;
	char buf[256];
	if (!fgets(buf, sizeof buf, r) || strcmp(buf, "OK\n"))
		return false;
	if (mode == M_EOF)
		return fgetc(r) == EOF && !ferror(r);
	return true;
}

static bool open_streams(struct sock *s, const char *path)
{
	if (!strcmp(path, "fclose") || !strcmp(path, "fexit")) {
		s->r = s->w = fdopen(s->fd, "r+");
		return s->r != NULL;
	}
	int d = dup(s->fd);
	s->r = fdopen(s->fd, "r");
	s->w = d >= 0 ? fdopen(d, "w") : NULL;
	return s->r && s->w;
}

static void run_exchange(struct sock *s, const struct opts *o)
{
	s->fnv = TWSAFE_FNV_INIT;
	bool stdio = uses_stdio(o->path);
	if (stdio && !open_streams(s, o->path))
		return;
	if (o->mode == M_SEND) {
		s->sent = stdio ? twsafe_fwrite_pattern(s->w, o->bytes, &s->fnv)
				: twsafe_send_pattern(s->fd, o->bytes, &s->fnv);
		s->ok = s->sent == o->bytes;
		return;
	}
	s->replied = stdio ? exchange_stdio(s->r, s->w, o->mode) : exchange_fd(s->fd, o->mode);
	s->ok = s->replied;
}

static void close_round(struct sock *v, unsigned n, const char *path, int nullfd)
{
	int lo = -1, hi = -1;
	for (unsigned i = 0; i < n; i++) {
		if (v[i].fd < 0)
			continue;
		lo = lo < 0 || v[i].fd < lo ? v[i].fd : lo;
		hi = v[i].fd > hi ? v[i].fd : hi;
	}
	if (lo < 0)
		return;
	if (!strcmp(path, "close_range")) {
		if (close_range((unsigned)lo, (unsigned)hi, 0) < 0)
			perror("twsafe-client: close_range");
		return;
	}
	if (!strcmp(path, "closefrom")) {
		closefrom(lo);
		return;
	}
	for (unsigned i = 0; i < n; i++) {
		struct sock *s = &v[i];
		if (s->fd < 0)
			continue;
		if (!strcmp(path, "fclose")) {
			fclose(s->r);
		} else if (!strcmp(path, "fdopen2")) {
			fclose(s->w);
			fclose(s->r);
		} else if (!strcmp(path, "dup2") || !strcmp(path, "dup3")) {
			int rc = !strcmp(path, "dup2") ? dup2(nullfd, s->fd) : dup3(nullfd, s->fd, O_CLOEXEC);
			if (rc < 0)
				perror("twsafe-client: dup2/dup3");
			close(s->fd);
		} else if (!strcmp(path, "dupclose")) {
			int d = dup(s->fd);
			close(s->fd);
			close(d);
		} else {
			close(s->fd);
		}
	}
}

static void note_connect_failure(struct tally *t, int err)
{
	t->failed++;
	if (err == EADDRNOTAVAIL)
		t->addrnotavail++;
	else
		t->other_errno = err;
}

static void report(const struct tally *t)
{
	printf("attempted=%lu ok=%lu failed=%lu eaddrnotavail=%lu replies=%lu sent=%llu "
	       "other_errno=%s\n", t->attempted, t->ok, t->failed, t->addrnotavail, t->replies,
	       (unsigned long long)t->sent, t->other_errno ? strerror(t->other_errno) : "none");
	fflush(stdout);
}

int main(int argc, char **argv)
{
	struct opts o;
	parse(argc, argv, &o);

	/* Below every socket, so closefrom(lowest socket) leaves it alone. */
	int nullfd = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (nullfd < 0) {
		perror("twsafe-client: /dev/null");
		return 2;
	}
	struct tally t = { 0 };
	struct sock v[MAX_SOCKETS];
	for (unsigned long r = 0; r < o.rounds; r++) {
		for (unsigned i = 0; i < o.sockets; i++) {
			struct sock *s = &v[i];
			*s = (struct sock){ .fd = twsafe_connect(o.addr, o.port) };
			t.attempted++;
			if (s->fd < 0) {
				note_connect_failure(&t, errno);
				continue;
			}
			s->lport = twsafe_local_port(s->fd);
			run_exchange(s, &o);
			if (o.nonblock)
				fcntl(s->fd, F_SETFL, fcntl(s->fd, F_GETFL) | O_NONBLOCK);
			if (!strcmp(o.path, "dupexit") && dup(s->fd) < 0)
				perror("twsafe-client: dup");
			t.ok += s->ok;
			t.failed += !s->ok;
			t.replies += s->replied;
			t.sent += s->sent;
			/* stdio_pending: bytes still in the stream's buffer, not
			 * yet written to the socket. */
			if (o.verbose)
				printf("conn lport=%u sent=%llu fnv=%016llx stdio_pending=%zu\n", s->lport,
				       (unsigned long long)s->sent, (unsigned long long)s->fnv,
				       s->w ? __fpending(s->w) : 0);
		}
		if (!is_exit_path(o.path))
			close_round(v, o.sockets, o.path, nullfd);
	}
	report(&t);
	int status = t.failed ? 1 : 0;
	if (!strcmp(o.path, "exit") || !strcmp(o.path, "dupexit") || !strcmp(o.path, "fexit"))
		exit(status);
	if (!strcmp(o.path, "_exit"))
		_exit(status);
	return status;
}
