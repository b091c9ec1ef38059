/*
 * bounce_notice_test - unit tests for bounce_notice: one complete
 * non-delivery notice compared line by line with the layout Postfix 3.7
 * produces, then a table of kinds (delay, success, verify, postmaster
 * copy, headers only) checked for subject, texts, status fields and part
 * 3; long lines split over CONT records joined; line folding; a queue
 * file without content.
 */
#include "sys_defs.h"

#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "bounce_notice.h"
#include "mail_params.h"
#include "msg.h"
#include "mymalloc.h"
#include "rec_type.h"
#include "record.h"
#include "vstream.h"
#include "vstring.h"

static char test_file[] = "/tmp/bounce_notice_test.XXXXXX";

/* Drop diagnostics. */
static void test_quiet(enum msg_level level UNUSED, const char *text UNUSED)
{
}

/* BOUNCE_PUT_FN that collects lines into a VSTRING, '\n' after each. */
static int test_put(void *ctx, const char *data, size_t len)
{
    vstring_memcat((VSTRING *)ctx, data, len);
    vstring_strcat((VSTRING *)ctx, "\n");
    return 0;
}

/* A queue file: SIZE, T, S, MESG, headers, body with a long line, XTRA, END. */
static VSTREAM *test_queue_file(long long size, bool content)
{
    VSTREAM *fp = vstream_fopen(test_file, O_RDWR | O_CREAT | O_TRUNC, 0600);

    assert_non_null(fp);
    rec_fprintf(fp, REC_TYPE_SIZE, REC_SIZE_FORMAT, size, 0LL, 1, 0, 0LL);
    rec_fputs(fp, REC_TYPE_TIME, "1763712345 123");
    rec_fputs(fp, REC_TYPE_FROM, "alice@sender.test");
    rec_fputs(fp, REC_TYPE_RCPT, "bob@bad.test");
    if (content) {
        rec_fputs(fp, REC_TYPE_MESG, "");
        rec_fputs(fp, REC_TYPE_NORM, "Subject: hi");
        rec_fputs(fp, REC_TYPE_NORM, "Message-ID: <m1@sender.test>");
        rec_fputs(fp, REC_TYPE_NORM, "");
        rec_fputs(fp, REC_TYPE_CONT, "long ");
        rec_fputs(fp, REC_TYPE_CONT, "line ");
        rec_fputs(fp, REC_TYPE_NORM, "joined");
        rec_fputs(fp, REC_TYPE_NORM, "end");
        rec_fputs(fp, REC_TYPE_XTRA, "");
    }
    rec_fputs(fp, REC_TYPE_END, "");
    assert_int_equal(vstream_fseek(fp, 0, SEEK_SET), 0);
    return fp;
}

/* Entries: one remote SMTP failure, one local alias failure. */
static BOUNCE_ENTRIES *test_entries(const char *action, const char *status)
{
    BOUNCE_ENTRIES *list = bounce_entries_create();
    RECIPIENT r1 = {10, "rfc822;bob@bad.test", 0, "bob@bad.test", "bob@bad.test"};
    DSN d1 = {status,
              action,
              "host mx.bad.test[192.0.2.1] said: 550 5.1.1 no such user (in reply to RCPT TO command)",
              "smtp",
              "550 5.1.1 no such user",
              "dns",
              "mx.bad.test"};
    RECIPIENT r2 = {20, "", 0, "all@bad.test", "carol@bad.test"};
    DSN d2 = {status, action, "unknown user", "", "", "", ""};

    bounce_entries_add(list, &r1, &d1, 1);
    bounce_entries_add(list, &r2, &d2, 2);
    return list;
}

