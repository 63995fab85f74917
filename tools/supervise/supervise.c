/* twshim — `twshim run --supervise`: launch, serve notifications, forward
 * signals, return the target's status.  See supervise.h for what the mode
 * covers. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "log.h"
#include "message.h"
#include "supervise.h"
#include "supervise_internal.h"
#include "supervise_launch.h"

static const int forwarded[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2 };

static int exit_status(int wstatus)
{
	if (WIFEXITED(wstatus))
		return WEXITSTATUS(wstatus);
	if (WIFSIGNALED(wstatus))
		return 128 + WTERMSIG(wstatus);
	return TW_SUP_EXIT_SETUP;
}

static void reap(pid_t child)
{
	while (waitpid(child, NULL, 0) < 0 && errno == EINTR)
		;
}

/* Everything the supervision loop works with. */
struct sup {
	pid_t child;
	int listener; /* -1 once it failed or was handed to the background */
	int sigfd;
	struct tw_sup_state *st;
	bool child_done;
	int wstatus;
};

static void forward(const struct sup *s, const struct signalfd_siginfo *si)
{
	/* A terminal's ^C reaches the whole foreground process group, the
	 * target included: sending it again would deliver it twice. */
	if (si->ssi_code == SI_KERNEL && getpgid(s->child) == getpgrp())
		return;
	kill(s->child, (int)si->ssi_signo);
}

