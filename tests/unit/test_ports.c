/* Unit tests for the source-port arithmetic (include/twshim/ports.h). */
#include <netinet/in.h>
#include <arpa/inet.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "check_main.h"
#include "twshim/ports.h"

static struct tw_port_bitmap bm;

/* ---- sysctl texts ---- */

START_TEST(range_parses_kernel_text)
{
	struct tw_port_range r = { 0, 0 };

	ck_assert(tw_ports_parse_range("32768\t60999\n", &r));
	ck_assert_uint_eq(r.lo, 32768);
	ck_assert_uint_eq(r.hi, 60999);
	ck_assert(tw_ports_parse_range("1 65535", &r));
	ck_assert_uint_eq(r.lo, 1);
	ck_assert_uint_eq(r.hi, 65535);
	ck_assert(tw_ports_parse_range("40000\t40000\n", &r));
	ck_assert_uint_eq(r.lo, 40000);
	ck_assert_uint_eq(r.hi, 40000);
}
END_TEST

START_TEST(range_rejects_garbage)
{
	static const char *const bad[] = {
		"", "\n", "32768", "32768\t", "a b", "32768\t60999 x", "60999\t32768",
		"0\t100", "1\t65536", "-1\t5", "+1\t5", "32768-60999", "99999999999\t1",
		"32768\t60999\t7",
	};
	struct tw_port_range r = { 7, 9 };

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ck_assert_msg(!tw_ports_parse_range(bad[i], &r), "accepted '%s'", bad[i]);
		ck_assert_uint_eq(r.lo, 7);
		ck_assert_uint_eq(r.hi, 9);
	}
	ck_assert(!tw_ports_parse_range(NULL, &r));
}
END_TEST

static unsigned count_bits(const struct tw_port_bitmap *b)
{
	unsigned n = 0;

	for (unsigned i = 0; i < TW_PORT_BITMAP_WORDS; i++)
		n += (unsigned)__builtin_popcountll(b->w[i]);
	return n;
}

START_TEST(reserved_empty)
{
	memset(&bm, 0xff, sizeof(bm));
	ck_assert(tw_ports_parse_reserved("", &bm));
	ck_assert_uint_eq(count_bits(&bm), 0);
	memset(&bm, 0xff, sizeof(bm));
	ck_assert(tw_ports_parse_reserved("\n", &bm));
	ck_assert_uint_eq(count_bits(&bm), 0);
	ck_assert(tw_ports_parse_reserved(NULL, &bm));
	ck_assert_uint_eq(count_bits(&bm), 0);
}
END_TEST

START_TEST(reserved_list_and_ranges)
{
	ck_assert(tw_ports_parse_reserved("8080,9000-9010,65535\n", &bm));
	ck_assert_uint_eq(count_bits(&bm), 13);
	ck_assert(tw_port_bit(&bm, 8080));
	ck_assert(!tw_port_bit(&bm, 8079));
	ck_assert(!tw_port_bit(&bm, 8081));
	ck_assert(tw_port_bit(&bm, 9000));
	ck_assert(tw_port_bit(&bm, 9010));
	ck_assert(!tw_port_bit(&bm, 9011));
	ck_assert(tw_port_bit(&bm, 65535));
	ck_assert(tw_ports_parse_reserved("61005", &bm));
	ck_assert_uint_eq(count_bits(&bm), 1);
	ck_assert(tw_ports_parse_reserved("0-65535", &bm));
	ck_assert_uint_eq(count_bits(&bm), 65536);
}
END_TEST

START_TEST(reserved_garbage_clears)
{
	static const char *const bad[] = {
		"8080,", ",8080", "8080,,9000", "9010-9000", "80-", "x", "8080 9000",
		"65536", "1-2-3", "8080;9000", "-5",
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(&bm, 0xff, sizeof(bm));
		ck_assert_msg(!tw_ports_parse_reserved(bad[i], &bm), "accepted '%s'", bad[i]);
		ck_assert_uint_eq(count_bits(&bm), 0);
	}
}
END_TEST

/* ---- range arithmetic ---- */

START_TEST(above_arithmetic)
{
	struct tw_port_range r = { 0, 0 };

	ck_assert(tw_ports_above((struct tw_port_range){ 32768, 60999 }, &r));
	ck_assert_uint_eq(r.lo, 61000);
	ck_assert_uint_eq(r.hi, 65535);
	ck_assert(tw_ports_above((struct tw_port_range){ 40000, 65534 }, &r));
	ck_assert_uint_eq(r.lo, 65535);
	ck_assert_uint_eq(r.hi, 65535);
	r = (struct tw_port_range){ 5, 6 };
	ck_assert(!tw_ports_above((struct tw_port_range){ 1024, 65535 }, &r));
	ck_assert_uint_eq(r.lo, 5); /* untouched */
}
END_TEST

