/* twshim — the policy's decisions about one socket; see decide.h. */
#include "decide.h"

#include <netinet/in.h>

struct tw_actions tw_policy_actions(const struct tw_policy *p)
{
	struct tw_actions a = { false, false, false, false };

	if (p->disabled)
		return a;
	a.linger = p->linger != TW_LINGER_OFF;
	a.pin = p->ports != TW_PORTS_OFF;
	a.client = a.linger || a.pin;
	a.reuse = p->reuseaddr || p->reuseport;
	return a;
}

bool tw_policy_has_client_actions(const struct tw_policy *p)
{
	return tw_policy_actions(p).client;
}

enum tw_linger_option tw_linger_option(const struct tw_policy *p)
{
	switch (p->linger) {
	case TW_LINGER_SAFE:
		return TW_LINGER_OPT_TCP_LINGER2;
	case TW_LINGER_ABORT:
	case TW_LINGER_TIMEOUT:
		return TW_LINGER_OPT_SO_LINGER;
	case TW_LINGER_OFF:
		break;
	}
	return TW_LINGER_OPT_NONE;
}

struct linger tw_so_linger_value(const struct tw_policy *p)
{
	struct linger lg = {
		.l_onoff = 1,
		.l_linger = p->linger == TW_LINGER_TIMEOUT ? (int)p->linger_seconds : 0,
	};
	return lg;
}

struct tw_connect_plan tw_plan_connect(const struct tw_policy *p, bool pin_active,
				       const struct sockaddr *dst, socklen_t len,
				       bool program_linger)
{
	struct tw_connect_plan plan = { false, false, false };

	if (!dst || len < sizeof(sa_family_t) ||
	    (dst->sa_family != AF_INET && dst->sa_family != AF_INET6))
		return plan;
	if (!tw_policy_selects(p, dst, len))
		return plan;

	plan.selected = true;
	plan.set_linger = tw_linger_option(p) != TW_LINGER_OPT_NONE && !program_linger;
	plan.pin = pin_active;
	return plan;
}

bool tw_program_set_linger2(int value, int fin_timeout)
{
	if (value < 0)
		return true;
	return fin_timeout > 0 && value != fin_timeout;
}

bool tw_bind_port(const struct sockaddr *addr, socklen_t len, uint16_t *port)
{
	if (addr->sa_family == AF_INET && len >= sizeof(struct sockaddr_in)) {
		*port = ntohs(((const struct sockaddr_in *)(const void *)addr)->sin_port);
		return true;
	}
	if (addr->sa_family == AF_INET6 && len >= sizeof(struct sockaddr_in6)) {
		*port = ntohs(((const struct sockaddr_in6 *)(const void *)addr)->sin6_port);
		return true;
	}
	return false;
}

bool tw_reuse_wanted(const struct tw_policy *p, const struct sockaddr *addr, socklen_t len)
{
	uint16_t port = 0;

	if (!tw_policy_actions(p).reuse)
		return false;
	return tw_bind_port(addr, len, &port) && port != 0 && tw_policy_reuse_selects_port(p, port);
}

struct tw_reuse_plan tw_plan_reuse(const struct tw_policy *p, bool program_reuseaddr,
				   bool program_reuseport)
{
	struct tw_reuse_plan plan = {
		.reuseaddr = p->reuseaddr && !program_reuseaddr,
		.reuseport = p->reuseport && !program_reuseport,
	};
	return plan;
}
