/* twshim stat — TCP socket counts by state from NETLINK_SOCK_DIAG. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "reap.h"
#include "sockdiag.h"
#include "sysctl.h"
#include "tools.h"

static volatile sig_atomic_t interrupted;

static void on_signal(int sig)
{
	(void)sig;
	interrupted = 1;
}

static void usage(FILE *f)
{
	fputs("Usage: twshim stat [OPTIONS]\n"
	      "\n"
	      "Count the TCP sockets of the current network namespace by state (IPv4 and\n"
	      "IPv6, from the kernel through NETLINK_SOCK_DIAG), split TIME_WAIT by local\n"
	      "port range, show how full the ephemeral range is and list the destinations\n"
	      "holding the most TIME_WAIT.\n"
	      "\n"
	      "  --sport LO-HI      only sockets with a local port in LO-HI\n"
	      "  --dport LO-HI      only sockets with a remote port in LO-HI\n"
	      "  --dst CIDR         only sockets whose remote address is in CIDR\n"
	      "  --state LIST       only sockets in these states (e.g. time-wait,established)\n"
	      "  --match RULES, --exclude RULES, --local-ports LIST\n"
	      "                     only sockets in this `twshim reap` scope\n"
	      "  --top N            destinations to list (default 5, 0 for none)\n"
	      "  --by-dest          ephemeral range use per destination (EADDRNOTAVAIL comes\n"
	      "                     when one destination holds every port of the range)\n"
	      "  --json             one JSON object per sample\n"
	      "  --prom             Prometheus text format (node_exporter textfile collector)\n"
	      "  --watch SECONDS    sample every SECONDS until interrupted\n"
	      "  --count N          with --watch: stop after N samples\n"
	      "  -h, --help         show this help\n", f);
}

struct stat_opts {
	struct tw_stat_filter filter;
	unsigned long top;
	bool json, prom, by_dest;
	unsigned long watch, count;
};

/* "time-wait,established" (or TIME_WAIT) -> one bit per state. */
static bool parse_states(const char *s, unsigned *out)
{
	*out = 0;
	while (*s) {
		size_t len = strcspn(s, ",");
		bool found = false;
		for (unsigned st = 1; st < TW_STATE_MAX && len; st++) {
			const char *name = tw_state_name(st);
			if (!name || strlen(name) != len)
				continue;
			bool same = true;
			for (size_t i = 0; i < len && same; i++) {
				char c = s[i];
				if (c == '-')
					c = '_';
				else if (c >= 'a' && c <= 'z')
					c = (char)(c - 'a' + 'A');
				same = c == name[i];
			}
			if (same) {
				*out |= 1u << st;
				found = true;
			}
		}
		if (!found)
			return false;
		s += len;
		if (*s)
			s++;
	}
	return *out != 0;
}

static int sample(const struct stat_opts *o, struct tw_stat *st, const struct tw_portset *reserved)
{
	memset(st, 0, sizeof(*st));
	st->filter = o->filter;
	st->by_dest = o->by_dest;
	st->reserved = reserved;
	if (!tw_sysctl_port_range(&st->eph_lo, &st->eph_hi)) {
		/* the kernel default, if /proc/sys is not mounted */
		st->eph_lo = 32768;
		st->eph_hi = 60999;
	}
	static const int families[] = { AF_INET, AF_INET6 };
	for (unsigned i = 0; i < 2; i++) {
		int rc = tw_sockdiag_dump(families[i], tw_stat_add, st);
		/* a kernel without IPv6 has no AF_INET6 handler */
		if (rc < 0 && !(families[i] == AF_INET6 && (rc == -ENOENT || rc == -EAFNOSUPPORT))) {
			tw_error("stat", "netlink sock_diag dump (%s): %s",
				 families[i] == AF_INET ? "IPv4" : "IPv6", strerror(-rc));
			return -1;
		}
	}
	if (st->oom) {
		tw_error("stat", "out of memory");
		return -1;
	}
	tw_stat_finish(st);
	return 0;
}

static unsigned eph_size(const struct tw_stat *st)
{
	return st->eph_hi - st->eph_lo + 1;
}

