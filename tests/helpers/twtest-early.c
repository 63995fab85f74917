/* twtest-early — a preloadable library whose constructor makes socket
 * calls while the libraries are still being initialised: with
 * LD_PRELOAD="libtwshim.so:twtest-early.so" the loader runs this
 * constructor before twshim's, so the interposed close/connect/bind are
 * called before the library has read its policy.  Prints each call's result
 * and errno name on stderr, one line each, for the test to compare. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static void report(const char *what, int rc)
{
	const char *name = rc < 0 ? strerrorname_np(errno) : "-";
	fprintf(stderr, "early: %s rc=%d errno=%s\n", what, rc < 0 ? -1 : 0, name ? name : "?");
}

__attribute__((constructor)) static void early_calls(void)
{
	report("close(-1)", close(-1));
	int s = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(1) };
	inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
	report("connect(refused)", connect(s, (struct sockaddr *)&a, sizeof(a)));
	report("close(socket)", close(s));
	s = socket(AF_INET, SOCK_STREAM, 0);
	a.sin_port = 0;
	report("bind(port 0)", bind(s, (struct sockaddr *)&a, sizeof(a)));
	int one = 1;
	report("setsockopt(SO_LINGER-less)", setsockopt(s, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one)));
	report("close(bound)", close(s));
}
