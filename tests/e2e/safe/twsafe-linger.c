/* twsafe-linger — a client that chooses its own SO_LINGER.
 *
 *   twsafe-linger [-a ADDR] -p PORT [-l ONOFF,SECS] [-w before|after] [-2 SECS]
 *
 * Connects, sets SO_LINGER {ONOFF,SECS} before or after connect() (-w,
 * default before; without -l it never sets it), sends "hello\n", reads the
 * reply line, and closes first with close().  -2 sets TCP_LINGER2 to SECS
 * before connect().  Prints what getsockopt says right after connect() and
 * right before close():
 *   connect_onoff=N connect_linger=N close_onoff=N close_linger=N
 *   close_linger2=N replied=0|1
 * Exit status 0 when the exchange worked. */
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "twsafe-common.h"

static struct linger current(int fd)
{
	struct linger lg = { -1, -1 };
	socklen_t len = sizeof lg;
	if (getsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, &len) < 0)
		perror("twsafe-linger: getsockopt SO_LINGER");
	return lg;
}

static void set_linger(int fd, struct linger lg)
{
	if (setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg) < 0) {
		perror("twsafe-linger: setsockopt SO_LINGER");
		exit(2);
	}
}

static bool exchange(int fd)
{
	if (send(fd, "hello\n", 6, MSG_NOSIGNAL) != 6)
		return false;
	char buf[64];
	size_t have = 0;
	while (have < sizeof buf - 1) {
		ssize_t n = recv(fd, buf + have, sizeof buf - 1 - have, 0);
		if (n <= 0)
			return false;
		have += (size_t)n;
		if (memchr(buf, '\n', have))
			return true;
	}
	return false;
}

int main(int argc, char **argv)
{
	const char *addr = "127.0.0.1";
	unsigned port = 0;
	bool have_linger = false, before = true;
	struct linger want = { 0, 0 };
	int c, linger2 = 0;

	while ((c = getopt(argc, argv, "a:p:l:w:2:")) != -1) {
		switch (c) {
		case 'a': addr = optarg; break;
		case 'p': port = (unsigned)twsafe_num("twsafe-linger", optarg, 65535); break;
		case 'l': {
			unsigned on, secs;
			if (sscanf(optarg, "%u,%u", &on, &secs) != 2 || on > 1 || secs > 3600) {
				fprintf(stderr, "twsafe-linger: bad -l '%s'\n", optarg);
				return 2;
			}
			want = (struct linger){ (int)on, (int)secs };
			have_linger = true;
			break;
		}
		case 'w': before = strcmp(optarg, "after") != 0; break;
		case '2': linger2 = (int)twsafe_num("twsafe-linger", optarg, 3600); break;
		default:
			fputs("usage: twsafe-linger [-a ADDR] -p PORT [-l ONOFF,SECS] [-w before|after]\n",
			      stderr);
			return 2;
		}
	}
	if (!port)
		return 2;

	struct sockaddr_storage ss;
	socklen_t len;
	if (!twsafe_sockaddr(addr, port, &ss, &len)) {
		fprintf(stderr, "twsafe-linger: bad address '%s'\n", addr);
		return 2;
	}
	int fd = socket(ss.ss_family, SOCK_STREAM, 0);
	if (fd < 0) {
		perror("twsafe-linger: socket");
		return 2;
	}
	if (have_linger && before)
		set_linger(fd, want);
	if (linger2 && setsockopt(fd, IPPROTO_TCP, TCP_LINGER2, &linger2, sizeof linger2) < 0) {
		perror("twsafe-linger: setsockopt TCP_LINGER2");
		return 2;
	}
	if (connect(fd, (struct sockaddr *)&ss, len) < 0) {
		perror("twsafe-linger: connect");
		return 1;
	}
	struct linger at_connect = current(fd);
	if (have_linger && !before)
		set_linger(fd, want);
	bool replied = exchange(fd);
	struct linger at_close = current(fd);
	int l2 = 0;
	socklen_t l2len = sizeof l2;
	if (getsockopt(fd, IPPROTO_TCP, TCP_LINGER2, &l2, &l2len) < 0)
		perror("twsafe-linger: getsockopt TCP_LINGER2");
	printf("connect_onoff=%d connect_linger=%d close_onoff=%d close_linger=%d close_linger2=%d "
	       "replied=%d\n",
	       at_connect.l_onoff, at_connect.l_linger, at_close.l_onoff, at_close.l_linger, l2,
	       replied ? 1 : 0);
	fflush(stdout);
	close(fd);
	return replied ? 0 : 1;
}