/* "10.0.0.1" / "::1" and the port of one count. */
static void dest_parts(const struct tw_dest_count *d, char *addr, size_t len)
{
	char a[80];
	tw_dest_str(d, a, sizeof(a));
	*strrchr(a, ':') = '\0';
	if (a[0] == '[') {
		a[strlen(a) - 1] = '\0';
		snprintf(addr, len, "%s", a + 1);
	} else {
		snprintf(addr, len, "%s", a);
	}
}

static void print_json_dests(const struct stat_opts *o, const struct tw_dest_count *v, size_t n)
{
	for (size_t i = 0; i < n && i < o->top; i++) {
		char addr[80];
		dest_parts(&v[i], addr, sizeof(addr));
		printf("%s{\"address\":\"%s\",\"port\":%u,\"count\":%lu}", i ? "," : "", addr,
		       v[i].port, v[i].count);
	}
}

/* Prometheus text exposition format 0.0.4: one gauge family per number. */
static void print_prom(const struct stat_opts *o, const struct tw_stat *st)
{
	printf("# HELP twshim_tcp_sockets TCP sockets of the network namespace by state.\n"
	       "# TYPE twshim_tcp_sockets gauge\n");
	for (unsigned s = 1; s < TW_STATE_MAX; s++) {
		const char *name = tw_state_name(s);
		char lower[16];
		size_t i = 0;
		if (!name)
			continue;
		for (; i < sizeof(lower) - 1 && name[i]; i++) /* node_exporter's style: time_wait */
			lower[i] = (char)(name[i] >= 'A' && name[i] <= 'Z' ? name[i] + 32 : name[i]);
		lower[i] = '\0';
		printf("twshim_tcp_sockets{state=\"%s\"} %lu\n", lower, st->states[s]);
	}
	printf("# HELP twshim_time_wait_sockets TIME_WAIT sockets by local port range.\n"
	       "# TYPE twshim_time_wait_sockets gauge\n"
	       "twshim_time_wait_sockets{range=\"ephemeral\"} %lu\n"
	       "twshim_time_wait_sockets{range=\"above\"} %lu\n"
	       "twshim_time_wait_sockets{range=\"reserved\"} %lu\n"
	       "twshim_time_wait_sockets{range=\"other\"} %lu\n",
	       st->tw_ephemeral, st->tw_above, st->tw_reserved, st->tw_other);
	printf("# HELP twshim_ephemeral_ports Size of net.ipv4.ip_local_port_range.\n"
	       "# TYPE twshim_ephemeral_ports gauge\n"
	       "twshim_ephemeral_ports %u\n"
	       "# HELP twshim_ephemeral_ports_used Ports of the ephemeral range held by a TCP socket.\n"
	       "# TYPE twshim_ephemeral_ports_used gauge\n"
	       "twshim_ephemeral_ports_used %lu\n",
	       eph_size(st), st->eph_used);
	if (o->by_dest) {
		printf("# HELP twshim_ephemeral_ports_used_by_destination Sockets with an ephemeral "
		       "local port, per destination.\n"
		       "# TYPE twshim_ephemeral_ports_used_by_destination gauge\n");
		for (size_t i = 0; i < st->eph_dest.n && i < o->top; i++) {
			char addr[80];
			dest_parts(&st->eph_dest.v[i], addr, sizeof(addr));
			printf("twshim_ephemeral_ports_used_by_destination{address=\"%s\",port=\"%u\"} %lu\n",
			       addr, st->eph_dest.v[i].port, st->eph_dest.v[i].count);
		}
	}
}

static void print_json(const struct stat_opts *o, const struct tw_stat *st)
{
	printf("{\"time\":%ld,\"total\":%lu,\"ipv4\":%lu,\"ipv6\":%lu,\"states\":{",
	       (long)time(NULL), st->total, st->ipv4, st->ipv6);
	bool first = true;
	for (unsigned s = 1; s < TW_STATE_MAX; s++) {
		if (!tw_state_name(s))
			continue;
		printf("%s\"%s\":%lu", first ? "" : ",", tw_state_name(s), st->states[s]);
		first = false;
	}
	printf("},\"time_wait\":{\"total\":%lu,\"ephemeral\":%lu,\"above\":%lu,\"reserved\":%lu,"
	       "\"other\":%lu,\"ephemeral_range\":[%u,%u]},\"top_destinations\":[",
	       st->states[6], st->tw_ephemeral, st->tw_above, st->tw_reserved, st->tw_other,
	       st->eph_lo, st->eph_hi);
	print_json_dests(o, st->dest, st->n_dest);
	printf("],\"ephemeral\":{\"range\":[%u,%u],\"size\":%u,\"used\":%lu,\"by_destination\":[",
	       st->eph_lo, st->eph_hi, eph_size(st), st->eph_used);
	print_json_dests(o, st->eph_dest.v, st->eph_dest.n);
	printf("]}}\n");
}

