/* twshim stress tests — client workloads run under the library.
 *
 *   twstress threads    PORT THREADS ITER
 *   twstress forkstorm  PORT_BASE CHILDREN PARALLEL
 *   twstress sigclose   PORT VICTIM_PORT THREADS ITER
 *   twstress closepaths PORT_FCLOSE PORT_RANGE PORT_DUP2 THREADS ITER
 *   twstress exec-child FD               (internal: the image forkstorm execs)
 *
 * Each workload prints one summary line on stdout:
 *   mode=M conns=N failures=F first_errno=E bytes=B fds_before=X fds_after=Y ms=T ...
 * where bytes is what the client sent (the server must count the same) and
 * failures are connects or exchanges that failed.  Exit status 0 when the
 * workload completed, whatever the counts: the test script judges them.
 * A watchdog (a CLOCK_MONOTONIC timer raising SIGUSR1, not inherited by
 * children) turns a deadlock into exit status 3. */
#include <errno.h>
#include <fcntl.h>
#include <linux/close_range.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "stress_util.h"

/* Long enough for TSan on 2 cores; the scripts add their own bound. */
#define WATCHDOG_SECONDS 240

static atomic_ulong n_conns, n_failures, n_bytes;
static atomic_int first_errno;

static void fail_with(int err)
{
	int zero = 0;
	atomic_fetch_add(&n_failures, 1);
	atomic_compare_exchange_strong(&first_errno, &zero, err);
}

/* One exchange on port; returns the fd or -1 (counted as a failure). */
static int exchange_counted(uint16_t port)
{
	int fd = stress_exchange(port);
	if (fd < 0) {
		fail_with(errno);
		return -1;
	}
	atomic_fetch_add(&n_conns, 1);
	atomic_fetch_add(&n_bytes, STRESS_REQ_LEN);
	return fd;
}

static void watchdog(int sig)
{
	(void)sig;
	static const char msg[] = "twstress: watchdog expired (deadlock?)\n";
	ssize_t r = write(STDERR_FILENO, msg, sizeof(msg) - 1);
	(void)r;
	_exit(3);
}

static void start_watchdog(void)
{
	signal(SIGUSR1, watchdog);
	struct sigevent sev;
	memset(&sev, 0, sizeof(sev));
	sev.sigev_notify = SIGEV_SIGNAL;
	sev.sigev_signo = SIGUSR1;
	timer_t t;
	struct itimerspec its = { { 0, 0 }, { WATCHDOG_SECONDS, 0 } };
	if (timer_create(CLOCK_MONOTONIC, &sev, &t) != 0 || timer_settime(t, 0, &its, NULL) != 0) {
		perror("twstress: watchdog timer");
		exit(1);
	}
}

static void summary(const char *mode, int fds_before, uint64_t t0, const char *extra)
{
	printf("mode=%s conns=%lu failures=%lu first_errno=%d bytes=%lu fds_before=%d "
	       "fds_after=%d ms=%llu%s%s\n",
	       mode, atomic_load(&n_conns), atomic_load(&n_failures), atomic_load(&first_errno),
	       atomic_load(&n_bytes), fds_before, stress_fd_count(),
	       (unsigned long long)(stress_now_ms() - t0), extra[0] ? " " : "", extra);
	fflush(stdout);
}

/* Run fn on n threads, each given its index; exit on pthread failure. */
static void run_threads(unsigned n, void *(*fn)(void *))
{
	pthread_t th[256];
	for (unsigned i = 0; i < n; i++)
		if (pthread_create(&th[i], NULL, fn, (void *)(uintptr_t)i) != 0) {
			fprintf(stderr, "twstress: pthread_create failed\n");
			exit(1);
		}
	for (unsigned i = 0; i < n; i++)
		pthread_join(th[i], NULL);
}

/* ---- threads: plain connect/exchange/close cycles ------------------------ */

static uint16_t g_port, g_port2, g_port3;
static unsigned g_iter;

static void *cycle_thread(void *arg)
{
	(void)arg;
	for (unsigned i = 0; i < g_iter; i++) {
		int fd = exchange_counted(g_port);
		if (fd >= 0)
			close(fd);
	}
	return NULL;
}

static int mode_threads(char **av)
{
	g_port = (uint16_t)stress_num(av[0], 1, 65535, "port");
	unsigned threads = (unsigned)stress_num(av[1], 1, 256, "threads");
	g_iter = (unsigned)stress_num(av[2], 1, 1000000, "iterations");
	int fds = stress_fd_count();
	uint64_t t0 = stress_now_ms();
	run_threads(threads, cycle_thread);
	summary("threads", fds, t0, "");
	return 0;
}

/* ---- forkstorm: children that end in every way a process can ------------- */

enum child_kind { K_CLOSE, K_EXIT, K_UNDERSCORE_EXIT, K_EXEC, K_FORKSHARED, K_COUNT };
static const char *const kind_names[K_COUNT] = { "close", "exit", "_exit", "exec", "forkshared" };

