/* pintool — client behaviours the source-port pinning tests need.
 *
 *   pintool conn  [-n N] [-t THREADS] [-p PROCS] [-N] [-b ADDR] [-o FILE] HOST PORT
 *       N connections (split over THREADS; with -p, each of PROCS forked
 *       children makes N and prints its own summary), each: socket, optional
 *       bind(ADDR:0), connect (-N: non-blocking, poll, SO_ERROR), send
 *       "hi\n", read the reply line, close.  FILE gets "LOCALADDR PORT" per
 *       connection as getsockname() saw it.
 *   pintool hold  [-n N] HOST PORT
 *       open N connections, print "held=N failed=N eaddrnotavail=N", keep
 *       them open until stdin reaches EOF.
 *   pintool refused [-N] HOST PORT
 *       print the errno name a connect to a closed port ends with.
 *   pintool bench [-n N] HOST PORT
 *       N connect()s (program-set SO_LINGER {1,0}, so no TIME_WAIT either
 *       way); print the cost of connect(): mean, p50, p99 in ns.
 *   pintool bindfail ADDR
 *       print the errno name of bind(ADDR:0) (e.g. a non-local address).
 *   pintool kernel
 *       check the kernel facts the deferred ADDR:0 binding relies on.
 *
 * Summary lines go to stdout; exit status 0 when nothing failed. */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <sys/wait.h>
#include <unistd.h>

static struct {
	unsigned long n;
	unsigned threads;
	unsigned procs;
	bool nonblock;
	const char *bindaddr;
	const char *outfile;
	struct sockaddr_storage dst;
	socklen_t dstlen;
} opt = { 1, 1, 1, false, NULL, NULL, { 0 }, 0 };

static _Atomic unsigned long n_ok, n_failed, n_addrnotavail, n_other;
static _Atomic int other_errno;
static FILE *outf;
static pthread_mutex_t out_lock = PTHREAD_MUTEX_INITIALIZER;

static const char *errname(int e)
{
	switch (e) {
	case 0: return "OK";
	case ECONNREFUSED: return "ECONNREFUSED";
	case EADDRNOTAVAIL: return "EADDRNOTAVAIL";
	case EADDRINUSE: return "EADDRINUSE";
	case EINVAL: return "EINVAL";
	case ETIMEDOUT: return "ETIMEDOUT";
	case ENETUNREACH: return "ENETUNREACH";
	default: return strerror(e);
	}
}

static bool parse_addr(const char *host, const char *port, struct sockaddr_storage *ss,
		       socklen_t *len)
{
	struct addrinfo hints = { .ai_flags = AI_NUMERICHOST | AI_NUMERICSERV,
				  .ai_socktype = SOCK_STREAM };
	struct addrinfo *ai;

	if (getaddrinfo(host, port, &hints, &ai) != 0)
		return false;
	memcpy(ss, ai->ai_addr, ai->ai_addrlen);
	*len = ai->ai_addrlen;
	freeaddrinfo(ai);
	return true;
}

/* Connect fd to the destination; returns 0 or an errno. */
static int do_connect(int fd)
{
	if (connect(fd, (struct sockaddr *)&opt.dst, opt.dstlen) == 0)
		return 0;
	if (!opt.nonblock || errno != EINPROGRESS)
		return errno;
	struct pollfd p = { .fd = fd, .events = POLLOUT };
	if (poll(&p, 1, 10000) != 1)
		return ETIMEDOUT;
	int err = 0;
	socklen_t l = sizeof(err);
	getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &l);
	return err;
}

static int new_socket(void)
{
	return socket(opt.dst.ss_family, SOCK_STREAM | (opt.nonblock ? SOCK_NONBLOCK : 0), 0);
}

static int bind_port0(int fd, const char *addr)
{
	struct sockaddr_storage ss;
	socklen_t l;

	if (!parse_addr(addr, "0", &ss, &l))
		return EINVAL;
	return bind(fd, (struct sockaddr *)&ss, l) == 0 ? 0 : errno;
}

static void count(int e)
{
	if (e == 0)
		n_ok++;
	else {
		n_failed++;
		if (e == EADDRNOTAVAIL)
			n_addrnotavail++;
		else {
			n_other++;
			other_errno = e;
		}
	}
}

