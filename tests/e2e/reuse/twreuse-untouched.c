/* twreuse-untouched — which sockets did the library give reuse options?
 *
 *   twreuse-untouched SPEC...
 *
 * For each SPEC makes one socket, binds it and prints
 *   SPEC bind=ok|ERRNAME reuseaddr=N reuseport=N
 * (getsockopt after bind).  Every socket stays open until the end, so the
 * ports must differ.  SPEC:
 *   tcp:PORT  tcp6:PORT  udp:PORT  udp6:PORT   plain bind on loopback
 *   tcp-noaddr:PORT   the program sets SO_REUSEADDR to 0 before bind
 *   tcp-noport:PORT   the program sets SO_REUSEPORT to 0 before bind
 *   unix              an abstract AF_UNIX stream socket
 * Exit status 0 unless a SPEC is malformed or a socket cannot be made. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static int flag(int fd, int name)
{
	int v = -1;
	socklen_t len = sizeof v;
	getsockopt(fd, SOL_SOCKET, name, &v, &len);
	return v;
}

static void set_zero(int fd, int name)
{
	int zero = 0;
	if (setsockopt(fd, SOL_SOCKET, name, &zero, sizeof zero) < 0) {
		perror("twreuse-untouched: setsockopt");
		exit(2);
	}
}

static int bind_unix(int fd)
{
	struct sockaddr_un su = { .sun_family = AF_UNIX };
	/* Abstract name: nothing left in the file system. */
	int n = snprintf(su.sun_path + 1, sizeof su.sun_path - 1, "twreuse-%d", (int)getpid());
	return bind(fd, (struct sockaddr *)&su, (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + (size_t)n));
}

static int bind_inet(int fd, bool v6, unsigned port)
{
	if (v6) {
		struct sockaddr_in6 s = { .sin6_family = AF_INET6, .sin6_port = htons((uint16_t)port),
					  .sin6_addr = IN6ADDR_LOOPBACK_INIT };
		return bind(fd, (struct sockaddr *)&s, sizeof s);
	}
	struct sockaddr_in s = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	return bind(fd, (struct sockaddr *)&s, sizeof s);
}

static void one(const char *spec)
{
	char kind[16];
	unsigned port = 0;
	int fd, rc;

	if (!strcmp(spec, "unix")) {
		fd = socket(AF_UNIX, SOCK_STREAM, 0);
		if (fd < 0)
			exit(2);
		rc = bind_unix(fd);
	} else {
		if (sscanf(spec, "%15[a-z0-9-]:%u", kind, &port) != 2 || port > 65535) {
			fprintf(stderr, "twreuse-untouched: bad spec '%s'\n", spec);
			exit(2);
		}
		bool v6 = !strcmp(kind, "tcp6") || !strcmp(kind, "udp6");
		bool udp = !strncmp(kind, "udp", 3);
		fd = socket(v6 ? AF_INET6 : AF_INET, udp ? SOCK_DGRAM : SOCK_STREAM, 0);
		if (fd < 0) {
			perror("twreuse-untouched: socket");
			exit(2);
		}
		if (!strcmp(kind, "tcp-noaddr"))
			set_zero(fd, SO_REUSEADDR);
		else if (!strcmp(kind, "tcp-noport"))
			set_zero(fd, SO_REUSEPORT);
		else if (strcmp(kind, "tcp") && strcmp(kind, "tcp6") && !udp) {
			fprintf(stderr, "twreuse-untouched: bad kind '%s'\n", kind);
			exit(2);
		}
		rc = bind_inet(fd, v6, port);
	}
	int err = errno;
	printf("%s bind=%s reuseaddr=%d reuseport=%d\n", spec, rc == 0 ? "ok" : strerror(err),
	       flag(fd, SO_REUSEADDR), flag(fd, SO_REUSEPORT));
}

int main(int argc, char **argv)
{
	for (int i = 1; i < argc; i++)
		one(argv[i]);
	fflush(stdout);
	return 0;
}
