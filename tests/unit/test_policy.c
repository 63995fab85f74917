/* twshim — unit tests: the environment parser and its diagnostics. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <signal.h>
#include <string.h>
#include <time.h>

#include "check_main.h"
#include "fmt.h"
#include "twshim/policy.h"
#include "twshim/vars.h"

/* ---- a fake environment ----------------------------------------------- */

#define ENV_MAX 16

struct env {
	const char *name[ENV_MAX];
	const char *value[ENV_MAX];
	unsigned n;
	unsigned lookups;
};

static const char *env_lookup(const char *name, void *ctx)
{
	struct env *e = ctx;

	e->lookups++;
	for (unsigned i = 0; i < e->n; i++)
		if (strcmp(e->name[i], name) == 0)
			return e->value[i];
	return NULL;
}

static void env_set(struct env *e, const char *name, const char *value)
{
	ck_assert_uint_lt(e->n, ENV_MAX);
	e->name[e->n] = name;
	e->value[e->n] = value;
	e->n++;
}

/* parse_env(&p, &d, "NAME", "value", ..., NULL) */
static unsigned parse_env(struct tw_policy *p, struct tw_diags *d, ...)
	__attribute__((sentinel));

static unsigned parse_env(struct tw_policy *p, struct tw_diags *d, ...)
{
	struct env e = { .n = 0 };
	const char *name;
	va_list ap;

	va_start(ap, d);
	while ((name = va_arg(ap, const char *)))
		env_set(&e, name, va_arg(ap, const char *));
	va_end(ap);
	return tw_policy_parse(p, env_lookup, &e, d);
}

static unsigned count_level(const struct tw_diags *d, enum tw_log_level level)
{
	unsigned n = 0;

	for (unsigned i = 0; i < d->n; i++)
		n += d->v[i].level == level;
	return n;
}

/* The state of a policy parsed from an empty environment. */
static void assert_defaults(const struct tw_policy *p, bool except_disabled)
{
	if (!except_disabled)
		ck_assert(!p->disabled);
	ck_assert_int_eq(p->linger, TW_LINGER_OFF);
	ck_assert_uint_eq(p->linger_seconds, 0);
	ck_assert_uint_eq(p->drain_ms, TW_DRAIN_MS_DEFAULT);
	ck_assert_int_eq(p->ports, TW_PORTS_OFF);
	ck_assert(!p->reuseaddr);
	ck_assert(!p->reuseport);
	ck_assert(!p->has_reuse_ports);
	ck_assert_uint_eq(p->reuse_ports.n, 0);
	ck_assert(!p->has_match);
	ck_assert_uint_eq(p->match.n, 0);
	ck_assert_uint_eq(p->exclude.n, 0);
	ck_assert_int_eq(p->log_level, TW_LOG_ERROR);
	ck_assert_ptr_null(p->log_file);
	ck_assert_ptr_null(p->only_programs);
	ck_assert_ptr_null(p->skip_programs);
	ck_assert(tw_policy_selects_program(p, "anything"));
	ck_assert(!tw_policy_has_client_actions(p));
}

/* ---- whole-policy behaviour ------------------------------------------- */

START_TEST(unset_is_leave_alone)
{
	struct tw_policy p;
	struct tw_diags d;
	struct env e = { .n = 0 };

	ck_assert_uint_eq(tw_policy_parse(&p, env_lookup, &e, &d), 0);
	ck_assert_uint_eq(d.n, 0);
	assert_defaults(&p, false);
	/* Every variable was asked for. */
	ck_assert_uint_eq(e.lookups, 14);
	tw_policy_free(&p);

	ck_assert_uint_eq(tw_policy_parse(&p, NULL, NULL, &d), 0);
	assert_defaults(&p, false);
	tw_policy_free(&p);
}
END_TEST

START_TEST(variables_listed)
{
	static const char *const want[] = {
		"TWSHIM_LINGER", "TWSHIM_DRAIN_MS", "TWSHIM_PORTS", "TWSHIM_REUSEADDR",
		"TWSHIM_REUSEPORT", "TWSHIM_REUSE_PORTS", "TWSHIM_MATCH", "TWSHIM_EXCLUDE",
		"TWSHIM_ONLY_PROGRAMS", "TWSHIM_SKIP_PROGRAMS", "TWSHIM_LOG", "TWSHIM_LOG_FILE",
		"TWSHIM_STATS_SIGNAL", "TWSHIM_DISABLE",
	};
	unsigned n = TW_VAR_COUNT;

	ck_assert_uint_eq(n, sizeof(want) / sizeof(want[0]));
	for (unsigned i = 0; i < n; i++) {
		const char *forms = tw_policy_accepted_forms(want[i]);

		ck_assert_str_eq(tw_vars[i].name, want[i]);
		ck_assert_ptr_nonnull(forms);
		ck_assert_uint_gt(strlen(forms), 0);
	}
	ck_assert_ptr_null(tw_policy_accepted_forms("TWSHIM_NOPE"));
	ck_assert_ptr_null(tw_policy_accepted_forms(NULL));
}
END_TEST

/* The table is whole, and each default it states is what unset means:
 * where the default is itself a value ("off", "200", "0", "error"), the
 * policy it gives reads, through every describe function, like the
 * policy of an empty environment. */
START_TEST(table_entries_and_defaults)
{
	const struct tw_var_context c = { .range_ok = true, .eph_hi = 60999 };
	struct tw_policy unset, set;
	struct tw_diags d;
	unsigned as_values = 0;

	ck_assert_uint_eq(tw_policy_parse(&unset, NULL, NULL, &d), 0);
	for (unsigned i = 0; i < TW_VAR_COUNT; i++) {
		const struct tw_var *v = &tw_vars[i];

		ck_assert_msg(v->name && strncmp(v->name, "TWSHIM_", 7) == 0, "entry %u", i);
		ck_assert_ptr_eq(tw_var_find(v->name, strlen(v->name)), v);
		ck_assert_msg(v->forms && v->default_text && v->summary && v->if_malformed &&
				      v->parse && v->describe,
			      "%s: an empty field", v->name);
		ck_assert_msg(!v->option == !v->option_value, "%s: option without value", v->name);
		ck_assert_msg(!strchr(v->default_text, ' '), "%s: default is one word", v->name);
		/* "all", "none", "stderr" are words, not values (a program list
		 * would take "all" as a name). */
		if (strstr(v->name, "_PROGRAMS"))
			continue;
		if (parse_env(&set, &d, v->name, v->default_text, NULL) != 0) {
			tw_policy_free(&set);
			continue;
		}
		as_values++;
		for (unsigned k = 0; k < TW_VAR_COUNT; k++) {
			char a[256], b[256];

			tw_vars[k].describe(&unset, &c, a, sizeof(a));
			tw_vars[k].describe(&set, &c, b, sizeof(b));
			ck_assert_msg(strcmp(a, b) == 0, "%s=%s: %s reads \"%s\", unset \"%s\"",
				      v->name, v->default_text, tw_vars[k].name, b, a);
		}
		tw_policy_free(&set);
	}
	ck_assert_uint_ge(as_values, 8);
	ck_assert_ptr_null(tw_var_find("TWSHIM_LINGE", 12));
	ck_assert_ptr_null(tw_var_find(NULL, 0));
	tw_policy_free(&unset);
}
END_TEST

