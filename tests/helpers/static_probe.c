/* static_probe — a short-connection client (and its server) built with
 * `gcc -static`, so LD_PRELOAD cannot reach it: the supervisor's target.
 *
 *   static_probe serve PORT
 *       Listen on 127.0.0.1:PORT, print "ready"; per connection read lines,
 *       answer "OK\n" to each, close when the client does.
 *   static_probe probe ADDR PORT COUNT [request] [linger0] [fork] [exec]
 *       COUNT sequential connect/close cycles (request: write "ping\n" and
 *       read "OK\n" first; linger0: set SO_LINGER {1,0} itself, for the
 *       benchmark baseline; fork: a child runs the loop; exec: a child execs
 *       this program to run it).  Prints one line:
 *       attempted= ok= failed= eaddrnotavail= first_error= lport_min=
 *       lport_max= elapsed_us= conn_per_s=
 *   static_probe i386 PORT
 *       connect to 127.0.0.1:PORT through the i386 system call ABI (int 0x80:
 *       connect, then socketcall(SYS_CONNECT)) from this 64-bit process and
 *       print "i386_connect=ERRNO socketcall_connect=ERRNO" (0 on success).
 *       The supervisor's filter must not let these through unmanaged.
 *   static_probe bindcheck PORT
 *       bind a TCP socket to 127.0.0.1:PORT without setting any option and
 *       print "reuseaddr=N reuseport=N" as the kernel reports them.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static const char *errno_name(int e)
{
	switch (e) {
	case 0: return "none";
	case EADDRNOTAVAIL: return "EADDRNOTAVAIL";
	case ECONNREFUSED: return "ECONNREFUSED";
	case ECONNRESET: return "ECONNRESET";
	case ETIMEDOUT: return "ETIMEDOUT";
	case ENOSYS: return "ENOSYS";
	case EADDRINUSE: return "EADDRINUSE";
	case EINVAL: return "EINVAL";
	case EPIPE: return "EPIPE";
	default: return "other";
	}
}

static int parse_port(const char *s)
{
	char *end;
	long v = strtol(s, &end, 10);

	if (*s == '\0' || *end != '\0' || v < 1 || v > 65535) {
		fprintf(stderr, "static_probe: bad port '%s'\n", s);
		exit(2);
	}
	return (int)v;
}

static int serve(int port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	struct epoll_event ev, evs[64];
	int one = 1, ls, ep, n, i;
	char buf[4096];

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ls = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (ls < 0 || setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
	    bind(ls, (struct sockaddr *)&a, sizeof(a)) != 0 || listen(ls, 4096) != 0) {
		perror("static_probe: serve");
		return 1;
	}
	ep = epoll_create1(EPOLL_CLOEXEC);
	ev.events = EPOLLIN;
	ev.data.fd = ls;
	epoll_ctl(ep, EPOLL_CTL_ADD, ls, &ev);
	printf("ready\n");
	fflush(stdout);
	for (;;) {
		n = epoll_wait(ep, evs, 64, -1);
		for (i = 0; i < n; i++) {
			int fd = evs[i].data.fd;
			if (fd == ls) {
				int c = accept4(ls, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
				if (c < 0)
					continue;
				ev.events = EPOLLIN;
				ev.data.fd = c;
				epoll_ctl(ep, EPOLL_CTL_ADD, c, &ev);
				continue;
			}
			ssize_t r = read(fd, buf, sizeof(buf));
			if (r > 0) {
				if (memchr(buf, '\n', (size_t)r) && write(fd, "OK\n", 3) != 3) {
					close(fd);
				}
			} else if (r == 0 || errno != EAGAIN) {
				close(fd); /* the client closed (or reset): we close second */
			}
		}
	}
}

static long now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000L + ts.tv_nsec / 1000;
}

struct opts {
	bool request, linger0, fork, exec;
	long upload; /* bytes written after connect, then close at once */
};

static bool upload(int fd, long n)
{
	static const char zeros[65536];

	while (n > 0) {
		ssize_t w = write(fd, zeros, n < (long)sizeof(zeros) ? (size_t)n : sizeof(zeros));
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return false;
		n -= w;
	}
	return true;
}

static bool one_request(int fd)
{
	char buf[16];
	size_t got = 0;
	ssize_t r;

	if (write(fd, "ping\n", 5) != 5)
		return false;
	while (got < 3) {
		r = read(fd, buf + got, sizeof(buf) - got);
		if (r <= 0)
			return false;
		got += (size_t)r;
	}
	return memcmp(buf, "OK\n", 3) == 0;
}