/* The child's life; returns its exit status. */
static void run_child(enum child_kind kind, uint16_t port)
{
	int fd = stress_exchange(port);
	if (fd < 0)
		_exit(10);
	switch (kind) {
	case K_CLOSE:
		close(fd);
		exit(0);
	case K_EXIT:
		exit(0); /* socket still open: the library's exit pass */
	case K_UNDERSCORE_EXIT:
		_exit(0); /* no exit pass: the kernel closes it normally */
	case K_EXEC: {
		char fdstr[16];
		snprintf(fdstr, sizeof(fdstr), "%d", fd);
		execl("/proc/self/exe", "twstress", "exec-child", fdstr, (char *)NULL);
		_exit(11);
	}
	case K_FORKSHARED: {
		pid_t g = fork();
		if (g < 0)
			_exit(12);
		if (g == 0) {
			close(fd);
			exit(0);
		}
		int st;
		if (waitpid(g, &st, 0) != g || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
			_exit(13);
		close(fd);
		exit(0);
	}
	case K_COUNT:
		break;
	}
	_exit(14);
}

static int mode_forkstorm(char **av)
{
	unsigned base = (unsigned)stress_num(av[0], 1, 65535 - K_COUNT, "port base");
	unsigned children = (unsigned)stress_num(av[1], 1, 100000, "children");
	unsigned parallel = (unsigned)stress_num(av[2], 1, 512, "parallel");
	int fds = stress_fd_count();
	uint64_t t0 = stress_now_ms();
	unsigned started[K_COUNT] = { 0 }, running = 0, bad_exit = 0;
	int first_bad = 0;

	fflush(stdout);
	for (unsigned i = 0; i < children || running; ) {
		if (i < children && running < parallel) {
			enum child_kind kind = (enum child_kind)(i % K_COUNT);
			pid_t pid = fork();
			if (pid < 0) {
				fail_with(errno);
				children = i; /* start no more; reap the others */
				continue;
			}
			if (pid == 0)
				run_child(kind, (uint16_t)(base + kind));
			started[kind]++;
			running++;
			i++;
			continue;
		}
		int st;
		pid_t w = wait(&st);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		running--;
		if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
			bad_exit++;
			if (!first_bad)
				first_bad = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
		}
	}
	/* Every child made one exchange; exec children send a second request
	 * from the new image. */
	unsigned long bytes = 0;
	char extra[256];
	int off = snprintf(extra, sizeof(extra), "bad_exit=%u first_bad=%d", bad_exit, first_bad);
	for (int k = 0; k < K_COUNT; k++) {
		bytes += (unsigned long)started[k] * STRESS_REQ_LEN * (k == K_EXEC ? 2 : 1);
		off += snprintf(extra + off, sizeof(extra) - (size_t)off, " n_%s=%u", kind_names[k],
				started[k]);
	}
	atomic_store(&n_conns, children);
	atomic_store(&n_bytes, bytes);
	summary("forkstorm", fds, t0, extra);
	return 0;
}

/* The new image after exec: the socket is an fd this image's library never
 * saw.  Send a second request, then leave through exit(). */
static int mode_exec_child(char **av)
{
	int fd = (int)stress_num(av[0], 0, 1 << 20, "fd");
	char req[STRESS_REQ_LEN];
	memset(req, 'e', sizeof(req));
	if (!stress_write_all(fd, req, sizeof(req)))
		return 15;
	exit(0);
}

/* ---- sigclose: close() from a signal handler while threads connect ------ */

static atomic_int victim = -1;
static atomic_ulong sig_closes;
static atomic_bool workers_done;

static void on_alarm(int sig)
{
	(void)sig;
	int saved = errno;
	int fd = atomic_exchange(&victim, -1);
	if (fd >= 0) {
		close(fd);
		atomic_fetch_add(&sig_closes, 1);
	}
	errno = saved;
}

static void *sig_workers_main(void *arg)
{
	unsigned threads = (unsigned)(uintptr_t)arg;
	run_threads(threads, cycle_thread); /* the same cycles, now under signals */
	atomic_store(&workers_done, true);
	return NULL;
}

