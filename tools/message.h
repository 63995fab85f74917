/* twshim — the command's one printer for its own lines on stderr (errors
 * of every subcommand and of the supervisor, reap's counts).  The library's log lines (log.h:
 * TWSHIM_LOG levels, timestamps, TWSHIM_LOG_FILE) are another thing: the
 * supervisor writes them too, for the decisions it makes as the library
 * would. */
#ifndef TWSHIM_TOOLS_MESSAGE_H
#define TWSHIM_TOOLS_MESSAGE_H

/* "twshim: CMD: message\n" on stderr ("twshim: message\n" when cmd is
 * NULL), in one write(2) so that it is not interleaved with the output of
 * a program running beside the command (the supervised target). */
void tw_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
