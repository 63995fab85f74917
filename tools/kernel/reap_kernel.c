/* twshim reap — the kernel side: a filtered TIME_WAIT dump and SOCK_DESTROY
 * of each socket the scope selects (see reap.h). */
#include "reap.h"

#include <errno.h>
#include <linux/capability.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef NETLINK_CAP_ACK
#define NETLINK_CAP_ACK 10
#endif

#define TCP_TIME_WAIT_STATE 6
/* destroy requests per send: the answers to failed ones must fit the
 * receive buffer */
#define DESTROY_BATCH 128

bool tw_have_cap_net_admin(void)
{
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct d[_LINUX_CAPABILITY_U32S_3];
	memset(d, 0, sizeof(d));
	if (syscall(SYS_capget, &h, d) != 0)
		return false;
	return d[CAP_NET_ADMIN / 32].effective & (1u << (CAP_NET_ADMIN % 32));
}

int tw_reap_open(void)
{
	struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };
	int one = 1, fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
	if (fd < 0)
		return -errno;
	/* acks without a copy of each request: smaller, more fit */
	(void)setsockopt(fd, SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof(one));
	if (connect(fd, (struct sockaddr *)&kernel, sizeof(kernel)) != 0) {
		int e = errno;
		close(fd);
		return -e;
	}
	return fd;
}

struct victim {
	uint8_t family;
	struct inet_diag_sockid id; /* exactly as dumped, cookie included */
};

struct victims {
	struct victim *v;
	size_t n, cap;
};

static uint32_t seq_counter = 1;

/* Send one buffer of netlink messages; 0 or -errno. */
static int nl_send(int fd, const void *buf, size_t len)
{
	while (send(fd, buf, len, 0) < 0)
		if (errno != EINTR)
			return -errno;
	return 0;
}

static ssize_t nl_recv(int fd, void *buf, size_t cap)
{
	ssize_t n;
	while ((n = recv(fd, buf, cap, 0)) < 0)
		if (errno != EINTR)
			return -errno;
	return n;
}

struct dump_ctx {
	const struct tw_reap_scope *scope;
	uint64_t min_age_ms;
	struct victims *out;
	struct tw_reap_counts *c;
};

/* The exact decision for one socket the kernel filter let through. */
static int consider(const struct tw_sock *k, const struct inet_diag_msg *m, void *ctx)
{
	struct dump_ctx *d = ctx;
	struct victims *out = d->out;
	uint64_t wait = 0;

	d->c->dumped++;
	switch (tw_reap_decide(d->scope, k, m->idiag_expires, d->min_age_ms, &wait)) {
	case TW_REAP_SKIP:
		return 0;
	case TW_REAP_YOUNG:
		d->c->young++;
		if (wait < d->c->next_ms)
			d->c->next_ms = wait;
		return 0;
	case TW_REAP_YES:
		break;
	}
	if (out->n == out->cap) {
		size_t ncap = out->cap ? out->cap * 2 : 256;
		struct victim *nv = realloc(out->v, ncap * sizeof(*nv));
		if (!nv)
			return -ENOMEM;
		out->v = nv;
		out->cap = ncap;
	}
	out->v[out->n].family = m->idiag_family;
	out->v[out->n].id = m->id;
	out->n++;
	return 0;
}

/* The filtered dump of one family: TIME_WAIT only, the scope's bytecode in
 * the kernel, then the exact decision here.  Appends the sockets to destroy. */
static int dump(int fd, int family, const struct tw_reap_scope *s, const uint8_t *bc, size_t bclen,
		uint64_t min_age_ms, struct victims *out, struct tw_reap_counts *c)
{
	struct dump_ctx d = { s, min_age_ms, out, c };
	return tw_sockdiag_dump_fd(fd, family, 1u << TCP_TIME_WAIT_STATE, bc, bclen, seq_counter++,
				   consider, &d);
}

/* SOCK_DESTROY for up to DESTROY_BATCH victims in one send.  The kernel
 * answers a failed request always, a successful one only when asked: only
 * the last request asks, and its answer comes after all the others, so a
 * batch costs one send and (usually) one receive.  The kernel looks each
 * socket up by its 4-tuple and checks the cookie, so a newer connection on
 * the same 4-tuple is never touched (ENOENT, counted as gone). */
