/*
 * is_header_test - header labels, header name table, message_drop_headers.
 */
#include "sys_defs.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>

#include "header_opts.h"
#include "is_header.h"

/* Which lines start a header, and how long the name is. */
static void test_is_header(void **unused UNUSED)
{
    static const struct {
        const char *line;
        size_t want;
    } cases[] = {
        {"Subject: hi", 7},
        {"Subject:", 7},
        {"X-A:b", 3},
        {"Subject : obsolete form", 7},
        {"Subject\t: tab", 7},
        {"Subject x: no", 0},
        {" Subject: continuation", 0},
        {"\tfolded", 0},
        {": no name", 0},
        {"", 0},
        {"no colon at all", 0},
        {"Sub\xc3\xa9ject: 8-bit name", 0},
        {"Ctl\x01: control", 0},
        {"From nobody Mon Jan  1", 0},
        {"~!#$%&'*+-/=?^_`{|}@.[]<>\"(),;\\: specials are fine", 31},
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        assert_int_equal(is_header(cases[i].line), cases[i].want);
        assert_int_equal(is_header_buf(cases[i].line, strlen(cases[i].line)), cases[i].want);
    }
    /* Only len bytes count. */
    assert_int_equal(is_header_buf("Subject: x", 7), 0);
    assert_int_equal(is_header_buf("Subject: x", 8), 7);
}

/* Header names with a meaning: types and flags, any case. */
static void test_header_opts(void **unused UNUSED)
{
    static const struct {
        const char *name;
        int type;
        unsigned flags;
    } cases[] = {
        {"From", HDR_FROM, HDR_OPT_SENDER},
        {"from", HDR_FROM, HDR_OPT_SENDER},
        {"SENDER", HDR_SENDER, HDR_OPT_SENDER},
        {"Reply-To", HDR_REPLY_TO, HDR_OPT_SENDER},
        {"Errors-To", HDR_ERRORS_TO, HDR_OPT_SENDER},
        {"Return-Receipt-To", HDR_RETURN_RECEIPT_TO, HDR_OPT_SENDER},
        {"To", HDR_TO, HDR_OPT_RECIP | HDR_OPT_EXTRACT},
        {"cc", HDR_CC, HDR_OPT_RECIP | HDR_OPT_EXTRACT},
        {"Bcc", HDR_BCC, HDR_OPT_RECIP | HDR_OPT_EXTRACT},
        {"Apparently-To", HDR_APPARENTLY_TO, HDR_OPT_RECIP},
        {"Resent-From", HDR_RESENT_FROM, HDR_OPT_SENDER | HDR_OPT_RR},
        {"Resent-Sender", HDR_RESENT_SENDER, HDR_OPT_SENDER | HDR_OPT_RR},
        {"Resent-To", HDR_RESENT_TO, HDR_OPT_RECIP | HDR_OPT_EXTRACT | HDR_OPT_RR},
        {"resent-cc", HDR_RESENT_CC, HDR_OPT_RECIP | HDR_OPT_EXTRACT | HDR_OPT_RR},
        {"Resent-Bcc", HDR_RESENT_BCC, HDR_OPT_RECIP | HDR_OPT_EXTRACT | HDR_OPT_RR},
        {"Resent-Date", HDR_RESENT_DATE, HDR_OPT_RR},
        {"Resent-Message-Id", HDR_RESENT_MESSAGE_ID, HDR_OPT_RR},
        {"Message-Id", HDR_MESSAGE_ID, 0},
        {"Date", HDR_DATE, 0},
        {"Received", HDR_RECEIVED, 0},
        {"Return-Path", HDR_RETURN_PATH, 0},
        {"Content-Length", HDR_CONTENT_LENGTH, 0},
        {"Content-Type", HDR_CONTENT_TYPE, HDR_OPT_MIME},
        {"content-transfer-encoding", HDR_CONTENT_TRANSFER_ENCODING, HDR_OPT_MIME},
        {"Content-Disposition", HDR_CONTENT_DISPOSITION, HDR_OPT_MIME},
        {"Content-ID", HDR_CONTENT_ID, HDR_OPT_MIME},
        {"Content-Description", HDR_CONTENT_DESCRIPTION, HDR_OPT_MIME},
        {"MIME-Version", HDR_MIME_VERSION, HDR_OPT_MIME},
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const HEADER_OPTS *hp = header_opts_find(cases[i].name, strlen(cases[i].name));

        assert_non_null(hp);
        assert_int_equal(hp->type, cases[i].type);
        assert_int_equal(hp->flags, cases[i].flags);
    }
    assert_null(header_opts_find("Subject", 7));
    assert_null(header_opts_find("X-From", 6));
    assert_null(header_opts_find("Fro", 3));
    /* The length decides, not the terminator. */
    assert_non_null(header_opts_find("To: a@b", 2));
    assert_null(header_opts_find("Tox", 3));
}

/* message_drop_headers: case-insensitive, replaced on each init. */
static void test_drop(void **unused UNUSED)
{
    header_opts_drop_init("bcc, content-length, resent-bcc, return-path");
    assert_true(header_opts_drop("Bcc", 3));
    assert_true(header_opts_drop("RETURN-PATH", 11));
    assert_true(header_opts_drop("Resent-Bcc: x", 10));
    assert_true(header_opts_drop("Content-Length", 14));
    assert_false(header_opts_drop("Cc", 2));
    assert_false(header_opts_drop("Bc", 2));
    header_opts_drop_init("X-Secret");
    assert_true(header_opts_drop("x-secret", 8));
    assert_false(header_opts_drop("Bcc", 3));
    header_opts_drop_init("");
    assert_false(header_opts_drop("X-Secret", 8));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_is_header),
        cmocka_unit_test(test_header_opts),
        cmocka_unit_test(test_drop),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
