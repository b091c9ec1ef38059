/*
 * mime_state_test - the MIME parser, table-driven: each case feeds
 * records and compares the trace of callbacks with the expected one.
 *
 * Input: one record per line of the case text; a line starting with
 * "+" is a CONT piece (the line goes on in the next record), others are
 * NORM. Trace: "P|", "M|", "N|" for a primary, multipart or nested header
 * (folding shown as "\n" escapes), "E" end of primary headers, "B<off>|"
 * a NORM body record at part offset <off>, "C<off>|" a CONT body record,
 * "Z" the end; one event per line.
 */
#include "sys_defs.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>

#include "mime_state.h"
#include "mymalloc.h"
#include "rec_type.h"
#include "vstring.h"

static VSTRING *trace;
static int reported;

static void add_escaped(const char *buf, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        if (buf[i] == '\n')
            vstring_strcat(trace, "\\n");
        else
            vstring_addch(trace, buf[i]);
    }
    vstring_addch(trace, '\n');
}

static void head_out(void *context UNUSED, int header_class, const HEADER_OPTS *opts UNUSED, VSTRING *header)
{
    vstring_strcat(trace, header_class == MIME_HDR_PRIMARY     ? "P|"
                          : header_class == MIME_HDR_MULTIPART ? "M|"
                                                               : "N|");
    add_escaped(vstring_str(header), VSTRING_LEN(header));
}

static void head_end(void *context UNUSED)
{
    vstring_strcat(trace, "E\n");
}

static void body_out(void *context UNUSED, int rec_type, const char *buf, size_t len, off_t offset)
{
    vstring_sprintf_append(trace, "%c%lld|", rec_type == REC_TYPE_NORM ? 'B' : 'C', (long long)offset);
    add_escaped(buf, len);
}

static void body_end(void *context UNUSED)
{
    vstring_strcat(trace, "Z\n");
}

static void err_print(void *context UNUSED, int err, const char *text UNUSED, size_t len UNUSED)
{
    reported |= err;
}

static const MIME_STATE_CALLBACKS callbacks = {head_out, head_end, body_out, body_end, err_print};

/* Feed the case's records; return the error bits. */
static int run(int options, size_t header_limit, int nesting_limit, const char *input, bool *eight)
{
    MIME_STATE *ms = mime_state_alloc(options, header_limit, nesting_limit, &callbacks, NULL);
    const char *cp = input;
    int errs;

    vstring_reset(trace);
    reported = 0;
    while (*cp) {
        size_t len = strcspn(cp, "\n");
        int type = REC_TYPE_NORM;
        const char *start = cp;

        if (*cp == '+') {
            type = REC_TYPE_CONT;
            start++;
        }
        mime_state_update(ms, type, start, len - (size_t)(start - cp));
        cp += len + (cp[len] == '\n');
    }
    errs = mime_state_update(ms, REC_TYPE_EOF, "", 0);
    *eight = mime_state_8bit(ms);
    mime_state_free(ms);
    return errs;
}