START_TEST(overlap_detection)
{
	struct tw_port_range eph = { 32768, 60999 };

	ck_assert(!tw_ports_overlap((struct tw_port_range){ 61000, 65535 }, eph));
	ck_assert(tw_ports_overlap((struct tw_port_range){ 60999, 65535 }, eph));
	ck_assert(tw_ports_overlap((struct tw_port_range){ 1000, 32768 }, eph));
	ck_assert(!tw_ports_overlap((struct tw_port_range){ 1000, 32767 }, eph));
	ck_assert(tw_ports_overlap((struct tw_port_range){ 40000, 40001 }, eph));
	ck_assert(tw_ports_overlap((struct tw_port_range){ 1, 65535 }, eph));
}
END_TEST

START_TEST(usable_skips_reserved)
{
	uint16_t out[64];
	size_t n;

	ck_assert(tw_ports_parse_reserved("61001,61003-61005", &bm));
	n = tw_ports_usable((struct tw_port_range){ 61000, 61009 }, &bm, out, 64);
	ck_assert_uint_eq(n, 6);
	ck_assert_uint_eq(out[0], 61000);
	ck_assert_uint_eq(out[1], 61002);
	ck_assert_uint_eq(out[2], 61006);
	ck_assert_uint_eq(out[5], 61009);
	/* everything reserved: empty */
	ck_assert(tw_ports_parse_reserved("61000-61009", &bm));
	ck_assert_uint_eq(tw_ports_usable((struct tw_port_range){ 61000, 61009 }, &bm, out, 64), 0);
	/* count beyond cap, and port 0 never usable */
	ck_assert_uint_eq(tw_ports_usable((struct tw_port_range){ 0, 99 }, NULL, out, 4), 99);
	ck_assert_uint_eq(out[0], 1);
}
END_TEST

/* ---- cursor ---- */

static uint16_t ports_buf[65536];

START_TEST(cursor_never_returns_reserved_and_cycles)
{
	struct tw_port_range r = { 61000, 65535 };
	static unsigned seen[65536];
	size_t n;
	struct tw_port_cursor c;

	ck_assert(tw_ports_parse_reserved("61000-61100,62000,65000-65535", &bm));
	n = tw_ports_usable(r, &bm, ports_buf, 65536);
	ck_assert_uint_eq(n, 4536 - 101 - 1 - 536);
	/* Counted, then asserted once per seed: ~4,000 ck_asserts per seed
	 * made this test the slowest one under the sanitizers and valgrind. */
	for (uint64_t seed = 1; seed < 40; seed++) {
		size_t reserved = 0, below = 0, bad_wrap = 0, not_once = 0;

		memset(seen, 0, sizeof(seen));
		tw_cursor_init(&c, ports_buf, (uint32_t)n, seed * 7919);
		for (size_t i = 0; i < n; i++) {
			bool wrapped;
			uint16_t p = tw_cursor_next(&c, &wrapped);

			reserved += tw_port_bit(&bm, p);
			below += p < r.lo;
			bad_wrap += wrapped != (i == 0);
			seen[p]++;
		}
		/* one full cycle visits every usable port exactly once */
		for (size_t i = 0; i < n; i++)
			not_once += seen[ports_buf[i]] != 1;
		ck_assert_uint_eq(reserved, 0);
		ck_assert_uint_eq(below, 0);
		ck_assert_uint_eq(bad_wrap, 0);
		ck_assert_uint_eq(not_once, 0);
	}
}
END_TEST

START_TEST(cursor_spreads_start)
{
	struct tw_port_cursor c;
	static unsigned firsts[65536];
	unsigned distinct = 0, adjacent = 0;
	size_t n = tw_ports_usable((struct tw_port_range){ 61000, 65535 }, NULL, ports_buf, 65536);

	memset(firsts, 0, sizeof(firsts));
	for (uint64_t seed = 0; seed < 100; seed++) {
		uint16_t a, b;

		tw_cursor_init(&c, ports_buf, (uint32_t)n, seed);
		a = tw_cursor_next(&c, NULL);
		b = tw_cursor_next(&c, NULL);
		if (firsts[a]++ == 0)
			distinct++;
		if (abs((int)a - (int)b) == 1)
			adjacent++;
	}
	/* 100 seeds over 4536 ports: random starts nearly never coincide */
	ck_assert_uint_ge(distinct, 90);
	/* strides differ too, so processes do not walk in step */
	ck_assert_uint_le(adjacent, 5);
}
END_TEST

