/*
 * string_list_test - unit tests for string_list: whole strings,
 * case-insensitive, with negation and tables.
 */
#include "sys_defs.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "dict.h"
#include "msg.h"
#include "string_list.h"

#define ERR (-1) /* expected: no match, list->error set */

/* Drop diagnostics: match_list_test checks their texts. */
static void test_quiet(enum msg_level level UNUSED, const char *text UNUSED)
{
}

static const struct {
    const char *list;
    const char *string;
    int want;
} cases[] = {
    {"root, postfix", "root", 1},
    {"root, postfix", "Postfix", 1},
    {"root, postfix", "roo", 0},
    {"root, postfix", "sub.root", 0},
    {"static:anyone", "alice", 1},
    {"!bob, static:anyone", "bob", 0},
    {"!bob, static:anyone", "BOB", 0},
    {"!bob, static:anyone", "alice", 1},
    {"inline:{alice=1}", "Alice", 1},
    {"inline:{alice=1}", "bob", 0},
    {"", "alice", 0},
    {"fail:x", "alice", ERR},
};

/* Every case of the table. */
static void test_cases(void **state UNUSED)
{
    int failed = 0;

    msg_output(test_quiet);
    dict_allow_surrogate = 1;
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        STRING_LIST *list = string_list_init("authorized_submit_users", cases[i].list);
        int got = string_list_match(list, cases[i].string);

        if (got == 0 && list->error != DICT_ERR_NONE)
            got = ERR;
        if (got != cases[i].want) {
            print_error("case %zu: %s, %s: got %d want %d\n", i, cases[i].list, cases[i].string, got,
                        cases[i].want);
            failed++;
        }
        assert_null(string_list_free(list));
    }
    msg_output_reset();
    if (failed)
        fail_msg("%d of %zu cases failed", failed, ARRAY_LEN(cases));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cases),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
