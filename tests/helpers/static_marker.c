/* A static program for the twshim run tests: creates the file argv[1], so a
 * test can tell whether a refused target ran anyway. */
#include <fcntl.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	if (argc > 1) {
		int fd = open(argv[1], O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
		if (fd < 0)
			return 1;
		close(fd);
	}
	return 0;
}
