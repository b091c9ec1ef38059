/*
 * qmgr - the queue manager's internal interfaces (queue.md section 5).
 *
 * Objects, all in memory of the one qmgr process:
 *
 *   QMGR_MESSAGE    a message in the active queue: its envelope, how
 *                   many of its delivery requests are unfinished, whether
 *                   recipients are still unread in the file, and what
 *                   happened so far (some deferred, forced expiry, ...).
 *   QMGR_TRANSPORT  a master.cf delivery service ("smtp", "local"): its
 *                   limits (process limit from master.cf, per-destination
 *                   concurrency and recipient limits, rate delay, slow-start
 *                   feedback), its busy count and its destinations.
 *   QMGR_QUEUE      a destination of a transport (lower-cased next hop, or
 *                   user@nexthop when the recipient limit is 1): its
 *                   concurrency window, busy count, entries waiting, and
 *                   whether it is dead (suspended after failures).
 *   QMGR_ENTRY      one delivery request: one message, one queue, up to
 *                   the transport's recipient limit recipients.
 *
 * Life of a message: qmgr_scan picks a file from incoming/ or deferred/,
 * qmgr_message_activate() moves it to active/, reads the envelope and a
 * first batch of recipients, resolves them (trivial-rewrite) and files
 * them into entries of their queues. qmgr_schedule() hands entries to
 * delivery agents as windows and process limits allow (qmgr_deliver.c);
 * each answer feeds the destination's window and may kill it. When the
 * last entry of a message is done and no recipient is left unread,
 * qmgr_message_done() decides: bounce notice for bounced recipients,
 * deferred/ with a back-off mtime (plus delay warning, or expiry and a
 * notice), or removal.
 *
 * Errors: a malformed queue file goes to corrupt/; a failed resolve or an
 * unreachable transport defers; a dying agent defers its unfinished
 * recipients. Nothing here bounces mail by itself: bounces come from the
 * error agent or other agents.
 */
#ifndef QMGR_H
#define QMGR_H

#include <stdbool.h>
#include <sys/time.h>
#include <time.h>

#include "htable.h"
#include "sys_defs.h"
#include "recipient_list.h"
#include "vstream.h"
#include "vstring.h"

typedef struct QMGR_MESSAGE QMGR_MESSAGE;
typedef struct QMGR_TRANSPORT QMGR_TRANSPORT;
typedef struct QMGR_QUEUE QMGR_QUEUE;
typedef struct QMGR_ENTRY QMGR_ENTRY;

/* Message flags. */
#define QMGR_MSG_DEFER        (1 << 0) /* some recipient stays queued */
#define QMGR_MSG_FLUSH        (1 << 1) /* flush: ignore defer_transports */
#define QMGR_MSG_EXPIRE_FORCE (1 << 2) /* postsuper -e */
#define QMGR_MSG_TRACE        (1 << 3) /* a trace log may exist */
#define QMGR_MSG_EXPIRE_NOLOG (1 << 4) /* forced expiry without a defer log */

struct QMGR_MESSAGE {
    char *queue_id;
    char *queue_name; /* where the file is now */
    int flags;
    struct timeval arrival;        /* T record */
    struct timeval active_arrival; /* taken into the active queue */
    long data_offset;              /* MESG record */
    long data_size;                /* message_size */
    long xtra_offset;              /* XTRA record */
    int rcpt_total;                /* rcpt_count of the SIZE record */
    char *sender;
    char *dsn_envid;
    int dsn_ret;
    char *encoding;
    int smtputf8;
    int trace_flags;
    char *filter;   /* content_filter transport:nexthop, or NULL */
    char *redirect; /* REDIRECT address replacing every recipient, or NULL */
    char *client_name, *client_addr, *client_port, *client_proto, *client_helo;
    char *rewrite_context;
    char *sasl_method; /* "" unless smtpd AUTH */
    char *sasl_username;
    char *sasl_sender;
    long long warn_time; /* delay warning due, 0: none */
    long warn_offset;    /* offset of the W record, 0: none */
    long rcpt_offset;    /* next recipient to read; 0: all read */
    bool rcpt_in_xtra;   /* rcpt_offset is in the extracted segment */
    int refcount;        /* unfinished entries */
    int rcpt_in_memory;  /* recipients held in entries */
    QMGR_MESSAGE *next;  /* list of active messages */
    QMGR_MESSAGE *prev;
};

