/*
 * cleanup_message - the content stage of cleanup: the message headers and
 * body between the MESG and XTRA records.
 *
 * cleanup_message_init() opens header_checks, mime_header_checks,
 * nested_header_checks and body_checks (a table list named by several of
 * these parameters, such as the default mime_header_checks =
 * $header_checks, is opened once so its rules run once per header) and
 * reads message_drop_headers.
 *
 * cleanup_message(state, type, buf, len) takes REC_TYPE_NORM and
 * REC_TYPE_CONT records through the MIME parser (mime_state.h):
 *   - primary headers: checks, Received: counting (hopcount_limit),
 *     Message-ID logging, header address rewriting
 *     (cleanup_rewrite_header()), sendmail -t recipients
 *     (cleanup_extract_header(), Resent- headers when the message has
 *     any), message_drop_headers; at their end the hop limit and the
 *     missing headers (cleanup_missing.c); a blank line is inserted when
 *     the body does not start with one;
 *   - MIME part headers: mime_header_checks; attached message headers:
 *     nested_header_checks (MIME headers anywhere: mime_header_checks);
 *   - body lines: body_checks on the first body_checks_size_limit bytes
 *     of each part, long lines piece by piece.
 * Content is written as NORM/CONT records (long lines keep their pieces)
 * and counted in state->cont_length (bytes as delivered). REC_TYPE_XTRA
 * ends the content: state->xtra_offset is set, XTRA written and
 * state->action becomes cleanup_extracted.
 *
 * cleanup_message_free(state) releases the stage's private state.
 *
 * Errors: hopcount_limit reached logs "warning: QID: message rejected:
 * hopcount exceeded" (CLEANUP_STAT_HOPS); content beyond
 * message_size_limit is not written (CLEANUP_STAT_SIZE); other record
 * types log "warning: QID: message rejected: unexpected record type N"
 * (CLEANUP_STAT_BAD); check failures: cleanup_checks.c.
 */
#include "sys_defs.h"

#include <string.h>

#include "cleanup_content.h"
#include "cleanup_user.h"
#include "dict.h"
#include "header_opts.h"
#include "is_header.h"
#include "mail_params.h"
#include "msg.h"
#include "mymalloc.h"
#include "rec_type.h"

static MAPS *cleanup_header_checks;
static MAPS *cleanup_mimehdr_checks;
static MAPS *cleanup_nesthdr_checks;
static MAPS *cleanup_body_checks;

/* Release the check tables of an earlier cleanup_message_init(). */
static void cleanup_message_close_checks(void)
{
    MAPS *all[] = {cleanup_header_checks, cleanup_mimehdr_checks, cleanup_nesthdr_checks,
                   cleanup_body_checks};

    for (size_t i = 0; i < 4; i++) {
        bool seen = false;

        for (size_t j = 0; j < i; j++)
            seen |= all[j] == all[i];
        if (all[i] != NULL && !seen)
            maps_free(all[i]);
    }
    cleanup_header_checks = cleanup_mimehdr_checks = cleanup_nesthdr_checks = cleanup_body_checks = NULL;
}

/* Open the check tables and read message_drop_headers. */
void cleanup_message_init(void)
{
    struct {
        const char *title;
        const char *names;
        MAPS **maps;
    } checks[] = {
        {"header_checks", var_header_checks, &cleanup_header_checks},
        {"mime_header_checks", var_mime_header_checks, &cleanup_mimehdr_checks},
        {"nested_header_checks", var_nested_header_checks, &cleanup_nesthdr_checks},
        {"body_checks", var_body_checks, &cleanup_body_checks},
    };

    cleanup_message_close_checks();
    header_opts_drop_init(var_message_drop_headers);
    for (size_t i = 0; i < sizeof(checks) / sizeof(checks[0]); i++) {
        if (*checks[i].names == 0)
            continue;
        /* Header tables named alike are one list, so a rule runs once per header. */
        for (size_t j = 0; j < i && i < 3; j++)
            if (*checks[j].maps != NULL && strcmp(checks[j].names, checks[i].names) == 0)
                *checks[i].maps = *checks[j].maps;
        if (*checks[i].maps == NULL)
            *checks[i].maps = maps_create(checks[i].title, checks[i].names, DICT_FLAG_LOCK);
    }
}

/* Write one content record: count it, enforce message_size_limit. */
void cleanup_content_out(CLEANUP_STATE *state, int type, const char *buf, size_t len)
{
    CLEANUP_CONTENT *cc = cleanup_content(state);

    if (cc->size_exceeded)
        return;
    state->cont_length += (long long)len + (type == REC_TYPE_NORM);
    if (var_message_size_limit > 0 && state->cont_length > var_message_size_limit) {
        cc->size_exceeded = true;
        cleanup_set_error(state, CLEANUP_STAT_SIZE, "%s", "");
        return;
    }
    cleanup_out(state, type, buf, len);
}

