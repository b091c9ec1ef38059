/*
 * mail_date_test - dates in the zones a server may run in.
 */
#include "sys_defs.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <time.h>

#include <cmocka.h>

#include "mail_date.h"

static const struct {
    const char *tz;
    time_t when;
    const char *expect;
} cases[] = {
    {"UTC", 1795273262, "Sat, 21 Nov 2026 15:01:02 +0000 (UTC)"},
    {"UTC", 1798761600, "Fri,  1 Jan 2027 00:00:00 +0000 (UTC)"},
    {"America/New_York", 1795273262, "Sat, 21 Nov 2026 10:01:02 -0500 (EST)"},
    {"Asia/Kolkata", 1795273262, "Sat, 21 Nov 2026 20:31:02 +0530 (IST)"},
    {"<+0330>-3:30", 1795273262, "Sat, 21 Nov 2026 18:31:02 +0330 (+0330)"},
};

static void test_mail_date(void **unused)
{
    VSTRING *buf = vstring_alloc(10);

    (void)unused;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        setenv("TZ", cases[i].tz, 1);
        tzset();
        assert_string_equal(mail_date(buf, cases[i].when), cases[i].expect);
    }
    vstring_free(buf);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_mail_date)};

    return cmocka_run_group_tests(tests, NULL, NULL);
}
