/* twshim — lock-free per-fd records; see fdtable.h. */
#include "fdtable.h"

#include <errno.h>
#include <stddef.h>
#include <sys/mman.h>

/* 4096 entries per chunk (128 KiB, mmap'd on first use); 2^18 chunks cover
 * fds up to 2^30, the kernel's largest fs.nr_open.  The top-level array is
 * 2 MiB of zero pages in .bss: only the pages that hold used pointers ever
 * become resident. */
#define CHUNK_SHIFT TW_FD_CHUNK_SHIFT
#define CHUNK_SIZE TW_FD_CHUNK_SIZE
#define TOP_SIZE TW_FD_TOP_SIZE
#define top tw_fd_top

struct tw_fd_entry *_Atomic tw_fd_top[TW_FD_TOP_SIZE];
static atomic_int chunk_limit; /* one past the highest chunk index created */

struct tw_fd_entry *tw_fd_get(int fd)
{
	struct tw_fd_entry *e = tw_fd_peek(fd);
	if (e || fd < 0 || (unsigned)fd >= (TOP_SIZE << CHUNK_SHIFT))
		return e;

	int saved = errno;
	unsigned idx = (unsigned)fd >> CHUNK_SHIFT;
	struct tw_fd_entry *fresh = mmap(NULL, CHUNK_SIZE * sizeof(struct tw_fd_entry),
					 PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (fresh == MAP_FAILED) {
		errno = saved;
		return NULL;
	}
	struct tw_fd_entry *expected = NULL;
	if (!atomic_compare_exchange_strong_explicit(&top[idx], &expected, fresh,
						     memory_order_acq_rel, memory_order_acquire)) {
		/* Another thread created it first. */
		munmap(fresh, CHUNK_SIZE * sizeof(struct tw_fd_entry));
		fresh = expected;
	} else {
		int lim = atomic_load_explicit(&chunk_limit, memory_order_relaxed);
		while ((int)idx + 1 > lim &&
		       !atomic_compare_exchange_weak_explicit(&chunk_limit, &lim, (int)idx + 1,
							      memory_order_release, memory_order_relaxed))
			;
	}
	errno = saved;
	return &fresh[(unsigned)fd & (CHUNK_SIZE - 1)];
}

uint32_t tw_fd_take(int fd, struct tw_fd_entry *out)
{
	struct tw_fd_entry *e = tw_fd_peek(fd);
	if (!e)
		return 0;
	/* Cheap test first: the common case (never recorded) must stay one load. */
	if (atomic_load_explicit(&e->flags, memory_order_acquire) == 0)
		return 0;
	uint32_t flags = atomic_exchange_explicit(&e->flags, 0, memory_order_acq_rel);
	if (out) {
		atomic_store_explicit(&out->flags, flags, memory_order_relaxed);
		atomic_store_explicit(&out->pin_port,
				      atomic_load_explicit(&e->pin_port, memory_order_relaxed),
				      memory_order_relaxed);
		atomic_store_explicit(&out->pin_key,
				      atomic_load_explicit(&e->pin_key, memory_order_relaxed),
				      memory_order_relaxed);
		atomic_store_explicit(&out->cookie,
				      atomic_load_explicit(&e->cookie, memory_order_relaxed),
				      memory_order_relaxed);
	}
	atomic_store_explicit(&e->cookie, 0, memory_order_relaxed);
	return flags;
}

int tw_fd_limit(void)
{
	return atomic_load_explicit(&chunk_limit, memory_order_acquire) << CHUNK_SHIFT;
}

bool tw_fd_cookie_in_use(uint64_t cookie, int except_fd)
{
	if (!cookie)
		return false;
	int limit = tw_fd_limit();
	for (int fd = 0; fd < limit; fd++) {
		if (fd == except_fd)
			continue;
		struct tw_fd_entry *e = tw_fd_peek(fd);
		if (e && atomic_load_explicit(&e->flags, memory_order_relaxed) &&
		    atomic_load_explicit(&e->cookie, memory_order_relaxed) == cookie)
			return true;
	}
	return false;
}

void tw_fd_clear_cookie_flags(uint64_t cookie, uint32_t mask, int except_fd)
{
	if (!cookie)
		return;
	int limit = tw_fd_limit();
	for (int fd = 0; fd < limit; fd++) {
		struct tw_fd_entry *e = tw_fd_peek(fd);
		if (fd != except_fd && e && atomic_load_explicit(&e->flags, memory_order_relaxed) &&
		    atomic_load_explicit(&e->cookie, memory_order_relaxed) == cookie)
			atomic_fetch_and_explicit(&e->flags, ~mask, memory_order_relaxed);
	}
}
