/* twshim — the policy: what the environment asked for, parsed once.
 *
 * Pure code: nothing here reads the environment, the file system or any
 * socket.  The caller supplies a lookup function (secure_getenv in the
 * library, an env file in `twshim check`) and receives diagnostics as text,
 * which it decides how to print. */
#ifndef TWSHIM_POLICY_H
#define TWSHIM_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "twshim/num.h"

/* How a client socket ends when the program closes it first. */
enum tw_linger_mode {
	TW_LINGER_OFF = 0, /* unset or "off": the kernel's normal close */
	TW_LINGER_SAFE,    /* RST only when nothing can be lost */
	TW_LINGER_ABORT,   /* "0": SO_LINGER {1,0} at connect */
	TW_LINGER_TIMEOUT, /* "N": SO_LINGER {1,N} at connect */
};

enum tw_ports_mode {
	TW_PORTS_OFF = 0,
	TW_PORTS_ABOVE, /* (ip_local_port_range high + 1)-65535, resolved at load */
	TW_PORTS_RANGE, /* explicit LO-HI */
};

enum tw_log_level {
	TW_LOG_ERROR = 0,
	TW_LOG_WARN,
	TW_LOG_INFO,
	TW_LOG_DEBUG,
};

/* One destination rule: address prefix and port range.  family AF_UNSPEC
 * means "any address" (the `*:PORT` form).  IPv4 rules also match
 * IPv4-mapped IPv6 destinations. */
struct tw_rule {
	uint8_t family;     /* AF_INET, AF_INET6 or AF_UNSPEC */
	uint8_t prefix_len; /* 0-32 or 0-128 */
	uint16_t port_lo;   /* host byte order; 0-65535 means any port */
	uint16_t port_hi;
	uint8_t addr[16];   /* network byte order, bits past prefix_len zero */
};

struct tw_rules {
	struct tw_rule *v; /* heap array owned by the policy */
	size_t n;
};

struct tw_port_range {
	uint16_t lo, hi; /* inclusive, host byte order */
};

struct tw_port_list {
	struct tw_port_range *v; /* heap array owned by the policy */
	size_t n;
};

struct tw_policy {
	bool disabled; /* TWSHIM_DISABLE=1: load, do nothing */

	enum tw_linger_mode linger;
	unsigned linger_seconds; /* TW_LINGER_TIMEOUT only: 1-3600 */
	unsigned drain_ms;       /* TW_LINGER_SAFE: bound on waiting for ACKs */

	enum tw_ports_mode ports;
	struct tw_port_range port_range; /* TW_PORTS_RANGE only */

	bool reuseaddr;
	bool reuseport;
	bool has_reuse_ports;          /* TWSHIM_REUSE_PORTS was given */
	struct tw_port_list reuse_ports; /* local ports reuse applies to */

	bool has_match;        /* TWSHIM_MATCH given and valid */
	struct tw_rules match; /* client actions only for these destinations */
	struct tw_rules exclude;

	enum tw_log_level log_level;
	char *log_file; /* heap copy, NULL = stderr */

	int stats_signal; /* TWSHIM_STATS_SIGNAL: counters on demand; 0 = off */

	/* TWSHIM_ONLY_PROGRAMS / TWSHIM_SKIP_PROGRAMS: comma-separated program
	 * names (heap copies of the validated values; NULL = unset). */
	char *only_programs;
	char *skip_programs;
};

/* Default for TWSHIM_DRAIN_MS: long enough for a loopback or LAN peer to
 * acknowledge a request, short enough not to stall a blocking close(). */
#define TW_DRAIN_MS_DEFAULT 200u
#define TW_DRAIN_MS_MAX 60000u
#define TW_LINGER_SECONDS_MAX 3600u

/* Diagnostics produced while parsing: one line each, no trailing newline,
 * no "twshim:" prefix (the printer adds it).  A value longer than
 * TW_DIAG_VALUE_SHOWN characters is shown truncated with "...". */
#define TW_DIAG_MAX 24
#define TW_DIAG_TEXT_MAX 512
#define TW_DIAG_VALUE_SHOWN 64

struct tw_diag {
	enum tw_log_level level; /* TW_LOG_ERROR for bad values, TW_LOG_WARN for advice */
	char text[TW_DIAG_TEXT_MAX];
};

