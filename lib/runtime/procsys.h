/* twshim — reading /proc/sys: the one reader of the library (pinning's
 * port ranges), the supervisor and the command (tools/kernel/sysctl.c).
 *
 * Values are those of the caller's network namespace.  No allocation, no
 * stdio; the fd is closed with a raw system call, so that inside the
 * library no interposer sees it.  errno is clobbered. */
#ifndef TWSHIM_PROCSYS_H
#define TWSHIM_PROCSYS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* Open the /proc/sys directory dir (e.g. "net/ipv4"), for several reads
 * with one path walk (/proc/sys lookups are slow).  -1 on failure. */
int tw_procsys_open_dir(const char *dir);
void tw_procsys_close_dir(int dirfd);

/* Read the file name, relative to dirfd (from tw_procsys_open_dir), into
 * buf of size bytes, NUL-terminated, newline kept.  Returns the length
 * read, or -1 when it cannot be opened or read (dirfd < 0 included).  A
 * text that fills buf (tw_procsys_cut()) may have been cut. */
ssize_t tw_procsys_read_at(int dirfd, const char *name, char *buf, size_t size);
/* The same for /proc/sys/<name> (e.g. "net/ipv4/tcp_fin_timeout"). */
ssize_t tw_procsys_read(const char *name, char *buf, size_t size);

/* Did a read of n bytes into size bytes fill the buffer (text maybe cut)? */
static inline bool tw_procsys_cut(ssize_t n, size_t size)
{
	return n >= 0 && (size_t)n + 1 >= size;
}

#endif
