/* twcorrect — client programs for the correctness tests (issue 16).
 *
 *   twcorrect badptr
 *       every interposed function that takes a pointer, called with NULL,
 *       (void *)8 and a PROT_NONE page, each in its own child: one line per
 *       call, "CASE rc=N errno=NAME" or "CASE signal=N"
 *   twcorrect conns [-s] [-N] [-f sendto|sendmsg] N PORT
 *       N client connections to 127.0.0.1:PORT, one at a time: send a line,
 *       read the reply, close first.  -s closes with syscall(SYS_close) (the
 *       library never sees it), -N connects non-blocking and calls connect()
 *       again after poll (as ab, redis-cli do), -f connects with TCP Fast
 *       Open (sendto/sendmsg with MSG_FASTOPEN carrying the line).  One line
 *       "port P" or "error NAME" per connection, then "ok=N failed=N".
 *   twcorrect reconnect [-r] PORT_A PORT_B
 *       one socket: connect to A (send a line, read the reply), connect
 *       (AF_UNSPEC), connect to B, send a line, read the reply, close.  -r: A
 *       refuses (nothing listens), the same socket then goes to B.
 *   twcorrect udpafter [-n] PORT
 *       a TCP socket connects to 127.0.0.1:PORT (reads the reply; -n: made
 *       but never connected) and is
 *       closed with syscall(SYS_close); a UDP socket made next gets its fd
 *       number and connects to the same address: "samefd=0|1 udp_port=P
 *       linger=0|1" (the UDP socket's local port and SO_LINGER's l_onoff)
 *   twcorrect names
 *       bind(127.0.0.1:0), then the port as seen through getsockname() of the
 *       socket, of a dup(), in a fork()ed child, in an exec'd program
 *       (execv and posix_spawn) that inherited the fd; and a second bind()
 *       through the dup: "orig=P dup=P fork=P execv=P spawn=P rebind=ERR"
 *   twcorrect port FD
 *       print the port getsockname() reports for FD (for `names`)
 *   twcorrect privs
 *       print "euid=N capeff=HEX" (the privileges it runs with)
 *   twcorrect hold
 *       print "pid N", then wait until killed */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;
int __connect(int fd, const struct sockaddr *addr, socklen_t len);
int fcntl64(int fd, int cmd, ...);

static const char *ename(int e)
{
	const char *n = e ? strerrorname_np(e) : "0";
	return n ? n : "?";
}

static struct sockaddr_in lo(unsigned port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	return a;
}

/* ---- badptr ---- */

static int tcp(void)
{
	return socket(AF_INET, SOCK_STREAM, 0);
}

/* Run one call in a child so that a crash is reported, not fatal. */
#define CALL(name, expr)                                                                \
	do {                                                                            \
		fflush(stdout);                                                         \
		pid_t pid_ = fork();                                                    \
		if (pid_ == 0) {                                                        \
			errno = 0;                                                      \
			long rc_ = (long)(expr);                                        \
			int e_ = rc_ < 0 ? errno : 0;                                   \
			printf("%s/%s rc=%ld errno=%s\n", name, label, rc_, ename(e_)); \
			fflush(stdout);                                                 \
			_exit(0);                                                       \
		}                                                                       \
		int st_;                                                                \
		waitpid(pid_, &st_, 0);                                                 \
		if (WIFSIGNALED(st_))                                                   \
			printf("%s/%s signal=%d\n", name, label, WTERMSIG(st_));        \
	} while (0)