static void print_table(const struct stat_opts *o, const struct tw_stat *st)
{
	printf("TCP sockets: %lu (IPv4 %lu, IPv6 %lu)\n", st->total, st->ipv4, st->ipv6);
	for (unsigned s = 1; s < TW_STATE_MAX; s++)
		if (tw_state_name(s))
			printf("  %-12s %10lu\n", tw_state_name(s), st->states[s]);
	printf("TIME_WAIT by local port:\n");
	printf("  %-26s %10lu\n", "reserved", st->tw_reserved);
	char label[64];
	snprintf(label, sizeof(label), "ephemeral (%u-%u)", st->eph_lo, st->eph_hi);
	printf("  %-26s %10lu\n", label, st->tw_ephemeral);
	if (st->eph_hi < 65535)
		snprintf(label, sizeof(label), "above (%u-65535)", st->eph_hi + 1);
	else
		snprintf(label, sizeof(label), "above (none)");
	printf("  %-26s %10lu\n", label, st->tw_above);
	printf("  %-26s %10lu\n", "other", st->tw_other);
	printf("ephemeral range %u-%u: %lu of %u ports in use (%lu%%)\n", st->eph_lo, st->eph_hi,
	       st->eph_used, eph_size(st), st->eph_used * 100 / eph_size(st));
	if (o->by_dest && o->top) {
		printf("ephemeral ports in use by destination (top %lu; full at %u):\n", o->top,
		       eph_size(st));
		if (!st->eph_dest.n)
			printf("  (none)\n");
		for (size_t i = 0; i < st->eph_dest.n && i < o->top; i++) {
			char a[80];
			tw_dest_str(&st->eph_dest.v[i], a, sizeof(a));
			printf("  %-46s %10lu (%lu%%)\n", a, st->eph_dest.v[i].count,
			       st->eph_dest.v[i].count * 100 / eph_size(st));
		}
	}
	if (o->top) {
		printf("TIME_WAIT by destination (top %lu):\n", o->top);
		if (!st->n_dest)
			printf("  (none)\n");
		for (size_t i = 0; i < st->n_dest && i < o->top; i++) {
			char a[80];
			tw_dest_str(&st->dest[i], a, sizeof(a));
			printf("  %-46s %10lu\n", a, st->dest[i].count);
		}
	}
}

