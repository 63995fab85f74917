/* twshim — decimal numbers and port spans, the one parser for both.
 *
 * Used by the policy (TWSHIM_* values), the rule and port lists, and the
 * twshim command's own options, so that "a number" means the same thing
 * everywhere: decimal digits only, no sign, no blanks, no hex, leading
 * zeros allowed.  Pure code; the span forms take a length so that a list
 * item is parsed in place, without copying it. */
#ifndef TWSHIM_NUM_H
#define TWSHIM_NUM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Exactly n bytes at s as a decimal number in [min, max]. */
bool tw_parse_uint_span(const char *s, size_t n, unsigned long min, unsigned long max,
			unsigned long *out);
/* The whole string s (NULL is invalid) as a decimal number in [min, max]. */
bool tw_parse_uint(const char *s, unsigned long min, unsigned long max, unsigned long *out);

/* Why a port span did not parse; TW_SPAN_OK when it did. */
enum tw_span_error {
	TW_SPAN_OK = 0,
	TW_SPAN_EMPTY,    /* no bytes at all */
	TW_SPAN_PORT,     /* no '-', and not a port */
	TW_SPAN_RANGE,    /* LO-HI where LO or HI is not a port */
	TW_SPAN_ORDER,    /* LO > HI */
};

/* Exactly n bytes at s as PORT or LO-HI, each port in [min_port, 65535],
 * LO <= HI.  PORT alone gives lo = hi.  Outputs are set only on success. */
enum tw_span_error tw_parse_port_span(const char *s, size_t n, unsigned min_port, uint16_t *lo,
				      uint16_t *hi);

#endif
