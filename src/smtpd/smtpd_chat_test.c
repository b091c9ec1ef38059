/*
 * smtpd_chat_test - reply rewriting: soft_bounce, footer, length limit,
 * non-printable characters.
 */
#include "sys_defs.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>

#include "smtpd_chat.h"
#include "vstring.h"

/* smtpd_chat_format() outputs for a table of replies. */
static void test_format(void **unused UNUSED)
{
    static const struct {
        const char *reply;
        bool soft;
        const char *footer;
        const char *want;
    } cases[] = {
        {"250 2.0.0 Ok", false, NULL, "250 2.0.0 Ok\r\n"},
        {"250 2.0.0 Ok", true, "foot", "250 2.0.0 Ok\r\n"},
        {"554 5.7.1 <u@r>: Relay access denied", true, NULL, "454 4.7.1 <u@r>: Relay access denied\r\n"},
        {"550 5.1.1 <n@e>: unknown", true, NULL, "450 4.1.1 <n@e>: unknown\r\n"},
        {"500 Syntax: ETRN domain", true, NULL, "400 Syntax: ETRN domain\r\n"},
        {"450 4.7.1 busy", true, NULL, "450 4.7.1 busy\r\n"},
        {"554 5.7.1 denied", false, "Call us", "554-5.7.1 denied\r\n554 5.7.1 Call us\r\n"},
        {"554 5.7.1 denied", false, "one\\ntwo", "554-5.7.1 denied\r\n554-5.7.1 one\r\n554 5.7.1 two\r\n"},
        {"554 5.7.1 denied", false, "\\c (see web)", "554 5.7.1 denied (see web)\r\n"},
        {"503 Error: x", false, "Call us", "503-Error: x\r\n503 Call us\r\n"},
        {"554 5.7.1 denied", true, "Call us", "454-4.7.1 denied\r\n454 4.7.1 Call us\r\n"},
        {"250-PIPELINING", false, "x", "250-PIPELINING\r\n"},
        {"550 bad\x01\x7f char", false, NULL, "550 bad   char\r\n"},
    };
    VSTRING *out = vstring_alloc(100);

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        smtpd_chat_format(out, cases[i].reply, cases[i].soft, cases[i].footer);
        if (strcmp(vstring_str(out), cases[i].want) != 0)
            fail_msg("\"%s\": got \"%s\", want \"%s\"", cases[i].reply, vstring_str(out), cases[i].want);
    }
    vstring_free(out);
}

/* Replies are cut to 510 characters. */
/* smtpd_discard_ehlo_keywords = enhancedstatuscodes: codes go, texts stay. */
static void test_strip_esc(void **unused UNUSED)
{
    static const struct {
        const char *in;
        const char *out;
    } cases[] = {
        {"250 2.1.0 Ok\r\n", "250 Ok\r\n"},
        {"554-5.7.1 first\r\n554 5.7.1 second\r\n", "554-first\r\n554 second\r\n"},
        {"220 mx.example.test ESMTP Postern\r\n", "220 mx.example.test ESMTP Postern\r\n"},
        {"250-PIPELINING\r\n250 CHUNKING\r\n", "250-PIPELINING\r\n250 CHUNKING\r\n"},
        {"250 Queuing started\r\n", "250 Queuing started\r\n"},
        {"252 2.0.0 1.2.3\r\n", "252 1.2.3\r\n"},
        {"500 5.5.2\r\n", "500 5.5.2\r\n"},
    };
    VSTRING *buf = vstring_alloc(100);

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        vstring_strcpy(buf, cases[i].in);
        smtpd_chat_strip_esc(buf);
        assert_string_equal(vstring_str(buf), cases[i].out);
    }
    vstring_free(buf);
}

static void test_length(void **unused UNUSED)
{
    VSTRING *out = vstring_alloc(100);
    char reply[1000];

    memset(reply, 'x', sizeof(reply) - 1);
    reply[sizeof(reply) - 1] = 0;
    memcpy(reply, "550 ", 4);
    smtpd_chat_format(out, reply, false, NULL);
    assert_int_equal(VSTRING_LEN(out), 512);
    assert_string_equal(vstring_str(out) + 510, "\r\n");
    vstring_free(out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_format),
        cmocka_unit_test(test_length),
        cmocka_unit_test(test_strip_esc),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
