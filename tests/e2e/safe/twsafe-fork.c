/* twsafe-fork — a socket shared across fork(): one process closes its
 * copy while the other still writes through it.
 *
 *   twsafe-fork [-a ADDR] -p PORT -b BYTES [-w child|parent]
 *
 * Connects, forks.  The process that does not write (the parent with
 * -w child, the default) closes its fd at once and tells the writer over a
 * pipe; the writer then sends BYTES of the test pattern and closes.  With
 * -w parent the child closes its copy and exits first.  The writer prints:
 *   writer=child|parent lport=P sent=N fnv=HEX
 * Exit status 0 when every byte was written. */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "twsafe-common.h"

static int write_all(int fd, uint64_t bytes, const char *who)
{
	unsigned lport = twsafe_local_port(fd);
	uint64_t fnv = TWSAFE_FNV_INIT;
	uint64_t sent = twsafe_send_pattern(fd, bytes, &fnv);
	printf("writer=%s lport=%u sent=%llu fnv=%016llx\n", who, lport,
	       (unsigned long long)sent, (unsigned long long)fnv);
	fflush(stdout);
	close(fd);
	return sent == bytes ? 0 : 1;
}

/* Block until the other process has closed its copy. */
static void await_peer_close(int rfd)
{
	char b;
	ssize_t n;
	while ((n = read(rfd, &b, 1)) < 0 && errno == EINTR)
		;
	if (n != 1) {
		fputs("twsafe-fork: sync pipe closed early\n", stderr);
		exit(2);
	}
}

int main(int argc, char **argv)
{
	const char *addr = "127.0.0.1";
	unsigned port = 0;
	uint64_t bytes = 0;
	bool child_writes = true;
	int c;

	while ((c = getopt(argc, argv, "a:p:b:w:")) != -1) {
		switch (c) {
		case 'a': addr = optarg; break;
		case 'p': port = (unsigned)twsafe_num("twsafe-fork", optarg, 65535); break;
		case 'b': bytes = twsafe_num("twsafe-fork", optarg, 1ul << 30); break;
		case 'w': child_writes = strcmp(optarg, "parent") != 0; break;
		default:
			fputs("usage: twsafe-fork [-a ADDR] -p PORT -b BYTES [-w child|parent]\n", stderr);
			return 2;
		}
	}
	if (!port)
		return 2;

	int fd = twsafe_connect(addr, port);
	if (fd < 0) {
		perror("twsafe-fork: connect");
		return 1;
	}
	int sync[2];
	if (pipe(sync) < 0) {
		perror("twsafe-fork: pipe");
		return 2;
	}
	pid_t pid = fork();
	if (pid < 0) {
		perror("twsafe-fork: fork");
		return 2;
	}
	bool in_child = pid == 0;
	if (in_child != child_writes) {
		/* The closer: nothing is in flight yet, the other copy lives on. */
		close(fd);
		if (write(sync[1], "x", 1) != 1)
			return 2;
		if (in_child)
			exit(0);
		int st;
		waitpid(pid, &st, 0);
		return WIFEXITED(st) ? WEXITSTATUS(st) : 2;
	}
	await_peer_close(sync[0]);
	if (!in_child) {
		/* The child has closed and is exiting: let it finish first. */
		int st;
		waitpid(pid, &st, 0);
	}
	return write_all(fd, bytes, in_child ? "child" : "parent");
}
