/* twshim — the supervisor's entry points in a build without it
 * (-Dsupervise=disabled, or kernel headers without seccomp user
 * notification): `twshim run --supervise` says so in one line. */
#include "supervise.h"
#include "tools.h"

int tw_supervise_exec(const struct tw_policy *p, char *const argv[])
{
	(void)p;
	(void)argv;
	tw_error("run", "--supervise is not available in this build");
	return TW_EXIT_INVALID;
}

int tw_supervise_sync_wakeup(void)
{
	return -1;
}
