/*  kt_testfilter - KT_TEST_FILTER for every cmocka test binary. See kt_testfilter.h. */

#include "kt_testfilter.h"

#include <stdlib.h>

int __real__cmocka_run_group_tests (const char *group_name, const struct CMUnitTest *const tests,
                                    const size_t num_tests, CMFixtureFunction group_setup,
                                    CMFixtureFunction group_teardown);

int
__wrap__cmocka_run_group_tests (const char *group_name, const struct CMUnitTest *const tests,
                                const size_t num_tests, CMFixtureFunction group_setup,
                                CMFixtureFunction group_teardown)
{
    const char *filter = getenv ("KT_TEST_FILTER");
    if (filter && *filter)
        cmocka_set_test_filter (filter);
    return __real__cmocka_run_group_tests (group_name, tests, num_tests, group_setup,
                                           group_teardown);
}
