/*
 * cleanup_extracted - the extracted segment of cleanup: records after
 * XTRA up to END (cleanup.h).
 *
 * cleanup_extracted(state, type, buf, len) handles ATTR (kept in
 * state->attr and written), ORCP / DSN_ORCPT / DSN_NOTIFY / RCPT (client
 * recipients: the same pipeline as envelope recipients) and END. At END,
 * in this order:
 *   - the recipients collected from headers (state->extracted, sendmail
 *     -t): when the message has Resent- headers and some of them came
 *     from Resent-To/Cc/Bcc, only those count;
 *   - the BCC action recipients (state->header_bcc);
 *   - always_bcc, once, when the message has a recipient and
 *     CLEANUP_FLAG_BCC_OK;
 *   - ATTR redirect=ADDR (state->redirect), else content_filter=FILTER
 *     (state->filter): a REDIRECT overrides any filter (acceptance
 *     check 15);
 *   - no recipient at all (and no other error): CLEANUP_STAT_RCPT;
 *   - the END record; state->done is set, the frame commits.
 *
 * Errors: unexpected record types log "QID: message rejected: unexpected
 * record type N in extracted segment" (CLEANUP_STAT_BAD); once the
 * message has an error, records are dropped until END.
 */
#include "sys_defs.h"

#include "cleanup_addr.h"
#include "cleanup_user.h"
#include "mail_params.h"
#include "msg.h"
#include "rec_type.h"

#define QID(state) ((state)->queue_id ? (state)->queue_id : "NOQUEUE")

/* Write the recipients taken from the message headers. */
static void cleanup_extracted_headers(CLEANUP_STATE *state)
{
    bool resent_only = false;

    if (state->extracted == NULL)
        return;
    if (state->headers_seen & CLEANUP_HDR_RESENT)
        for (size_t i = 0; i < state->extracted->argc && !resent_only; i++)
            resent_only = state->extracted->argv[i][0] == CLEANUP_EXTRACT_RESENT;
    for (size_t i = 0; i < state->extracted->argc; i++) {
        const char *addr = state->extracted->argv[i];
        bool resent = addr[0] == CLEANUP_EXTRACT_RESENT;

        if (resent_only && !resent)
            continue;
        cleanup_addr_recipient(state, addr + resent);
    }
}

/* Finish the message at END (see above). */
static void cleanup_extracted_end(CLEANUP_STATE *state)
{
    if (state->errs == 0) {
        cleanup_extracted_headers(state);
        if (state->header_bcc)
            for (size_t i = 0; i < state->header_bcc->argc; i++)
                cleanup_addr_bcc(state, state->header_bcc->argv[i], 0);
        if ((state->flags & CLEANUP_FLAG_BCC_OK) && state->first_rcpt && var_always_bcc && *var_always_bcc)
            cleanup_addr_bcc(state, var_always_bcc, DSN_NOTIFY_NEVER);
        if (state->redirect)
            cleanup_out_format(state, REC_TYPE_ATTR, "%s=%s", MAIL_ATTR_REDIRECT, state->redirect);
        if (state->filter && state->redirect == NULL)
            cleanup_out_format(state, REC_TYPE_ATTR, "%s=%s", MAIL_ATTR_FILTER, state->filter);
        if (state->rcpt_count == 0 && state->errs == 0)
            cleanup_set_error(state, CLEANUP_STAT_RCPT, "5.1.0 Error: no recipients specified");
    }
    cleanup_out(state, REC_TYPE_END, "", 0);
    state->done = true;
}

/* Process one record of the extracted segment (see above). */
void cleanup_extracted(CLEANUP_STATE *state, int type, const char *buf, size_t len)
{
    if (type == REC_TYPE_END) {
        cleanup_extracted_end(state);
        return;
    }
    if (state->errs)
        return;
    switch (type) {
    case REC_TYPE_ORCP:
    case REC_TYPE_DSN_ORCPT:
    case REC_TYPE_DSN_NOTIFY:
    case REC_TYPE_RCPT:
    case REC_TYPE_ATTR:
        /* Same rules as in the envelope; the sender is known by now. */
        cleanup_envelope(state, type, buf, len);
        break;
    default:
        msg_warn("%s: message rejected: unexpected record type %d in extracted segment", QID(state), type);
        cleanup_set_error(state, CLEANUP_STAT_BAD, "4.3.0 Error: internal protocol error");
        break;
    }
}
