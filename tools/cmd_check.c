/* twshim check — validate TWSHIM_* (environment or env file) with the
 * library's own parser and show the effective policy, the sysctls that
 * matter and the warnings. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "twshim/policy.h"

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
	      "and warnings.  Exit status 0: valid, 2: invalid, 1: FILE unreadable.\n"
	      "\n"
	      "  -q, --quiet   print only errors\n"
	      "  -h, --help    show this help\n", f);
}

static bool read_file(const char *path, char **out, size_t *len)
{
	FILE *f = fopen(path, "re");
	if (!f)
		return false;
	size_t cap = 4096, n = 0;
	char *buf = malloc(cap);
	while (buf) {
		n += fread(buf + n, 1, cap - n, f);
		if (n < cap)
			break;
		if (cap >= (16u << 20)) { /* an env file, not a data set */
			free(buf);
			buf = NULL;
			errno = EFBIG;
			break;
		}
		char *nb = realloc(buf, cap *= 2);
		if (!nb) {
			free(buf);
			buf = NULL;
		}
		buf = nb;
	}
	bool ok = buf && !ferror(f);
	fclose(f);
	if (!ok) {
		free(buf);
		return false;
	}
	*out = buf;
	*len = n;
	return true;
}

static bool is_policy_variable(const char *name, size_t len)
{
	for (const char *const *v = tw_policy_variables; *v; v++)
		if (strlen(*v) == len && !strncmp(*v, name, len))
			return true;
	/* read by the twshim command itself, not by the library */
	return len == 14 && !strncmp(name, "TWSHIM_LIBRARY", 14);
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

/* What the library will do, in words, for one variable. */
static void describe(const char *name, const struct tw_policy *p, unsigned eph_hi, bool range_ok,
		     char *buf, size_t len)
{
	buf[0] = '\0';
	if (!strcmp(name, "TWSHIM_DISABLE")) {
		snprintf(buf, len, "%s", p->disabled ? "library loads and does nothing" : "enabled");
	} else if (!strcmp(name, "TWSHIM_LINGER")) {
		switch (p->linger) {
		case TW_LINGER_OFF: snprintf(buf, len, "normal close (the closing side keeps TIME_WAIT)"); break;
		case TW_LINGER_SAFE: snprintf(buf, len, "RST once all sent data is acknowledged (wait up to %u ms), else normal close", p->drain_ms); break;
		case TW_LINGER_ABORT: snprintf(buf, len, "SO_LINGER {1,0} at connect: RST at close, unsent data discarded"); break;
		case TW_LINGER_TIMEOUT: snprintf(buf, len, "SO_LINGER {1,%u} at connect: close waits up to %u s for unsent data", p->linger_seconds, p->linger_seconds); break;
		}
	} else if (!strcmp(name, "TWSHIM_DRAIN_MS")) {
		snprintf(buf, len, "%u ms%s", p->drain_ms, p->linger == TW_LINGER_SAFE ? "" : " (used only with TWSHIM_LINGER=safe)");
	} else if (!strcmp(name, "TWSHIM_PORTS")) {
		if (p->ports == TW_PORTS_OFF)
			snprintf(buf, len, "off: the kernel chooses source ports");
		else if (p->ports == TW_PORTS_ABOVE && range_ok && eph_hi < 65535)
			snprintf(buf, len, "client source ports %u-65535 (above ip_local_port_range)", eph_hi + 1);
		else if (p->ports == TW_PORTS_ABOVE)
			snprintf(buf, len, "above ip_local_port_range (resolved when the library loads)");
		else
			snprintf(buf, len, "client source ports %u-%u", p->port_range.lo, p->port_range.hi);
	} else if (!strcmp(name, "TWSHIM_REUSEADDR")) {
		snprintf(buf, len, "%s", p->reuseaddr ? "SO_REUSEADDR before bind() to a non-zero port" : "off");
	} else if (!strcmp(name, "TWSHIM_REUSEPORT")) {
		snprintf(buf, len, "%s", p->reuseport ? "SO_REUSEPORT before bind() to a non-zero port" : "off");
	} else if (!strcmp(name, "TWSHIM_REUSE_PORTS")) {
		if (p->has_reuse_ports)
			snprintf(buf, len, "reuse options only for binds to %zu listed port range(s)", p->reuse_ports.n);
		else
			snprintf(buf, len, "reuse options for binds to any non-zero port");
	} else if (!strcmp(name, "TWSHIM_MATCH")) {
		if (p->has_match)
			snprintf(buf, len, "client actions only for %zu rule(s)", p->match.n);
		else
			snprintf(buf, len, "client actions for every destination");
	} else if (!strcmp(name, "TWSHIM_EXCLUDE")) {
		snprintf(buf, len, "%zu rule(s) excluded", p->exclude.n);
	} else if (!strcmp(name, "TWSHIM_LOG")) {
		static const char *const lv[] = { "error", "warn", "info", "debug" };
		snprintf(buf, len, "%s", p->log_level <= TW_LOG_DEBUG ? lv[p->log_level] : "?");
	} else if (!strcmp(name, "TWSHIM_LOG_FILE")) {
		snprintf(buf, len, "%s", p->log_file ? p->log_file : "stderr");
	}
}

static void print_sysctl(const char *name, const char *label)
{
	char buf[256];
	if (!tw_sysctl_read(name, buf, sizeof(buf)))
		snprintf(buf, sizeof(buf), "(unavailable)");
	else if (!buf[0])
		snprintf(buf, sizeof(buf), "(empty)");
	for (char *t = strchr(buf, '\t'); t; t = strchr(t, '\t'))
		*t = ' ';
	if (!buf[0])
		snprintf(buf, sizeof(buf), "(empty)");
	else if (strlen(buf) > 60)
		strcpy(buf + 57, "...");
	printf("  %-34s %s\n", label, buf);
}

static unsigned warnings;

static void warn(const char *text)
{
	printf("  warning: %s\n", text);
	warnings++;
}

static void policy_warnings(const struct tw_policy *p, const struct tw_env *env, bool quiet)
{
	unsigned lo = 0, hi = 0;
	long ts = 1;
	bool range_ok = tw_sysctl_port_range(&lo, &hi);
	bool ts_ok = tw_sysctl_int("net/ipv4/tcp_timestamps", &ts);
	struct tw_portset *reserved = calloc(1, sizeof(*reserved));
	char buf[512];
	bool any = false;

	for (const char *const *v = tw_policy_variables; *v && !any; v++)
		any = tw_env_get(env, *v) != NULL;
	if (quiet)
		goto out;
	printf("warnings:\n");
	if (!any)
		warn("no TWSHIM_* variable is set: the library would change nothing");
	if (p->disabled && any)
		warn("TWSHIM_DISABLE=1: every other variable is ignored");

	unsigned plo = 0, phi = 0;
	bool pinned = p->ports != TW_PORTS_OFF;
	if (p->ports == TW_PORTS_RANGE) {
		plo = p->port_range.lo;
		phi = p->port_range.hi;
	} else if (p->ports == TW_PORTS_ABOVE && range_ok) {
		if (hi >= 65535) {
			warn("TWSHIM_PORTS=above, but ip_local_port_range ends at 65535: no port is left above it, pinning is off");
			pinned = false;
		}
		plo = hi + 1;
		phi = 65535;
	}
	if (p->ports == TW_PORTS_RANGE && range_ok && plo <= hi && phi >= lo) {
		snprintf(buf, sizeof(buf), "TWSHIM_PORTS=%u-%u overlaps ip_local_port_range %u-%u: pinned "
			 "sockets compete with the kernel's own port choices; use ports above %u "
			 "(TWSHIM_PORTS=above)", plo, phi, lo, hi, hi);
		warn(buf);
	}
	if (pinned && plo && reserved && tw_sysctl_reserved(reserved)) {
		unsigned n = tw_portset_count(reserved, plo, phi);
		if (n) {
			snprintf(buf, sizeof(buf), "%u port(s) of the pinned range %u-%u are in "
				 "ip_local_reserved_ports: pinning skips them", n, plo, phi);
			warn(buf);
		}
	}
	if (pinned && ts_ok && ts == 0)
		warn("net.ipv4.tcp_timestamps=0 makes pinning weaker: a pinned port cannot reuse its own "
		     "TIME_WAIT toward the same destination, so connect() can fail with EADDRNOTAVAIL "
		     "until it expires");
	if (p->reuseport)
		warn("TWSHIM_REUSEPORT=1: any process of the same user can bind the same port and silently "
		     "take a share of its connections (a mistaken second copy too)");
	if (p->linger == TW_LINGER_ABORT)
		warn("TWSHIM_LINGER=0 ends every connection with RST and discards data not yet sent; "
		     "the peer reads ECONNRESET; TWSHIM_LINGER=safe loses nothing");
	if (warnings == 0)
		printf("  (none)\n");
out:
	free(reserved);
}

static int list_variables(void)
{
	for (const char *const *v = tw_policy_variables; *v; v++)
		printf("%s\n", *v);
	return TW_EXIT_OK;
}

int tw_cmd_check(int argc, char **argv)
{
	enum { O_LIST = 256 };
	static const struct option longopts[] = {
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ "list-variables", no_argument, NULL, O_LIST }, /* for the doc consistency test */
		{ NULL, 0, NULL, 0 },
	};
	bool quiet = false;
	int c;

	opterr = 0;
	while ((c = getopt_long(argc, argv, "+qh", longopts, NULL)) != -1) {
		switch (c) {
		case 'q': quiet = true; break;
		case 'h': usage(stdout); return TW_EXIT_OK;
		case O_LIST: return list_variables();
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
	struct tw_envfile_issues issues = { 0 };
	if (!tw_env_init(&env, file ? NULL : environ)) {
		tw_error("check", "out of memory");
		return TW_EXIT_FAIL;
	}
	if (file) {
		char *text;
		size_t len;
		if (!read_file(file, &text, &len)) {
			tw_error("check", "%s: %s", file, strerror(errno));
			tw_env_free(&env);
			return TW_EXIT_FAIL;
		}
		bool ok = tw_envfile_parse(text, len, &env, &issues);
		free(text);
		if (!ok) {
			tw_error("check", "out of memory");
			tw_env_free(&env);
			return TW_EXIT_FAIL;
		}
		for (unsigned i = 0; i < issues.n; i++)
			if (issues.v[i].error)
				tw_error("check", "%s:%u: %s", file, issues.v[i].line, issues.v[i].text);
	}

	struct tw_policy policy;
	struct tw_diags diags = { 0 };
	unsigned bad = tw_policy_parse(&policy, tw_env_lookup, &env, &diags);
	unsigned errors = 0;
	for (unsigned i = 0; i < diags.n; i++)
		if (diags.v[i].level == TW_LOG_ERROR) {
			tw_error("check", "%s", diags.v[i].text);
			errors++;
		}
	if (bad > errors)
		errors = bad;

	if (!quiet) {
		unsigned lo = 0, hi = 0;
		bool range_ok = tw_sysctl_port_range(&lo, &hi);
		printf("policy (%s%s):\n", file ? "from " : "from the environment", file ? file : "");
		for (const char *const *v = tw_policy_variables; *v; v++) {
			char what[256];
			const char *raw = tw_env_get(&env, *v);
			describe(*v, &policy, hi, range_ok, what, sizeof(what));
			printf("  %-20s %-22s %s\n", *v, shown(raw), what);
		}
		for (size_t i = 0; i < env.n; i++) {
			const char *e = env.v[i];
			size_t nl = strcspn(e, "=");
			if (!strncmp(e, "TWSHIM_", 7) && !is_policy_variable(e, nl))
				printf("  %-20.*s unknown variable: the library ignores it (a typo?)\n", (int)nl, e);
		}
		if (!file) {
			const char *pre = getenv("LD_PRELOAD");
			printf("  %-20s %s\n", "LD_PRELOAD",
			       pre && strstr(pre, "libtwshim.so") ? "contains libtwshim.so" :
			       "does not contain libtwshim.so (use `twshim run` or set it)");
		}
		printf("sysctls (this network namespace):\n");
		print_sysctl("net/ipv4/ip_local_port_range", "net.ipv4.ip_local_port_range");
		print_sysctl("net/ipv4/ip_local_reserved_ports", "net.ipv4.ip_local_reserved_ports");
		print_sysctl("net/ipv4/tcp_tw_reuse", "net.ipv4.tcp_tw_reuse");
		print_sysctl("net/ipv4/tcp_timestamps", "net.ipv4.tcp_timestamps");
		print_sysctl("net/ipv4/tcp_fin_timeout", "net.ipv4.tcp_fin_timeout");
	}
	policy_warnings(&policy, &env, quiet);
	if (!quiet) {
		for (unsigned i = 0; i < diags.n; i++)
			if (diags.v[i].level != TW_LOG_ERROR)
				printf("  note: %s\n", diags.v[i].text);
		for (unsigned i = 0; i < issues.n; i++)
			if (!issues.v[i].error)
				printf("  %s:%u: %s\n", file, issues.v[i].line, issues.v[i].text);
		printf("%s\n", errors || issues.errors ? "result: INVALID" : "result: valid");
	}

	tw_policy_free(&policy);
	tw_env_free(&env);
	return errors || issues.errors ? TW_EXIT_INVALID : TW_EXIT_OK;
}
