/* twshim doctor — can the library reach this program, and why. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "supervise.h"
#include "target.h"
#include "tools.h"

/* For programs only the supervisor reaches: what it costs on this kernel
 * (nothing when this build has no supervisor). */
static void report_supervisor(FILE *f, const struct tw_target *t)
{
	static int sync = -2; /* not probed yet */

	if (t->reach != TW_REACH_STATIC && t->reach != TW_REACH_GO)
		return;
	if (sync == -2)
		sync = tw_supervise_sync_wakeup();
	if (sync < 0)
		return;
	fprintf(f, "  supervisor:   %s\n", sync ?
		"seccomp sync wake-up yes (Linux >= 6.6: --supervise asks the kernel to "
		"answer each connect() on the caller's CPU; the scheduler may still "
		"use an idle CPU)" :
		"seccomp sync wake-up no (Linux < 6.6 or seccomp unavailable: each "
		"connect() under --supervise waits for two scheduler wake-ups)");
}

static void usage(FILE *f)
{
	fputs("Usage: twshim doctor BINARY...\n"
	      "\n"
	      "Say whether libtwshim.so can reach each program and why: dynamic or static,\n"
	      "Go or not, connect()/close() imported from libc, setuid/setgid or file\n"
	      "capabilities; and what to use instead when it cannot.  A name without '/'\n"
	      "is looked up in PATH.\n"
	      "\n"
	      "Exit status: 0 every program is reachable, 1 one is not, 2 usage error or\n"
	      "a file that cannot be read.\n", f);
}

int tw_cmd_doctor(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c, rc = TW_EXIT_OK;

	opterr = 0;
	while ((c = getopt_long(argc, argv, "+h", longopts, NULL)) != -1) {
		if (c == 'h') {
			usage(stdout);
			return TW_EXIT_OK;
		}
		tw_error("doctor", "unknown option '%s' (try `twshim doctor --help`)", argv[optind - 1]);
		return TW_EXIT_INVALID;
	}
	if (optind >= argc) {
		tw_error("doctor", "no program given (usage: twshim doctor BINARY...)");
		return TW_EXIT_INVALID;
	}
	struct tw_target *t = malloc(sizeof(*t));
	if (!t) {
		tw_error("doctor", "out of memory");
		return TW_EXIT_FAIL;
	}
	for (int i = optind; i < argc; i++) {
		char path[PATH_MAX];
		int err = tw_resolve_command(argv[i], getenv("PATH"), path, sizeof(path));
		if (!err)
			err = tw_target_inspect(path, getenv("LD_LIBRARY_PATH"), t);
		if (err) {
			tw_error("doctor", "%s: %s", argv[i], strerror(err));
			rc = TW_EXIT_INVALID;
			continue;
		}
		if (i > optind)
			putchar('\n');
		tw_target_report(stdout, t);
		report_supervisor(stdout, t);
		if (t->reach != TW_REACH_YES && rc == TW_EXIT_OK)
			rc = TW_EXIT_FAIL;
	}
	free(t);
	return rc;
}
