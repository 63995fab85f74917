/* twshim check — validate TWSHIM_* (environment or env file) with the
 * library's own parser and show the effective policy, the sysctls that
 * matter and the warnings. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "twshim/policy.h"
#include "twshim/vars.h"

#include "elfinfo.h"
#include "env.h"
#include "sysctl.h"
#include "tools.h"

extern char **environ;

static void usage(FILE *f)
{
	fputs("Usage: twshim check [OPTIONS] [FILE]\n"
	      "\n"
	      "Validate the TWSHIM_* variables of the environment, or of FILE (KEY=VALUE\n"
	      "lines, as read by systemd EnvironmentFile= and docker --env-file), with the\n"
	      "library's own parser; print the effective policy, the sysctls that matter\n"
	      "with advice, and warnings.  Errors: invalid values, unknown TWSHIM_* names,\n"
	      "CR line ends and quotes docker would keep, an LD_PRELOAD entry that is\n"
	      "missing or not libtwshim.so.  Exit status 0: valid, 2: invalid, 1: FILE\n"
	      "unreadable.\n"
	      "\n"
	      "  -q, --quiet   print only errors\n"
	      "      --json    one JSON object (policy, sysctls, errors, warnings, advice)\n"
	      "  -h, --help    show this help\n", f);
}

static const char *shown(const char *v)
{
	static char buf[80];
	if (!v)
		return "(unset)";
	if (strlen(v) <= 60)
		return v;
	snprintf(buf, sizeof(buf), "%.57s...", v);
	return buf;
}

/* What the library will do, in words, for one variable: its table entry
 * says (twshim/vars.h). */
static void describe(const struct tw_var *v, const struct tw_policy *p, unsigned eph_hi,
		     bool range_ok, char *buf, size_t len)
{
	const struct tw_var_context c = { .range_ok = range_ok, .eph_hi = eph_hi };

	buf[0] = '\0';
	v->describe(p, &c, buf, len);
}

/* Everything check finds, collected first, then printed as text or JSON. */
#define MSG_MAX 64

struct msgs {
	unsigned n;
	char *v[MSG_MAX];
};

struct report {
	struct msgs errors, warnings, advice;
	unsigned n_errors; /* may exceed what is kept */
};

static void add(struct msgs *m, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void add(struct msgs *m, const char *fmt, ...)
{
	va_list ap;
	char *s = NULL;

	if (m->n >= MSG_MAX)
		return;
	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) >= 0)
		m->v[m->n++] = s;
	va_end(ap);
}

static void error(struct report *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* An error: "twshim: check: ..." on stderr at once, and kept for the report. */
static void error(struct report *r, const char *fmt, ...)
{
	va_list ap;
	char *s = NULL;

	r->n_errors++;
	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) >= 0) {
		tw_error("check", "%s", s);
		if (r->errors.n < MSG_MAX)
			r->errors.v[r->errors.n++] = s;
		else
			free(s);
	}
	va_end(ap);
}

static void msgs_free(struct msgs *m)
{
	for (unsigned i = 0; i < m->n; i++)
		free(m->v[i]);
	m->n = 0;
}

/* The sysctls shown, in order. */
static const char *const sysctls[] = {
	"net/ipv4/ip_local_port_range", "net/ipv4/ip_local_reserved_ports", "net/ipv4/tcp_tw_reuse",
	"net/ipv4/tcp_tw_reuse_delay",  "net/ipv4/tcp_timestamps",         "net/ipv4/tcp_max_tw_buckets",
	"net/ipv4/tcp_fin_timeout",     NULL,
};

static void sysctl_value(const char *name, char *buf, size_t len)
{
	if (!tw_sysctl_read(name, buf, len)) {
		snprintf(buf, len, "(unavailable)");
		return;
	}
	for (char *t = strchr(buf, '\t'); t; t = strchr(t, '\t'))
		*t = ' ';
	if (!buf[0])
		snprintf(buf, len, "(empty)");
	else if (strlen(buf) > 60 && len > 60)
		strcpy(buf + 57, "...");
}

static void dotted(const char *name, char *buf, size_t len)
{
	snprintf(buf, len, "%s", name);
	for (char *c = buf; *c; c++)
		if (*c == '/')
			*c = '.';
}

/* Kernel 6.x: what the TIME_WAIT sysctls do, one line each with the
 * current value and what to do about it. */
