/*
 * post_mail - submit a new message to cleanup from inside the mail
 * system: notices (bounce), forwarded mail (local), postmaster reports.
 *
 *   fp = post_mail_open(sender, recipient, cleanup_flags, trace_flags,
 *                       envid, queue_id_buf);
 *   post_mail_fputs(fp, "Subject: ...");  ... one call per line
 *   post_mail_buffer(fp, data, len);        a line that may be binary
 *   status = post_mail_close(fp);
 *
 * post_mail_open() connects to public/cleanup (waiting while it cannot),
 * reads the queue ID into queue_id_buf (when not NULL), sends the flags
 * (CLEANUP_FLAG_MASK_INTERNAL plus cleanup_flags: notices never get
 * automatic BCC recipients), the arrival time, the sender (""
 * = null sender), the envelope ID when not NULL, and the recipient (none
 * when NULL); more recipients can be added with post_mail_rcpt(fp, addr,
 * orig, notify) and envelope attributes with post_mail_attr(fp, name,
 * value) before the first content line. post_mail_close() ends the message and
 * returns cleanup's CLEANUP_STAT_* bits (0 = queued and on stable
 * storage) or CLEANUP_STAT_WRITE when the connection failed.
 *
 * Errors: a lost connection shows in the post_mail_close() status; no
 * function exits.
 */
#ifndef POST_MAIL_H
#define POST_MAIL_H

#include <stddef.h>

#include "sys_defs.h"
#include "vstream.h"
#include "vstring.h"

extern VSTREAM *post_mail_open(const char *sender, const char *recipient, int cleanup_flags, int trace_flags,
                               const char *envid, VSTRING *queue_id);
extern int post_mail_rcpt(VSTREAM *fp, const char *recipient, const char *orig, int notify);
extern int post_mail_attr(VSTREAM *fp, const char *name, const char *value);
extern int post_mail_fputs(VSTREAM *fp, const char *line);
extern int post_mail_fprintf(VSTREAM *fp, const char *fmt, ...) PRINTFLIKE(2, 3);
extern int post_mail_buffer(VSTREAM *fp, const char *data, size_t len);
extern int post_mail_close(VSTREAM *fp);

#endif
