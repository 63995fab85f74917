/* twshim — process creation that bypasses fork()'s atfork handlers.
 *
 * posix_spawn() children run in a vfork-like way, so pthread_atfork never
 * fires; a recorded socket without FD_CLOEXEC survives into the new program,
 * which then shares it.  Mark those sockets so they close normally: an RST
 * decided here could cut data the other program still sends. */
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdatomic.h>

#include "fdtable.h"
#include "pin.h"
#include "hook.h"
#include "real.h"

static void mark_inherited_sockets(void)
{
	int limit = tw_fd_limit();
	if (limit <= 0)
		return;
	int saved = errno;
	for (int fd = 0; fd < limit; fd++) {
		struct tw_fd_entry *e = tw_fd_peek(fd);
		if (!e || !(atomic_load_explicit(&e->flags, memory_order_relaxed) & (TW_FD_SAFE | TW_FD_PINNED)))
			continue;
		int fdflags = libc_fcntl_int(fd, F_GETFD, 0);
		if (fdflags >= 0 && !(fdflags & FD_CLOEXEC))
			atomic_fetch_or_explicit(&e->flags, TW_FD_FORKED, memory_order_relaxed);
	}
	errno = saved;
}

TW_EXPORT int posix_spawn(pid_t *pid, const char *path, const posix_spawn_file_actions_t *actions,
			  const posix_spawnattr_t *attr, char *const argv[], char *const envp[])
{
	mark_inherited_sockets();
	tw_pin_materialize_all();
	return libc_posix_spawn(pid, path, actions, attr, argv, envp);
}

TW_EXPORT int posix_spawnp(pid_t *pid, const char *file, const posix_spawn_file_actions_t *actions,
			   const posix_spawnattr_t *attr, char *const argv[], char *const envp[])
{
	mark_inherited_sockets();
	tw_pin_materialize_all();
	return libc_posix_spawnp(pid, file, actions, attr, argv, envp);
}
