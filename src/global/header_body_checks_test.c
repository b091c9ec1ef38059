/*
 * header_body_checks_test - every action word, optional and required
 * texts, REJECT reasons, and the warnings for bad results.
 */
#include "sys_defs.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>

#include "header_body_checks.h"
#include "msg.h"
#include "vstring.h"

static VSTRING *logged;

static void capture(enum msg_level level, const char *text)
{
    vstring_sprintf_append(logged, "%s%s\n", msg_level_prefix(level), text);
}

static int setup(void **unused UNUSED)
{
    logged = vstring_alloc(100);
    msg_output_reset();
    msg_output(capture);
    return 0;
}

static int teardown(void **unused UNUSED)
{
    vstring_free(logged);
    return 0;
}

static void test_parse(void **unused UNUSED)
{
    static const struct {
        const char *value;
        HBC_ACTION action;
        const char *text;
        bool defer;
        const char *log; /* warning logged, or NULL */
    } cases[] = {
        {"REJECT", HBC_REJECT, "5.7.1 message content rejected", false, NULL},
        {"reject Go away", HBC_REJECT, "5.7.1 Go away", false, NULL},
        {"REJECT   5.7.0 Bad stuff", HBC_REJECT, "5.7.0 Bad stuff", false, NULL},
        {"REJECT 4.7.1 try later", HBC_REJECT, "4.7.1 try later", true, NULL},
        {"REJECT 4.7.1", HBC_REJECT, "4.7.1", true, NULL},
        {"REJECT 4.7 not a code", HBC_REJECT, "5.7.1 4.7 not a code", false, NULL},
        {"REJECT 2.0.0 ok", HBC_REJECT, "5.7.1 2.0.0 ok", false, NULL},
        {"REJECT 550 no codes", HBC_REJECT, "5.7.1 550 no codes", false, NULL},
        {"DISCARD", HBC_DISCARD, "", false, NULL},
        {"Discard spam", HBC_DISCARD, "spam", false, NULL},
        {"HOLD", HBC_HOLD, "", false, NULL},
        {"HOLD look at it", HBC_HOLD, "look at it", false, NULL},
        {"FILTER smtp:[1.2.3.4]:10025", HBC_FILTER, "smtp:[1.2.3.4]:10025", false, NULL},
        {"FILTER relay:", HBC_FILTER, "relay:", false, NULL},
        {"FILTER nocolon", HBC_INVALID, "", false,
         "warning: bad FILTER command nocolon in header_checks -- need transport:destination\n"},
        {"FILTER", HBC_INVALID, "", false, "warning: missing FILTER command argument in header_checks map\n"},
        {"REDIRECT a@b.c", HBC_REDIRECT, "a@b.c", false, NULL},
        {"REDIRECT nobody", HBC_INVALID, "", false,
         "warning: bad REDIRECT target \"nobody\" in header_checks map, need user@domain\n"},
        {"BCC arch@example.com", HBC_BCC, "arch@example.com", false, NULL},
        {"BCC", HBC_INVALID, "", false,
         "warning: bad BCC address \"\" in header_checks map, need user@domain\n"},
        {"PREPEND X-Seen: 1", HBC_PREPEND, "X-Seen: 1", false, NULL},
        {"PREPEND", HBC_INVALID, "", false, "warning: PREPEND action without text in header_checks map\n"},
        {"REPLACE X-New: 2", HBC_REPLACE, "X-New: 2", false, NULL},
        {"REPLACE  ", HBC_INVALID, "", false, "warning: REPLACE action without text in header_checks map\n"},
        {"IGNORE", HBC_IGNORE, "", false, NULL},
        {"IGNORE with words", HBC_IGNORE, "", false, NULL},
        {"STRIP", HBC_STRIP, "", false, NULL},
        {"STRIP gone", HBC_STRIP, "gone", false, NULL},
        {"WARN", HBC_WARN, "", false, NULL},
        {"warn look", HBC_WARN, "look", false, NULL},
        {"INFO note", HBC_INFO, "note", false, NULL},
        {"PASS trusted", HBC_PASS, "trusted", false, NULL},
        {"DUNNO", HBC_DUNNO, "", false, NULL},
        {"OK", HBC_DUNNO, "", false, NULL},
        {"FROBNICATE it", HBC_INVALID, "", false,
         "warning: unknown command in header_checks map: FROBNICATE it\n"},
        {"REJECTED", HBC_INVALID, "", false, "warning: unknown command in header_checks map: REJECTED\n"},
        {"DEFER 4.0.0 later", HBC_INVALID, "", false,
         "warning: unknown command in header_checks map: DEFER 4.0.0 later\n"},
        {" REJECT", HBC_INVALID, "", false, "warning: unknown command in header_checks map:  REJECT\n"},
    };
    VSTRING *buf = vstring_alloc(10);

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        HBC_RESULT result;

        vstring_reset(logged);
        assert_int_equal(header_body_checks_parse(&result, buf, cases[i].value, "header_checks"),
                         cases[i].action);
        assert_int_equal(result.action, cases[i].action);
        assert_string_equal(result.text, cases[i].text);
        assert_int_equal(result.defer, cases[i].defer);
        assert_string_equal(vstring_str(logged), cases[i].log ? cases[i].log : "");
    }
    vstring_free(buf);
}

static void test_names(void **unused UNUSED)
{
    static const struct {
        HBC_ACTION action;
        const char *name;
    } cases[] = {
        {HBC_REJECT, "reject"},   {HBC_DISCARD, "discard"},   {HBC_HOLD, "hold"},
        {HBC_FILTER, "filter"},   {HBC_REDIRECT, "redirect"}, {HBC_BCC, "bcc"},
        {HBC_PREPEND, "prepend"}, {HBC_REPLACE, "replace"},   {HBC_STRIP, "strip"},
        {HBC_WARN, "warning"},    {HBC_INFO, "info"},         {HBC_PASS, "pass"},
        {HBC_IGNORE, NULL},       {HBC_DUNNO, NULL},          {HBC_INVALID, NULL},
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const char *name = header_body_checks_name(cases[i].action);

        if (cases[i].name == NULL)
            assert_null(name);
        else
            assert_string_equal(name, cases[i].name);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse),
        cmocka_unit_test(test_names),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
