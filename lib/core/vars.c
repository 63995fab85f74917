/* twshim — the TWSHIM_* variables: the table (twshim/vars.h), each entry
 * with the two functions only it needs: its value into the policy, and
 * the policy's effect in words for `twshim check`.
 *
 * The single-value parsers (tw_parse_linger, tw_parse_ports, ...) and the
 * narrower-choice rules between variables stay in policy.c; this file
 * only says which parser fills which field. */
#include "twshim/vars.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy_internal.h"

#define PROGRAM_FORMS                                                             \
	"comma-separated program names as the kernel knows them (the base name of the " \
	"file executed, e.g. probe,curl), without '/' or blanks"

#define RULE_FORMS                                                              \
	"comma-separated CIDR, CIDR:PORT, CIDR:LO-HI, IPV6-CIDR, [IPV6-CIDR]:PORT, " \
	"[IPV6-CIDR]:LO-HI, *:PORT, *:LO-HI; ports 1-65535"

/* A value inside an effect text: at most 60 bytes, else 57 and "...". */
static const char *cut60(char out[64], const char *v)
{
	if (strlen(v) <= 60)
		return v;
	snprintf(out, 64, "%.57s...", v);
	return out;
}

/* ---- TWSHIM_LINGER ------------------------------------------------------ */

static bool parse_linger(const char *v, struct tw_policy *p, struct tw_parse_error *err)
{
	(void)err;
	return tw_parse_linger(v, &p->linger, &p->linger_seconds);
}

static void describe_linger(const struct tw_policy *p, const struct tw_var_context *c, char *buf,
			    size_t len)
{
	(void)c;
	switch (p->linger) {
	case TW_LINGER_OFF:
		snprintf(buf, len, "normal close (the closing side keeps TIME_WAIT)");
		break;
	case TW_LINGER_SAFE:
		snprintf(buf, len, "TCP_LINGER2=-1 at connect: after the last close anywhere, the kernel "
			 "sends RST once our FIN (so every byte) is acknowledged");
		break;
	case TW_LINGER_ABORT:
		snprintf(buf, len, "SO_LINGER {1,0} at connect: RST at close, unsent data discarded");
		break;
	case TW_LINGER_TIMEOUT:
		snprintf(buf, len, "SO_LINGER {1,%u} at connect: close waits up to %u s for unsent data",
			 p->linger_seconds, p->linger_seconds);
		break;
	}
}

/* ---- TWSHIM_DRAIN_MS ---------------------------------------------------- */

static bool parse_drain(const char *v, struct tw_policy *p, struct tw_parse_error *err)
{
	unsigned long ms;

	(void)err;
	if (!tw_parse_uint(v, 0, TW_DRAIN_MS_MAX, &ms))
		return false;
	p->drain_ms = (unsigned)ms;
	return true;
}

static void describe_drain(const struct tw_policy *p, const struct tw_var_context *c, char *buf,
			   size_t len)
{
	(void)c;
	snprintf(buf, len, "%u ms (accepted, no effect: safe no longer waits in close)", p->drain_ms);
}

/* ---- TWSHIM_PORTS ------------------------------------------------------- */

static bool parse_ports(const char *v, struct tw_policy *p, struct tw_parse_error *err)
{
	(void)err;
	return tw_parse_ports(v, &p->ports, &p->port_range);
}

static void describe_ports(const struct tw_policy *p, const struct tw_var_context *c, char *buf,
			   size_t len)
{
	if (p->ports == TW_PORTS_OFF)
		snprintf(buf, len, "off: the kernel chooses source ports");
	else if (p->ports == TW_PORTS_ABOVE && c->range_ok && c->eph_hi < 65535)
		snprintf(buf, len, "client source ports %u-65535 (above ip_local_port_range)",
			 c->eph_hi + 1);
	else if (p->ports == TW_PORTS_ABOVE)
		snprintf(buf, len, "above ip_local_port_range (resolved when the library loads)");
	else
		snprintf(buf, len, "client source ports %u-%u", p->port_range.lo, p->port_range.hi);
}

/* ---- TWSHIM_REUSEADDR, TWSHIM_REUSEPORT, TWSHIM_REUSE_PORTS -------------- */

