/* twshim — unit tests: hostile values for every variable, table-driven.
 *
 * Each row sets one variable (plus, where needed, the variables whose
 * effect the bad one must switch off) to a value that must be rejected.
 * Every row must give: exactly one error line, naming the variable,
 * printable and bounded however long or strange the value; the feature
 * off (or narrowed, as policy.c documents); no crash, no leak (the ASan
 * and valgrind runs of this test check those).
 *
 * Also here: thousands of rules, and a replay of the fuzzers' seed corpus
 * and regression inputs (fuzz/corpus, fuzz/regressions) through the same
 * property checks the fuzzers run, so a crashing input found once stays a
 * test in every build, with gcc too. */
#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../fuzz/harness.h"
#include "check_main.h"
#include "twshim/policy.h"
#include "twshim/vars.h"

#define BIG (100 * 1024)

/* ---- a fake environment ------------------------------------------------- */

struct env {
	const char *name[4];
	const char *value[4];
	unsigned n;
};

static const char *env_lookup(const char *name, void *ctx)
{
	const struct env *e = ctx;
	for (unsigned i = 0; i < e->n; i++)
		if (strcmp(e->name[i], name) == 0)
			return e->value[i];
	return NULL;
}

/* ---- the values --------------------------------------------------------- */

/* Bad for every variable: no list, number, keyword or absolute path. */
static const char *const hostile_any[] = {
	"",
	" ",
	"-1",
	"+1",
	"-0",
	"99999999999999999999999999",
	"18446744073709551616",
	"4294967296x",
	"1x",
	"0x10",
	"1e3",
	"junk!@#$%^&*()",
	"\t\r\x01\x7f\xff\xfe",
	"\xc3\xa9",
	",",
	"1,",
	",1",
	"[",
	"[::1",
	"::1]",
	"1.2.3.256",
	":::",
	"*",
	"*:",
	"fe80::1%eth0",
	"1.2.3.4/33",
	"::/129",
	"1.2.3.4:0",
	"[::1]:70000",
	"10.0.0.0/8:80-70",
	"@BIG_A",     /* 100 KB of 'A' */
	"@BIG_9",     /* 100 KB of '9' */
	"@BIG_LIST",  /* 100 KB of "x," */
};

/* Bad for one variable only. */
struct row {
	const char *var;
	const char *value;
};

