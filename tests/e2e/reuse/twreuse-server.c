/* twreuse-server — a "legacy" TCP server: it binds without SO_REUSEADDR
 * and closes every connection first, so its port collects TIME_WAIT.
 *
 *   twreuse-server [-a ADDR] -p PORT [-n CONNS] [-r FD]
 *
 * Binds ADDR:PORT (default 0.0.0.0) with no socket option of its own,
 * listens, writes "PORT PID\n" to FD (default 1) once listening, then per
 * connection: read a line, write "OK\n", close.  Stops after CONNS
 * connections (0: at SIGTERM).  Prints one line to stdout at the end:
 *   bind=ok accepted=N reuseaddr=N reuseport=N
 * or, when bind() fails, bind=ERRNAME and exit status 1.  reuseaddr and
 * reuseport are what getsockopt says on the listener after bind.
 *
 * Built a second time with -DTWREUSE_OWN_REUSEPORT (twreuse-server-own):
 * the same server with SO_REUSEPORT compiled in, set before bind(), the
 * control that the library's TWSHIM_REUSEPORT=1 is compared with. */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static volatile sig_atomic_t stop;

static void on_term(int sig)
{
	(void)sig;
	stop = 1;
}

static unsigned long num(const char *s, unsigned long max)
{
	char *end;
	errno = 0;
	unsigned long v = strtoul(s, &end, 10);
	if (errno || end == s || *end || s[0] == '-' || v > max) {
		fprintf(stderr, "twreuse-server: bad number '%s'\n", s);
		exit(2);
	}
	return v;
}

static int flag(int fd, int name)
{
	int v = -1;
	socklen_t len = sizeof v;
	getsockopt(fd, SOL_SOCKET, name, &v, &len);
	return v;
}

/* One exchange; the server closes first. */
static void serve(int c)
{
	char buf[256];
	size_t have = 0;
	while (have < sizeof buf) {
		ssize_t n = read(c, buf + have, sizeof buf - have);
		if (n <= 0)
			break;
		have += (size_t)n;
		if (memchr(buf, '\n', have)) {
			if (write(c, "OK\n", 3) != 3)
				break;
			break;
		}
	}
	close(c);
}

int main(int argc, char **argv)
{
	const char *addr = "0.0.0.0";
	unsigned port = 0;
	unsigned long max = 0;
	int ready = 1, o;

	while ((o = getopt(argc, argv, "a:p:n:r:")) != -1) {
		switch (o) {
		case 'a': addr = optarg; break;
		case 'p': port = (unsigned)num(optarg, 65535); break;
		case 'n': max = num(optarg, 1000000); break;
		case 'r': ready = (int)num(optarg, 1024); break;
		default:
			fputs("usage: twreuse-server [-a ADDR] -p PORT [-n CONNS] [-r FD]\n", stderr);
			return 2;
		}
	}
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	if (!port || inet_pton(AF_INET, addr, &sa.sin_addr) != 1) {
		fputs("twreuse-server: need -p PORT and an IPv4 -a ADDR\n", stderr);
		return 2;
	}
	/* No SA_RESTART: SIGTERM must interrupt a blocking accept(). */
	struct sigaction act = { .sa_handler = on_term };
	sigaction(SIGTERM, &act, NULL);
	signal(SIGPIPE, SIG_IGN);

	int fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0) {
		perror("twreuse-server: socket");
		return 2;
	}
#ifdef TWREUSE_OWN_REUSEPORT
	int one = 1;
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) < 0) {
		perror("twreuse-server: SO_REUSEPORT");
		return 2;
	}
#endif
	if (bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
		int err = errno;
		printf("bind=%s\n", err == EADDRINUSE ? "EADDRINUSE" : strerror(err));
		return 1;
	}
	if (listen(fd, 128) < 0) {
		perror("twreuse-server: listen");
		return 2;
	}
	dprintf(ready, "%u %ld\n", port, (long)getpid());
	if (ready != STDOUT_FILENO)
		close(ready);

	unsigned long accepted = 0;
	while (!stop && (max == 0 || accepted < max)) {
		int c = accept(fd, NULL, NULL);
		if (c < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			perror("twreuse-server: accept");
			return 2;
		}
		accepted++;
		serve(c);
	}
	printf("bind=ok accepted=%lu reuseaddr=%d reuseport=%d\n", accepted,
	       flag(fd, SO_REUSEADDR), flag(fd, SO_REUSEPORT));
	return 0;
}
