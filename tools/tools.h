/* twshim — the command's subcommands and shared helpers. */
#ifndef TWSHIM_TOOLS_H
#define TWSHIM_TOOLS_H

#include <stdbool.h>
#include <stddef.h>

#include "message.h"

#include "twshim/num.h" /* tw_parse_uint, for the options */

/* Exit statuses shared by the subcommands (see twshim(1)). */
#define TW_EXIT_OK 0
#define TW_EXIT_FAIL 1    /* the operation failed (I/O, netlink), or doctor: not reachable */
#define TW_EXIT_INVALID 2 /* bad option, invalid variable, refused target: nothing started */
#define TW_EXIT_CANNOT_EXEC 126
#define TW_EXIT_NOT_FOUND 127

int tw_cmd_run(int argc, char **argv);
int tw_cmd_stat(int argc, char **argv);
int tw_cmd_check(int argc, char **argv);
int tw_cmd_doctor(int argc, char **argv);
int tw_cmd_reap(int argc, char **argv);
/* `twshim check`: can this process reap here (kernel, capability)? */
void tw_reap_print_support(void);


/* A whole file of at most 16 MiB, NUL not added; errno set on failure. */
bool tw_read_small_file(const char *path, char **out, size_t *len);
/* "LO-HI" or "N" within 0-65535 (numbers: tw_parse_uint, twshim/num.h). */
bool tw_parse_port_range_arg(const char *s, unsigned *lo, unsigned *hi);

#endif