static void read_signals(struct sup *s)
{
	struct signalfd_siginfo si;
	pid_t r;

	while (read(s->sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		if (si.ssi_signo != SIGCHLD) {
			if (!s->child_done)
				forward(s, &si);
			continue;
		}
		while (!s->child_done) {
			r = waitpid(s->child, &s->wstatus, WNOHANG);
			if (r == s->child)
				s->child_done = true;
			else if (!(r < 0 && errno == EINTR))
				break;
		}
	}
}

static void listener_failed(struct sup *s, int err)
{
	/* Without a listener the target's trapped calls fail with ENOSYS:
	 * loud, never unmanaged. */
	tw_error("supervise", "seccomp listener failed (%s); the target's "
		 "connect() calls will now fail with ENOSYS", strerror(err));
	close(s->listener);
	s->listener = -1;
}

/* Serve until the target has exited (and always drain what is ready). */
static void serve_until_child_exits(struct sup *s)
{
	struct pollfd pf[2];
	int rc;

	while (!s->child_done) {
		pf[0] = (struct pollfd){ .fd = s->sigfd, .events = POLLIN };
		pf[1] = (struct pollfd){ .fd = s->listener, .events = POLLIN };
		if (poll(pf, s->listener >= 0 ? 2 : 1, -1) < 0) {
			if (errno == EINTR)
				continue;
			tw_error("supervise", "poll: %s", strerror(errno));
			/* Cannot watch any more: wait for the target plainly. */
			while (waitpid(s->child, &s->wstatus, 0) < 0 && errno == EINTR)
				;
			s->child_done = true;
			break;
		}
		if (s->listener >= 0 && (pf[1].revents & POLLIN)) {
			rc = tw_sup_handle_one(s->st, s->listener);
			if (rc < 0)
				listener_failed(s, -rc);
		} else if (s->listener >= 0 && (pf[1].revents & (POLLHUP | POLLERR | POLLNVAL))) {
			/* Nobody runs under the filter any more (the target is
			 * exiting): stop watching it, SIGCHLD follows. */
			close(s->listener);
			s->listener = -1;
		}
		if (pf[0].revents & POLLIN)
			read_signals(s);
	}
}

/* Descendants of the target may still run under the filter: serve them
 * until the last one is gone (POLLHUP), in a detached copy of ourselves so
 * the caller gets the target's status now. */
static void serve_descendants(struct sup *s)
{
	struct pollfd pf = { .fd = s->listener, .events = POLLIN };
	pid_t pid;
	int nul;

	if (s->listener < 0)
		return;
	if (poll(&pf, 1, 0) >= 0 && (pf.revents & (POLLHUP | POLLERR)))
		return;
	fflush(NULL);
	/* Fork twice: the copy must not linger as our zombie child. */
	pid = fork();
	if (pid < 0) {
		tw_error("supervise", "cannot keep serving the target's remaining "
			 "children (fork: %s); their connect() will fail with ENOSYS",
			 strerror(errno));
		return;
	}
	if (pid > 0) {
		reap(pid);
		return;
	}
	if (fork() != 0)
		_exit(0);

	/* Background copy: off the terminal and off the caller's stdout. */
	setsid();
	nul = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (nul >= 0) {
		dup2(nul, STDIN_FILENO);
		dup2(nul, STDOUT_FILENO);
		close(nul);
	}
	close(s->sigfd);
	for (;;) {
		pf = (struct pollfd){ .fd = s->listener, .events = POLLIN };
		if (poll(&pf, 1, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (pf.revents & POLLIN) {
			if (tw_sup_handle_one(s->st, s->listener) < 0)
				break;
			continue;
		}
		if (pf.revents & (POLLHUP | POLLERR | POLLNVAL))
			break;
	}
	_exit(0);
}

static void log_summary(const struct sup *s)
{
	const struct tw_sup_counts *c = tw_sup_counts(s->st);

	tw_info("supervise: summary notifications=%lu connects=%lu binds=%lu applied=%lu "
		"skipped=%lu gone=%lu", c->notifications, c->connects, c->binds, c->applied,
		c->skipped, c->gone);
}

/* Start the child, receive its listener, check that its fds can be taken,
 * let it exec.  Returns 0, or the status to return with a message said. */
static int launch(struct sup *s, bool trap_bind, char *const argv[], const sigset_t *old)
{
	struct tw_sup_msg m;
	int sp[2], fd, pidfd, probe, rc;
	pid_t self = getpid();

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) != 0) {
		tw_error("supervise", "socketpair: %s", strerror(errno));
		return TW_SUP_EXIT_SETUP;
	}
	fflush(NULL);
	s->child = fork();
	if (s->child < 0) {
		tw_error("supervise", "fork: %s", strerror(errno));
		close(sp[0]);
		close(sp[1]);
		return TW_SUP_EXIT_SETUP;
	}
	if (s->child == 0) {
		close(sp[0]);
		tw_sup_child(sp[1], self, trap_bind, argv, old);
	}
	/* sp[1] stays open (same number) in the child; ours is not needed. */
	close(sp[1]);

	rc = tw_sup_recv_msg(sp[0], &m, &fd);
	if (rc <= 0 || m.kind != TW_SUP_MSG_LISTENER || fd < 0) {
		if (rc > 0 && m.kind == TW_SUP_MSG_SETUP_FAILED)
			tw_error("supervise", "cannot supervise '%s': %s failed: %s%s; "
				 "not running it unsupervised", argv[0], m.stage, strerror(m.err),
				 m.err == EINVAL ? " (seccomp user notification needs Linux >= 5.5)" : "");
		else
			tw_error("supervise", "cannot supervise '%s': the launcher did not "
				 "hand over the seccomp listener; not running it", argv[0]);
		if (fd >= 0)
			close(fd);
		close(sp[0]);
		kill(s->child, SIGKILL);
		reap(s->child);
		return TW_SUP_EXIT_SETUP;
	}
	s->listener = fd;
	/* Asks the kernel to run each side on the other's CPU: saves two
	 * wake-ups of another CPU per trapped call where the scheduler
	 * honours it (not every kernel does: bench/notes.md). */
	tw_debug("supervise: seccomp sync wake-up %s", tw_sup_set_sync_wakeup(fd) ?
		 "yes" : "no (Linux < 6.6: each trapped call waits for a wake-up)");

	/* The real test of permission (ptrace access mode, Yama, LSMs): take
	 * an fd of the waiting child, the socket it talks to us with. */
	pidfd = tw_sup_pidfd_open(s->child, 0);
	probe = pidfd >= 0 ? tw_sup_pidfd_getfd(pidfd, sp[1]) : -1;
	if (probe < 0) {
		tw_error("supervise", "cannot supervise '%s': taking its sockets with "
			 "pidfd_getfd is not permitted here (%s; ptrace restrictions such as "
			 "Yama ptrace_scope or an LSM); not running it", argv[0], strerror(errno));
		if (pidfd >= 0)
			close(pidfd);
		close(sp[0]);
		kill(s->child, SIGKILL);
		reap(s->child);
		return TW_SUP_EXIT_SETUP;
	}
	close(probe);
	close(pidfd);

	if (write(sp[0], "G", 1) != 1) {
		tw_error("supervise", "cannot start '%s': %s", argv[0], strerror(errno));
		close(sp[0]);
		kill(s->child, SIGKILL);
		reap(s->child);
		return TW_SUP_EXIT_SETUP;
	}
	/* EOF: exec succeeded (close-on-exec); a message: it failed. */
	rc = tw_sup_recv_msg(sp[0], &m, &fd);
	close(sp[0]);
	if (fd >= 0)
		close(fd);
	if (rc > 0 && m.kind == TW_SUP_MSG_EXEC_FAILED) {
		tw_error(argv[0], "%s", strerror(m.err));
		reap(s->child);
		return m.err == ENOENT ? TW_SUP_EXIT_NOTFOUND : TW_SUP_EXIT_NOEXEC;
	}
	return 0;
}

int tw_supervise_exec(const struct tw_policy *p, char *const argv[])
{
	struct sup s = { .child = -1, .listener = -1, .sigfd = -1 };
	struct tw_sup_kernel k;
	sigset_t set, old;
	char msg[256];
	size_t i;
	int status;

	if (!argv || !argv[0]) {
		tw_error("supervise", "no command to run");
		return TW_SUP_EXIT_SETUP;
	}
#if !defined(__x86_64__)
	tw_error("supervise", "not implemented on this architecture (x86_64 only); "
		 "not running '%s'", argv[0]);
	return TW_SUP_EXIT_SETUP;
#endif
	if (!tw_sup_probe_kernel(&k, msg, sizeof(msg))) {
		tw_error("supervise", "cannot supervise '%s': %s; not running it unsupervised",
			 argv[0], msg);
		return TW_SUP_EXIT_SETUP;
	}
	tw_log_configure(p->log_level, p->log_file, false);
	tw_debug("supervise: PIDFD_THREAD %s", k.pidfd_thread ? "yes" :
		 "no (thread group leader via /proc)");
	s.st = tw_sup_state_new(p, &k);
	if (!s.st) {
		tw_error("supervise", "out of memory");
		return TW_SUP_EXIT_SETUP;
	}

	/* Blocked before fork so no SIGCHLD or forwarded signal is lost; the
	 * child restores the caller's mask just before exec. */
	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	for (i = 0; i < sizeof(forwarded) / sizeof(forwarded[0]); i++)
		sigaddset(&set, forwarded[i]);
	sigprocmask(SIG_BLOCK, &set, &old);
	s.sigfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	if (s.sigfd < 0) {
		tw_error("supervise", "signalfd: %s", strerror(errno));
		status = TW_SUP_EXIT_SETUP;
		goto out;
	}

	status = launch(&s, tw_sup_policy_traps_bind(p), argv, &old);
	if (status != 0)
		goto out;
	serve_until_child_exits(&s);
	status = exit_status(s.wstatus);
	log_summary(&s);
	serve_descendants(&s);
out:
	if (s.listener >= 0)
		close(s.listener);
	if (s.sigfd >= 0)
		close(s.sigfd);
	/* Drop what arrived for us while blocked before unblocking. */
	{
		struct timespec zero = { 0, 0 };
		while (sigtimedwait(&set, NULL, &zero) > 0)
			;
	}
	sigprocmask(SIG_SETMASK, &old, NULL);
	tw_sup_state_free(s.st);
	return status;
}
