/*
 * sendmail_addr_test - unit tests for sendmail_addr: address lists in
 * internal form and the recipients of sendmail -t (expected values are
 * what Postfix 3.7's sendmail writes to maildrop for the same input).
 */
#include "sys_defs.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "sendmail_addr.h"

/* ARGV joined with "|" for comparison. */
static const char *joined(VSTRING *buf, const ARGV *av)
{
    vstring_truncate(buf, 0);
    for (size_t i = 0; i < av->argc; i++)
        vstring_sprintf_append(buf, "%s%s", i ? "|" : "", av->argv[i]);
    return vstring_str(buf);
}

static void test_extract(void **state UNUSED)
{
    static const struct {
        const char *in;
        const char *want;
    } cases[] = {
        {"alice", "alice"},
        {"\"Joe Q\" <j@x>", "j@x"},
        {"Joe <j@x>, k@y", "j@x|k@y"},
        {"grp: a@b, c@d;, (cmt) e@f (x)", "a@b|c@d|e@f"},
        {"undisclosed-recipients:;", ""},
        {"\"a b\"@c", "a b@c"},
        {"<>", ""}, /* one empty address */
        {"<@r1,@r2:u@x>", "u@x"},
        {"x@[1.2.3.4]", "x@[1.2.3.4]"},
        {"  a@b ,, c ", "a@b|c"},
        {"", ""},
    };
    static const size_t counts[] = {1, 1, 2, 3, 0, 1, 1, 1, 1, 2, 0};
    VSTRING *buf = vstring_alloc(100);

    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        ARGV *out = argv_alloc(1);
        size_t n = sendmail_addr_extract(out, cases[i].in);

        if (strcmp(joined(buf, out), cases[i].want) != 0 || n != counts[i])
            fail_msg("'%s': got '%s' (%zu), want '%s' (%zu)", cases[i].in, vstring_str(buf), n, cases[i].want,
                     counts[i]);
        argv_free(out);
    }
    vstring_free(buf);
}

static void test_is_header(void **state UNUSED)
{
    static const struct {
        const char *line;
        bool want;
    } cases[] = {
        {"To: a", true},         {"Subject :x", true}, {"X-A:", true}, {": x", false},
        {"not a header", false}, {" To: a", false},    {"To", false},  {"", false},
    };

    for (size_t i = 0; i < ARRAY_LEN(cases); i++)
        if (sendmail_addr_is_header(cases[i].line, strlen(cases[i].line)) != cases[i].want)
            fail_msg("'%s': want %d", cases[i].line, cases[i].want);
}

/* Feed MESSAGE line by line (PIECE bytes at most per call, as line_length_limit cuts). */
static const char *scan(VSTRING *buf, const char *message, size_t piece)
{
    SENDMAIL_HDR *h = sendmail_hdr_alloc();
    const char *cp = message;

    while (*cp) {
        const char *nl = strchr(cp, '\n');
        size_t len = nl ? (size_t)(nl - cp) : strlen(cp);

        while (len > piece) {
            sendmail_hdr_line(h, cp, piece, false);
            cp += piece;
            len -= piece;
        }
        if (!sendmail_hdr_line(h, cp, len, true))
            break;
        cp += len + (nl != NULL);
    }
    sendmail_hdr_done(h);
    joined(buf, h->rcpt);
    sendmail_hdr_free(h);
    return vstring_str(buf);
}

static void test_headers(void **state UNUSED)
{
    static const struct {
        const char *message;
        const char *want;
    } cases[] = {
        {"To: a@x.test\nSubject: s\n\nTo: body@x\n", "a@x.test"},
        {"To: \"Joe Q\" <j@x>, grp: a@b, c@d;, (cmt) e@f (x)\nCc: undisclosed-recipients:;\n"
         "Bcc: \"a b\"@c,\n  folded@x\nSubject: x\n",
         "j@x|a@b|c@d|e@f|a b@c|folded@x"},
        {"Resent-To: r@x\nTo: t@x\nCC: c@x\n", "r@x"},
        {"resent-bcc: r@x\nresent-cc: s@x\nTo: t@x\n", "r@x|s@x"},
        {"Subject: x\n", ""},
        {"From: f@x\nnot a header\nTo: t@x\n", ""},
        {"to : spaced@x\n", "spaced@x"},
        {"To: averyveryverylongaddress@example.com, second@example.com\n",
         "averyveryverylongaddress@example.com|second@example.com"},
    };
    VSTRING *buf = vstring_alloc(100);

    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        for (size_t piece = 20; piece <= 1000; piece += 980) {
            const char *got = scan(buf, cases[i].message, piece);

            if (strcmp(got, cases[i].want) != 0)
                fail_msg("case %zu piece %zu: got '%s', want '%s'", i, piece, got, cases[i].want);
        }
    }
    vstring_free(buf);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_extract),
        cmocka_unit_test(test_is_header),
        cmocka_unit_test(test_headers),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
