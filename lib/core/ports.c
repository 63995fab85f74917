/* twshim — source-port arithmetic: sysctl texts, ranges, the cursor and
 * the pair table.  Pure: no system calls, no allocation. */
#include "twshim/ports.h"

#include <netinet/in.h>
#include <string.h>

/* Parse a decimal number 0-65535 at *p; advance *p past it. */
static bool parse_port_number(const char **p, uint32_t *out)
{
	const char *s = *p;
	uint32_t v = 0;

	if (*s < '0' || *s > '9')
		return false;
	while (*s >= '0' && *s <= '9') {
		v = v * 10u + (uint32_t)(*s - '0');
		if (v > 65535u)
			return false;
		s++;
	}
	*p = s;
	*out = v;
	return true;
}

static const char *skip_blanks(const char *s)
{
	while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
		s++;
	return s;
}

bool tw_ports_parse_range(const char *text, struct tw_port_range *out)
{
	const char *s;
	uint32_t lo, hi;

	if (!text)
		return false;
	s = skip_blanks(text);
	if (!parse_port_number(&s, &lo))
		return false;
	/* the kernel separates the two numbers with a tab; require a blank */
	if (*s != ' ' && *s != '\t')
		return false;
	s = skip_blanks(s);
	if (!parse_port_number(&s, &hi))
		return false;
	if (*skip_blanks(s) != '\0')
		return false;
	if (lo == 0 || lo > hi)
		return false;
	out->lo = (uint16_t)lo;
	out->hi = (uint16_t)hi;
	return true;
}

bool tw_ports_parse_reserved(const char *text, struct tw_port_bitmap *out)
{
	const char *s;

	memset(out, 0, sizeof(*out));
	if (!text)
		return true;
	s = skip_blanks(text);
	if (*s == '\0')
		return true;
	for (;;) {
		uint32_t lo, hi;

		if (!parse_port_number(&s, &lo))
			goto garbage;
		hi = lo;
		if (*s == '-') {
			s++;
			if (!parse_port_number(&s, &hi) || hi < lo)
				goto garbage;
		}
		for (uint32_t port = lo; port <= hi; port++)
			tw_port_bit_set(out, (uint16_t)port);
		/* The kernel writes no blanks, but a list typed by a person
		 * (twshim check on an env file) may have them around commas. */
		s = skip_blanks(s);
		if (*s == ',') {
			s = skip_blanks(s + 1);
			continue;
		}
		if (*s == '\0')
			return true;
		goto garbage;
	}
garbage:
	memset(out, 0, sizeof(*out));
	return false;
}

bool tw_ports_above(struct tw_port_range ephemeral, struct tw_port_range *out)
{
	if (ephemeral.hi >= 65535u)
		return false;
	out->lo = (uint16_t)(ephemeral.hi + 1u);
	out->hi = 65535u;
	return true;
}

bool tw_ports_overlap(struct tw_port_range a, struct tw_port_range b)
{
	return a.lo <= b.hi && b.lo <= a.hi;
}

size_t tw_ports_usable(struct tw_port_range r, const struct tw_port_bitmap *reserved,
		       uint16_t *out, size_t cap)
{
	size_t n = 0;

	if (r.lo > r.hi)
		return 0;
	for (uint32_t port = r.lo ? r.lo : 1u; port <= r.hi; port++) {
		if (reserved && tw_port_bit(reserved, (uint16_t)port))
			continue;
		if (n < cap)
			out[n] = (uint16_t)port;
		n++;
	}
	return n;
}

/* splitmix64's finaliser: cheap, and every input bit reaches every output bit. */
static uint64_t mix64(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ull;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebull;
	x ^= x >> 31;
	return x;
}

static uint32_t gcd32(uint32_t a, uint32_t b)
{
	while (b) {
		uint32_t t = a % b;
		a = b;
		b = t;
	}
	return a;
}

void tw_cursor_reseed(struct tw_port_cursor *c, uint64_t seed)
{
	uint64_t r1 = mix64(seed);
	uint64_t r2 = mix64(r1 ^ 0x9e3779b97f4a7c15ull);
	uint32_t stride = 1;

	c->start = c->n ? (uint32_t)(r1 % c->n) : 0;
	if (c->n > 2) {
		/* a stride coprime with n makes i -> start + i*stride a full cycle */
		stride = 1u + (uint32_t)(r2 % (c->n - 1u));
		while (gcd32(stride, c->n) != 1u)
			stride = stride + 1u < c->n ? stride + 1u : 1u;
	}
	c->stride = stride;
	atomic_store_explicit(&c->next, 0, memory_order_relaxed);
}

void tw_cursor_init(struct tw_port_cursor *c, const uint16_t *ports, uint32_t n,
		    uint64_t seed)
{
	c->ports = ports;
	c->n = n;
	tw_cursor_reseed(c, seed);
}

uint16_t tw_cursor_next(struct tw_port_cursor *c, bool *wrapped)
{
	uint32_t i, pos;

	if (c->n == 0)
		return 0;
	i = atomic_fetch_add_explicit(&c->next, 1, memory_order_relaxed) % c->n;
	if (wrapped)
		*wrapped = (i == 0);
	pos = (uint32_t)(((uint64_t)c->start + (uint64_t)i * c->stride) % c->n);
	return c->ports[pos];
}

