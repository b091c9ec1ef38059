/*
 * smtp_mime_test - the 8BITMIME to 7-bit converter: header rewriting per
 * part, quoted-printable body encoding with soft line breaks, boundary
 * lines, long lines in CONT pieces, and messages left alone.
 */
#include "sys_defs.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>

#include "mail_params.h"
#include "rec_type.h"
#include "smtp_mime.h"
#include "vstring.h"

/* Collects the output as text: NORM records end with "\n". */
static void collect(void *context, int rec_type, const char *buf, size_t len)
{
    VSTRING *out = context;

    vstring_memcat(out, buf, len);
    if (rec_type == REC_TYPE_NORM)
        vstring_memcat(out, "\n", 1);
}

/* Convert INPUT (lines ending in "\n"); body lines (after the first empty
 * line) go in pieces of at most PIECE bytes. */
static char *convert(const char *input, size_t piece)
{
    static VSTRING *out;
    SMTP_MIME *conv;
    bool in_body = false;

    if (out == NULL)
        out = vstring_alloc(1000);
    vstring_reset(out);
    conv = smtp_mime_alloc(collect, out);
    while (*input) {
        const char *nl = strchr(input, '\n');
        size_t len = nl ? (size_t)(nl - input) : strlen(input);

        while (in_body && piece > 0 && len > piece) {
            smtp_mime_update(conv, REC_TYPE_CONT, input, piece);
            input += piece;
            len -= piece;
        }
        smtp_mime_update(conv, REC_TYPE_NORM, input, len);
        in_body = in_body || len == 0;
        input += len + (nl != NULL);
    }
    smtp_mime_update(conv, REC_TYPE_EOF, "", 0);
    smtp_mime_free(conv);
    return vstring_str(out);
}

static void test_convert(void **unused)
{
    static const struct {
        const char *name;
        const char *in;
        const char *want;
        size_t piece;
    } cases[] = {
        {"simple 8bit text",
         "Subject: x\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\n"
         "gr\xc3\xbc\xc3\x9f dich = 1 \nlast\t\n",
         "Subject: x\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: "
         "quoted-printable\n\n"
         "gr=C3=BC=C3=9F dich =3D 1=20\nlast=09\n",
         0},
        {"no transfer encoding: unchanged", "Subject: x\n\n8bit \xe9 body\n",
         "Subject: x\n\n8bit \xe9 body\n", 0},
        {"7bit and base64 parts unchanged", "Content-Transfer-Encoding: 7bit\n\na=b\n",
         "Content-Transfer-Encoding: 7bit\n\na=b\n", 0},
        {"folded header replaced, case-insensitive", "content-transfer-encoding:\n  8BIT\nX: y\n\n\xff\n",
         "Content-Transfer-Encoding: quoted-printable\nX: y\n\n=FF\n", 0},
        {"long line: soft breaks at 76",
         "Content-Transfer-Encoding: 8bit\n\n"
         "0123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890\n",
         "Content-Transfer-Encoding: quoted-printable\n\n"
         "012345678901234567890123456789012345678901234567890123456789012345678901234=\n"
         "5678901234567890\n",
         0},
        {"long line in CONT pieces",
         "Content-Transfer-Encoding: 8bit\n\n"
         "\xe9\xe9\xe9\xe9\xe9\xe9\xe9\xe9\xe9\xe9\xe9\xe9\xe9\xe9\xe9\xe9\xe9\xe9\xe9\xe9\xe9\xe9\xe9\xe9"
         "\xe9"
         "\xe9\n",
         "Content-Transfer-Encoding: quoted-printable\n\n"
         "=E9=E9=E9=E9=E9=E9=E9=E9=E9=E9=E9=E9=E9=E9=E9=E9=E9=E9=E9=E9=E9=E9=E9=E9=E9=\n"
         "=E9\n",
         7},
        {"multipart: each part by itself, boundaries raw",
         "MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=\"b=1\"\n"
         "Content-Transfer-Encoding: 8bit\n\npreamble\n"
         "--b=1\nContent-Type: text/plain\nContent-Transfer-Encoding: 8bit\n\n\xe4 =\n"
         "--b=1\nContent-Type: text/plain\n\nplain =\n"
         "--b=1\nContent-Type: image/png\nContent-Transfer-Encoding: base64\n\nAAAA\n"
         "--b=1\n\nno headers =\n"
         "--b=1--\nepilogue =\n",
         "MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=\"b=1\"\n"
         "Content-Transfer-Encoding: 7bit\n\npreamble\n"
         "--b=1\nContent-Type: text/plain\nContent-Transfer-Encoding: quoted-printable\n\n=E4 =3D\n"
         "--b=1\nContent-Type: text/plain\n\nplain =\n"
         "--b=1\nContent-Type: image/png\nContent-Transfer-Encoding: base64\n\nAAAA\n"
         "--b=1\n\nno headers =\n"
         "--b=1--\nepilogue =\n",
         0},
        {"attached message: outer 7bit, inner part converted",
         "Content-Type: message/rfc822\nContent-Transfer-Encoding: 8bit\n\n"
         "Subject: inner\nContent-Transfer-Encoding: 8bit\n\n\xe9t\xe9\n",
         "Content-Type: message/rfc822\nContent-Transfer-Encoding: 7bit\n\n"
         "Subject: inner\nContent-Transfer-Encoding: quoted-printable\n\n=E9t=E9\n",
         0},
        {"headers only", "Content-Transfer-Encoding: 8bit\n", "Content-Transfer-Encoding: quoted-printable\n",
         0},
    };

    (void)unused;
    var_mime_nesting_limit = 100;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const char *got = convert(cases[i].in, cases[i].piece);

        if (strcmp(got, cases[i].want) != 0)
            fail_msg("case \"%s\":\n--- got:\n%s--- want:\n%s", cases[i].name, got, cases[i].want);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_convert),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
