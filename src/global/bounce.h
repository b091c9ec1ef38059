/*
 * bounce - recording delivery results and asking for notices: the client
 * side of the bounce, defer and trace services (one program, bounce(8),
 * that serves the three master.cf names; the name chooses the log
 * directory bounce/, defer/ or trace/ under the queue directory).
 *
 * Per recipient (delivery agents, and the queue manager for decisions it
 * makes itself). Each logs the delivery line (log_adhoc.h) and returns 0
 * when the recipient is finished (the caller marks it done with
 * deliver_completed()) or DEL_STAT_DEFER when it stays queued:
 *
 *   sent(flags, id, stats, rcpt, relay, dsn)
 *       logs status=sent (DSN action from dsn->action, default
 *       "delivered"). When flags has DEL_REQ_FLAG_RECORD, or the
 *       recipient asked for NOTIFY=SUCCESS, also trace_append()s; with
 *       DEL_REQ_FLAG_MTA_VRFY (sendmail -bv) logs status=deliverable and
 *       only records the result in the trace log. A failed trace append
 *       turns into defer_append() with "4.3.0 bounce or trace service
 *       failure".
 *   bounce_append(flags, id, stats, rcpt, relay, dsn)
 *       status=bounced: appends to bounce/ID with action "failed". With
 *       soft_bounce = yes it is defer_append() instead (status 4.x.x, same
 *       text). With DEL_REQ_FLAG_MTA_VRFY: status=undeliverable, trace log
 *       only, returns 0. When the bounce service fails: defer_append()
 *       with "4.3.0 bounce or trace service failure".
 *   defer_append(flags, id, stats, rcpt, relay, dsn)
 *       status=deferred: appends to defer/ID with action "delayed" and the
 *       status forced to class 4; calls flush_add(domain, id) for a
 *       recipient domain in fast_flush_domains; always returns
 *       DEL_STAT_DEFER (if even the defer service fails, the recipient is
 *       still queued and retried). With DEL_REQ_FLAG_MTA_VRFY:
 *       status=undeliverable, trace log only, returns 0.
 *   trace_append(flags, id, stats, rcpt, relay, dsn)
 *       appends to trace/ID only (no log line); 0 or -1.
 *
 * Per message (the queue manager; cleanup for rejected local mail):
 *
 *   bounce_flush(flags, queue, id, encoding, smtputf8, sender, envid, ret)
 *       the bounce service sends a non-delivery notice to SENDER for the
 *       entries of bounce/ID (reading the message from queue/ID), then
 *       removes bounce/ID. 0 on success (the caller may remove the
 *       message), -1 when the notice could not be queued (keep the
 *       message; the bounce log stays).
 *   defer_flush(...)   same for defer/ID at expiry ("returned to sender":
 *       every entry reported with action "failed"); removes defer/ID.
 *   defer_warn(...)    delay notice from defer/ID (headers only); the log
 *       stays. 0 or -1.
 *   trace_flush(...)   success notice (NOTIFY=SUCCESS) or the sendmail
 *       -v / -bv report from trace/ID; removes trace/ID. 0 or -1.
 *   bounce_one(flags, queue, id, encoding, smtputf8, sender, envid, ret,
 *              stats, rcpt, relay, dsn)
 *       one recipient's immediate non-delivery notice without a bounce
 *       log, logging status=bounced; 0 or -1.
 *
 * Nothing is sent for the null sender's mail except postmaster copies as
 * notify_classes says; notices for $double_bounce_sender are dropped.
 *
 * Protocol (the bounce service's side): one request per connection,
 * attributes BOUNCE_ATTR_* below with "request" first; the append request
 * carries one recipient (deliver_request.h names) and its DSN; the answer
 * is one message with "status" (0 ok, -1 failed).
 */
#ifndef BOUNCE_H
#define BOUNCE_H

#include "dsn.h"
#include "msg_stats.h"
#include "recipient_list.h"

extern int sent(int flags, const char *id, const MSG_STATS *stats, const RECIPIENT *rcpt, const char *relay,
                const DSN *dsn);
extern int bounce_append(int flags, const char *id, const MSG_STATS *stats, const RECIPIENT *rcpt,
                         const char *relay, const DSN *dsn);
extern int defer_append(int flags, const char *id, const MSG_STATS *stats, const RECIPIENT *rcpt,
                        const char *relay, const DSN *dsn);
extern int trace_append(int flags, const char *id, const MSG_STATS *stats, const RECIPIENT *rcpt,
                        const char *relay, const DSN *dsn);

extern int bounce_flush(int flags, const char *queue, const char *id, const char *encoding, int smtputf8,
                        const char *sender, const char *envid, int ret);
extern int defer_flush(int flags, const char *queue, const char *id, const char *encoding, int smtputf8,
                       const char *sender, const char *envid, int ret);
extern int defer_warn(int flags, const char *queue, const char *id, const char *encoding, int smtputf8,
                      const char *sender, const char *envid, int ret);
extern int trace_flush(int flags, const char *queue, const char *id, const char *encoding, int smtputf8,
                       const char *sender, const char *envid, int ret);
extern int bounce_one(int flags, const char *queue, const char *id, const char *encoding, int smtputf8,
                      const char *sender, const char *envid, int ret, const MSG_STATS *stats,
                      const RECIPIENT *rcpt, const char *relay, const DSN *dsn);

/* Requests. */
#define BOUNCE_CMD_APPEND "append" /* one log entry */
#define BOUNCE_CMD_FLUSH  "flush"  /* notice from the log, remove the log */
#define BOUNCE_CMD_WARN   "warn"   /* delay notice from the defer log */
#define BOUNCE_CMD_TRACE  "trace"  /* success / verify report, remove the log */
#define BOUNCE_CMD_ONE    "one"    /* immediate notice for one recipient */

/* Request attributes besides the deliver_request.h recipient names. */
#define BOUNCE_ATTR_REQUEST  "request"
#define BOUNCE_ATTR_FLAGS    "flags"
#define BOUNCE_ATTR_QUEUE    "queue_name"
#define BOUNCE_ATTR_QUEUE_ID "queue_id"
#define BOUNCE_ATTR_ENCODING "encoding"
#define BOUNCE_ATTR_SMTPUTF8 "smtputf8"
#define BOUNCE_ATTR_SENDER   "sender"
#define BOUNCE_ATTR_ENVID    "envelope_id"
#define BOUNCE_ATTR_RET      "dsn_ret"
#define BOUNCE_ATTR_STATUS   "status" /* the answer */
/* The DSN of an append or one request. */
#define BOUNCE_ATTR_DSN_STATUS "dsn_status"
#define BOUNCE_ATTR_DSN_ACTION "action"
#define BOUNCE_ATTR_DSN_REASON "reason"
#define BOUNCE_ATTR_DSN_DTYPE  "diag_type"
#define BOUNCE_ATTR_DSN_DTEXT  "diag_text"
#define BOUNCE_ATTR_DSN_MTYPE  "mta_type"
#define BOUNCE_ATTR_DSN_MNAME  "mta_name"
/* The time of the logged event (seconds), for the notice's Last-Attempt-Date. */
#define BOUNCE_ATTR_LOG_TIME "log_time"

#endif
