/*
 * ps_name_test - table-driven tests of the inode-matching queue file names.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "sys_defs.h"

#include "ps_name.h"
#include "vstring.h"

static const struct {
    const char *name;
    unsigned long long inode;
    bool long_ids;
    bool strict;
    bool changed;
    const char *want;
} cases[] = {
    {"ABCDE1", 0xA7E398, false, false, true, "ABCDEA7E398"},
    {"ABCDEA7E398", 0xA7E398, false, false, false, "ABCDEA7E398"},
    {"t12345", 0xA7E112, false, false, true, "t1234A7E112"},
    {"4Bm1Hq4HYpzkm1", 0xA7E3FB, false, false, true, "9397EA7E3FB"}, /* long to short */
    {"4Bm1Hq4HYpzkm1", 0xA7E3FB, true, false, false, "4Bm1Hq4HYpzkm1"},
    {"4Bm1Hq4HYpzkm1", 51, true, true, true, "4Bm1Hq4HYpz10"}, /* -S: inode in base 51 */
    {"4Bm1Hq4HYpz10", 51, true, true, false, "4Bm1Hq4HYpz10"},
};

static void test_fix(void **state)
{
    VSTRING *buf = vstring_alloc(10);

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        bool changed =
            ps_name_fix(buf, cases[i].name, (ino_t)cases[i].inode, cases[i].long_ids, cases[i].strict);

        assert_string_equal(vstring_str(buf), cases[i].want);
        assert_int_equal(changed, cases[i].changed);
    }
    assert_true(ps_name_is_long("4Bm1Hq4HYpzkm1"));
    assert_false(ps_name_is_long("ABCDEA7E398"));
    vstring_free(buf);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_fix)};

    return cmocka_run_group_tests(tests, NULL, NULL);
}