static void test_cases(void **unused UNUSED)
{
    static const struct {
        const char *label;
        int options;
        size_t header_limit;
        int nesting_limit;
        const char *input;
        const char *want;
        int errs;
        bool eight;
    } cases[] = {
        {"plain message", 0, 1000, 100, "Subject: a\nTo: b\n\nline 1\nline 2\n",
         "P|Subject: a\nP|To: b\nE\nB0|\nB1|line 1\nB8|line 2\nZ\n", 0, false},
        {"folded header is one logical header", 0, 1000, 100, "Subject: a\n b\n\tc\nX: y\n\nbody\n",
         "P|Subject: a\\n b\\n\tc\nP|X: y\nE\nB0|\nB1|body\nZ\n", 0, false},
        {"no blank line: a non-header ends the headers", 0, 1000, 100, "Subject: a\nthis is body\n",
         "P|Subject: a\nE\nB0|this is body\nZ\n", 0, false},
        {"headers only", 0, 1000, 100, "Subject: a\n", "P|Subject: a\nE\nZ\n", 0, false},
        {"empty message", 0, 1000, 100, "", "E\nZ\n", 0, false},
        {"body only", 0, 1000, 100, "hello\n", "E\nB0|hello\nZ\n", 0, false},
        {"leading blank is a body line", 0, 1000, 100, " indented\n", "E\nB0| indented\nZ\n", 0, false},
        {"long header line in CONT pieces", 0, 1000, 100, "+Subject: aaa\n+bbb\nccc\n b\n\nx\n",
         "P|Subject: aaabbbccc\\n b\nE\nB0|\nB1|x\nZ\n", 0, false},
        {"long body line keeps its pieces, no boundary test inside", 0, 1000, 100,
         "Content-Type: multipart/mixed; boundary=b\n\n+xx\n--b\n",
         "P|Content-Type: multipart/mixed; boundary=b\nE\nB0|\nC1|xx\nB3|--b\nZ\n", 0, false},
        {"header_size_limit discards the excess", 0, 10, 100, "Subject: abcdef\n ghi\nX: 1\n\n",
         "P|Subject: a\nP|X: 1\nE\nB0|\nZ\n", MIME_ERR_TRUNC_HEADER, false},
        {"header_size_limit across CONT pieces and folding", 0, 12, 100, "+Subject: ab\n+cdef\ngh\n more\n\n",
         "P|Subject: abc\nE\nB0|\nZ\n", MIME_ERR_TRUNC_HEADER, false},
        {"multipart with nested message/rfc822", 0, 1000, 100,
         "MIME-Version: 1.0\n"
         "Content-Type: multipart/mixed;\n boundary=\"outer\"\n"
         "\n"
         "preamble\n"
         "--outer\n"
         "Content-Type: text/plain\n"
         "\n"
         "part one\n"
         "--outer\n"
         "Content-Type: message/rfc822\n"
         "\n"
         "Subject: inner\n"
         "Content-Type: multipart/alternative; boundary=inner\n"
         "\n"
         "--inner\n"
         "X-Part: 1\n"
         "\n"
         "alt one\n"
         "--outer--\n"
         "epilogue\n",
         "P|MIME-Version: 1.0\n"
         "P|Content-Type: multipart/mixed;\\n boundary=\"outer\"\n"
         "E\n"
         "B0|\n"
         "B1|preamble\n"
         "B10|--outer\n"
         "M|Content-Type: text/plain\n"
         "B0|\n"
         "B1|part one\n"
         "B10|--outer\n"
         "M|Content-Type: message/rfc822\n"
         "B0|\n"
         "N|Subject: inner\n"
         "N|Content-Type: multipart/alternative; boundary=inner\n"
         "B0|\n"
         "B1|--inner\n"
         "M|X-Part: 1\n"
         "B0|\n"
         "B1|alt one\n"
         "B9|--outer--\n"
         "B0|epilogue\n"
         "Z\n",
         0, false},
        {"boundary prefix match and closing boundary", 0, 1000, 100,
         "Content-Type: Multipart/Mixed; BOUNDARY=xyz\n\n--xyz  \n\nA\n--xyz--\n--xyz\nafter\n",
         "P|Content-Type: Multipart/Mixed; BOUNDARY=xyz\nE\nB0|\nB1|--xyz  "
         "\nB0|\nB1|A\nB3|--xyz--\nB0|--xyz\n"
         "B6|after\nZ\n",
         0, false},
        {"multipart without boundary is plain body", 0, 1000, 100,
         "Content-Type: multipart/mixed\n\n--b\nX: y\n",
         "P|Content-Type: multipart/mixed\nE\nB0|\nB1|--b\nB5|X: y\nZ\n", 0, false},
        {"message/rfc822 in base64 is body", 0, 1000, 100,
         "Content-Type: message/rfc822\nContent-Transfer-Encoding: base64\n\nU3ViamVjdA==\n",
         "P|Content-Type: message/rfc822\nP|Content-Transfer-Encoding: base64\nE\nB0|\nB1|U3ViamVjdA==\nZ\n",
         0, false},
        {"message/rfc822 primary body is a nested message", 0, 1000, 100,
         "Content-Type: message/rfc822 (comment)\n\nFrom: x\n\nbody\n",
         "P|Content-Type: message/rfc822 (comment)\nE\nB0|\nN|From: x\nB0|\nB1|body\nZ\n", 0, false},
        {"digest parts default to message/rfc822", 0, 1000, 100,
         "Content-Type: multipart/digest; boundary=d\n\n--d\n\nSubject: s\n\nb\n--d--\n",
         "P|Content-Type: multipart/digest; boundary=d\nE\nB0|\nB1|--d\nB0|\nN|Subject: "
         "s\nB0|\nB1|b\nB3|--d--\nZ\n",
         0, false},
        {"nesting limit makes deeper structure body", 0, 1000, 1,
         "Content-Type: multipart/mixed; boundary=a\n\n--a\nContent-Type: message/rfc822\n\nSubject: s\n",
         "P|Content-Type: multipart/mixed; boundary=a\nE\nB0|\nB1|--a\nM|Content-Type: message/rfc822\nB0|\n"
         "B1|Subject: s\nZ\n",
         MIME_ERR_NESTING, false},
        {"MIME processing disabled", MIME_OPT_DISABLE_MIME, 1000, 100,
         "Content-Type: multipart/mixed; boundary=a\n\n--a\nX: y\n",
         "P|Content-Type: multipart/mixed; boundary=a\nE\nB0|\nB1|--a\nB5|X: y\nZ\n", 0, false},
        {"8-bit in header and 7-bit body", MIME_OPT_REPORT_8BIT_IN_HEADER | MIME_OPT_REPORT_8BIT_IN_7BIT_BODY,
         1000, 100, "Subject: caf\xc3\xa9\n\nna\xc3\xafve\n",
         "P|Subject: caf\xc3\xa9\nE\nB0|\nB1|na\xc3\xafve\nZ\n",
         MIME_ERR_8BIT_IN_HEADER | MIME_ERR_8BIT_IN_7BIT_BODY, true},
        {"8-bit body declared 8bit is fine", MIME_OPT_REPORT_8BIT_IN_7BIT_BODY, 1000, 100,
         "Content-Transfer-Encoding: 8bit\n\n\xe9t\xe9\n",
         "P|Content-Transfer-Encoding: 8bit\nE\nB0|\nB1|\xe9t\xe9\nZ\n", 0, true},
    };
    bool eight;

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int errs =
            run(cases[i].options, cases[i].header_limit, cases[i].nesting_limit, cases[i].input, &eight);

        if (strcmp(vstring_str(trace), cases[i].want) != 0)
            print_error("case \"%s\":\n--- got\n%s--- want\n%s", cases[i].label, vstring_str(trace),
                        cases[i].want);
        assert_string_equal(vstring_str(trace), cases[i].want);
        assert_int_equal(errs, cases[i].errs);
        assert_int_equal(eight, cases[i].eight);
    }
}

/* Errors are returned always, reported only when the options ask. */
static void test_reporting(void **unused UNUSED)
{
    bool eight;

    assert_int_equal(run(0, 5, 100, "Subject: long\n\n", &eight), MIME_ERR_TRUNC_HEADER);
    assert_int_equal(reported, 0);
    assert_int_equal(run(MIME_OPT_REPORT_TRUNC_HEADER, 5, 100, "Subject: long\n\n", &eight),
                     MIME_ERR_TRUNC_HEADER);
    assert_int_equal(reported, MIME_ERR_TRUNC_HEADER);
    assert_string_equal(mime_state_error(MIME_ERR_NESTING), "MIME nesting exceeds safety limit");
    assert_string_equal(mime_state_error(MIME_ERR_TRUNC_HEADER),
                        "message header length exceeds safety limit");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cases),
        cmocka_unit_test(test_reporting),
    };
    int rc;

    trace = vstring_alloc(1000);
    rc = cmocka_run_group_tests(tests, NULL, NULL);
    vstring_free(trace);
    return rc;
}
