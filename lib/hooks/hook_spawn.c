/* twshim — posix_spawn(): a socket without FD_CLOEXEC survives into the new
 * program, so a deferred pinned port is given first (see hook_exec.c). */
#include <spawn.h>

#include "pin.h"
#include "hook.h"
#include "real.h"

TW_EXPORT int posix_spawn(pid_t *pid, const char *path, const posix_spawn_file_actions_t *actions,
			  const posix_spawnattr_t *attr, char *const argv[], char *const envp[])
{
	tw_pin_materialize_all();
	return libc_posix_spawn(pid, path, actions, attr, argv, envp);
}

TW_EXPORT int posix_spawnp(pid_t *pid, const char *file, const posix_spawn_file_actions_t *actions,
			   const posix_spawnattr_t *attr, char *const argv[], char *const envp[])
{
	tw_pin_materialize_all();
	return libc_posix_spawnp(pid, file, actions, attr, argv, envp);
}