static const char test_expect_failure[] =
    "Received: by mail.example.com (Postern)\n"
    "\tid NEWID; Fri, 21 Nov 2025 08:05:45 +0000 (UTC)\n"
    "Date: Fri, 21 Nov 2025 08:05:45 +0000 (UTC)\n"
    "From: Mail Delivery System <MAILER-DAEMON@example.com>\n"
    "Subject: Undelivered Mail Returned to Sender\n"
    "To: alice@sender.test\n"
    "Auto-Submitted: auto-replied\n"
    "MIME-Version: 1.0\n"
    "Content-Type: multipart/report; report-type=delivery-status;\n"
    "\tboundary=\"ABC123.1763712345/mail.example.com\"\n"
    "Content-Transfer-Encoding: 8bit\n"
    "\n"
    "This is a MIME-encapsulated message.\n"
    "\n"
    "--ABC123.1763712345/mail.example.com\n"
    "Content-Description: Notification\n"
    "Content-Type: text/plain; charset=utf-8\n"
    "Content-Transfer-Encoding: 8bit\n"
    "\n"
    "This is the mail system at host mail.example.com.\n"
    "\n"
    "I'm sorry to have to inform you that your message could not\n"
    "be delivered to one or more recipients. It's attached below.\n"
    "\n"
    "For further assistance, please send mail to postmaster.\n"
    "\n"
    "If you do so, please include this problem report. You can\n"
    "delete your own text from the attached returned message.\n"
    "\n"
    "                   The mail system\n"
    "\n"
    "<bob@bad.test>: host mx.bad.test[192.0.2.1] said: 550 5.1.1 no such user (in\n"
    "    reply to RCPT TO command)\n"
    "\n"
    "<carol@bad.test> (expanded from <all@bad.test>): unknown user\n"
    "\n"
    "--ABC123.1763712345/mail.example.com\n"
    "Content-Description: Delivery report\n"
    "Content-Type: message/delivery-status\n"
    "\n"
    "Reporting-MTA: dns; mail.example.com\n"
    "X-Postfix-Queue-ID: ABC123\n"
    "X-Postfix-Sender: rfc822; alice@sender.test\n"
    "Arrival-Date: Fri, 21 Nov 2025 08:05:45 +0000 (UTC)\n"
    "\n"
    "Final-Recipient: rfc822; bob@bad.test\n"
    "Original-Recipient: rfc822;bob@bad.test\n"
    "Action: failed\n"
    "Status: 5.1.1\n"
    "Remote-MTA: dns; mx.bad.test\n"
    "Diagnostic-Code: smtp; 550 5.1.1 no such user\n"
    "\n"
    "Final-Recipient: rfc822; carol@bad.test\n"
    "Original-Recipient: rfc822;all@bad.test\n"
    "Action: failed\n"
    "Status: 5.1.1\n"
    "Diagnostic-Code: X-Postfix; unknown user\n"
    "\n"
    "--ABC123.1763712345/mail.example.com\n"
    "Content-Description: Undelivered Message\n"
    "Content-Type: message/rfc822\n"
    "Content-Transfer-Encoding: 8bit\n"
    "\n"
    "Return-Path: <alice@sender.test>\n"
    "Subject: hi\n"
    "Message-ID: <m1@sender.test>\n"
    "\n"
    "long line joined\n"
    "end\n"
    "\n"
    "--ABC123.1763712345/mail.example.com--\n";

/* A notice of KIND into OUT from the test queue file. */
static int test_compose(VSTRING *out, BOUNCE_KIND kind, bool postmaster, bool headers_only,
                        const char *action, const char *status, long long size)
{
    VSTREAM *fp = test_queue_file(size, true);
    BOUNCE_ENTRIES *entries = test_entries(action, status);
    BOUNCE_MSG msg;
    BOUNCE_NOTICE notice = {
        kind,       postmaster, headers_only, "ABC123", "alice@sender.test", "alice@sender.test", "NEWID",
        1763712345, 0,          NULL};
    int ret;

    assert_int_equal(bounce_msg_scan(fp, &msg), 0);
    assert_int_equal((long long)msg.arrival, 1763712345LL);
    assert_int_equal(msg.size, size);
    notice.arrival = msg.arrival;
    vstring_truncate(out, 0);
    ret = bounce_notice_write(&notice, entries, fp, test_put, out);
    bounce_entries_free(entries);
    vstream_fclose(fp);
    return ret;
}

static void test_failure_exact(void **state UNUSED)
{
    VSTRING *out = vstring_alloc(1000);

    assert_int_equal(test_compose(out, BOUNCE_KIND_FAILURE, false, false, "failed", "5.1.1", 300), 0);
    assert_string_equal(vstring_str(out), test_expect_failure);
    vstring_free(out);
}

