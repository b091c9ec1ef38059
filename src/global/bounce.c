/*
 * bounce - the client side of the bounce, defer and trace services:
 * per-recipient results (sent, bounce_append, defer_append,
 * trace_append) and per-message notice requests (bounce_flush,
 * defer_flush, defer_warn, trace_flush, bounce_one). See bounce.h.
 *
 * Each request is one connection to private/SERVICE carrying one
 * attribute message; the answer is one message with "status".
 *
 * Errors: a service that cannot be reached or answers badly is logged
 * (mail_connect() or a warning here); a failed bounce or trace append
 * becomes a deferral "4.3.0 bounce or trace service failure", a failed
 * defer append still leaves the recipient queued, and the per-message
 * functions return -1 so that the caller keeps the message.
 */
#include "sys_defs.h"

#include <string.h>
#include <time.h>

#include "attr.h"
#include "bounce.h"
#include "deliver_request.h"
#include "domain_list.h"
#include "flush_clnt.h"
#include "iostuff.h"
#include "log_adhoc.h"
#include "mail_params.h"
#include "mail_proto.h"
#include "msg.h"
#include "mymalloc.h"
#include "rec_type.h"
#include "vstream.h"
#include "vstring.h"

/* What a failed bounce or trace append turns into. */
#define BOUNCE_FAIL_STATUS "4.3.0"
#define BOUNCE_FAIL_REASON "bounce or trace service failure"

#define BOUNCE_STR(s) ((s) ? (s) : "")

/* The fast_flush_domains list, built on first use. */
static DOMAIN_LIST *bounce_flush_domains;

/* Read the "status" answer of a service and close the stream; 0 or -1. */
static int bounce_answer(VSTREAM *stream, const char *service, const char *id)
{
    int status;
    int ret = -1;

    if (vstream_fflush(stream) != 0) {
        msg_warn("%s: cannot send request to %s service: %m", id, service);
    } else if (attr_scan(stream, ATTR_FLAG_MISSING, RECV_ATTR_INT(BOUNCE_ATTR_STATUS, &status),
                         ATTR_TYPE_END) != 1) {
        msg_warn("%s: no answer from %s service", id, service);
    } else {
        ret = status == 0 ? 0 : -1;
    }
    (void)vstream_fclose(stream);
    return ret;
}

/* Send one recipient entry (append or one request body); ATTR_FLAG_MORE. */
static int bounce_print_rcpt(VSTREAM *stream, const RECIPIENT *rcpt, const DSN *dsn, const char *action)
{
    return attr_print(stream, ATTR_FLAG_MORE, SEND_ATTR_STR(DELIVER_ATTR_ORCPT, BOUNCE_STR(rcpt->orig_addr)),
                      SEND_ATTR_STR(DELIVER_ATTR_RECIP, BOUNCE_STR(rcpt->address)),
                      SEND_ATTR_STR(DELIVER_ATTR_DSN_ORCPT, BOUNCE_STR(rcpt->dsn_orcpt)),
                      SEND_ATTR_INT(DELIVER_ATTR_DSN_NOTIFY, rcpt->dsn_notify),
                      SEND_ATTR_LONG(DELIVER_ATTR_OFFSET, rcpt->offset),
                      SEND_ATTR_STR(BOUNCE_ATTR_DSN_STATUS, BOUNCE_STR(dsn->status)),
                      SEND_ATTR_STR(BOUNCE_ATTR_DSN_ACTION, action),
                      SEND_ATTR_STR(BOUNCE_ATTR_DSN_REASON, BOUNCE_STR(dsn->reason)),
                      SEND_ATTR_STR(BOUNCE_ATTR_DSN_DTYPE, BOUNCE_STR(dsn->dtype)),
                      SEND_ATTR_STR(BOUNCE_ATTR_DSN_DTEXT, BOUNCE_STR(dsn->dtext)),
                      SEND_ATTR_STR(BOUNCE_ATTR_DSN_MTYPE, BOUNCE_STR(dsn->mtype)),
                      SEND_ATTR_STR(BOUNCE_ATTR_DSN_MNAME, BOUNCE_STR(dsn->mname)),
                      SEND_ATTR_LONG(BOUNCE_ATTR_LOG_TIME, (long long)time(NULL)), ATTR_TYPE_END);
}