static bool parse_reuseaddr(const char *v, struct tw_policy *p, struct tw_parse_error *err)
{
	(void)err;
	return tw_parse_bool01(v, &p->reuseaddr);
}

static void describe_reuseaddr(const struct tw_policy *p, const struct tw_var_context *c,
			       char *buf, size_t len)
{
	(void)c;
	snprintf(buf, len, "%s",
		 p->reuseaddr ? "SO_REUSEADDR before bind() to a non-zero port" : "off");
}

static bool parse_reuseport(const char *v, struct tw_policy *p, struct tw_parse_error *err)
{
	(void)err;
	return tw_parse_bool01(v, &p->reuseport);
}

static void describe_reuseport(const struct tw_policy *p, const struct tw_var_context *c,
			       char *buf, size_t len)
{
	(void)c;
	snprintf(buf, len, "%s",
		 p->reuseport ? "SO_REUSEPORT before bind() to a non-zero port" : "off");
}

static bool parse_reuse_ports(const char *v, struct tw_policy *p, struct tw_parse_error *err)
{
	if (!tw_parse_port_list_err(v, &p->reuse_ports, err))
		return false;
	p->has_reuse_ports = true;
	return true;
}

static void describe_reuse_ports(const struct tw_policy *p, const struct tw_var_context *c,
				 char *buf, size_t len)
{
	(void)c;
	if (p->has_reuse_ports)
		snprintf(buf, len, "reuse options only for binds to %zu listed port range(s)",
			 p->reuse_ports.n);
	else
		snprintf(buf, len, "reuse options for binds to any non-zero port");
}

/* ---- TWSHIM_MATCH, TWSHIM_EXCLUDE --------------------------------------- */

static bool parse_match(const char *v, struct tw_policy *p, struct tw_parse_error *err)
{
	if (!tw_parse_rules_err(v, &p->match, err))
		return false;
	p->has_match = true;
	return true;
}

static void describe_match(const struct tw_policy *p, const struct tw_var_context *c, char *buf,
			   size_t len)
{
	(void)c;
	if (p->has_match)
		snprintf(buf, len, "client actions only for %zu rule(s)", p->match.n);
	else
		snprintf(buf, len, "client actions for every destination");
}

static bool parse_exclude(const char *v, struct tw_policy *p, struct tw_parse_error *err)
{
	return tw_parse_rules_err(v, &p->exclude, err);
}

static void describe_exclude(const struct tw_policy *p, const struct tw_var_context *c, char *buf,
			     size_t len)
{
	(void)c;
	snprintf(buf, len, "%zu rule(s) excluded", p->exclude.n);
}

/* ---- TWSHIM_ONLY_PROGRAMS, TWSHIM_SKIP_PROGRAMS ------------------------- */

static bool parse_programs(const char *v, char **out, struct tw_parse_error *err)
{
	if (!tw_parse_program_list_err(v, err))
		return false;
	*out = strdup(v);
	if (*out)
		return true;
	err->why = "out of memory";
	err->item = 0;
	return false;
}

static bool parse_only(const char *v, struct tw_policy *p, struct tw_parse_error *err)
{
	return parse_programs(v, &p->only_programs, err);
}

static void describe_only(const struct tw_policy *p, const struct tw_var_context *c, char *buf,
			  size_t len)
{
	char cut[64];

	(void)c;
	if (p->only_programs)
		snprintf(buf, len, "acts only in programs named %s", cut60(cut, p->only_programs));
	else
		snprintf(buf, len, "acts in every program");
}

static bool parse_skip(const char *v, struct tw_policy *p, struct tw_parse_error *err)
{
	return parse_programs(v, &p->skip_programs, err);
}

static void describe_skip(const struct tw_policy *p, const struct tw_var_context *c, char *buf,
			  size_t len)
{
	char cut[64];

	(void)c;
	if (p->skip_programs)
		snprintf(buf, len, "does nothing in programs named %s (wins over TWSHIM_ONLY_PROGRAMS)",
			 cut60(cut, p->skip_programs));
	else
		snprintf(buf, len, "no program skipped");
}

/* ---- TWSHIM_LOG, TWSHIM_LOG_FILE ---------------------------------------- */

static bool parse_log(const char *v, struct tw_policy *p, struct tw_parse_error *err)
{
	(void)err;
	return tw_parse_log_level(v, &p->log_level);
}

