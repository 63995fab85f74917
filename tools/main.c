/* twshim — command entry point: dispatch to the subcommands. */
#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>

#include "tools.h"

#ifndef TWSHIM_VERSION
#define TWSHIM_VERSION "unknown"
#endif

static void usage(FILE *f)
{
	fputs("Usage: twshim COMMAND [OPTIONS] [ARGS]\n"
	      "\n"
	      "Fix TIME_WAIT pile-ups and source-port collisions of programs that cannot be\n"
	      "recompiled, through the libtwshim.so preload library.\n"
	      "\n"
	      "Commands:\n"
	      "  run [OPTIONS] -- COMMAND [ARGS...]  run COMMAND with the library and a policy\n"
	      "  stat [OPTIONS]                      count TCP sockets by state (netlink)\n"
	      "  check [--json] [FILE]               validate TWSHIM_* variables, show the policy\n"
	      "  doctor BINARY...                    can the library reach this program?\n"
	      "  reap --match RULES|--local-ports L  end TIME_WAIT in a scope, from outside\n"
	      "\n"
	      "  -h, --help      show this help (or `twshim COMMAND --help`)\n"
	      "  -V, --version   show the version\n"
	      "\n"
	      "See twshim(1) and libtwshim(7).\n", f);
}

/* The core's port span (twshim/num.h), with port 0 allowed: a filter
 * may name it. */
bool tw_parse_port_range_arg(const char *s, unsigned *lo, unsigned *hi)
{
	uint16_t a, b;

	if (!s || tw_parse_port_span(s, strlen(s), 0, &a, &b) != TW_SPAN_OK)
		return false;
	*lo = a;
	*hi = b;
	return true;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return TW_EXIT_INVALID;
	}
	const char *cmd = argv[1];
	if (!strcmp(cmd, "-h") || !strcmp(cmd, "--help") || !strcmp(cmd, "help")) {
		usage(stdout);
		return TW_EXIT_OK;
	}
	if (!strcmp(cmd, "-V") || !strcmp(cmd, "--version")) {
		printf("twshim %s\n", TWSHIM_VERSION);
		return TW_EXIT_OK;
	}
	/* each subcommand sees argv[0] = its name, so getopt errors name it */
	if (!strcmp(cmd, "run"))
		return tw_cmd_run(argc - 1, argv + 1);
	if (!strcmp(cmd, "stat"))
		return tw_cmd_stat(argc - 1, argv + 1);
	if (!strcmp(cmd, "check"))
		return tw_cmd_check(argc - 1, argv + 1);
	if (!strcmp(cmd, "doctor"))
		return tw_cmd_doctor(argc - 1, argv + 1);
	if (!strcmp(cmd, "reap"))
		return tw_cmd_reap(argc - 1, argv + 1);
	tw_error(NULL, "unknown command '%s' (try `twshim --help`)", cmd);
	return TW_EXIT_INVALID;
}
