/* twshim — the list parsers with the detail a diagnostic reports.
 *
 * The table's parsers (vars.c) call these (rules.c, policy.c); policy.c
 * calls the table; rules.c calls only num.c (twshim/num.h).  No circle.
 *
 * The public single-value parsers in twshim/policy.h answer yes or no; the
 * policy parser also wants to say *which* list item is wrong, because a
 * rule list can be far longer than the part of it a diagnostic shows. */
#ifndef TWSHIM_POLICY_INTERNAL_H
#define TWSHIM_POLICY_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>

#include "twshim/policy.h"

/* Where and why a value was rejected.  item is 1-based; 0 when the value
 * is not a list or the fault is not in one item.  at/len point into the
 * parsed string (not NUL-terminated). */
struct tw_parse_error {
	const char *why;
	size_t item;
	const char *at;
	size_t len;
};

/* Program-name lists (policy.c), for the table's parsers (vars.c). */
bool tw_parse_program_list_err(const char *s, struct tw_parse_error *err);

bool tw_parse_rules_err(const char *s, struct tw_rules *out, struct tw_parse_error *err);
bool tw_parse_port_list_err(const char *s, struct tw_port_list *out,
			    struct tw_parse_error *err);

#endif