static void one_conn(void)
{
	int fd = new_socket(), e = 0;
	char buf[64];

	if (fd < 0) {
		count(errno);
		return;
	}
	if (opt.bindaddr && (e = bind_port0(fd, opt.bindaddr)) != 0)
		goto out;
	if ((e = do_connect(fd)) != 0)
		goto out;
	struct sockaddr_storage me;
	socklen_t ml = sizeof(me);
	getsockname(fd, (struct sockaddr *)&me, &ml);
	if (outf) {
		char host[INET6_ADDRSTRLEN], port[8];
		getnameinfo((struct sockaddr *)&me, ml, host, sizeof(host), port, sizeof(port),
			    NI_NUMERICHOST | NI_NUMERICSERV);
		pthread_mutex_lock(&out_lock);
		fprintf(outf, "%s %s\n", host, port);
		pthread_mutex_unlock(&out_lock);
	}
	if (send(fd, "hi\n", 3, MSG_NOSIGNAL) != 3) {
		e = errno;
		goto out;
	}
	/* reply line; a non-blocking socket waits with poll */
	size_t got = 0;
	while (got < sizeof(buf) && !memchr(buf, '\n', got)) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		if (poll(&p, 1, 10000) != 1) {
			e = ETIMEDOUT;
			goto out;
		}
		ssize_t r = recv(fd, buf + got, sizeof(buf) - got, 0);
		if (r <= 0) {
			e = r < 0 ? errno : EPIPE;
			goto out;
		}
		got += (size_t)r;
	}
out:
	count(e);
	close(fd);
}

static void *conn_thread(void *arg)
{
	unsigned long n = (unsigned long)(uintptr_t)arg;

	for (unsigned long i = 0; i < n; i++)
		one_conn();
	return NULL;
}

static void summary(void)
{
	printf("attempted=%lu ok=%lu failed=%lu eaddrnotavail=%lu other=%lu other_errno=%s\n",
	       n_ok + n_failed, (unsigned long)n_ok, (unsigned long)n_failed,
	       (unsigned long)n_addrnotavail, (unsigned long)n_other,
	       n_other ? errname(other_errno) : "none");
}

static int run_conn(void)
{
	pthread_t th[64];

	if (opt.procs > 1) {
		/* after the library's constructor ran: the children share its state */
		int rc = 0, st;
		fflush(stdout);
		for (unsigned i = 0; i < opt.procs; i++) {
			pid_t pid = fork();
			if (pid == 0) {
				opt.procs = 1;
				opt.outfile = NULL;
				exit(run_conn());
			}
			if (pid < 0)
				return 2;
		}
		while (wait(&st) > 0)
			if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
				rc = 1;
		return rc;
	}

	if (opt.outfile && !(outf = fopen(opt.outfile, "w"))) {
		perror(opt.outfile);
		return 2;
	}
	for (unsigned i = 0; i < opt.threads; i++) {
		unsigned long share = opt.n / opt.threads + (i < opt.n % opt.threads);
		pthread_create(&th[i], NULL, conn_thread, (void *)(uintptr_t)share);
	}
	for (unsigned i = 0; i < opt.threads; i++)
		pthread_join(th[i], NULL);
	if (outf)
		fclose(outf);
	summary();
	return n_failed ? 1 : 0;
}

