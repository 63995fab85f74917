/* twshim — unit tests for the runtime's socket work: pinning (allocator,
 * reserved ports, pair table, the replacement socket of pin_replace.c),
 * the linger setters and the /proc/sys reader, on real sockets.
 *
 * Nothing connects: the tests bind and set options only.  They run in a
 * private network namespace of their own (entered once, before the
 * tests), whose ip_local_reserved_ports they set, so they neither see nor
 * touch the machine's ports.  Needs CAP_SYS_ADMIN (the e2e tests do too). */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "check_main.h"
#include "client.h"
#include "decide.h"
#include "fdtable.h"
#include "pin.h"
#include "pin_internal.h"
#include "procsys.h"
#include "twshim/policy.h"

/* The pinned range, and the ports of it listed as reserved: 7 usable. */
#define LO 40000
#define HI 40009
#define RESERVED "40003-40005"
#define USABLE 7

static struct tw_policy policy;
static bool pin_up;
static char setup_error[160];

/* Once per process (Check runs the tests in forks of it, or in it with
 * CK_FORK=no): private namespace, reserved ports, pinning on. */
static void enter_private_netns(void)
{
	if (pin_up || setup_error[0])
		return;
	if (unshare(CLONE_NEWNET) != 0) {
		snprintf(setup_error, sizeof(setup_error),
			 "unshare(CLONE_NEWNET): %s (these tests need CAP_SYS_ADMIN)",
			 strerror(errno));
		return;
	}
	int fd = open("/proc/sys/net/ipv4/ip_local_reserved_ports", O_WRONLY | O_CLOEXEC);
	if (fd < 0 || write(fd, RESERVED, strlen(RESERVED)) != (ssize_t)strlen(RESERVED)) {
		snprintf(setup_error, sizeof(setup_error), "ip_local_reserved_ports: %s",
			 strerror(errno));
		if (fd >= 0)
			close(fd);
		return;
	}
	close(fd);
	memset(&policy, 0, sizeof(policy));
	policy.ports = TW_PORTS_RANGE;
	policy.port_range.lo = LO;
	policy.port_range.hi = HI;
	pin_up = tw_pin_init(&policy);
	if (!pin_up)
		snprintf(setup_error, sizeof(setup_error), "tw_pin_init failed");
}

static void require_setup(void)
{
	ck_assert_msg(pin_up, "%s", setup_error);
}

static struct sockaddr_in dest(uint16_t port)
{
	struct sockaddr_in d = { .sin_family = AF_INET, .sin_port = htons(port) };
	d.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	return d;
}

static int tcp4(void)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ck_assert_int_ge(fd, 0);
	return fd;
}

static uint16_t local_port(int fd)
{
	struct sockaddr_in a;
	socklen_t len = sizeof(a);
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&a, &len), 0);
	return ntohs(a.sin_port);
}

static int int_option(int fd, int level, int name)
{
	int v = 0;
	socklen_t len = sizeof(v);
	ck_assert_int_eq(getsockopt(fd, level, name, &v, &len), 0);
	return v;
}

static bool usable(uint16_t port)
{
	return port >= LO && port <= HI && !(port >= 40003 && port <= 40005);
}

/* Pin fd for destination d; returns the ticket. */
static struct tw_pin_ticket pin_for(int fd, const struct sockaddr_in *d)
{
	struct tw_pin_ticket t = { true, 1, 1 };
	errno = 1234;
	tw_pin_before_connect(fd, (const struct sockaddr *)d, sizeof(*d), false, &t);
	ck_assert_int_eq(errno, 1234); /* errno preserved */
	return t;
}

/* ---- allocator, reserved ports, pair table ---- */

