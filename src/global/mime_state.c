/*
 * mime_state - record-at-a-time MIME parser: headers, parts, attached
 * messages (see mime_state.h).
 */
#include "sys_defs.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "is_header.h"
#include "mime_state.h"
#include "mymalloc.h"
#include "rec_type.h"

/* Where the parser is. */
#define MIME_IN_HEAD 0
#define MIME_IN_BODY 1

/* Content types that matter for the structure. */
#define MIME_CTYPE_OTHER     0
#define MIME_CTYPE_MULTIPART 1
#define MIME_CTYPE_MESSAGE   2 /* message/rfc822 or message/global */

#define MIME_ENC_IDENTITY 0 /* 7bit, 8bit, binary, or none given */
#define MIME_ENC_OTHER    1 /* base64, quoted-printable, ... */

/* One open multipart level. */
typedef struct MIME_BOUNDARY {
    char *bound;
    size_t len;
    bool digest; /* parts default to message/rfc822 */
    int level;   /* nesting level inside this multipart */
} MIME_BOUNDARY;

struct MIME_STATE {
    int options;
    size_t header_limit;
    int nesting_limit;
    MIME_STATE_CALLBACKS cb;
    void *context;

    int where;           /* MIME_IN_HEAD or MIME_IN_BODY */
    int head_class;      /* MIME_HDR_* of the current header block */
    bool primary_done;   /* head_end() was called */
    bool finished;       /* body_end() was called */
    bool prev_cont;      /* the last record was a CONT piece */
    bool line_in_header; /* the current physical line is part of the pending header */
    VSTRING *header;     /* pending logical header */
    bool header_pending;
    bool header_trunc; /* pending header lost text */

    /* The current header block's Content-Type and encoding. */
    int ctype;
    bool ctype_digest;
    char *boundary;
    int encoding;
    bool part_7bit; /* the current part's body should be 7-bit */

    MIME_BOUNDARY *stack;
    size_t depth;
    size_t stack_size;
    int level; /* multipart + attached message nesting */

    off_t body_offset;
    int errs;
    bool has_8bit;
};

/* Record a problem, and report it when the options ask for it. */
static void mime_state_report(MIME_STATE *ms, int err, const char *text, size_t len)
{
    int report = 0;

    switch (err) {
    case MIME_ERR_TRUNC_HEADER:
        report = ms->options & MIME_OPT_REPORT_TRUNC_HEADER;
        break;
    case MIME_ERR_NESTING:
        report = ms->options & MIME_OPT_REPORT_NESTING;
        break;
    case MIME_ERR_8BIT_IN_HEADER:
        report = ms->options & MIME_OPT_REPORT_8BIT_IN_HEADER;
        break;
    case MIME_ERR_8BIT_IN_7BIT_BODY:
        report = ms->options & MIME_OPT_REPORT_8BIT_IN_7BIT_BODY;
        break;
    }
    if (report && ms->cb.err_print && (ms->errs & err) == 0)
        ms->cb.err_print(ms->context, err, text, len);
    ms->errs |= err;
}

/* Does the text have a byte with the high bit set? */
static bool mime_state_is_8bit(const char *buf, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)buf[i] & 0x80)
            return true;
    return false;
}

/* Reset what the current header block said about its content. */
static void mime_state_reset_block(MIME_STATE *ms, bool digest_default)
{
    ms->ctype = digest_default ? MIME_CTYPE_MESSAGE : MIME_CTYPE_OTHER;
    ms->ctype_digest = false;
    ms->boundary = myfree(ms->boundary);
    ms->encoding = MIME_ENC_IDENTITY;
    ms->part_7bit = true;
}

/* Skip blanks, folding newlines and (nested) comments. */
static const char *mime_state_skip(const char *cp)
{
    for (;;) {
        while (*cp == ' ' || *cp == '\t' || *cp == '\n' || *cp == '\r')
            cp++;
        if (*cp != '(')
            return cp;
        for (int depth = 0; *cp; cp++) {
            if (*cp == '\\' && cp[1]) {
                cp++;
            } else if (*cp == '(') {
                depth++;
            } else if (*cp == ')' && --depth == 0) {
                cp++;
                break;
            }
        }
    }
}

