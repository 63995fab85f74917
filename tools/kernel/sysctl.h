/* twshim — the sysctls that matter to twshim, read from /proc/sys of the
 * current network namespace, and a parser for ip_local_reserved_ports. */
#ifndef TWSHIM_TOOLS_SYSCTL_H
#define TWSHIM_TOOLS_SYSCTL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "twshim/ports.h"

/* One bit per port: the library's bitmap, filled by the library's parser,
 * so the command and the library read the sysctl the same way. */
struct tw_portset {
	struct tw_port_bitmap map;
};

static inline bool tw_portset_has(const struct tw_portset *s, unsigned port)
{
	return port < 65536 && tw_port_bit(&s->map, (uint16_t)port);
}

/* "8080,9000-9100" (commas, optional blanks, possibly empty) → set.
 * Returns false on a malformed list. */
bool tw_portset_parse(const char *s, struct tw_portset *out);
unsigned tw_portset_count(const struct tw_portset *s, unsigned lo, unsigned hi);

/* /proc/sys/<name> (e.g. "net/ipv4/tcp_tw_reuse") through the runtime's
 * reader (lib/runtime/procsys.h), trailing newline removed, cut to len - 1
 * bytes.  Returns false when unreadable. */
bool tw_sysctl_read(const char *name, char *buf, size_t len);
bool tw_sysctl_int(const char *name, long *out);
bool tw_sysctl_port_range(unsigned *lo, unsigned *hi);
bool tw_sysctl_reserved(struct tw_portset *out);

#endif
