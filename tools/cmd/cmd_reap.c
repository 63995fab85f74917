/* twshim reap — end the TIME_WAIT of any program from outside: a filtered
 * sock_diag dump per pass, SOCK_DESTROY per socket in scope that is old
 * enough.  A TIME_WAIT socket has delivered every byte and exchanged both
 * FINs: removing it loses no data (see reap.h, twshim(1) REAP). */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "reap.h"
#include "tools.h"

#define MAX_DURATION_MS (24ull * 3600 * 1000)
#define BUSY_SLEEP_MS 50u /* after a pass that reaped: look again soon */
#define BYTECODE_MAX 16384

static void usage(FILE *f)
{
	fputs("Usage: twshim reap [OPTIONS]\n"
	      "\n"
	      "Remove TIME_WAIT sockets in a scope, from outside every process, through\n"
	      "sock_diag SOCK_DESTROY (needs CAP_NET_ADMIN).  A TIME_WAIT socket has\n"
	      "delivered every byte: removing it loses no data.  Runs until SIGINT or\n"
	      "SIGTERM; SIGUSR1 prints the totals.\n"
	      "\n"
	      "Scope (at least --match or --local-ports; options add up):\n"
	      "  --match RULES        remote address rules, as TWSHIM_MATCH\n"
	      "                       (CIDR, CIDR:PORT, CIDR:LO-HI, [IPV6]:PORT, *:PORT)\n"
	      "  --exclude RULES      never these remote addresses (wins over --match)\n"
	      "  --local-ports LIST   local ports, PORT or LO-HI, comma-separated\n"
	      "\n"
	      "  --min-age DURATION   leave TIME_WAIT younger than this (default 1s)\n"
	      "  --interval DURATION  longest pause between passes (default 1s); the\n"
	      "                       pause is 50 ms after a pass that reaped\n"
	      "  --netns PATH|PID     work in that network namespace\n"
	      "  --once               one pass, print the totals, exit\n"
	      "  -v, --verbose        one line per pass on stderr\n"
	      "  -h, --help           show this help\n"
	      "\n"
	      "DURATION: " TW_DURATION_FORMS ".\n"
	      "Exit status: 0 done, 1 cannot reap here or errors, 2 bad option.\n", f);
}

static const char *errname(int e)
{
	const char *n = e ? strerrorname_np(e) : "none";
	return n ? n : "unknown";
}

static void print_counts(const char *what, const struct tw_reap_counts *c)
{
	tw_error("reap", "%s passes=%lu reaped=%lu young=%lu gone=%lu errors=%lu last_error=%s", what,
		 c->passes, c->reaped, c->young, c->gone, c->errors, errname(c->last_error));
}

static void add_counts(struct tw_reap_counts *t, const struct tw_reap_counts *p)
{
	t->passes += p->passes;
	t->dumped += p->dumped;
	t->reaped += p->reaped;
	t->gone += p->gone;
	t->errors += p->errors;
	t->young = p->young; /* what waits now, not a sum */
	if (p->last_error)
		t->last_error = p->last_error;
}