/* scope: a reaper's scope, filled from the options, freed by the caller */
static int stat_main(int argc, char **argv, struct tw_reap_scope *scope_out)
{
	enum { O_SPORT = 256, O_DPORT, O_DST, O_TOP, O_JSON, O_WATCH, O_COUNT, O_PROM, O_STATE,
	       O_BY_DEST, O_MATCH, O_EXCLUDE, O_LOCAL };
	static const struct option longopts[] = {
		{ "sport", required_argument, NULL, O_SPORT },
		{ "dport", required_argument, NULL, O_DPORT },
		{ "dst", required_argument, NULL, O_DST },
		{ "top", required_argument, NULL, O_TOP },
		{ "json", no_argument, NULL, O_JSON },
		{ "prom", no_argument, NULL, O_PROM },
		{ "state", required_argument, NULL, O_STATE },
		{ "by-dest", no_argument, NULL, O_BY_DEST },
		{ "watch", required_argument, NULL, O_WATCH },
		{ "count", required_argument, NULL, O_COUNT },
		{ "match", required_argument, NULL, O_MATCH },
		{ "exclude", required_argument, NULL, O_EXCLUDE },
		{ "local-ports", required_argument, NULL, O_LOCAL },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct stat_opts o = {
		.filter = { .sport_lo = 0, .sport_hi = 65535, .dport_lo = 0, .dport_hi = 65535 },
		.top = 5,
	};
	struct tw_reap_scope *scope = scope_out;
	char why[256] = "";
	int c, li = 0;

	opterr = 0;
	while ((c = getopt_long(argc, argv, "+h", longopts, &li)) != -1) {
		switch (c) {
		case O_SPORT:
			if (!tw_parse_port_range_arg(optarg, &o.filter.sport_lo, &o.filter.sport_hi))
				goto bad_value;
			break;
		case O_DPORT:
			if (!tw_parse_port_range_arg(optarg, &o.filter.dport_lo, &o.filter.dport_hi))
				goto bad_value;
			break;
		case O_DST:
			if (!tw_cidr_parse(optarg, &o.filter.dst))
				goto bad_value;
			break;
		case O_TOP:
			if (!tw_parse_uint(optarg, 0, 1000000, &o.top))
				goto bad_value;
			break;
		case O_JSON:
			o.json = true;
			break;
		case O_PROM:
			o.prom = true;
			break;
		case O_BY_DEST:
			o.by_dest = true;
			break;
		case O_STATE:
			if (!parse_states(optarg, &o.filter.states))
				goto bad_state;
			break;
		case O_WATCH:
			if (!tw_parse_uint(optarg, 1, 86400, &o.watch))
				goto bad_value;
			break;
		case O_COUNT:
			if (!tw_parse_uint(optarg, 1, ~0ul, &o.count))
				goto bad_value;
			break;
		case O_MATCH:
		case O_EXCLUDE:
		case O_LOCAL:
			if (!(c == O_MATCH ? tw_reap_scope_add_match : c == O_EXCLUDE ?
			      tw_reap_scope_add_exclude : tw_reap_scope_add_ports)(scope, optarg, why, sizeof(why)))
				goto bad_value;
			o.filter.scope = scope;
			break;
		case 'h':
			usage(stdout);
			return TW_EXIT_OK;
		default:
			tw_error("stat", "unknown option or missing value: '%s' (try `twshim stat --help`)",
				 argv[optind - 1]);
			return TW_EXIT_INVALID;
		}
	}
	if (optind < argc) {
		tw_error("stat", "unexpected argument '%s'", argv[optind]);
		return TW_EXIT_INVALID;
	}
	if (o.json && o.prom) {
		tw_error("stat", "--json and --prom exclude each other");
		return TW_EXIT_INVALID;
	}
	if (o.count && !o.watch) {
		tw_error("stat", "--count needs --watch");
		return TW_EXIT_INVALID;
	}

	struct sigaction sa = { .sa_handler = on_signal }; /* no SA_RESTART: wake the sleep */
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);

	struct tw_portset *reserved = malloc(sizeof(*reserved));
	if (!reserved) {
		tw_error("stat", "out of memory");
		return TW_EXIT_FAIL;
	}
	int rc = TW_EXIT_OK;
	for (unsigned long n = 0; !interrupted; n++) {
		struct tw_stat st;
		tw_sysctl_reserved(reserved);
		if (sample(&o, &st, reserved) < 0) {
			tw_stat_free(&st);
			rc = TW_EXIT_FAIL;
			break;
		}
		if (o.watch && !o.json && !o.prom) {
			char when[40];
			time_t now = time(NULL);
			struct tm tm;
			strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&now, &tm));
			printf("%s--- %s\n", n ? "\n" : "", when);
		}
		if (o.json)
			print_json(&o, &st);
		else if (o.prom)
			print_prom(&o, &st);
		else
			print_table(&o, &st);
		fflush(stdout);
		tw_stat_free(&st);
		if (!o.watch || (o.count && n + 1 >= o.count))
			break;
		struct timespec ts = { .tv_sec = (time_t)o.watch };
		while (!interrupted && nanosleep(&ts, &ts) < 0 && errno == EINTR)
			;
	}
	free(reserved);
	return rc;

bad_value:
	tw_error("stat", "invalid value '%s' for --%s%s%s%s", optarg, longopts[li].name,
		 why[0] ? " (" : "", why, why[0] ? "; the forms of `twshim reap`)" : "");
	return TW_EXIT_INVALID;
bad_state:
	tw_error("stat", "invalid value '%s' for --state (accepted: comma-separated states: "
		 "established, syn-sent, syn-recv, fin-wait1, fin-wait2, time-wait, close, "
		 "close-wait, last-ack, listen, closing)", optarg);
	return TW_EXIT_INVALID;
}

int tw_cmd_stat(int argc, char **argv)
{
	struct tw_reap_scope scope = { 0 };
	int rc = stat_main(argc, argv, &scope);
	tw_reap_scope_free(&scope);
	return rc;
}
