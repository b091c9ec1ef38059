/*
 * smtp_mime - convert an 8-bit MIME message to 7-bit for a server that
 * does not announce 8BITMIME (spec/delivery.md 6.3; Postfix does the same
 * unless disable_mime_output_conversion = yes).
 *
 *   smtp_mime_alloc(out, context) a converter writing to out().
 *   smtp_mime_update(conv, rec_type, buf, len) feeds one content record
 *       (REC_TYPE_NORM, REC_TYPE_CONT) or REC_TYPE_EOF at the end.
 *   smtp_mime_free(conv) returns NULL.
 *
 * The message is walked with mime_state (primary headers, multipart
 * parts, attached messages). In every header block with
 * "Content-Transfer-Encoding: 8bit" (or "binary"):
 *   - a multipart or message part gets "Content-Transfer-Encoding:
 *     7bit" (its parts are converted one by one);
 *   - any other part gets "Content-Transfer-Encoding: quoted-printable"
 *     and its body is encoded (RFC 2045 6.7: "=XX" for 8-bit bytes,
 *     controls and "=", for a space or tab at the end of a line; soft
 *     line breaks keep lines at most 76 characters).
 * Other header blocks and bodies pass unchanged, as do multipart
 * boundary lines; headers keep their folding. 8-bit bytes in headers are
 * left alone (there is no safe conversion).
 *
 * Errors: none; malformed MIME is passed through.
 */
#include "sys_defs.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "argv.h"
#include "mail_params.h"
#include "mime_state.h"
#include "mymalloc.h"
#include "rec_type.h"
#include "smtp_mime.h"
#include "stringops.h"
#include "vstring.h"

#define SMTP_MIME_QP_WIDTH 76

struct SMTP_MIME {
    MIME_STATE *mime;
    SMTP_MIME_OUT out;
    void *context;
    ARGV *headers;    /* the current header block, not yet written */
    ARGV *boundaries; /* every multipart boundary seen so far */
    bool qp;          /* the current body is quoted-printable encoded */
    VSTRING *line;    /* QP: the pieces of the current body line */
    VSTRING *enc;     /* QP: encoder output */
};

/* Write one header, a line per folded line. */
static void smtp_mime_header_out(SMTP_MIME *conv, const char *text)
{
    const char *nl;

    while ((nl = strchr(text, '\n')) != NULL) {
        conv->out(conv->context, REC_TYPE_NORM, text, (size_t)(nl - text));
        text = nl + 1;
    }
    conv->out(conv->context, REC_TYPE_NORM, text, strlen(text));
}

/* Is NAME (case-insensitive) the name of header TEXT? Returns its value. */
static const char *smtp_mime_header_value(const char *text, const char *name)
{
    size_t len = strlen(name);

    if (strncasecmp(text, name, len) != 0)
        return NULL;
    text += len;
    while (*text == ' ' || *text == '\t')
        text++;
    if (*text != ':')
        return NULL;
    text++;
    while (isspace((unsigned char)*text))
        text++;
    return text;
}

/* The first word of a header value, lowercased, in BUF. */
static const char *smtp_mime_token(VSTRING *buf, const char *value)
{
    size_t len = strcspn(value, " \t\r\n;(");

    vstring_strncpy(buf, value, len);
    return lowercase(vstring_str(buf));
}

/* Remember the boundary parameter of a multipart Content-Type. */
static void smtp_mime_boundary(SMTP_MIME *conv, const char *value)
{
    const char *cp = value;

    while ((cp = strchr(cp, ';')) != NULL) {
        cp++;
        while (isspace((unsigned char)*cp))
            cp++;
        if (strncasecmp(cp, "boundary", 8) != 0)
            continue;
        cp += 8;
        while (isspace((unsigned char)*cp))
            cp++;
        if (*cp++ != '=')
            continue;
        while (isspace((unsigned char)*cp))
            cp++;
        size_t len = *cp == '"' ? strcspn(++cp, "\"") : strcspn(cp, " \t\r\n;");

        if (len > 0) {
            char *b = mystrndup(cp, len);

            argv_add(conv->boundaries, b);
            myfree(b);
        }
        return;
    }
}

/* End of a header block: fix its transfer encoding and write it. */
static void smtp_mime_flush_headers(SMTP_MIME *conv)
{
    VSTRING *tok = vstring_alloc(30);
    int cte = -1;
    bool composite = false;
    const char *value;

    conv->qp = false;
    for (size_t i = 0; i < conv->headers->argc; i++) {
        const char *h = conv->headers->argv[i];

        if ((value = smtp_mime_header_value(h, "Content-Transfer-Encoding")) != NULL) {
            const char *t = smtp_mime_token(tok, value);

            if (strcmp(t, "8bit") == 0 || strcmp(t, "binary") == 0)
                cte = (int)i;
        } else if ((value = smtp_mime_header_value(h, "Content-Type")) != NULL) {
            const char *t = smtp_mime_token(tok, value);

            composite = strncmp(t, "multipart/", 10) == 0 || strncmp(t, "message/", 8) == 0;
            if (strncmp(t, "multipart/", 10) == 0)
                smtp_mime_boundary(conv, value);
        }
    }
    for (size_t i = 0; i < conv->headers->argc; i++) {
        if ((int)i != cte)
            smtp_mime_header_out(conv, conv->headers->argv[i]);
        else if (composite)
            smtp_mime_header_out(conv, "Content-Transfer-Encoding: 7bit");
        else
            smtp_mime_header_out(conv, "Content-Transfer-Encoding: quoted-printable");
    }
    conv->qp = cte >= 0 && !composite;
    argv_truncate(conv->headers, 0);
    vstring_free(tok);
}

