/*
 * smtpd_token_test - command words and envelope address extraction.
 */
#include "sys_defs.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>

#include "mymalloc.h"
#include "smtpd_token.h"
#include "vstring.h"

/* How lines split into words, and the word types. */
static void test_token(void **unused UNUSED)
{
    static const struct {
        const char *line;
        const char *want; /* words joined by '|', ADDR words as <...>, ERROR as !...! */
    } cases[] = {
        {"MAIL FROM: <a@b> SIZE=5", "MAIL|FROM:|<a@b>|SIZE=5"},
        {"  NOOP  ", "NOOP"},
        {"", ""},
        {"RCPT TO: <a b@c>", "RCPT|TO:|<a b@c>"},
        {"RCPT TO: <\"x y\"@c> NOTIFY=NEVER", "RCPT|TO:|<\"x y\"@c>|NOTIFY=NEVER"},
        {"MAIL FROM:<a@b>", "MAIL|FROM:<a@b>"},
        {"MAIL FROM: <a@b", "MAIL|FROM:|!<a@b!"},
        {"X \"open", "X|!\"open!"},
        {"A\tB", "A|B"},
        {"MAIL FROM: Name <a@b>", "MAIL|FROM:|Name|<a@b>"},
        {"MAIL FROM: <>", "MAIL|FROM:|<>"},
        {"a\\ b", "a\\ b"},
    };
    VSTRING *got = vstring_alloc(100);

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *line = mystrdup(cases[i].line);
        SMTPD_TOKEN *argv;
        int argc = smtpd_token(line, &argv);

        vstring_reset(got);
        for (int n = 0; n < argc; n++) {
            if (n)
                vstring_strcat(got, "|");
            if (argv[n].tokval == SMTPD_TOK_ADDR)
                vstring_sprintf_append(got, "<%s>", argv[n].strval);
            else if (argv[n].tokval == SMTPD_TOK_ERROR)
                vstring_sprintf_append(got, "!%s!", argv[n].strval);
            else
                vstring_strcat(got, argv[n].strval);
        }
        if (strcmp(vstring_str(got), cases[i].want) != 0)
            fail_msg("line \"%s\": got \"%s\", want \"%s\"", cases[i].line, vstring_str(got), cases[i].want);
        myfree(line);
    }
    vstring_free(got);
}

/* Address extraction from the words after FROM:/TO:. */
static void test_addr_extract(void **unused UNUSED)
{
    enum { S = SMTPD_ADDR_STRICT, E = SMTPD_ADDR_EMPTY_OK, U = SMTPD_ADDR_UTF8 };
    static const struct {
        const char *args;
        int flags;
        int want_next;
        const char *want_addr;
    } cases[] = {
        {"<a@b>", 0, 1, "a@b"},
        {"<a@b> SIZE=5", 0, 1, "a@b"},
        {"<>", E, 1, ""},
        {"<>", 0, -1, ""},
        {"a@b", 0, 1, "a@b"},
        {"a@b", S, -1, ""},
        {"a@b SIZE=1", 0, 1, "a@b"},
        {"Some Name <a@b>", 0, 3, "a@b"},
        {"Some Name <a@b>", S, -1, ""},
        {"Name <a@b> BODY=8BITMIME", 0, 2, "a@b"},
        {"<@r1,@r2:u@c>", 0, 1, "u@c"},
        {"<@r1:u@c>", S, 1, "u@c"},
        {"<@r1>", 0, -1, ""},
        {"<\"a b\"@c>", 0, 1, "a b@c"},
        {"<\"a\\\"q\"@c>", 0, 1, "a\"q@c"},
        {"<a\\ b@c>", 0, 1, "a b@c"},
        {"<a<b@c>", 0, -1, ""},
        {"<a@b", 0, -1, ""},
        {"<a(b)@c>", 0, -1, ""},
        {"<u@[192.0.2.1]>", 0, 1, "u@[192.0.2.1]"},
        {"<u%r@l>", 0, 1, "u%r@l"},
        {"<r!u@l>", 0, 1, "r!u@l"},
        {"<u@r@l>", 0, 1, "u@r@l"},
        {"<u@remote.test.>", 0, 1, "u@remote.test."},
        {"<j\xc3\xb6rg@example.test>", U, 1, "j\xc3\xb6rg@example.test"},
        {"<j\xc3\xb6rg@example.test>", 0, -1, ""},
        {"<j\xc3rg@example.test>", U, -1, ""},
        {"<\xed\xa0\x80@x>", U, -1, ""},
        {"<\xc0\xaf@x>", U, -1, ""},
        {"", 0, -1, ""},
        {"SIZE=5 <a@b>", 0, 1, "SIZE=5"},
    };
    VSTRING *result = vstring_alloc(100);

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *line = mystrdup(cases[i].args);
        SMTPD_TOKEN *argv;
        int argc = smtpd_token(line, &argv);
        int next = smtpd_addr_extract(argv, argc, result, cases[i].flags);

        if (next != cases[i].want_next || (next >= 0 && strcmp(vstring_str(result), cases[i].want_addr) != 0))
            fail_msg("\"%s\" flags %d: got %d \"%s\", want %d \"%s\"", cases[i].args, cases[i].flags, next,
                     vstring_str(result), cases[i].want_next, cases[i].want_addr);
        myfree(line);
    }
    vstring_free(result);
}

/* UTF-8 well-formedness. */
static void test_utf8(void **unused UNUSED)
{
    static const struct {
        const char *str;
        bool ok;
    } cases[] = {
        {"ascii", true},
        {"\xc3\xa9", true},
        {"\xe2\x82\xac", true},
        {"\xf0\x9f\x98\x80", true},
        {"\xc3", false},
        {"\xc0\x80", false},
        {"\xed\xa0\x80", false},
        {"\xf4\x90\x80\x80", false},
        {"\xe2\x82", false},
        {"\x80", false},
        {"", true},
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        assert_int_equal(smtpd_token_utf8_ok(cases[i].str, strlen(cases[i].str)), cases[i].ok);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_token),
        cmocka_unit_test(test_addr_extract),
        cmocka_unit_test(test_utf8),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