START_TEST(pins_every_usable_port_once_per_destination)
{
	require_setup();
	struct sockaddr_in d = dest(1001);
	int fds[USABLE + 2];
	bool seen[65536] = { false };

	for (int i = 0; i < USABLE; i++) {
		fds[i] = tcp4();
		struct tw_pin_ticket t = pin_for(fds[i], &d);
		ck_assert(t.active);
		ck_assert_msg(usable(t.port), "port %u is reserved or out of range", t.port);
		ck_assert_msg(!seen[t.port], "port %u given twice to one destination", t.port);
		seen[t.port] = true;
		ck_assert_uint_eq(local_port(fds[i]), t.port);
		ck_assert_int_eq(int_option(fds[i], SOL_SOCKET, SO_REUSEADDR), 1);
		ck_assert_uint_eq(t.key, tw_dest_key((struct sockaddr *)&d, sizeof(d)));
		ck_assert(tw_pair_held(&tw_pin.pairs, t.port, t.key));
	}

	/* The range is used up for this destination: the socket is left as it
	 * was (unbound, no SO_REUSEADDR) and the kernel will choose. */
	fds[USABLE] = tcp4();
	struct tw_pin_ticket t = pin_for(fds[USABLE], &d);
	ck_assert(!t.active);
	ck_assert_uint_eq(local_port(fds[USABLE]), 0);
	ck_assert_int_eq(int_option(fds[USABLE], SOL_SOCKET, SO_REUSEADDR), 0);

	/* A released pair is given again. */
	uint16_t freed = local_port(fds[2]);
	tw_pin_release(freed, tw_dest_key((struct sockaddr *)&d, sizeof(d)));
	close(fds[2]);
	fds[USABLE + 1] = tcp4();
	t = pin_for(fds[USABLE + 1], &d);
	ck_assert(t.active);
	ck_assert_uint_eq(t.port, freed);

	for (int i = 0; i < USABLE + 2; i++)
		if (i != 2)
			close(fds[i]);
}
END_TEST

START_TEST(ports_are_per_destination)
{
	require_setup();
	struct sockaddr_in a = dest(1002), b = dest(1003);
	int fa[USABLE], fb[USABLE];

	for (int i = 0; i < USABLE; i++) {
		fa[i] = tcp4();
		ck_assert(pin_for(fa[i], &a).active);
	}
	/* Another destination gets the same ports (SO_REUSEADDR, no listener):
	 * the 4-tuples differ. */
	for (int i = 0; i < USABLE; i++) {
		fb[i] = tcp4();
		struct tw_pin_ticket t = pin_for(fb[i], &b);
		ck_assert(t.active);
		ck_assert(usable(t.port));
	}
	for (int i = 0; i < USABLE; i++) {
		close(fa[i]);
		close(fb[i]);
	}
}
END_TEST

START_TEST(busy_hints_never_cause_a_fallback)
{
	require_setup();
	/* Every usable port marked busy: the first pass skips them all, the
	 * second tries them, and the connect is still pinned. */
	uint16_t now = tw_pin_now_seconds();
	for (unsigned p = LO; p <= HI; p++)
		tw_pin_mark_busy((uint16_t)p, now);
	struct sockaddr_in d = dest(1004);
	int fd = tcp4();
	struct tw_pin_ticket t = pin_for(fd, &d);
	ck_assert(t.active);
	ck_assert(usable(t.port));
	close(fd);
}
END_TEST

START_TEST(program_choices_are_left_alone)
{
	require_setup();
	struct sockaddr_in d = dest(1005);

	/* bound by the program: kept, nothing reserved */
	int fd = tcp4();
	struct sockaddr_in own = dest(45000);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&own, sizeof(own)), 0);
	struct tw_pin_ticket t = pin_for(fd, &d);
	ck_assert(!t.active);
	ck_assert_uint_eq(local_port(fd), 45000);
	close(fd);

	/* IP_BIND_ADDRESS_NO_PORT set by the program: its own port allocation */
	fd = tcp4();
	struct tw_fd_entry *e = tw_fd_get(fd);
	ck_assert_ptr_nonnull(e);
	atomic_store(&e->flags, TW_FD_PROGRAM_NO_PORT);
	t = pin_for(fd, &d);
	ck_assert(!t.active);
	ck_assert_uint_eq(local_port(fd), 0);
	ck_assert_int_eq(int_option(fd, SOL_SOCKET, SO_REUSEADDR), 0);
	tw_fd_take(fd, NULL);
	close(fd);

	/* not IPv4/IPv6: no key, nothing done */
	fd = tcp4();
	struct sockaddr un = { .sa_family = AF_UNIX };
	t = (struct tw_pin_ticket){ true, 1, 1 };
	tw_pin_before_connect(fd, &un, sizeof(un), false, &t);
	ck_assert(!t.active);
	ck_assert_uint_eq(local_port(fd), 0);
	close(fd);
}
END_TEST

/* ---- after the connect: failure, and the replacement socket ---- */

static int fake_calls;
static uint16_t fake_port;

static ssize_t fake_connect_ok(int fd, const struct tw_connect_op *op)
{
	(void)op;
	fake_calls++;
	fake_port = local_port(fd);
	return 0;
}

