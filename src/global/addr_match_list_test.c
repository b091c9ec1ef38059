/*
 * addr_match_list_test - unit tests for addr_match_list: address-only
 * lists (no host names).
 */
#include "sys_defs.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "addr_match_list.h"
#include "dict.h"
#include "msg.h"

#define ERR (-1) /* expected: no match, list->error set */

/* Drop diagnostics: match_list_test checks their texts. */
static void test_quiet(enum msg_level level UNUSED, const char *text UNUSED)
{
}

static const struct {
    const char *list;
    const char *addr;
    int want;
} cases[] = {
    {"127.0.0.0/8, [::1]/128", "127.0.0.2", 1},
    {"127.0.0.0/8, [::1]/128", "::1", 1},
    {"127.0.0.0/8, [::1]/128", "::2", 0},
    {"!10.0.0.1, 10.0.0.0/8", "10.0.0.1", 0},
    {"!10.0.0.1, 10.0.0.0/8", "10.0.0.2", 1},
    {"[2001:db8::]/32", "2001:db8::1", 1},
    {"example.com", "192.0.2.1", 0},
    {"inline:{192.0.2.1=x}", "192.0.2.1", 1},
    {"fail:x", "192.0.2.1", ERR},
    {"10.0.0.1/8", "10.0.0.1", ERR},
};

/* Every case of the table. */
static void test_cases(void **state UNUSED)
{
    int failed = 0;

    msg_output(test_quiet);
    dict_allow_surrogate = 1;
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        ADDR_MATCH_LIST *list = addr_match_list_init("test_networks", cases[i].list);
        int got = addr_match_list_match(list, cases[i].addr);

        if (got == 0 && list->error != DICT_ERR_NONE)
            got = ERR;
        if (got != cases[i].want) {
            print_error("case %zu: %s, %s: got %d want %d\n", i, cases[i].list, cases[i].addr, got,
                        cases[i].want);
            failed++;
        }
        assert_null(addr_match_list_free(list));
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
