/* twshim — decimal numbers and port spans; see twshim/num.h. */
#include "twshim/num.h"

#include <limits.h>
#include <string.h>

bool tw_parse_uint_span(const char *s, size_t n, unsigned long min, unsigned long max,
			unsigned long *out)
{
	unsigned long v = 0;

	if (!s || n == 0)
		return false;
	/* By hand, not strtoul: that would accept blanks, a sign and hex, and
	 * would read past n when a digit follows the span. */
	for (size_t i = 0; i < n; i++) {
		unsigned d = (unsigned)(s[i] - '0');

		if (s[i] < '0' || s[i] > '9')
			return false;
		if (v > (ULONG_MAX - d) / 10)
			return false;
		v = v * 10 + d;
	}
	if (v < min || v > max)
		return false;
	*out = v;
	return true;
}

bool tw_parse_uint(const char *s, unsigned long min, unsigned long max, unsigned long *out)
{
	return s && tw_parse_uint_span(s, strlen(s), min, max, out);
}

enum tw_span_error tw_parse_port_span(const char *s, size_t n, unsigned min_port, uint16_t *lo,
				      uint16_t *hi)
{
	const char *dash = n ? memchr(s, '-', n) : NULL;
	size_t first = dash ? (size_t)(dash - s) : n;
	unsigned long a, b;

	if (n == 0)
		return TW_SPAN_EMPTY;
	if (!dash) {
		if (!tw_parse_uint_span(s, n, min_port, 65535, &a))
			return TW_SPAN_PORT;
		b = a;
	} else if (!tw_parse_uint_span(s, first, min_port, 65535, &a) ||
		   !tw_parse_uint_span(dash + 1, n - first - 1, min_port, 65535, &b)) {
		return TW_SPAN_RANGE;
	} else if (a > b) {
		return TW_SPAN_ORDER;
	}
	*lo = (uint16_t)a;
	*hi = (uint16_t)b;
	return TW_SPAN_OK;
}
