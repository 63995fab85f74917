/* twsafe-share — one client socket, shared or closed in one chosen way,
 * writing to a slow reader: the TWSHIM_LINGER=safe data-loss cases.
 *
 *   twsafe-share -p PORT -c CASE [-b BYTES] [-N] [-k SOCKETS] [-P MS]
 *   twsafe-share --emit FD BYTES      (the program a spawned child runs)
 *
 * The process forks a reader first: it listens on 127.0.0.1:PORT with
 * SO_RCVBUF 4096, accepts SOCKETS connections, waits for the writer side's
 * signal (a pipe), pauses MS milliseconds (default 300), then reads every
 * connection to its end and prints one line per connection:
 *   conn=I received=N intact=0|1 end=eof|reset|error
 * The writer side connects SOCKETS blocking client sockets and lets go of
 * them through CASE; the final close is always a client close (the reader
 * never closes before it has read the end of the stream).  "Sent" is what
 * the writers wrote (a pattern the reader checks), printed as
 *   sent=N
 * by the main process before it exits.  -N: the writer's socket is
 * non-blocking (writes wait in poll()).
 *
 * The reader starts reading only after the writer side has done the
 * close that matters for CASE (it signals then), so data is still in
 * flight when the sharing holder closes, and for CASE closefrom the close
 * has returned before the peer read a byte: that order is built in, not
 * timed.  Cases (the writer is the process or fd that writes BYTES):
 *   plain        write, close(s)
 *   unseen       write, syscall(SYS_close, s)
 *   fork_child   fork; parent closes at once; child writes, closes
 *   fork_parent  fork; child closes and exits; parent writes, closes
 *   fork_exec    s close-on-exec; fork + exec of a short helper (/bin/true)
 *                that ends at once; the parent then writes, closes
 *   dup          d = dup(s); close(s); write on d; close(d)
 *   dup_before   d = dup(s) before connect(s); close(s); write on d; close(d)
 *   fork_before  fork before connect; parent connects, closes; the child
 *                writes on its copy, closes
 *   dup3_fail    dup3(other, s, 0x1234) fails EINVAL; write, close(s)
 *   vfork        vfork + exec --emit; parent closes at once
 *   spawn_dup2   s close-on-exec; posix_spawn with adddup2(s, 1) of
 *                --emit 1; parent closes at once
 *   popen        popen("exec twsafe-share --emit FD ..."); parent closes
 *   system_bg    system("twsafe-share --emit FD ... &"); parent closes
 *   scm_rights   another process (forked before connect) receives s over
 *                a UNIX socket, writes, closes; parent closes at once
 *   pidfd_getfd  another process (forked before connect) takes s with
 *                pidfd_getfd, writes, closes; parent closes once it has
 *   raw_clone    clone() system call (no atfork handlers); child writes
 *   own_linger   d = dup(s); SO_LINGER {1,5} set on d; close(d); write on
 *                s; close(s)
 *   closefrom    SOCKETS sockets, each filled with what fits without the
 *                peer reading; closefrom(lowest); signal; exit
 *   close_range  the same with close_range(lowest, ~0U, 0)
 * Exit status 0 when the writer side did what the case says (the bytes
 * are judged by the test from the reader's lines), 1 otherwise. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_SOCKETS 64

static unsigned port;
static unsigned long bytes = 2097152;
static bool nonblock;
static const char *self;
static pid_t reader_pid; /* killed by die() in the main process */

static void die(const char *what)
{
	fprintf(stderr, "twsafe-share: %s: %s\n", what, strerror(errno));
	if (reader_pid > 0 && getpid() != reader_pid)
		kill(reader_pid, SIGKILL);
	exit(1);
}

static unsigned char pattern(uint64_t off)
{
	return (unsigned char)((off * 7u + 3u) ^ (off >> 11));
}

/* Write n pattern bytes on fd (blocking, or non-blocking with poll).
 * Returns bytes written. */