/* One append request to SERVICE; 0 or -1. */
static int bounce_append_service(const char *service, int flags, const char *id, const RECIPIENT *rcpt,
                                 const DSN *dsn, const char *action)
{
    VSTREAM *stream;

    if ((stream = mail_connect(MAIL_CLASS_PRIVATE, service, BLOCKING)) == NULL)
        return -1;
    if (attr_print(stream, ATTR_FLAG_MORE, SEND_ATTR_STR(BOUNCE_ATTR_REQUEST, BOUNCE_CMD_APPEND),
                   SEND_ATTR_INT(BOUNCE_ATTR_FLAGS, flags), SEND_ATTR_STR(BOUNCE_ATTR_QUEUE_ID, id),
                   ATTR_TYPE_END) != 0 ||
        bounce_print_rcpt(stream, rcpt, dsn, action) != 0 ||
        attr_print(stream, ATTR_FLAG_NONE, ATTR_TYPE_END) != 0) {
        msg_warn("%s: cannot send request to %s service: %m", id, service);
        (void)vstream_fclose(stream);
        return -1;
    }
    return bounce_answer(stream, service, id);
}

/* A DSN with another status and the reason of the original. */
static const DSN *bounce_dsn_with_status(DSN *copy, const DSN *dsn, const char *status)
{
    *copy = *dsn;
    copy->status = status;
    return copy;
}

/* Tell the flush service about a deferred recipient of a fast_flush_domains site. */
static void bounce_flush_add(const char *id, const RECIPIENT *rcpt)
{
    const char *at;
    char *domain;
    size_t len;

    if (*var_fast_flush_domains == 0 || rcpt->address == NULL || (at = strrchr(rcpt->address, '@')) == NULL ||
        at[1] == 0)
        return;
    if (bounce_flush_domains == NULL)
        bounce_flush_domains = domain_list_init("fast_flush_domains", var_fast_flush_domains);
    domain = mystrdup(at + 1);
    if ((len = strlen(domain)) > 1 && domain[len - 1] == '.')
        domain[len - 1] = 0;
    /* A table failure is no reason to skip: the flush service checks again. */
    if (domain_list_match(bounce_flush_domains, domain) || bounce_flush_domains->error != 0)
        (void)flush_add(domain, id);
    myfree(domain);
}

/* The deferral that a failed bounce or trace append turns into. */
static int bounce_service_failed(int flags, const char *id, const MSG_STATS *stats, const RECIPIENT *rcpt,
                                 const char *relay, const DSN *dsn)
{
    DSN fail = *dsn;

    fail.status = BOUNCE_FAIL_STATUS;
    fail.reason = BOUNCE_FAIL_REASON;
    fail.dtype = fail.dtext = fail.mtype = fail.mname = "";
    return defer_append(flags & ~DEL_REQ_FLAG_MTA_VRFY, id, stats, rcpt, relay, &fail);
}

/* Address verification (sendmail -bv): trace log only, status deliverable/undeliverable. */
static int bounce_verify(int flags, const char *id, const MSG_STATS *stats, const RECIPIENT *rcpt,
                         const char *relay, const DSN *dsn, const char *action, const char *status)
{
    DSN copy = *dsn;

    copy.action = action;
    if (trace_append(flags, id, stats, rcpt, relay, &copy) != 0)
        return bounce_service_failed(flags, id, stats, rcpt, relay, dsn);
    log_adhoc(id, stats, rcpt, relay, &copy, status);
    return 0;
}

/* A recipient was delivered. */
int sent(int flags, const char *id, const MSG_STATS *stats, const RECIPIENT *rcpt, const char *relay,
         const DSN *dsn)
{
    DSN copy = *dsn;

    if (copy.action == NULL || *copy.action == 0)
        copy.action = DSN_ACTION_DELIVERED;
    if (flags & DEL_REQ_FLAG_MTA_VRFY)
        return bounce_verify(flags, id, stats, rcpt, relay, &copy, copy.action, "deliverable");
    if (((flags & DEL_REQ_FLAG_RECORD) || (rcpt->dsn_notify & DSN_NOTIFY_SUCCESS)) &&
        trace_append(flags, id, stats, rcpt, relay, &copy) != 0)
        return bounce_service_failed(flags, id, stats, rcpt, relay, &copy);
    log_adhoc(id, stats, rcpt, relay, &copy, "sent");
    return 0;
}

