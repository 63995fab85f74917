/* twtest-sockopt — what SO_LINGER does a program find on its sockets?
 *
 *   twtest-sockopt PORT
 *
 * Makes one socket of each kind the library must leave alone, plus a client
 * TCP socket it should change, and prints one line per socket:
 *   KIND onoff=N linger=N
 * KIND: udp_connected, unix_pair, unix_connected, tcp_listener,
 * tcp_accepted, tcp_client, tcp6_client.  PORT is a free loopback TCP port
 * (the helper listens on it, on 127.0.0.1 and ::1).  Exit 0 unless a
 * socket call itself failed. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static void die(const char *what)
{
	fprintf(stderr, "twtest-sockopt: %s: %s\n", what, strerror(errno));
	exit(2);
}

static void show(const char *kind, int fd)
{
	struct linger lg = { -1, -1 };
	socklen_t len = sizeof lg;
	if (getsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, &len) < 0)
		die(kind);
	printf("%s onoff=%d linger=%d\n", kind, lg.l_onoff, lg.l_linger);
}

static struct sockaddr_in v4(unsigned port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	return a;
}

static struct sockaddr_in6 v6(unsigned port)
{
	struct sockaddr_in6 a = { .sin6_family = AF_INET6, .sin6_port = htons((uint16_t)port) };
	a.sin6_addr = in6addr_loopback;
	return a;
}

static int tcp_listener(int family, const struct sockaddr *sa, socklen_t len)
{
	int fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int one = 1;
	if (fd < 0)
		die("socket");
	/* Our own server-first closes leave TIME_WAIT on PORT: allow reruns. */
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0)
		die("SO_REUSEADDR");
	if (family == AF_INET6 && setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one) < 0)
		die("IPV6_V6ONLY");
	if (bind(fd, sa, len) < 0 || listen(fd, 16) < 0)
		die("bind/listen");
	return fd;
}

static void udp_case(unsigned port)
{
	struct sockaddr_in a = v4(port);
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof a) < 0)
		die("udp connect");
	show("udp_connected", fd);
	close(fd);
}

static void unix_cases(void)
{
	int sv[2];
	/* curl makes exactly this: an AF_UNIX stream pair. */
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv) < 0)
		die("socketpair");
	show("unix_pair", sv[0]);
	close(sv[0]);
	close(sv[1]);

	/* An abstract-namespace listener: no file to clean up. */
	struct sockaddr_un un = { .sun_family = AF_UNIX };
	int n = snprintf(un.sun_path + 1, sizeof un.sun_path - 1, "twtest-sockopt-%d", (int)getpid());
	socklen_t len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + (size_t)n);
	int l = socket(AF_UNIX, SOCK_STREAM, 0);
	if (l < 0 || bind(l, (struct sockaddr *)&un, len) < 0 || listen(l, 4) < 0)
		die("unix listen");
	int c = socket(AF_UNIX, SOCK_STREAM, 0);
	if (c < 0 || connect(c, (struct sockaddr *)&un, len) < 0)
		die("unix connect");
	show("unix_connected", c);
	close(c);
	close(l);
}

static void tcp_cases(const char *kind_client, int family, const struct sockaddr *sa,
		      socklen_t len, int with_server_lines)
{
	int l = tcp_listener(family, sa, len);
	int c = socket(family, SOCK_STREAM, 0);
	if (c < 0 || connect(c, sa, len) < 0)
		die("tcp connect");
	int a = accept(l, NULL, NULL);
	if (a < 0)
		die("accept");
	if (with_server_lines) {
		show("tcp_listener", l);
		show("tcp_accepted", a);
	}
	show(kind_client, c);
	/* Server side first, so the client's ephemeral port is not held in
	 * TIME_WAIT (the namespace has only ten of them). */
	close(a);
	close(c);
	close(l);
}

int main(int argc, char **argv)
{
	if (argc != 2)
		return fprintf(stderr, "usage: twtest-sockopt PORT\n"), 2;
	unsigned port = (unsigned)strtoul(argv[1], NULL, 10);
	if (port == 0 || port > 65535)
		return fprintf(stderr, "twtest-sockopt: bad port\n"), 2;

	setvbuf(stdout, NULL, _IOLBF, 0);
	udp_case(port);
	unix_cases();
	struct sockaddr_in a4 = v4(port);
	tcp_cases("tcp_client", AF_INET, (struct sockaddr *)&a4, sizeof a4, 1);
	struct sockaddr_in6 a6 = v6(port);
	tcp_cases("tcp6_client", AF_INET6, (struct sockaddr *)&a6, sizeof a6, 0);
	return 0;
}
