/*
 * maildir_deliver - deliver one message into a Maildir (spec/delivery.md
 * 2.6, 3): local(8) for home_mailbox/mail_spool_directory ending in "/"
 * and "/dir/" destinations, virtual(8) for map results ending in "/".
 *
 *   status = maildir_deliver(dir, sender, orig_rcpt, delivered, src,
 *                            src_offset, copy_flags, why, path)
 *       create dir, dir/tmp, dir/new, dir/cur as needed (mode 0700, as
 *       the current user: the caller has switched privileges), write the
 *       message with mail_copy(..., MAIL_COPY_MAILDIR | copy_flags) to
 *       tmp/UNIQUE, fsync, then link/rename it to new/UNIQUE (same file
 *       system) and remove the tmp name. UNIQUE is
 *       "SECONDS.VnDEVInINODE.MmicrosecondsPpid.HOST" (the inode of the tmp
 *       file, the host name with "/" and ":" escaped as Maildir++ does).
 *       path (when not NULL) gets the final file name. Returns 0, or -1
 *       with why set (mail_copy's status for write errors; "5.2.0
 *       create maildir file tmp/X: Permission denied" style, 4.2.0 for
 *       temporary errors such as EAGAIN/ENOSPC).
 */
#ifndef MAILDIR_DELIVER_H
#define MAILDIR_DELIVER_H

#include <sys/types.h>

#include "dsn.h"
#include "vstream.h"
#include "vstring.h"

extern int maildir_deliver(const char *dir, const char *sender, const char *orig_rcpt, const char *delivered,
                           VSTREAM *src, off_t src_offset, int copy_flags, DSN_BUF *why, VSTRING *path);

#endif