static void describe_log(const struct tw_policy *p, const struct tw_var_context *c, char *buf,
			 size_t len)
{
	static const char *const names[] = { "error", "warn", "info", "debug" };

	(void)c;
	snprintf(buf, len, "%s", p->log_level <= TW_LOG_DEBUG ? names[p->log_level] : "?");
}

static bool parse_log_file(const char *v, struct tw_policy *p, struct tw_parse_error *err)
{
	if (v[0] != '/') {
		err->why = v[0] ? "the path must be absolute" : "the path is empty";
		return false;
	}
	p->log_file = strdup(v);
	if (p->log_file)
		return true;
	err->why = "out of memory";
	return false;
}

static void describe_log_file(const struct tw_policy *p, const struct tw_var_context *c,
			      char *buf, size_t len)
{
	(void)c;
	snprintf(buf, len, "%s", p->log_file ? p->log_file : "stderr");
}

/* ---- TWSHIM_STATS_SIGNAL ------------------------------------------------ */

static bool parse_stats_signal(const char *v, struct tw_policy *p, struct tw_parse_error *err)
{
	(void)err;
	return tw_parse_signal(v, &p->stats_signal);
}

static void describe_stats_signal(const struct tw_policy *p, const struct tw_var_context *c,
				  char *buf, size_t len)
{
	(void)c;
	if (p->stats_signal)
		snprintf(buf, len, "kill -%s PID writes the counters (at any log level)",
			 p->stats_signal == SIGUSR1 ? "USR1" : "USR2");
	else
		snprintf(buf, len,
			 "off: counters only at exit and on SIGTERM/SIGINT (TWSHIM_LOG=info)");
}

/* ---- TWSHIM_DISABLE ----------------------------------------------------- */

static bool parse_disable(const char *v, struct tw_policy *p, struct tw_parse_error *err)
{
	(void)err;
	if (tw_parse_bool01(v, &p->disabled))
		return true;
	p->disabled = true; /* a kill switch that was touched does the least */
	return false;
}

static void describe_disable(const struct tw_policy *p, const struct tw_var_context *c, char *buf,
			     size_t len)
{
	(void)c;
	snprintf(buf, len, "%s", p->disabled ? "library loads and does nothing" : "enabled");
}

/* ---- the table ---------------------------------------------------------- */

