/*
 * smtp_tls_policy_test - TLS policy table values (level and attributes,
 * errors) and the lookup keys of a next hop (verbatim, then parent
 * domains of a bare domain).
 */
#include "sys_defs.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "argv.h"
#include "smtp_tls_policy.h"
#include "tls.h"
#include "vstring.h"

/* A string attribute or "-" when absent. */
static const char *show(const char *value)
{
    return value ? value : "-";
}

/* Levels and attributes as Postfix's policy table takes them. */
static void test_parse(void **unused)
{
    (void)unused;
    static const struct {
        const char *value;
        int result;
        int level;
        const char *match;
        const char *protocols;
        const char *ciphers;
        const char *exclude;
        const char *why;
    } cases[] = {
        {"none", 0, TLS_LEV_NONE, "-", "-", "-", "-", ""},
        {"may", 0, TLS_LEV_MAY, "-", "-", "-", "-", ""},
        {"MAY ciphers=high", 0, TLS_LEV_MAY, "-", "-", "high", "-", ""},
        {"encrypt protocols=>=TLSv1.2", 0, TLS_LEV_ENCRYPT, "-", ">=TLSv1.2", "-", "-", ""},
        {"secure match=.example.com:example.com", 0, TLS_LEV_SECURE, ".example.com:example.com", "-", "-",
         "-", ""},
        {"verify, match=hostname:nexthop exclude=aNULL:MD5", 0, TLS_LEV_VERIFY, "hostname:nexthop", "-", "-",
         "aNULL:MD5", ""},
        {"fingerprint match=AA:BB|CC:DD", 0, TLS_LEV_FPRINT, "AA:BB|CC:DD", "-", "-", "-", ""},
        {"dane", 0, TLS_LEV_DANE, "-", "-", "-", "-", ""},
        {"dane-only connection_reuse=yes", 0, TLS_LEV_DANE_ONLY, "-", "-", "-", "-", ""},
        {"secur", -1, TLS_LEV_INVALID, "-", "-", "-", "-", "invalid TLS security level: \"secur\""},
        {"", -1, TLS_LEV_NONE, "-", "-", "-", "-", "empty TLS policy"},
        {"encrypt bogus=1", -1, TLS_LEV_ENCRYPT, "-", "-", "-", "-", "invalid attribute name: \"bogus\""},
        {"encrypt ciphers", -1, TLS_LEV_ENCRYPT, "-", "-", "-", "-",
         "malformed attribute/value pair: \"ciphers\""},
        {"encrypt ciphers=", -1, TLS_LEV_ENCRYPT, "-", "-", "-", "-", "empty \"ciphers\" value"},
        {"encrypt ciphers=high ciphers=low", -1, TLS_LEV_ENCRYPT, "-", "-", "high", "-",
         "duplicate attribute: \"ciphers\""},
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        SMTP_TLS_POLICY policy;
        VSTRING *why = vstring_alloc(10);

        memset(&policy, 0, sizeof(policy));
        print_message("case %zu: %s\n", i, cases[i].value);
        assert_int_equal(smtp_tls_policy_parse(&policy, cases[i].value, why), cases[i].result);
        assert_string_equal(vstring_str(why), cases[i].why);
        if (cases[i].result == 0 || cases[i].level != TLS_LEV_NONE)
            assert_int_equal(policy.dest_level, cases[i].level);
        assert_string_equal(show(policy.match), cases[i].match);
        assert_string_equal(show(policy.protocols), cases[i].protocols);
        assert_string_equal(show(policy.ciphers), cases[i].ciphers);
        assert_string_equal(show(policy.exclude), cases[i].exclude);
        smtp_tls_policy_clear(&policy);
        assert_null(policy.match);
        vstring_free(why);
    }
}

/* The keys: the next hop verbatim, parent domains only for bare domains. */
static void test_keys(void **unused)
{
    (void)unused;
    static const struct {
        const char *dest;
        const char *want;
    } cases[] = {
        {"example.com", "example.com .com"},
        {"a.b.example.com", "a.b.example.com .b.example.com .example.com .com"},
        {"[mx.example.net]", "[mx.example.net]"},
        {"[mx.example.net]:587", "[mx.example.net]:587"},
        {"example.com:587", "example.com:587"},
        {"inet:lmtp.example.com:24", "lmtp.example.com:24"},
        {"unix:/var/run/lmtp", "/var/run/lmtp"},
        {"localhost", "localhost"},
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        ARGV *keys = smtp_tls_policy_keys(cases[i].dest);
        VSTRING *got = vstring_alloc(100);

        for (size_t k = 0; k < keys->argc; k++)
            vstring_sprintf_append(got, "%s%s", k ? " " : "", keys->argv[k]);
        assert_string_equal(vstring_str(got), cases[i].want);
        argv_free(keys);
        vstring_free(got);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse),
        cmocka_unit_test(test_keys),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
