/* twshim — library constructor and destructor. */
#include "real.h"
#include "runtime.h"

__attribute__((constructor)) static void twshim_load(void)
{
	tw_real_resolve();
	tw_runtime_init();
}

__attribute__((destructor)) static void twshim_unload(void)
{
	tw_runtime_fini();
}