START_TEST(refused_connect_releases_the_pair)
{
	require_setup();
	struct sockaddr_in d = dest(1006);
	int fd = tcp4();
	struct tw_pin_ticket t = pin_for(fd, &d);
	ck_assert(t.active);
	uint16_t port = t.port;
	struct tw_connect_op op = { .call = fake_connect_ok };
	int err = ECONNREFUSED;
	ck_assert_int_eq(tw_pin_after_connect(fd, -1, &err, &t, &op), -1);
	ck_assert_int_eq(err, ECONNREFUSED); /* the program sees exactly that */
	ck_assert(!t.active);
	ck_assert(!tw_pair_held(&tw_pin.pairs, port, tw_dest_key((struct sockaddr *)&d,
								    sizeof(d))));
	ck_assert_int_eq(fake_calls, 0);

	/* in progress: the reservation stays */
	int fd2 = tcp4();
	t = pin_for(fd2, &d);
	err = EINPROGRESS;
	ck_assert_int_eq(tw_pin_after_connect(fd2, -1, &err, &t, &op), -1);
	ck_assert(t.active && tw_pair_held(&tw_pin.pairs, t.port, t.key));
	close(fd);
	close(fd2);
}
END_TEST

START_TEST(taken_tuple_gets_a_replacement_socket)
{
	require_setup();
	struct sockaddr_in d = dest(1007);
	int fd = tcp4();
	struct linger lg = { 1, 0 };
	int one = 1;
	ck_assert_int_eq(setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)), 0);
	ck_assert_int_eq(setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)), 0);
	ck_assert_int_eq(setsockopt(fd, IPPROTO_TCP, TCP_LINGER2, &(int){ -1 }, sizeof(int)), 0);
	struct tw_pin_ticket t = pin_for(fd, &d);
	ck_assert(t.active);
	uint16_t taken = t.port;
	uint64_t cookie = tw_socket_cookie(fd);

	/* connect() said EADDRNOTAVAIL: another process holds the 4-tuple */
	struct tw_connect_op op = { .call = fake_connect_ok };
	int err = EADDRNOTAVAIL;
	fake_calls = 0;
	ck_assert_int_eq(tw_pin_after_connect(fd, -1, &err, &t, &op), 0);
	ck_assert_int_eq(err, 0);
	ck_assert_int_eq(fake_calls, 1);
	ck_assert(t.active);
	ck_assert_uint_ne(t.port, taken);
	ck_assert(usable(t.port));
	ck_assert_uint_eq(fake_port, t.port);
	ck_assert(!tw_pair_held(&tw_pin.pairs, taken, t.key));
	ck_assert(tw_pair_held(&tw_pin.pairs, t.port, t.key));

	/* same fd number, a new socket, the program's options carried over */
	ck_assert_uint_ne(tw_socket_cookie(fd), cookie);
	ck_assert_uint_eq(local_port(fd), t.port);
	struct linger got;
	socklen_t len = sizeof(got);
	ck_assert_int_eq(getsockopt(fd, SOL_SOCKET, SO_LINGER, &got, &len), 0);
	ck_assert(got.l_onoff == 1 && got.l_linger == 0);
	ck_assert_int_eq(int_option(fd, IPPROTO_TCP, TCP_NODELAY), 1);
	ck_assert_int_eq(int_option(fd, IPPROTO_TCP, TCP_LINGER2), -1);
	ck_assert(fcntl(fd, F_GETFD) & FD_CLOEXEC);
	close(fd);
}
END_TEST

/* ---- linger: the setters, and what the supervisor reads back ---- */

START_TEST(linger_setters_and_readback)
{
	struct tw_policy p;
	memset(&p, 0, sizeof(p));
	int fd = tcp4();
	char text[32];
	ck_assert_int_ge(tw_procsys_read("net/ipv4/tcp_fin_timeout", text, sizeof(text)), 1);
	int fin_timeout = atoi(text);
	ck_assert_int_gt(fin_timeout, 0);

	/* a fresh socket reads back tcp_fin_timeout: "not set by the program" */
	int v = int_option(fd, IPPROTO_TCP, TCP_LINGER2);
	ck_assert_int_eq(v, fin_timeout);
	ck_assert(!tw_program_set_linger2(v, fin_timeout));

	p.linger = TW_LINGER_SAFE;
	errno = 77;
	ck_assert(tw_apply_linger(fd, &p));
	ck_assert_int_eq(errno, 77);
	v = int_option(fd, IPPROTO_TCP, TCP_LINGER2);
	ck_assert_int_eq(v, TW_LINGER2_SAFE);
	ck_assert(tw_program_set_linger2(v, fin_timeout));
	struct linger lg;
	socklen_t len = sizeof(lg);
	ck_assert_int_eq(getsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, &len), 0);
	ck_assert_int_eq(lg.l_onoff, 0); /* safe never touches SO_LINGER */
	tw_clear_linger(fd, &p);
	ck_assert_int_eq(int_option(fd, IPPROTO_TCP, TCP_LINGER2), fin_timeout);

	p.linger = TW_LINGER_TIMEOUT;
	p.linger_seconds = 7;
	ck_assert(tw_apply_linger(fd, &p));
	len = sizeof(lg);
	ck_assert_int_eq(getsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, &len), 0);
	ck_assert(lg.l_onoff == 1 && lg.l_linger == 7);
	tw_clear_linger(fd, &p);
	len = sizeof(lg);
	ck_assert_int_eq(getsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, &len), 0);
	ck_assert_int_eq(lg.l_onoff, 0);
	close(fd);
}
END_TEST