static void badptr_cases(const char *label, void *p)
{
	char buf[4] = "x\n";
	struct sockaddr_in ok = lo(9), ss;
	socklen_t sl = sizeof(ss);
	static char arg0[] = "true";
	char *argv[] = { arg0, NULL };
	pid_t pid;

	CALL("connect16", connect(tcp(), p, 16));
	/* the failed connect left the socket's options as they were */
	CALL("connect16_reuseaddr", ({
		     int s = tcp(), v = -1;
		     socklen_t vl = sizeof(v);
		     connect(s, p, 16);
		     getsockopt(s, SOL_SOCKET, SO_REUSEADDR, &v, &vl);
		     v;
	     }));
	CALL("connect28", connect(tcp(), p, 28));
	CALL("connect128", connect(tcp(), p, 128));
	CALL("__connect16", __connect(tcp(), p, 16));
	CALL("connect_udp", connect(socket(AF_INET, SOCK_DGRAM, 0), p, 16));
	CALL("bind16", bind(tcp(), p, 16));
	CALL("bind28", bind(socket(AF_INET6, SOCK_STREAM, 0), p, 28));
	CALL("setsockopt_linger", setsockopt(tcp(), SOL_SOCKET, SO_LINGER, p, 8));
	CALL("setsockopt_reuseaddr", setsockopt(tcp(), SOL_SOCKET, SO_REUSEADDR, p, 4));
	CALL("setsockopt_noport", setsockopt(tcp(), IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, p, 4));
	CALL("getsockname_addr", getsockname(tcp(), p, &sl));
	CALL("getsockname_len", getsockname(tcp(), (struct sockaddr *)&ss, p));
	/* a socket bound to ADDR:0 (pinning defers its port) */
	CALL("getsockname_bound0", ({
		     int s = tcp();
		     struct sockaddr_in z = lo(0);
		     bind(s, (struct sockaddr *)&z, sizeof(z));
		     getsockname(s, p, &sl);
	     }));
	CALL("sendto_fastopen", sendto(tcp(), buf, 2, MSG_FASTOPEN, p, 16));
	CALL("sendto_plain", sendto(tcp(), buf, 2, 0, p, 16));
	CALL("sendmsg_fastopen", sendmsg(tcp(), p, MSG_FASTOPEN));
	CALL("sendmsg_name", ({
		     struct iovec iov = { buf, 2 };
		     struct msghdr m = { .msg_name = p, .msg_namelen = 16, .msg_iov = &iov, .msg_iovlen = 1 };
		     sendmsg(tcp(), &m, MSG_FASTOPEN);
	     }));
	CALL("sendmsg_iov", ({
		     struct msghdr m = { .msg_name = &ok, .msg_namelen = sizeof(ok), .msg_iov = p, .msg_iovlen = 1 };
		     sendmsg(tcp(), &m, MSG_FASTOPEN);
	     }));
	CALL("fcntl_getlk", fcntl(0, F_GETLK, p));
	CALL("fcntl64_getlk", fcntl64(0, F_GETLK, p));
	CALL("posix_spawn_path", ({
		     int r = posix_spawn(&pid, p, NULL, NULL, argv, environ);
		     r ? (errno = r, -1) : 0;
	     }));
	CALL("posix_spawn_pid", ({
		     int r = posix_spawn(p, "/bin/true", NULL, NULL, argv, environ);
		     r ? (errno = r, -1) : 0;
	     }));
	CALL("execve_path", execve(p, argv, environ));
	CALL("execve_argv", execve("/nonexistent/x", p, environ));
	CALL("execv_path", execv(p, argv));
	CALL("execvp_file", execvp(p, argv));
	CALL("execvpe_file", execvpe(p, argv, environ));
	CALL("fexecve_argv", fexecve(open("/bin/true", O_RDONLY | O_CLOEXEC), p, environ));
	CALL("sigaction_act", sigaction(SIGTERM, p, NULL));
	CALL("sigaction_oldact", sigaction(SIGTERM, NULL, p));
	CALL("sigaction_usr1", sigaction(SIGUSR1, p, NULL));
	CALL("fclose", fclose(p));
}