static const struct row hostile_one[] = {
	{ "TWSHIM_LINGER", "3601" },
	{ "TWSHIM_LINGER", "00000000000000000000003601" },
	{ "TWSHIM_LINGER", "SAFE" },
	{ "TWSHIM_LINGER", "off " },
	{ "TWSHIM_LINGER", "0.5" },
	{ "TWSHIM_DRAIN_MS", "60001" },
	{ "TWSHIM_DRAIN_MS", "1.5" },
	{ "TWSHIM_PORTS", "0-1" },
	{ "TWSHIM_PORTS", "1-65536" },
	{ "TWSHIM_PORTS", "65535-1" },
	{ "TWSHIM_PORTS", "ABOVE" },
	{ "TWSHIM_PORTS", "1-" },
	{ "TWSHIM_PORTS", "-65535" },
	{ "TWSHIM_PORTS", "1-2-3" },
	{ "TWSHIM_PORTS", "100 - 200" },
	{ "TWSHIM_REUSEADDR", "2" },
	{ "TWSHIM_REUSEADDR", "true" },
	{ "TWSHIM_REUSEPORT", "yes" },
	{ "TWSHIM_REUSEPORT", "01" },
	{ "TWSHIM_ONLY_PROGRAMS", "/usr/bin/curl" },
	{ "TWSHIM_ONLY_PROGRAMS", "probe," },
	{ "TWSHIM_SKIP_PROGRAMS", "curl wget" },
	{ "TWSHIM_SKIP_PROGRAMS", "curl,,wget" },
	{ "TWSHIM_REUSE_PORTS", "0" },
	{ "TWSHIM_REUSE_PORTS", "65536" },
	{ "TWSHIM_REUSE_PORTS", "9000-8000" },
	{ "TWSHIM_REUSE_PORTS", "80,,81" },
	{ "TWSHIM_MATCH", "[::1]:" },
	{ "TWSHIM_MATCH", "[::1]:0" },
	{ "TWSHIM_MATCH", "[2001:db8::/32]:1-" },
	{ "TWSHIM_MATCH", "2001:db8::/" },
	{ "TWSHIM_MATCH", "/24" },
	{ "TWSHIM_MATCH", "10.0.0.0/" },
	{ "TWSHIM_MATCH", "10.0.0.0/8/8" },
	{ "TWSHIM_MATCH", "1:2:3:4:5:6:7:8:9/64" },
	{ "TWSHIM_MATCH", "::ffff:300.1.1.1" },
	{ "TWSHIM_MATCH", "[fe80::1%lo]:80" },
	{ "TWSHIM_MATCH", "*:65536" },
	{ "TWSHIM_MATCH", "*:1-0" },
	{ "TWSHIM_MATCH", "1.2.3" },
	{ "TWSHIM_EXCLUDE", "[::ffff:1.2.3.4/129]" },
	{ "TWSHIM_EXCLUDE", "[[::1]]:80" },
	{ "TWSHIM_EXCLUDE", "::1/-1" },
	{ "TWSHIM_LOG", "DEBUG" },
	{ "TWSHIM_LOG", "verbose" },
	{ "TWSHIM_LOG", "3" },
	{ "TWSHIM_LOG_FILE", "relative/path" },
	{ "TWSHIM_LOG_FILE", "./x" },
	{ "TWSHIM_LOG_FILE", "~/x" },
	{ "TWSHIM_STATS_SIGNAL", "TERM" },
	{ "TWSHIM_STATS_SIGNAL", "usr1" },
	{ "TWSHIM_STATS_SIGNAL", "10" },
	{ "TWSHIM_DISABLE", "2" },
	{ "TWSHIM_DISABLE", "yes" },
};

static char *big_value(const char *tag)
{
	char *s = malloc(BIG + 1);
	ck_assert_ptr_nonnull(s);
	for (size_t i = 0; i < BIG; i++) {
		if (strcmp(tag, "@BIG_A") == 0)
			s[i] = 'A';
		else if (strcmp(tag, "@BIG_9") == 0)
			s[i] = '9';
		else
			s[i] = i % 2 ? ',' : 'x';
	}
	s[BIG] = '\0';
	return s;
}

/* ---- one row ------------------------------------------------------------ */

/* The variables that make the bad one's effect visible: a bad scope must
 * switch linger and pinning off, a bad reuse port list reuse on bind. */
static void add_companions(struct env *e, const char *var)
{
	if (strcmp(var, "TWSHIM_MATCH") == 0 || strcmp(var, "TWSHIM_EXCLUDE") == 0) {
		e->name[e->n] = "TWSHIM_LINGER";
		e->value[e->n++] = "safe";
		e->name[e->n] = "TWSHIM_PORTS";
		e->value[e->n++] = "61000-65535";
	} else if (strcmp(var, "TWSHIM_REUSE_PORTS") == 0) {
		e->name[e->n] = "TWSHIM_REUSEADDR";
		e->value[e->n++] = "1";
		e->name[e->n] = "TWSHIM_REUSEPORT";
		e->value[e->n++] = "1";
	}
}

static bool is_program_list(const char *var);