static void sysctl_advice(struct report *r)
{
	long v;

	if (tw_sysctl_int("net/ipv4/tcp_tw_reuse", &v))
		add(&r->advice, "net.ipv4.tcp_tw_reuse=%ld: %s; 1 helps a client that reconnects to the "
		    "same destinations (with tcp_timestamps=1), never a server; twshim needs none of it", v,
		    v == 0 ? "TIME_WAIT is never reused for a new outgoing connection" :
		    v == 1 ? "outgoing connections may reuse a TIME_WAIT of the same 4-tuple once timestamps prove it safe" :
			     "reuse only for loopback connections (the default)");
	if (tw_sysctl_int("net/ipv4/tcp_tw_reuse_delay", &v))
		add(&r->advice, "net.ipv4.tcp_tw_reuse_delay=%ld: with tcp_tw_reuse, a TIME_WAIT becomes "
		    "reusable after %ld ms; keep the default (1000) unless peers are known to cope", v, v);
	if (tw_sysctl_int("net/ipv4/tcp_max_tw_buckets", &v))
		add(&r->advice, "net.ipv4.tcp_max_tw_buckets=%ld: beyond this many TIME_WAIT sockets the "
		    "kernel drops new ones at once (\"time wait bucket table overflow\"); do not lower it "
		    "to fight TIME_WAIT, remove it at the client (TWSHIM_LINGER=safe)", v);
	if (tw_sysctl_int("net/ipv4/tcp_fin_timeout", &v))
		add(&r->advice, "net.ipv4.tcp_fin_timeout=%ld: bounds FIN_WAIT2 of orphaned sockets only; "
		    "it does not shorten TIME_WAIT (fixed at 60 s), so changing it does not help here", v);
}

static void policy_warnings(struct report *r, const struct tw_policy *p, const struct tw_env *env)
{
	unsigned lo = 0, hi = 0;
	long ts = 1;
	bool range_ok = tw_sysctl_port_range(&lo, &hi);
	bool ts_ok = tw_sysctl_int("net/ipv4/tcp_timestamps", &ts);
	struct tw_portset *reserved = calloc(1, sizeof(*reserved));
	bool any = false;

	for (size_t i = 0; i < TW_VAR_COUNT && !any; i++)
		any = tw_env_get(env, tw_vars[i].name) != NULL;
	if (!any)
		add(&r->warnings, "no TWSHIM_* variable is set: the library would change nothing");
	if (p->disabled && any)
		add(&r->warnings, "TWSHIM_DISABLE=1: every other variable is ignored");

	unsigned plo = 0, phi = 0;
	bool pinned = p->ports != TW_PORTS_OFF;
	if (p->ports == TW_PORTS_RANGE) {
		plo = p->port_range.lo;
		phi = p->port_range.hi;
	} else if (p->ports == TW_PORTS_ABOVE && range_ok) {
		if (hi >= 65535) {
			add(&r->warnings, "TWSHIM_PORTS=above, but ip_local_port_range ends at 65535: no port is left above it, pinning is off");
			pinned = false;
		}
		plo = hi + 1;
		phi = 65535;
	}
	if (p->ports == TW_PORTS_RANGE && range_ok && plo <= hi && phi >= lo)
		add(&r->warnings, "TWSHIM_PORTS=%u-%u overlaps ip_local_port_range %u-%u: pinned "
		    "sockets compete with the kernel's own port choices; use ports above %u "
		    "(TWSHIM_PORTS=above)", plo, phi, lo, hi, hi);
	if (pinned && plo && reserved && tw_sysctl_reserved(reserved)) {
		unsigned n = tw_portset_count(reserved, plo, phi);
		if (n)
			add(&r->warnings, "%u port(s) of the pinned range %u-%u are in "
			    "ip_local_reserved_ports: pinning skips them", n, plo, phi);
	}
	if (pinned && ts_ok && ts == 0)
		add(&r->warnings, "net.ipv4.tcp_timestamps=0 makes pinning weaker: a pinned port cannot reuse its own "
		    "TIME_WAIT toward the same destination, so connect() can fail with EADDRNOTAVAIL "
		    "until it expires");
	if (p->reuseport)
		add(&r->warnings, "TWSHIM_REUSEPORT=1: any process of the same user can bind the same port and silently "
		    "take a share of its connections (a mistaken second copy too)");
	if (p->linger == TW_LINGER_ABORT)
		add(&r->warnings, "TWSHIM_LINGER=0 ends every connection with RST and discards data not yet sent; "
		    "the peer reads ECONNRESET; TWSHIM_LINGER=safe loses nothing");
	free(reserved);
}

/* Each LD_PRELOAD entry must name a file ld.so can load; one that looks
 * like ours must be ours.  Returns whether a usable libtwshim.so is there. */