static uint64_t send_pattern(int fd, uint64_t n)
{
	unsigned char buf[16384];
	uint64_t off = 0;
	while (off < n) {
		size_t k = n - off < sizeof(buf) ? (size_t)(n - off) : sizeof(buf);
		for (size_t i = 0; i < k; i++)
			buf[i] = pattern(off + i);
		ssize_t w = write(fd, buf, k);
		if (w < 0 && errno == EAGAIN) {
			struct pollfd p = { fd, POLLOUT, 0 };
			poll(&p, 1, -1);
			continue;
		}
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			break;
		off += (uint64_t)w;
	}
	return off;
}

/* Non-blocking fill: as much of n as fits now, without waiting. */
static uint64_t fill_pattern(int fd, uint64_t n)
{
	int fl = fcntl(fd, F_GETFL);
	fcntl(fd, F_SETFL, fl | O_NONBLOCK);
	unsigned char buf[4096];
	uint64_t off = 0;
	while (off < n) {
		size_t k = n - off < sizeof(buf) ? (size_t)(n - off) : sizeof(buf);
		for (size_t i = 0; i < k; i++)
			buf[i] = pattern(off + i);
		ssize_t w = write(fd, buf, k);
		if (w <= 0)
			break;
		off += (uint64_t)w;
	}
	fcntl(fd, F_SETFL, fl);
	return off;
}

static struct sockaddr_in dst(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	return a;
}

static int new_socket(int flags)
{
	int s = socket(AF_INET, SOCK_STREAM | flags, 0);
	if (s < 0)
		die("socket");
	return s;
}

static void do_connect(int s)
{
	struct sockaddr_in a = dst();
	if (connect(s, (struct sockaddr *)&a, sizeof(a)) != 0)
		die("connect");
	if (nonblock)
		fcntl(s, F_SETFL, fcntl(s, F_GETFL) | O_NONBLOCK);
}

static int connected(int flags)
{
	int s = new_socket(flags);
	do_connect(s);
	return s;
}

/* --- the reader ---------------------------------------------------------- */

static int reader(int listener, int go, unsigned k, unsigned pause_ms)
{
	int fds[MAX_SOCKETS];
	for (unsigned i = 0; i < k; i++)
		if ((fds[i] = accept(listener, NULL, NULL)) < 0)
			die("accept");
	char c;
	/* The writer side's signal, or its end (EOF): then the pause. */
	while (read(go, &c, 1) < 0 && errno == EINTR)
		;
	struct timespec ts = { (time_t)(pause_ms / 1000), (long)(pause_ms % 1000) * 1000000L };
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
	for (unsigned i = 0; i < k; i++) {
		unsigned char buf[4096];
		uint64_t got = 0;
		bool intact = true;
		const char *end = "error";
		for (;;) {
			ssize_t r = read(fds[i], buf, sizeof(buf));
			if (r > 0) {
				for (ssize_t j = 0; j < r; j++)
					intact = intact && buf[j] == pattern(got + (uint64_t)j);
				got += (uint64_t)r;
				continue;
			}
			if (r < 0 && errno == EINTR)
				continue;
			end = r == 0 ? "eof" : errno == ECONNRESET ? "reset" : "error";
			break;
		}
		printf("conn=%u received=%llu intact=%d end=%s\n", i, (unsigned long long)got,
		       (int)intact, end);
		close(fds[i]);
	}
	fflush(stdout);
	return 0;
}

/* --- the writer side ------------------------------------------------------ */

static int go_fd = -1; /* write end of the reader's go pipe */

static void signal_reader(void)
{
	if (go_fd >= 0) {
		if (write(go_fd, "g", 1) != 1)
			die("signal reader");
		close(go_fd);
		go_fd = -1;
	}
}

static void wait_child(pid_t pid)
{
	int st;
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
}

/* --emit FD BYTES: what a spawned child runs. */
static int emit(int fd, uint64_t n)
{
	return send_pattern(fd, n) == n ? 0 : 1;
}

/* A child that writes on fd and closes it (forked before or after connect). */
static uint64_t child_writes(int fd)
{
	uint64_t n = send_pattern(fd, bytes);
	close(fd);
	return n;
}

