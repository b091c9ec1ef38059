/*
 * deliver_request - the protocol between the queue manager and a delivery
 * agent (local, virtual, smtp, lmtp, pipe, error, discard, ...), and the
 * agent's side of it.
 *
 * The queue manager connects to private/TRANSPORT (the master.cf service
 * named by the resolved transport) and sends one request as attribute
 * messages (attr.h):
 *
 *   1. the message attributes (DELIVER_ATTR_* below), ending with
 *      "rcpt_count" = N;
 *   2. N recipient messages, each with original_recipient, recipient,
 *      dsn_orig_rcpt, dsn_notify, offset.
 *
 * The agent delivers, records every recipient's result itself through the
 * functions of bounce.h (sent, bounce_append, defer_append), marks each
 * finished recipient (sent or bounced) done in the queue file with
 * deliver_completed(), and answers with one attribute message:
 *
 *   status      DEL_STAT_FINAL (0): every recipient is finished;
 *               DEL_STAT_DEFER (1): at least one stays queued (its reason
 *               is in the defer log) -- the message goes to deferred/.
 *   hop_status  "" or an RFC 3463 status when the destination itself
 *               failed (no connection, greeting refused, ...): the queue
 *               manager uses it to throttle the destination and reports
 *   hop_reason  as "delivery temporarily suspended: HOP_REASON".
 *
 * A connection that closes without an answer means the agent died: the
 * queue manager defers the request's recipients with "4.3.0 unknown mail
 * transport error" and suspends the transport (queue.md 5.3). Recipients
 * an agent finished before dying are done in the file and never retried.
 *
 * Agent side:
 *   deliver_request_read(stream) reads one request, opens the queue file
 *   (queue_name/queue_id) read-write, takes a shared flock on it (held
 *   until deliver_request_done(), so that a restarted queue manager does
 *   not take a message while an agent of its predecessor still delivers
 *   it) and positions it at data_offset (the MESG record). Returns NULL
 *   (with a warning) on a protocol error or when the queue file cannot be
 *   opened -- then the agent closes the
 *   connection without an answer, except that a missing queue file
 *   (postsuper -d meanwhile) is answered with DEL_STAT_FINAL by
 *   deliver_request_read itself and NULL is returned.
 *   deliver_request_done(stream, request, status) sends the answer
 *   (including request->hop_status if set), closes the queue file and
 *   frees the request; returns 0 or -1 when the answer could not be sent.
 *   deliver_completed(fp, offset) marks the RCPT record at OFFSET done
 *   (rec_put_at + flush); it logs a warning and returns -1 on error (the
 *   recipient is then delivered again later: a duplicate, never a loss).
 *
 * Errors: as above; nothing is fatal.
 */
#ifndef DELIVER_REQUEST_H
#define DELIVER_REQUEST_H

#include "dsn.h"
#include "msg_stats.h"
#include "recipient_list.h"
#include "vstream.h"

/* Message attributes of a request, in the order they are sent. */
#define DELIVER_ATTR_FLAGS         "flags"      /* DEL_REQ_FLAG_* */
#define DELIVER_ATTR_QUEUE_NAME    "queue_name" /* "active" */
#define DELIVER_ATTR_QUEUE_ID      "queue_id"
#define DELIVER_ATTR_DATA_OFFSET   "offset" /* offset of the MESG record */
#define DELIVER_ATTR_DATA_SIZE     "size"   /* message_size of the SIZE record */
#define DELIVER_ATTR_NEXTHOP       "nexthop"
#define DELIVER_ATTR_ENCODING      "encoding" /* "", "7bit", "8bitmime" */
#define DELIVER_ATTR_SMTPUTF8      "smtputf8"
#define DELIVER_ATTR_SENDER        "sender" /* "" = null sender */
#define DELIVER_ATTR_DSN_ENVID     "envelope_id"
#define DELIVER_ATTR_DSN_RET       "dsn_ret"
#define DELIVER_ATTR_CLIENT_NAME   "log_client_name"
#define DELIVER_ATTR_CLIENT_ADDR   "log_client_address"
#define DELIVER_ATTR_CLIENT_PORT   "log_client_port"
#define DELIVER_ATTR_CLIENT_PROTO  "log_protocol_name"
#define DELIVER_ATTR_CLIENT_HELO   "log_helo_name"
#define DELIVER_ATTR_RWR_CONTEXT   "rewrite_context"
#define DELIVER_ATTR_SASL_METHOD   "sasl_method" /* "" unless smtpd AUTH */
#define DELIVER_ATTR_SASL_USERNAME "sasl_username"
#define DELIVER_ATTR_SASL_SENDER   "sasl_sender"
#define DELIVER_ATTR_TIME_INCOMING "time_incoming" /* microseconds since the epoch */
#define DELIVER_ATTR_TIME_ACTIVE   "time_active"
#define DELIVER_ATTR_TIME_HANDOFF  "time_handoff"
#define DELIVER_ATTR_RCPT_COUNT    "rcpt_count"

/* Recipient attributes. */
#define DELIVER_ATTR_ORCPT      "original_recipient"
#define DELIVER_ATTR_RECIP      "recipient"
#define DELIVER_ATTR_DSN_ORCPT  "dsn_orig_rcpt"
#define DELIVER_ATTR_DSN_NOTIFY "dsn_notify"
#define DELIVER_ATTR_OFFSET     "offset"

/* Answer attributes. */
#define DELIVER_ATTR_STATUS     "status"
#define DELIVER_ATTR_HOP_STATUS "hop_status"
#define DELIVER_ATTR_HOP_REASON "hop_reason"

#define DEL_STAT_FINAL 0
#define DEL_STAT_DEFER 1

/* Request flags besides DEL_REQ_FLAG_MTA_VRFY and _RECORD (rec_type.h). */
#define DEL_REQ_FLAG_NONE 0
/* Connection cache hints (smtp, lmtp): look for a cached connection to the
 * destination first; keep the connection after delivery (more mail for the
 * destination is waiting). */
#define DEL_REQ_FLAG_CONN_LOAD  (1 << 11)
#define DEL_REQ_FLAG_CONN_STORE (1 << 12)

/* Largest recipient count a request may announce. */
#define DELIVER_RCPT_MAX 100000

typedef struct DELIVER_REQUEST {
    VSTREAM *fp; /* the queue file, open read-write, at data_offset */
    int flags;   /* DEL_REQ_FLAG_* */
    char *queue_name;
    char *queue_id;
    long data_offset;
    long data_size;
    char *nexthop;
    char *encoding;
    int smtputf8;
    char *sender;
    char *dsn_envid;
    int dsn_ret;
    char *client_name;
    char *client_addr;
    char *client_port;
    char *client_proto;
    char *client_helo;
    char *rewrite_context;
    char *sasl_method;   /* "" when the message was not submitted with AUTH */
    char *sasl_username; /* "" likewise */
    char *sasl_sender;   /* "" unless MAIL FROM ... AUTH=<addr> */
    MSG_STATS msg_stats;
    RECIPIENT_LIST rcpt_list;
    DSN_BUF *hop_status; /* agent: set status+reason on a destination failure */
} DELIVER_REQUEST;

extern DELIVER_REQUEST *deliver_request_read(VSTREAM *stream);
extern int deliver_request_done(VSTREAM *stream, DELIVER_REQUEST *request, int status);
extern int deliver_completed(VSTREAM *fp, long offset);

#endif
