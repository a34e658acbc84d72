/*  ctl_watch_test - the colours of the live view: what needs a look is red or yellow,
 *  what is fine is green, and nothing changes without a terminal. */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>
#include "../../tradectl/ctl_cmd.h"

static char *
s_paint (const char *text, bool colour)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream (&buf, &len);
    ctl_watch_paint (f, text, colour);
    fclose (f);
    return buf;
}

static void
test_colours (void **state)
{
    (void) state;
    const char *text = "can open new positions: NO - x\ntrading state:   HALTED since x\n  "
                       "md-gateway    DOWN (no heartbeat)\n"
                       "  risk-gate      up  (pid 1)\nstate REDUCING\nACTIVE\n";
    char *plain = s_paint (text, false);
    assert_string_equal (plain, text);
    free (plain);
    char *c = s_paint (text, true);
    assert_non_null (strstr (c, "new \033[1;31mpositions: NO\033[0m - x"));
    assert_non_null (strstr (c, "\033[1;31mHALTED\033[0m"));
    assert_non_null (strstr (c, "\033[1;31mDOWN\033[0m"));
    assert_non_null (strstr (c, "\033[1;33mREDUCING\033[0m"));
    assert_non_null (strstr (c, "\033[1;32mACTIVE\033[0m"));
    assert_non_null (strstr (c, "\033[32m up \033[0m"));
    //  the words themselves are all still there, in order
    assert_non_null (strstr (c, "(no heartbeat)"));
    free (c);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_colours),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
