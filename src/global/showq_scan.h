/*
 * showq_scan - walk the mail queue for the queue listing (mailq, postqueue
 * -p/-j), and the record protocol between the showq service and postqueue.
 *
 * showq_scan(reasons, fn, context) visits maildrop, active, incoming,
 * deferred and hold in that order (queue.md 9.2), hashed subdirectories
 * included, and calls FN for each complete queue file (owner rwx bits set)
 * it can parse: queue name, ID, arrival time (TIME record, else the file's
 * mtime), message size (SIZE record, else the file size: maildrop files
 * have none), forced expiry (MAIL_QUEUE_STAT_EXPIRE), sender ("" for the
 * null sender) and the pending recipients (RCPT records of the envelope
 * and extracted segments; DONE and DRCP are skipped). When REASONS is not
 * NULL it is asked for the defer log reasons of each message outside
 * maildrop: it fills a table recipient -> reason (mymalloc'ed strings).
 * showq_scan_defer_log() is that function for the defer log (bounce_log.h).
 * FN returns 0 to go on, -1 to stop the walk (client gone). A file that
 * disappears meanwhile is skipped silently; one that cannot be parsed is
 * skipped with a warning. showq_scan() returns 0 or -1 (stopped).
 *
 * showq_scan_file(fp, msg) parses one open queue file into MSG (queue
 * and ID are the caller's; size -1 without a SIZE record); 0 or -1 with
 * a reason in msg->why.
 *
 * Protocol (public/showq; the client sends nothing): for each message one
 * attribute list with queue_name, queue_id, arrival_time, message_size,
 * forced_expire, sender and rcpt_count, followed by rcpt_count lists with
 * recipient and reason ("" when unknown); an empty list ends the listing.
 * showq_scan_send() writes one message (0 or -1), showq_scan_end() the end
 * marker, showq_scan_recv() reads one message: 1, 0 at the end, -1 on a
 * protocol or read error (logged by attr_scan).
 */
#ifndef SHOWQ_SCAN_H
#define SHOWQ_SCAN_H

#include <stdbool.h>

#include "argv.h"
#include "htable.h"
#include "vstream.h"
#include "vstring.h"

#define SHOWQ_ATTR_ARRIVAL  "arrival_time"
#define SHOWQ_ATTR_SIZE     "message_size"
#define SHOWQ_ATTR_EXPIRE   "forced_expire"
#define SHOWQ_ATTR_RCPT_CNT "rcpt_count"

typedef struct SHOWQ_MSG {
    VSTRING *queue;     /* queue name (directory) */
    VSTRING *id;        /* queue ID */
    VSTRING *sender;    /* "" for the null sender */
    VSTRING *why;       /* showq_scan_file() failure reason */
    long long arrival;  /* seconds since the epoch */
    long long size;     /* header + body bytes */
    bool forced_expire; /* MAIL_QUEUE_STAT_EXPIRE set */
    ARGV *rcpts;        /* pending recipients */
    ARGV *reasons;      /* same count; "" when unknown */
} SHOWQ_MSG;

typedef void (*SHOWQ_SCAN_REASONS_FN)(const char *id, HTABLE *reasons);
typedef int (*SHOWQ_SCAN_FN)(const SHOWQ_MSG *msg, void *context);

extern const char *const showq_scan_queues[];

extern SHOWQ_MSG *showq_msg_alloc(void);
extern void showq_msg_reset(SHOWQ_MSG *msg);
extern SHOWQ_MSG *showq_msg_free(SHOWQ_MSG *msg);

extern int showq_scan(SHOWQ_SCAN_REASONS_FN reasons, SHOWQ_SCAN_FN fn, void *context);
extern void showq_scan_defer_log(const char *id, HTABLE *table);
extern int showq_scan_file(VSTREAM *fp, SHOWQ_MSG *msg);

extern int showq_scan_send(VSTREAM *stream, const SHOWQ_MSG *msg);
extern int showq_scan_end(VSTREAM *stream);
extern int showq_scan_recv(VSTREAM *stream, SHOWQ_MSG *msg);

#endif
