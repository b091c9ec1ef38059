/*
 * alias_src_test - unit tests for alias_src: aliases(5) lines as
 * postalias reads them, with the warnings for lines it skips.
 */
#include "sys_defs.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "alias_src.h"
#include "msg.h"

static VSTRING *logged;

static void capture(enum msg_level level, const char *text)
{
    vstring_sprintf_append(logged, "%s%s\n", msg_level_prefix(level), text);
}

static void test_lines(void **state UNUSED)
{
    static const struct {
        const char *line;
        const char *want; /* "name|value", or "" when skipped */
        const char *warning;
    } cases[] = {
        {"Kyle.Dent: kdent,kdent@oreilly.com", "Kyle.Dent|kdent, kdent@oreilly.com", ""},
        {"info: \"|/usr/local/bin/autoreply\"", "info|\"|/usr/local/bin/autoreply\"", ""},
        {"list: :include:/x/l", "list|:include:/x/l", ""},
        {"team: alice,  bob", "team|alice, bob", ""},
        {"\"a b\": carol", "a b|carol", ""},
        {"h : z", "h|z", ""},
        {"a@b: x", "", "warning: aliases, line 3: name must be local\n"},
        {"a%b: x", "", "warning: aliases, line 3: name must be local\n"},
        {"foo", "", "warning: aliases, line 3: need name:value pair\n"},
        {"g:", "", "warning: aliases, line 3: need name:value pair\n"},
        {": x", "", "warning: aliases, line 3: need name:value pair\n"},
    };
    VSTRING *name = vstring_alloc(10);
    VSTRING *value = vstring_alloc(10);
    VSTRING *got = vstring_alloc(10);

    logged = vstring_alloc(10);
    msg_output(capture);
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        vstring_reset(logged);
        vstring_reset(got);
        if (alias_src_split(cases[i].line, "aliases", 3, name, value))
            vstring_sprintf(got, "%s|%s", vstring_str(name), vstring_str(value));
        if (strcmp(vstring_str(got), cases[i].want) != 0)
            fail_msg("'%s': got '%s', want '%s'", cases[i].line, vstring_str(got), cases[i].want);
        assert_string_equal(vstring_str(logged), cases[i].warning);
    }
    vstring_free(name);
    vstring_free(value);
    vstring_free(got);
    vstring_free(logged);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lines),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
