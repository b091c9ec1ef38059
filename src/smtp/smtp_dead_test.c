/*
 * smtp_dead_test - the per-process memory of unreachable addresses:
 * marking, expiry, clearing and the stable move to the end of the list.
 */
#include "sys_defs.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "smtp.h"

/* Marks expire after SMTP_DEAD_TTL; ports are distinct; clear forgets. */
static void test_mark_check_clear(void **unused)
{
    (void)unused;
    smtp_dead_mark("192.0.2.1", 25, 1000);
    assert_true(smtp_dead_check("192.0.2.1", 25, 1000));
    assert_true(smtp_dead_check("192.0.2.1", 25, 1000 + SMTP_DEAD_TTL - 1));
    assert_false(smtp_dead_check("192.0.2.1", 2525, 1000));
    assert_false(smtp_dead_check("192.0.2.2", 25, 1000));
    assert_false(smtp_dead_check("192.0.2.1", 25, 1000 + SMTP_DEAD_TTL));
    /* Expired entries are gone for good. */
    assert_false(smtp_dead_check("192.0.2.1", 25, 1000));
    smtp_dead_mark("192.0.2.3", 25, 2000);
    smtp_dead_clear("192.0.2.3", 25);
    assert_false(smtp_dead_check("192.0.2.3", 25, 2000));
}

/* Dead addresses move behind live ones, both groups keep their order. */
static void test_reorder(void **unused)
{
    static const struct {
        const char *addrs[6]; /* NULL-terminated */
        const char *dead[6];
        const char *want[6];
        int moved;
    } cases[] = {
        {{"10.0.0.1", "10.0.0.2", "10.0.0.3", "10.0.0.4", "10.0.0.5"},
         {"10.0.0.1", "10.0.0.3", "10.0.0.4"},
         {"10.0.0.2", "10.0.0.5", "10.0.0.1", "10.0.0.3", "10.0.0.4"},
         3},
        {{"10.0.0.1", "10.0.0.2"}, {"10.0.0.9"}, {"10.0.0.1", "10.0.0.2"}, 0},
        /* All dead: the order stays, nothing to prefer. */
        {{"10.0.0.1", "10.0.0.2"}, {"10.0.0.2", "10.0.0.1"}, {"10.0.0.1", "10.0.0.2"}, 0},
    };

    (void)unused;
    for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
        SMTP_ADDR_LIST list;
        time_t now = 5000 + (time_t)c * 1000;

        smtp_addr_list_init(&list);
        for (int i = 0; cases[c].addrs[i]; i++)
            smtp_addr_list_add(&list, "mx.test", cases[c].addrs[i], 10);
        for (int i = 0; cases[c].dead[i]; i++)
            smtp_dead_mark(cases[c].dead[i], 25, now);
        assert_int_equal(smtp_dead_reorder(&list, 25, now), cases[c].moved);
        for (int i = 0; cases[c].want[i]; i++)
            assert_string_equal(list.info[i].addr, cases[c].want[i]);
        /* Another port is not affected. */
        assert_int_equal(smtp_dead_reorder(&list, 26, now), 0);
        smtp_addr_list_free(&list);
    }
}

/* The table is bounded: the oldest entry makes room. */
static void test_table_bound(void **unused)
{
    char addr[32];

    (void)unused;
    for (int i = 0; i < 300; i++) {
        snprintf(addr, sizeof(addr), "10.1.%d.%d", i / 256, i % 256);
        smtp_dead_mark(addr, 25, 9000 + i);
    }
    assert_true(smtp_dead_check("10.1.1.43", 25, 9300));
    assert_false(smtp_dead_check("10.1.0.0", 25, 9300));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mark_check_clear),
        cmocka_unit_test(test_reorder),
        cmocka_unit_test(test_table_bound),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