START_TEST(cursor_small_and_empty)
{
	struct tw_port_cursor c;
	uint16_t one = 61000, two[2] = { 61000, 61001 };

	tw_cursor_init(&c, NULL, 0, 42);
	ck_assert_uint_eq(tw_cursor_next(&c, NULL), 0);
	tw_cursor_init(&c, &one, 1, 42);
	ck_assert_uint_eq(tw_cursor_next(&c, NULL), 61000);
	ck_assert_uint_eq(tw_cursor_next(&c, NULL), 61000);
	tw_cursor_init(&c, two, 2, 42);
	ck_assert_uint_ne(tw_cursor_next(&c, NULL), tw_cursor_next(&c, NULL));
}
END_TEST

/* ---- destination keys ---- */

static struct sockaddr_in v4(const char *a, uint16_t port)
{
	struct sockaddr_in s = { .sin_family = AF_INET, .sin_port = htons(port) };

	inet_pton(AF_INET, a, &s.sin_addr);
	return s;
}

static struct sockaddr_in6 v6(const char *a, uint16_t port)
{
	struct sockaddr_in6 s = { .sin6_family = AF_INET6, .sin6_port = htons(port) };

	inet_pton(AF_INET6, a, &s.sin6_addr);
	return s;
}

START_TEST(dest_key_normalises_v4_mapped)
{
	struct sockaddr_in a = v4("127.0.0.1", 8080), b = v4("127.0.0.1", 8081),
			   c = v4("127.0.0.2", 8080);
	struct sockaddr_in6 m = v6("::ffff:127.0.0.1", 8080), s6 = v6("::1", 8080);
	struct sockaddr_un_like { sa_family_t f; char p[20]; } u = { AF_UNIX, "x" };
	uint64_t ka = tw_dest_key((struct sockaddr *)&a, sizeof(a));

	ck_assert_uint_ne(ka, 0);
	ck_assert_uint_eq(ka, tw_dest_key((struct sockaddr *)&m, sizeof(m)));
	ck_assert_uint_ne(ka, tw_dest_key((struct sockaddr *)&b, sizeof(b)));
	ck_assert_uint_ne(ka, tw_dest_key((struct sockaddr *)&c, sizeof(c)));
	ck_assert_uint_ne(ka, tw_dest_key((struct sockaddr *)&s6, sizeof(s6)));
	ck_assert_uint_eq(tw_dest_key((struct sockaddr *)&a, 4), 0);
	ck_assert_uint_eq(tw_dest_key((struct sockaddr *)&u, sizeof(u)), 0);
	ck_assert_uint_eq(tw_dest_key(NULL, 0), 0);
}
END_TEST

/* ---- pair table ---- */

#define NSLOTS 1024u
static _Atomic uint64_t slots[NSLOTS];

static void fresh_table(struct tw_pair_table *t, uint32_t n)
{
	memset((void *)slots, 0, sizeof(slots));
	tw_pair_table_init(t, slots, n);
}

START_TEST(pair_no_duplicate_while_held)
{
	struct tw_pair_table t;

	fresh_table(&t, NSLOTS);
	ck_assert_int_eq(tw_pair_reserve(&t, 61000, 0xabc), TW_PAIR_OK);
	ck_assert(tw_pair_held(&t, 61000, 0xabc));
	ck_assert_int_eq(tw_pair_reserve(&t, 61000, 0xabc), TW_PAIR_BUSY);
	/* same port, other destination; same destination, other port: fine */
	ck_assert_int_eq(tw_pair_reserve(&t, 61000, 0xabd), TW_PAIR_OK);
	ck_assert_int_eq(tw_pair_reserve(&t, 61001, 0xabc), TW_PAIR_OK);
	ck_assert_int_eq(tw_pair_reserve(&t, 0, 0xabc), TW_PAIR_BUSY);
}
END_TEST

START_TEST(pair_release_works)
{
	struct tw_pair_table t;

	fresh_table(&t, NSLOTS);
	ck_assert_int_eq(tw_pair_reserve(&t, 62000, 77), TW_PAIR_OK);
	ck_assert(tw_pair_release(&t, 62000, 77));
	ck_assert(!tw_pair_held(&t, 62000, 77));
	ck_assert(!tw_pair_release(&t, 62000, 77));
	ck_assert_int_eq(tw_pair_reserve(&t, 62000, 77), TW_PAIR_OK);
	/* Many different pairs, each reserved and released (a scanner's
	 * life): none leaves anything behind, so the table never gets slower
	 * to search, nor fills up. */
	for (unsigned i = 0; i < 100000; i++) {
		uint16_t port = (uint16_t)(1000 + i % 3000);

		ck_assert_int_eq(tw_pair_reserve(&t, port, i), TW_PAIR_OK);
		ck_assert(tw_pair_release(&t, port, i));
	}
	ck_assert(tw_pair_held(&t, 62000, 77));
	ck_assert(tw_pair_release(&t, 62000, 77));
	for (unsigned i = 0; i < NSLOTS; i++)
		ck_assert_uint_eq(atomic_load(&slots[i]), 0);
}
END_TEST

