/* twshim — load-time setup and exit-time work of the library. */
#include "runtime.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>

#include "decide.h"
#include "fdtable.h"
#include "fmt.h"
#include "log.h"
#include "pin.h"
#include "sig.h"
#include "stats.h"

extern char **environ;

struct tw_runtime tw_rt;
atomic_bool tw_rt_active;
static atomic_flag init_started = ATOMIC_FLAG_INIT;

/* The TWSHIM_* entries of the environment, gathered in one pass: the parser
 * asks for a dozen names, and a getenv() each would walk the whole
 * environment a dozen times at every process start. */
#define OWN_ENV_MAX 64
struct own_env {
	char *v[OWN_ENV_MAX + 1]; /* NULL-terminated */
	unsigned n;
	bool overflow; /* more than OWN_ENV_MAX: ask secure_getenv() instead */
};

static void own_env_gather(struct own_env *o, bool secure)
{
	o->n = 0;
	o->overflow = false;
	/* secure_getenv() hides everything in secure mode: so does this. */
	for (char **e = secure ? NULL : environ; e && *e; e++) {
		if (strncmp(*e, "TWSHIM_", 7) != 0)
			continue;
		if (o->n == OWN_ENV_MAX) {
			o->overflow = true;
			break;
		}
		o->v[o->n++] = *e;
	}
	o->v[o->n] = NULL;
}

static const char *lookup_own_env(const char *name, void *ctx)
{
	const struct own_env *o = ctx;
	/* secure_getenv: a setuid program must not be steerable by its caller. */
	if (o->overflow)
		return secure_getenv(name);
	size_t len = strlen(name);
	/* The first match, as getenv() returns. */
	for (unsigned i = 0; i < o->n; i++)
		if (strncmp(o->v[i], name, len) == 0 && o->v[i][len] == '=')
			return o->v[i] + len + 1;
	return NULL;
}

static const char *linger_name(const struct tw_policy *p)
{
	switch (p->linger) {
	case TW_LINGER_SAFE: return "safe";
	case TW_LINGER_ABORT: return "0";
	case TW_LINGER_TIMEOUT: return "seconds";
	case TW_LINGER_OFF: break;
	}
	return "off";
}

/* One line per process at TWSHIM_LOG=info: the policy in effect. */
static void log_start(const struct tw_policy *p, bool pin)
{
	char ports[32] = "off";
	if (pin && p->ports == TW_PORTS_RANGE)
		tw_fmt(ports, sizeof(ports), "%u-%u", (unsigned)p->port_range.lo,
		       (unsigned)p->port_range.hi);
	else if (pin)
		tw_fmt(ports, sizeof(ports), "above");
	char linger[16];
	if (p->linger == TW_LINGER_TIMEOUT)
		tw_fmt(linger, sizeof(linger), "%u", p->linger_seconds);
	else
		tw_fmt(linger, sizeof(linger), "%s", linger_name(p));
	tw_info("start: linger=%s drain_ms=%u ports=%s reuseaddr=%d reuseport=%d match=%zu "
		"exclude=%zu stats_signal=%s",
		linger, p->drain_ms, ports, (int)p->reuseaddr, (int)p->reuseport,
		p->has_match ? p->match.n : (size_t)0, p->exclude.n,
		p->stats_signal == SIGUSR1 ? "USR1" : p->stats_signal == SIGUSR2 ? "USR2" : "off");
}

/* The program's name as the kernel knows it: the base name of the file
 * handed to execve (AT_EXECFN) — a script's own name, a symlink's name —
 * which is what the kernel puts in /proc/PID/comm, without comm's
 * 15-character cut. */
static const char *program_name(void)
{
	const char *fn = (const char *)getauxval(AT_EXECFN);
	if (!fn || !*fn)
		return program_invocation_short_name;
	const char *slash = strrchr(fn, '/');
	return slash ? slash + 1 : fn;
}

void tw_runtime_init(void)
{
	if (atomic_flag_test_and_set(&init_started))
		return;

	static struct tw_diags diags; /* 12 KiB: keep it off a small stack */
	static struct own_env own;
	bool secure = getauxval(AT_SECURE) != 0;
	own_env_gather(&own, secure);
	tw_policy_parse_logged(&tw_rt.policy, lookup_own_env, &own, &diags);
	/* A misspelt name would leave the library silently inactive: say so
	 * at every log level.  (secure_getenv hides everything in secure
	 * mode, so names are not looked at there either.) */
	if (!secure)
		tw_policy_unknown_names(own.overflow ? environ : own.v, &diags);
	tw_log_configure(tw_rt.policy.log_level, tw_rt.policy.log_file, secure);
	for (unsigned i = 0; i < diags.n && i < TW_DIAG_MAX; i++)
		tw_log(diags.v[i].level, "%s", diags.v[i].text);

	if (tw_rt.policy.disabled) {
		tw_info("start: disabled (TWSHIM_DISABLE): loaded, doing nothing");
		return;
	}
	const char *prog = program_name();
	if (!tw_policy_selects_program(&tw_rt.policy, prog)) {
		tw_info("start: program \"%s\" is not in scope (TWSHIM_ONLY_PROGRAMS/"
			"TWSHIM_SKIP_PROGRAMS): loaded, doing nothing", prog);
		return;
	}
	/* Set up at the first connect that pins (pin.c): a process that never
	 * connects pays nothing for it. */
	struct tw_actions on = tw_policy_actions(&tw_rt.policy);
	bool pin = on.pin;
	if (pin)
		tw_pin_defer_init(&tw_rt.policy);
	tw_rt.client_actions = on.client;
	tw_rt.reuse_actions = on.reuse;
	tw_stats_on = tw_log_enabled(TW_LOG_INFO) || tw_rt.policy.stats_signal;
	tw_sig_init(tw_log_enabled(TW_LOG_INFO), tw_rt.policy.stats_signal);
	atomic_store_explicit(&tw_rt_active, true, memory_order_release);
	if (tw_log_enabled(TW_LOG_INFO))
		log_start(&tw_rt.policy, pin);
}

void tw_runtime_fini(void)
{
	if (!tw_active())
		return;
	tw_stats_log_summary(NULL, false);
}
