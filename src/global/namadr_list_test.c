/*
 * namadr_list_test - unit tests for namadr_list: mynetworks-style lists of
 * names, addresses and networks (config.md 7.7, postconf(5) mynetworks),
 * checked against Postfix 3.7 smtpd with permit_mynetworks.
 */
#include "sys_defs.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "dict.h"
#include "mail_params.h"
#include "msg.h"
#include "namadr_list.h"

#define ERR (-1) /* expected: no match, list->error set */

/* Drop diagnostics: match_list_test checks their texts. */
static void test_quiet(enum msg_level level UNUSED, const char *text UNUSED)
{
}

static const struct {
    const char *param;
    const char *list;
    const char *name;
    const char *addr;
    int want;
} cases[] = {
    /* postconf(5) mynetworks examples. */
    {"mynetworks", "127.0.0.0/8 168.100.189.0/28", "unknown", "127.0.0.1", 1},
    {"mynetworks", "127.0.0.0/8 168.100.189.0/28", "unknown", "168.100.189.15", 1},
    {"mynetworks", "127.0.0.0/8 168.100.189.0/28", "unknown", "168.100.189.16", 0},
    {"mynetworks", "!192.168.0.1, 192.168.0.0/28", "unknown", "192.168.0.1", 0},
    {"mynetworks", "!192.168.0.1, 192.168.0.0/28", "unknown", "192.168.0.2", 1},
    {"mynetworks", "127.0.0.0/8 168.100.189.0/28 [::1]/128 [2001:240:587::]/64", "unknown", "::1", 1},
    {"mynetworks", "127.0.0.0/8 168.100.189.0/28 [::1]/128 [2001:240:587::]/64", "unknown",
     "2001:240:587:0:250:56ff:fe89:1", 1},
    {"mynetworks", "127.0.0.0/8 168.100.189.0/28 [::1]/128 [2001:240:587::]/64", "unknown", "2001:240:588::1",
     0},
    {"mynetworks", "[2001:db8::]/32", "unknown", "2001:DB8:ffff::1", 1},
    {"mynetworks", "[10.1.2.3]", "unknown", "10.1.2.3", 1},
    {"mynetworks", "10.1.2.3", "unknown", "10.1.2.3", 1},
    {"mynetworks", "[::1]", "unknown", "::1", 1},
    {"mynetworks", "[::1]", "unknown", "127.0.0.1", 0},

    /* Names, parent mode by default for mynetworks. */
    {"mynetworks", "example.com", "mail.Example.COM", "192.0.2.1", 1},
    {"mynetworks", ".example.com", "mail.example.com", "192.0.2.1", 0},
    {"mynetworks", "example.com", "unknown", "192.0.2.1", 0},
    {"mynetworks", "example.com", 0, "192.0.2.1", 0},
    {"smtpd_client_event_limit_exceptions", "example.com", "mail.example.com", "192.0.2.1", 0},
    {"smtpd_client_event_limit_exceptions", ".example.com", "mail.example.com", "192.0.2.1", 1},

    /* Each item is tried on the name, then on the address. */
    {"mynetworks", "!example.com, 192.0.2.0/24", "mail.example.com", "192.0.2.1", 0},
    {"mynetworks", "!192.0.2.1, example.com", "mail.example.com", "192.0.2.1", 0},
    {"mynetworks", "!192.0.2.1, example.com", "mail.example.com", "192.0.2.2", 1},

    /* Tables: the name with its parents, then the exact address. */
    {"mynetworks", "inline:{example.com=x, 192.0.2.1=y, 2001:db8::1=z}", "mail.example.com", "10.0.0.1", 1},
    {"mynetworks", "inline:{example.com=x, 192.0.2.1=y, 2001:db8::1=z}", "unknown", "192.0.2.1", 1},
    {"mynetworks", "inline:{example.com=x, 192.0.2.1=y, 2001:db8::1=z}", "unknown", "2001:db8::1", 1},
    {"mynetworks", "inline:{example.com=x, 192.0.2.1=y, 2001:db8::1=z}", "unknown", "192.0.2.2", 0},
    {"mynetworks", "inline:{192.0.2=y}", "unknown", "192.0.2.2", 0},

    /* Failures: tables, malformed networks, bare IPv6 (read as type:name). */
    {"mynetworks", "fail:x", "unknown", "192.0.2.1", ERR},
    {"mynetworks", "192.0.2.0/24, fail:x", "unknown", "192.0.2.1", 1},
    {"mynetworks", "192.0.2.1/24", "unknown", "192.0.2.1", ERR},
    {"mynetworks", "192.0.2.0/33", "unknown", "192.0.2.1", ERR},
    {"mynetworks", "2001:db8::1", "unknown", "2001:db8::1", ERR},
};

/* Every case of the table. */
static void test_cases(void **state UNUSED)
{
    int failed = 0;

    msg_output(test_quiet);
    dict_allow_surrogate = 1;
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        NAMADR_LIST *list = namadr_list_init(cases[i].param, cases[i].list);
        int got = namadr_list_match(list, cases[i].name, cases[i].addr);

        if (got == 0 && list->error != DICT_ERR_NONE)
            got = ERR;
        if (got != cases[i].want) {
            print_error("case %zu: %s = %s, %s[%s]: got %d want %d\n", i, cases[i].param, cases[i].list,
                        cases[i].name ? cases[i].name : "(null)", cases[i].addr, got, cases[i].want);
            failed++;
        }
        assert_null(namadr_list_free(list));
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