START_TEST(pair_full_table)
{
	struct tw_pair_table t;

	fresh_table(&t, TW_PAIR_BUCKET); /* one bucket */
	for (unsigned i = 0; i < TW_PAIR_BUCKET; i++)
		ck_assert_int_eq(tw_pair_reserve(&t, (uint16_t)(1 + i), 5), TW_PAIR_OK);
	ck_assert_int_eq(tw_pair_reserve(&t, 5000, 5), TW_PAIR_FULL);
	/* a held pair still reports busy, not full */
	ck_assert_int_eq(tw_pair_reserve(&t, 1, 5), TW_PAIR_BUSY);
	ck_assert(tw_pair_release(&t, 3, 5));
	ck_assert_int_eq(tw_pair_reserve(&t, 5000, 5), TW_PAIR_OK);
	ck_assert_int_eq(tw_pair_reserve(&t, 5001, 5), TW_PAIR_FULL);
}
END_TEST

/* Many threads reserve and release the same few pairs; a shared counter
 * per pair catches two holders at once. */
#define RACE_THREADS 8
#define RACE_PAIRS 4
static _Atomic int holders[RACE_PAIRS];
static _Atomic int overlaps;
static _Atomic int lost;
static struct tw_pair_table race_table;

static void *race(void *arg)
{
	unsigned seed = (unsigned)(uintptr_t)arg;

	for (unsigned i = 0; i < 200000; i++) {
		unsigned k = (seed + i) % RACE_PAIRS;

		if (tw_pair_reserve(&race_table, (uint16_t)(61000 + k), 99) != TW_PAIR_OK)
			continue;
		if (atomic_fetch_add(&holders[k], 1) != 0)
			atomic_fetch_add(&overlaps, 1);
		atomic_fetch_sub(&holders[k], 1);
		if (!tw_pair_release(&race_table, (uint16_t)(61000 + k), 99))
			atomic_fetch_add(&lost, 1);
	}
	return NULL;
}

START_TEST(pair_concurrent_no_duplicate)
{
	pthread_t th[RACE_THREADS];

	memset((void *)slots, 0, sizeof(slots));
	/* one bucket: every pair competes for the same slots */
	tw_pair_table_init(&race_table, slots, TW_PAIR_BUCKET);
	for (uintptr_t i = 0; i < RACE_THREADS; i++)
		ck_assert_int_eq(pthread_create(&th[i], NULL, race, (void *)i), 0);
	for (int i = 0; i < RACE_THREADS; i++)
		pthread_join(th[i], NULL);
	ck_assert_int_eq(atomic_load(&overlaps), 0);
	ck_assert_int_eq(atomic_load(&lost), 0);
	for (int k = 0; k < RACE_PAIRS; k++)
		ck_assert(!tw_pair_held(&race_table, (uint16_t)(61000 + k), 99));
}
END_TEST

Suite *tw_unit_suite(void)
{
	Suite *s = suite_create("ports");
	TCase *t = tcase_create("sysctl");

	tcase_add_test(t, range_parses_kernel_text);
	tcase_add_test(t, range_rejects_garbage);
	tcase_add_test(t, reserved_empty);
	tcase_add_test(t, reserved_list_and_ranges);
	tcase_add_test(t, reserved_garbage_clears);
	suite_add_tcase(s, t);

	t = tcase_create("range");
	tcase_add_test(t, above_arithmetic);
	tcase_add_test(t, overlap_detection);
	tcase_add_test(t, usable_skips_reserved);
	suite_add_tcase(s, t);

	t = tcase_create("cursor");
	tcase_set_timeout(t, 60); /* a bound for a hang, never reached: ~0.1 s here */
	tcase_add_test(t, cursor_never_returns_reserved_and_cycles);
	tcase_add_test(t, cursor_spreads_start);
	tcase_add_test(t, cursor_small_and_empty);
	suite_add_tcase(s, t);

	t = tcase_create("pairs");
	tcase_set_timeout(t, 60);
	tcase_add_test(t, dest_key_normalises_v4_mapped);
	tcase_add_test(t, pair_no_duplicate_while_held);
	tcase_add_test(t, pair_release_works);
	tcase_add_test(t, pair_full_table);
	tcase_add_test(t, pair_concurrent_no_duplicate);
	suite_add_tcase(s, t);
	return s;
}
