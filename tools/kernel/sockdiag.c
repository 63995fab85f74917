/* twshim — NETLINK_SOCK_DIAG dump and counting (see sockdiag.h). */
#include "sockdiag.h"
#include "reap.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int tw_sockdiag_dump_fd(int fd, int family, uint32_t states, const uint8_t *bc, size_t bclen,
			uint32_t seq, tw_diag_fn fn, void *ctx)
{
	struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };
	size_t attr = bclen ? NLA_HDRLEN + bclen : 0;
	size_t len = NLMSG_LENGTH(sizeof(struct inet_diag_req_v2)) + NLA_ALIGN(attr);
	uint8_t *msg = calloc(1, len);
	/* 32 KiB per read; the kernel fills as many messages as fit */
	size_t cap = 32768;
	char *buf = malloc(cap);
	int rc = 1;

	if (!msg || !buf) {
		free(msg);
		free(buf);
		return -ENOMEM;
	}
	struct nlmsghdr *h = (struct nlmsghdr *)msg;
	h->nlmsg_len = (uint32_t)len;
	h->nlmsg_type = SOCK_DIAG_BY_FAMILY;
	h->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	h->nlmsg_seq = seq;
	struct inet_diag_req_v2 *req = NLMSG_DATA(h);
	req->sdiag_family = (uint8_t)family;
	req->sdiag_protocol = IPPROTO_TCP;
	req->idiag_states = states;
	if (bclen) {
		struct nlattr *a = (struct nlattr *)(msg + NLMSG_LENGTH(sizeof(*req)));
		a->nla_type = INET_DIAG_REQ_BYTECODE;
		a->nla_len = (uint16_t)attr;
		memcpy((uint8_t *)a + NLA_HDRLEN, bc, bclen);
	}
	while (sendto(fd, msg, len, 0, (struct sockaddr *)&kernel, sizeof(kernel)) < 0) {
		if (errno != EINTR) {
			rc = -errno;
			break;
		}
	}
	free(msg);

	while (rc > 0) {
		ssize_t n = recv(fd, buf, cap, 0);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			rc = -errno;
			break;
		}
		if (n == 0) {
			rc = -EPROTO;
			break;
		}
		size_t left = (size_t)n;
		for (h = (struct nlmsghdr *)buf; NLMSG_OK(h, left); h = NLMSG_NEXT(h, left)) {
			if (h->nlmsg_seq != seq)
				continue;
			if (h->nlmsg_type == NLMSG_DONE) {
				rc = 0;
				break;
			}
			if (h->nlmsg_type == NLMSG_ERROR) {
				const struct nlmsgerr *e = NLMSG_DATA(h);
				rc = h->nlmsg_len >= NLMSG_LENGTH(sizeof(*e)) && e->error ? e->error : -EPROTO;
				break;
			}
			if (h->nlmsg_type != SOCK_DIAG_BY_FAMILY ||
			    h->nlmsg_len < NLMSG_LENGTH(sizeof(struct inet_diag_msg)))
				continue;
			const struct inet_diag_msg *m = NLMSG_DATA(h);
			struct tw_sock s = {
				.family = m->idiag_family,
				.state = m->idiag_state,
				.sport = ntohs(m->id.idiag_sport),
				.dport = ntohs(m->id.idiag_dport),
			};
			memcpy(s.src, m->id.idiag_src, 16);
			memcpy(s.dst, m->id.idiag_dst, 16);
			int e = fn(&s, m, ctx);
			if (e < 0) {
				rc = e;
				break;
			}
		}
	}
	/* what a failed dump left queued has this seq: a later dump on the
	 * same socket, with another seq, skips it */
	free(buf);
	return rc;
}

struct plain_dump {
	tw_sock_fn fn;
	void *ctx;
};

static int plain_one(const struct tw_sock *s, const struct inet_diag_msg *m, void *ctx)
{
	const struct plain_dump *d = ctx;
	(void)m;
	d->fn(s, d->ctx);
	return 0;
}

