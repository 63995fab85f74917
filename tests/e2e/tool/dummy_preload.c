/* A preload library that does nothing: stands for the user's own LD_PRELOAD
 * entry, which twshim run must keep. */
int twtest_dummy_preload_marker(void);

int twtest_dummy_preload_marker(void)
{
	return 42;
}