/* Copy one MIME token (or quoted string) at cp into out; return the text after it. */
static const char *mime_state_token(const char *cp, VSTRING *out)
{
    vstring_reset(out);
    cp = mime_state_skip(cp);
    if (*cp == '"') {
        for (cp++; *cp && *cp != '"'; cp++) {
            if (*cp == '\\' && cp[1])
                cp++;
            if (*cp != '\n' && *cp != '\r')
                vstring_addch(out, *cp);
        }
        if (*cp == '"')
            cp++;
        return cp;
    }
    while (*cp && strchr(" \t\r\n()<>@,;:\\\"/[]?=", *cp) == NULL)
        vstring_addch(out, *cp++);
    return cp;
}

/* Learn the type, subtype and boundary from a Content-Type value. */
static void mime_state_content_type(MIME_STATE *ms, const char *value)
{
    VSTRING *tok = vstring_alloc(32);
    VSTRING *sub = vstring_alloc(32);
    const char *cp = mime_state_token(value, tok);

    cp = mime_state_skip(cp);
    if (*cp == '/')
        cp = mime_state_token(cp + 1, sub);
    ms->ctype = MIME_CTYPE_OTHER;
    ms->ctype_digest = false;
    ms->boundary = myfree(ms->boundary);
    if (strcasecmp(vstring_str(tok), "multipart") == 0) {
        ms->ctype = MIME_CTYPE_MULTIPART;
        ms->ctype_digest = strcasecmp(vstring_str(sub), "digest") == 0;
        /* Parameters: ; name = value ... */
        while (*(cp = mime_state_skip(cp)) != 0) {
            if (*cp != ';') {
                cp++;
                continue;
            }
            cp = mime_state_token(cp + 1, tok);
            cp = mime_state_skip(cp);
            if (*cp != '=')
                continue;
            cp = mime_state_token(cp + 1, sub);
            if (strcasecmp(vstring_str(tok), "boundary") == 0 && VSTRING_LEN(sub) > 0) {
                myfree(ms->boundary);
                ms->boundary = mystrdup(vstring_str(sub));
            }
        }
    } else if (strcasecmp(vstring_str(tok), "message") == 0 &&
               (strcasecmp(vstring_str(sub), "rfc822") == 0 || strcasecmp(vstring_str(sub), "global") == 0)) {
        ms->ctype = MIME_CTYPE_MESSAGE;
    }
    vstring_free(tok);
    vstring_free(sub);
}

/* Learn the transfer encoding from a Content-Transfer-Encoding value. */
static void mime_state_encoding(MIME_STATE *ms, const char *value)
{
    VSTRING *tok = vstring_alloc(32);

    mime_state_token(value, tok);
    if (strcasecmp(vstring_str(tok), "7bit") == 0) {
        ms->encoding = MIME_ENC_IDENTITY;
        ms->part_7bit = true;
    } else if (strcasecmp(vstring_str(tok), "8bit") == 0 || strcasecmp(vstring_str(tok), "binary") == 0) {
        ms->encoding = MIME_ENC_IDENTITY;
        ms->part_7bit = false;
    } else {
        ms->encoding = MIME_ENC_OTHER;
        ms->part_7bit = true;
    }
    vstring_free(tok);
}

/* Hand the pending header to the caller, after noting its MIME meaning. */
static void mime_state_flush_header(MIME_STATE *ms)
{
    const char *text = vstring_str(ms->header);
    size_t name_len;
    const HEADER_OPTS *opts;

    if (!ms->header_pending)
        return;
    ms->header_pending = false;
    name_len = is_header_buf(text, VSTRING_LEN(ms->header));
    opts = header_opts_find(text, name_len);
    if (mime_state_is_8bit(text, VSTRING_LEN(ms->header)))
        mime_state_report(ms, MIME_ERR_8BIT_IN_HEADER, text, VSTRING_LEN(ms->header));
    if (opts && (ms->options & MIME_OPT_DISABLE_MIME) == 0) {
        const char *value = strchr(text, ':') + 1;

        if (opts->type == HDR_CONTENT_TYPE)
            mime_state_content_type(ms, value);
        else if (opts->type == HDR_CONTENT_TRANSFER_ENCODING)
            mime_state_encoding(ms, value);
    }
    if (ms->header_trunc)
        mime_state_report(ms, MIME_ERR_TRUNC_HEADER, text, VSTRING_LEN(ms->header));
    ms->cb.head_out(ms->context, ms->head_class, opts, ms->header);
}

