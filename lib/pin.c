/* STUB: replaced by the source-port pinning work. */
#include "pin.h"
bool tw_pin_init(const struct tw_policy *p) { (void)p; return false; }
bool tw_pin_active(void) { return false; }
void tw_pin_before_connect(int fd, const struct sockaddr *dst, socklen_t len, bool deferred, struct tw_pin_ticket *t)
{
	(void)fd; (void)dst; (void)len; (void)deferred;
	t->active = false;
}
int tw_pin_after_connect(int fd, const struct sockaddr *dst, socklen_t len, int rc, int *err, struct tw_pin_ticket *t)
{
	(void)fd; (void)dst; (void)len; (void)t; (void)err;
	return rc;
}
void tw_pin_release(uint16_t port, uint64_t key) { (void)port; (void)key; }
#include "real.h"
int tw_pin_bind_port0(int fd, const struct sockaddr *addr, socklen_t len) { return libc_bind(fd, addr, len); }
void tw_pin_materialize(int fd) { (void)fd; }
