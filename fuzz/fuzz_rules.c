/* twshim fuzzing — libFuzzer entry point: rule-list parser and matcher. */
#include "harness.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	tw_fuzz_rules(data, size);
	return 0;
}
