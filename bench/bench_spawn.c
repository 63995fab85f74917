/* twshim benchmark — process start cost.
 *
 *   bench-spawn N [-e NAME=VALUE]... -- PROGRAM [ARG...]
 *
 * Starts PROGRAM N times one after the other (posix_spawn, then waitpid)
 * with exactly the environment given by -e (nothing inherited, so this
 * process itself never runs under the library) and prints the mean wall
 * time per start in microseconds: "us_per_spawn=X".  A child that does not
 * exit 0 makes the run fail. */
#include <spawn.h>
#include <sys/wait.h>

#include "bench_util.h"

#define MAX_ENV 32

int main(int argc, char **argv)
{
	if (argc < 4)
		goto usage;
	unsigned long n = bench_ulong_arg(argv[1], "count");
	char *env[MAX_ENV + 1];
	int ne = 0, i = 2;
	for (; i < argc && strcmp(argv[i], "--") != 0; i++) {
		if (strcmp(argv[i], "-e") != 0 || i + 1 >= argc || ne == MAX_ENV)
			goto usage;
		env[ne++] = argv[++i];
	}
	env[ne] = NULL;
	if (i + 1 >= argc)
		goto usage;
	char **child_argv = &argv[i + 1];

	uint64_t t0 = bench_now_ns();
	for (unsigned long k = 0; k < n; k++) {
		pid_t pid;
		int rc = posix_spawn(&pid, child_argv[0], NULL, NULL, child_argv, env);
		if (rc != 0) {
			errno = rc;
			bench_die("posix_spawn %s", child_argv[0]);
		}
		int status;
		if (waitpid(pid, &status, 0) != pid)
			bench_die("waitpid");
		if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
			fprintf(stderr, "bench-spawn: %s did not exit 0 (status %#x)\n", child_argv[0],
				status);
			return 1;
		}
	}
	uint64_t dt = bench_now_ns() - t0;
	printf("us_per_spawn=%.2f\n", (double)dt / 1000.0 / (double)n);
	return 0;

usage:
	fprintf(stderr, "usage: bench-spawn N [-e NAME=VALUE]... -- PROGRAM [ARG...]\n");
	return 2;
}