struct tw_diags {
	unsigned n;
	struct tw_diag v[TW_DIAG_MAX];
};

/* Lookup of one variable; returns NULL when unset. */
typedef const char *(*tw_lookup_fn)(const char *name, void *ctx);

/* The variables the parser reads: the table tw_vars[] (twshim/vars.h). */

/* Names read by the twshim command only (TWSHIM_LIBRARY), NULL-terminated. */
extern const char *const tw_command_variables[];

/* Is NAME (len bytes) in the table or in tw_command_variables? */
bool tw_policy_known_name(const char *name, size_t len);
/* The known name closest to NAME by edit distance. */
const char *tw_policy_nearest_name(const char *name, size_t len);
/* One TW_LOG_ERROR diagnostic for each TWSHIM_* entry of envp ("NAME=VALUE"
 * strings, NULL-terminated) that no one reads, naming the nearest known
 * name.  Returns how many there are. */
unsigned tw_policy_unknown_names(char *const *envp, struct tw_diags *d);

/* Fill *out from the variables.  Every malformed value disables that one
 * feature (as if unset) and appends one TW_LOG_ERROR diagnostic naming the
 * variable, the value and the accepted forms.  Returns the number of
 * malformed variables.  Never aborts; on allocation failure the affected
 * rule list is treated as malformed.  Free with tw_policy_free(). */
unsigned tw_policy_parse(struct tw_policy *out, tw_lookup_fn lookup, void *ctx,
			 struct tw_diags *diags);
/* The same, for a caller that prints the diagnostics through the log
 * configured by the parsed TWSHIM_LOG (the library): advice (TW_LOG_WARN)
 * that level would not print is left out, not even formatted.  Errors are
 * always kept. */
unsigned tw_policy_parse_logged(struct tw_policy *out, tw_lookup_fn lookup, void *ctx,
				struct tw_diags *diags);
void tw_policy_free(struct tw_policy *p);

/* Single-value parsers, exposed for tests and for `twshim run` options
 * (numbers: tw_parse_uint in twshim/num.h).
 * Each returns true and fills its outputs only when the whole string is valid. */
bool tw_parse_linger(const char *s, enum tw_linger_mode *mode, unsigned *seconds);
bool tw_parse_bool01(const char *s, bool *out);
bool tw_parse_ports(const char *s, enum tw_ports_mode *mode, struct tw_port_range *range);
bool tw_parse_log_level(const char *s, enum tw_log_level *out);
/* "off" (0), "USR1"/"SIGUSR1", "USR2"/"SIGUSR2". */
bool tw_parse_signal(const char *s, int *out);
bool tw_parse_rules(const char *s, struct tw_rules *out);
bool tw_parse_port_list(const char *s, struct tw_port_list *out);
void tw_rules_free(struct tw_rules *r);

/* Text of the accepted forms for a variable, as used in diagnostics. */
const char *tw_policy_accepted_forms(const char *variable);

/* Does one rule list match this destination?  Handles AF_INET, AF_INET6
 * and IPv4-mapped IPv6; any other family never matches. */
bool tw_rules_match(const struct tw_rules *rules, const struct sockaddr *sa, socklen_t len);

/* Client actions apply to this destination: it matches TWSHIM_MATCH (or
 * no match list is set) and no TWSHIM_EXCLUDE rule.  Exclude wins. */
bool tw_policy_selects(const struct tw_policy *p, const struct sockaddr *sa, socklen_t len);

/* Is program name (the base name of the file executed) in scope?  In
 * TWSHIM_ONLY_PROGRAMS when that is set, and not in TWSHIM_SKIP_PROGRAMS
 * (skip wins).  Exact, case-sensitive comparison. */
bool tw_policy_selects_program(const struct tw_policy *p, const char *name);

/* Validate a program-name list: non-empty names separated by single
 * commas, each without '/', blanks or control characters, at most 255
 * bytes. */
bool tw_parse_program_list(const char *s);

/* Reuse on bind applies to this local port (TWSHIM_REUSE_PORTS unset: any
 * non-zero port). */
bool tw_policy_reuse_selects_port(const struct tw_policy *p, uint16_t port);

/* Any client-side feature is on (linger or pinning); defined with the
 * other mode mappings in lib/core/decide.c. */
bool tw_policy_has_client_actions(const struct tw_policy *p);

#endif