static int run_hold(void)
{
	int *fds = calloc(opt.n, sizeof(int));
	char c;

	for (unsigned long i = 0; i < opt.n; i++) {
		fds[i] = new_socket();
		int e = fds[i] < 0 ? errno : do_connect(fds[i]);
		count(e);
	}
	printf("held=%lu failed=%lu eaddrnotavail=%lu\n", (unsigned long)n_ok,
	       (unsigned long)n_failed, (unsigned long)n_addrnotavail);
	fflush(stdout);
	while (read(0, &c, 1) > 0)
		;
	for (unsigned long i = 0; i < opt.n; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	return n_failed ? 1 : 0;
}

static int run_refused(void)
{
	int fd = new_socket();
	int e = do_connect(fd);

	printf("%s\n", errname(e));
	close(fd);
	return 0;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

static int run_bench(void)
{
	uint64_t *t = calloc(opt.n, sizeof(uint64_t)), sum = 0;
	struct linger lg = { 1, 0 };

	for (unsigned long i = 0; i < opt.n; i++) {
		int fd = new_socket();
		struct timespec a, b;
		setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
		clock_gettime(CLOCK_MONOTONIC, &a);
		int e = do_connect(fd);
		clock_gettime(CLOCK_MONOTONIC, &b);
		count(e);
		t[i] = (uint64_t)(b.tv_sec - a.tv_sec) * 1000000000u + (uint64_t)(b.tv_nsec - a.tv_nsec);
		sum += t[i];
		close(fd);
	}
	qsort(t, opt.n, sizeof(uint64_t), cmp_u64);
	printf("connects=%lu failed=%lu mean_ns=%lu p50_ns=%lu p99_ns=%lu max_ns=%lu\n", opt.n,
	       (unsigned long)n_failed, (unsigned long)(sum / opt.n),
	       (unsigned long)t[opt.n / 2], (unsigned long)t[opt.n * 99 / 100],
	       (unsigned long)t[opt.n - 1]);
	return n_failed ? 1 : 0;
}

static unsigned short local_port(int fd)
{
	struct sockaddr_in a;
	socklen_t l = sizeof(a);
	getsockname(fd, (struct sockaddr *)&a, &l);
	return ntohs(a.sin_port);
}

/* What tw_pin_bind_port0()/tw_pin_materialize() rely on, checked on the
 * running kernel without the library. */
static int run_kernel(void)
{
	int one = 1, zero = 0, bad = 0;
	struct sockaddr_in a = { .sin_family = AF_INET };
	inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);

	int fd = socket(AF_INET, SOCK_STREAM, 0);
	setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) != 0 || local_port(fd) != 0) {
		printf("kernel: bind(ADDR:0) with IP_BIND_ADDRESS_NO_PORT allocated a port\n");
		bad++;
	}
	a.sin_port = htons(64999);
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) != 0 || local_port(fd) != 64999) {
		printf("kernel: second bind(ADDR:P) refused: %s\n", strerror(errno));
		bad++;
	}
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0 || errno != EINVAL) {
		printf("kernel: third bind did not fail with EINVAL\n");
		bad++;
	}
	close(fd);

	fd = socket(AF_INET, SOCK_STREAM, 0);
	a.sin_port = 0;
	setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof(one));
	bind(fd, (struct sockaddr *)&a, sizeof(a));
	setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &zero, sizeof(zero));
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) != 0 || local_port(fd) == 0) {
		printf("kernel: re-bind(ADDR:0) without the option gave no port\n");
		bad++;
	}
	close(fd);

	struct sockaddr_in nl = { .sin_family = AF_INET };
	inet_pton(AF_INET, "10.255.255.1", &nl.sin_addr);
	fd = socket(AF_INET, SOCK_STREAM, 0);
	setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&nl, sizeof(nl)) == 0 || errno != EADDRNOTAVAIL) {
		printf("kernel: a non-local ADDR:0 was not refused with EADDRNOTAVAIL\n");
		bad++;
	}
	close(fd);
	printf("kernel: %s\n", bad ? "FAILED" : "ok");
	return bad ? 1 : 0;
}

int main(int argc, char **argv)
{
	int o;

	if (argc < 2) {
		fputs("usage: pintool conn|hold|refused|bench|bindfail|kernel ...\n", stderr);
		return 2;
	}
	const char *mode = argv[1];
	optind = 2;
	while ((o = getopt(argc, argv, "n:t:p:Nb:o:")) != -1) {
		switch (o) {
		case 'n': opt.n = strtoul(optarg, NULL, 10); break;
		case 't': opt.threads = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'p': opt.procs = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'N': opt.nonblock = true; break;
		case 'b': opt.bindaddr = optarg; break;
		case 'o': opt.outfile = optarg; break;
		default: return 2;
		}
	}
	if (opt.threads < 1 || opt.threads > 64 || opt.procs < 1 || opt.procs > 64 || opt.n < 1)
		return 2;
	if (!strcmp(mode, "kernel"))
		return run_kernel();
	if (!strcmp(mode, "bindfail")) {
		if (optind + 1 != argc)
			return 2;
		int fd = socket(strchr(argv[optind], ':') ? AF_INET6 : AF_INET, SOCK_STREAM, 0);
		printf("%s\n", errname(bind_port0(fd, argv[optind])));
		return 0;
	}
	if (optind + 2 != argc || !parse_addr(argv[optind], argv[optind + 1], &opt.dst, &opt.dstlen)) {
		fputs("pintool: need numeric HOST PORT\n", stderr);
		return 2;
	}
	if (!strcmp(mode, "conn"))
		return run_conn();
	if (!strcmp(mode, "hold"))
		return run_hold();
	if (!strcmp(mode, "refused"))
		return run_refused();
	if (!strcmp(mode, "bench"))
		return run_bench();
	return 2;
}