static bool check_preload(struct report *r, const char *preload)
{
	bool found = false;

	for (const char *p = preload ? preload : ""; *p;) {
		size_t len = strcspn(p, ": \t");
		char entry[PATH_MAX];
		if (len && len < sizeof(entry)) {
			memcpy(entry, p, len);
			entry[len] = '\0';
			const char *base = strrchr(entry, '/');
			base = base ? base + 1 : entry;
			bool ours = !strncmp(base, "libtwshim", 9);
			struct stat st;
			if (!strchr(entry, '/')) {
				if (ours)
					error(r, "LD_PRELOAD entry '%s' is not a path: give the absolute path "
					      "of libtwshim.so", entry);
			} else if (stat(entry, &st) != 0) {
				error(r, "LD_PRELOAD entry %s: %s: the loader skips it%s", entry,
				      strerror(errno), ours ? " and twshim is not in effect" : "");
			} else if (ours) {
				struct tw_elf_info *ei = calloc(1, sizeof(*ei));
				int fd = open(entry, O_RDONLY | O_CLOEXEC);
				bool ok = ei && fd >= 0 && tw_elf_inspect_fd(fd, ei) == TW_ELF_OK &&
					  ei->type == 3 /* ET_DYN */ && ei->defines_connect;
				if (fd >= 0)
					close(fd);
				free(ei);
				if (ok)
					found = true;
				else
					error(r, "LD_PRELOAD entry %s is not libtwshim.so (not a shared "
					      "library that defines connect): twshim is not in effect", entry);
			}
		}
		p += len;
		if (*p)
			p++;
	}
	return found;
}

static void json_str(const char *s)
{
	putchar('"');
	for (; s && *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\')
			printf("\\%c", c);
		else if (c < 0x20)
			printf("\\u%04x", c);
		else
			putchar(c);
	}
	putchar('"');
}

static void json_list(const char *key, const struct msgs *m)
{
	printf(",\"%s\":[", key);
	for (unsigned i = 0; i < m->n; i++) {
		if (i)
			putchar(',');
		json_str(m->v[i]);
	}
	putchar(']');
}

static void print_json(const char *file, const struct tw_env *env, const struct tw_policy *p,
		       const struct report *r, bool valid)
{
	unsigned lo = 0, hi = 0;
	bool range_ok = tw_sysctl_port_range(&lo, &hi);
	char buf[256], name[128];

	printf("{\"valid\":%s,\"source\":", valid ? "true" : "false");
	json_str(file ? file : "environment");
	printf(",\"policy\":{");
	for (size_t i = 0; i < TW_VAR_COUNT; i++) {
		const char *raw = tw_env_get(env, tw_vars[i].name);
		describe(&tw_vars[i], p, hi, range_ok, buf, sizeof(buf));
		printf("%s\"%s\":{\"value\":", i ? "," : "", tw_vars[i].name);
		if (raw)
			json_str(raw);
		else
			printf("null");
		printf(",\"effect\":");
		json_str(buf);
		putchar('}');
	}
	printf("},\"sysctls\":{");
	for (unsigned i = 0; sysctls[i]; i++) {
		sysctl_value(sysctls[i], buf, sizeof(buf));
		dotted(sysctls[i], name, sizeof(name));
		printf("%s\"%s\":", i ? "," : "", name);
		json_str(buf);
	}
	putchar('}');
	json_list("errors", &r->errors);
	json_list("warnings", &r->warnings);
	json_list("advice", &r->advice);
	printf("}\n");
}

static void print_section(const char *title, const struct msgs *m, const char *prefix)
{
	printf("%s:\n", title);
	if (!m->n)
		printf("  (none)\n");
	for (unsigned i = 0; i < m->n; i++)
		printf("  %s%s\n", prefix, m->v[i]);
}

/* For the doc-agreement test (tests/e2e/tool/tool_docs.sh): the table's
 * names, or its names and defaults separated by a tab. */
static int list_variables(bool defaults)
{
	for (size_t i = 0; i < TW_VAR_COUNT; i++)
		printf("%s%s%s\n", tw_vars[i].name, defaults ? "\t" : "",
		       defaults ? tw_vars[i].default_text : "");
	return TW_EXIT_OK;
}

static bool load_file(const char *file, struct tw_env *env, struct report *r)
{
	char *text;
	size_t len;
	struct tw_envfile_issues issues = { 0 };

	if (!tw_read_small_file(file, &text, &len)) {
		tw_error("check", "%s: %s", file, strerror(errno));
		return false;
	}
	bool ok = tw_envfile_parse(text, len, env, &issues);
	free(text);
	if (!ok) {
		tw_error("check", "out of memory");
		return false;
	}
	for (unsigned i = 0; i < issues.n; i++) {
		if (issues.v[i].error)
			error(r, "%s:%u: %s", file, issues.v[i].line, issues.v[i].text);
		else
			add(&r->warnings, "%s:%u: %s", file, issues.v[i].line, issues.v[i].text);
	}
	r->n_errors += issues.errors > issues.n ? issues.errors - issues.n : 0;
	return true;
}