/* A recipient failed permanently (or temporarily under soft_bounce). */
int bounce_append(int flags, const char *id, const MSG_STATS *stats, const RECIPIENT *rcpt, const char *relay,
                  const DSN *dsn)
{
    DSN copy;

    if (flags & DEL_REQ_FLAG_MTA_VRFY)
        return bounce_verify(flags, id, stats, rcpt, relay, dsn, DSN_ACTION_FAILED, "undeliverable");
    if (var_soft_bounce)
        return defer_append(flags, id, stats, rcpt, relay, dsn);
    copy = *dsn;
    copy.action = DSN_ACTION_FAILED;
    if (bounce_append_service(MAIL_SERVICE_BOUNCE, flags, id, rcpt, &copy, DSN_ACTION_FAILED) != 0)
        return bounce_service_failed(flags, id, stats, rcpt, relay, dsn);
    if ((flags & DEL_REQ_FLAG_RECORD) && trace_append(flags, id, stats, rcpt, relay, &copy) != 0)
        msg_warn("%s: %s service failure", id, MAIL_SERVICE_TRACE);
    log_adhoc(id, stats, rcpt, relay, &copy, "bounced");
    return 0;
}

/* A recipient stays queued; its reason goes to the defer log. */
int defer_append(int flags, const char *id, const MSG_STATS *stats, const RECIPIENT *rcpt, const char *relay,
                 const DSN *dsn)
{
    DSN copy;
    char status[16];
    const char *st = BOUNCE_STR(dsn->status);

    if (flags & DEL_REQ_FLAG_MTA_VRFY)
        return bounce_verify(flags, id, stats, rcpt, relay, dsn, DSN_ACTION_DELAYED, "undeliverable");

    /* The status class is 4 whatever the caller said. */
    if (dsn_status_len(st) == 0 || strlen(st) >= sizeof(status)) {
        strcpy(status, "4.0.0");
    } else {
        strcpy(status, st);
        status[0] = '4';
    }
    bounce_dsn_with_status(&copy, dsn, status);
    copy.action = DSN_ACTION_DELAYED;
    if (bounce_append_service(MAIL_SERVICE_DEFER, flags, id, rcpt, &copy, DSN_ACTION_DELAYED) != 0)
        msg_warn("%s: %s service failure", id, MAIL_SERVICE_DEFER);
    if ((flags & DEL_REQ_FLAG_RECORD) && trace_append(flags, id, stats, rcpt, relay, &copy) != 0)
        msg_warn("%s: %s service failure", id, MAIL_SERVICE_TRACE);
    log_adhoc(id, stats, rcpt, relay, &copy, "deferred");
    bounce_flush_add(id, rcpt);
    return DEL_STAT_DEFER;
}

/*
 * Record a result in the trace log only; 0 or -1. Reports say how the
 * recipient was reached: the reason becomes "delivery via RELAY: TEXT"
 * unless there was no relay ("none", as Postfix leaves it out then).
 */
int trace_append(int flags, const char *id, const MSG_STATS *stats UNUSED, const RECIPIENT *rcpt,
                 const char *relay, const DSN *dsn)
{
    const char *action = dsn->action && *dsn->action ? dsn->action : DSN_ACTION_DELIVERED;
    VSTRING *reason;
    DSN copy;
    int ret;

    if (relay == NULL || *relay == 0 || strcmp(relay, "none") == 0)
        return bounce_append_service(MAIL_SERVICE_TRACE, flags, id, rcpt, dsn, action);
    reason = vstring_alloc(100);
    vstring_sprintf(reason, "delivery via %s: %s", relay, BOUNCE_STR(dsn->reason));
    copy = *dsn;
    copy.reason = vstring_str(reason);
    ret = bounce_append_service(MAIL_SERVICE_TRACE, flags, id, rcpt, &copy, action);
    vstring_free(reason);
    return ret;
}

/* Connect and send the per-message attributes; NULL on failure. */
static VSTREAM *bounce_request(const char *service, const char *cmd, int flags, const char *queue,
                               const char *id, const char *encoding, int smtputf8, const char *sender,
                               const char *envid, int ret)
{
    VSTREAM *stream;

    if ((stream = mail_connect(MAIL_CLASS_PRIVATE, service, BLOCKING)) == NULL)
        return NULL;
    if (attr_print(stream, ATTR_FLAG_MORE, SEND_ATTR_STR(BOUNCE_ATTR_REQUEST, cmd),
                   SEND_ATTR_INT(BOUNCE_ATTR_FLAGS, flags), SEND_ATTR_STR(BOUNCE_ATTR_QUEUE, queue),
                   SEND_ATTR_STR(BOUNCE_ATTR_QUEUE_ID, id),
                   SEND_ATTR_STR(BOUNCE_ATTR_ENCODING, BOUNCE_STR(encoding)),
                   SEND_ATTR_INT(BOUNCE_ATTR_SMTPUTF8, smtputf8),
                   SEND_ATTR_STR(BOUNCE_ATTR_SENDER, BOUNCE_STR(sender)),
                   SEND_ATTR_STR(BOUNCE_ATTR_ENVID, BOUNCE_STR(envid)), SEND_ATTR_INT(BOUNCE_ATTR_RET, ret),
                   ATTR_TYPE_END) != 0) {
        msg_warn("%s: cannot send request to %s service: %m", id, service);
        (void)vstream_fclose(stream);
        return NULL;
    }
    return stream;
}