static int enter_netns(const char *arg)
{
	char path[64];
	const char *p = arg;
	unsigned long pid;
	if (tw_parse_uint(arg, 1, 4194304, &pid)) {
		snprintf(path, sizeof(path), "/proc/%lu/ns/net", pid);
		p = path;
	}
	int fd = open(p, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || setns(fd, CLONE_NEWNET) != 0) {
		tw_error("reap", "--netns '%s': cannot enter %s: %s", arg, p, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

/* Sleep up to ms, or until a signal; returns the signal (0: none). */
static int wait_signal(const sigset_t *set, uint64_t ms)
{
	struct timespec ts = { .tv_sec = (time_t)(ms / 1000), .tv_nsec = (long)(ms % 1000) * 1000000L };
	int sig;
	while ((sig = sigtimedwait(set, NULL, &ts)) < 0 && errno == EINTR)
		;
	return sig < 0 ? 0 : sig;
}

static const char *refusal(int probe)
{
	if (probe == -EOPNOTSUPP)
		return "this kernel cannot destroy sockets (SOCK_DESTROY: EOPNOTSUPP; it needs "
		       "CONFIG_INET_DIAG_DESTROY=y)";
	if (!tw_have_cap_net_admin())
		return "this process lacks CAP_NET_ADMIN, which SOCK_DESTROY needs (run as root, "
		       "or with AmbientCapabilities=CAP_NET_ADMIN)";
	return NULL;
}

void tw_reap_print_support(void)
{
	int fd = tw_reap_open(), probe = fd < 0 ? fd : tw_reap_probe(fd);
	bool cap = tw_have_cap_net_admin();
	if (fd >= 0)
		close(fd);
	printf("reaping (twshim reap, this network namespace):\n");
	printf("  %-34s %s\n", "kernel SOCK_DESTROY", probe == 0 ? "supported" :
	       probe == -EOPNOTSUPP ? "not supported (EOPNOTSUPP: CONFIG_INET_DIAG_DESTROY is off)" :
	       strerror(-probe));
	printf("  %-34s %s\n", "CAP_NET_ADMIN", cap ? "yes" : "no (SOCK_DESTROY needs it)");
	printf("  %-34s %s\n", "twshim reap", probe == 0 && cap ? "can run here" : "cannot run here");
}

int tw_cmd_reap(int argc, char **argv)
{
	enum { O_MATCH = 256, O_EXCLUDE, O_LOCAL, O_MINAGE, O_INTERVAL, O_NETNS, O_ONCE };
	static const struct option longopts[] = {
		{ "match", required_argument, NULL, O_MATCH },
		{ "exclude", required_argument, NULL, O_EXCLUDE },
		{ "local-ports", required_argument, NULL, O_LOCAL },
		{ "min-age", required_argument, NULL, O_MINAGE },
		{ "interval", required_argument, NULL, O_INTERVAL },
		{ "netns", required_argument, NULL, O_NETNS },
		{ "once", no_argument, NULL, O_ONCE },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct tw_reap_scope scope = { 0 };
	uint64_t min_age = 1000, interval = 1000;
	const char *netns = NULL;
	bool once = false, verbose = false;
	char why[256];
	int c, li = 0, rc = TW_EXIT_INVALID;

	opterr = 0;
	while ((c = getopt_long(argc, argv, "+vh", longopts, &li)) != -1) {
		bool ok = true;
		const char *forms = NULL;
		why[0] = '\0';
		switch (c) {
		case O_MATCH:
			ok = tw_reap_scope_add_match(&scope, optarg, why, sizeof(why));
			forms = tw_policy_accepted_forms("TWSHIM_MATCH");
			break;
		case O_EXCLUDE:
			ok = tw_reap_scope_add_exclude(&scope, optarg, why, sizeof(why));
			forms = tw_policy_accepted_forms("TWSHIM_EXCLUDE");
			break;
		case O_LOCAL:
			ok = tw_reap_scope_add_ports(&scope, optarg, why, sizeof(why));
			forms = "comma-separated ports or LO-HI ranges, 1-65535, e.g. 32768-60999";
			break;
		case O_MINAGE:
			ok = tw_parse_duration_ms(optarg, MAX_DURATION_MS, &min_age);
			forms = TW_DURATION_FORMS ", at most 24h";
			break;
		case O_INTERVAL:
			ok = tw_parse_duration_ms(optarg, MAX_DURATION_MS, &interval);
			forms = TW_DURATION_FORMS ", at most 24h";
			break;
		case O_NETNS:
			ok = optarg[0] != '\0';
			forms = "a network namespace file (/run/netns/NAME, /proc/PID/ns/net) or a PID";
			netns = optarg;
			break;
		case O_ONCE:
			once = true;
			break;
		case 'v':
			verbose = true;
			break;
		case 'h':
			usage(stdout);
			tw_reap_scope_free(&scope);
			return TW_EXIT_OK;
		default:
			tw_error("reap", "unknown option or missing value: '%s' (try `twshim reap --help`)",
				 argv[optind - 1]);
			goto out;
		}
		if (!ok) {
			tw_error("reap", "invalid value '%.64s%s' for --%s%s%s%s; accepted: %s", optarg,
				 strlen(optarg) > 64 ? "..." : "", longopts[li].name, why[0] ? " (" : "", why,
				 why[0] ? ")" : "", forms);
			goto out;
		}
	}
	if (optind < argc) {
		tw_error("reap", "unexpected argument '%s' (try `twshim reap --help`)", argv[optind]);
		goto out;
	}
	if (!tw_reap_scope_is_set(&scope)) {
		tw_error("reap", "no scope: give --match RULES and/or --local-ports LIST "
			 "(it never reaps every TIME_WAIT of a host)");
		goto out;
	}

	rc = TW_EXIT_FAIL;
	if (netns && enter_netns(netns) < 0)
		goto out;
	int fd = tw_reap_open();
	if (fd < 0) {
		tw_error("reap", "netlink sock_diag socket: %s", strerror(-fd));
		goto out;
	}
	const char *no = refusal(tw_reap_probe(fd));
	if (no) {
		tw_error("reap", "cannot reap here: %s", no);
		close(fd);
		goto out;
	}
	uint8_t *bc = malloc(BYTECODE_MAX);
	size_t bclen = bc ? tw_reap_bytecode(&scope, bc, BYTECODE_MAX) : 0;

	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGUSR1);
	sigprocmask(SIG_BLOCK, &set, NULL);

	struct tw_reap_counts total = { 0 };
	uint64_t pause = BUSY_SLEEP_MS < interval ? BUSY_SLEEP_MS : interval;
	bool stop = false;
	rc = TW_EXIT_OK;
	while (!stop) {
		struct tw_reap_counts p;
		int e = tw_reap_pass(fd, &scope, bc, bclen, min_age, &p);
		add_counts(&total, &p);
		if (e == -EPERM || e == -EOPNOTSUPP) {
			tw_error("reap", "cannot reap here: the kernel refused SOCK_DESTROY (%s): %s",
				 errname(-e), e == -EPERM ? "this process lacks CAP_NET_ADMIN in the "
				 "namespace's user namespace" : "not supported");
			rc = TW_EXIT_FAIL;
			break;
		}
		/* adaptive: soon after reaping, doubling toward --interval when idle,
		 * and never later than the next young socket comes of age */
		if (p.reaped)
			pause = BUSY_SLEEP_MS;
		else
			pause = pause ? pause * 2 : BUSY_SLEEP_MS;
		if (pause > interval)
			pause = interval;
		if (p.next_ms < pause)
			pause = p.next_ms;
		if (verbose)
			tw_error("reap", "pass %lu: dumped=%lu reaped=%lu young=%lu gone=%lu "
				 "errors=%lu next_pass_ms=%llu", total.passes, p.dumped, p.reaped, p.young,
				 p.gone, p.errors, once ? 0ull : (unsigned long long)pause);
		if (once)
			break;
		for (int sig; (sig = wait_signal(&set, pause)) != 0; pause = 0) {
			if (sig == SIGUSR1) {
				print_counts("totals:", &total);
				continue;
			}
			stop = true;
			break;
		}
	}
	print_counts("totals:", &total);
	if (total.errors && rc == TW_EXIT_OK)
		rc = TW_EXIT_FAIL;
	free(bc);
	close(fd);
out:
	tw_reap_scope_free(&scope);
	return rc;
}
