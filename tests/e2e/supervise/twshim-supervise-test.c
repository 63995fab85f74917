/* twshim-supervise-test — the supervisor's entry point on its own, for the
 * end-to-end tests, until `twshim run --supervise` calls it.
 *
 *   twshim-supervise-test [--fake-old-kernel=WHAT] -- COMMAND [ARG...]
 *
 * Parses the TWSHIM_* environment with tw_policy_parse() (as the library
 * and `twshim run` do), refuses malformed values, then returns
 * tw_supervise_exec()'s status.
 *
 * --fake-old-kernel makes this process see a kernel without one feature,
 * through a plain seccomp filter installed on itself first (the target
 * inherits it, harmlessly):
 *   listener      seccomp() knows no user notification (EINVAL)
 *   getfd         pidfd_getfd() does not exist (ENOSYS)
 *   pidfd_thread  pidfd_open(tid, PIDFD_THREAD) is refused (EINVAL, < 6.9)
 *   sync_wakeup   SECCOMP_IOCTL_NOTIF_SET_FLAGS is refused (EINVAL, < 6.6)
 * (the option may be repeated).
 */
#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "supervise.h"
#include "twshim/policy.h"

static const char *lookup(const char *name, void *ctx)
{
	(void)ctx;
	return getenv(name);
}

#ifndef SECCOMP_IOCTL_NOTIF_SET_FLAGS
#define SECCOMP_IOCTL_NOTIF_SET_FLAGS SECCOMP_IOW(4, __u64)
#endif

#define LD_NR BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr))
#define LD_ARG(i) BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[i]))
#define RET(v) BPF_STMT(BPF_RET | BPF_K, (v))
#define FAIL(e) RET(SECCOMP_RET_ERRNO | (e))
#define ALLOW RET(SECCOMP_RET_ALLOW)

static int fake_old_kernel(const char *what)
{
	/* Each program: if nr matches (and its argument test), fail; else allow.
	 * Arch checked first so the numbers mean what they say. */
	struct sock_filter listener[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
		ALLOW,
		LD_NR,
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_seccomp, 1, 0),
		ALLOW,
		LD_ARG(0),
		/* SECCOMP_GET_NOTIF_SIZES (3) unknown, as before Linux 5.0 */
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SECCOMP_GET_NOTIF_SIZES, 0, 1),
		FAIL(EINVAL),
		LD_ARG(1),
		BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, SECCOMP_FILTER_FLAG_NEW_LISTENER, 0, 1),
		FAIL(EINVAL),
		ALLOW,
	};
	struct sock_filter getfd[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
		ALLOW,
		LD_NR,
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 438 /* pidfd_getfd */, 0, 1),
		FAIL(ENOSYS),
		ALLOW,
	};
	struct sock_filter thread[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
		ALLOW,
		LD_NR,
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 434 /* pidfd_open */, 1, 0),
		ALLOW,
		LD_ARG(1),
		BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, 0x80 /* PIDFD_THREAD */, 0, 1),
		FAIL(EINVAL),
		ALLOW,
	};
	struct sock_filter sync[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
		ALLOW,
		LD_NR,
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_ioctl, 1, 0),
		ALLOW,
		LD_ARG(1),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (__u32)SECCOMP_IOCTL_NOTIF_SET_FLAGS, 0, 1),
		FAIL(EINVAL),
		ALLOW,
	};
	struct sock_fprog prog;

	if (strcmp(what, "listener") == 0)
		prog = (struct sock_fprog){ sizeof(listener) / sizeof(listener[0]), listener };
	else if (strcmp(what, "getfd") == 0)
		prog = (struct sock_fprog){ sizeof(getfd) / sizeof(getfd[0]), getfd };
	else if (strcmp(what, "pidfd_thread") == 0)
		prog = (struct sock_fprog){ sizeof(thread) / sizeof(thread[0]), thread };
	else if (strcmp(what, "sync_wakeup") == 0)
		prog = (struct sock_fprog){ sizeof(sync) / sizeof(sync[0]), sync };
	else {
		fprintf(stderr, "twshim-supervise-test: unknown --fake-old-kernel=%s\n", what);
		return -1;
	}
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 ||
	    syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) != 0) {
		perror("twshim-supervise-test: installing the fake-kernel filter");
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct tw_policy p;
	struct tw_diags d;
	unsigned bad, i;
	int a = 1, rc;

	while (a < argc && strncmp(argv[a], "--fake-old-kernel=", 18) == 0) {
		if (fake_old_kernel(argv[a] + 18) != 0)
			return 125;
		a++;
	}
	if (a < argc && strcmp(argv[a], "--") == 0)
		a++;
	if (a >= argc) {
		fprintf(stderr, "usage: twshim-supervise-test [--fake-old-kernel=WHAT] -- "
			"COMMAND [ARG...]\n");
		return 125;
	}
	bad = tw_policy_parse(&p, lookup, NULL, &d);
	for (i = 0; i < d.n; i++)
		fprintf(stderr, "twshim: %s\n", d.v[i].text);
	if (bad) {
		tw_policy_free(&p);
		return 125;
	}
	rc = tw_supervise_exec(&p, argv + a);
	tw_policy_free(&p);
	return rc;
}