/* Append text to the pending header, within header_limit. */
static void mime_state_header_append(MIME_STATE *ms, const char *buf, size_t len)
{
    size_t room = ms->header_limit > VSTRING_LEN(ms->header) ? ms->header_limit - VSTRING_LEN(ms->header) : 0;

    if (len > room) {
        len = room;
        ms->header_trunc = true;
    }
    vstring_memcat(ms->header, buf, len);
}

/* The current header block ended: decide what follows it. */
static void mime_state_end_block(MIME_STATE *ms)
{
    int next = MIME_IN_BODY;

    if (ms->head_class == MIME_HDR_PRIMARY && !ms->primary_done) {
        ms->primary_done = true;
        if (ms->cb.head_end)
            ms->cb.head_end(ms->context);
    }
    if ((ms->options & MIME_OPT_DISABLE_MIME) == 0) {
        if (ms->ctype == MIME_CTYPE_MULTIPART && ms->boundary != NULL) {
            if (ms->level >= ms->nesting_limit) {
                mime_state_report(ms, MIME_ERR_NESTING, ms->boundary, strlen(ms->boundary));
            } else {
                if (ms->depth == ms->stack_size) {
                    ms->stack_size = ms->stack_size ? 2 * ms->stack_size : 4;
                    ms->stack = myrealloc(ms->stack, ms->stack_size * sizeof(*ms->stack));
                }
                ms->stack[ms->depth].bound = ms->boundary;
                ms->stack[ms->depth].len = strlen(ms->boundary);
                ms->stack[ms->depth].digest = ms->ctype_digest;
                ms->stack[ms->depth].level = ++ms->level;
                ms->depth++;
                ms->boundary = NULL;
            }
        } else if (ms->ctype == MIME_CTYPE_MESSAGE && ms->encoding == MIME_ENC_IDENTITY) {
            if (ms->level >= ms->nesting_limit) {
                mime_state_report(ms, MIME_ERR_NESTING, "message/rfc822", 14);
            } else {
                ms->level++;
                next = MIME_IN_HEAD;
            }
        }
    }
    ms->where = next;
    ms->body_offset = 0;
    if (next == MIME_IN_HEAD) {
        ms->head_class = MIME_HDR_NESTED;
        mime_state_reset_block(ms, false);
    }
}

/* Pass one body record on, and track the part's size. */
static void mime_state_body(MIME_STATE *ms, int rec_type, const char *buf, size_t len)
{
    if (mime_state_is_8bit(buf, len) && ms->part_7bit)
        mime_state_report(ms, MIME_ERR_8BIT_IN_7BIT_BODY, buf, len);
    ms->cb.body_out(ms->context, rec_type, buf, len, ms->body_offset);
    ms->body_offset += (off_t)len + (rec_type == REC_TYPE_NORM);
}

/* A new physical body line: a boundary changes the structure. */
static void mime_state_body_line(MIME_STATE *ms, int rec_type, const char *buf, size_t len)
{
    if (ms->depth > 0 && len >= 2 && buf[0] == '-' && buf[1] == '-') {
        for (size_t k = ms->depth; k-- > 0;) {
            MIME_BOUNDARY *bp = ms->stack + k;

            if (len - 2 < bp->len || memcmp(buf + 2, bp->bound, bp->len) != 0)
                continue;
            mime_state_body(ms, rec_type, buf, len);
            bool closing = len - 2 - bp->len >= 2 && buf[2 + bp->len] == '-' && buf[3 + bp->len] == '-';
            bool digest = bp->digest;

            while (ms->depth > k + 1)
                myfree(ms->stack[--ms->depth].bound);
            if (closing) {
                ms->level = bp->level - 1;
                myfree(bp->bound);
                ms->depth--;
                ms->where = MIME_IN_BODY;
            } else {
                ms->level = bp->level;
                ms->where = MIME_IN_HEAD;
                ms->head_class = MIME_HDR_MULTIPART;
                mime_state_reset_block(ms, digest);
            }
            ms->body_offset = 0;
            return;
        }
    }
    mime_state_body(ms, rec_type, buf, len);
}

