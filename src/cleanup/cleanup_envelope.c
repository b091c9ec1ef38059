/*
 * cleanup_envelope - the envelope stage of cleanup: records from FLGS to
 * MESG (cleanup.h).
 *
 * cleanup_envelope(state, type, buf, len) handles one client record:
 *   FLGS        state->flags (decimal CLEANUP_FLAG_* bits; not written)
 *   TIME        arrival time "SECONDS [MICROSECONDS]" (state->arrival_time)
 *   CTIME       ignored (the frame writes the creation time)
 *   FULL        sender full name (state->fullname), written
 *   FROM        the sender (cleanup_addr_sender(): rewritten, written)
 *   ATTR        "name=value": kept in state->attr, written; sets
 *               state->rewrite_context ("local" unless the client says
 *               "remote"), client_name, client_addr, protocol, helo
 *   ORCP, DSN_ORCPT, DSN_NOTIFY   pending values for the next RCPT
 *   RCPT        a recipient (cleanup_addr_recipient())
 *   MESG        ends the envelope: a WARN record when delay_warning_time
 *               is set, then MESG (its offset in state->data_offset); the
 *               next records go to cleanup_message()
 * The queue file gets TIME first (the client's arrival time, else the
 * file creation time), written before the first record that is neither
 * FLGS nor TIME, then the other records in the order received.
 *
 * Errors: protocol violations (a second FROM, recipients or DSN records
 * before the sender, MESG without a sender, malformed attributes, a bad
 * rewrite_context, unknown record types) log "warning: QID: message
 * rejected: ..." and set CLEANUP_STAT_BAD. Malformed TIME or DSN_NOTIFY
 * records and out-of-order ORCP/DSN records are ignored with a warning.
 * Once the message has an error, records are dropped until MESG.
 */
#include "sys_defs.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup_addr.h"
#include "cleanup_user.h"
#include "htable.h"
#include "mail_params.h"
#include "msg.h"
#include "mymalloc.h"
#include "rec_type.h"
#include "rewrite_addr.h"
#include "stringops.h"

#define QID(state) ((state)->queue_id ? (state)->queue_id : "NOQUEUE")

/* Whether the envelope records proper have started (TIME is written). */
static bool cleanup_envelope_begun(CLEANUP_STATE *state)
{
    return state->fullname != NULL || state->sender != NULL || (state->attr && state->attr->used > 0);
}

/* Write the TIME record: the client's arrival time, else the creation time. */
static void cleanup_envelope_time(CLEANUP_STATE *state)
{
    if (state->arrival_time.tv_sec == 0)
        state->arrival_time = state->create_time;
    cleanup_out_format(state, REC_TYPE_TIME, "%lld %ld", (long long)state->arrival_time.tv_sec,
                       (long)state->arrival_time.tv_usec);
}

/* Reject the message for a protocol violation. */
static void cleanup_envelope_bad(CLEANUP_STATE *state, const char *what, const char *text)
{
    msg_warn("%s: message rejected: %s%s%.100s", QID(state), what, text ? ": " : "", text ? text : "");
    cleanup_set_error(state, CLEANUP_STAT_BAD, "4.3.0 Error: internal protocol error");
}

/* Point the well-known attribute fields at their values in state->attr. */
static void cleanup_envelope_attr_fields(CLEANUP_STATE *state)
{
    const char *context = htable_find(state->attr, MAIL_ATTR_RWR_CONTEXT);

    state->rewrite_context = context ? context : REWRITE_ADDR_LOCAL;
    state->client_name = htable_find(state->attr, MAIL_ATTR_LOG_CLIENT_NAME);
    state->client_addr = htable_find(state->attr, MAIL_ATTR_LOG_CLIENT_ADDR);
    state->protocol = htable_find(state->attr, MAIL_ATTR_LOG_PROTO_NAME);
    state->helo = htable_find(state->attr, MAIL_ATTR_LOG_HELO_NAME);
}

/* Release an attribute value (HTABLE_FREE_FN). */
static void cleanup_envelope_free_value(void *value)
{
    myfree(value);
}

/* Handle one "name=value" attribute record. */
static void cleanup_envelope_attr(CLEANUP_STATE *state, const char *text, const char *buf, size_t len)
{
    const char *eq = strchr(text, '=');
    char *name;
    const char *value;

    if (eq == NULL || eq == text) {
        cleanup_envelope_bad(state, "malformed attribute", text);
        return;
    }
    name = mystrndup(text, (size_t)(eq - text));
    value = eq + 1;
    if (strcmp(name, MAIL_ATTR_RWR_CONTEXT) == 0 && strcmp(value, REWRITE_ADDR_LOCAL) != 0 &&
        strcmp(value, REWRITE_ADDR_REMOTE) != 0) {
        cleanup_envelope_bad(state, "bad rewriting context", value);
        myfree(name);
        return;
    }
    if (strcmp(name, MAIL_ATTR_FILTER) == 0 || strcmp(name, MAIL_ATTR_REDIRECT) == 0) {
        char **member = name[0] == 'c' ? &state->filter : &state->redirect;

        myfree(*member);
        *member = *value ? mystrdup(value) : NULL;
        myfree(name);
        return;
    }
    if (state->attr == NULL)
        state->attr = htable_create(10, 0);
    if (htable_locate(state->attr, name) != NULL)
        htable_delete(state->attr, name, cleanup_envelope_free_value);
    htable_enter(state->attr, name, mystrdup(value));
    cleanup_envelope_attr_fields(state);
    cleanup_out(state, REC_TYPE_ATTR, buf, len);
    myfree(name);
}

