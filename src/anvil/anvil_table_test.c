/*
 * anvil_table_test - unit tests for anvil_table: a scripted sequence of
 * events at given times with the count and rate each must answer (rate
 * windows, disconnects, separate idents), expiry of idle entries, and the
 * statistics lines (peaks, their idents and times, nothing for zero
 * peaks, reset after each report), the new TLS session and AUTH rates.
 */
#include "sys_defs.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "anvil_table.h"
#include "argv.h"

#define T0 1000000000 /* 2001-09-09 01:46:40 UTC */

typedef enum { EV_CONNECT, EV_DISCONNECT, EV_MESSAGE, EV_RCPT, EV_LOOKUP } EVENT;

static const struct {
    EVENT event;
    const char *ident;
    int at; /* seconds after T0 */
    int count;
    int rate;
} script[] = {
    {EV_CONNECT, "smtp:192.0.2.1", 0, 1, 1},
    {EV_CONNECT, "smtp:192.0.2.1", 1, 2, 2},
    {EV_CONNECT, "smtp:192.0.2.2", 1, 1, 1},
    {EV_MESSAGE, "smtp:192.0.2.1", 2, 0, 1},
    {EV_RCPT, "smtp:192.0.2.1", 2, 0, 1},
    {EV_RCPT, "smtp:192.0.2.1", 3, 0, 2},
    {EV_RCPT, "submission:192.0.2.1", 3, 0, 1},
    {EV_LOOKUP, "smtp:192.0.2.1", 4, 2, 2},
    {EV_DISCONNECT, "smtp:192.0.2.1", 5, 0, 0},
    {EV_LOOKUP, "smtp:192.0.2.1", 5, 1, 2},
    {EV_CONNECT, "smtp:192.0.2.1", 59, 2, 3},
    /* The window of 192.0.2.1 started at 0: at 60 a new one begins. */
    {EV_CONNECT, "smtp:192.0.2.1", 60, 3, 1},
    {EV_MESSAGE, "smtp:192.0.2.1", 61, 0, 1},
    {EV_DISCONNECT, "smtp:192.0.2.1", 62, 0, 0},
    {EV_DISCONNECT, "smtp:192.0.2.1", 62, 0, 0},
    {EV_DISCONNECT, "smtp:192.0.2.1", 62, 0, 0},
    {EV_DISCONNECT, "smtp:192.0.2.1", 62, 0, 0}, /* never below zero */
    {EV_LOOKUP, "smtp:192.0.2.1", 62, 0, 1},
    {EV_LOOKUP, "smtp:192.0.2.9", 62, 0, 0},     /* unknown */
    {EV_DISCONNECT, "smtp:192.0.2.9", 62, 0, 0}, /* unknown: ignored */
};

/* Run script[0..n) on TABLE, checking each answer. */
static void run_script(ANVIL_TABLE *table, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        int count = 0;
        int rate = 0;
        time_t now = T0 + script[i].at;

        switch (script[i].event) {
        case EV_CONNECT:
            anvil_table_connect(table, script[i].ident, now, &count, &rate);
            break;
        case EV_DISCONNECT:
            anvil_table_disconnect(table, script[i].ident, now);
            break;
        case EV_MESSAGE:
            anvil_table_message(table, script[i].ident, now, &rate);
            break;
        case EV_RCPT:
            anvil_table_recipient(table, script[i].ident, now, &rate);
            break;
        case EV_LOOKUP:
            anvil_table_lookup(table, script[i].ident, now, &count, &rate);
            break;
        }
        if (count != script[i].count || rate != script[i].rate)
            fail_msg("step %zu (%s at %d): count %d rate %d, expected %d %d", i, script[i].ident,
                     script[i].at, count, rate, script[i].count, script[i].rate);
    }
}

static void test_counts_and_rates(void **state UNUSED)
{
    ANVIL_TABLE *table = anvil_table_create(60);

    run_script(table, sizeof(script) / sizeof(script[0]));
    assert_int_equal(anvil_table_size(table), 3);
    anvil_table_free(table);
}

static void test_expire(void **state UNUSED)
{
    ANVIL_TABLE *table = anvil_table_create(60);
    int count;
    int rate;

    anvil_table_connect(table, "smtp:a", T0, &count, &rate); /* stays open */
    anvil_table_connect(table, "smtp:b", T0, &count, &rate); /* closed at once */
    anvil_table_disconnect(table, "smtp:b", T0);
    anvil_table_message(table, "smtp:c", T0 + 30, &rate);    /* window 30..90 */
    assert_int_equal(anvil_table_expire(table, T0 + 59), 0); /* b's window is not over */
    assert_int_equal(anvil_table_expire(table, T0 + 60), 1); /* b goes */
    assert_int_equal(anvil_table_size(table), 2);
    assert_int_equal(anvil_table_expire(table, T0 + 90), 1); /* c goes, a is open */
    anvil_table_lookup(table, "smtp:a", T0 + 500, &count, &rate);
    assert_int_equal(count, 1);
    assert_int_equal(rate, 0);
    anvil_table_disconnect(table, "smtp:a", T0 + 500);
    assert_int_equal(anvil_table_expire(table, T0 + 559), 0);
    assert_int_equal(anvil_table_expire(table, T0 + 560), 1);
    assert_int_equal(anvil_table_size(table), 0);
    /* A forgotten client starts from scratch. */
    anvil_table_connect(table, "smtp:b", T0 + 600, &count, &rate);
    assert_int_equal(count, 1);
    assert_int_equal(rate, 1);
    anvil_table_free(table);
}