static int badptr(void)
{
	void *none = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (none == MAP_FAILED)
		return perror("mmap"), 2;
	setvbuf(stdout, NULL, _IOLBF, 0);
	badptr_cases("null", NULL);
	badptr_cases("eight", (void *)8);
	badptr_cases("protnone", none);
	/* A readable start (family, port and address of 127.0.0.1:9) running
	 * onto a PROT_NONE page: the kernel reads the whole sockaddr. */
	char *two = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (two == MAP_FAILED || mprotect(two + 4096, 4096, PROT_NONE) != 0)
		return perror("mmap"), 2;
	struct sockaddr_in start = lo(9);
	memcpy(two + 4096 - 8, &start, 8);
	badptr_cases("straddle", two + 4096 - 8);
	return 0;
}

/* ---- conns ---- */

static int line_exchange(int fd, bool send_line)
{
	char reply[8];
	if (send_line && write(fd, "x\n", 2) != 2)
		return errno;
	ssize_t n = read(fd, reply, sizeof(reply));
	if (n != 3 || memcmp(reply, "OK\n", 3) != 0)
		return n < 0 ? errno : EPROTO;
	return 0;
}

static int one_conn(unsigned port, bool sysclose, bool nonblock, const char *tfo, unsigned *local)
{
	struct sockaddr_in a = lo(port);
	int fd = socket(AF_INET, SOCK_STREAM | (nonblock ? SOCK_NONBLOCK : 0), 0);
	int e = 0;
	bool sent = false;

	if (fd < 0)
		return errno;
	if (tfo && !strcmp(tfo, "sendto")) {
		if (sendto(fd, "x\n", 2, MSG_FASTOPEN, (struct sockaddr *)&a, sizeof(a)) != 2)
			e = errno;
		sent = true;
	} else if (tfo) {
		static char line[] = "x\n";
		struct iovec iov = { line, 2 };
		struct msghdr m = { .msg_name = &a, .msg_namelen = sizeof(a), .msg_iov = &iov, .msg_iovlen = 1 };
		if (sendmsg(fd, &m, MSG_FASTOPEN) != 2)
			e = errno;
		sent = true;
	} else if (connect(fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
		e = errno;
		if (nonblock && e == EINPROGRESS) {
			struct pollfd p = { .fd = fd, .events = POLLOUT };
			int soerr = 0;
			socklen_t sl = sizeof(soerr);
			poll(&p, 1, -1);
			getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl);
			/* the second call: 0 or EISCONN once connected */
			e = soerr ? soerr : connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0 || errno == EISCONN ? 0 : errno;
			if (!e) {
				int fl = fcntl(fd, F_GETFL);
				fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
			}
		}
	}
	if (!e)
		e = line_exchange(fd, !sent);
	struct sockaddr_in l;
	socklen_t ll = sizeof(l);
	*local = getsockname(fd, (struct sockaddr *)&l, &ll) == 0 ? ntohs(l.sin_port) : 0;
	if (sysclose)
		syscall(SYS_close, fd);
	else
		close(fd);
	return e;
}

static int conns(int argc, char **argv)
{
	bool sysclose = false, nonblock = false;
	const char *tfo = NULL;
	int c;
	while ((c = getopt(argc, argv, "sNf:")) != -1) {
		if (c == 's')
			sysclose = true;
		else if (c == 'N')
			nonblock = true;
		else if (c == 'f')
			tfo = optarg;
		else
			return 2;
	}
	if (argc - optind != 2)
		return fprintf(stderr, "usage: twcorrect conns [-s] [-N] [-f sendto|sendmsg] N PORT\n"), 2;
	unsigned n = (unsigned)strtoul(argv[optind], NULL, 10);
	unsigned port = (unsigned)strtoul(argv[optind + 1], NULL, 10);
	unsigned ok = 0, failed = 0;
	setvbuf(stdout, NULL, _IOLBF, 0);
	for (unsigned i = 0; i < n; i++) {
		unsigned local = 0;
		int e = one_conn(port, sysclose, nonblock, tfo, &local);
		if (e) {
			printf("error %s\n", ename(e));
			failed++;
		} else {
			printf("port %u\n", local);
			ok++;
		}
	}
	printf("ok=%u failed=%u\n", ok, failed);
	return 0;
}

