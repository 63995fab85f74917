/* twshim — async-signal-safe formatting (no locale, no malloc). */
#include "fmt.h"

#include <stdint.h>

struct out {
	char *buf;
	size_t size;
	size_t len;
};

static void put_char(struct out *o, char c)
{
	if (o->len + 1 < o->size)
		o->buf[o->len] = c;
	o->len++;
}

static void put_str(struct out *o, const char *s)
{
	if (!s)
		s = "(null)";
	while (*s)
		put_char(o, *s++);
}

static void put_unsigned(struct out *o, uint64_t v, unsigned base)
{
	char digits[24];
	int n = 0;

	do {
		unsigned d = (unsigned)(v % base);
		digits[n++] = (char)(d < 10 ? '0' + d : 'a' + d - 10);
		v /= base;
	} while (v && n < (int)sizeof(digits));
	while (n)
		put_char(o, digits[--n]);
}

static void put_signed(struct out *o, int64_t v)
{
	if (v < 0) {
		put_char(o, '-');
		put_unsigned(o, (uint64_t)0 - (uint64_t)v, 10);
	} else {
		put_unsigned(o, (uint64_t)v, 10);
	}
}

size_t tw_vfmt(char *buf, size_t size, const char *fmt, va_list ap)
{
	struct out o = { buf, size, 0 };

	for (const char *p = fmt; *p; p++) {
		if (*p != '%') {
			put_char(&o, *p);
			continue;
		}
		p++;
		int longs = 0;
		while (*p == 'l') {
			longs++;
			p++;
		}
		if (*p == 'z') {
			/* size_t is unsigned long on every Linux ABI we build for. */
			_Static_assert(sizeof(size_t) == sizeof(unsigned long), "%zu read as %lu");
			longs = 1;
			p++;
		}
		switch (*p) {
		case 's':
			put_str(&o, va_arg(ap, const char *));
			break;
		case 'c':
			put_char(&o, (char)va_arg(ap, int));
			break;
		case 'd':
			if (longs)
				put_signed(&o, va_arg(ap, long));
			else
				put_signed(&o, va_arg(ap, int));
			break;
		case 'u':
		case 'x':
			if (longs)
				put_unsigned(&o, va_arg(ap, unsigned long), *p == 'x' ? 16 : 10);
			else
				put_unsigned(&o, va_arg(ap, unsigned), *p == 'x' ? 16 : 10);
			break;
		case '%':
			put_char(&o, '%');
			break;
		case '\0':
			p--; /* a lone '%' at the end: print nothing more */
			break;
		default:
			put_char(&o, '%');
			put_char(&o, *p);
			break;
		}
	}
	if (size)
		buf[o.len < size ? o.len : size - 1] = '\0';
	return o.len < size ? o.len : (size ? size - 1 : 0);
}

size_t tw_fmt(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	size_t n = tw_vfmt(buf, size, fmt, ap);
	va_end(ap);
	return n;
}

/* Days since 1970-01-01 to a civil date (proleptic Gregorian): the
 * era-based method, integer arithmetic only. */
static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
	z += 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	unsigned doe = (unsigned)(z - era * 146097);
	unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	unsigned mp = (5 * doy + 2) / 153;

	*d = doy - (153 * mp + 2) / 5 + 1;
	*m = mp < 10 ? mp + 3 : mp - 9;
	*y = (int64_t)yoe + era * 400 + (*m <= 2);
}

static void put_padded(struct out *o, uint64_t v, int width)
{
	char digits[24];
	int n = 0;

	while (n < width || (v && n < (int)sizeof(digits))) {
		digits[n++] = (char)('0' + v % 10);
		v /= 10;
	}
	while (n)
		put_char(o, digits[--n]);
}

size_t tw_fmt_rfc3339(char *buf, size_t size, int64_t sec, long nsec)
{
	struct out o = { buf, size, 0 };
	int64_t days = sec / 86400, rem = sec % 86400;
	int64_t y;
	unsigned m, d;

	if (rem < 0) {
		rem += 86400;
		days--;
	}
	civil_from_days(days, &y, &m, &d);
	put_padded(&o, (uint64_t)(y < 0 ? 0 : y), 4);
	put_char(&o, '-');
	put_padded(&o, m, 2);
	put_char(&o, '-');
	put_padded(&o, d, 2);
	put_char(&o, 'T');
	put_padded(&o, (uint64_t)(rem / 3600), 2);
	put_char(&o, ':');
	put_padded(&o, (uint64_t)(rem / 60 % 60), 2);
	put_char(&o, ':');
	put_padded(&o, (uint64_t)(rem % 60), 2);
	put_char(&o, '.');
	put_padded(&o, (uint64_t)(nsec / 1000), 6);
	put_char(&o, 'Z');
	if (size)
		buf[o.len < size ? o.len : size - 1] = '\0';
	return o.len < size ? o.len : (size ? size - 1 : 0);
}
