/* probe — a "legacy" TCP health check, the kind twshim is for.
 *
 *   probe [-n COUNT] [-s LINE] [-r | -E] [-6] [-q] HOST PORT
 *
 * Each round opens a fresh blocking socket, connects, optionally sends LINE
 * plus a newline, optionally reads the reply up to a newline or EOF (-r) or
 * up to EOF (-E: the server closes first), and closes — normally first —
 * which is what leaves one TIME_WAIT per check.  Only plain libc calls are
 * used, so LD_PRELOAD reaches every one of them.
 *
 * At the end it prints one machine-readable line to stdout:
 *   attempted=N ok=N failed=N eaddrnotavail=N replies=N other_errno=NAME:N,...
 * (other_errno=none when every failure was EADDRNOTAVAIL or there was none).
 * Exit status: 0 when every round succeeded, 1 otherwise, 2 on bad usage. */
#include <errno.h>
#include <getopt.h>
#include <netdb.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* errno values are small; anything past this is lumped together. */
#define ERRNO_SLOTS 256
/* "Connected and sent, but no reply line came back": reported by
 * one_round() as NOREPLY and counted in errno slot 0, which no errno uses. */
#define NOREPLY (-1)
#define NOREPLY_SLOT 0

struct opts {
	unsigned long count;
	const char *line;
	bool read_reply;
	bool until_eof;
	bool ipv6;
	bool quiet;
	const char *host;
	const char *port;
};

struct tally {
	unsigned long attempted, ok, failed, replies;
	unsigned long by_errno[ERRNO_SLOTS];
	unsigned long big_errno;
};

static void usage(FILE *f)
{
	fputs("usage: probe [-n COUNT] [-s LINE] [-r | -E] [-6] [-q] HOST PORT\n"
	      "  -n COUNT  number of connections (default 1)\n"
	      "  -s LINE   send LINE and a newline after connecting\n"
	      "  -r        read the reply up to a newline or EOF\n"
	      "  -E        read the reply up to EOF (it must hold a newline)\n"
	      "  -6        resolve HOST as IPv6\n"
	      "  -q        no per-failure messages on stderr\n", f);
}

static bool parse_count(const char *s, unsigned long *out)
{
	char *end;

	errno = 0;
	unsigned long v = strtoul(s, &end, 10);
	if (errno || end == s || *end || s[0] == '-')
		return false;
	*out = v;
	return true;
}

static int parse_args(int argc, char **argv, struct opts *o)
{
	int c;

	*o = (struct opts){ .count = 1 };
	while ((c = getopt(argc, argv, "n:s:rE6qh")) != -1) {
		switch (c) {
		case 'n':
			if (!parse_count(optarg, &o->count)) {
				fprintf(stderr, "probe: bad count '%s'\n", optarg);
				return -1;
			}
			break;
		case 's':
			o->line = optarg;
			break;
		case 'r':
			o->read_reply = true;
			break;
		case 'E':
			o->read_reply = true;
			o->until_eof = true;
			break;
		case '6':
			o->ipv6 = true;
			break;
		case 'q':
			o->quiet = true;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			return -1;
		}
	}
	if (argc - optind != 2)
		return -1;
	o->host = argv[optind];
	o->port = argv[optind + 1];
	return 0;
}

static bool write_all(int fd, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, buf, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return false;
		}
		buf += n;
		len -= (size_t)n;
	}
	return true;
}

/* Read until a newline or EOF (until_eof: until EOF).  Returns 1 when a
 * full line arrived, 0 on EOF without one, -1 on error (errno set). */
static int read_reply(int fd, bool until_eof)
{
	char buf[512];
	bool line = false;

	for (;;) {
		ssize_t n = read(fd, buf, sizeof buf);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (n == 0)
			return line ? 1 : 0;
		if (memchr(buf, '\n', (size_t)n)) {
			line = true;
			if (!until_eof)
				return 1;
		}
	}
}

