/* twshim — the environment turned into a policy, once.
 *
 * Pure code: the caller supplies the lookup and prints the diagnostics.
 *
 * Decisions recorded here (the tests pin them down):
 * - Unset means "leave the program alone".  An EMPTY value is malformed,
 *   not unset: `TWSHIM_LINGER=` is usually a template whose substitution
 *   failed, and one diagnostic line says so instead of hiding it.
 * - Numbers are decimal digits only: no sign, no blanks, no hex; leading
 *   zeros are fine ("0080" is 80, and "00" for TWSHIM_LINGER is "0").
 * - Keywords are lower case only.
 * - A malformed value switches its feature off (as if unset) with exactly
 *   one error line.  Where "off" would widen what the library does, the
 *   narrower choice wins:
 *     TWSHIM_MATCH / TWSHIM_EXCLUDE malformed: all client actions stay off
 *       (a typo in the scope must not widen the scope to everything, and an
 *       exclusion the user asked for cannot be honoured);
 *     TWSHIM_REUSE_PORTS malformed: reuse on bind stays off (otherwise it
 *       would apply to every port);
 *     TWSHIM_DISABLE malformed: the library does nothing, as with 1 (a kill
 *       switch that was clearly touched errs on the side of doing nothing).
 */
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy_internal.h"
#include "twshim/policy.h"
#include "twshim/vars.h"

/* Read by the twshim command only; known, so never reported as unknown. */
const char *const tw_command_variables[] = { "TWSHIM_LIBRARY", NULL };

const char *tw_policy_accepted_forms(const char *variable)
{
	const struct tw_var *v = variable ? tw_var_find(variable, strlen(variable)) : NULL;

	return v ? v->forms : NULL;
}

/* ---- single values ---------------------------------------------------- */

bool tw_parse_bool01(const char *s, bool *out)
{
	if (!s)
		return false;
	if (strcmp(s, "0") == 0) {
		*out = false;
		return true;
	}
	if (strcmp(s, "1") == 0) {
		*out = true;
		return true;
	}
	return false;
}

bool tw_parse_linger(const char *s, enum tw_linger_mode *mode, unsigned *seconds)
{
	unsigned long n;

	if (!s)
		return false;
	if (strcmp(s, "off") == 0) {
		*mode = TW_LINGER_OFF;
		*seconds = 0;
	} else if (strcmp(s, "safe") == 0) {
		*mode = TW_LINGER_SAFE;
		*seconds = 0;
	} else if (tw_parse_uint(s, 0, TW_LINGER_SECONDS_MAX, &n)) {
		*mode = n == 0 ? TW_LINGER_ABORT : TW_LINGER_TIMEOUT;
		*seconds = (unsigned)n;
	} else {
		return false;
	}
	return true;
}

bool tw_parse_ports(const char *s, enum tw_ports_mode *mode, struct tw_port_range *range)
{
	uint16_t lo, hi;

	if (!s)
		return false;
	if (strcmp(s, "off") == 0 || strcmp(s, "above") == 0) {
		*mode = s[0] == 'o' ? TW_PORTS_OFF : TW_PORTS_ABOVE;
		range->lo = range->hi = 0;
		return true;
	}
	/* A range only: one port is not a pool to pin from. */
	if (!strchr(s, '-') || tw_parse_port_span(s, strlen(s), 1, &lo, &hi) != TW_SPAN_OK)
		return false;
	*mode = TW_PORTS_RANGE;
	range->lo = lo;
	range->hi = hi;
	return true;
}

bool tw_parse_log_level(const char *s, enum tw_log_level *out)
{
	static const char *const names[] = { "error", "warn", "info", "debug" };

	if (!s)
		return false;
	for (unsigned i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (strcmp(s, names[i]) == 0) {
			*out = (enum tw_log_level)i;
			return true;
		}
	}
	return false;
}

bool tw_parse_signal(const char *s, int *out)
{
	if (!s)
		return false;
	if (strcmp(s, "off") == 0) {
		*out = 0;
		return true;
	}
	if (strncmp(s, "SIG", 3) == 0)
		s += 3;
	/* Only the user signals: every other one already means something to
	 * the program or the kernel. */
	if (strcmp(s, "USR1") == 0 || strcmp(s, "USR2") == 0) {
		*out = s[3] == '1' ? SIGUSR1 : SIGUSR2;
		return true;
	}
	return false;
}

