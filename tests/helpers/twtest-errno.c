/* twtest-errno — the errno a program sees from calls the library wraps.
 *
 *   twtest-errno PORT_OPEN PORT_CLOSED
 *
 * PORT_OPEN must have a listener on 127.0.0.1, PORT_CLOSED must not.  One
 * line per case: CASE rc=N errno=NAME (errno=0 when the call succeeded).
 * Run with and without the library: the outputs must be identical. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static void report(const char *name, int rc, int e)
{
	const char *en = e ? strerrorname_np(e) : "0";
	printf("%s rc=%d errno=%s\n", name, rc, en ? en : "?");
}

static struct sockaddr_in lo4(unsigned port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	return a;
}

/* Call, then capture errno before anything else can touch it. */
#define CASE(name, call)                           \
	do {                                       \
		errno = 0;                         \
		int rc_ = (call);                  \
		int e_ = rc_ < 0 ? errno : 0;      \
		report(name, rc_, e_);             \
	} while (0)

static int tcp(int flags)
{
	int fd = socket(AF_INET, SOCK_STREAM | flags, 0);
	if (fd < 0) {
		perror("socket");
		exit(2);
	}
	return fd;
}

int main(int argc, char **argv)
{
	if (argc != 3)
		return fprintf(stderr, "usage: twtest-errno PORT_OPEN PORT_CLOSED\n"), 2;
	struct sockaddr_in open4 = lo4((unsigned)strtoul(argv[1], NULL, 10));
	struct sockaddr_in closed4 = lo4((unsigned)strtoul(argv[2], NULL, 10));
	struct sockaddr *op = (struct sockaddr *)&open4, *cl = (struct sockaddr *)&closed4;
	setvbuf(stdout, NULL, _IOLBF, 0);

	int fd = tcp(0);
	CASE("connect_refused", connect(fd, cl, sizeof closed4));
	CASE("connect_after_refused", connect(fd, cl, sizeof closed4));
	CASE("close_after_refused", close(fd));

	fd = tcp(SOCK_NONBLOCK);
	CASE("connect_nonblock", connect(fd, op, sizeof open4));
	struct pollfd p = { .fd = fd, .events = POLLOUT };
	CASE("poll_nonblock", poll(&p, 1, 5000) == 1 ? 0 : -1);
	int soerr = -1;
	socklen_t sl = sizeof soerr;
	CASE("so_error_nonblock", getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl));
	printf("so_error_nonblock_value %s\n", soerr ? strerrorname_np(soerr) : "0");
	CASE("connect_again_isconn", connect(fd, op, sizeof open4));
	CASE("close_nonblock", close(fd));

	fd = tcp(SOCK_NONBLOCK);
	CASE("connect_nonblock_refused", connect(fd, cl, sizeof closed4));
	p = (struct pollfd){ .fd = fd, .events = POLLOUT };
	CASE("poll_nonblock_refused", poll(&p, 1, 5000) == 1 ? 0 : -1);
	soerr = -1;
	sl = sizeof soerr;
	CASE("so_error_refused", getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl));
	printf("so_error_refused_value %s\n", soerr ? strerrorname_np(soerr) : "0");
	CASE("close_nonblock_refused", close(fd));

	CASE("connect_ebadf", connect(-1, op, sizeof open4));
	CASE("connect_ebadf_high", connect(987, op, sizeof open4));
	int nul = open("/dev/null", O_RDONLY);
	CASE("connect_enotsock", connect(nul, op, sizeof open4));
	close(nul);

	fd = tcp(0);
	CASE("connect_short_len", connect(fd, op, 4));
	CASE("connect_null_addr", connect(fd, NULL, sizeof open4));
	struct sockaddr_in6 six = { .sin6_family = AF_INET6, .sin6_port = open4.sin_port };
	CASE("connect_wrong_family", connect(fd, (struct sockaddr *)&six, sizeof six));
	CASE("connect_ok", connect(fd, op, sizeof open4));
	CASE("connect_isconn", connect(fd, op, sizeof open4));
	CASE("close_ok", close(fd));
	CASE("close_twice", close(fd));
	CASE("close_ebadf", close(-1));
	return 0;
}
