/* twshim — starting the target under the filter.
 *
 * The child installs the filter on itself (a filter can only be installed
 * by the task it applies to), hands the listener to the parent over a
 * SEQPACKET socketpair, waits for the go-ahead (the parent has checked it
 * can take the child's fds) and execs.  The socketpair is close-on-exec, so
 * the parent reads EOF when exec succeeded and a message when it failed. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "supervise_launch.h"

static void send_msg(int sock, const struct tw_sup_msg *m, int fd)
{
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(int))];
	} ctl;
	struct iovec iov = { .iov_base = (void *)m, .iov_len = sizeof(*m) };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };

	if (fd >= 0) {
		memset(&ctl, 0, sizeof(ctl));
		mh.msg_control = ctl.buf;
		mh.msg_controllen = sizeof(ctl.buf);
		ctl.h.cmsg_level = SOL_SOCKET;
		ctl.h.cmsg_type = SCM_RIGHTS;
		ctl.h.cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(&ctl.h), &fd, sizeof(int));
	}
	while (sendmsg(sock, &mh, MSG_NOSIGNAL) < 0 && errno == EINTR)
		;
}

static _Noreturn void child_fail(int sock, enum tw_sup_msg_kind kind, int err,
				 const char *stage, int status)
{
	struct tw_sup_msg m = { .kind = kind, .err = err };

	snprintf(m.stage, sizeof(m.stage), "%s", stage);
	send_msg(sock, &m, -1);
	_exit(status);
}

_Noreturn void tw_sup_child(int sock, pid_t parent, bool trap_bind, char *const argv[],
			    const sigset_t *mask)
{
	struct tw_sup_msg m = { .kind = TW_SUP_MSG_LISTENER };
	const char *stage = "";
	char go = 0;
	int listener;
	ssize_t n;

	/* The target's trapped calls would fail with ENOSYS once the
	 * supervisor is gone: better that it goes too. */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) != 0)
		child_fail(sock, TW_SUP_MSG_SETUP_FAILED, errno, "prctl(PR_SET_PDEATHSIG)", 125);
	if (getppid() != parent)
		_exit(125);

	listener = tw_sup_install_filter(trap_bind, &stage);
	if (listener < 0)
		child_fail(sock, TW_SUP_MSG_SETUP_FAILED, -listener, stage, 125);
	send_msg(sock, &m, listener);
	close(listener);

	do
		n = read(sock, &go, 1);
	while (n < 0 && errno == EINTR);
	if (n != 1 || go != 'G')
		_exit(125); /* the parent refused; it has said why */

	sigprocmask(SIG_SETMASK, mask, NULL);
	execvp(argv[0], argv);
	child_fail(sock, TW_SUP_MSG_EXEC_FAILED, errno, "exec",
		   errno == ENOENT ? 127 : 126);
}

int tw_sup_recv_msg(int sock, struct tw_sup_msg *m, int *fd)
{
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(int))];
	} ctl;
	struct iovec iov = { .iov_base = m, .iov_len = sizeof(*m) };
	struct msghdr mh = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = ctl.buf, .msg_controllen = sizeof(ctl.buf),
	};
	struct cmsghdr *c;
	ssize_t n;

	*fd = -1;
	memset(m, 0, sizeof(*m));
	do
		n = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -1;
	for (c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c))
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS &&
		    c->cmsg_len == CMSG_LEN(sizeof(int)))
			memcpy(fd, CMSG_DATA(c), sizeof(int));
	if (n == 0)
		return 0;
	if ((size_t)n != sizeof(*m)) {
		if (*fd >= 0)
			close(*fd);
		*fd = -1;
		errno = EPROTO;
		return -1;
	}
	m->stage[sizeof(m->stage) - 1] = '\0';
	return 1;
}