const struct tw_var tw_vars[TW_VAR_COUNT] = {
	[TW_VAR_LINGER] = {
		.name = "TWSHIM_LINGER", .option = "linger", .option_value = "off|safe|0|N",
		.summary = "close without TIME_WAIT",
		.forms = "off, safe, 0, or seconds 1-3600",
		.default_text = "off",
		.if_malformed = "linger stays off",
		.parse = parse_linger, .describe = describe_linger,
	},
	[TW_VAR_DRAIN_MS] = {
		.name = "TWSHIM_DRAIN_MS", .option = "drain-ms", .option_value = "MS",
		.summary = "accepted, no effect (safe never waits)",
		.forms = "milliseconds 0-60000",
		.default_text = "200",
		.if_malformed = "the drain bound stays at its default",
		.parse = parse_drain, .describe = describe_drain,
	},
	[TW_VAR_PORTS] = {
		.name = "TWSHIM_PORTS", .option = "ports", .option_value = "off|above|LO-HI",
		.summary = "pin client source ports",
		.forms = "off, above, or LO-HI with 1 <= LO <= HI <= 65535",
		.default_text = "off",
		.if_malformed = "source ports are not pinned",
		.parse = parse_ports, .describe = describe_ports,
	},
	[TW_VAR_REUSEADDR] = {
		.name = "TWSHIM_REUSEADDR", .option = "reuseaddr", .option_value = "0|1",
		.option_alone = "1",
		.summary = "SO_REUSEADDR before bind()",
		.forms = "0 or 1",
		.default_text = "0",
		.if_malformed = "SO_REUSEADDR is not set",
		.parse = parse_reuseaddr, .describe = describe_reuseaddr,
	},
	[TW_VAR_REUSEPORT] = {
		.name = "TWSHIM_REUSEPORT", .option = "reuseport", .option_value = "0|1",
		.option_alone = "1",
		.summary = "SO_REUSEPORT before bind()",
		.forms = "0 or 1",
		.default_text = "0",
		.if_malformed = "SO_REUSEPORT is not set",
		.parse = parse_reuseport, .describe = describe_reuseport,
	},
	[TW_VAR_REUSE_PORTS] = {
		.name = "TWSHIM_REUSE_PORTS", .option = "reuse-ports", .option_value = "LIST",
		.summary = "local ports the reuse options apply to",
		.forms = "comma-separated ports or LO-HI ranges, 1-65535, e.g. 8080,9000-9010",
		.default_text = "all",
		.if_malformed = "reuse on bind stays off",
		.parse = parse_reuse_ports, .describe = describe_reuse_ports,
	},
	[TW_VAR_MATCH] = {
		.name = "TWSHIM_MATCH", .option = "match", .option_value = "RULES",
		.summary = "only these destinations",
		.forms = RULE_FORMS,
		.default_text = "all",
		.if_malformed = "client actions stay off",
		.parse = parse_match, .describe = describe_match,
	},
	[TW_VAR_EXCLUDE] = {
		.name = "TWSHIM_EXCLUDE", .option = "exclude", .option_value = "RULES",
		.summary = "never these destinations",
		.forms = RULE_FORMS,
		.default_text = "none",
		.if_malformed = "client actions stay off",
		.parse = parse_exclude, .describe = describe_exclude,
	},
	[TW_VAR_ONLY_PROGRAMS] = {
		.name = "TWSHIM_ONLY_PROGRAMS", .option = "only-programs", .option_value = "NAMES",
		.summary = "act only in these programs",
		.forms = PROGRAM_FORMS,
		.default_text = "all",
		.if_malformed = "twshim does nothing in any program, as with TWSHIM_DISABLE=1",
		.parse = parse_only, .describe = describe_only,
	},
	[TW_VAR_SKIP_PROGRAMS] = {
		.name = "TWSHIM_SKIP_PROGRAMS", .option = "skip-programs", .option_value = "NAMES",
		.summary = "never in these programs (wins)",
		.forms = PROGRAM_FORMS,
		.default_text = "none",
		.if_malformed = "twshim does nothing in any program, as with TWSHIM_DISABLE=1",
		.parse = parse_skip, .describe = describe_skip,
	},
	[TW_VAR_LOG] = {
		.name = "TWSHIM_LOG", .option = "log", .option_value = "LEVEL",
		.summary = "error, warn, info or debug",
		.forms = "error, warn, info, debug",
		.default_text = "error",
		.if_malformed = "the log level stays error",
		.parse = parse_log, .describe = describe_log,
	},
	[TW_VAR_LOG_FILE] = {
		.name = "TWSHIM_LOG_FILE", .option = "log-file", .option_value = "PATH",
		.summary = "log there instead of stderr",
		.forms = "an absolute path, starting with '/'",
		.default_text = "stderr",
		.if_malformed = "logging goes to stderr",
		.parse = parse_log_file, .describe = describe_log_file,
	},
	[TW_VAR_STATS_SIGNAL] = {
		.name = "TWSHIM_STATS_SIGNAL", .option = "stats-signal", .option_value = "SIG",
		.summary = "USR1 or USR2 writes the counters",
		.forms = "off, USR1, USR2, SIGUSR1, SIGUSR2",
		.default_text = "off",
		.if_malformed = "no counters on demand",
		.parse = parse_stats_signal, .describe = describe_stats_signal,
	},
	[TW_VAR_DISABLE] = {
		/* No `twshim run` option: not running the command under twshim
		 * is how to run it without. */
		.name = "TWSHIM_DISABLE",
		.summary = "1: load, do nothing",
		.forms = "0 or 1",
		.default_text = "0",
		.if_malformed = "twshim does nothing, as with 1",
		.parse = parse_disable, .describe = describe_disable,
	},
};

const struct tw_var *tw_var_find(const char *name, size_t len)
{
	if (!name)
		return NULL;
	for (size_t i = 0; i < TW_VAR_COUNT; i++)
		if (strlen(tw_vars[i].name) == len && memcmp(tw_vars[i].name, name, len) == 0)
			return &tw_vars[i];
	return NULL;
}