/* Per kind: what must and must not appear. */
static const struct {
    BOUNCE_KIND kind;
    bool postmaster;
    bool headers_only;
    const char *action;
    const char *status;
    const char *must[6];
    const char *must_not[3];
} test_kinds[] = {
    {BOUNCE_KIND_FAILURE,
     false,
     true,
     "failed",
     "5.1.1",
     {"Subject: Undelivered Mail Returned to Sender\n", "Content-Description: Undelivered Message Headers\n",
      "Content-Type: text/rfc822-headers\n", "Message-ID: <m1@sender.test>\n\n--ABC123"},
     {"long line joined", "message/rfc822"}},
    {BOUNCE_KIND_FAILURE,
     true,
     true,
     "failed",
     "5.1.1",
     {"Subject: Postmaster Copy: Undelivered Mail\n", "Auto-Submitted: auto-generated\n",
      "Content-Transfer-Encoding: 8bit\n\n\n<bob@bad.test>: host", "Content-Type: text/rfc822-headers\n"},
     {"This is the mail system", "long line joined"}},
    {BOUNCE_KIND_DELAY,
     false,
     false,
     "delayed",
     "4.4.1",
     {"Subject: Delayed Mail (still being retried)\n", "# THIS IS A WARNING ONLY.  YOU DO NOT NEED TO RESEND",
      "Your message could not be delivered for more than 4 hour(s).\nIt will be retried until it is 5 day(s) "
      "old.\n",
      "Action: delayed\nStatus: 4.4.1\n", "Will-Retry-Until: Wed, 26 Nov 2025 08:05:45 +0000 (UTC)\n",
      "Content-Description: Undelivered Message Headers\nContent-Type: text/rfc822-headers\n"},
     {"long line joined"}},
    {BOUNCE_KIND_DELAY,
     true,
     false,
     "delayed",
     "4.4.1",
     {"Subject: Postmaster Warning: Delayed Mail\n"},
     {"THIS IS A WARNING"}},
    {BOUNCE_KIND_SUCCESS,
     false,
     false,
     "delivered",
     "2.0.0",
     {"Subject: Successful Mail Delivery Report\n",
      "Your message was successfully delivered to the destination(s)\n", "Action: delivered\nStatus: 2.0.0\n",
      "Content-Description: Message Headers\nContent-Type: text/rfc822-headers\n"},
     {"long line joined", "Will-Retry-Until"}},
    {BOUNCE_KIND_VERIFY,
     false,
     false,
     "deliverable",
     "2.0.0",
     {"Subject: Mail Delivery Status Report\n", "Enclosed is the mail delivery report that you requested.\n",
      "Action: deliverable\n", "Content-Description: Message Headers\n"},
     {"long line joined"}},
};

static void test_kinds_table(void **state UNUSED)
{
    VSTRING *out = vstring_alloc(1000);

    var_delay_warning_time = 4 * 3600;
    var_maximal_queue_lifetime = 5 * 86400;
    for (size_t i = 0; i < ARRAY_LEN(test_kinds); i++) {
        assert_int_equal(test_compose(out, test_kinds[i].kind, test_kinds[i].postmaster,
                                      test_kinds[i].headers_only, test_kinds[i].action, test_kinds[i].status,
                                      300),
                         0);
        for (size_t j = 0; j < ARRAY_LEN(test_kinds[i].must) && test_kinds[i].must[j]; j++) {
            if (strstr(vstring_str(out), test_kinds[i].must[j]) == NULL)
                fail_msg("case %zu: missing \"%s\" in:\n%s", i, test_kinds[i].must[j], vstring_str(out));
        }
        for (size_t j = 0; j < ARRAY_LEN(test_kinds[i].must_not) && test_kinds[i].must_not[j]; j++) {
            if (strstr(vstring_str(out), test_kinds[i].must_not[j]) != NULL)
                fail_msg("case %zu: unexpected \"%s\" in:\n%s", i, test_kinds[i].must_not[j],
                         vstring_str(out));
        }
    }
    vstring_free(out);
}

static void test_no_content(void **state UNUSED)
{
    VSTREAM *fp = test_queue_file(10, false);
    BOUNCE_MSG msg;

    assert_int_equal(bounce_msg_scan(fp, &msg), -1);
    vstream_fclose(fp);
}

/* Folding cases. */
static const struct {
    const char *in;
    size_t width;
    const char *out;
} test_wraps[] = {
    {"short text", 76, "short text"},
    {"aaa bbb ccc ddd", 7, "aaa bbb\n    ccc\n    ddd"},
    {"averyveryverylongword x", 5, "averyveryverylongword\n    x"},
    {"", 10, ""},
};

static void test_wrap(void **state UNUSED)
{
    VSTRING *out = vstring_alloc(100);

    for (size_t i = 0; i < ARRAY_LEN(test_wraps); i++) {
        bounce_wrap(out, test_wraps[i].in, test_wraps[i].width, 4);
        assert_string_equal(vstring_str(out), test_wraps[i].out);
    }
    vstring_free(out);
}

static int test_setup(void **state UNUSED)
{
    int fd = mkstemp(test_file);

    if (fd < 0)
        return -1;
    close(fd);
    setenv("TZ", "UTC", 1);
    var_myhostname = "mail.example.com";
    var_myorigin = "example.com";
    var_mail_name = "Postern";
    var_smtputf8_enable = true;
    var_delay_warning_time = 4 * 3600;
    var_maximal_queue_lifetime = 5 * 86400;
    msg_output(test_quiet);
    return 0;
}

static int test_teardown(void **state UNUSED)
{
    unlink(test_file);
    msg_output_reset();
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_failure_exact),
        cmocka_unit_test(test_kinds_table),
        cmocka_unit_test(test_no_content),
        cmocka_unit_test(test_wrap),
    };

    return cmocka_run_group_tests(tests, test_setup, test_teardown);
}