START_TEST(full_valid_config)
{
	struct tw_policy p;
	struct tw_diags d;
	const char *file = "/var/log/twshim.log";

	ck_assert_uint_eq(parse_env(&p, &d, "TWSHIM_LINGER", "safe", "TWSHIM_DRAIN_MS", "500",
				    "TWSHIM_PORTS", "61000-65000", "TWSHIM_REUSEADDR", "1",
				    "TWSHIM_REUSEPORT", "1", "TWSHIM_REUSE_PORTS", "8080,9000-9010",
				    "TWSHIM_MATCH", "10.0.0.0/8, [fd00::/8]:443, *:22",
				    "TWSHIM_EXCLUDE", "10.0.0.5", "TWSHIM_LOG", "debug",
				    "TWSHIM_LOG_FILE", file, "TWSHIM_DISABLE", "0", NULL),
			  0);
	ck_assert_uint_eq(d.n, 1); /* TWSHIM_DRAIN_MS: accepted, no effect */
	ck_assert_int_eq(d.v[0].level, TW_LOG_WARN);
	ck_assert(!p.disabled);
	ck_assert_int_eq(p.linger, TW_LINGER_SAFE);
	ck_assert_uint_eq(p.drain_ms, 500);
	ck_assert_int_eq(p.ports, TW_PORTS_RANGE);
	ck_assert_int_eq(p.port_range.lo, 61000);
	ck_assert_int_eq(p.port_range.hi, 65000);
	ck_assert(p.reuseaddr);
	ck_assert(p.reuseport);
	ck_assert(p.has_reuse_ports);
	ck_assert_uint_eq(p.reuse_ports.n, 2);
	ck_assert(p.has_match);
	ck_assert_uint_eq(p.match.n, 3);
	ck_assert_uint_eq(p.exclude.n, 1);
	ck_assert_int_eq(p.log_level, TW_LOG_DEBUG);
	ck_assert_str_eq(p.log_file, file);
	ck_assert_ptr_ne(p.log_file, file); /* a copy owned by the policy */
	ck_assert(tw_policy_has_client_actions(&p));
	tw_policy_free(&p);
	ck_assert_ptr_null(p.log_file);
	ck_assert_ptr_null(p.match.v);
	tw_policy_free(&p); /* twice is harmless */
	tw_policy_free(NULL);
}
END_TEST

/* ---- every variable, valid values ------------------------------------- */

struct valid_case {
	const char *var, *value;
	/* Another variable that makes the value meaningful (no advice line). */
	const char *with_var, *with_value;
};

static const struct valid_case valid_cases[] = {
	{ "TWSHIM_LINGER", "off", NULL, NULL },
	{ "TWSHIM_LINGER", "safe", NULL, NULL },
	{ "TWSHIM_LINGER", "0", NULL, NULL },
	{ "TWSHIM_LINGER", "00", NULL, NULL },
	{ "TWSHIM_LINGER", "1", NULL, NULL },
	{ "TWSHIM_LINGER", "3600", NULL, NULL },
	{ "TWSHIM_LINGER", "0030", NULL, NULL },
	{ "TWSHIM_DRAIN_MS", "0", "TWSHIM_LINGER", "safe" },
	{ "TWSHIM_DRAIN_MS", "60000", "TWSHIM_LINGER", "safe" },
	{ "TWSHIM_DRAIN_MS", "0200", "TWSHIM_LINGER", "safe" },
	{ "TWSHIM_PORTS", "off", NULL, NULL },
	{ "TWSHIM_PORTS", "above", NULL, NULL },
	{ "TWSHIM_PORTS", "1-65535", NULL, NULL },
	{ "TWSHIM_PORTS", "61000-61000", NULL, NULL },
	{ "TWSHIM_PORTS", "0080-0090", NULL, NULL },
	{ "TWSHIM_REUSEADDR", "0", NULL, NULL },
	{ "TWSHIM_REUSEADDR", "1", NULL, NULL },
	{ "TWSHIM_REUSEPORT", "0", NULL, NULL },
	{ "TWSHIM_REUSEPORT", "1", NULL, NULL },
	{ "TWSHIM_REUSE_PORTS", "8080", "TWSHIM_REUSEADDR", "1" },
	{ "TWSHIM_REUSE_PORTS", "8080,9000-9010", "TWSHIM_REUSEADDR", "1" },
	{ "TWSHIM_REUSE_PORTS", " 1 , 65535 ", "TWSHIM_REUSEPORT", "1" },
	{ "TWSHIM_MATCH", "10.0.0.0/8", NULL, NULL },
	{ "TWSHIM_MATCH", "10.0.0.0/8:80, 192.0.2.1:1000-2000", NULL, NULL },
	{ "TWSHIM_MATCH", "[::1]:80,::1/128,fd00::/8,[fd00::/8]:1-2", NULL, NULL },
	{ "TWSHIM_MATCH", "*:443,*:1-1024", NULL, NULL },
	{ "TWSHIM_EXCLUDE", "10.0.0.0/8", NULL, NULL },
	{ "TWSHIM_EXCLUDE", "*:22, [::1]:53", NULL, NULL },
	{ "TWSHIM_LOG", "error", NULL, NULL },
	{ "TWSHIM_LOG", "warn", NULL, NULL },
	{ "TWSHIM_LOG", "info", NULL, NULL },
	{ "TWSHIM_LOG", "debug", NULL, NULL },
	{ "TWSHIM_LOG_FILE", "/tmp/twshim.log", NULL, NULL },
	{ "TWSHIM_LOG_FILE", "/", NULL, NULL },
	{ "TWSHIM_DISABLE", "0", NULL, NULL },
	{ "TWSHIM_DISABLE", "1", NULL, NULL },
};

START_TEST(valid_values)
{
	const struct valid_case *c = &valid_cases[_i];
	struct tw_policy p;
	struct tw_diags d;
	unsigned bad;

	if (c->with_var)
		bad = parse_env(&p, &d, c->var, c->value, c->with_var, c->with_value, NULL);
	else
		bad = parse_env(&p, &d, c->var, c->value, NULL);
	/* TWSHIM_DRAIN_MS is valid and always advised as without effect. */
	unsigned want = strcmp(c->var, "TWSHIM_DRAIN_MS") == 0;
	ck_assert_msg(bad == 0 && d.n == want, "%s=\"%s\": %u bad, %u diagnostics, first: %s",
		      c->var, c->value, bad, d.n, d.n ? d.v[0].text : "");
	tw_policy_free(&p);
}
END_TEST

