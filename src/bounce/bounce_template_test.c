/*
 * bounce_template_test - unit tests for bounce_template: the built-in
 * subjects and texts, a bounce_template_file that replaces two templates
 * (headers in any case, text up to EOF), and $name / ${name} expansion
 * including the time-unit names and unknown names left as written.
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

#include "bounce_template.h"
#include "mail_params.h"
#include "msg.h"
#include "vstream.h"
#include "vstring.h"

static char test_file[] = "/tmp/bounce_template_test.XXXXXX";

/* Drop diagnostics. */
static void test_quiet(enum msg_level level UNUSED, const char *text UNUSED)
{
}

static const struct {
    BOUNCE_KIND kind;
    const char *subject;
    const char *pm_subject;
    const char *text_start;
} test_builtins[] = {
    {BOUNCE_KIND_FAILURE, "Undelivered Mail Returned to Sender", "Postmaster Copy: Undelivered Mail",
     "This is the mail system at host $myhostname.\n\nI'm sorry"},
    {BOUNCE_KIND_DELAY, "Delayed Mail (still being retried)", "Postmaster Warning: Delayed Mail",
     "This is the mail system at host $myhostname.\n\n####"},
    {BOUNCE_KIND_SUCCESS, "Successful Mail Delivery Report", NULL,
     "This is the mail system at host $myhostname.\n\nYour message was successfully"},
    {BOUNCE_KIND_VERIFY, "Mail Delivery Status Report", NULL,
     "This is the mail system at host $myhostname.\n\nEnclosed is"},
};

static void test_builtin(void **state UNUSED)
{
    for (size_t i = 0; i < ARRAY_LEN(test_builtins); i++) {
        const BOUNCE_TEMPLATE *tp = bounce_template_get(test_builtins[i].kind);

        assert_string_equal(tp->subject, test_builtins[i].subject);
        if (test_builtins[i].pm_subject)
            assert_string_equal(tp->pm_subject, test_builtins[i].pm_subject);
        else
            assert_null(tp->pm_subject);
        assert_string_equal(tp->charset, "us-ascii");
        assert_string_equal(tp->from, "Mail Delivery System <MAILER-DAEMON>");
        assert_memory_equal(tp->text, test_builtins[i].text_start, strlen(test_builtins[i].text_start));
        assert_non_null(strstr(tp->text, "The mail system"));
    }
}

static const struct {
    const char *in;
    const char *out;
} test_expansions[] = {
    {"host $myhostname.", "host mail.example.com."},
    {"${myhostname}x", "mail.example.comx"},
    {"$delay_warning_time_hours hour(s)", "4 hour(s)"},
    {"$delay_warning_time_minutes", "240"},
    {"$maximal_queue_lifetime_days day(s) / ${maximal_queue_lifetime_weeks}w", "5 day(s) / 0w"},
    {"$maximal_queue_lifetime_fortnights", "$maximal_queue_lifetime_fortnights"},
    {"cost $5 and ${unclosed", "cost $5 and ${unclosed"},
    {"$no_such_parameter_xyz!", "$no_such_parameter_xyz!"},
    {"lone $", "lone $"},
};

static void test_expand(void **state UNUSED)
{
    VSTRING *out = vstring_alloc(100);

    for (size_t i = 0; i < ARRAY_LEN(test_expansions); i++) {
        bounce_template_expand(out, test_expansions[i].in);
        assert_string_equal(vstring_str(out), test_expansions[i].out);
    }
    vstring_free(out);
}

static const char test_template_file[] = "# local notices\n"
                                         "\n"
                                         "failure_template = <<EOF\n"
                                         "charset: iso-8859-1\n"
                                         "FROM: Bounces <bounces>\n"
                                         "Subject: Your mail bounced\n"
                                         "postmaster-subject: PM copy\n"
                                         "\n"
                                         "Sorry from $myhostname.\n"
                                         "\n"
                                         "Bye.\n"
                                         "EOF\n"
                                         "\n"
                                         "verify_template = <<EOF\n"
                                         "Subject: Verified\n"
                                         "\n"
                                         "Report.\n"
                                         "EOF\n";

static void test_file_load(void **state UNUSED)
{
    VSTREAM *fp = vstream_fopen(test_file, O_WRONLY | O_TRUNC, 0600);
    const BOUNCE_TEMPLATE *tp;

    assert_non_null(fp);
    vstream_fputs(test_template_file, fp);
    assert_int_equal(vstream_fclose(fp), 0);
    bounce_template_load(test_file);

    tp = bounce_template_get(BOUNCE_KIND_FAILURE);
    assert_string_equal(tp->charset, "iso-8859-1");
    assert_string_equal(tp->from, "Bounces <bounces>");
    assert_string_equal(tp->subject, "Your mail bounced");
    assert_string_equal(tp->pm_subject, "PM copy");
    assert_string_equal(tp->text, "Sorry from $myhostname.\n\nBye.");
    tp = bounce_template_get(BOUNCE_KIND_VERIFY);
    assert_string_equal(tp->subject, "Verified");
    assert_string_equal(tp->from, "Mail Delivery System <MAILER-DAEMON>");
    assert_string_equal(tp->text, "Report.");
    /* Templates the file does not name keep their built-in text. */
    assert_string_equal(bounce_template_get(BOUNCE_KIND_DELAY)->subject,
                        "Delayed Mail (still being retried)");
}

static int test_setup(void **state UNUSED)
{
    int fd = mkstemp(test_file);

    if (fd < 0)
        return -1;
    close(fd);
    var_myhostname = "mail.example.com";
    var_mydomain = "example.com";
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
        cmocka_unit_test(test_builtin),
        cmocka_unit_test(test_expand),
        cmocka_unit_test(test_file_load),
    };

    return cmocka_run_group_tests(tests, test_setup, test_teardown);
}
