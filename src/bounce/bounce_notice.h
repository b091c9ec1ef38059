/*
 * bounce_notice - the text of the notices the bounce service sends
 * (queue.md section 7): non-delivery, delay, success and verify reports
 * to the sender, and the postmaster copies, as RFC 3464 multipart/report
 * messages.
 *
 *   list = bounce_entries_create();
 *   bounce_entries_add(list, rcpt, dsn, when)     copies the strings
 *   bounce_entries_free(list)
 *
 *   bounce_msg_scan(fp, &msg) reads the envelope of the original queue
 *   file (arrival time from the T record, message size from the SIZE
 *   record) and leaves FP at the content; -1 for a malformed file.
 *
 *   bounce_notice_write(&notice, entries, msg_fp, put, ctx) writes the
 *   notice's header and body one line at a time through PUT(ctx, data,
 *   len) (no line end; the function returns non-zero on failure); MSG_FP
 *   (may be NULL: no part 3) is the original queue file after
 *   bounce_msg_scan(). Returns 0 or -1 (PUT failed or MSG_FP unreadable).
 *
 * The caller fills BOUNCE_NOTICE: kind, postmaster copy or not, queue ID,
 * the original sender, the notice's recipient (To:), its own queue ID
 * (Received:), the time and whether to attach headers only.
 */
#ifndef BOUNCE_NOTICE_H
#define BOUNCE_NOTICE_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "dsn.h"
#include "recipient_list.h"
#include "vstream.h"

/* What the notice reports. */
typedef enum BOUNCE_KIND {
    BOUNCE_KIND_FAILURE, /* Undelivered Mail Returned to Sender */
    BOUNCE_KIND_DELAY,   /* Delayed Mail (still being retried) */
    BOUNCE_KIND_SUCCESS, /* Successful Mail Delivery Report */
    BOUNCE_KIND_VERIFY,  /* Mail Delivery Status Report (sendmail -v, -bv) */
} BOUNCE_KIND;

/* One recipient's result, strings owned by the list. */
typedef struct BOUNCE_ENTRY {
    RECIPIENT rcpt;
    DSN dsn;
    time_t log_time;
} BOUNCE_ENTRY;

typedef struct BOUNCE_ENTRIES {
    BOUNCE_ENTRY *entry;
    int len;
    int avail;
} BOUNCE_ENTRIES;

/* The original message, from bounce_msg_scan(). */
typedef struct BOUNCE_MSG {
    time_t arrival;
    long long size;
} BOUNCE_MSG;

typedef struct BOUNCE_NOTICE {
    BOUNCE_KIND kind;
    bool postmaster;       /* postmaster copy: other subject, no template text */
    bool headers_only;     /* part 3 is text/rfc822-headers */
    const char *queue_id;  /* the original message */
    const char *sender;    /* its envelope sender */
    const char *to;        /* the notice's To: */
    const char *notice_id; /* the notice's own queue ID */
    time_t now;
    time_t arrival;    /* the original's arrival (Arrival-Date) */
    const char *envid; /* DSN ENVID (Original-Envelope-Id) or NULL or empty */
} BOUNCE_NOTICE;

typedef int (*BOUNCE_PUT_FN)(void *ctx, const char *data, size_t len);

extern BOUNCE_ENTRIES *bounce_entries_create(void);
extern void bounce_entries_add(BOUNCE_ENTRIES *list, const RECIPIENT *rcpt, const DSN *dsn, time_t when);
extern void bounce_entries_free(BOUNCE_ENTRIES *list);
extern int bounce_msg_scan(VSTREAM *fp, BOUNCE_MSG *msg);
extern int bounce_notice_write(const BOUNCE_NOTICE *notice, const BOUNCE_ENTRIES *entries, VSTREAM *msg_fp,
                               BOUNCE_PUT_FN put, void *ctx);
extern void bounce_wrap(VSTRING *out, const char *text, size_t width, size_t indent);

#endif
