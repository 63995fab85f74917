/* twshim stat — TCP socket counts by state from NETLINK_SOCK_DIAG. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

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
	      "port range and list the destinations holding the most TIME_WAIT.\n"
	      "\n"
	      "  --sport LO-HI      only sockets with a local port in LO-HI\n"
	      "  --dport LO-HI      only sockets with a remote port in LO-HI\n"
	      "  --dst CIDR         only sockets whose remote address is in CIDR\n"
	      "  --top N            destinations to list (default 5, 0 for none)\n"
	      "  --json             one JSON object per sample\n"
	      "  --watch SECONDS    sample every SECONDS until interrupted\n"
	      "  --count N          with --watch: stop after N samples\n"
	      "  -h, --help         show this help\n", f);
}

struct stat_opts {
	struct tw_stat_filter filter;
	unsigned long top;
	bool json;
	unsigned long watch, count;
};

static int sample(const struct stat_opts *o, struct tw_stat *st, const struct tw_portset *reserved)
{
	memset(st, 0, sizeof(*st));
	st->filter = o->filter;
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
	for (size_t i = 0; i < st->n_dest && i < o->top; i++) {
		char a[80];
		tw_dest_str(&st->dest[i], a, sizeof(a));
		*strrchr(a, ':') = '\0';
		const char *addr = a[0] == '[' ? a + 1 : a;
		if (a[0] == '[')
			a[strlen(a) - 1] = '\0';
		printf("%s{\"address\":\"%s\",\"port\":%u,\"count\":%lu}", i ? "," : "", addr,
		       st->dest[i].port, st->dest[i].count);
	}
	printf("]}\n");
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

int tw_cmd_stat(int argc, char **argv)
{
	enum { O_SPORT = 256, O_DPORT, O_DST, O_TOP, O_JSON, O_WATCH, O_COUNT };
	static const struct option longopts[] = {
		{ "sport", required_argument, NULL, O_SPORT },
		{ "dport", required_argument, NULL, O_DPORT },
		{ "dst", required_argument, NULL, O_DST },
		{ "top", required_argument, NULL, O_TOP },
		{ "json", no_argument, NULL, O_JSON },
		{ "watch", required_argument, NULL, O_WATCH },
		{ "count", required_argument, NULL, O_COUNT },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct stat_opts o = {
		.filter = { .sport_lo = 0, .sport_hi = 65535, .dport_lo = 0, .dport_hi = 65535 },
		.top = 5,
	};
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
			if (!tw_parse_ulong_arg(optarg, 0, 1000000, &o.top))
				goto bad_value;
			break;
		case O_JSON:
			o.json = true;
			break;
		case O_WATCH:
			if (!tw_parse_ulong_arg(optarg, 1, 86400, &o.watch))
				goto bad_value;
			break;
		case O_COUNT:
			if (!tw_parse_ulong_arg(optarg, 1, ~0ul, &o.count))
				goto bad_value;
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
		if (o.watch && !o.json)
			printf("%s--- %ld\n", n ? "\n" : "", (long)time(NULL));
		if (o.json)
			print_json(&o, &st);
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
	tw_error("stat", "invalid value '%s' for --%s", optarg, longopts[li].name);
	return TW_EXIT_INVALID;
}
