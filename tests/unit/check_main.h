/* twshim — the one entry point each unit test executable provides.
 *
 * check_main.c runs the suite with an SRunner; each test_*.c file defines
 * tw_unit_suite().  CK_RUN_SUITE / CK_RUN_CASE / CK_FORK / CK_VERBOSITY
 * work as documented by Check. */
#ifndef TWSHIM_CHECK_MAIN_H
#define TWSHIM_CHECK_MAIN_H

#include <check.h>

Suite *tw_unit_suite(void);

#endif
