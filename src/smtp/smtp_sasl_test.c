/*
 * smtp_sasl_test - the SASL client's password lookup order (sender when
 * sender-dependent, then the host connected, then the next hop as
 * written), the username:password split, lookup errors, and the
 * smtp_sasl_mechanism_filter (names, negation, tables, errors).
 */
#include "sys_defs.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "maps.h"
#include "mail_params.h"
#include "msg.h"
#include "mymalloc.h"
#include "resolve_local.h"
#include "smtp_sasl.h"
#include "string_list.h"
#include "vstring.h"

/* Warnings are expected (failing tables); keep them off the output. */
static void quiet(enum msg_level level, const char *text)
{
    (void)level;
    (void)text;
}

static int setup(void **state)
{
    (void)state;
    msg_output(quiet);
    var_mydestination = "localhost";
    var_inet_interfaces = "127.0.0.1";
    var_proxy_interfaces = "";
    var_myorigin = "origin.example";
    var_double_bounce_sender = "double-bounce";
    var_recipient_delimiter = "+";
    var_parent_domain_matches_subdomains = "";
    resolve_local_init();
    return 0;
}

/* Lookup order and splitting, one table text per case. */
static void test_lookup_order(void **state)
{
    static const struct {
        const char *maps;
        const char *sender; /* NULL: not sender-dependent */
        const char *host;
        const char *dest;
        int delim;
        int want;
        const char *user;
        const char *pass;
    } cases[] = {
        /* Check 24: the host connected wins over the next hop. */
        {"inline:{{[127.0.0.1]:2525=u1:p1}, {127.0.0.1=u2:p2}}", NULL, "127.0.0.1", "[127.0.0.1]:2525", ':',
         1, "u2", "p2"},
        {"inline:{{[127.0.0.1]:2525=u1:p1}}", NULL, "127.0.0.1", "[127.0.0.1]:2525", ':', 1, "u1", "p1"},
        {"inline:{{x.example=u1:p1}}", NULL, "127.0.0.1", "[127.0.0.1]:2525", ':', 0, NULL, NULL},
        /* Brackets and port must match the next hop as written. */
        {"inline:{{127.0.0.1:2525=u1:p1}, {[127.0.0.1]=u3:p3}}", NULL, "mx.example", "[127.0.0.1]:2525", ':',
         0, NULL, NULL},
        {"inline:{{[mail.isp.example]=u3:p3}}", NULL, "mail.isp.example", "[mail.isp.example]", ':', 1, "u3",
         "p3"},
        {"inline:{{example.com=d:pd}, {mx1.example.com=h:ph}}", NULL, "mx2.example.com", "example.com", ':',
         1, "d", "pd"},
        /* Host names match case-insensitively (fixed-key tables fold). */
        {"inline:{{mx1.example.com=h:ph}}", NULL, "MX1.Example.COM", "example.com", ':', 1, "h", "ph"},
        /* The sender first, when sender-dependent; then @domain. */
        {"inline:{{a@example.org=s:ps}, {127.0.0.1=u2:p2}}", "a@example.org", "127.0.0.1", "x", ':', 1, "s",
         "ps"},
        {"inline:{{@example.org=sd:psd}, {127.0.0.1=u2:p2}}", "b+ext@example.org", "127.0.0.1", "x", ':', 1,
         "sd", "psd"},
        {"inline:{{a@example.org=s:ps}, {127.0.0.1=u2:p2}}", NULL, "127.0.0.1", "x", ':', 1, "u2", "p2"},
        {"inline:{{a@example.org=s:ps}, {127.0.0.1=u2:p2}}", "", "127.0.0.1", "x", ':', 1, "u2", "p2"},
        {"inline:{{c@example.org=s:ps}, {127.0.0.1=u2:p2}}", "a@example.org", "127.0.0.1", "x", ':', 1, "u2",
         "p2"},
        /* The first delimiter splits; the password may hold more. */
        {"inline:{{h=user:pa:ss}}", NULL, "h", "d", ':', 1, "user", "pa:ss"},
        {"inline:{{h=user|pa:ss}}", NULL, "h", "d", '|', 1, "user", "pa:ss"},
        {"inline:{{h=onlyuser}}", NULL, "h", "d", ':', 1, "onlyuser", ""},
        /* A failing table is an error, never "not found". */
        {"fail:broken", NULL, "h", "d", ':', -1, NULL, NULL},
        {"inline:{{h=user:pw}}, fail:broken", NULL, "h", "d", ':', 1, "user", "pw"},
        {"inline:{{d=user:pw}}, fail:broken", NULL, "h", "d", ':', -1, NULL, NULL},
    };

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        MAPS *maps = maps_create("smtp_sasl_password_maps", cases[i].maps, DICT_FLAG_DEFAULT);
        char *user;
        char *pass;
        int got = smtp_sasl_passwd_lookup(maps, cases[i].sender, cases[i].host, cases[i].dest, cases[i].delim,
                                          &user, &pass);

        if (got != cases[i].want)
            fail_msg("case %zu: got %d, want %d", i, got, cases[i].want);
        if (got == 1) {
            assert_string_equal(user, cases[i].user);
            assert_string_equal(pass, cases[i].pass);
            myfree(user);
            myfree(pass);
        } else {
            assert_null(user);
            assert_null(pass);
        }
        maps_free(maps);
    }
}

/* smtp_sasl_mechanism_filter: string-list semantics, server order. */
static void test_filter(void **state)
{
    static const struct {
        const char *filter; /* NULL: no filter */
        const char *offered;
        int want;
        const char *result;
    } cases[] = {
        {NULL, "PLAIN LOGIN CRAM-MD5", 0, "PLAIN LOGIN CRAM-MD5"},
        {"plain, login", "CRAM-MD5 LOGIN PLAIN", 0, "LOGIN PLAIN"},
        {"cram-md5", "PLAIN LOGIN", 0, ""},
        {"!gssapi, !login, static:rest", "GSSAPI LOGIN PLAIN CRAM-MD5", 0, "PLAIN CRAM-MD5"},
        {"inline:{{login=x}}", "PLAIN LOGIN", 0, "LOGIN"},
        {"fail:mechs", "PLAIN LOGIN", -1, ""},
        {NULL, "", 0, ""},
    };

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        STRING_LIST *filter =
            cases[i].filter ? string_list_init("smtp_sasl_mechanism_filter", cases[i].filter) : NULL;
        VSTRING *out = vstring_alloc(10);

        assert_int_equal(smtp_sasl_filter_mechs(cases[i].offered, filter, out), cases[i].want);
        if (cases[i].want == 0)
            assert_string_equal(vstring_str(out), cases[i].result);
        vstring_free(out);
        if (filter)
            string_list_free(filter);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lookup_order),
        cmocka_unit_test(test_filter),
    };

    return cmocka_run_group_tests(tests, setup, NULL);
}
