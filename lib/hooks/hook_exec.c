/* twshim — exec: a socket that survives into the new program (no
 * FD_CLOEXEC) must carry its port there.  A deferred ADDR:0 binding (see
 * pin.h) is known only to this process's library, so it is given its port
 * first.  One flag test when no port was ever deferred.  glibc's own
 * execl*(), system() and popen() reach execve inside libc, unseen. */
#include <unistd.h>

#include "hook.h"
#include "pin.h"
#include "real.h"

TW_EXPORT int execve(const char *path, char *const argv[], char *const envp[])
{
	tw_pin_materialize_all();
	return libc_execve(path, argv, envp);
}

TW_EXPORT int execv(const char *path, char *const argv[])
{
	tw_pin_materialize_all();
	return libc_execv(path, argv);
}

TW_EXPORT int execvp(const char *file, char *const argv[])
{
	tw_pin_materialize_all();
	return libc_execvp(file, argv);
}

TW_EXPORT int execvpe(const char *file, char *const argv[], char *const envp[])
{
	tw_pin_materialize_all();
	return libc_execvpe(file, argv, envp);
}

TW_EXPORT int fexecve(int fd, char *const argv[], char *const envp[])
{
	tw_pin_materialize_all();
	return libc_fexecve(fd, argv, envp);
}