/* ---- diagnostics ------------------------------------------------------ */

static void diag_add(struct tw_diags *d, enum tw_log_level level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void diag_add(struct tw_diags *d, enum tw_log_level level, const char *fmt, ...)
{
	va_list ap;

	if (!d || d->n >= TW_DIAG_MAX)
		return;
	va_start(ap, fmt);
	vsnprintf(d->v[d->n].text, sizeof(d->v[d->n].text), fmt, ap);
	va_end(ap);
	d->v[d->n].level = level;
	d->n++;
}

/* A value as it may appear in a diagnostic: at most `max` bytes, each
 * control or non-ASCII byte shown as '?', "..." when cut. */
#define SHOWN_BUF (TW_DIAG_VALUE_SHOWN + 4)

static const char *show(char buf[SHOWN_BUF], const char *s, size_t len, size_t max)
{
	size_t i, k = 0;

	if (max > TW_DIAG_VALUE_SHOWN)
		max = TW_DIAG_VALUE_SHOWN;
	for (i = 0; i < len && i < max; i++) {
		unsigned char c = (unsigned char)s[i];

		buf[k++] = (char)(c < 0x20 || c >= 0x7f ? '?' : c);
	}
	if (i < len) {
		memcpy(buf + k, "...", 3);
		k += 3;
	}
	buf[k] = '\0';
	return buf;
}

/* Items of a rule list are shown shorter than whole values: the line has
 * to carry both. */
#define ITEM_SHOWN 48

static void diag_bad(struct tw_diags *d, const struct tw_var *var, const char *value,
		     const struct tw_parse_error *err)
{
	char val[SHOWN_BUF], item[SHOWN_BUF], detail[160] = "";

	if (err && err->why && err->item)
		snprintf(detail, sizeof(detail), ": item %zu \"%s\": %s", err->item,
			 show(item, err->at, err->len, ITEM_SHOWN), err->why);
	else if (err && err->why)
		snprintf(detail, sizeof(detail), ": %s", err->why);
	diag_add(d, TW_LOG_ERROR, "%s=\"%s\" is not valid%s (accepted: %s); %s", var->name,
		 show(val, value, strlen(value), TW_DIAG_VALUE_SHOWN), detail, var->forms,
		 var->if_malformed);
}

/* ---- the policy ------------------------------------------------------- */

struct parse_state {
	struct tw_policy *p;
	struct tw_diags *d;
	tw_lookup_fn lookup;
	void *ctx;
	unsigned bad;
	bool by_log_level; /* leave out advice the parsed log level would not print */
};

static const char *get(struct parse_state *st, const char *name)
{
	return st->lookup ? st->lookup(name, st->ctx) : NULL;
}

/* One variable through its table entry: 0 unset, 1 valid, -1 malformed
 * (reported). */
static int parse_var(struct parse_state *st, const struct tw_var *var)
{
	const char *v = get(st, var->name);
	struct tw_parse_error err = { 0 };

	if (!v)
		return 0;
	if (var->parse(v, st->p, &err))
		return 1;
	st->bad++;
	diag_bad(st->d, var, v, &err);
	return -1;
}

/* ---- program scope ---------------------------------------------------- */

#define PROGRAM_NAME_MAX 255

bool tw_parse_program_list_err(const char *s, struct tw_parse_error *err)
{
	size_t item = 0;
	const char *p = s;

	if (!s || !*s) {
		err->why = "the list is empty";
		return false;
	}
	for (;;) {
		size_t len = strcspn(p, ",");
		item++;
		err->item = item;
		err->at = p;
		err->len = len;
		if (len == 0) {
			err->why = "empty name (two commas, or a comma at an end)";
			return false;
		}
		if (len > PROGRAM_NAME_MAX) {
			err->why = "longer than 255 bytes";
			return false;
		}
		for (size_t i = 0; i < len; i++) {
			unsigned char c = (unsigned char)p[i];
			if (c == '/') {
				err->why = "a base name has no '/' (give \"curl\", not \"/usr/bin/curl\")";
				return false;
			}
			if (c <= ' ' || c == 0x7f) {
				err->why = "blank or control character";
				return false;
			}
		}
		if (!p[len])
			return true;
		p += len + 1;
	}
}

bool tw_parse_program_list(const char *s)
{
	struct tw_parse_error err = { 0 };
	return tw_parse_program_list_err(s, &err);
}

static bool list_has(const char *list, const char *name)
{
	size_t n = strlen(name);
	for (const char *p = list; p && *p;) {
		size_t len = strcspn(p, ",");
		if (len == n && memcmp(p, name, n) == 0)
			return true;
		p += len;
		if (*p == ',')
			p++;
	}
	return false;
}

bool tw_policy_selects_program(const struct tw_policy *p, const char *name)
{
	if (!name)
		name = "";
	if (p->skip_programs && list_has(p->skip_programs, name))
		return false;
	return !p->only_programs || list_has(p->only_programs, name);
}

/* Advice for settings that parse but cannot have an effect.  Kept to
 * the no-op cases; only when the variables involved were themselves valid,
 * so that a bad value yields its one error line and nothing else. */
static void advise(struct parse_state *st, const int *r, bool client_forced_off)
{
	const struct tw_policy *p = st->p;
	char val[SHOWN_BUF];

	if (p->disabled || (st->by_log_level && p->log_level < TW_LOG_WARN))
		return;
	if (r[TW_VAR_DRAIN_MS] == 1 && r[TW_VAR_LINGER] >= 0 && !client_forced_off) {
		const char *v = get(st, tw_vars[TW_VAR_DRAIN_MS].name);

		/* Kept so that existing env files stay valid (names never break). */
		diag_add(st->d, TW_LOG_WARN,
			 "%s=\"%s\" has no effect: %s=safe no longer waits in close() "
			 "(the kernel ends the socket once every byte is acknowledged)",
			 tw_vars[TW_VAR_DRAIN_MS].name,
			 show(val, v ? v : "", v ? strlen(v) : 0, TW_DIAG_VALUE_SHOWN),
			 tw_vars[TW_VAR_LINGER].name);
	}
	if (r[TW_VAR_REUSE_PORTS] == 1 && r[TW_VAR_REUSEADDR] >= 0 && r[TW_VAR_REUSEPORT] >= 0 &&
	    !p->reuseaddr && !p->reuseport)
		diag_add(st->d, TW_LOG_WARN, "%s has no effect without %s=1 or %s=1",
			 tw_vars[TW_VAR_REUSE_PORTS].name, tw_vars[TW_VAR_REUSEADDR].name,
			 tw_vars[TW_VAR_REUSEPORT].name);
}

static unsigned policy_parse(struct tw_policy *out, tw_lookup_fn lookup, void *ctx,
			     struct tw_diags *diags, bool by_log_level)
{
	struct parse_state st = { .p = out, .d = diags, .lookup = lookup, .ctx = ctx,
				  .by_log_level = by_log_level };
	int r[TW_VAR_COUNT];
	bool client_forced_off;

	memset(out, 0, sizeof(*out));
	out->drain_ms = TW_DRAIN_MS_DEFAULT;
	out->log_level = TW_LOG_ERROR;
	if (diags)
		diags->n = 0;

	/* Table order: the diagnostics come out in documentation order. */
	for (size_t i = 0; i < TW_VAR_COUNT; i++)
		r[i] = parse_var(&st, &tw_vars[i]);

	/* The narrower choices: see the comment at the top.  After every
	 * variable, so that TWSHIM_DISABLE=0 cannot undo a bad program list. */
	if (r[TW_VAR_ONLY_PROGRAMS] < 0 || r[TW_VAR_SKIP_PROGRAMS] < 0)
		out->disabled = true;
	client_forced_off = r[TW_VAR_MATCH] < 0 || r[TW_VAR_EXCLUDE] < 0;
	if (client_forced_off) {
		out->linger = TW_LINGER_OFF;
		out->linger_seconds = 0;
		out->ports = TW_PORTS_OFF;
		out->port_range.lo = out->port_range.hi = 0;
	}
	if (r[TW_VAR_REUSE_PORTS] < 0) {
		out->reuseaddr = false;
		out->reuseport = false;
	}

	advise(&st, r, client_forced_off);
	return st.bad;
}

unsigned tw_policy_parse(struct tw_policy *out, tw_lookup_fn lookup, void *ctx,
			 struct tw_diags *diags)
{
	return policy_parse(out, lookup, ctx, diags, false);
}

unsigned tw_policy_parse_logged(struct tw_policy *out, tw_lookup_fn lookup, void *ctx,
				struct tw_diags *diags)
{
	return policy_parse(out, lookup, ctx, diags, true);
}

/* ---- names nobody reads ------------------------------------------------ */

#define NAME_CMP_MAX 64

/* Levenshtein distance over at most NAME_CMP_MAX bytes of each; no allocation. */
static unsigned edit_distance(const char *a, size_t la, const char *b, size_t lb)
{
	unsigned row[NAME_CMP_MAX + 1];

	if (la > NAME_CMP_MAX)
		la = NAME_CMP_MAX;
	if (lb > NAME_CMP_MAX)
		lb = NAME_CMP_MAX;
	for (size_t j = 0; j <= lb; j++)
		row[j] = (unsigned)j;
	for (size_t i = 1; i <= la; i++) {
		unsigned diag = row[0];

		row[0] = (unsigned)i;
		for (size_t j = 1; j <= lb; j++) {
			unsigned up = row[j], best = diag + (a[i - 1] != b[j - 1]);

			if (up + 1 < best)
				best = up + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			diag = up;
			row[j] = best;
		}
	}
	return row[lb];
}

static bool in_list(const char *const *list, const char *name, size_t len)
{
	for (; *list; list++)
		if (strlen(*list) == len && strncmp(*list, name, len) == 0)
			return true;
	return false;
}

bool tw_policy_known_name(const char *name, size_t len)
{
	return tw_var_find(name, len) || in_list(tw_command_variables, name, len);
}

/* The closest of the table's names, then the command's; the first wins a tie. */
const char *tw_policy_nearest_name(const char *name, size_t len)
{
	const char *best = tw_vars[0].name;
	unsigned best_d = ~0u;

	for (size_t i = 0; i < TW_VAR_COUNT; i++) {
		unsigned d = edit_distance(name, len, tw_vars[i].name, strlen(tw_vars[i].name));

		if (d < best_d) {
			best_d = d;
			best = tw_vars[i].name;
		}
	}
	for (const char *const *v = tw_command_variables; *v; v++) {
		unsigned d = edit_distance(name, len, *v, strlen(*v));

		if (d < best_d) {
			best_d = d;
			best = *v;
		}
	}
	return best;
}

unsigned tw_policy_unknown_names(char *const *envp, struct tw_diags *d)
{
	unsigned n = 0;
	char shown_name[SHOWN_BUF];

	for (size_t i = 0; envp && envp[i]; i++) {
		const char *e = envp[i];
		size_t len = 0;

		while (e[len] && e[len] != '=')
			len++;
		if (strncmp(e, "TWSHIM_", 7) != 0 || e[len] != '=' || tw_policy_known_name(e, len))
			continue;
		n++;
		diag_add(d, TW_LOG_ERROR, "%s is not a twshim variable, it is ignored (did you mean %s?)",
			 show(shown_name, e, len, TW_DIAG_VALUE_SHOWN), tw_policy_nearest_name(e, len));
	}
	return n;
}

void tw_policy_free(struct tw_policy *p)
{
	if (!p)
		return;
	tw_rules_free(&p->match);
	tw_rules_free(&p->exclude);
	free(p->reuse_ports.v);
	p->reuse_ports.v = NULL;
	p->reuse_ports.n = 0;
	p->has_reuse_ports = false;
	p->has_match = false;
	free(p->log_file);
	p->log_file = NULL;
	free(p->only_programs);
	p->only_programs = NULL;
	free(p->skip_programs);
	p->skip_programs = NULL;
}
