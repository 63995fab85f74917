/* twshim — per-fd records of the sockets the library manages.
 *
 * Lock-free: a fixed top-level array of pointers to chunks of entries,
 * each chunk mmap'd the first time an fd in its range is recorded, so
 * memory follows the highest fd actually used and an fd that was never
 * recorded costs one load (no system call) at close.  Chunks are never
 * freed.  An entry belongs to the thread operating on its fd; the
 * atomics only make concurrent readers (fork, exit pass) see whole
 * values. */
#ifndef TWSHIM_FDTABLE_H
#define TWSHIM_FDTABLE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum tw_fd_flag {
	TW_FD_PROGRAM_LINGER2 = 1u << 0,  /* the program set TCP_LINGER2 itself */
	TW_FD_PINNED = 1u << 1,           /* holds a (port, destination) reservation */
	TW_FD_PROGRAM_LINGER = 1u << 2,   /* the program set SO_LINGER itself */
	TW_FD_PROGRAM_REUSEADDR = 1u << 3,/* the program set SO_REUSEADDR itself (or
					   * TWSHIM_REUSEADDR did, at its bind) */
	TW_FD_PROGRAM_REUSEPORT = 1u << 4,/* the program set SO_REUSEPORT itself */
	TW_FD_DUPED = 1u << 5,            /* another fd of this process may share the socket */
	TW_FD_DEFERRED_PORT = 1u << 7,    /* program bound ADDR:0; port chosen at connect */
	TW_FD_PROGRAM_NO_PORT = 1u << 8,  /* the program set IP_BIND_ADDRESS_NO_PORT itself */
	TW_FD_CONNECTED = 1u << 9,        /* its connect() to pin_key was handled (once) */
	TW_FD_LINGER_SET = 1u << 10,      /* the library set SO_LINGER/TCP_LINGER2 at that connect */
	TW_FD_BORN_TCP = 1u << 11,        /* made by socket() as TCP, seen by the library (see
					   * client_record.h): named without a cookie */
};

struct tw_fd_entry {
	_Atomic uint32_t flags;     /* 0: nothing recorded */
	_Atomic uint16_t pin_port;  /* TW_FD_PINNED: the reserved source port */
	uint16_t reserved0;
	_Atomic uint64_t cookie;    /* SO_COOKIE of the socket the flags describe */
	_Atomic uint64_t pin_key;   /* TW_FD_CONNECTED: destination key (of the reservation
				     * when TW_FD_PINNED) */
};

#define TW_FD_CHUNK_SHIFT 12
#define TW_FD_CHUNK_SIZE (1u << TW_FD_CHUNK_SHIFT)
#define TW_FD_TOP_SIZE (1u << 18)

/* Private to fdtable.c; visible only so that tw_fd_peek() can be inline:
 * close() of an fd never recorded must cost a couple of loads. */
extern struct tw_fd_entry *_Atomic tw_fd_top[TW_FD_TOP_SIZE];

/* The entry for fd, or NULL if its chunk was never created. No allocation. */
static inline struct tw_fd_entry *tw_fd_peek(int fd)
{
	if ((unsigned)fd >= (TW_FD_TOP_SIZE << TW_FD_CHUNK_SHIFT))
		return NULL; /* also rejects negative fds */
	struct tw_fd_entry *chunk = atomic_load_explicit(&tw_fd_top[(unsigned)fd >> TW_FD_CHUNK_SHIFT],
							 memory_order_acquire);
	return chunk ? &chunk[(unsigned)fd & (TW_FD_CHUNK_SIZE - 1)] : NULL;
}

/* Anything recorded for fd? */
static inline bool tw_fd_has_record(int fd)
{
	struct tw_fd_entry *e = tw_fd_peek(fd);
	return e && atomic_load_explicit(&e->flags, memory_order_relaxed) != 0;
}
/* The entry for fd, creating its chunk (mmap) if needed; NULL if fd < 0,
 * fd is beyond the table, or mmap fails. */
struct tw_fd_entry *tw_fd_get(int fd);
/* Atomically take the entry's contents and clear it; returns the flags that
 * were there (0: nothing was recorded).  *out may be NULL. */
uint32_t tw_fd_take(int fd, struct tw_fd_entry *out);
/* Is another entry (not except_fd) recording the same socket? */
bool tw_fd_cookie_in_use(uint64_t cookie, int except_fd);
/* Clear mask on every other entry (not except_fd) recording the same
 * socket: its duplicates, when the socket itself changed (a reconnect). */
void tw_fd_clear_cookie_flags(uint64_t cookie, uint32_t mask, int except_fd);
/* One past the highest fd whose chunk exists (bound for scans). */
int tw_fd_limit(void);

#endif
