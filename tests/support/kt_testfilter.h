/*  kt_testfilter - run one test case of a cmocka binary by name.
 *
 *  Every test binary is linked with -Wl,--wrap=_cmocka_run_group_tests (see the
 *  Makefile), so cmocka_run_group_tests in any test's main goes through
 *  __wrap__cmocka_run_group_tests below: when KT_TEST_FILTER is set (by
 *  `make test T=binary:case`), only the cases whose name matches it run (cmocka's
 *  pattern: `*` and `?` wildcards). No test file needs to know. A filter that matches
 *  no case runs nothing, which tests/run-tests.sh counts as a failure. */

#ifndef KT_TESTFILTER_H
#define KT_TESTFILTER_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

//  The wrapped runner: applies KT_TEST_FILTER, then runs the group as cmocka does.
int
    __wrap__cmocka_run_group_tests (const char *group_name, const struct CMUnitTest *const tests,
                                    const size_t num_tests, CMFixtureFunction group_setup,
                                    CMFixtureFunction group_teardown);

#endif
