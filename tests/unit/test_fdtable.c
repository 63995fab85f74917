/* twshim — unit tests for the per-fd table and the safe-format logger's
 * formatter.  The connect plan is tested with the other decisions in
 * test_decide.c. */
#include <netinet/in.h>
#include <arpa/inet.h>
#include <pthread.h>
#include <string.h>
#include <sys/resource.h>

#include "check_main.h"
#include "fdtable.h"
#include "fmt.h"

START_TEST(peek_of_unused_chunk_is_null)
{
	/* Nothing allocates until an fd is recorded: memory follows use. */
	ck_assert_ptr_null(tw_fd_peek(1 << 20));
	ck_assert_ptr_null(tw_fd_peek(-1));
	ck_assert_ptr_null(tw_fd_get(-5));
	ck_assert_ptr_null(tw_fd_get(1 << 30));
}
END_TEST

START_TEST(get_creates_and_take_clears)
{
	struct tw_fd_entry *e = tw_fd_get(70000);
	ck_assert_ptr_nonnull(e);
	ck_assert_ptr_eq(tw_fd_peek(70000), e);
	ck_assert_ptr_nonnull(tw_fd_peek(70001)); /* same chunk */
	ck_assert_int_ge(tw_fd_limit(), 70001);

	e->pin_port = 61000;
	e->pin_key = 42;
	atomic_store(&e->cookie, 99);
	atomic_store(&e->flags, TW_FD_PROGRAM_LINGER2 | TW_FD_PINNED);

	struct tw_fd_entry out;
	uint32_t flags = tw_fd_take(70000, &out);
	ck_assert_uint_eq(flags, TW_FD_PROGRAM_LINGER2 | TW_FD_PINNED);
	ck_assert_uint_eq(out.pin_port, 61000);
	ck_assert_uint_eq(out.pin_key, 42);
	ck_assert_uint_eq(atomic_load(&out.cookie), 99);
	ck_assert_uint_eq(atomic_load(&e->flags), 0);
	ck_assert_uint_eq(atomic_load(&e->cookie), 0);
	ck_assert_uint_eq(tw_fd_take(70000, NULL), 0);
}
END_TEST

START_TEST(cookie_in_use_finds_duplicates)
{
	struct tw_fd_entry *a = tw_fd_get(20), *b = tw_fd_get(21);
	atomic_store(&a->cookie, 777);
	atomic_store(&a->flags, TW_FD_PINNED | TW_FD_DUPED);
	atomic_store(&b->cookie, 777);
	atomic_store(&b->flags, TW_FD_PINNED | TW_FD_DUPED);
	ck_assert(tw_fd_cookie_in_use(777, 20));
	tw_fd_take(21, NULL);
	ck_assert(!tw_fd_cookie_in_use(777, 20));
	ck_assert(!tw_fd_cookie_in_use(0, -1));
	tw_fd_take(20, NULL);
}
END_TEST

static void *create_same_chunk(void *arg)
{
	return tw_fd_get((int)(intptr_t)arg);
}

START_TEST(concurrent_chunk_creation_agrees)
{
	pthread_t t[8];
	void *r[8];
	for (int i = 0; i < 8; i++)
		pthread_create(&t[i], NULL, create_same_chunk, (void *)(intptr_t)(300000 + i));
	for (int i = 0; i < 8; i++)
		pthread_join(t[i], &r[i]);
	for (int i = 0; i < 8; i++)
		ck_assert_ptr_eq(r[i], tw_fd_peek(300000 + i));
	ck_assert_int_eq((char *)r[7] - (char *)r[0], 7 * (long)sizeof(struct tw_fd_entry));
}
END_TEST

START_TEST(fmt_formats_and_truncates)
{
	char buf[64];
	ck_assert_uint_eq(tw_fmt(buf, sizeof(buf), "a%sb%dc%uz%lu%%%x", "X", -12, 7u, 123456789012ul, 255u), 24);
	ck_assert_str_eq(buf, "aXb-12c7z123456789012%ff");
	char small[5];
	ck_assert_uint_eq(tw_fmt(small, sizeof(small), "%s", "abcdefgh"), 4);
	ck_assert_str_eq(small, "abcd");
	const char *volatile none = NULL; /* hidden from the compiler's format check */
	ck_assert_uint_eq(tw_fmt(buf, sizeof(buf), "%s|%zu|%ld", none, (size_t)5, -9l), 11);
	ck_assert_str_eq(buf, "(null)|5|-9");
}
END_TEST

Suite *tw_unit_suite(void)
{
	Suite *s = suite_create("fdtable");
	TCase *tc = tcase_create("table");
	tcase_add_test(tc, peek_of_unused_chunk_is_null);
	tcase_add_test(tc, get_creates_and_take_clears);
	tcase_add_test(tc, cookie_in_use_finds_duplicates);
	tcase_add_test(tc, concurrent_chunk_creation_agrees);
	suite_add_tcase(s, tc);
	TCase *tf = tcase_create("fmt");
	tcase_add_test(tf, fmt_formats_and_truncates);
	suite_add_tcase(s, tf);
	return s;
}
