/* twshim fuzzing — libFuzzer entry point: the environment parser. */
#include "harness.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	tw_fuzz_env(data, size);
	return 0;
}