START_TEST(valid_values_effect)
{
	struct tw_policy p;
	struct tw_diags d;

	parse_env(&p, &d, "TWSHIM_LINGER", "0", NULL);
	ck_assert_int_eq(p.linger, TW_LINGER_ABORT);
	ck_assert(tw_policy_has_client_actions(&p));
	parse_env(&p, &d, "TWSHIM_LINGER", "00", NULL);
	ck_assert_int_eq(p.linger, TW_LINGER_ABORT);
	parse_env(&p, &d, "TWSHIM_LINGER", "0030", NULL);
	ck_assert_int_eq(p.linger, TW_LINGER_TIMEOUT);
	ck_assert_uint_eq(p.linger_seconds, 30);
	parse_env(&p, &d, "TWSHIM_LINGER", "3600", NULL);
	ck_assert_uint_eq(p.linger_seconds, 3600);
	parse_env(&p, &d, "TWSHIM_LINGER", "off", NULL);
	ck_assert_int_eq(p.linger, TW_LINGER_OFF);
	ck_assert(!tw_policy_has_client_actions(&p));
	parse_env(&p, &d, "TWSHIM_PORTS", "above", NULL);
	ck_assert_int_eq(p.ports, TW_PORTS_ABOVE);
	ck_assert(tw_policy_has_client_actions(&p));
	parse_env(&p, &d, "TWSHIM_PORTS", "0080-0090", NULL);
	ck_assert_int_eq(p.ports, TW_PORTS_RANGE);
	ck_assert_int_eq(p.port_range.lo, 80);
	ck_assert_int_eq(p.port_range.hi, 90);
	parse_env(&p, &d, "TWSHIM_DRAIN_MS", "0", "TWSHIM_LINGER", "safe", NULL);
	ck_assert_uint_eq(p.drain_ms, 0);
	parse_env(&p, &d, "TWSHIM_LOG", "warn", NULL);
	ck_assert_int_eq(p.log_level, TW_LOG_WARN);
	parse_env(&p, &d, "TWSHIM_LOG", "info", NULL);
	ck_assert_int_eq(p.log_level, TW_LOG_INFO);
	parse_env(&p, &d, "TWSHIM_REUSEPORT", "1", NULL);
	ck_assert(p.reuseport);
	ck_assert(!p.reuseaddr);
	parse_env(&p, &d, "TWSHIM_DISABLE", "0", NULL);
	ck_assert(!p.disabled);
}
END_TEST

START_TEST(disable_wins)
{
	struct tw_policy p;
	struct tw_diags d;

	ck_assert_uint_eq(parse_env(&p, &d, "TWSHIM_DISABLE", "1", "TWSHIM_LINGER", "0",
				    "TWSHIM_PORTS", "above", NULL),
			  0);
	ck_assert_uint_eq(d.n, 0);
	ck_assert(p.disabled);
	ck_assert(!tw_policy_has_client_actions(&p));
	tw_policy_free(&p);
}
END_TEST

/* ---- every variable, invalid values ----------------------------------- */

struct bad_case {
	const char *var, *value;
};

#define BAD_NUMBERS(var)                                                                    \
	{ var, "" }, { var, " 1" }, { var, "1 " }, { var, "1x" }, { var, "-1" }, { var, "+1" }, \
	{ var, "0x10" }, { var, "1.5" }, { var, "99999999999999999999" }, { var, "abc" }

static const struct bad_case bad_cases[] = {
	BAD_NUMBERS("TWSHIM_LINGER"),
	{ "TWSHIM_LINGER", "3601" },
	{ "TWSHIM_LINGER", "OFF" },
	{ "TWSHIM_LINGER", "Safe" },
	{ "TWSHIM_LINGER", "safe " },
	{ "TWSHIM_LINGER", "-0" },
	{ "TWSHIM_LINGER", "18446744073709551616" },
	{ "TWSHIM_LINGER", "4294967297" }, /* would wrap to 1 in an unsigned */

	BAD_NUMBERS("TWSHIM_DRAIN_MS"),
	{ "TWSHIM_DRAIN_MS", "60001" },
	{ "TWSHIM_DRAIN_MS", "200ms" },

	{ "TWSHIM_PORTS", "" },
	{ "TWSHIM_PORTS", "65536" },
	{ "TWSHIM_PORTS", "10000" },
	{ "TWSHIM_PORTS", "0-0" },
	{ "TWSHIM_PORTS", "0-100" },
	{ "TWSHIM_PORTS", "100-99" },
	{ "TWSHIM_PORTS", "1-65536" },
	{ "TWSHIM_PORTS", "10000-" },
	{ "TWSHIM_PORTS", "-10000" },
	{ "TWSHIM_PORTS", "1-2-3" },
	{ "TWSHIM_PORTS", " 1-2" },
	{ "TWSHIM_PORTS", "1-2 " },
	{ "TWSHIM_PORTS", "1 -2" },
	{ "TWSHIM_PORTS", "+1-2" },
	{ "TWSHIM_PORTS", "on" },
	{ "TWSHIM_PORTS", "Above" },
	{ "TWSHIM_PORTS", "99999999999999999999-1" },

	{ "TWSHIM_REUSEADDR", "" },
	{ "TWSHIM_REUSEADDR", "2" },
	{ "TWSHIM_REUSEADDR", "yes" },
	{ "TWSHIM_REUSEADDR", "true" },
	{ "TWSHIM_REUSEADDR", " 1" },
	{ "TWSHIM_REUSEADDR", "1 " },
	{ "TWSHIM_REUSEADDR", "01" },
	{ "TWSHIM_REUSEADDR", "+1" },
	{ "TWSHIM_REUSEADDR", "-1" },
	{ "TWSHIM_REUSEPORT", "" },
	{ "TWSHIM_REUSEPORT", "on" },
	{ "TWSHIM_REUSEPORT", "1x" },

	{ "TWSHIM_REUSE_PORTS", "" },
	{ "TWSHIM_REUSE_PORTS", "0" },
	{ "TWSHIM_REUSE_PORTS", "65536" },
	{ "TWSHIM_REUSE_PORTS", "0-0" },
	{ "TWSHIM_REUSE_PORTS", "9010-9000" },
	{ "TWSHIM_REUSE_PORTS", "8080," },
	{ "TWSHIM_REUSE_PORTS", "8080,,9000" },
	{ "TWSHIM_REUSE_PORTS", "8080 9000" },
	{ "TWSHIM_REUSE_PORTS", "http" },

	{ "TWSHIM_MATCH", "" },
	{ "TWSHIM_MATCH", "10.0.0.0/33" },
	{ "TWSHIM_MATCH", "10.0.0.0/8:0" },
	{ "TWSHIM_MATCH", "10.0.0.0/8:65536" },
	{ "TWSHIM_MATCH", "*:0-0" },
	{ "TWSHIM_MATCH", "*" },
	{ "TWSHIM_MATCH", "::1/129" },
	{ "TWSHIM_MATCH", "[::1]:" },
	{ "TWSHIM_MATCH", "10.0.0.0/8," },
	{ "TWSHIM_MATCH", "example.com" },
	{ "TWSHIM_EXCLUDE", "" },
	{ "TWSHIM_EXCLUDE", "10.0.0.0/33" },
	{ "TWSHIM_EXCLUDE", "[10.0.0.1]:80" },
	{ "TWSHIM_EXCLUDE", "*:65536" },

	{ "TWSHIM_LOG", "" },
	{ "TWSHIM_LOG", "ERROR" },
	{ "TWSHIM_LOG", "warning" },
	{ "TWSHIM_LOG", "verbose" },
	{ "TWSHIM_LOG", "0" },
	{ "TWSHIM_LOG", "debug " },

	{ "TWSHIM_LOG_FILE", "" },
	{ "TWSHIM_LOG_FILE", "twshim.log" },
	{ "TWSHIM_LOG_FILE", "./twshim.log" },
	{ "TWSHIM_LOG_FILE", "~/twshim.log" },
	{ "TWSHIM_LOG_FILE", " /tmp/x" },

	{ "TWSHIM_DISABLE", "" },
	{ "TWSHIM_DISABLE", "yes" },
	{ "TWSHIM_DISABLE", "true" },
	{ "TWSHIM_DISABLE", "2" },
	{ "TWSHIM_DISABLE", " 0" },
};