int tw_cmd_check(int argc, char **argv)
{
	enum { O_LIST = 256, O_JSON, O_LIST_DEFAULTS };
	static const struct option longopts[] = {
		{ "quiet", no_argument, NULL, 'q' },
		{ "json", no_argument, NULL, O_JSON },
		{ "help", no_argument, NULL, 'h' },
		{ "list-variables", no_argument, NULL, O_LIST }, /* for the doc consistency test */
		{ "list-defaults", no_argument, NULL, O_LIST_DEFAULTS }, /* likewise */
		{ NULL, 0, NULL, 0 },
	};
	bool quiet = false, json = false;
	int c;

	opterr = 0;
	while ((c = getopt_long(argc, argv, "+qh", longopts, NULL)) != -1) {
		switch (c) {
		case 'q': quiet = true; break;
		case O_JSON: json = true; break;
		case 'h': usage(stdout); return TW_EXIT_OK;
		case O_LIST: return list_variables(false);
		case O_LIST_DEFAULTS: return list_variables(true);
		default:
			tw_error("check", "unknown option '%s' (try `twshim check --help`)", argv[optind - 1]);
			return TW_EXIT_INVALID;
		}
	}
	if (argc - optind > 1) {
		tw_error("check", "at most one FILE");
		return TW_EXIT_INVALID;
	}

	const char *file = optind < argc ? argv[optind] : NULL;
	struct tw_env env;
	struct report r = { 0 };
	if (!tw_env_init(&env, file ? NULL : environ)) {
		tw_error("check", "out of memory");
		return TW_EXIT_FAIL;
	}
	if (file && !load_file(file, &env, &r)) {
		tw_env_free(&env);
		msgs_free(&r.errors);
		msgs_free(&r.warnings);
		return TW_EXIT_FAIL;
	}

	struct tw_policy policy;
	struct tw_diags diags = { 0 };
	unsigned bad = tw_policy_parse(&policy, tw_env_lookup, &env, &diags);
	unsigned parse_errors = 0;
	tw_policy_unknown_names(env.v, &diags);
	for (unsigned i = 0; i < diags.n; i++) {
		if (diags.v[i].level == TW_LOG_ERROR) {
			error(&r, "%s", diags.v[i].text);
			parse_errors++;
		} else {
			add(&r.warnings, "%s", diags.v[i].text);
		}
	}
	if (bad > parse_errors)
		r.n_errors += bad - parse_errors;

	const char *preload = tw_env_get(&env, "LD_PRELOAD");
	bool preloaded = check_preload(&r, preload);
	policy_warnings(&r, &policy, &env);
	sysctl_advice(&r);
	bool valid = r.n_errors == 0;

	if (json) {
		print_json(file, &env, &policy, &r, valid);
	} else if (!quiet) {
		unsigned lo = 0, hi = 0;
		bool range_ok = tw_sysctl_port_range(&lo, &hi);
		char buf[256], name[128];
		printf("policy (%s%s):\n", file ? "from " : "from the environment", file ? file : "");
		for (size_t i = 0; i < TW_VAR_COUNT; i++) {
			const char *raw = tw_env_get(&env, tw_vars[i].name);
			describe(&tw_vars[i], &policy, hi, range_ok, buf, sizeof(buf));
			printf("  %-20s %-22s %s\n", tw_vars[i].name, shown(raw), buf);
		}
		for (size_t i = 0; i < env.n; i++) {
			const char *e = env.v[i];
			size_t nl = strcspn(e, "=");
			if (!strncmp(e, "TWSHIM_", 7) && !tw_policy_known_name(e, nl))
				printf("  %-20.*s unknown variable: the library ignores it (did you mean %s?)\n",
				       (int)nl, e, tw_policy_nearest_name(e, nl));
		}
		if (!file || preload)
			printf("  %-20s %s\n", "LD_PRELOAD",
			       preloaded ? "contains libtwshim.so" :
			       "does not contain libtwshim.so (use `twshim run` or set it)");
		printf("sysctls (this network namespace):\n");
		for (unsigned i = 0; sysctls[i]; i++) {
			sysctl_value(sysctls[i], buf, sizeof(buf));
			dotted(sysctls[i], name, sizeof(name));
			printf("  %-34s %s\n", name, buf);
		}
		tw_reap_print_support();
		print_section("advice", &r.advice, "");
		print_section("errors", &r.errors, "error: ");
		print_section("warnings", &r.warnings, "warning: ");
		printf("%s\n", valid ? "result: valid" : "result: INVALID");
	}

	msgs_free(&r.errors);
	msgs_free(&r.warnings);
	msgs_free(&r.advice);
	tw_policy_free(&policy);
	tw_env_free(&env);
	return valid ? TW_EXIT_OK : TW_EXIT_INVALID;
}
