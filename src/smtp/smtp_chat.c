/*
 * smtp_chat - the SMTP client's side of the conversation: commands out,
 * replies in (spec/delivery.md 6.3).
 *
 *   smtp_chat_cmd(session, timeout, fmt, ...) writes one command line
 *       with CRLF into the stream buffer (sent at the next read or flush,
 *       which lets the caller pipeline); 0 or -1 on a write error.
 *   smtp_chat_resp(session, resp, timeout) reads one complete (possibly
 *       multi-line) reply within TIMEOUT seconds for the whole reply;
 *       0, or -1 on end of file, error or timeout (the stream's flags
 *       say which).
 *   smtp_resp_parse_line(line, &code, &more, &text) splits "250-text";
 *       -1 (code 0) when the line does not start with three digits.
 *   smtp_resp_finish(resp) derives resp->text (the raw lines joined by
 *       spaces) and resp->dsn (the enhanced status of the reply, its
 *       class forced to the reply code's, or "C.0.0").
 *   smtp_xtext_encode(out, text) RFC 3461 xtext ("+XX" for '+', '=',
 *       controls, space and non-ASCII).
 *
 * Errors: as above; nothing is fatal.
 */
#include "sys_defs.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "argv.h"
#include "dsn.h"
#include "msg.h"
#include "mymalloc.h"
#include "smtp.h"
#include "vstream.h"
#include "vstring.h"

#define SMTP_LINE_LIMIT 4096 /* longest reply line kept */
#define SMTP_LINES_MAX  100  /* reply lines kept */

/* A fresh reply buffer. */
SMTP_RESP *smtp_resp_create(void)
{
    SMTP_RESP *resp = mymalloc(sizeof(*resp));

    resp->code = 0;
    resp->dsn[0] = 0;
    resp->text = vstring_alloc(100);
    resp->first = vstring_alloc(100);
    resp->lines = argv_alloc(5);
    return resp;
}

/* Free a reply buffer. */
void smtp_resp_free(SMTP_RESP *resp)
{
    vstring_free(resp->text);
    vstring_free(resp->first);
    argv_free(resp->lines);
    myfree(resp);
}

/* Split one reply line; see above. */
int smtp_resp_parse_line(const char *line, int *code, bool *more, const char **text)
{
    if (!isdigit((unsigned char)line[0]) || !isdigit((unsigned char)line[1]) ||
        !isdigit((unsigned char)line[2]) || (line[3] != 0 && line[3] != ' ' && line[3] != '-')) {
        *code = 0;
        *more = false;
        *text = line;
        return -1;
    }
    *code = (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
    *more = line[3] == '-';
    *text = line[3] ? line + 4 : line + 3;
    return 0;
}

/* Derive the joined text and the enhanced status. */
void smtp_resp_finish(SMTP_RESP *resp)
{
    const char *first = vstring_str(resp->first);
    size_t len = dsn_status_len(first);
    int class = resp->code / 100;

    if (class != 2 && class != 4 && class != 5)
        class = 4;
    if (len > 0 && len < sizeof(resp->dsn)) {
        memcpy(resp->dsn, first, len);
        resp->dsn[len] = 0;
        resp->dsn[0] = (char)('0' + class);
    } else {
        snprintf(resp->dsn, sizeof(resp->dsn), "%d.0.0", class);
    }
}

/* Read one reply; see above. */
int smtp_chat_resp(SMTP_SESSION *session, SMTP_RESP *resp, int timeout)
{
    VSTRING *line = vstring_alloc(100);
    int first_code = -1;
    int status = 0;

    resp->code = 0;
    vstring_reset(resp->text);
    vstring_reset(resp->first);
    argv_truncate(resp->lines, 0);
    vstream_set_deadline(session->stream, true);
    vstream_set_timeout(session->stream, timeout);
    for (;;) {
        int code;
        bool more;
        const char *text;
        int got = vstream_fgets_nonl_limit(line, session->stream, SMTP_LINE_LIMIT);

        if (got == VSTREAM_LINE_EOF) {
            status = -1;
            break;
        }
        if (got == VSTREAM_LINE_LIMIT) {
            /* Skip the rest of an overlong line. */
            int ch;

            while ((ch = vstream_getc(session->stream)) != VSTREAM_EOF && ch != '\n')
                /* void */;
        }
        if (VSTRING_LEN(line) > 0 && vstring_str(line)[VSTRING_LEN(line) - 1] == '\r')
            vstring_truncate(line, VSTRING_LEN(line) - 1);
        smtp_resp_parse_line(vstring_str(line), &code, &more, &text);
        if (first_code < 0) {
            first_code = code;
            vstring_strcpy(resp->first, text);
        }
        if (resp->lines->argc < SMTP_LINES_MAX) {
            if (VSTRING_LEN(resp->text) > 0)
                vstring_strcat(resp->text, " ");
            vstring_strcat(resp->text, vstring_str(line));
            argv_add(resp->lines, text);
        }
        if (!more)
            break;
    }
    resp->code = first_code < 0 ? 0 : first_code;
    if (status == 0)
        smtp_resp_finish(resp);
    vstring_free(line);
    return status;
}

/* Queue one command line; see above. */
int smtp_chat_cmd(SMTP_SESSION *session, int timeout, const char *fmt, ...)
{
    va_list ap;

    vstream_set_deadline(session->stream, true);
    vstream_set_timeout(session->stream, timeout);
    va_start(ap, fmt);
    vstream_vfprintf(session->stream, fmt, ap);
    va_end(ap);
    vstream_fputs("\r\n", session->stream);
    if (msg_verbose) {
        VSTRING *buf = vstring_alloc(100);

        va_start(ap, fmt);
        vstring_vsprintf(buf, fmt, ap);
        va_end(ap);
        msg_info("> %s: %s", session->namaddr, vstring_str(buf));
        vstring_free(buf);
    }
    return vstream_ferror(session->stream) ? -1 : 0;
}

/* RFC 3461 xtext; see above. */
void smtp_xtext_encode(VSTRING *out, const char *text)
{
    vstring_reset(out);
    for (const unsigned char *cp = (const unsigned char *)text; *cp; cp++) {
        if (*cp < 33 || *cp > 126 || *cp == '+' || *cp == '=')
            vstring_sprintf_append(out, "+%02X", *cp);
        else
            vstring_addch(out, *cp);
    }
}
