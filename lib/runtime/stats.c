/* twshim — counters and the one-line exit summary. */
#include "stats.h"

#include <string.h>

#include "fmt.h"
#include "log.h"

_Atomic unsigned long tw_stats[TW_ST__COUNT];
bool tw_stats_on;

static const char *const stat_names[TW_ST__COUNT] = {
	[TW_ST_CONNECTS] = "connects",
	[TW_ST_MATCHED] = "matched",
	[TW_ST_LINGER_SET] = "linger_set",
	[TW_ST_LINGER_KEPT] = "linger_kept",
	[TW_ST_LINGER2_SET] = "linger2_set",
	[TW_ST_PINNED] = "pinned",
	[TW_ST_PIN_RETRIES] = "pin_retries",
	[TW_ST_PIN_REPLACED] = "pin_replaced",
	[TW_ST_PIN_FALLBACK] = "pin_fallback",
	[TW_ST_REUSE_BINDS] = "reuse_binds",
	[TW_ST_SIDE_FAILURES] = "side_failures",
};

void tw_stats_log_summary(const char *why, bool asked)
{
	if (!asked && !tw_log_enabled(TW_LOG_INFO))
		return;
	/* A process that never met a socket of interest (a shell, a helper
	 * tool in the same service) adds no line, unless it was asked for. */
	unsigned long total = 0;
	for (unsigned i = 0; i < TW_ST__COUNT; i++)
		total += atomic_load_explicit(&tw_stats[i], memory_order_relaxed);
	if (!total && !asked)
		return;
	char text[640];
	size_t n = tw_fmt(text, sizeof(text), asked ? "counters" : "summary");
	if (why)
		n += tw_fmt(text + n, sizeof(text) - n, " (%s)", why);
	for (unsigned i = 0; i < TW_ST__COUNT && n < sizeof(text) - 1; i++)
		n += tw_fmt(text + n, sizeof(text) - n, " %s=%lu", stat_names[i],
			    atomic_load_explicit(&tw_stats[i], memory_order_relaxed));
	tw_log_always(TW_LOG_INFO, "%s", text);
}