/* The feature the variable controls is off (or narrowed). */
static void assert_feature_off(const struct tw_policy *p, const char *var, const char *what)
{
	if (strcmp(var, "TWSHIM_LINGER") == 0)
		ck_assert_msg(p->linger == TW_LINGER_OFF, "%s: linger on", what);
	else if (strcmp(var, "TWSHIM_DRAIN_MS") == 0)
		ck_assert_msg(p->drain_ms == TW_DRAIN_MS_DEFAULT, "%s: drain %u", what, p->drain_ms);
	else if (strcmp(var, "TWSHIM_PORTS") == 0)
		ck_assert_msg(p->ports == TW_PORTS_OFF, "%s: pinning on", what);
	else if (strcmp(var, "TWSHIM_REUSEADDR") == 0)
		ck_assert_msg(!p->reuseaddr, "%s: reuseaddr on", what);
	else if (strcmp(var, "TWSHIM_REUSEPORT") == 0)
		ck_assert_msg(!p->reuseport, "%s: reuseport on", what);
	else if (strcmp(var, "TWSHIM_REUSE_PORTS") == 0)
		ck_assert_msg(!p->reuseaddr && !p->reuseport && p->reuse_ports.n == 0,
			      "%s: reuse on bind still on", what);
	else if (strcmp(var, "TWSHIM_MATCH") == 0 || strcmp(var, "TWSHIM_EXCLUDE") == 0)
		ck_assert_msg(p->linger == TW_LINGER_OFF && p->ports == TW_PORTS_OFF &&
				      !tw_policy_has_client_actions(p),
			      "%s: client actions still on", what);
	else if (strcmp(var, "TWSHIM_LOG") == 0)
		ck_assert_msg(p->log_level == TW_LOG_ERROR, "%s: log level changed", what);
	else if (strcmp(var, "TWSHIM_LOG_FILE") == 0)
		ck_assert_msg(p->log_file == NULL, "%s: log file kept", what);
	else if (strcmp(var, "TWSHIM_STATS_SIGNAL") == 0)
		ck_assert_msg(p->stats_signal == 0, "%s: stats signal set", what);
	else if (strcmp(var, "TWSHIM_DISABLE") == 0)
		ck_assert_msg(p->disabled, "%s: a touched kill switch must disable", what);
	else if (is_program_list(var))
		ck_assert_msg(p->disabled, "%s: a program list that cannot be honoured must disable",
			      what);
	else
		ck_abort_msg("no check for %s", var);
}

static void check_row(const char *var, const char *value)
{
	char *big = value[0] == '@' ? big_value(value) : NULL;
	struct env e = { .n = 0 };
	e.name[e.n] = var;
	e.value[e.n++] = big ? big : value;
	add_companions(&e, var);

	char what[160];
	snprintf(what, sizeof(what), "%s=\"%.40s\"%s", var, value, big ? " (100 KB)" : "");

	static struct tw_diags d;
	memset(&d, 0, sizeof(d));
	struct tw_policy p;
	unsigned bad = tw_policy_parse(&p, env_lookup, &e, &d);
	ck_assert_msg(bad == 1, "%s: %u malformed variables reported, want 1", what, bad);

	unsigned errors = 0;
	char prefix[64];
	snprintf(prefix, sizeof(prefix), "%s=", var);
	for (unsigned i = 0; i < d.n; i++) {
		const char *t = d.v[i].text;
		size_t len = strnlen(t, TW_DIAG_TEXT_MAX);
		ck_assert_msg(len < TW_DIAG_TEXT_MAX, "%s: diagnostic not terminated", what);
		for (size_t k = 0; k < len; k++)
			ck_assert_msg((unsigned char)t[k] >= 0x20 && (unsigned char)t[k] < 0x7f,
				      "%s: byte 0x%02x at %zu of the diagnostic", what,
				      (unsigned char)t[k], k);
		if (d.v[i].level == TW_LOG_ERROR) {
			errors++;
			ck_assert_msg(strstr(t, prefix), "%s: the error line does not name %s: %s",
				      what, var, t);
		}
	}
	ck_assert_msg(errors == 1, "%s: %u error lines, want 1", what, errors);
	assert_feature_off(&p, var, what);
	tw_policy_free(&p);
	free(big);
}

