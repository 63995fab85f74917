/* twshim — the supervisor's seccomp filter. */
#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <sys/prctl.h>

#include "supervise_internal.h"

/* Syscall numbers, spelled out: the filter must name both ABIs whatever
 * the build host's headers are. */
#define X32_BIT 0x40000000u
#define NR64_CONNECT 42u
#define NR64_BIND 49u
#define NR32_SOCKETCALL 102u
#define NR32_BIND 361u
#define NR32_CONNECT 362u
#define SOCKETCALL_BIND 2u    /* SYS_BIND, <linux/net.h> */
#define SOCKETCALL_CONNECT 3u /* SYS_CONNECT */

#define OFF_NR offsetof(struct seccomp_data, nr)
#define OFF_ARCH offsetof(struct seccomp_data, arch)
/* Low 32 bits of args[0] (little endian). */
#define OFF_ARG0 offsetof(struct seccomp_data, args[0])

struct prog {
	struct sock_filter *v;
	size_t n, cap;
	bool overflow;
};

static size_t emit(struct prog *p, struct sock_filter f)
{
	if (p->n >= p->cap) {
		p->overflow = true;
		return p->n;
	}
	p->v[p->n] = f;
	return p->n++;
}

static void emit_stmt(struct prog *p, uint16_t code, uint32_t k)
{
	emit(p, (struct sock_filter)BPF_STMT(code, k));
}

/* "if A == k: return ret" — two instructions, no labels to resolve. */
static void emit_return_if(struct prog *p, uint32_t k, uint32_t ret)
{
	emit(p, (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, k, 0, 1));
	emit_stmt(p, BPF_RET | BPF_K, ret);
}

/* A conditional jump over the block that follows, patched once the
 * block's length is known. */
static size_t emit_skip_unless(struct prog *p, uint32_t k)
{
	return emit(p, (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, k, 0, 0));
}

static void patch_skip(struct prog *p, size_t at)
{
	if (p->overflow || p->n - at - 1 > 255) {
		p->overflow = true;
		return;
	}
	p->v[at].jf = (uint8_t)(p->n - at - 1);
}

size_t tw_sup_build_filter(struct sock_filter *out, size_t cap, bool trap_bind)
{
	const uint32_t notif = SECCOMP_RET_USER_NOTIF;
	const uint32_t enosys = SECCOMP_RET_ERRNO | (ENOSYS & SECCOMP_RET_DATA);
	struct prog p = { .v = out, .cap = cap };
	size_t skip;

	emit_stmt(&p, BPF_LD | BPF_W | BPF_ABS, OFF_ARCH);

	/* x86_64, with the x32 ABI (same arch value, numbers with X32_BIT):
	 * an x32 connect is the same call with a 32-bit pointer. */
	skip = emit_skip_unless(&p, AUDIT_ARCH_X86_64);
	emit_stmt(&p, BPF_LD | BPF_W | BPF_ABS, OFF_NR);
	emit_return_if(&p, NR64_CONNECT, notif);
	emit_return_if(&p, NR64_CONNECT | X32_BIT, notif);
	if (trap_bind) {
		emit_return_if(&p, NR64_BIND, notif);
		emit_return_if(&p, NR64_BIND | X32_BIT, notif);
	}
	emit_stmt(&p, BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
	patch_skip(&p, skip);

	/* i386 (int 0x80, 32-bit programs exec'd by the target): the
	 * supervisor does not decode that ABI, so its network calls fail
	 * loudly instead of running unmanaged. */
	skip = emit_skip_unless(&p, AUDIT_ARCH_I386);
	emit_stmt(&p, BPF_LD | BPF_W | BPF_ABS, OFF_NR);
	emit_return_if(&p, NR32_CONNECT, enosys);
	if (trap_bind)
		emit_return_if(&p, NR32_BIND, enosys);
	{
		size_t sc = emit_skip_unless(&p, NR32_SOCKETCALL);
		emit_stmt(&p, BPF_LD | BPF_W | BPF_ABS, OFF_ARG0);
		emit_return_if(&p, SOCKETCALL_CONNECT, enosys);
		if (trap_bind)
			emit_return_if(&p, SOCKETCALL_BIND, enosys);
		emit_stmt(&p, BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
		patch_skip(&p, sc);
	}
	emit_stmt(&p, BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
	patch_skip(&p, skip);

	/* No other ABI exists on an x86_64 kernel. */
	emit_stmt(&p, BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS);
	return p.overflow ? 0 : p.n;
}

int tw_sup_install_filter(bool trap_bind, const char **stage)
{
	struct sock_filter insns[TW_SUP_FILTER_MAX];
	struct sock_fprog prog;
	int fd;

	prog.len = (unsigned short)tw_sup_build_filter(insns, TW_SUP_FILTER_MAX, trap_bind);
	prog.filter = insns;
	if (prog.len == 0) {
		*stage = "building the seccomp filter";
		return -E2BIG;
	}
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
		*stage = "prctl(PR_SET_NO_NEW_PRIVS)";
		return -errno;
	}
	fd = tw_sup_seccomp(SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_NEW_LISTENER, &prog);
	if (fd < 0) {
		*stage = "seccomp(SECCOMP_FILTER_FLAG_NEW_LISTENER)";
		return -errno;
	}
	return fd;
}
