/*
 * cleanup_strerror_test - unit tests for cleanup_strerror: the text,
 * SMTP code and enhanced status code of every status bit (as Postfix 3.7
 * smtpd replies, e.g. "552 5.3.4 Error: message file too big"), the
 * precedence when several bits are set, unknown bits, and
 * receive_override_options parsing.
 */
#include "sys_defs.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "cleanup_user.h"
#include "msg.h"

static int test_warnings;

static void test_msg(enum msg_level level, const char *text UNUSED)
{
    if (level == MSG_WARN)
        test_warnings++;
}

static const struct {
    unsigned status;
    const char *strerror;
    int smtp;
    const char *dsn;
    const char *text;
} stat_cases[] = {
    {CLEANUP_STAT_OK, "Success", 250, "2.0.0", "Success"},
    {CLEANUP_STAT_BAD, "internal protocol error", 451, "4.3.0", "Error: internal protocol error"},
    {CLEANUP_STAT_WRITE, "queue file write error", 451, "4.3.0", "Error: queue file write error"},
    {CLEANUP_STAT_SIZE, "message file too big", 552, "5.3.4", "Error: message file too big"},
    {CLEANUP_STAT_CONT, "message content rejected", 550, "5.7.1", "Error: message content rejected"},
    {CLEANUP_STAT_HOPS, "too many hops", 554, "5.4.0", "Error: too many hops"},
    {CLEANUP_STAT_RCPT, "no recipients specified", 550, "5.1.0", "Error: no recipients specified"},
    {CLEANUP_STAT_DEFER, "service unavailable", 451, "4.7.1", "Error: service unavailable"},
    {CLEANUP_STAT_PROXY, "queue file write error", 451, "4.3.0", "Error: queue file write error"},
    /* Several bits: temporary problems first. */
    {CLEANUP_STAT_SIZE | CLEANUP_STAT_WRITE, "queue file write error", 451, "4.3.0",
     "Error: queue file write error"},
    {CLEANUP_STAT_CONT | CLEANUP_STAT_HOPS, "too many hops", 554, "5.4.0", "Error: too many hops"},
    {CLEANUP_STAT_CONT | CLEANUP_STAT_DEFER, "service unavailable", 451, "4.7.1",
     "Error: service unavailable"},
    /* Unknown bits from a confused peer. */
    {1u << 20, "internal protocol error", 451, "4.3.0", "Error: internal protocol error"},
};

static void test_status(void **state UNUSED)
{
    for (size_t i = 0; i < ARRAY_LEN(stat_cases); i++) {
        const CLEANUP_STAT_DETAIL *dp = cleanup_stat_detail(stat_cases[i].status);

        assert_string_equal(cleanup_strerror(stat_cases[i].status), stat_cases[i].strerror);
        assert_int_equal(dp->smtp, stat_cases[i].smtp);
        assert_string_equal(dp->dsn, stat_cases[i].dsn);
        assert_string_equal(dp->text, stat_cases[i].text);
        /* The reply's class agrees with the enhanced code's class. */
        assert_int_equal(dp->smtp / 100, dp->dsn[0] - '0');
    }
}

static void test_input_transp(void **state UNUSED)
{
    static const struct {
        const char *options;
        int result;
        int warnings;
    } cases[] = {
        {"", CLEANUP_FLAG_MASK_EXTERNAL, 0},
        {"no_unknown_recipient_checks", CLEANUP_FLAG_MASK_EXTERNAL, 0},
        {"no_address_mappings", CLEANUP_FLAG_FILTER, 0},
        {"no_header_body_checks", CLEANUP_FLAG_BCC_OK | CLEANUP_FLAG_MAP_OK, 0},
        {"no_milters", CLEANUP_FLAG_MASK_EXTERNAL, 0},
        {"no_address_mappings, no_header_body_checks", 0, 0},
        {" no_header_body_checks,,no_milters ", CLEANUP_FLAG_BCC_OK | CLEANUP_FLAG_MAP_OK, 0},
        {"NO_Address_Mappings", CLEANUP_FLAG_FILTER, 0},
        {"bogus, no_header_body_checks", CLEANUP_FLAG_BCC_OK | CLEANUP_FLAG_MAP_OK, 1},
        {"no_address_mapping", CLEANUP_FLAG_MASK_EXTERNAL, 1},
    };

    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        test_warnings = 0;
        if (input_transp_cleanup(CLEANUP_FLAG_MASK_EXTERNAL, cases[i].options) != cases[i].result)
            fail_msg("\"%s\": wrong flags", cases[i].options);
        assert_int_equal(test_warnings, cases[i].warnings);
    }
    /* Flags that receive_override_options does not govern stay set. */
    assert_int_equal(input_transp_cleanup(CLEANUP_FLAG_HOLD | CLEANUP_FLAG_MAP_OK, "no_address_mappings"),
                     CLEANUP_FLAG_HOLD);
}

static int test_setup(void **state UNUSED)
{
    msg_output(test_msg);
    return 0;
}

static int test_teardown(void **state UNUSED)
{
    msg_output_reset();
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_status),
        cmocka_unit_test(test_input_transp),
    };

    return cmocka_run_group_tests(tests, test_setup, test_teardown);
}