START_TEST(invalid_values)
{
	const struct bad_case *c = &bad_cases[_i];
	bool is_disable = strcmp(c->var, "TWSHIM_DISABLE") == 0;
	const char *forms = tw_policy_accepted_forms(c->var);
	struct tw_policy p;
	struct tw_diags d;
	char prefix[128];

	ck_assert_msg(parse_env(&p, &d, c->var, c->value, NULL) == 1, "%s=\"%s\" not rejected",
		      c->var, c->value);
	/* Exactly one line, an error, naming variable, value, accepted forms. */
	ck_assert_uint_eq(d.n, 1);
	ck_assert_int_eq(d.v[0].level, TW_LOG_ERROR);
	snprintf(prefix, sizeof(prefix), "%s=\"%s\" is not valid", c->var, c->value);
	ck_assert_msg(strncmp(d.v[0].text, prefix, strlen(prefix)) == 0, "line: %s", d.v[0].text);
	ck_assert_ptr_nonnull(forms);
	ck_assert_msg(strstr(d.v[0].text, forms), "forms missing: %s", d.v[0].text);
	ck_assert_ptr_nonnull(strstr(d.v[0].text, "(accepted: "));
	/* The feature stays off, as if unset... */
	assert_defaults(&p, is_disable);
	/* ...except the kill switch, which errs on the side of doing nothing. */
	if (is_disable) {
		ck_assert(p.disabled);
		ck_assert_ptr_nonnull(strstr(d.v[0].text, "does nothing"));
	}
	tw_policy_free(&p);
}
END_TEST

START_TEST(log_file_says_absolute)
{
	struct tw_policy p;
	struct tw_diags d;

	parse_env(&p, &d, "TWSHIM_LOG_FILE", "log/x", NULL);
	ck_assert_uint_eq(d.n, 1);
	ck_assert_ptr_nonnull(strstr(d.v[0].text, "absolute"));
	ck_assert_ptr_nonnull(strstr(d.v[0].text, "stderr"));
	parse_env(&p, &d, "TWSHIM_LOG_FILE", "", NULL);
	ck_assert_uint_eq(d.n, 1);
	ck_assert_ptr_nonnull(strstr(d.v[0].text, "empty"));
	ck_assert_ptr_null(p.log_file);
}
END_TEST

START_TEST(diag_example_text)
{
	struct tw_policy p;
	struct tw_diags d;

	parse_env(&p, &d, "TWSHIM_LINGER", "abc", NULL);
	ck_assert_str_eq(d.v[0].text, "TWSHIM_LINGER=\"abc\" is not valid (accepted: off, safe, 0, "
				      "or seconds 1-3600); linger stays off");
	parse_env(&p, &d, "TWSHIM_MATCH", "10.0.0.0/8, 10.0.0.0/33", NULL);
	ck_assert_msg(strstr(d.v[0].text, "item 2 \"10.0.0.0/33\": prefix length must be 0-32"),
		      "%s", d.v[0].text);
	tw_policy_free(&p);
}
END_TEST

/* ---- the scope: a bad MATCH or EXCLUDE must not widen anything -------- */

START_TEST(bad_match_turns_client_actions_off)
{
	const char *const vars[] = { "TWSHIM_MATCH", "TWSHIM_EXCLUDE" };
	struct tw_policy p;
	struct tw_diags d;

	for (unsigned i = 0; i < 2; i++) {
		ck_assert_uint_eq(parse_env(&p, &d, "TWSHIM_LINGER", "safe", "TWSHIM_PORTS",
					    "61000-61010", vars[i], "10.0.0.0/33", "TWSHIM_REUSEADDR",
					    "1", NULL),
				  1);
		ck_assert_uint_eq(d.n, 1);
		ck_assert_ptr_nonnull(strstr(d.v[0].text, vars[i]));
		ck_assert_ptr_nonnull(strstr(d.v[0].text, "client actions stay off"));
		ck_assert_int_eq(p.linger, TW_LINGER_OFF);
		ck_assert_int_eq(p.ports, TW_PORTS_OFF);
		ck_assert(!tw_policy_has_client_actions(&p));
		ck_assert(!p.has_match);
		ck_assert(p.reuseaddr); /* server side is not scoped by destination */
		tw_policy_free(&p);
	}
	/* Valid match with a bad exclude: still off. */
	ck_assert_uint_eq(parse_env(&p, &d, "TWSHIM_LINGER", "0", "TWSHIM_MATCH", "10.0.0.0/8",
				    "TWSHIM_EXCLUDE", "10.0.0.5:0", NULL),
			  1);
	ck_assert(!tw_policy_has_client_actions(&p));
	tw_policy_free(&p);
}
END_TEST

START_TEST(bad_reuse_ports_turns_reuse_off)
{
	struct tw_policy p;
	struct tw_diags d;

	ck_assert_uint_eq(parse_env(&p, &d, "TWSHIM_REUSEADDR", "1", "TWSHIM_REUSEPORT", "1",
				    "TWSHIM_REUSE_PORTS", "8080,0", "TWSHIM_LINGER", "0", NULL),
			  1);
	ck_assert_uint_eq(d.n, 1);
	ck_assert_ptr_nonnull(strstr(d.v[0].text, "reuse on bind stays off"));
	ck_assert(!p.reuseaddr);
	ck_assert(!p.reuseport);
	ck_assert(!p.has_reuse_ports);
	ck_assert_int_eq(p.linger, TW_LINGER_ABORT); /* unrelated features untouched */
	tw_policy_free(&p);
}
END_TEST