/* Rows: every variable x hostile_any, then hostile_one. */
#define N_ANY (sizeof(hostile_any) / sizeof(hostile_any[0]))
#define N_ONE (sizeof(hostile_one) / sizeof(hostile_one[0]))

static size_t n_variables(void)
{
	return TW_VAR_COUNT;
}

/* Program-name lists take almost any bytes: "-1" or "junk!@#" name a
 * program.  Values that are valid names there must be accepted as such. */
static bool is_program_list(const char *var)
{
	return strstr(var, "_PROGRAMS") != NULL;
}

START_TEST(every_variable_hostile_value)
{
	size_t v = (size_t)_i / N_ANY, k = (size_t)_i % N_ANY;
	ck_assert_uint_lt(v, n_variables());
	const char *var = tw_vars[v].name, *value = hostile_any[k];
	if (is_program_list(var) && value[0] != '@' && tw_parse_program_list(value)) {
		struct env e = { .n = 1, .name = { var }, .value = { value } };
		struct tw_policy p;
		ck_assert_uint_eq(tw_policy_parse(&p, env_lookup, &e, NULL), 0);
		tw_policy_free(&p);
		return;
	}
	check_row(var, value);
}
END_TEST

START_TEST(one_variable_hostile_value)
{
	check_row(hostile_one[_i].var, hostile_one[_i].value);
}
END_TEST

/* All variables bad at once: one line each, in one parse. */
static const char *junk_lookup(const char *name, void *ctx)
{
	(void)ctx;
	return strstr(name, "_PROGRAMS") ? "1/x" : "1x";
}

START_TEST(all_variables_bad_together)
{
	static struct tw_diags d;
	memset(&d, 0, sizeof(d));
	struct tw_policy p;
	unsigned bad = tw_policy_parse(&p, junk_lookup, NULL, &d);
	ck_assert_uint_eq(bad, n_variables());
	unsigned errors = 0;
	for (unsigned i = 0; i < d.n; i++)
		errors += d.v[i].level == TW_LOG_ERROR;
	ck_assert_uint_eq(errors, n_variables());
	ck_assert(p.disabled);
	tw_policy_free(&p);
}
END_TEST

/* ---- thousands of rules ------------------------------------------------- */

static char *many_rules(size_t n, const char *last)
{
	size_t cap = n * 40 + 64, off = 0;
	char *s = malloc(cap);
	ck_assert_ptr_nonnull(s);
	for (size_t i = 0; i < n; i++) {
		int w = i % 2 ? snprintf(s + off, cap - off, "10.%zu.%zu.0/24:%zu-%zu,", i / 256 % 256,
					 i % 256, i % 60000 + 1, i % 60000 + 2)
			      : snprintf(s + off, cap - off, "[2001:db8:%zx::/48]:%zu,", i, i % 65535 + 1);
		off += (size_t)w;
	}
	snprintf(s + off, cap - off, "%s", last);
	return s;
}

START_TEST(thousands_of_rules_parse)
{
	char *list = many_rules(5000, "*:443");
	struct tw_rules r = { NULL, 0 };
	ck_assert(tw_parse_rules(list, &r));
	ck_assert_uint_eq(r.n, 5001);
	tw_rules_free(&r);
	free(list);
}
END_TEST

START_TEST(thousands_of_rules_last_bad)
{
	char *list = many_rules(5000, "[::1]:0");
	struct env e = { .n = 0 };
	e.name[e.n] = "TWSHIM_MATCH";
	e.value[e.n++] = list;
	add_companions(&e, "TWSHIM_MATCH");
	static struct tw_diags d;
	memset(&d, 0, sizeof(d));
	struct tw_policy p;
	ck_assert_uint_eq(tw_policy_parse(&p, env_lookup, &e, &d), 1);
	unsigned errors = 0;
	for (unsigned i = 0; i < d.n; i++) {
		if (d.v[i].level != TW_LOG_ERROR)
			continue;
		errors++;
		/* The line points at the bad item, far past what it can show. */
		ck_assert_msg(strstr(d.v[i].text, "5001"), "item number missing: %s", d.v[i].text);
	}
	ck_assert_uint_eq(errors, 1);
	assert_feature_off(&p, "TWSHIM_MATCH", "5001 rules, last bad");
	tw_policy_free(&p);
	free(list);
}
END_TEST