static int mode_sigclose(char **av)
{
	g_port = (uint16_t)stress_num(av[0], 1, 65535, "port");
	g_port2 = (uint16_t)stress_num(av[1], 1, 65535, "victim port");
	unsigned threads = (unsigned)stress_num(av[2], 1, 255, "threads");
	g_iter = (unsigned)stress_num(av[3], 1, 1000000, "iterations");
	int fds = stress_fd_count();
	uint64_t t0 = stress_now_ms();

	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_alarm;
	sa.sa_flags = SA_RESTART;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGALRM, &sa, NULL);
	/* Every thread may take the signal, in the middle of anything. */
	struct itimerval it = { { 0, 500 }, { 0, 500 } };
	setitimer(ITIMER_REAL, &it, NULL);

	pthread_t boss;
	if (pthread_create(&boss, NULL, sig_workers_main, (void *)(uintptr_t)threads) != 0)
		return 1;
	unsigned long victims = 0;
	while (!atomic_load(&workers_done)) {
		if (atomic_load(&victim) >= 0) {
			struct timespec ts = { 0, 100000 };
			nanosleep(&ts, NULL);
			continue;
		}
		int fd = exchange_counted(g_port2);
		if (fd >= 0) {
			victims++;
			atomic_store(&victim, fd);
		}
	}
	pthread_join(boss, NULL);
	struct itimerval off = { { 0, 0 }, { 0, 0 } };
	setitimer(ITIMER_REAL, &off, NULL);
	int last = atomic_exchange(&victim, -1);
	if (last >= 0)
		close(last);

	char extra[96];
	snprintf(extra, sizeof(extra), "victims=%lu sig_closes=%lu", victims,
		 atomic_load(&sig_closes));
	summary("sigclose", fds, t0, extra);
	return 0;
}

/* ---- closepaths: fclose, close_range and dup2 at once -------------------- */

#define SLOT_BASE 600
#define SLOTS_PER_THREAD 8

static atomic_ulong n_fclose, n_range, n_dup2;

static void via_fclose(void)
{
	int fd = exchange_counted(g_port);
	if (fd < 0)
		return;
	FILE *f = fdopen(fd, "r+");
	if (!f) {
		fail_with(errno);
		close(fd);
		return;
	}
	fclose(f);
	atomic_fetch_add(&n_fclose, 1);
}

/* Three sockets moved into this thread's slots with dup2, their first fds
 * closed, then one close_range over the slots. */
static void via_close_range(int slot)
{
	for (int k = 0; k < 3; k++) {
		int fd = exchange_counted(g_port2);
		if (fd < 0)
			continue;
		if (dup2(fd, slot + k) < 0)
			fail_with(errno);
		close(fd);
	}
	if (close_range((unsigned)slot, (unsigned)slot + 2, 0) != 0)
		fail_with(errno);
	atomic_fetch_add(&n_range, 1);
}

/* dup2 onto a slot that holds the last reference to another socket. */
static void via_dup2(int slot)
{
	int a = exchange_counted(g_port3);
	if (a < 0)
		return;
	dup2(a, slot);
	close(a);
	int b = exchange_counted(g_port3);
	if (b >= 0) {
		if (dup2(b, slot) < 0)
			fail_with(errno);
		close(b);
	}
	close(slot);
	atomic_fetch_add(&n_dup2, 1);
}

static void *paths_thread(void *arg)
{
	int slot = SLOT_BASE + (int)(uintptr_t)arg * SLOTS_PER_THREAD;
	for (unsigned i = 0; i < g_iter; i++) {
		switch ((i + (unsigned)(uintptr_t)arg) % 3) {
		case 0: via_fclose(); break;
		case 1: via_close_range(slot); break;
		default: via_dup2(slot + 4); break;
		}
	}
	return NULL;
}

static int mode_closepaths(char **av)
{
	g_port = (uint16_t)stress_num(av[0], 1, 65535, "fclose port");
	g_port2 = (uint16_t)stress_num(av[1], 1, 65535, "close_range port");
	g_port3 = (uint16_t)stress_num(av[2], 1, 65535, "dup2 port");
	unsigned threads = (unsigned)stress_num(av[3], 1, 48, "threads");
	g_iter = (unsigned)stress_num(av[4], 1, 1000000, "iterations");
	int fds = stress_fd_count();
	uint64_t t0 = stress_now_ms();
	run_threads(threads, paths_thread);
	char extra[96];
	snprintf(extra, sizeof(extra), "fclose=%lu close_range=%lu dup2=%lu",
		 atomic_load(&n_fclose), atomic_load(&n_range), atomic_load(&n_dup2));
	summary("closepaths", fds, t0, extra);
	return 0;
}

int main(int argc, char **argv)
{
	static const struct {
		const char *name;
		int nargs;
		int (*fn)(char **);
	} modes[] = {
		{ "threads", 3, mode_threads },
		{ "forkstorm", 3, mode_forkstorm },
		{ "sigclose", 4, mode_sigclose },
		{ "closepaths", 5, mode_closepaths },
		{ "exec-child", 1, mode_exec_child },
	};
	signal(SIGPIPE, SIG_IGN);
	for (size_t i = 0; argc >= 2 && i < sizeof(modes) / sizeof(modes[0]); i++) {
		if (strcmp(argv[1], modes[i].name) != 0)
			continue;
		if (argc - 2 != modes[i].nargs) {
			fprintf(stderr, "twstress %s: %d arguments expected\n", modes[i].name,
				modes[i].nargs);
			return 2;
		}
		if (strcmp(argv[1], "exec-child") != 0)
			start_watchdog();
		return modes[i].fn(argv + 2);
	}
	fprintf(stderr, "usage: twstress threads|forkstorm|sigclose|closepaths ARGS...\n");
	return 2;
}