/* ---- names nobody reads, the stats signal, timestamps ----------------- */

START_TEST(unknown_names_name_the_nearest)
{
	static char e0[] = "TWSHIM_LINGR=safe", e1[] = "TWSHIM_LINGER=safe", e2[] = "PATH=/bin",
		    e3[] = "TWSHIM_LIBRARY=/x", e4[] = "TWSHIM_STATS_SIGNALS=USR1", e5[] = "TWSHIM_=1",
		    e6[] = "TWSHIMLOG=info";
	char *envp[] = { e0, e1, e2, e3, e4, e5, e6, NULL };
	struct tw_diags d = { 0 };

	ck_assert_uint_eq(tw_policy_unknown_names(envp, &d), 3);
	ck_assert_uint_eq(d.n, 3);
	ck_assert_uint_eq(count_level(&d, TW_LOG_ERROR), 3);
	ck_assert_str_eq(d.v[0].text, "TWSHIM_LINGR is not a twshim variable, it is ignored "
				      "(did you mean TWSHIM_LINGER?)");
	ck_assert_ptr_nonnull(strstr(d.v[1].text, "(did you mean TWSHIM_STATS_SIGNAL?)"));
	ck_assert_ptr_nonnull(strstr(d.v[2].text, "TWSHIM_ is not"));
	ck_assert_str_eq(tw_policy_nearest_name("TWSHIM_EXCLUDES", 15), "TWSHIM_EXCLUDE");
	ck_assert_str_eq(tw_policy_nearest_name("TWSHIM_DISABLED", 15), "TWSHIM_DISABLE");
	ck_assert(tw_policy_known_name("TWSHIM_LIBRARY", 14));
	ck_assert(!tw_policy_known_name("TWSHIM_LIBRAR", 13));
	/* Every variable the parser reads is known: one table for both. */
	for (unsigned i = 0; i < TW_VAR_COUNT; i++)
		ck_assert(tw_policy_known_name(tw_vars[i].name, strlen(tw_vars[i].name)));
}
END_TEST

START_TEST(stats_signal_values)
{
	int sig = -1;

	ck_assert(tw_parse_signal("off", &sig) && sig == 0);
	ck_assert(tw_parse_signal("USR1", &sig) && sig == SIGUSR1);
	ck_assert(tw_parse_signal("SIGUSR2", &sig) && sig == SIGUSR2);
	ck_assert(!tw_parse_signal("TERM", &sig));
	ck_assert(!tw_parse_signal("usr1", &sig));
	ck_assert(!tw_parse_signal("10", &sig));
	ck_assert(!tw_parse_signal("", &sig));
	ck_assert(!tw_parse_signal("SIG", &sig));
	ck_assert(!tw_parse_signal("USR1 ", &sig));
}
END_TEST

