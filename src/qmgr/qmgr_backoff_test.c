/*
 * qmgr_backoff_test - unit tests for the queue manager's pure functions:
 * the retry delay of queue.md 5.2 (acceptance check 28), the timing of
 * the periodic deferred scan, and the parsing of the concurrency feedback
 * parameters.
 */
#include "sys_defs.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "qmgr.h"

/* Age 0 -> +300 s, 1000 s -> +1000 s, 10000 s -> +4000 s with the defaults. */
static void test_backoff(void **state UNUSED)
{
    static const struct {
        time_t age;
        int delay;
    } cases[] = {
        {0, 300}, {299, 300}, {300, 300}, {1000, 1000}, {3999, 3999}, {4000, 4000}, {10000, 4000}, {-5, 300},
    };

    for (size_t i = 0; i < ARRAY_LEN(cases); i++)
        assert_int_equal(qmgr_backoff(cases[i].age, 300, 4000), cases[i].delay);
    /* A minimum above the maximum: the minimum wins, like Postfix. */
    assert_int_equal(qmgr_backoff(50, 100, 60), 100);
}

/* The next deferred scan comes 5 ms after a second boundary, RUN_DELAY seconds on. */
static void test_scan_period(void **state UNUSED)
{
    assert_int_equal(qmgr_scan_period_ms(1, 300000), 705);  /* 10.300 -> 11.005 */
    assert_int_equal(qmgr_scan_period_ms(1, 5000), 1000);   /* 11.005 -> 12.005 */
    assert_int_equal(qmgr_scan_period_ms(1, 999999), 6);    /* 11.999 -> 12.005 */
    assert_int_equal(qmgr_scan_period_ms(300, 0), 300005);  /* the default queue_run_delay */
    assert_int_equal(qmgr_scan_period_ms(0, 999999), 5);    /* never a wait of 0 or less */
}

/* "1", "1/concurrency", "1/4", "0.5", junk. */
static void test_feedback(void **state UNUSED)
{
    bool per_window;

    assert_true(qmgr_feedback_parse("1", &per_window) == 1.0);
    assert_false(per_window);
    assert_true(qmgr_feedback_parse("1/concurrency", &per_window) == 1.0);
    assert_true(per_window);
    assert_true(qmgr_feedback_parse("1 / concurrency", &per_window) == 1.0);
    assert_true(per_window);
    assert_true(qmgr_feedback_parse("1/4", &per_window) == 0.25);
    assert_false(per_window);
    assert_true(qmgr_feedback_parse("0.5", &per_window) == 0.5);
    assert_true(qmgr_feedback_parse("bogus", &per_window) == 1.0);
    assert_false(per_window);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_backoff),
        cmocka_unit_test(test_scan_period),
        cmocka_unit_test(test_feedback),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