static int probe(const char *addr, int port, long count, const struct opts *o)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	long ok = 0, failed = 0, enotavail = 0, t0, el, i;
	int first_err = 0, lmin = 0, lmax = 0;

	if (inet_pton(AF_INET, addr, &a.sin_addr) != 1) {
		fprintf(stderr, "static_probe: bad address '%s'\n", addr);
		return 2;
	}
	t0 = now_us();
	for (i = 0; i < count; i++) {
		int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		struct sockaddr_in l;
		socklen_t ll = sizeof(l);

		if (fd < 0) {
			perror("static_probe: socket");
			return 1;
		}
		if (o->linger0) {
			struct linger lg = { 1, 0 };
			setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
		}
		if (connect(fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
			if (!first_err)
				first_err = errno;
			if (errno == EADDRNOTAVAIL)
				enotavail++;
			failed++;
			close(fd);
			continue;
		}
		if (getsockname(fd, (struct sockaddr *)&l, &ll) == 0) {
			int p = ntohs(l.sin_port);
			if (lmin == 0 || p < lmin)
				lmin = p;
			if (p > lmax)
				lmax = p;
		}
		if ((o->request && !one_request(fd)) || (o->upload > 0 && !upload(fd, o->upload))) {
			if (!first_err)
				first_err = errno ? errno : EPIPE;
			failed++;
		} else {
			ok++;
		}
		close(fd);
	}
	el = now_us() - t0;
	printf("attempted=%ld ok=%ld failed=%ld eaddrnotavail=%ld first_error=%s "
	       "lport_min=%d lport_max=%d elapsed_us=%ld conn_per_s=%ld\n",
	       count, ok, failed, enotavail, errno_name(first_err), lmin, lmax, el,
	       el > 0 ? count * 1000000L / el : 0);
	fflush(stdout); /* a forked child leaves with _exit */
	return 0;
}

static int bindcheck(int port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), ra = -1, rp = -1;
	socklen_t l = sizeof(int);

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
		perror("static_probe: bind");
		return 1;
	}
	getsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &ra, &l);
	l = sizeof(int);
	getsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &rp, &l);
	printf("reuseaddr=%d reuseport=%d\n", ra, rp);
	return 0;
}

/* In static storage: a non-PIE static binary keeps it below 4 GiB, where
 * a 32-bit pointer can name it. */
static struct sockaddr_in i386_sa;
static unsigned int i386_args[3];

static long int80(long nr, long a, long b, long c)
{
	long r;

	__asm__ volatile("int $0x80" : "=a"(r) : "a"(nr), "b"(a), "c"(b), "d"(c) : "memory");
	return r;
}

static int i386_probe(int port)
{
	long r1, r2;
	int fd1 = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int fd2 = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if ((uintptr_t)&i386_sa > 0xffffffffu || (uintptr_t)i386_args > 0xffffffffu) {
		fprintf(stderr, "static_probe: data above 4 GiB (PIE?): cannot use int 0x80\n");
		return 1;
	}
	i386_sa.sin_family = AF_INET;
	i386_sa.sin_port = htons((uint16_t)port);
	i386_sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	r1 = int80(362 /* i386 connect */, fd1, (long)(uintptr_t)&i386_sa, sizeof(i386_sa));
	i386_args[0] = (unsigned)fd2;
	i386_args[1] = (unsigned)(uintptr_t)&i386_sa;
	i386_args[2] = sizeof(i386_sa);
	r2 = int80(102 /* socketcall */, 3 /* SYS_CONNECT */, (long)(uintptr_t)i386_args, 0);
	printf("i386_connect=%s socketcall_connect=%s\n", errno_name(r1 < 0 ? (int)-r1 : 0),
	       errno_name(r2 < 0 ? (int)-r2 : 0));
	return 0;
}

/* fork/exec modes: the loop runs in a child; we return its status. */
static int in_child(char **argv, int argc, const struct opts *o,
		    const char *addr, int port, long count)
{
	pid_t pid;
	int st;

	fflush(stdout);
	pid = fork();
	if (pid < 0) {
		perror("static_probe: fork");
		return 1;
	}
	if (pid == 0) {
		if (o->exec) {
			char *args[8];
			int n = 0, i;
			for (i = 0; i < argc && n < 7; i++)
				if (strcmp(argv[i], "fork") != 0 && strcmp(argv[i], "exec") != 0)
					args[n++] = argv[i];
			args[n] = NULL;
			execv("/proc/self/exe", args);
			perror("static_probe: exec");
			_exit(127);
		}
		struct opts co = *o;
		co.fork = false;
		_exit(probe(addr, port, count, &co));
	}
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return 1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

int main(int argc, char **argv)
{
	struct opts o = { 0 };
	long count;
	int i;

	signal(SIGPIPE, SIG_IGN);
	if (argc == 3 && strcmp(argv[1], "serve") == 0)
		return serve(parse_port(argv[2]));
	if (argc == 3 && strcmp(argv[1], "i386") == 0)
		return i386_probe(parse_port(argv[2]));
	if (argc == 3 && strcmp(argv[1], "bindcheck") == 0)
		return bindcheck(parse_port(argv[2]));
	if (argc < 5 || strcmp(argv[1], "probe") != 0) {
		fprintf(stderr, "usage: static_probe serve PORT | bindcheck PORT | "
			"probe ADDR PORT COUNT [request] [linger0] [fork] [exec] [upload=BYTES]\n");
		return 2;
	}
	count = strtol(argv[4], NULL, 10);
	for (i = 5; i < argc; i++) {
		if (strcmp(argv[i], "request") == 0)
			o.request = true;
		else if (strcmp(argv[i], "linger0") == 0)
			o.linger0 = true;
		else if (strcmp(argv[i], "fork") == 0)
			o.fork = true;
		else if (strcmp(argv[i], "exec") == 0)
			o.fork = o.exec = true;
		else if (strncmp(argv[i], "upload=", 7) == 0)
			o.upload = strtol(argv[i] + 7, NULL, 10);
		else {
			fprintf(stderr, "static_probe: unknown option '%s'\n", argv[i]);
			return 2;
		}
	}
	if (o.fork)
		return in_child(argv, argc, &o, argv[2], parse_port(argv[3]), count);
	return probe(argv[2], parse_port(argv[3]), count, &o);
}