START_TEST(program_lists)
{
	struct tw_policy p;
	struct tw_diags d;

	ck_assert_uint_eq(parse_env(&p, &d, "TWSHIM_ONLY_PROGRAMS", "probe,blackbox_exporter", NULL), 0);
	ck_assert_uint_eq(d.n, 0);
	ck_assert(tw_policy_selects_program(&p, "probe"));
	ck_assert(tw_policy_selects_program(&p, "blackbox_exporter"));
	ck_assert(!tw_policy_selects_program(&p, "curl"));
	ck_assert(!tw_policy_selects_program(&p, "prob"));   /* whole names only */
	ck_assert(!tw_policy_selects_program(&p, "probe2"));
	ck_assert(!tw_policy_selects_program(&p, "Probe"));  /* case matters */
	ck_assert(!tw_policy_selects_program(&p, ""));
	ck_assert(!tw_policy_selects_program(&p, NULL));
	tw_policy_free(&p);

	/* skip wins */
	ck_assert_uint_eq(parse_env(&p, &d, "TWSHIM_ONLY_PROGRAMS", "probe,curl",
				    "TWSHIM_SKIP_PROGRAMS", "curl", NULL), 0);
	ck_assert(tw_policy_selects_program(&p, "probe"));
	ck_assert(!tw_policy_selects_program(&p, "curl"));
	ck_assert(!tw_policy_selects_program(&p, "sh"));
	tw_policy_free(&p);
	ck_assert_uint_eq(parse_env(&p, &d, "TWSHIM_SKIP_PROGRAMS", "sh,bash,curl", NULL), 0);
	ck_assert(tw_policy_selects_program(&p, "probe"));
	ck_assert(!tw_policy_selects_program(&p, "bash"));
	ck_assert(!p.disabled);
	tw_policy_free(&p);

	/* malformed: one line naming the item, and the library does nothing */
	static const char *const bad[] = { "", ",", "probe,", ",probe", "a,,b", "/usr/bin/curl",
					   "curl wget", "probe\t", "a\x01b" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ck_assert(!tw_parse_program_list(bad[i]));
		ck_assert_uint_eq(parse_env(&p, &d, "TWSHIM_SKIP_PROGRAMS", bad[i],
					    "TWSHIM_LINGER", "0", NULL), 1);
		ck_assert_uint_eq(d.n, 1);
		ck_assert_int_eq(d.v[0].level, TW_LOG_ERROR);
		ck_assert_ptr_nonnull(strstr(d.v[0].text, "TWSHIM_SKIP_PROGRAMS=\""));
		ck_assert_ptr_nonnull(strstr(d.v[0].text, "accepted: comma-separated program names"));
		ck_assert_ptr_nonnull(strstr(d.v[0].text, "twshim does nothing in any program"));
		ck_assert(p.disabled);
		tw_policy_free(&p);
	}
	ck_assert_uint_eq(parse_env(&p, &d, "TWSHIM_ONLY_PROGRAMS", "probe,/bin/sh", NULL), 1);
	ck_assert_ptr_nonnull(strstr(d.v[0].text, "item 2 \"/bin/sh\": a base name has no '/'"));
	tw_policy_free(&p);
	char longname[300];
	memset(longname, 'x', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	ck_assert(!tw_parse_program_list(longname));
	longname[255] = '\0';
	ck_assert(tw_parse_program_list(longname));
	ck_assert(tw_parse_program_list("a-b_c.d+e@1"));
}
END_TEST

START_TEST(rfc3339_utc)
{
	char buf[40];

	tw_fmt_rfc3339(buf, sizeof(buf), 0, 0);
	ck_assert_str_eq(buf, "1970-01-01T00:00:00.000000Z");
	tw_fmt_rfc3339(buf, sizeof(buf), 951782400 + 86399, 999999999); /* leap day 2000 */
	ck_assert_str_eq(buf, "2000-02-29T23:59:59.999999Z");
	tw_fmt_rfc3339(buf, sizeof(buf), 1796172284, 123456000);
	ck_assert_str_eq(buf, "2026-12-02T00:44:44.123456Z");
	tw_fmt_rfc3339(buf, sizeof(buf), 4102444800, 0);
	ck_assert_str_eq(buf, "2100-01-01T00:00:00.000000Z");
	ck_assert_uint_eq(tw_fmt_rfc3339(buf, 5, 0, 0), 4); /* truncated, terminated */
	ck_assert_str_eq(buf, "1970");
}
END_TEST

/* ---- counting and bounds ---------------------------------------------- */

START_TEST(one_line_per_bad_variable)
{
	struct tw_policy p;
	struct tw_diags d;
	unsigned bad;

	bad = parse_env(&p, &d, "TWSHIM_LINGER", "x", "TWSHIM_DRAIN_MS", "x", "TWSHIM_PORTS", "x",
			"TWSHIM_REUSEADDR", "x", "TWSHIM_REUSEPORT", "x", "TWSHIM_REUSE_PORTS", "x",
			"TWSHIM_MATCH", "x", "TWSHIM_EXCLUDE", "x", "TWSHIM_ONLY_PROGRAMS", "/x",
			"TWSHIM_SKIP_PROGRAMS", "/x", "TWSHIM_LOG", "x",
			"TWSHIM_LOG_FILE", "x", "TWSHIM_STATS_SIGNAL", "x", "TWSHIM_DISABLE", "x", NULL);
	ck_assert_uint_eq(bad, 14);
	ck_assert_uint_eq(d.n, 14);
	ck_assert_uint_eq(count_level(&d, TW_LOG_ERROR), 14);
	for (unsigned i = 0; i < TW_VAR_COUNT; i++) {
		char prefix[64];
		bool names = strstr(tw_vars[i].name, "_PROGRAMS") != NULL;

		snprintf(prefix, sizeof(prefix), "%s=\"%s\"", tw_vars[i].name, names ? "/x" : "x");
		ck_assert_msg(strncmp(d.v[i].text, prefix, strlen(prefix)) == 0, "line %u: %s", i,
			      d.v[i].text);
	}
	tw_policy_free(&p);

	/* A bad LINGER and a valid DRAIN_MS: the error, no extra advice. */
	ck_assert_uint_eq(parse_env(&p, &d, "TWSHIM_LINGER", "x", "TWSHIM_DRAIN_MS", "5", NULL), 1);
	ck_assert_uint_eq(d.n, 1);
}
END_TEST

START_TEST(diags_reset_and_optional)
{
	struct tw_policy p;
	struct tw_diags d;

	d.n = 7;
	ck_assert_uint_eq(parse_env(&p, &d, NULL), 0);
	ck_assert_uint_eq(d.n, 0);
	/* No diagnostics wanted: still counted and applied. */
	ck_assert_uint_eq(parse_env(&p, NULL, "TWSHIM_LINGER", "abc", "TWSHIM_PORTS", "1-2", NULL),
			  1);
	ck_assert_int_eq(p.ports, TW_PORTS_RANGE);
}
END_TEST

START_TEST(value_sanitised)
{
	struct tw_policy p;
	struct tw_diags d;
	const char *want;

	parse_env(&p, &d, "TWSHIM_LOG", "a\nb\x01\x7f\xff\tc\"", NULL);
	ck_assert_uint_eq(d.n, 1);
	want = "TWSHIM_LOG=\"a?b????c\"\" is not valid";
	ck_assert_msg(strncmp(d.v[0].text, want, strlen(want)) == 0, "%s", d.v[0].text);
	for (const char *c = d.v[0].text; *c; c++)
		ck_assert_msg((unsigned char)*c >= 0x20 && (unsigned char)*c < 0x7f,
			      "raw byte 0x%02x in diagnostic", (unsigned char)*c);
}
END_TEST

START_TEST(value_truncated)
{
	const char *const vars[] = { "TWSHIM_LINGER", "TWSHIM_MATCH", "TWSHIM_REUSE_PORTS",
				     "TWSHIM_LOG_FILE" };
	const size_t n = 100 * 1024;
	char *big = malloc(n + 1), want[TW_DIAG_VALUE_SHOWN + 32];
	struct tw_policy p;
	struct tw_diags d;

	ck_assert_ptr_nonnull(big);
	memset(big, 'x', n);
	big[n] = '\0';
	for (unsigned i = 0; i < sizeof(vars) / sizeof(vars[0]); i++) {
		size_t len;

		ck_assert_uint_eq(parse_env(&p, &d, vars[i], big, NULL), 1);
		ck_assert_uint_eq(d.n, 1);
		len = strlen(d.v[0].text);
		ck_assert_uint_lt(len, TW_DIAG_TEXT_MAX);
		/* Exactly TW_DIAG_VALUE_SHOWN characters, then "...". */
		snprintf(want, sizeof(want), "%s=\"%.*s...\"", vars[i], TW_DIAG_VALUE_SHOWN, big);
		ck_assert_msg(strncmp(d.v[0].text, want, strlen(want)) == 0, "%s", d.v[0].text);
		/* The line still ends with its consequence: nothing was cut. */
		ck_assert_msg(strstr(d.v[0].text, "(accepted: ") && strstr(d.v[0].text, "); "), "%s",
			      d.v[0].text);
		tw_policy_free(&p);
	}
	/* One character short of the limit is shown whole. */
	big[TW_DIAG_VALUE_SHOWN] = '\0';
	parse_env(&p, &d, "TWSHIM_LOG", big, NULL);
	snprintf(want, sizeof(want), "TWSHIM_LOG=\"%s\" is", big);
	ck_assert_msg(strncmp(d.v[0].text, want, strlen(want)) == 0, "%s", d.v[0].text);
	free(big);
}
END_TEST

START_TEST(long_rule_list_line_fits)
{
	/* The worst line: longest value, longest item, longest forms. */
	char big[400];
	struct tw_policy p;
	struct tw_diags d;

	memset(big, '1', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	big[0] = '*';
	big[1] = ':';
	parse_env(&p, &d, "TWSHIM_EXCLUDE", big, NULL);
	ck_assert_uint_eq(d.n, 1);
	ck_assert_uint_lt(strlen(d.v[0].text), TW_DIAG_TEXT_MAX - 1);
	ck_assert_msg(strstr(d.v[0].text, "client actions stay off"), "%s", d.v[0].text);
}
END_TEST

/* ---- advice ----------------------------------------------------------- */

START_TEST(advice_drain_has_no_effect)
{
	struct tw_policy p;
	struct tw_diags d;

	ck_assert_uint_eq(parse_env(&p, &d, "TWSHIM_DRAIN_MS", "500", NULL), 0);
	ck_assert_uint_eq(d.n, 1);
	ck_assert_int_eq(d.v[0].level, TW_LOG_WARN);
	ck_assert_ptr_nonnull(strstr(d.v[0].text, "TWSHIM_DRAIN_MS"));
	ck_assert_uint_eq(p.drain_ms, 500);

	ck_assert_uint_eq(parse_env(&p, &d, "TWSHIM_DRAIN_MS", "500", "TWSHIM_LINGER", "0", NULL),
			  0);
	ck_assert_uint_eq(count_level(&d, TW_LOG_WARN), 1);
	ck_assert_uint_eq(d.n, 1);

	/* safe no longer waits either: the same one warning. */
	ck_assert_uint_eq(parse_env(&p, &d, "TWSHIM_DRAIN_MS", "500", "TWSHIM_LINGER", "safe",
				    NULL),
			  0);
	ck_assert_uint_eq(d.n, 1);
	ck_assert_ptr_nonnull(strstr(d.v[0].text, "no longer waits"));
}
END_TEST

/* The library's parse leaves out advice its log level would not print
 * (TWSHIM_LOG=error, the default); errors stay at every level. */
START_TEST(advice_only_when_logged)
{
	struct tw_policy p;
	struct tw_diags d;
	struct env e = { .n = 0 };

	env_set(&e, "TWSHIM_DRAIN_MS", "500");
	ck_assert_uint_eq(tw_policy_parse_logged(&p, env_lookup, &e, &d), 0);
	ck_assert_uint_eq(d.n, 0);
	tw_policy_free(&p);

	env_set(&e, "TWSHIM_LOG", "warn");
	ck_assert_uint_eq(tw_policy_parse_logged(&p, env_lookup, &e, &d), 0);
	ck_assert_uint_eq(d.n, 1);
	ck_assert_int_eq(d.v[0].level, TW_LOG_WARN);
	tw_policy_free(&p);

	struct env bad = { .n = 0 };
	env_set(&bad, "TWSHIM_DRAIN_MS", "500");
	env_set(&bad, "TWSHIM_PORTS", "nonsense");
	ck_assert_uint_eq(tw_policy_parse_logged(&p, env_lookup, &bad, &d), 1);
	ck_assert_uint_eq(d.n, 1);
	ck_assert_int_eq(d.v[0].level, TW_LOG_ERROR);
	tw_policy_free(&p);
}
END_TEST

START_TEST(advice_reuse_ports_without_reuse)
{
	struct tw_policy p;
	struct tw_diags d;

	ck_assert_uint_eq(parse_env(&p, &d, "TWSHIM_REUSE_PORTS", "8080", NULL), 0);
	ck_assert_uint_eq(d.n, 1);
	ck_assert_int_eq(d.v[0].level, TW_LOG_WARN);
	tw_policy_free(&p);
	ck_assert_uint_eq(parse_env(&p, &d, "TWSHIM_REUSE_PORTS", "8080", "TWSHIM_REUSEADDR", "0",
				    NULL),
			  0);
	ck_assert_uint_eq(d.n, 1);
	tw_policy_free(&p);
	/* Disabled: nothing has an effect, nothing to advise. */
	ck_assert_uint_eq(parse_env(&p, &d, "TWSHIM_REUSE_PORTS", "8080", "TWSHIM_DISABLE", "1",
				    NULL),
			  0);
	ck_assert_uint_eq(d.n, 0);
	tw_policy_free(&p);
}
END_TEST

/* ---- single-value parsers --------------------------------------------- */

START_TEST(parse_uint_edges)
{
	unsigned long v = 12345;

	ck_assert(tw_parse_uint("0", 0, 10, &v));
	ck_assert_uint_eq(v, 0);
	ck_assert(tw_parse_uint("0080", 0, 100, &v));
	ck_assert_uint_eq(v, 80);
	ck_assert(tw_parse_uint("10", 10, 10, &v));
	ck_assert(tw_parse_uint("18446744073709551615", 0, (unsigned long)-1, &v));
	ck_assert_uint_eq(v, (unsigned long)-1);
	v = 7;
	ck_assert(!tw_parse_uint("18446744073709551616", 0, (unsigned long)-1, &v));
	ck_assert(!tw_parse_uint("99999999999999999999", 0, (unsigned long)-1, &v));
	ck_assert(!tw_parse_uint("9", 10, 20, &v));
	ck_assert(!tw_parse_uint("21", 10, 20, &v));
	ck_assert(!tw_parse_uint("", 0, 10, &v));
	ck_assert(!tw_parse_uint(NULL, 0, 10, &v));
	ck_assert(!tw_parse_uint(" 1", 0, 10, &v));
	ck_assert(!tw_parse_uint("1 ", 0, 10, &v));
	ck_assert(!tw_parse_uint("\t1", 0, 10, &v));
	ck_assert(!tw_parse_uint("1x", 0, 10, &v));
	ck_assert(!tw_parse_uint("-1", 0, (unsigned long)-1, &v));
	ck_assert(!tw_parse_uint("+1", 0, 10, &v));
	ck_assert(!tw_parse_uint("0x1", 0, 10, &v));
	ck_assert_uint_eq(v, 7); /* untouched on failure */
}
END_TEST

/* One span parser for the rule lists, TWSHIM_PORTS and `twshim stat`:
 * each reason it gives is one rules.c turns into its own message. */
START_TEST(parse_port_span_edges)
{
	uint16_t lo = 7, hi = 7;

	ck_assert_int_eq(tw_parse_port_span("80", 2, 1, &lo, &hi), TW_SPAN_OK);
	ck_assert_uint_eq(lo, 80);
	ck_assert_uint_eq(hi, 80);
	ck_assert_int_eq(tw_parse_port_span("0080-65535", 10, 1, &lo, &hi), TW_SPAN_OK);
	ck_assert_uint_eq(lo, 80);
	ck_assert_uint_eq(hi, 65535);
	ck_assert_int_eq(tw_parse_port_span("0-0", 3, 0, &lo, &hi), TW_SPAN_OK);
	ck_assert_uint_eq(hi, 0);
	/* n bytes only: what follows is not looked at */
	ck_assert_int_eq(tw_parse_port_span("90-9010", 5, 1, &lo, &hi), TW_SPAN_OK);
	ck_assert_uint_eq(hi, 90);
	lo = hi = 7;
	ck_assert_int_eq(tw_parse_port_span("", 0, 1, &lo, &hi), TW_SPAN_EMPTY);
	ck_assert_int_eq(tw_parse_port_span("0", 1, 1, &lo, &hi), TW_SPAN_PORT);
	ck_assert_int_eq(tw_parse_port_span("65536", 5, 1, &lo, &hi), TW_SPAN_PORT);
	ck_assert_int_eq(tw_parse_port_span(" 1", 2, 1, &lo, &hi), TW_SPAN_PORT);
	ck_assert_int_eq(tw_parse_port_span("-", 1, 1, &lo, &hi), TW_SPAN_RANGE);
	ck_assert_int_eq(tw_parse_port_span("1-", 2, 1, &lo, &hi), TW_SPAN_RANGE);
	ck_assert_int_eq(tw_parse_port_span("1-2-3", 5, 1, &lo, &hi), TW_SPAN_RANGE);
	ck_assert_int_eq(tw_parse_port_span("0-5", 3, 1, &lo, &hi), TW_SPAN_RANGE);
	ck_assert_int_eq(tw_parse_port_span("10-9", 4, 1, &lo, &hi), TW_SPAN_ORDER);
	ck_assert_uint_eq(lo, 7); /* untouched on failure */
	ck_assert_uint_eq(hi, 7);
}
END_TEST

START_TEST(parse_single_values)
{
	enum tw_linger_mode lm = TW_LINGER_SAFE;
	unsigned secs = 9;
	enum tw_ports_mode pm = TW_PORTS_ABOVE;
	struct tw_port_range r = { 7, 7 };
	enum tw_log_level lvl = TW_LOG_INFO;
	bool b = true;

	ck_assert(tw_parse_linger("0", &lm, &secs));
	ck_assert_int_eq(lm, TW_LINGER_ABORT);
	ck_assert(tw_parse_linger("1", &lm, &secs));
	ck_assert_int_eq(lm, TW_LINGER_TIMEOUT);
	ck_assert_uint_eq(secs, 1);
	ck_assert(tw_parse_linger("safe", &lm, &secs));
	ck_assert_int_eq(lm, TW_LINGER_SAFE);
	ck_assert(!tw_parse_linger("3601", &lm, &secs));
	ck_assert(!tw_parse_linger(NULL, &lm, &secs));
	ck_assert_int_eq(lm, TW_LINGER_SAFE);

	ck_assert(tw_parse_ports("1-65535", &pm, &r));
	ck_assert_int_eq(pm, TW_PORTS_RANGE);
	ck_assert_int_eq(r.lo, 1);
	ck_assert_int_eq(r.hi, 65535);
	ck_assert(!tw_parse_ports("0-0", &pm, &r));
	ck_assert(!tw_parse_ports("65536", &pm, &r));
	ck_assert(!tw_parse_ports(NULL, &pm, &r));
	ck_assert_int_eq(pm, TW_PORTS_RANGE);
	ck_assert_int_eq(r.hi, 65535);
	ck_assert(tw_parse_ports("off", &pm, &r));
	ck_assert_int_eq(pm, TW_PORTS_OFF);
	ck_assert(tw_parse_ports("above", &pm, &r));
	ck_assert_int_eq(pm, TW_PORTS_ABOVE);

	ck_assert(tw_parse_log_level("error", &lvl));
	ck_assert_int_eq(lvl, TW_LOG_ERROR);
	ck_assert(tw_parse_log_level("debug", &lvl));
	ck_assert_int_eq(lvl, TW_LOG_DEBUG);
	ck_assert(!tw_parse_log_level("Debug", &lvl));
	ck_assert(!tw_parse_log_level(NULL, &lvl));
	ck_assert_int_eq(lvl, TW_LOG_DEBUG);

	ck_assert(tw_parse_bool01("0", &b));
	ck_assert(!b);
	ck_assert(tw_parse_bool01("1", &b));
	ck_assert(b);
	ck_assert(!tw_parse_bool01("", &b));
	ck_assert(!tw_parse_bool01("true", &b));
	ck_assert(!tw_parse_bool01(NULL, &b));
	ck_assert(b);
}
END_TEST

/* ---- scale ------------------------------------------------------------ */

START_TEST(scale_5000_match_rules)
{
	size_t cap = 5000 * 24, len = 0;
	char *s = malloc(cap);
	struct tw_policy p;
	struct tw_diags d;
	struct timespec t0, t1;
	double secs;

	ck_assert_ptr_nonnull(s);
	for (unsigned i = 0; i < 5000; i++)
		len += (size_t)snprintf(s + len, cap - len, "%s192.%u.%u.0/24", i ? "," : "",
					i / 256, i % 256);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	ck_assert_uint_eq(parse_env(&p, &d, "TWSHIM_LINGER", "safe", "TWSHIM_MATCH", s,
				    "TWSHIM_EXCLUDE", s, NULL),
			  0);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	ck_assert_msg(secs < 0.5, "parsing 2 x 5000 rules took %.3f s", secs);
	ck_assert_uint_eq(d.n, 0);
	ck_assert_uint_eq(p.match.n, 5000);
	ck_assert_uint_eq(p.exclude.n, 5000);
	tw_policy_free(&p);
	free(s);
}
END_TEST

Suite *tw_unit_suite(void)
{
	Suite *s = suite_create("policy");
	TCase *tc;

	tc = tcase_create("policy");
	tcase_add_test(tc, unset_is_leave_alone);
	tcase_add_test(tc, variables_listed);
	tcase_add_test(tc, table_entries_and_defaults);
	tcase_add_test(tc, full_valid_config);
	tcase_add_test(tc, disable_wins);
	suite_add_tcase(s, tc);

	tc = tcase_create("valid");
	tcase_add_loop_test(tc, valid_values, 0,
			    (int)(sizeof(valid_cases) / sizeof(valid_cases[0])));
	tcase_add_test(tc, valid_values_effect);
	suite_add_tcase(s, tc);

	tc = tcase_create("invalid");
	tcase_add_loop_test(tc, invalid_values, 0, (int)(sizeof(bad_cases) / sizeof(bad_cases[0])));
	tcase_add_test(tc, log_file_says_absolute);
	tcase_add_test(tc, diag_example_text);
	tcase_add_test(tc, bad_match_turns_client_actions_off);
	tcase_add_test(tc, bad_reuse_ports_turns_reuse_off);
	suite_add_tcase(s, tc);

	tc = tcase_create("diagnostics");
	tcase_add_test(tc, one_line_per_bad_variable);
	tcase_add_test(tc, diags_reset_and_optional);
	tcase_add_test(tc, value_sanitised);
	tcase_add_test(tc, value_truncated);
	tcase_add_test(tc, long_rule_list_line_fits);
	tcase_add_test(tc, advice_drain_has_no_effect);
	tcase_add_test(tc, advice_only_when_logged);
	tcase_add_test(tc, advice_reuse_ports_without_reuse);
	suite_add_tcase(s, tc);

	tc = tcase_create("single");
	tcase_add_test(tc, parse_uint_edges);
	tcase_add_test(tc, parse_port_span_edges);
	tcase_add_test(tc, parse_single_values);
	tcase_add_test(tc, unknown_names_name_the_nearest);
	tcase_add_test(tc, stats_signal_values);
	tcase_add_test(tc, rfc3339_utc);
	tcase_add_test(tc, program_lists);
	suite_add_tcase(s, tc);

	tc = tcase_create("scale");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, scale_5000_match_rules);
	suite_add_tcase(s, tc);
	return s;
}
