/*
 * mail_params_test - unit tests for parameter type conversion (config.md
 * C27) and the registry.
 */
#include "sys_defs.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "mail_params.h"
#include "mail_params_init.h"

static void test_time_units(void **state UNUSED)
{
    static const struct {
        const char *value;
        int def_unit;
        int ok;
        long long seconds;
    } cases[] = {
        {"5m", 's', 1, 300},     {"2h", 's', 1, 7200},   {"1w", 's', 1, 604800}, {"300s", 's', 1, 300},
        {"300", 's', 1, 300},    {"2", 'd', 1, 172800},  {"4", 'h', 1, 14400},   {"10sx", 's', 1, 10},
        {"0", 's', 1, 0},        {"10x", 's', 0, 0},     {"", 's', 0, 0},        {"h", 's', 0, 0},
        {"-5", 's', 0, 0},       {"99999999999w", 's', 0, 0},
    };

    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        long long seconds = -1;
        int ok = mail_params_time(cases[i].value, cases[i].def_unit, &seconds);

        if (ok != cases[i].ok || (ok && seconds != cases[i].seconds))
            fail_msg("\"%s\" unit %c: got ok=%d %lld", cases[i].value, cases[i].def_unit, ok, seconds);
    }
}

/* The default units the spec names. */
static void test_default_units(void **state UNUSED)
{
    static const struct {
        const char *name;
        int unit;
    } cases[] = {
        {"delay_warning_time", 'h'},
        {"maximal_queue_lifetime", 'd'},
        {"bounce_queue_lifetime", 'd'},
        {"queue_run_delay", 's'},
    };

    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        const PARAM_INFO *param = mail_params_find(cases[i].name);

        assert_non_null(param);
        assert_int_equal(param->type, PT_TIME);
        assert_int_equal(mail_params_unit(param), cases[i].unit);
    }
}

/* The registry is sorted and free of duplicates. */
static void test_registry_sorted(void **state UNUSED)
{
    for (size_t i = 1; i < mail_params_count; i++)
        if (strcmp(mail_params_table[i - 1].name, mail_params_table[i].name) >= 0)
            fail_msg("%s before %s", mail_params_table[i - 1].name, mail_params_table[i].name);
    assert_null(mail_params_find("no_such_parameter"));
    assert_string_equal(mail_params_find("mail_name")->def, "Postern");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_time_units),
        cmocka_unit_test(test_default_units),
        cmocka_unit_test(test_registry_sorted),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
