/* twshim security tests — what the library did inside this process.
 *
 * Linked against libtwshim.so with an absolute RUNPATH (meson.build), so
 * the library loads even when this binary runs set-user-ID, where the
 * dynamic loader ignores LD_PRELOAD paths.  Connects a TCP socket to a
 * listener of its own on 127.0.0.1 and prints, on one line:
 *   loaded=0|1 secure=0|1 linger=0|1 ruid=N euid=N
 * loaded: libtwshim.so is mapped; secure: getauxval(AT_SECURE); linger:
 * SO_LINGER l_onoff of the client socket after connect (TWSHIM_LINGER=0
 * sets it, unless the library ignored the environment). */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/socket.h>
#include <unistd.h>

static int library_mapped(void)
{
	FILE *f = fopen("/proc/self/maps", "r");
	if (!f)
		return -1;
	char line[4096];
	int found = 0;
	while (fgets(line, sizeof(line), f))
		if (strstr(line, "libtwshim"))
			found = 1;
	fclose(f);
	return found;
}

int main(void)
{
	int lfd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sin = { .sin_family = AF_INET };
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	socklen_t slen = sizeof(sin);
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&sin, sizeof(sin)) != 0 || listen(lfd, 1) != 0 ||
	    getsockname(lfd, (struct sockaddr *)&sin, &slen) != 0) {
		perror("twsec-probe: listener");
		return 1;
	}
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sin, sizeof(sin)) != 0) {
		perror("twsec-probe: connect");
		return 1;
	}
	struct linger lg = { 0, 0 };
	socklen_t llen = sizeof(lg);
	if (getsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, &llen) != 0) {
		perror("twsec-probe: SO_LINGER");
		return 1;
	}
	printf("loaded=%d secure=%d linger=%d ruid=%u euid=%u\n", library_mapped(),
	       getauxval(AT_SECURE) ? 1 : 0, lg.l_onoff ? 1 : 0, (unsigned)getuid(),
	       (unsigned)geteuid());
	close(fd);
	close(lfd);
	return 0;
}