/* One check.  Returns 0 on success, else the errno that ended it
 * (NOREPLY when the reply was missing). */
static int one_round(const struct opts *o, const struct addrinfo *ai, bool *replied)
{
	int fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
	if (fd < 0)
		return errno;
	if (connect(fd, ai->ai_addr, ai->ai_addrlen) < 0) {
		int e = errno;
		close(fd);
		return e;
	}
	if (o->line) {
		size_t len = strlen(o->line);
		char *msg = malloc(len + 1);
		if (!msg) {
			close(fd);
			return ENOMEM;
		}
		memcpy(msg, o->line, len);
		msg[len] = '\n';
		bool sent = write_all(fd, msg, len + 1);
		int e = errno;
		free(msg);
		if (!sent) {
			close(fd);
			return e;
		}
	}
	if (o->read_reply) {
		int r = read_reply(fd, o->until_eof);
		int e = errno;
		if (r <= 0) {
			close(fd);
			return r < 0 ? e : NOREPLY;
		}
		*replied = true;
	}
	/* The close the whole project is about: client first. */
	if (close(fd) < 0)
		return errno;
	return 0;
}

static const char *errno_label(int e)
{
	if (e == NOREPLY_SLOT)
		return "NOREPLY";
	const char *name = strerrorname_np(e);
	return name ? name : "UNKNOWN";
}

static void record(struct tally *t, const struct opts *o, int e)
{
	t->failed++;
	if (e == NOREPLY)
		e = NOREPLY_SLOT;
	if (e >= 0 && e < ERRNO_SLOTS) {
		/* Say each kind of failure once: a 10-port range fails 2000 times. */
		if (!o->quiet && t->by_errno[e] == 0)
			fprintf(stderr, "probe: %s:%s: %s (first of its kind, round %lu)\n",
				o->host, o->port, e == NOREPLY_SLOT ? "no reply" : strerror(e),
				t->attempted);
		t->by_errno[e]++;
	} else {
		t->big_errno++;
	}
}

static void print_tally(const struct tally *t)
{
	bool any = false;

	printf("attempted=%lu ok=%lu failed=%lu eaddrnotavail=%lu replies=%lu other_errno=",
	       t->attempted, t->ok, t->failed, t->by_errno[EADDRNOTAVAIL], t->replies);
	for (int e = 0; e < ERRNO_SLOTS; e++) {
		if (e == EADDRNOTAVAIL || t->by_errno[e] == 0)
			continue;
		printf("%s%s:%lu", any ? "," : "", errno_label(e), t->by_errno[e]);
		any = true;
	}
	if (t->big_errno) {
		printf("%sOTHER:%lu", any ? "," : "", t->big_errno);
		any = true;
	}
	printf("%s\n", any ? "" : "none");
}

int main(int argc, char **argv)
{
	struct opts o;
	if (parse_args(argc, argv, &o) < 0) {
		usage(stderr);
		return 2;
	}

	struct addrinfo hints = {
		.ai_family = o.ipv6 ? AF_INET6 : AF_INET,
		.ai_socktype = SOCK_STREAM,
		.ai_protocol = IPPROTO_TCP,
		.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV,
	};
	struct addrinfo *ai;
	int rc = getaddrinfo(o.host, o.port, &hints, &ai);
	if (rc != 0) {
		fprintf(stderr, "probe: %s:%s: %s\n", o.host, o.port, gai_strerror(rc));
		return 2;
	}

	static struct tally t;
	for (unsigned long i = 0; i < o.count; i++) {
		bool replied = false;
		t.attempted++;
		int e = one_round(&o, ai, &replied);
		if (replied)
			t.replies++;
		if (e == 0)
			t.ok++;
		else
			record(&t, &o, e);
	}
	freeaddrinfo(ai);
	print_tally(&t);
	return t.failed ? 1 : 0;
}