/* Create a parser; see mime_state.h. */
MIME_STATE *mime_state_alloc(int options, size_t header_limit, int nesting_limit,
                             const MIME_STATE_CALLBACKS *callbacks, void *context)
{
    MIME_STATE *ms = mycalloc(1, sizeof(*ms));

    ms->options = options;
    ms->header_limit = header_limit > 0 ? header_limit : 1;
    ms->nesting_limit = nesting_limit;
    ms->cb = *callbacks;
    ms->context = context;
    ms->where = MIME_IN_HEAD;
    ms->head_class = MIME_HDR_PRIMARY;
    ms->header = vstring_alloc(100);
    mime_state_reset_block(ms, false);
    return ms;
}

/* Feed one record (or REC_TYPE_EOF); returns the MIME_ERR_* bits so far. */
int mime_state_update(MIME_STATE *ms, int rec_type, const char *buf, size_t len)
{
    bool continues = ms->prev_cont; /* this piece continues a physical line */

    if (ms->finished)
        return ms->errs;
    if (rec_type == REC_TYPE_EOF) {
        mime_state_flush_header(ms);
        if (!ms->primary_done) {
            ms->primary_done = true;
            if (ms->cb.head_end)
                ms->cb.head_end(ms->context);
        }
        ms->finished = true;
        if (ms->cb.body_end)
            ms->cb.body_end(ms->context);
        return ms->errs;
    }
    ms->prev_cont = rec_type == REC_TYPE_CONT;
    if (mime_state_is_8bit(buf, len))
        ms->has_8bit = true;

    if (ms->where == MIME_IN_HEAD) {
        if (continues) {
            /* The rest of a header line, or of the boundary line before these headers. */
            if (ms->line_in_header)
                mime_state_header_append(ms, buf, len);
            else
                mime_state_body(ms, rec_type, buf, len);
            return ms->errs;
        }
        if (len == 0 && rec_type == REC_TYPE_NORM) {
            mime_state_flush_header(ms);
            ms->line_in_header = false;
            mime_state_end_block(ms);
            mime_state_body(ms, rec_type, buf, len);
            return ms->errs;
        }
        if (len > 0 && (buf[0] == ' ' || buf[0] == '\t') && ms->header_pending) {
            mime_state_header_append(ms, "\n", 1);
            mime_state_header_append(ms, buf, len);
            ms->line_in_header = true;
            return ms->errs;
        }
        if (len > 0 && is_header_buf(buf, len) > 0) {
            mime_state_flush_header(ms);
            vstring_reset(ms->header);
            ms->header_pending = true;
            ms->header_trunc = false;
            mime_state_header_append(ms, buf, len);
            ms->line_in_header = true;
            return ms->errs;
        }
        /* Not a header: the block ends without a blank line. */
        mime_state_flush_header(ms);
        ms->line_in_header = false;
        mime_state_end_block(ms);
        /* An attached message whose first line is no header has no headers either. */
        if (ms->where == MIME_IN_HEAD)
            mime_state_end_block(ms);
    }
    if (continues)
        mime_state_body(ms, rec_type, buf, len);
    else
        mime_state_body_line(ms, rec_type, buf, len);
    return ms->errs;
}

/* Release a parser; returns NULL. */
MIME_STATE *mime_state_free(MIME_STATE *ms)
{
    while (ms->depth > 0)
        myfree(ms->stack[--ms->depth].bound);
    myfree(ms->stack);
    myfree(ms->boundary);
    vstring_free(ms->header);
    myfree(ms);
    return NULL;
}

/* Did any header or body byte have the high bit set? */
bool mime_state_8bit(const MIME_STATE *ms)
{
    return ms->has_8bit;
}

/* A text for one MIME_ERR_* bit. */
const char *mime_state_error(int err)
{
    if (err & MIME_ERR_NESTING)
        return "MIME nesting exceeds safety limit";
    if (err & MIME_ERR_TRUNC_HEADER)
        return "message header length exceeds safety limit";
    if (err & MIME_ERR_8BIT_IN_HEADER)
        return "improper use of 8-bit data in message header";
    if (err & MIME_ERR_8BIT_IN_7BIT_BODY)
        return "improper use of 8-bit data in message body";
    return "unknown error";
}