static void send_fd(int unix_sock, int fd)
{
	char dummy = 'f';
	struct iovec iov = { &dummy, 1 };
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(int))];
	} u;
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf,
			    .msg_controllen = sizeof(u.buf) };
	struct cmsghdr *c = CMSG_FIRSTHDR(&m);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &fd, sizeof(int));
	if (sendmsg(unix_sock, &m, 0) != 1)
		die("sendmsg");
}

static int recv_fd(int unix_sock)
{
	char dummy;
	struct iovec iov = { &dummy, 1 };
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(int))];
	} u;
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf,
			    .msg_controllen = sizeof(u.buf) };
	if (recvmsg(unix_sock, &m, 0) != 1)
		die("recvmsg");
	struct cmsghdr *c = CMSG_FIRSTHDR(&m);
	int fd;
	if (!c || c->cmsg_type != SCM_RIGHTS)
		die("no fd received");
	memcpy(&fd, CMSG_DATA(c), sizeof(int));
	return fd;
}

static void sync_read(int fd)
{
	char c;
	if (read(fd, &c, 1) != 1)
		die("sync read");
}

static void sync_write(int fd)
{
	if (write(fd, "s", 1) != 1)
		die("sync write");
}

static char *emit_cmd(int fd, const char *suffix)
{
	static char cmd[4096];
	snprintf(cmd, sizeof(cmd), "exec '%s' --emit %d %lu%s", self, fd, bytes, suffix);
	return cmd;
}

/* Runs CASE; returns the bytes the writers wrote (children report theirs
 * through a pipe as a number). */
