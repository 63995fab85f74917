/* twshim — the TWSHIM_* variables: one table, one entry per variable.
 *
 * The only place a variable's name, `twshim run` option, accepted forms,
 * default and one-line description are written.  The library's parser
 * (tw_policy_parse), `twshim run` (its options and --help), `twshim check`
 * (its effect column) and the doc-agreement test (tests/e2e/tool/
 * tool_docs.sh: README.md and libtwshim(7) list exactly these names and
 * defaults) all read it.  Adding a variable: a TW_VAR_* id, an entry and
 * its parse/describe functions in lib/core/vars.c, its field in struct
 * tw_policy, and its tests.
 *
 * Table order is documentation order and parse order (diagnostics come
 * out in it). */
#ifndef TWSHIM_VARS_H
#define TWSHIM_VARS_H

#include <stdbool.h>
#include <stddef.h>

#include "twshim/policy.h"

enum tw_var_id {
	TW_VAR_LINGER,
	TW_VAR_DRAIN_MS,
	TW_VAR_PORTS,
	TW_VAR_REUSEADDR,
	TW_VAR_REUSEPORT,
	TW_VAR_REUSE_PORTS,
	TW_VAR_MATCH,
	TW_VAR_EXCLUDE,
	TW_VAR_ONLY_PROGRAMS,
	TW_VAR_SKIP_PROGRAMS,
	TW_VAR_LOG,
	TW_VAR_LOG_FILE,
	TW_VAR_STATS_SIGNAL,
	TW_VAR_DISABLE,
	TW_VAR_COUNT
};

/* Where and why a value was rejected (lib/core/policy_internal.h). */
struct tw_parse_error;

/* What `twshim check` read of the system, for the effect texts. */
struct tw_var_context {
	bool range_ok;   /* ip_local_port_range was read */
	unsigned eph_hi; /* and ends here */
};

struct tw_var {
	const char *name;         /* "TWSHIM_LINGER" */
	const char *option;       /* `twshim run --OPTION`; NULL: no option */
	const char *option_value; /* its value as --help shows it: "off|safe|0|N" */
	const char *option_alone; /* the value of the option given alone ("1"); NULL: required */
	const char *summary;      /* one line: `twshim run --help` */
	const char *forms;        /* accepted forms: every diagnostic of a bad value */
	const char *default_text; /* the default, as README.md and libtwshim(7) give it */
	const char *if_malformed; /* what a malformed value leaves: its diagnostic */
	/* A set value into the policy; false when malformed (nothing set but
	 * what the narrower choice needs; err, never NULL, may say which item
	 * and why). */
	bool (*parse)(const char *value, struct tw_policy *p, struct tw_parse_error *err);
	/* The effect of the parsed policy, in words (`twshim check`). */
	void (*describe)(const struct tw_policy *p, const struct tw_var_context *c, char *buf,
			 size_t len);
};

/* Indexed by enum tw_var_id; TW_VAR_COUNT entries. */
extern const struct tw_var tw_vars[TW_VAR_COUNT];

/* The entry named NAME (len bytes), or NULL. */
const struct tw_var *tw_var_find(const char *name, size_t len);

#endif