/* Parse a DSN NOTIFY value: NEVER alone, or SUCCESS/FAILURE/DELAY bits. */
static int cleanup_envelope_notify(const char *text)
{
    char *end;
    long value;

    if (!alldig(text))
        return -1;
    value = strtol(text, &end, 10);
    if (value == DSN_NOTIFY_NEVER ||
        (value > 0 && value <= DSN_NOTIFY_ANY && (value & DSN_NOTIFY_NEVER) == 0))
        return (int)value;
    return -1;
}

/* Forget the pending ORCP and DSN values after a RCPT. */
static void cleanup_envelope_clear_pending(CLEANUP_STATE *state)
{
    if (state->orig_rcpt)
        state->orig_rcpt = myfree(state->orig_rcpt);
    if (state->dsn_orcpt)
        state->dsn_orcpt = myfree(state->dsn_orcpt);
    state->dsn_notify = 0;
}

/* Handle a FLGS or TIME record (both may precede the TIME record we write). */
static void cleanup_envelope_early(CLEANUP_STATE *state, int type, const char *text)
{
    long long sec;
    long usec = 0;
    char junk;
    int n;

    if (type == REC_TYPE_FLGS) {
        if (!alldig(text))
            msg_warn("%s: ignoring bad flags record: %.100s", QID(state), text);
        else
            state->flags = atoi(text);
        return;
    }
    n = sscanf(text, "%lld %ld%c", &sec, &usec, &junk);
    if ((n != 1 && n != 2) || sec <= 0 || usec < 0 || usec >= 1000000) {
        msg_warn("%s: ignoring malformed time record: %.100s", QID(state), text);
        return;
    }
    if (cleanup_envelope_begun(state)) {
        msg_warn("%s: ignoring out-of-order time record", QID(state));
        return;
    }
    state->arrival_time.tv_sec = (time_t)sec;
    state->arrival_time.tv_usec = (suseconds_t)usec;
}

/* Process one envelope record (see above). */
void cleanup_envelope(CLEANUP_STATE *state, int type, const char *buf, size_t len)
{
    char *text;
    int notify;

    if (state->rewrite_context == NULL)
        state->rewrite_context = REWRITE_ADDR_LOCAL;
    if (state->errs && type != REC_TYPE_MESG)
        return;
    text = mystrndup(buf, len);
    switch (type) {
    case REC_TYPE_FLGS:
    case REC_TYPE_TIME:
        cleanup_envelope_early(state, type, text);
        break;
    case REC_TYPE_CTIME:
        break;
    default:
        if (!cleanup_envelope_begun(state))
            cleanup_envelope_time(state);
        switch (type) {
        case REC_TYPE_FULL:
            if (state->fullname == NULL) {
                state->fullname = mystrdup(text);
                cleanup_out_string(state, REC_TYPE_FULL, text);
            }
            break;
        case REC_TYPE_FROM:
            if (state->sender != NULL)
                cleanup_envelope_bad(state, "multiple envelope sender records", NULL);
            else
                cleanup_addr_sender(state, text);
            break;
        case REC_TYPE_ATTR:
            cleanup_envelope_attr(state, text, buf, len);
            break;
        case REC_TYPE_ORCP:
        case REC_TYPE_DSN_ORCPT:
        case REC_TYPE_DSN_NOTIFY:
        case REC_TYPE_RCPT:
            if (state->sender == NULL) {
                cleanup_envelope_bad(state, "envelope recipient precedes sender", NULL);
            } else if (type == REC_TYPE_ORCP) {
                if (state->orig_rcpt) {
                    msg_warn("%s: ignoring out-of-order original recipient record <%.200s>", QID(state),
                             text);
                    myfree(state->orig_rcpt);
                }
                state->orig_rcpt = mystrdup(text);
            } else if (type == REC_TYPE_DSN_ORCPT) {
                if (state->dsn_orcpt) {
                    msg_warn("%s: ignoring out-of-order DSN original recipient record <%.200s>", QID(state),
                             text);
                    myfree(state->dsn_orcpt);
                }
                state->dsn_orcpt = mystrdup(text);
            } else if (type == REC_TYPE_DSN_NOTIFY) {
                if ((notify = cleanup_envelope_notify(text)) < 0)
                    msg_warn("%s: ignoring malformed DSN notify record <%.200s>", QID(state), text);
                else
                    state->dsn_notify = notify;
            } else {
                cleanup_addr_recipient(state, text);
                cleanup_envelope_clear_pending(state);
            }
            break;
        case REC_TYPE_MESG:
            if (state->errs == 0 && state->sender == NULL)
                cleanup_envelope_bad(state, "missing sender envelope record", NULL);
            if (state->errs == 0 && var_delay_warning_time > 0)
                cleanup_out_format(state, REC_TYPE_WARN, "%15lld",
                                   (long long)state->arrival_time.tv_sec + var_delay_warning_time);
            if (state->dst)
                state->data_offset = vstream_ftell(state->dst);
            cleanup_out(state, REC_TYPE_MESG, "", 0);
            state->action = cleanup_message;
            break;
        case REC_TYPE_END:
            cleanup_envelope_bad(state, "unexpected end of envelope", NULL);
            state->done = true;
            break;
        default:
            msg_warn("%s: message rejected: unexpected record type %d in envelope", QID(state), type);
            cleanup_set_error(state, CLEANUP_STAT_BAD, "4.3.0 Error: internal protocol error");
            break;
        }
        break;
    }
    myfree(text);
}