static uint64_t run_case(const char *c, unsigned k)
{
	uint64_t sent = 0;
	int sp[2]; /* child -> parent: bytes a child wrote */
	if (pipe(sp) != 0)
		die("pipe");

#define CHILD_REPORT(n)                                                            \
	do {                                                                       \
		uint64_t v_ = (n);                                                 \
		if (write(sp[1], &v_, sizeof(v_)) != sizeof(v_))                   \
			_exit(1);                                                  \
	} while (0)
#define READ_REPORT()                                                              \
	do {                                                                       \
		uint64_t v_ = 0;                                                   \
		close(sp[1]);                                                      \
		sp[1] = -1;                                                        \
		if (read(sp[0], &v_, sizeof(v_)) == sizeof(v_))                    \
			sent += v_;                                                \
	} while (0)

	if (!strcmp(c, "plain") || !strcmp(c, "unseen")) {
		int s = connected(0);
		sent = send_pattern(s, bytes);
		if (!strcmp(c, "plain"))
			close(s);
		else
			syscall(SYS_close, s);
		signal_reader();
	} else if (!strcmp(c, "fork_child")) {
		int s = connected(0);
		pid_t pid = fork();
		if (pid == 0) {
			CHILD_REPORT(child_writes(s));
			_exit(0);
		}
		close(s);
		signal_reader();
		READ_REPORT();
		wait_child(pid);
	} else if (!strcmp(c, "fork_parent")) {
		int s = connected(0);
		pid_t pid = fork();
		if (pid == 0) {
			close(s);
			_exit(0);
		}
		wait_child(pid);
		signal_reader();
		sent = send_pattern(s, bytes);
		close(s);
	} else if (!strcmp(c, "fork_exec")) {
		int s = connected(SOCK_CLOEXEC);
		pid_t pid = fork();
		if (pid == 0) {
			execl("/bin/true", "true", (char *)NULL);
			_exit(127);
		}
		wait_child(pid);
		signal_reader();
		sent = send_pattern(s, bytes);
		close(s);
	} else if (!strcmp(c, "dup") || !strcmp(c, "dup_before")) {
		int s = new_socket(0), d = -1;
		if (!strcmp(c, "dup_before"))
			d = dup(s);
		do_connect(s);
		if (d < 0)
			d = dup(s);
		close(s);
		signal_reader();
		sent = send_pattern(d, bytes);
		close(d);
	} else if (!strcmp(c, "fork_before")) {
		int s = new_socket(0), ready[2];
		if (pipe(ready) != 0)
			die("pipe");
		pid_t pid = fork();
		if (pid == 0) {
			sync_read(ready[0]); /* the parent connected and closed */
			CHILD_REPORT(child_writes(s));
			_exit(0);
		}
		do_connect(s);
		close(s);
		sync_write(ready[1]);
		signal_reader();
		READ_REPORT();
		wait_child(pid);
	} else if (!strcmp(c, "dup3_fail")) {
		int s = connected(0);
		int other = open("/dev/null", O_RDONLY);
		if (dup3(other, s, 0x1234) != -1 || errno != EINVAL)
			die("dup3 with bad flags did not fail with EINVAL");
		close(other);
		signal_reader();
		sent = send_pattern(s, bytes);
		close(s);
	} else if (!strcmp(c, "vfork")) {
		int s = connected(0);
		char fdarg[16], narg[32];
		snprintf(fdarg, sizeof(fdarg), "%d", s);
		snprintf(narg, sizeof(narg), "%lu", bytes);
		pid_t pid = vfork();
		if (pid == 0) {
			execl(self, self, "--emit", fdarg, narg, (char *)NULL);
			_exit(127);
		}
		close(s);
		signal_reader();
		wait_child(pid);
		sent = bytes;
	} else if (!strcmp(c, "spawn_dup2")) {
		int s = connected(SOCK_CLOEXEC);
		char narg[32];
		snprintf(narg, sizeof(narg), "%lu", bytes);
		posix_spawn_file_actions_t fa;
		posix_spawn_file_actions_init(&fa);
		posix_spawn_file_actions_adddup2(&fa, s, 1);
		char *argv[] = { (char *)self, (char *)"--emit", (char *)"1", narg, NULL };
		pid_t pid;
		extern char **environ;
		if ((errno = posix_spawn(&pid, self, &fa, NULL, argv, environ)) != 0)
			die("posix_spawn");
		close(s);
		signal_reader();
		wait_child(pid);
		sent = bytes;
	} else if (!strcmp(c, "popen")) {
		int s = connected(0);
		FILE *p = popen(emit_cmd(s, ""), "r");
		if (!p)
			die("popen");
		close(s);
		signal_reader();
		pclose(p);
		sent = bytes;
	} else if (!strcmp(c, "system_bg")) {
		int s = connected(0);
		/* returns at once; the background child writes after our close */
		if (system(emit_cmd(s, " &")) != 0)
			die("system");
		close(s);
		signal_reader();
		sent = bytes;
	} else if (!strcmp(c, "scm_rights") || !strcmp(c, "pidfd_getfd")) {
		int u[2];
		if (socketpair(AF_UNIX, SOCK_STREAM, 0, u) != 0)
			die("socketpair");
		bool pidfd = !strcmp(c, "pidfd_getfd");
		pid_t parent = getpid();
		pid_t pid = fork(); /* before the socket exists: nothing to inherit */
		if (pid == 0) {
			close(u[0]);
			int fd;
			if (pidfd) {
				int target;
				if (read(u[1], &target, sizeof(target)) != sizeof(target))
					_exit(1);
				int pfd = (int)syscall(SYS_pidfd_open, parent, 0);
				fd = pfd < 0 ? -1 : (int)syscall(SYS_pidfd_getfd, pfd, target, 0);
				if (fd < 0) {
					perror("twsafe-share: pidfd_getfd");
					_exit(1);
				}
				close(pfd);
				sync_write(u[1]); /* have it: the parent may close */
			} else {
				fd = recv_fd(u[1]);
			}
			sync_read(u[1]); /* the parent closed */
			CHILD_REPORT(child_writes(fd));
			_exit(0);
		}
		close(u[1]);
		int s = connected(0);
		if (pidfd) {
			if (write(u[0], &s, sizeof(s)) != sizeof(s))
				die("write fd number");
			sync_read(u[0]);
		} else {
			send_fd(u[0], s);
		}
		close(s);
		sync_write(u[0]);
		signal_reader();
		READ_REPORT();
		wait_child(pid);
	} else if (!strcmp(c, "raw_clone")) {
		int s = connected(0);
		int ready[2];
		if (pipe(ready) != 0)
			die("pipe");
		pid_t pid = (pid_t)syscall(SYS_clone, SIGCHLD, 0, 0, 0, 0);
		if (pid == 0) {
			sync_read(ready[0]);
			CHILD_REPORT(child_writes(s));
			_exit(0);
		}
		if (pid < 0)
			die("clone");
		close(s);
		sync_write(ready[1]);
		signal_reader();
		READ_REPORT();
		wait_child(pid);
	} else if (!strcmp(c, "own_linger")) {
		int s = connected(0);
		int d = dup(s);
		struct linger lg = { 1, 5 };
		if (setsockopt(d, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)) != 0)
			die("SO_LINGER");
		close(d);
		signal_reader();
		sent = send_pattern(s, bytes);
		close(s);
	} else if (!strcmp(c, "closefrom") || !strcmp(c, "close_range")) {
		int fds[MAX_SOCKETS];
		for (unsigned i = 0; i < k; i++) {
			fds[i] = connected(0);
			sent += fill_pattern(fds[i], bytes);
		}
		/* blocking sockets with data the peer has not read */
		if (!strcmp(c, "closefrom"))
			closefrom(fds[0]);
		else if (close_range((unsigned)fds[0], ~0U, 0) != 0)
			die("close_range");
		/* The closes returned while the reader has not read a byte:
		 * it waits for the signal below. */
		printf("closed_before_peer_read=1\n");
	} else {
		fprintf(stderr, "twsafe-share: unknown case '%s'\n", c);
		exit(2);
	}
	close(sp[0]);
	if (sp[1] >= 0)
		close(sp[1]);
	return sent;
}