START_TEST(linger2_doubles_as_the_tcp_test)
{
	int tcp = tcp4();
	int udp = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	int pair[2];
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair), 0);
	ck_assert_int_ge(udp, 0);

	errno = 5;
	ck_assert(tw_is_tcp_socket(tcp) && !tw_is_tcp_socket(udp) && !tw_is_tcp_socket(pair[0]));
	ck_assert(tw_set_linger2_if_tcp(tcp));
	ck_assert(!tw_set_linger2_if_tcp(udp));
	ck_assert(!tw_set_linger2_if_tcp(pair[0]));
	ck_assert(!tw_set_linger2_if_tcp(-1));
	ck_assert_int_eq(errno, 5);
	ck_assert_int_eq(int_option(tcp, IPPROTO_TCP, TCP_LINGER2), TW_LINGER2_SAFE);
	close(tcp);
	close(udp);
	close(pair[0]);
	close(pair[1]);
}
END_TEST

/* ---- /proc/sys ---- */

START_TEST(procsys_reads_whole_cut_and_missing)
{
	char buf[64];
	ssize_t n = tw_procsys_read("net/ipv4/ip_local_port_range", buf, sizeof(buf));
	ck_assert_int_gt(n, 0);
	ck_assert(!tw_procsys_cut(n, sizeof(buf)));
	ck_assert_uint_eq(strlen(buf), (size_t)n);
	struct tw_port_range r;
	ck_assert(tw_ports_parse_range(buf, &r));

	int dir = tw_procsys_open_dir("net/ipv4");
	ck_assert_int_ge(dir, 0);
	char reserved[64];
	n = tw_procsys_read_at(dir, "ip_local_reserved_ports", reserved, sizeof(reserved));
	ck_assert_int_gt(n, 0);
	if (pin_up)
		ck_assert_str_eq(reserved, RESERVED "\n");
	/* a text that fills the buffer may have been cut: said so */
	char tiny[4];
	n = tw_procsys_read_at(dir, "ip_local_port_range", tiny, sizeof(tiny));
	ck_assert_int_eq(n, 3);
	ck_assert(tw_procsys_cut(n, sizeof(tiny)));
	ck_assert_uint_eq(strlen(tiny), 3);
	tw_procsys_close_dir(dir);

	ck_assert_int_eq(tw_procsys_read("net/ipv4/no_such_sysctl", buf, sizeof(buf)), -1);
	ck_assert_int_eq(tw_procsys_read_at(-1, "ip_local_port_range", buf, sizeof(buf)), -1);
	ck_assert_int_eq(tw_procsys_read("net/ipv4/ip_local_port_range", buf, 0), -1);
	ck_assert_int_eq(tw_procsys_open_dir("no/such/dir"), -1);
}
END_TEST

Suite *tw_unit_suite(void)
{
	Suite *s = suite_create("pin");
	TCase *tp = tcase_create("pin");
	/* unchecked: once, in the runner, before any test is forked */
	tcase_add_unchecked_fixture(tp, enter_private_netns, NULL);
	tcase_add_test(tp, pins_every_usable_port_once_per_destination);
	tcase_add_test(tp, ports_are_per_destination);
	tcase_add_test(tp, busy_hints_never_cause_a_fallback);
	tcase_add_test(tp, program_choices_are_left_alone);
	tcase_add_test(tp, refused_connect_releases_the_pair);
	tcase_add_test(tp, taken_tuple_gets_a_replacement_socket);
	suite_add_tcase(s, tp);
	TCase *tl = tcase_create("linger");
	tcase_add_unchecked_fixture(tl, enter_private_netns, NULL);
	tcase_add_test(tl, linger_setters_and_readback);
	tcase_add_test(tl, linger2_doubles_as_the_tcp_test);
	suite_add_tcase(s, tl);
	TCase *tr = tcase_create("procsys");
	tcase_add_unchecked_fixture(tr, enter_private_netns, NULL);
	tcase_add_test(tr, procsys_reads_whole_cut_and_missing);
	suite_add_tcase(s, tr);
	return s;
}