static int destroy_batch(int fd, const struct victim *v, size_t n, struct tw_reap_counts *c)
{
	struct {
		struct nlmsghdr h;
		struct inet_diag_req_v2 r;
	} msgs[DESTROY_BATCH];
	char buf[8192];
	uint32_t base = seq_counter, last = base + (uint32_t)n - 1;
	unsigned long failed = 0;
	int rc;

	seq_counter += (uint32_t)n;
	memset(msgs, 0, sizeof(msgs));
	for (size_t i = 0; i < n; i++) {
		msgs[i].h.nlmsg_len = sizeof(msgs[i]);
		msgs[i].h.nlmsg_type = SOCK_DESTROY;
		msgs[i].h.nlmsg_flags = NLM_F_REQUEST | (i + 1 == n ? NLM_F_ACK : 0);
		msgs[i].h.nlmsg_seq = base + (uint32_t)i;
		msgs[i].r.sdiag_family = v[i].family;
		msgs[i].r.sdiag_protocol = IPPROTO_TCP;
		msgs[i].r.idiag_states = 1u << TCP_TIME_WAIT_STATE;
		msgs[i].r.id = v[i].id;
	}
	rc = nl_send(fd, msgs, n * sizeof(msgs[0]));
	if (rc)
		return rc;
	for (bool done = false; !done;) {
		ssize_t got = nl_recv(fd, buf, sizeof(buf));
		if (got <= 0)
			return got < 0 ? (int)got : -EPROTO;
		size_t left = (size_t)got;
		for (struct nlmsghdr *h = (struct nlmsghdr *)buf; NLMSG_OK(h, left); h = NLMSG_NEXT(h, left)) {
			if (h->nlmsg_type != NLMSG_ERROR || h->nlmsg_seq - base >= n ||
			    h->nlmsg_len < NLMSG_LENGTH(sizeof(int)))
				continue;
			int err = ((const struct nlmsgerr *)NLMSG_DATA(h))->error;
			done = done || h->nlmsg_seq == last;
			if (err == 0)
				continue;
			failed++;
			if (err == -ENOENT || err == -ESTALE) {
				c->gone++;
			} else {
				c->errors++;
				c->last_error = -err;
				if (err == -EPERM || err == -EOPNOTSUPP)
					rc = err;
			}
		}
	}
	c->reaped += n - failed;
	return rc;
}

int tw_reap_pass(int fd, const struct tw_reap_scope *s, const uint8_t *bc, size_t bclen,
		 uint64_t min_age_ms, struct tw_reap_counts *c)
{
	static const int families[] = { AF_INET, AF_INET6 };
	struct victims vs = { 0 };
	int rc = 0;

	memset(c, 0, sizeof(*c));
	c->passes = 1;
	c->next_ms = UINT64_MAX;
	for (size_t f = 0; f < 2 && !rc; f++) {
		vs.n = 0;
		int d = dump(fd, families[f], s, bc, bclen, min_age_ms, &vs, c);
		/* a kernel without IPv6 has no AF_INET6 handler */
		if (d < 0 && !(families[f] == AF_INET6 && (d == -ENOENT || d == -EAFNOSUPPORT))) {
			c->errors++;
			c->last_error = -d;
			rc = d;
			/* destroy what the dump did deliver */
		}
		for (size_t i = 0; i < vs.n; i += DESTROY_BATCH) {
			size_t k = vs.n - i < DESTROY_BATCH ? vs.n - i : DESTROY_BATCH;
			int e = destroy_batch(fd, vs.v + i, k, c);
			if (e == -EPERM || e == -EOPNOTSUPP) {
				rc = e;
				break;
			}
			if (e < 0) {
				c->errors++;
				c->last_error = -e;
				if (!rc)
					rc = e;
				break;
			}
		}
	}
	free(vs.v);
	return rc;
}

int tw_reap_probe(int fd)
{
	struct {
		struct nlmsghdr h;
		struct inet_diag_req_v2 r;
	} msg = {
		.h = {
			.nlmsg_len = sizeof(msg),
			.nlmsg_type = SOCK_DESTROY,
			.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK,
			.nlmsg_seq = seq_counter++,
		},
		/* 0.0.0.0:0 <-> 0.0.0.0:0 cannot exist */
		.r = { .sdiag_family = AF_INET, .sdiag_protocol = IPPROTO_TCP, .idiag_states = ~0u },
	};
	char buf[512];
	int rc = nl_send(fd, &msg, sizeof(msg));
	if (rc)
		return rc;
	for (;;) {
		ssize_t n = nl_recv(fd, buf, sizeof(buf));
		if (n <= 0)
			return n < 0 ? (int)n : -EPROTO;
		size_t left = (size_t)n;
		for (struct nlmsghdr *h = (struct nlmsghdr *)buf; NLMSG_OK(h, left); h = NLMSG_NEXT(h, left)) {
			if (h->nlmsg_type != NLMSG_ERROR || h->nlmsg_seq != msg.h.nlmsg_seq)
				continue;
			int err = ((const struct nlmsgerr *)NLMSG_DATA(h))->error;
			/* ENOENT: the lookup ran, so destroy is built in */
			return err == -ENOENT || err == 0 ? 0 : err;
		}
	}
}