struct QMGR_TRANSPORT {
    char *name;
    int process_limit;   /* master.cf maxproc (0: unlimited) */
    int dest_limit;      /* TRANSPORT_destination_concurrency_limit */
    int rcpt_limit;      /* TRANSPORT_destination_recipient_limit */
    int rate_delay;      /* TRANSPORT_destination_rate_delay, seconds */
    double pos_feedback; /* window increase per success, "1" or "1/concurrency" */
    bool pos_per_window;
    double neg_feedback; /* window decrease per failure */
    bool neg_per_window;
    int cohort_limit;  /* failed cohorts before a destination is dead */
    int busy;          /* requests in progress */
    HTABLE *queues;    /* name -> QMGR_QUEUE */
    QMGR_QUEUE *ready; /* ring of queues with waiting entries */
    time_t dead_until; /* suspended (transport unavailable or crashing) */
    char *dead_reason;
    QMGR_TRANSPORT *next; /* ring of transports */
};

struct QMGR_QUEUE {
    char *name;
    char *nexthop;
    QMGR_TRANSPORT *transport;
    double window;    /* concurrency window (slow start) */
    double success;   /* positive feedback accumulated */
    double failure;   /* negative feedback accumulated */
    int fail_cohorts; /* failed pseudo-cohorts in a row */
    int busy;
    int todo_count;
    QMGR_ENTRY *todo_head;
    QMGR_ENTRY *todo_tail;
    time_t dead_until; /* 0: alive */
    char *dead_status;
    char *dead_reason;
    struct timeval last_handoff; /* rate delay */
    bool rate_wait;              /* a rate-delay timer is pending */
    bool conn_cache;             /* requests carried DEL_REQ_FLAG_CONN_STORE */
    bool in_ready;
    QMGR_QUEUE *ready_next;
    QMGR_QUEUE *ready_prev;
};

struct QMGR_ENTRY {
    QMGR_MESSAGE *message;
    QMGR_QUEUE *queue;
    RECIPIENT_LIST rcpt_list;
    QMGR_ENTRY *next; /* todo list */
    VSTREAM *stream;  /* agent connection while busy */
    struct timeval handoff;
};

/* qmgr_message.c */
extern int qmgr_message_count;
extern int qmgr_recipient_count;
extern bool qmgr_message_activate(const char *queue_name, const char *id, int scan_flags);
extern void qmgr_message_entry_done(QMGR_MESSAGE *message);
extern void qmgr_message_defer_rcpt(QMGR_MESSAGE *message, const RECIPIENT *rcpt, const char *status,
                                    const char *fmt, ...) PRINTFLIKE(4, 5);
extern int qmgr_backoff(time_t age, int min_backoff, int max_backoff);

/* qmgr_transport.c */
extern QMGR_TRANSPORT *qmgr_transport_find(const char *name);
extern QMGR_QUEUE *qmgr_queue_find(QMGR_TRANSPORT *transport, const char *name, const char *nexthop);
extern void qmgr_queue_add_entry(QMGR_QUEUE *queue, QMGR_ENTRY *entry);
extern void qmgr_queue_success(QMGR_QUEUE *queue);
extern void qmgr_queue_release(QMGR_QUEUE *queue);
extern void qmgr_queue_failure(QMGR_QUEUE *queue, const char *status, const char *reason);
extern void qmgr_transport_throttle(QMGR_TRANSPORT *transport, const char *reason);
extern bool qmgr_transport_dead(QMGR_TRANSPORT *transport);
extern bool qmgr_queue_dead(QMGR_QUEUE *queue);
extern void qmgr_defer_entry(QMGR_ENTRY *entry, const char *status, const char *fmt, ...) PRINTFLIKE(3, 4);
extern void qmgr_transport_forget_dead(void);
extern void qmgr_schedule(void);
extern double qmgr_feedback_parse(const char *value, bool *per_window);

/* qmgr_deliver.c */
extern bool qmgr_deliver(QMGR_ENTRY *entry);

/* qmgr_scan.c */
#define QMGR_SCAN_ALL   (1 << 0) /* deferred: ignore retry times */
#define QMGR_SCAN_FLUSH (1 << 1) /* messages get QMGR_MSG_FLUSH */
extern void qmgr_scan_request(const char *queue_name, int flags);
extern void qmgr_scan_run(void);
extern void qmgr_scan_later(const char *queue_name);
extern int qmgr_scan_period_ms(int run_delay, long usec);
extern void qmgr_scan_recover_active(void);

#endif