int main(int argc, char **argv)
{
	self = argv[0];
	if (argc == 4 && !strcmp(argv[1], "--emit"))
		return emit(atoi(argv[2]), strtoull(argv[3], NULL, 10));

	const char *c = NULL;
	unsigned k = 1, pause_ms = 300;
	int opt;
	while ((opt = getopt(argc, argv, "p:c:b:Nk:P:")) != -1) {
		switch (opt) {
		case 'p': port = (unsigned)atoi(optarg); break;
		case 'c': c = optarg; break;
		case 'b': bytes = strtoul(optarg, NULL, 10); break;
		case 'N': nonblock = true; break;
		case 'k': k = (unsigned)atoi(optarg); break;
		case 'P': pause_ms = (unsigned)atoi(optarg); break;
		default: return 2;
		}
	}
	if (!c || !port || !k || k > MAX_SOCKETS) {
		fprintf(stderr, "usage: twsafe-share -p PORT -c CASE [-b BYTES] [-N] [-k N] [-P MS]\n");
		return 2;
	}
	if (strcmp(c, "closefrom") && strcmp(c, "close_range"))
		k = 1;

	int l = socket(AF_INET, SOCK_STREAM, 0), one = 1, rcv = 4096;
	struct sockaddr_in a = dst();
	if (l < 0 || setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
	    setsockopt(l, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof(rcv)) != 0 ||
	    bind(l, (struct sockaddr *)&a, sizeof(a)) != 0 || listen(l, MAX_SOCKETS) != 0)
		die("listen");
	int go[2];
	if (pipe(go) != 0)
		die("pipe");
	fflush(stdout);
	pid_t rpid = fork();
	if (rpid < 0)
		die("fork");
	if (rpid == 0) {
		close(go[1]);
		_exit(reader(l, go[0], k, pause_ms));
	}
	reader_pid = rpid;
	close(go[0]);
	close(l);
	/* The go pipe must not leak into exec'd writers (a copy held by a
	 * background child would not matter: one byte is the signal). */
	fcntl(go[1], F_SETFD, FD_CLOEXEC);
	go_fd = go[1];
	uint64_t sent = run_case(c, k);
	signal_reader();
	printf("sent=%llu\n", (unsigned long long)sent);
	fflush(stdout);
	wait_child(rpid);
	return 0;
}
