/*
 * smtp_trouble - recording what happened to recipients (spec/delivery.md
 * 1, 6.3).
 *
 *   smtp_rcpt_report(state, idx, relay, why, how) reports recipient IDX
 *       as sent, deferred or bounced (SMTP_REPORT_AUTO: by the class of
 *       why's status) through bounce.h, marks a finished recipient done in
 *       the queue file and the recipient SMTP_RCPT_DONE in the state.
 *       soft_bounce is applied by bounce_append() itself.
 *   smtp_report_pending(state, relay, why, how) the same for every
 *       recipient not yet reported.
 *   smtp_site_fail(state, relay, status, reply, mta, fmt, ...) remembers a
 *       failure of the whole server (connect error, greeting, lost
 *       connection, ...) in state->why: the recipients stay pending, to be
 *       tried on the next address or reported when none is left. REPLY
 *       and MTA are the server's reply and name, or NULL for a failure
 *       without a reply.
 *   smtp_stream_fail(state, session) is smtp_site_fail() for a lost
 *       connection or a timeout in session->stage (4.4.2, Postfix's
 *       wording); returns SMTP_PROTO_SITE.
 *
 * Errors: a failed status update leaves the recipient queued
 * (state->status DEL_STAT_DEFER); nothing is fatal.
 */
#include "sys_defs.h"

#include <stdarg.h>
#include <string.h>

#include "bounce.h"
#include "deliver_request.h"
#include "dsn.h"
#include "msg.h"
#include "mymalloc.h"
#include "smtp.h"
#include "vstream.h"

/* Report one recipient; see above. */
void smtp_rcpt_report(SMTP_STATE *state, int idx, const char *relay, const DSN_BUF *why, int how)
{
    DELIVER_REQUEST *request = state->request;
    const RECIPIENT *rcpt = request->rcpt_list.info + idx;
    DSN dsn;
    int status;

    if (state->rcpt_stat[idx] == SMTP_RCPT_DONE)
        return;
    dsn_from_buf(&dsn, why);
    if (how == SMTP_REPORT_AUTO)
        how = dsn.status[0] == '2'   ? SMTP_REPORT_SENT
              : dsn.status[0] == '5' ? SMTP_REPORT_BOUNCE
                                     : SMTP_REPORT_DEFER;
    switch (how) {
    case SMTP_REPORT_SENT:
        status = sent(request->flags, request->queue_id, &request->msg_stats, rcpt, relay, &dsn);
        break;
    case SMTP_REPORT_BOUNCE:
        status = bounce_append(request->flags, request->queue_id, &request->msg_stats, rcpt, relay, &dsn);
        break;
    default:
        status = defer_append(request->flags, request->queue_id, &request->msg_stats, rcpt, relay, &dsn);
        break;
    }
    if (status != 0 || deliver_completed(request->fp, rcpt->offset) != 0)
        state->status = DEL_STAT_DEFER;
    state->rcpt_stat[idx] = SMTP_RCPT_DONE;
}

/* Report every recipient not yet reported; see above. */
void smtp_report_pending(SMTP_STATE *state, const char *relay, const DSN_BUF *why, int how)
{
    for (int i = 0; i < state->request->rcpt_list.len; i++)
        if (state->rcpt_stat[i] != SMTP_RCPT_DONE)
            smtp_rcpt_report(state, i, relay, why, how);
}

/* Remember a server-wide failure; see above. */
void smtp_site_fail(SMTP_STATE *state, const char *relay, const char *status, const char *reply,
                    const char *mta, const char *fmt, ...)
{
    VSTRING *text = vstring_alloc(100);
    va_list ap;

    va_start(ap, fmt);
    vstring_vsprintf(text, fmt, ap);
    va_end(ap);
    if (reply != NULL)
        dsb_smtp(state->why, status, reply, mta, "%s", vstring_str(text));
    else
        dsb_simple(state->why, status, "%s", vstring_str(text));
    vstring_free(text);
    if (state->why_relay)
        myfree(state->why_relay);
    state->why_relay = mystrdup(relay);
    state->why_reuse = state->request->msg_stats.reuse_count;
    state->why_site = true;
}

/* A lost connection or timeout in the session's current stage; see above. */
int smtp_stream_fail(SMTP_STATE *state, SMTP_SESSION *session)
{
    if (vstream_ftimeout(session->stream))
        smtp_site_fail(state, session->relay, "4.4.2", NULL, NULL, "conversation with %s timed out while %s",
                       session->namaddr, session->stage);
    else
        smtp_site_fail(state, session->relay, "4.4.2", NULL, NULL, "lost connection with %s while %s",
                       session->namaddr, session->stage);
    return SMTP_PROTO_SITE;
}