/* One per-message request without recipient; 0 or -1. */
static int bounce_message_request(const char *service, const char *cmd, int flags, const char *queue,
                                  const char *id, const char *encoding, int smtputf8, const char *sender,
                                  const char *envid, int ret)
{
    VSTREAM *stream;

    stream = bounce_request(service, cmd, flags, queue, id, encoding, smtputf8, sender, envid, ret);
    if (stream == NULL)
        return -1;
    if (attr_print(stream, ATTR_FLAG_NONE, ATTR_TYPE_END) != 0) {
        msg_warn("%s: cannot send request to %s service: %m", id, service);
        (void)vstream_fclose(stream);
        return -1;
    }
    return bounce_answer(stream, service, id);
}

/* Non-delivery notice from the bounce log. */
int bounce_flush(int flags, const char *queue, const char *id, const char *encoding, int smtputf8,
                 const char *sender, const char *envid, int ret)
{
    return bounce_message_request(MAIL_SERVICE_BOUNCE, BOUNCE_CMD_FLUSH, flags, queue, id, encoding, smtputf8,
                                  sender, envid, ret);
}

/* Non-delivery notice from the defer log (expiry). */
int defer_flush(int flags, const char *queue, const char *id, const char *encoding, int smtputf8,
                const char *sender, const char *envid, int ret)
{
    return bounce_message_request(MAIL_SERVICE_DEFER, BOUNCE_CMD_FLUSH, flags, queue, id, encoding, smtputf8,
                                  sender, envid, ret);
}

/* Delay notice from the defer log. */
int defer_warn(int flags, const char *queue, const char *id, const char *encoding, int smtputf8,
               const char *sender, const char *envid, int ret)
{
    return bounce_message_request(MAIL_SERVICE_DEFER, BOUNCE_CMD_WARN, flags, queue, id, encoding, smtputf8,
                                  sender, envid, ret);
}

/* Success or verification report from the trace log. */
int trace_flush(int flags, const char *queue, const char *id, const char *encoding, int smtputf8,
                const char *sender, const char *envid, int ret)
{
    return bounce_message_request(MAIL_SERVICE_TRACE, BOUNCE_CMD_TRACE, flags, queue, id, encoding, smtputf8,
                                  sender, envid, ret);
}

/* Immediate non-delivery notice for one recipient, without a bounce log. */
int bounce_one(int flags, const char *queue, const char *id, const char *encoding, int smtputf8,
               const char *sender, const char *envid, int ret, const MSG_STATS *stats, const RECIPIENT *rcpt,
               const char *relay, const DSN *dsn)
{
    VSTREAM *stream;
    DSN copy;

    if (var_soft_bounce) {
        (void)defer_append(flags, id, stats, rcpt, relay, dsn);
        return -1;
    }
    copy = *dsn;
    copy.action = DSN_ACTION_FAILED;
    stream = bounce_request(MAIL_SERVICE_BOUNCE, BOUNCE_CMD_ONE, flags, queue, id, encoding, smtputf8, sender,
                            envid, ret);
    if (stream == NULL)
        return -1;
    if (bounce_print_rcpt(stream, rcpt, &copy, DSN_ACTION_FAILED) != 0 ||
        attr_print(stream, ATTR_FLAG_NONE, ATTR_TYPE_END) != 0) {
        msg_warn("%s: cannot send request to %s service: %m", id, MAIL_SERVICE_BOUNCE);
        (void)vstream_fclose(stream);
        return -1;
    }
    if (bounce_answer(stream, MAIL_SERVICE_BOUNCE, id) != 0)
        return -1;
    log_adhoc(id, stats, rcpt, relay, &copy, "bounced");
    return 0;
}
