/* twshim — sysctl reading (see sysctl.h). */
#include "sysctl.h"
#include "procsys.h"
#include "twshim/ports.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

bool tw_portset_parse(const char *s, struct tw_portset *out)
{
	return tw_ports_parse_reserved(s, &out->map);
}

unsigned tw_portset_count(const struct tw_portset *s, unsigned lo, unsigned hi)
{
	unsigned n = 0;
	for (unsigned p = lo; p <= hi && p < 65536; p++)
		n += tw_portset_has(s, p);
	return n;
}

bool tw_sysctl_read(const char *name, char *buf, size_t len)
{
	if (tw_procsys_read(name, buf, len) < 0)
		return false;
	buf[strcspn(buf, "\n")] = '\0';
	return true;
}

bool tw_sysctl_int(const char *name, long *out)
{
	char buf[64], *end;
	if (!tw_sysctl_read(name, buf, sizeof(buf)))
		return false;
	errno = 0;
	*out = strtol(buf, &end, 10);
	return !errno && end != buf;
}

bool tw_sysctl_port_range(unsigned *lo, unsigned *hi)
{
	char buf[64];
	if (!tw_sysctl_read("net/ipv4/ip_local_port_range", buf, sizeof(buf)))
		return false;
	struct tw_port_range r;
	if (!tw_ports_parse_range(buf, &r))
		return false;
	*lo = r.lo;
	*hi = r.hi;
	return true;
}

bool tw_sysctl_reserved(struct tw_portset *out)
{
	/* the list can be long: one line of up to ~350 KiB in the worst case */
	size_t cap = 1 << 20;
	char *buf = malloc(cap);
	bool ok = buf && tw_sysctl_read("net/ipv4/ip_local_reserved_ports", buf, cap) &&
		  tw_portset_parse(buf, out);
	free(buf);
	if (!ok)
		memset(out, 0, sizeof(*out));
	return ok;
}