/* Is this body line a boundary of a multipart seen so far? */
static bool smtp_mime_is_boundary(SMTP_MIME *conv, const char *buf, size_t len)
{
    if (len < 2 || buf[0] != '-' || buf[1] != '-')
        return false;
    for (size_t i = 0; i < conv->boundaries->argc; i++) {
        size_t blen = strlen(conv->boundaries->argv[i]);

        if (len - 2 >= blen && memcmp(buf + 2, conv->boundaries->argv[i], blen) == 0)
            return true;
    }
    return false;
}

/* Encode one whole body line as quoted-printable, with soft breaks. */
static void smtp_mime_qp_line(SMTP_MIME *conv, const unsigned char *buf, size_t len)
{
    static const char hex[] = "0123456789ABCDEF";
    VSTRING *enc = conv->enc;

    vstring_reset(enc);
    for (size_t i = 0; i < len; i++) {
        unsigned char c = buf[i];
        bool last = i + 1 == len;
        char tokbuf[4];
        size_t toklen;

        if (c == '=' || c > 126 || (c < 32 && c != '\t') || ((c == ' ' || c == '\t') && last)) {
            tokbuf[0] = '=';
            tokbuf[1] = hex[c >> 4];
            tokbuf[2] = hex[c & 15];
            toklen = 3;
        } else {
            tokbuf[0] = (char)c;
            toklen = 1;
        }
        /* Room for the token and, unless it ends the line, a soft break. */
        if (VSTRING_LEN(enc) + toklen + (last ? 0 : 1) > SMTP_MIME_QP_WIDTH) {
            vstring_memcat(enc, "=", 1);
            conv->out(conv->context, REC_TYPE_NORM, vstring_str(enc), VSTRING_LEN(enc));
            vstring_reset(enc);
        }
        vstring_memcat(enc, tokbuf, toklen);
    }
    conv->out(conv->context, REC_TYPE_NORM, vstring_str(enc), VSTRING_LEN(enc));
}

/* mime_state: one header of any block. */
static void smtp_mime_head_out(void *context, int header_class UNUSED, const HEADER_OPTS *opts UNUSED,
                               VSTRING *header)
{
    SMTP_MIME *conv = context;

    argv_add(conv->headers, vstring_str(header));
}

/* mime_state: end of the primary headers. */
static void smtp_mime_head_end(void *context)
{
    smtp_mime_flush_headers(context);
}

/* mime_state: one body record; offset 0 starts a new body. */
static void smtp_mime_body_out(void *context, int rec_type, const char *buf, size_t len, off_t offset)
{
    SMTP_MIME *conv = context;

    if (offset == 0 && conv->headers->argc > 0)
        smtp_mime_flush_headers(conv);
    if (!conv->qp) {
        conv->out(conv->context, rec_type, buf, len);
        return;
    }
    vstring_memcat(conv->line, buf, len);
    if (rec_type == REC_TYPE_CONT)
        return;
    if (smtp_mime_is_boundary(conv, vstring_str(conv->line), VSTRING_LEN(conv->line))) {
        conv->out(conv->context, REC_TYPE_NORM, vstring_str(conv->line), VSTRING_LEN(conv->line));
        conv->qp = false;
    } else {
        smtp_mime_qp_line(conv, (const unsigned char *)vstring_str(conv->line), VSTRING_LEN(conv->line));
    }
    vstring_reset(conv->line);
}

/* mime_state: end of input. */
static void smtp_mime_body_end(void *context)
{
    SMTP_MIME *conv = context;

    if (VSTRING_LEN(conv->line) > 0)
        smtp_mime_qp_line(conv, (const unsigned char *)vstring_str(conv->line), VSTRING_LEN(conv->line));
    vstring_reset(conv->line);
    if (conv->headers->argc > 0)
        smtp_mime_flush_headers(conv);
}

/* A converter writing to OUT. */
SMTP_MIME *smtp_mime_alloc(SMTP_MIME_OUT out, void *context)
{
    static const MIME_STATE_CALLBACKS callbacks = {
        .head_out = smtp_mime_head_out,
        .head_end = smtp_mime_head_end,
        .body_out = smtp_mime_body_out,
        .body_end = smtp_mime_body_end,
    };
    SMTP_MIME *conv = mymalloc(sizeof(*conv));

    conv->out = out;
    conv->context = context;
    conv->headers = argv_alloc(10);
    conv->boundaries = argv_alloc(2);
    conv->qp = false;
    conv->line = vstring_alloc(100);
    conv->enc = vstring_alloc(100);
    /* No header limit: cleanup enforced header_size_limit already. */
    conv->mime =
        mime_state_alloc(MIME_OPT_NONE, (size_t)1 << 30,
                         var_mime_nesting_limit > 0 ? var_mime_nesting_limit : 100, &callbacks, conv);
    return conv;
}

/* Feed one record, or REC_TYPE_EOF. */
void smtp_mime_update(SMTP_MIME *conv, int rec_type, const char *buf, size_t len)
{
    (void)mime_state_update(conv->mime, rec_type, buf, len);
}

/* Free a converter; returns NULL. */
SMTP_MIME *smtp_mime_free(SMTP_MIME *conv)
{
    mime_state_free(conv->mime);
    argv_free(conv->headers);
    argv_free(conv->boundaries);
    vstring_free(conv->line);
    vstring_free(conv->enc);
    myfree(conv);
    return NULL;
}