/* ---- fuzz corpus and regressions ---------------------------------------- */

/* The source tree's fuzz/ directory: __FILE__ is absolute, or relative to
 * the build directory (three levels above this executable). */
static void fuzz_dir(char *out, size_t len)
{
	static const char suffix[] = "tests/unit/test_badinput.c";
	const char *f = __FILE__;
	size_t flen = strlen(f), slen = sizeof(suffix) - 1;
	ck_assert(flen >= slen && strcmp(f + flen - slen, suffix) == 0);
	int prefix_len = (int)(flen - slen);
	if (f[0] == '/') {
		snprintf(out, len, "%.*sfuzz", prefix_len, f);
		return;
	}
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	ck_assert(n > 0);
	exe[n] = '\0';
	for (int up = 0; up < 3; up++) {
		char *slash = strrchr(exe, '/');
		ck_assert_ptr_nonnull(slash);
		*slash = '\0';
	}
	int w = snprintf(out, len, "%s/%.*sfuzz", exe, prefix_len, f);
	ck_assert(w > 0 && (size_t)w < len);
}

static unsigned replay_dir(const char *dir, void (*fn)(const uint8_t *, size_t))
{
	DIR *d = opendir(dir);
	ck_assert_msg(d != NULL, "cannot open %s", dir);
	unsigned n = 0;
	const struct dirent *de;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		char path[PATH_MAX + 256];
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		FILE *f = fopen(path, "rb");
		ck_assert_msg(f != NULL, "cannot open %s", path);
		static uint8_t buf[1 << 20];
		size_t len = fread(buf, 1, sizeof(buf), f);
		fclose(f);
		fn(buf, len);
		n++;
	}
	closedir(d);
	return n;
}

static void replay(const char *target, void (*fn)(const uint8_t *, size_t))
{
	char base[2 * PATH_MAX], dir[2 * PATH_MAX + 64];
	fuzz_dir(base, sizeof(base));
	snprintf(dir, sizeof(dir), "%s/corpus/%s", base, target);
	unsigned corpus = replay_dir(dir, fn);
	snprintf(dir, sizeof(dir), "%s/regressions/%s", base, target);
	unsigned regress = replay_dir(dir, fn);
	ck_assert_msg(corpus > 0 && regress > 0, "%s: %u corpus and %u regression inputs", target,
		      corpus, regress);
}

START_TEST(fuzz_inputs_env)
{
	replay("env", tw_fuzz_env);
}
END_TEST

START_TEST(fuzz_inputs_rules)
{
	replay("rules", tw_fuzz_rules);
}
END_TEST

Suite *tw_unit_suite(void)
{
	Suite *s = suite_create("badinput");
	TCase *tc = tcase_create("table");
	tcase_add_loop_test(tc, every_variable_hostile_value, 0, (int)(n_variables() * N_ANY));
	tcase_add_loop_test(tc, one_variable_hostile_value, 0, (int)N_ONE);
	tcase_add_test(tc, all_variables_bad_together);
	tcase_set_timeout(tc, 60);
	suite_add_tcase(s, tc);

	tc = tcase_create("rules");
	tcase_add_test(tc, thousands_of_rules_parse);
	tcase_add_test(tc, thousands_of_rules_last_bad);
	tcase_set_timeout(tc, 60);
	suite_add_tcase(s, tc);

	tc = tcase_create("fuzz");
	tcase_add_test(tc, fuzz_inputs_env);
	tcase_add_test(tc, fuzz_inputs_rules);
	tcase_set_timeout(tc, 120);
	suite_add_tcase(s, tc);
	return s;
}