/* Write a logical header: one NORM record per line, long lines in CONT pieces. */
void cleanup_content_out_header(CLEANUP_STATE *state, const char *text)
{
    size_t limit = var_line_length_limit > 0 ? (size_t)var_line_length_limit : 2048;

    for (;;) {
        size_t len = strcspn(text, "\n");
        const char *cp = text;

        while (len - (size_t)(cp - text) > limit) {
            cleanup_content_out(state, REC_TYPE_CONT, cp, limit);
            cp += limit;
        }
        cleanup_content_out(state, REC_TYPE_NORM, cp, len - (size_t)(cp - text));
        if (text[len] == 0)
            break;
        text += len + 1;
    }
}

/* The value of a header: after the colon and any blanks or folding. */
static const char *cleanup_message_value(const char *text)
{
    const char *cp = strchr(text, ':');

    cp = cp ? cp + 1 : text + strlen(text);
    return cp + strspn(cp, " \t\r\n");
}

/* Log a Message-ID value, made printable. */
static void cleanup_message_log_id(CLEANUP_STATE *state, const char *what, const char *value)
{
    CLEANUP_CONTENT *cc = cleanup_content(state);

    vstring_reset(cc->log);
    for (const unsigned char *cp = (const unsigned char *)value; *cp; cp++)
        vstring_addch(cc->log, *cp < 0x20 || *cp == 0x7f ? '?' : *cp);
    msg_info("%s: %s=%s", state->queue_id ? state->queue_id : "NOQUEUE", what, vstring_str(cc->log));
}

/* Which headers the message has, from one primary header. */
static unsigned cleanup_message_seen_bits(const HEADER_OPTS *opts)
{
    unsigned bits = (opts->flags & HDR_OPT_RR) ? CLEANUP_HDR_RESENT : 0;

    switch (opts->type) {
    case HDR_FROM:
        return bits | CLEANUP_HDR_FROM;
    case HDR_DATE:
        return bits | CLEANUP_HDR_DATE;
    case HDR_MESSAGE_ID:
        return bits | CLEANUP_HDR_MESSAGE_ID;
    case HDR_TO:
    case HDR_CC:
        return bits | CLEANUP_HDR_TO_CC;
    case HDR_BCC:
        return bits | CLEANUP_HDR_BCC;
    case HDR_RESENT_FROM:
        return bits | CLEANUP_HDR_RESENT_FROM;
    case HDR_RESENT_DATE:
        return bits | CLEANUP_HDR_RESENT_DATE;
    case HDR_RESENT_MESSAGE_ID:
        return bits | CLEANUP_HDR_RESENT_MID;
    case HDR_RESENT_TO:
    case HDR_RESENT_CC:
        return bits | CLEANUP_HDR_RESENT_TO_CC;
    default:
        return bits;
    }
}

/* MIME parser callback: one logical header. */
static void cleanup_message_header(void *context, int header_class, const HEADER_OPTS *opts, VSTRING *header)
{
    CLEANUP_STATE *state = context;
    CLEANUP_CONTENT *cc = cleanup_content(state);
    MAPS *maps;
    HBC_RESULT result;
    size_t name_len;

    if (opts != NULL && (opts->flags & HDR_OPT_MIME))
        maps = cleanup_mimehdr_checks;
    else if (header_class == MIME_HDR_PRIMARY)
        maps = cleanup_header_checks;
    else if (header_class == MIME_HDR_MULTIPART)
        maps = cleanup_mimehdr_checks;
    else
        maps = cleanup_nesthdr_checks;
    switch (cleanup_checks(state, maps, "header", vstring_str(header), VSTRING_LEN(header), &result)) {
    case HBC_PREPEND:
        cleanup_content_out_header(state, result.text);
        break;
    case HBC_REPLACE:
        vstring_strcpy(header, result.text);
        name_len = is_header(vstring_str(header));
        opts = header_opts_find(vstring_str(header), name_len);
        break;
    case HBC_IGNORE:
    case HBC_STRIP:
        return;
    default:
        break;
    }
    if (header_class != MIME_HDR_PRIMARY || opts == NULL) {
        if (header_class == MIME_HDR_PRIMARY &&
            header_opts_drop(vstring_str(header), is_header(vstring_str(header))))
            return;
        cleanup_content_out_header(state, vstring_str(header));
        return;
    }

    /* A primary header with a meaning. */
    state->headers_seen |= cleanup_message_seen_bits(opts);
    if (opts->type == HDR_RECEIVED)
        state->hop_count++;
    if (opts->type == HDR_MESSAGE_ID) {
        const char *value = cleanup_message_value(vstring_str(header));

        cleanup_message_log_id(state, "message-id", value);
        if (state->message_id == NULL)
            state->message_id = mystrdup(value);
    } else if (opts->type == HDR_RESENT_MESSAGE_ID) {
        cleanup_message_log_id(state, "resent-message-id", cleanup_message_value(vstring_str(header)));
    }
    if (opts->flags & HDR_OPT_SENDER)
        cleanup_rewrite_header(state, header, CLEANUP_CLASS_SENDER);
    else if (opts->flags & HDR_OPT_RECIP)
        cleanup_rewrite_header(state, header, CLEANUP_CLASS_RECIPIENT);
    if ((state->flags & CLEANUP_FLAG_EXTRACT) && (opts->flags & HDR_OPT_EXTRACT))
        argv_add((opts->flags & HDR_OPT_RR) ? cc->resent_rcpt : cc->rcpt,
                 cleanup_message_value(vstring_str(header)));
    if (header_opts_drop(vstring_str(header), is_header(vstring_str(header))))
        return;
    cleanup_content_out_header(state, vstring_str(header));
}