/* ---- reconnect ---- */

static int reconnect(int argc, char **argv)
{
	bool refused = argc > 1 && !strcmp(argv[1], "-r");
	if (argc != (refused ? 4 : 3))
		return fprintf(stderr, "usage: twcorrect reconnect [-r] PORT_A PORT_B\n"), 2;
	struct sockaddr_in a = lo((unsigned)strtoul(argv[argc - 2], NULL, 10));
	struct sockaddr_in b = lo((unsigned)strtoul(argv[argc - 1], NULL, 10));
	struct sockaddr unspec = { .sa_family = AF_UNSPEC };
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	int r = connect(fd, (struct sockaddr *)&a, sizeof(a));
	printf("connect_a rc=%d errno=%s\n", r, ename(r ? errno : 0));
	if (!refused) {
		printf("exchange_a %s\n", ename(line_exchange(fd, true)));
		r = connect(fd, &unspec, sizeof(unspec));
		printf("disconnect rc=%d errno=%s\n", r, ename(r ? errno : 0));
	}
	r = connect(fd, (struct sockaddr *)&b, sizeof(b));
	printf("connect_b rc=%d errno=%s\n", r, ename(r ? errno : 0));
	printf("exchange_b %s\n", ename(line_exchange(fd, true)));
	close(fd);
	return 0;
}

/* ---- names ---- */

static unsigned port_of(int fd)
{
	struct sockaddr_in l;
	socklen_t ll = sizeof(l);
	return getsockname(fd, (struct sockaddr *)&l, &ll) == 0 ? ntohs(l.sin_port) : 0;
}

static unsigned child_port(const char *self, int fd, bool spawn)
{
	char fdtext[16], out[32] = "";
	int pfd[2];
	pid_t pid;
	snprintf(fdtext, sizeof(fdtext), "%d", fd);
	static char port_arg[] = "port";
	char *argv[] = { (char *)self, port_arg, fdtext, NULL };
	if (pipe(pfd) != 0)
		return 0;
	if (spawn) {
		posix_spawn_file_actions_t fa;
		posix_spawn_file_actions_init(&fa);
		posix_spawn_file_actions_adddup2(&fa, pfd[1], 1);
		posix_spawn(&pid, self, &fa, NULL, argv, environ);
		posix_spawn_file_actions_destroy(&fa);
	} else {
		pid = fork();
		if (pid == 0) {
			dup2(pfd[1], 1);
			execv(self, argv);
			_exit(127);
		}
	}
	close(pfd[1]);
	ssize_t n = read(pfd[0], out, sizeof(out) - 1);
	close(pfd[0]);
	waitpid(pid, NULL, 0);
	out[n > 0 ? n : 0] = '\0';
	return (unsigned)strtoul(out, NULL, 10);
}

