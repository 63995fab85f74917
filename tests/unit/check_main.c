/* twshim — shared main() of the Check unit test executables. */
#include <stdlib.h>

#include "check_main.h"

int main(void)
{
	SRunner *sr = srunner_create(tw_unit_suite());
	int failed;

	/* CK_ENV: verbosity from CK_VERBOSITY, "normal" by default, which
	 * prints the "N%: Checks: N, Failures: N, Errors: N" line. */
	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