int tw_sockdiag_dump(int family, tw_sock_fn fn, void *ctx)
{
	struct plain_dump d = { fn, ctx };
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
	if (fd < 0)
		return -errno;
	/* every state, TIME_WAIT and request sockets included */
	int rc = tw_sockdiag_dump_fd(fd, family, ~0u, NULL, 0, 1, plain_one, &d);
	close(fd);
	return rc;
}

const char *tw_state_name(unsigned state)
{
	static const char *const names[TW_STATE_MAX] = {
		[1] = "ESTABLISHED", [2] = "SYN_SENT", [3] = "SYN_RECV", [4] = "FIN_WAIT1",
		[5] = "FIN_WAIT2", [6] = "TIME_WAIT", [7] = "CLOSE", [8] = "CLOSE_WAIT",
		[9] = "LAST_ACK", [10] = "LISTEN", [11] = "CLOSING",
	};
	return state < TW_STATE_MAX ? names[state] : NULL;
}

static const uint8_t v4mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

bool tw_cidr_parse(const char *s, struct tw_cidr *out)
{
	char addr[INET6_ADDRSTRLEN];
	const char *slash = strchr(s, '/');
	size_t alen = slash ? (size_t)(slash - s) : strlen(s);
	memset(out, 0, sizeof(*out));
	if (alen == 0 || alen >= sizeof(addr))
		return false;
	memcpy(addr, s, alen);
	addr[alen] = '\0';
	if (inet_pton(AF_INET, addr, out->addr) == 1)
		out->family = AF_INET;
	else if (inet_pton(AF_INET6, addr, out->addr) == 1)
		out->family = AF_INET6;
	else
		return false;
	unsigned max = out->family == AF_INET ? 32 : 128;
	out->prefix = (uint8_t)max;
	if (slash) {
		char *end;
		errno = 0;
		unsigned long p = strtoul(slash + 1, &end, 10);
		if (errno || end == slash + 1 || *end || p > max)
			return false;
		out->prefix = (uint8_t)p;
	}
	/* clear host bits so the prefix compares directly */
	for (unsigned bit = out->prefix; bit < max; bit++)
		out->addr[bit / 8] &= (uint8_t)~(0x80u >> (bit % 8));
	return true;
}

static bool prefix_eq(const uint8_t *a, const uint8_t *b, unsigned bits)
{
	for (unsigned i = 0; i < bits / 8; i++)
		if (a[i] != b[i])
			return false;
	if (bits % 8) {
		uint8_t mask = (uint8_t)(0xff00u >> (bits % 8));
		return (a[bits / 8] & mask) == (b[bits / 8] & mask);
	}
	return true;
}

static bool cidr_match(const struct tw_cidr *c, uint8_t family, const uint8_t *addr)
{
	if (!c->family)
		return true;
	if (c->family == AF_INET) {
		if (family == AF_INET6 && !memcmp(addr, v4mapped, 12))
			addr += 12;
		else if (family != AF_INET)
			return false;
	} else if (family != AF_INET6) {
		return false;
	}
	return prefix_eq(addr, c->addr, c->prefix);
}

/* Append one count for the socket's destination (grouped later). */
static bool push_dest(struct tw_dest_count **v, size_t *n, size_t *cap, const struct tw_sock *s)
{
	if (*n == *cap) {
		size_t c = *cap ? *cap * 2 : 1024;
		struct tw_dest_count *d = realloc(*v, c * sizeof(*d));
		if (!d)
			return false;
		*v = d;
		*cap = c;
	}
	struct tw_dest_count *d = &(*v)[(*n)++];
	memset(d, 0, sizeof(*d));
	d->port = s->dport;
	d->count = 1;
	if (s->family == AF_INET6 && !memcmp(s->dst, v4mapped, 12)) {
		d->family = AF_INET;
		memcpy(d->addr, s->dst + 12, 4);
	} else {
		d->family = s->family;
		memcpy(d->addr, s->dst, s->family == AF_INET ? 4 : 16);
	}
	return true;
}

