/* twshim fuzzing — the checks each fuzz target runs on one input.
 *
 * Shared by the libFuzzer entry points (fuzz_env.c, fuzz_rules.c) and by
 * the unit test that replays fuzz/corpus and fuzz/regressions in every
 * build (tests/unit/test_badinput.c).  A violated property calls abort(),
 * which libFuzzer and Check both report as a crash. */
#ifndef TWSHIM_FUZZ_HARNESS_H
#define TWSHIM_FUZZ_HARNESS_H

#include <stddef.h>
#include <stdint.h>

/* Input: lines "NAME=VALUE" (NAME a TWSHIM_* variable, or a decimal index
 * into the table tw_vars[]), fed through the lookup callback to
 * tw_policy_parse(); then the policy's invariants, the diagnostics'
 * shape, and matching against addresses derived from the input. */
void tw_fuzz_env(const uint8_t *data, size_t size);

/* Input: a rule list for tw_parse_rules() (and the same bytes as a port
 * list); then properties of the parsed rules and of tw_rules_match() on
 * addresses derived from the rules and the input. */
void tw_fuzz_rules(const uint8_t *data, size_t size);

#endif
