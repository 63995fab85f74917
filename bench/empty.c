/* twshim benchmark — the "empty library" for the process start figure.
 *
 * Preloading it measures what any LD_PRELOAD costs (the dynamic loader
 * opening, mapping and relocating one more object), so the process start
 * figure of libtwshim.so can be read as "the preload itself" plus "what
 * twshim adds on top". */
int twbench_empty_marker(void);

int twbench_empty_marker(void)
{
	return 0;
}