static int names(const char *self)
{
	struct sockaddr_in z = lo(0);
	/* a CLOEXEC socket for dup and fork, an inheritable one for exec */
	int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int x = socket(AF_INET, SOCK_STREAM, 0);
	int y = socket(AF_INET, SOCK_STREAM, 0);
	if (bind(s, (struct sockaddr *)&z, sizeof(z)) || bind(x, (struct sockaddr *)&z, sizeof(z)) ||
	    bind(y, (struct sockaddr *)&z, sizeof(z)))
		return perror("bind"), 1;
	int d = dup(s);
	unsigned dupport = port_of(d);
	int pfd[2];
	if (pipe(pfd) != 0)
		return 1;
	pid_t pid = fork();
	if (pid == 0) {
		unsigned p = port_of(s);
		if (write(pfd[1], &p, sizeof(p)) != sizeof(p))
			_exit(1);
		_exit(0);
	}
	unsigned forkport = 0;
	if (read(pfd[0], &forkport, sizeof(forkport)) != sizeof(forkport))
		forkport = 0;
	waitpid(pid, NULL, 0);
	unsigned execport = child_port(self, x, false);
	unsigned spawnport = child_port(self, y, true);
	struct sockaddr_in other = lo(40999);
	int r = bind(d, (struct sockaddr *)&other, sizeof(other));
	printf("dup=%s fork=%s execv=%s spawn=%s rebind=%s\n",
	       dupport && dupport == port_of(s) ? "same" : "differs",
	       forkport && forkport == port_of(s) ? "same" : "differs",
	       execport && execport == port_of(x) ? "same" : "differs",
	       spawnport && spawnport == port_of(y) ? "same" : "differs", ename(r ? errno : 0));
	printf("ports orig=%u dup=%u fork=%u x=%u execv=%u y=%u spawn=%u\n", port_of(s), dupport,
	       forkport, port_of(x), execport, port_of(y), spawnport);
	return 0;
}

static int privs(void)
{
	char line[256], eff[32] = "?";
	FILE *f = fopen("/proc/self/status", "re");
	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "CapEff: %31s", eff) == 1)
			break;
	if (f)
		fclose(f);
	printf("euid=%u capeff=%s\n", (unsigned)geteuid(), eff);
	return 0;
}

/* ---- udpafter ---- */

static int udpafter(bool tcp_connects, unsigned port)
{
	struct sockaddr_in a = lo(port);
	int tcp_fd = socket(AF_INET, SOCK_STREAM, 0);
	if (tcp_fd < 0)
		return perror("tcp socket"), 1;
	if (tcp_connects) {
		if (connect(tcp_fd, (struct sockaddr *)&a, sizeof(a)) != 0)
			return perror("tcp connect"), 1;
		int e = line_exchange(tcp_fd, true);
		if (e)
			return fprintf(stderr, "tcp exchange: %s\n", ename(e)), 1;
	}
	syscall(SYS_close, tcp_fd);

	int udp_fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (udp_fd < 0 || connect(udp_fd, (struct sockaddr *)&a, sizeof(a)) != 0)
		return perror("udp connect"), 1;
	struct linger l = { 0, 0 };
	socklen_t ll = sizeof(l);
	if (getsockopt(udp_fd, SOL_SOCKET, SO_LINGER, &l, &ll) != 0)
		return perror("getsockopt SO_LINGER"), 1;
	printf("samefd=%d udp_port=%u linger=%d\n", udp_fd == tcp_fd, port_of(udp_fd), l.l_onoff);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 2 && !strcmp(argv[1], "privs"))
		return privs();
	if (argc == 2 && !strcmp(argv[1], "hold")) {
		printf("pid %d\n", (int)getpid());
		fflush(stdout);
		for (;;)
			pause();
	}
	if (argc >= 2 && !strcmp(argv[1], "badptr"))
		return badptr();
	if (argc >= 2 && !strcmp(argv[1], "conns"))
		return conns(argc - 1, argv + 1);
	if (argc >= 2 && !strcmp(argv[1], "reconnect"))
		return reconnect(argc - 1, argv + 1);
	if (argc == 3 && !strcmp(argv[1], "udpafter"))
		return udpafter(true, (unsigned)strtoul(argv[2], NULL, 10));
	if (argc == 4 && !strcmp(argv[1], "udpafter") && !strcmp(argv[2], "-n"))
		return udpafter(false, (unsigned)strtoul(argv[3], NULL, 10));
	if (argc == 2 && !strcmp(argv[1], "names"))
		return names("/proc/self/exe");
	if (argc == 3 && !strcmp(argv[1], "port")) {
		printf("%u\n", port_of(atoi(argv[2])));
		return 0;
	}
	fprintf(stderr, "usage: twcorrect badptr|conns|reconnect|udpafter|names|port ...\n");
	return 2;
}
