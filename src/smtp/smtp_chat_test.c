/*
 * smtp_chat_test - reply parsing (single and multi-line, enhanced status
 * codes) and xtext encoding of the smtp(8) client.
 */
#include "sys_defs.h"

#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "smtp.h"
#include "vstream.h"
#include "vstring.h"

/* Line syntax. */
static void test_parse_line(void **unused)
{
    static const struct {
        const char *line;
        int ret;
        int code;
        bool more;
        const char *text;
    } cases[] = {
        {"250 2.0.0 Ok", 0, 250, false, "2.0.0 Ok"},
        {"250-PIPELINING", 0, 250, true, "PIPELINING"},
        {"354", 0, 354, false, ""},
        {"55x oops", -1, 0, false, "55x oops"},
        {"2500 x", -1, 0, false, "2500 x"},
        {"", -1, 0, false, ""},
    };

    (void)unused;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int code;
        bool more;
        const char *text;

        assert_int_equal(smtp_resp_parse_line(cases[i].line, &code, &more, &text), cases[i].ret);
        assert_int_equal(code, cases[i].code);
        assert_int_equal(more, cases[i].more);
        assert_string_equal(text, cases[i].text);
    }
}

/* Whole replies read from a stream: joined text and status. */
static void test_read_reply(void **unused)
{
    static const struct {
        const char *input;
        int code;
        const char *dsn;
        const char *text;
        int lines;
    } cases[] = {
        {"250 2.0.0 Ok: queued as X\r\n", 250, "2.0.0", "250 2.0.0 Ok: queued as X", 1},
        {"550-5.1.1 first\r\n550 5.1.1 second\r\n", 550, "5.1.1", "550-5.1.1 first 550 5.1.1 second", 2},
        {"450 try later\r\n", 450, "4.0.0", "450 try later", 1},
        {"451 5.3.0 mismatched class\r\n", 451, "4.3.0", "451 5.3.0 mismatched class", 1},
        {"250-mx.test\r\n250-PIPELINING\r\n250 SIZE 1000\n", 250, "2.0.0",
         "250-mx.test 250-PIPELINING 250 SIZE 1000", 3},
    };

    (void)unused;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int fds[2];
        SMTP_SESSION session = {.namaddr = "test[127.0.0.1]"};
        SMTP_RESP *resp = smtp_resp_create();

        assert_int_equal(pipe(fds), 0);
        assert_int_equal(write(fds[1], cases[i].input, strlen(cases[i].input)),
                         (ssize_t)strlen(cases[i].input));
        close(fds[1]);
        session.stream = vstream_fdopen(fds[0], O_RDONLY);
        assert_int_equal(smtp_chat_resp(&session, resp, 5), 0);
        assert_int_equal(resp->code, cases[i].code);
        assert_string_equal(resp->dsn, cases[i].dsn);
        assert_string_equal(vstring_str(resp->text), cases[i].text);
        assert_int_equal(resp->lines->argc, cases[i].lines);
        /* End of input is an error, not an empty reply. */
        assert_int_equal(smtp_chat_resp(&session, resp, 5), -1);
        vstream_fclose(session.stream);
        smtp_resp_free(resp);
    }
}

/* RFC 3461 xtext. */
static void test_xtext(void **unused)
{
    static const struct {
        const char *in;
        const char *out;
    } cases[] = {
        {"user@example.com", "user@example.com"},
        {"a+b=c", "a+2Bb+3Dc"},
        {"sp ace", "sp+20ace"},
        {"\xc3\xa9", "+C3+A9"},
        {"", ""},
    };
    VSTRING *buf = vstring_alloc(10);

    (void)unused;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        smtp_xtext_encode(buf, cases[i].in);
        assert_string_equal(vstring_str(buf), cases[i].out);
    }
    vstring_free(buf);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_line),
        cmocka_unit_test(test_read_reply),
        cmocka_unit_test(test_xtext),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