/* MIME parser callback: the primary headers ended. */
static void cleanup_message_header_end(void *context)
{
    CLEANUP_STATE *state = context;
    CLEANUP_CONTENT *cc = cleanup_content(state);

    if (state->hop_count >= var_hopcount_limit) {
        msg_warn("%s: message rejected: hopcount exceeded", state->queue_id ? state->queue_id : "NOQUEUE");
        cleanup_set_error(state, CLEANUP_STAT_HOPS, "%s", "");
    }
    if (state->flags & CLEANUP_FLAG_EXTRACT) {
        ARGV *values = cc->resent_rcpt->argc > 0 ? cc->resent_rcpt : cc->rcpt;

        for (size_t i = 0; i < values->argc; i++)
            cleanup_extract_header(state, values->argv[i]);
    }
    cleanup_missing_headers(state);
}

/* MIME parser callback: one body record. */
static void cleanup_message_body(void *context, int rec_type, const char *buf, size_t len, off_t offset)
{
    CLEANUP_STATE *state = context;
    CLEANUP_CONTENT *cc = cleanup_content(state);
    HBC_RESULT result;

    if (!cc->body_started) {
        cc->body_started = true;
        if (rec_type != REC_TYPE_NORM || len != 0)
            cleanup_content_out(state, REC_TYPE_NORM, "", 0);
    }
    if (var_body_checks_size_limit <= 0 || offset < var_body_checks_size_limit) {
        switch (cleanup_checks(state, cleanup_body_checks, "body", buf, len, &result)) {
        case HBC_PREPEND:
            cleanup_content_out(state, REC_TYPE_NORM, result.text, strlen(result.text));
            break;
        case HBC_REPLACE:
            buf = result.text;
            len = strlen(result.text);
            break;
        case HBC_IGNORE:
        case HBC_STRIP:
            return;
        default:
            break;
        }
    }
    cleanup_content_out(state, rec_type, buf, len);
}

/* MIME parser callback: end of the content. */
static void cleanup_message_body_end(void *context)
{
    (void)context;
}

static const MIME_STATE_CALLBACKS cleanup_message_callbacks = {
    cleanup_message_header, cleanup_message_header_end, cleanup_message_body, cleanup_message_body_end, NULL,
};

/* The content stage's private state, created on first use. */
CLEANUP_CONTENT *cleanup_content(CLEANUP_STATE *state)
{
    CLEANUP_CONTENT *cc = state->mime;

    if (cc == NULL) {
        cc = mycalloc(1, sizeof(*cc));
        cc->filter = (state->flags & CLEANUP_FLAG_FILTER) != 0;
        cc->rcpt = argv_alloc(2);
        cc->resent_rcpt = argv_alloc(2);
        cc->key = vstring_alloc(100);
        cc->value = vstring_alloc(100);
        cc->reason = vstring_alloc(100);
        cc->log = vstring_alloc(100);
        cc->context = vstring_alloc(100);
        state->mime = cc;
        cc->mime =
            mime_state_alloc(MIME_OPT_NONE, var_header_size_limit > 0 ? (size_t)var_header_size_limit : 1,
                             var_mime_nesting_limit, &cleanup_message_callbacks, state);
    }
    return cc;
}

/* Handle one content record; see the file comment. */
void cleanup_message(CLEANUP_STATE *state, int type, const char *buf, size_t len)
{
    CLEANUP_CONTENT *cc = cleanup_content(state);

    switch (type) {
    case REC_TYPE_NORM:
    case REC_TYPE_CONT:
        mime_state_update(cc->mime, type, buf, len);
        return;
    case REC_TYPE_XTRA:
        mime_state_update(cc->mime, REC_TYPE_EOF, "", 0);
        state->xtra_offset = state->dst ? vstream_ftell(state->dst) : 0;
        cleanup_out(state, REC_TYPE_XTRA, "", 0);
        state->action = cleanup_extracted;
        return;
    default:
        msg_warn("%s: message rejected: unexpected record type %d",
                 state->queue_id ? state->queue_id : "NOQUEUE", type);
        cleanup_set_error(state, CLEANUP_STAT_BAD, "%s", "");
        return;
    }
}

/* Release the content stage's state. */
void cleanup_message_free(CLEANUP_STATE *state)
{
    CLEANUP_CONTENT *cc = state->mime;

    if (cc == NULL)
        return;
    mime_state_free(cc->mime);
    argv_free(cc->rcpt);
    argv_free(cc->resent_rcpt);
    vstring_free(cc->key);
    vstring_free(cc->value);
    vstring_free(cc->reason);
    vstring_free(cc->log);
    vstring_free(cc->context);
    myfree(cc);
    state->mime = NULL;
}