void tw_stat_add(const struct tw_sock *s, void *ctx)
{
	struct tw_stat *st = ctx;
	const struct tw_stat_filter *f = &st->filter;
	unsigned state = s->state == 12 ? 3 : s->state;

	if (s->sport < f->sport_lo || s->sport > f->sport_hi || s->dport < f->dport_lo ||
	    s->dport > f->dport_hi || !cidr_match(&f->dst, s->family, s->dst) ||
	    (f->states && (state >= 32 || !(f->states & (1u << state)))) ||
	    (f->scope && !tw_reap_scope_selects(f->scope, s)))
		return;
	st->total++;
	if (s->family == AF_INET)
		st->ipv4++;
	else
		st->ipv6++;
	if (state < TW_STATE_MAX)
		st->states[state]++;

	if (s->sport >= st->eph_lo && s->sport <= st->eph_hi) {
		uint64_t bit = (uint64_t)1 << (s->sport & 63u);
		if (!(st->eph_bits[s->sport >> 6] & bit)) {
			st->eph_bits[s->sport >> 6] |= bit;
			st->eph_used++;
		}
		if (st->by_dest && state != 10 /* LISTEN */ &&
		    !push_dest(&st->eph_dest.v, &st->eph_dest.n, &st->eph_dest.cap, s))
			st->oom = true;
	}
	if (state != 6)
		return;

	if (st->reserved && tw_portset_has(st->reserved, s->sport))
		st->tw_reserved++;
	else if (s->sport >= st->eph_lo && s->sport <= st->eph_hi)
		st->tw_ephemeral++;
	else if (s->sport > st->eph_hi)
		st->tw_above++;
	else
		st->tw_other++;

	if (!push_dest(&st->dest, &st->n_dest, &st->cap_dest, s))
		st->oom = true;
}

static int cmp_dest(const void *a, const void *b)
{
	const struct tw_dest_count *x = a, *y = b;
	if (x->family != y->family)
		return x->family < y->family ? -1 : 1;
	int c = memcmp(x->addr, y->addr, 16);
	if (c)
		return c;
	return (x->port > y->port) - (x->port < y->port);
}

static int cmp_count(const void *a, const void *b)
{
	const struct tw_dest_count *x = a, *y = b;
	if (x->count != y->count)
		return x->count > y->count ? -1 : 1;
	return cmp_dest(a, b);
}

/* Group equal destinations, then sort by count, largest first. */
static size_t group(struct tw_dest_count *v, size_t n_in)
{
	size_t n = 0;
	if (!n_in)
		return 0;
	qsort(v, n_in, sizeof(*v), cmp_dest);
	for (size_t i = 0; i < n_in; i++) {
		if (n && !cmp_dest(&v[n - 1], &v[i]))
			v[n - 1].count += v[i].count;
		else
			v[n++] = v[i];
	}
	qsort(v, n, sizeof(*v), cmp_count);
	return n;
}

void tw_stat_finish(struct tw_stat *st)
{
	st->n_dest = group(st->dest, st->n_dest);
	st->eph_dest.n = group(st->eph_dest.v, st->eph_dest.n);
}

void tw_stat_free(struct tw_stat *st)
{
	free(st->dest);
	st->dest = NULL;
	st->n_dest = st->cap_dest = 0;
	free(st->eph_dest.v);
	st->eph_dest = (struct tw_dest_list){ 0 };
}

void tw_dest_str(const struct tw_dest_count *d, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN];
	if (!inet_ntop(d->family, d->addr, a, sizeof(a)))
		strcpy(a, "?");
	if (d->family == AF_INET6)
		snprintf(buf, len, "[%s]:%u", a, d->port);
	else
		snprintf(buf, len, "%s:%u", a, d->port);
}
