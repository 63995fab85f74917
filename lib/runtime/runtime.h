/* twshim — the process-wide state of the library, set once at load. */
#ifndef TWSHIM_RUNTIME_H
#define TWSHIM_RUNTIME_H

#include <stdatomic.h>
#include <stdbool.h>

#include "twshim/policy.h"

struct tw_runtime {
	struct tw_policy policy;
	bool client_actions; /* linger or pinning active for connects */
	bool reuse_actions;  /* SO_REUSEADDR/SO_REUSEPORT on bind */
};

extern struct tw_runtime tw_rt;

/* True once the policy is loaded and not disabled.  Interposers pass every
 * call straight through while it is false (calls before our constructor). */
static inline bool tw_active(void)
{
	extern atomic_bool tw_rt_active;
	return atomic_load_explicit(&tw_rt_active, memory_order_acquire);
}

/* Parse the environment (secure_getenv), print diagnostics, resolve the
 * pinned range, set tw_rt and switch tw_active() on.  Idempotent. */
void tw_runtime_init(void);
/* Exit: the summary line. */
void tw_runtime_fini(void);

#endif
