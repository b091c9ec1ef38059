/*
 * mac_expand_test - unit tests for mac_expand.
 */
#include "sys_defs.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "mac_expand.h"

/* A fixed name space: name=value pairs. */
static const char *const vars[][2] = {
    {"host", "mail.example.com"}, {"domain", "example.com"}, {"origin", "$domain"},
    {"empty", ""},                {"loop_a", "$loop_b"},     {"loop_b", "$loop_a"},
    {"level", "3.6"},             {"style", "host"},
};

static const char *lookup(const char *name, void *context UNUSED)
{
    for (size_t i = 0; i < ARRAY_LEN(vars); i++)
        if (strcmp(name, vars[i][0]) == 0)
            return vars[i][1];
    return NULL;
}

static void test_expansions(void **state UNUSED)
{
    static const struct {
        const char *pattern;
        const char *want;
        int status;
    } cases[] = {
        {"plain", "plain", MAC_EXP_OK},
        {"$host", "mail.example.com", MAC_EXP_OK},
        {"${host}/$(domain)", "mail.example.com/example.com", MAC_EXP_OK},
        {"$origin", "example.com", MAC_EXP_OK},
        {"$$x", "$x", MAC_EXP_OK},
        {"${nosuch}X", "X", MAC_EXP_UNDEF},
        {"${host?yes}", "yes", MAC_EXP_OK},
        {"${empty?yes}", "", MAC_EXP_OK},
        {"${empty:no}", "no", MAC_EXP_OK},
        {"${nosuch:no}", "no", MAC_EXP_UNDEF},
        {"${host:no}", "", MAC_EXP_OK},
        {"${host?{a b}:{c}}", "a b", MAC_EXP_OK},
        {"${empty?{a b}:{c, d}}", "c, d", MAC_EXP_OK},
        {"${{$style} == {host} ? {x.example} : {y.example}}", "x.example", MAC_EXP_OK},
        {"${{$style} != {host} ? {x} : {y}}", "y", MAC_EXP_OK},
        {"${{10} < {9} ? {x} : {y}}", "y", MAC_EXP_OK},
        {"${{10} > {9} ? {x} : {y}}", "x", MAC_EXP_OK},
        {"${{abc} < {abd} ? {x} : {y}}", "x", MAC_EXP_OK},
        {"${{$level} <level {2} ? {subnet} : {host}}", "host", MAC_EXP_OK},
        {"${{3.10} >level {3.9} ? {yes} : {no}}", "yes", MAC_EXP_OK},
        {"${{0} <level {2} ? {subnet} : {host}}", "subnet", MAC_EXP_OK},
        {"${{a} <= {a} ? {x}}", "x", MAC_EXP_OK},
        {"$loop_a", "", MAC_EXP_ERROR},
        {"${}X", "", MAC_EXP_ERROR},
        {"${host", "", MAC_EXP_ERROR},
        {"a$", "a", MAC_EXP_ERROR},
        {"${host!x}", "", MAC_EXP_ERROR},
        {"${{a} === {b} ? {x} : {y}}", "", MAC_EXP_ERROR},
    };

    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        VSTRING *result = vstring_alloc(10);
        int status = mac_expand(result, cases[i].pattern, MAC_EXP_FLAG_NONE, lookup, NULL);

        if (strcmp(vstring_str(result), cases[i].want) != 0 || status != cases[i].status)
            fail_msg("\"%s\": got \"%s\" status %d, want \"%s\" status %d", cases[i].pattern,
                     vstring_str(result), status, cases[i].want, cases[i].status);
        vstring_free(result);
    }
}

static void test_norecurse(void **state UNUSED)
{
    VSTRING *result = vstring_alloc(10);

    assert_int_equal(mac_expand(result, "$origin", MAC_EXP_FLAG_NORECURSE, lookup, NULL), MAC_EXP_OK);
    assert_string_equal(vstring_str(result), "$domain");
    vstring_free(result);
}

static void test_level_cmp(void **state UNUSED)
{
    assert_true(mac_expand_level_cmp("3.10", "3.9") > 0);
    assert_true(mac_expand_level_cmp("2", "3.6") < 0);
    assert_int_equal(mac_expand_level_cmp("3.6", "3.6"), 0);
    assert_true(mac_expand_level_cmp("3.6.1", "3.6") > 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_expansions),
        cmocka_unit_test(test_norecurse),
        cmocka_unit_test(test_level_cmp),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