static void test_stats(void **state UNUSED)
{
    static const char *expect[] = {
        "statistics: max connection rate 3/60s for (smtp:192.0.2.1) at Sep  9 01:47:39",
        "statistics: max connection count 2 for (smtp:192.0.2.1) at Sep  9 01:46:41",
        "statistics: max message rate 1/60s for (smtp:192.0.2.1) at Sep  9 01:46:42",
        "statistics: max recipient rate 2/60s for (smtp:192.0.2.1) at Sep  9 01:46:43",
        "statistics: max cache size 3 at Sep  9 01:46:43",
    };
    ANVIL_TABLE *table = anvil_table_create(60);
    ARGV *lines = argv_alloc(5);
    int count;
    int rate;

    /* The peaks of the first 11 steps (up to the connect at 59). */
    run_script(table, 11);
    anvil_table_stats(table, lines);
    assert_int_equal(lines->argc, 5);
    for (size_t i = 0; i < 5; i++)
        assert_string_equal(lines->argv[i], expect[i]);

    /* Reported peaks start over; only what happens next is reported. */
    argv_truncate(lines, 0);
    anvil_table_stats(table, lines);
    assert_int_equal(lines->argc, 0);
    anvil_table_recipient(table, "smtp:192.0.2.2", T0 + 70, &rate);
    anvil_table_connect(table, "smtp:192.0.2.2", T0 + 71, &count, &rate);
    anvil_table_stats(table, lines);
    assert_int_equal(lines->argc, 3);
    assert_string_equal(lines->argv[0],
                        "statistics: max connection rate 1/60s for (smtp:192.0.2.2) at Sep  9 01:47:51");
    assert_string_equal(lines->argv[1],
                        "statistics: max connection count 2 for (smtp:192.0.2.2) at Sep  9 01:47:51");
    assert_string_equal(lines->argv[2],
                        "statistics: max recipient rate 1/60s for (smtp:192.0.2.2) at Sep  9 01:47:50");
    argv_free(lines);
    anvil_table_free(table);
}

/* newtls and auth count in their own windows and have their own peaks. */
static void test_newtls_and_auth(void **state UNUSED)
{
    static const struct {
        bool auth; /* else newtls */
        const char *ident;
        int at;
        int rate;
    } steps[] = {
        {true, "smtp:192.0.2.1", 0, 1},  {true, "smtp:192.0.2.1", 1, 2},
        {false, "smtp:192.0.2.1", 1, 1}, {true, "submission:192.0.2.1", 2, 1},
        {false, "smtp:192.0.2.2", 3, 1}, {false, "smtp:192.0.2.2", 4, 2},
        {false, "smtp:192.0.2.2", 5, 3}, {true, "smtp:192.0.2.1", 59, 3},
        {true, "smtp:192.0.2.1", 60, 1}, /* a new window */
    };
    ANVIL_TABLE *table = anvil_table_create(60);
    ARGV *lines = argv_alloc(5);
    int count;
    int rate;

    for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
        if (steps[i].auth)
            anvil_table_auth(table, steps[i].ident, T0 + steps[i].at, &rate);
        else
            anvil_table_newtls(table, steps[i].ident, T0 + steps[i].at, &rate);
        if (rate != steps[i].rate)
            fail_msg("step %zu: rate %d, expected %d", i, rate, steps[i].rate);
    }
    /* A report counts nothing and follows the window. */
    anvil_table_newtls_report(table, "smtp:192.0.2.2", T0 + 5, &rate);
    assert_int_equal(rate, 3);
    anvil_table_newtls_report(table, "smtp:192.0.2.2", T0 + 6, &rate);
    assert_int_equal(rate, 3);
    anvil_table_newtls_report(table, "smtp:192.0.2.9", T0 + 6, &rate);
    assert_int_equal(rate, 0);
    anvil_table_newtls_report(table, "smtp:192.0.2.2", T0 + 63, &rate);
    assert_int_equal(rate, 0);
    /* Neither counts as a connection. */
    anvil_table_lookup(table, "smtp:192.0.2.1", T0 + 60, &count, &rate);
    assert_int_equal(count, 0);
    assert_int_equal(rate, 0);
    anvil_table_stats(table, lines);
    assert_int_equal(lines->argc, 3);
    assert_string_equal(lines->argv[0],
                        "statistics: max newtls rate 3/60s for (smtp:192.0.2.2) at Sep  9 01:46:45");
    assert_string_equal(lines->argv[1],
                        "statistics: max auth rate 3/60s for (smtp:192.0.2.1) at Sep  9 01:47:39");
    assert_string_equal(lines->argv[2], "statistics: max cache size 3 at Sep  9 01:46:43");
    argv_free(lines);
    anvil_table_free(table);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_counts_and_rates),
        cmocka_unit_test(test_expire),
        cmocka_unit_test(test_stats),
        cmocka_unit_test(test_newtls_and_auth),
    };

    setenv("TZ", "UTC", 1);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