uint64_t tw_dest_key(const struct sockaddr *sa, socklen_t len)
{
	/* v4 and v4-mapped v6 share one 4-tuple space in the kernel, so they
	 * must share one key: hash everything in the ::ffff:a.b.c.d form */
	uint8_t a[16];
	uint16_t port;
	uint64_t hi, lo;

	if (!sa)
		return 0;
	if (sa->sa_family == AF_INET && len >= (socklen_t)sizeof(struct sockaddr_in)) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
		memset(a, 0, 10);
		a[10] = 0xff;
		a[11] = 0xff;
		memcpy(a + 12, &in->sin_addr, 4);
		port = ntohs(in->sin_port);
	} else if (sa->sa_family == AF_INET6 &&
		   len >= (socklen_t)sizeof(struct sockaddr_in6)) {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
		memcpy(a, &in6->sin6_addr, 16);
		port = ntohs(in6->sin6_port);
	} else {
		return 0;
	}
	memcpy(&hi, a, 8);
	memcpy(&lo, a + 8, 8);
	return mix64(hi ^ mix64(lo ^ mix64((uint64_t)port + 0x51ed27u)));
}

/* A slot holds 0 (free), a held pair's word, or a pair's word with
 * PAIR_PENDING while its reserver checks for a concurrent twin.  A word has
 * port >= 1 in its top bits, so it is never 0.  A pair lives only in its
 * own bucket (TW_PAIR_BUCKET slots, one cache line): every search reads
 * that line whole, and a released slot is simply free again, so nothing is
 * left behind however many different pairs a process uses (open addressing
 * with tombstones slowed down as they piled up). */
#define KEY_BITS 47
#define PAIR_PENDING ((uint64_t)1 << KEY_BITS)

static uint64_t pair_word(uint16_t port, uint64_t key)
{
	return (uint64_t)port << 48 | (key & (PAIR_PENDING - 1));
}

static _Atomic uint64_t *pair_bucket(const struct tw_pair_table *t, uint64_t word)
{
	return t->slots + (size_t)((uint32_t)mix64(word) & t->bucket_mask) * TW_PAIR_BUCKET;
}

void tw_pair_table_init(struct tw_pair_table *t, _Atomic uint64_t *slots, uint32_t nslots)
{
	t->slots = slots;
	t->bucket_mask = nslots / TW_PAIR_BUCKET - 1u;
}

/* How many slots of bucket b hold word, held or pending.  The whole line,
 * without branches. */
static unsigned pair_count(_Atomic uint64_t *b, uint64_t word)
{
	unsigned n = 0;

#pragma GCC unroll 8
	for (unsigned i = 0; i < TW_PAIR_BUCKET; i++)
		n += (atomic_load(&b[i]) | PAIR_PENDING) == (word | PAIR_PENDING);
	return n;
}

enum tw_pair_result tw_pair_reserve(struct tw_pair_table *t, uint16_t port, uint64_t key)
{
	uint64_t word = pair_word(port, key);
	_Atomic uint64_t *b = pair_bucket(t, word);

	if (port == 0)
		return TW_PAIR_BUSY;
	for (;;) {
		unsigned free_idx = TW_PAIR_BUCKET;

		/* Up to the first free slot; a twin further on is found by the
		 * check below, which reads the whole bucket anyway. */
		for (unsigned i = 0; i < TW_PAIR_BUCKET; i++) {
			uint64_t v = atomic_load_explicit(&b[i], memory_order_relaxed);

			if ((v | PAIR_PENDING) == (word | PAIR_PENDING))
				return TW_PAIR_BUSY;
			if (v == 0) {
				free_idx = i;
				break;
			}
		}
		if (free_idx == TW_PAIR_BUCKET)
			return TW_PAIR_FULL;
		uint64_t expected = 0;
		if (!atomic_compare_exchange_strong(&b[free_idx], &expected, word | PAIR_PENDING))
			continue; /* lost the slot to another thread: look again */
		/* Two reservers of the same pair may have taken different free
		 * slots: each marks its own pending, then looks for any other
		 * (seq_cst): at least one sees the other and backs off.  Pending
		 * slots are the reserver's alone: a release never takes them. */
		if (pair_count(b, word) > 1) { /* ours, and a twin */
			atomic_store_explicit(&b[free_idx], 0, memory_order_release);
			return TW_PAIR_BUSY;
		}
		/* The slot is ours: a plain store (not a locked one) settles it. */
		atomic_store_explicit(&b[free_idx], word, memory_order_release);
		return TW_PAIR_OK;
	}
}

bool tw_pair_release(struct tw_pair_table *t, uint16_t port, uint64_t key)
{
	uint64_t word = pair_word(port, key);
	_Atomic uint64_t *b = pair_bucket(t, word);

	/* A locked CAS only on the slot that holds it. */
	for (unsigned i = 0; i < TW_PAIR_BUCKET; i++) {
		uint64_t v = word;
		if (atomic_load_explicit(&b[i], memory_order_relaxed) == word &&
		    atomic_compare_exchange_strong(&b[i], &v, 0))
			return true;
	}
	return false;
}

bool tw_pair_held(const struct tw_pair_table *t, uint16_t port, uint64_t key)
{
	uint64_t word = pair_word(port, key);
	return pair_count(pair_bucket(t, word), word) != 0;
}
