/*
 * bounce_log - the per-message logs bounce/ID, defer/ID and trace/ID:
 * one entry per recipient result, read by the bounce service for
 * notices, by showq for the reasons mailq prints, by postsuper.
 *
 * File format (text, appended by the bounce service only, under an
 * exclusive flock, fsynced before the append is acknowledged): each entry
 * is "name=value" lines ending with one empty line:
 *
 *   recipient=bob@example.net
 *   original_recipient=bob@example.net     ("" when none)
 *   offset=1234                             (RCPT record offset)
 *   dsn_orig_rcpt=rfc822;bob@example.net    ("" when none)
 *   dsn_notify=0
 *   status=4.4.1
 *   action=delayed
 *   reason=connect to mx.example.net[192.0.2.1]:25: Connection refused
 *   diag_type=                              (smtp, x-unix or "")
 *   diag_text=
 *   mta_type=                               (dns or "")
 *   mta_name=
 *   log_time=1763712345                     (seconds since the epoch)
 *
 * Values are single lines: bounce_log_append() replaces CR and LF in a
 * value by spaces. Unknown names are ignored by readers; an entry without
 * recipient or status is skipped with a warning.
 *
 * bounce_log_open(queue, id, flags, mode) opens QUEUE/ID (hashed like the
 * queue, see mail_queue.h), NULL with errno when it cannot (ENOENT: no
 * log). bounce_log_read(bp) returns the next entry (bp->rcpt, bp->dsn,
 * bp->log_time valid until the next call) or NULL at the end.
 * bounce_log_rewind() starts over; bounce_log_close() closes.
 * bounce_log_append(fp, rcpt, dsn, when) writes one entry to an open
 * stream (no locking, no flushing: the caller does both); 0 or -1.
 */
#ifndef BOUNCE_LOG_H
#define BOUNCE_LOG_H

#include <sys/types.h>
#include <time.h>

#include "dsn.h"
#include "recipient_list.h"
#include "vstream.h"
#include "vstring.h"

typedef struct BOUNCE_LOG {
    VSTREAM *fp;
    RECIPIENT rcpt; /* the current entry, pointers into the buffers */
    DSN dsn;
    time_t log_time;
    /* Private. */
    VSTRING *buf;
    VSTRING *rcpt_buf, *orig_buf, *orcpt_buf;
    DSN_BUF *dsb;
} BOUNCE_LOG;

extern BOUNCE_LOG *bounce_log_open(const char *queue, const char *id, int flags, mode_t mode);
extern BOUNCE_LOG *bounce_log_read(BOUNCE_LOG *bp);
extern void bounce_log_rewind(BOUNCE_LOG *bp);
extern int bounce_log_close(BOUNCE_LOG *bp);
extern int bounce_log_append(VSTREAM *fp, const RECIPIENT *rcpt, const DSN *dsn, time_t when);

#endif
