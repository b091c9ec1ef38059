/*
 * mail_copy - copy a queued message to a mailbox, a file or a command's
 * input, in the form a local delivery needs (spec/delivery.md 2.5, 2.6,
 * 4.2). Shared by local, virtual and pipe.
 *
 *   status = mail_copy(sender, orig_rcpt, delivered, src, dst, flags, eol, why)
 *
 * src is the queue file positioned at the message content (the MESG
 * record, as deliver_request_read() leaves request->fp); mail_copy()
 * seeks there itself from data_offset when src_offset >= 0 (so several
 * recipients can be copied from one open file). The content records are
 * copied until the XTRA record; L records join into one line. Before the
 * content, in this order and only with their flag:
 *   MAIL_COPY_FROM        "From SENDER  DATE" (SENDER "MAILER-DAEMON" for
 *                         "", DATE asctime() of now, local zone)
 *   MAIL_COPY_RETURN_PATH "Return-Path: <SENDER>"
 *   MAIL_COPY_ORIG_RCPT   "X-Original-To: ORIG" (when orig_rcpt non-empty)
 *   MAIL_COPY_DELIVERED   "Delivered-To: DELIVERED" (lower-cased)
 * In the content: MAIL_COPY_QUOTE prefixes ">" to lines starting with
 * "From "; MAIL_COPY_DOT prefixes "." to lines starting with ".". After
 * it: MAIL_COPY_BLANK appends one empty line. Every line ends in eol
 * ("\n" normally; "\r\n" for pipe's eol=). MAIL_COPY_TOFILE: dst is a
 * file: fflush and fsync it and report write errors (the caller
 * truncates on failure; see mbox_open.h).
 *   MAIL_COPY_MBOX = FROM | RETURN_PATH | ORIG_RCPT | DELIVERED | QUOTE |
 *                    BLANK | TOFILE   (mbox files, /file destinations)
 *   MAIL_COPY_MAILDIR = RETURN_PATH | ORIG_RCPT | DELIVERED | TOFILE
 *
 * Returns 0, or an OR of MAIL_COPY_STAT_CORRUPT (bad queue file record),
 * MAIL_COPY_STAT_READ (queue file read error), MAIL_COPY_STAT_WRITE (dst
 * write error) with why set: status 5.3.0 "queue file is corrupt" (the
 * caller defers "4.3.0"), 4.3.0 "error reading message: ...", and for
 * write errors 5.2.2 "error writing message: File too large" (EFBIG:
 * mailbox_size_limit through setrlimit/fsize), 4.3.0 otherwise ("error
 * writing message: No space left on device"); after a write error errno
 * holds its cause (EPIPE: a command stopped reading). SIGXFSZ is ignored
 * while MAIL_COPY_TOFILE copies, so the size limit gives EFBIG.
 */
#ifndef MAIL_COPY_H
#define MAIL_COPY_H

#include <sys/types.h>

#include "dsn.h"
#include "vstream.h"

#define MAIL_COPY_QUOTE       (1 << 0)
#define MAIL_COPY_TOFILE      (1 << 1)
#define MAIL_COPY_FROM        (1 << 2)
#define MAIL_COPY_DELIVERED   (1 << 3)
#define MAIL_COPY_RETURN_PATH (1 << 4)
#define MAIL_COPY_DOT         (1 << 5)
#define MAIL_COPY_BLANK       (1 << 6)
#define MAIL_COPY_ORIG_RCPT   (1 << 7)
#define MAIL_COPY_MBOX                                                                                   \
    (MAIL_COPY_FROM | MAIL_COPY_RETURN_PATH | MAIL_COPY_ORIG_RCPT | MAIL_COPY_DELIVERED | MAIL_COPY_QUOTE | \
     MAIL_COPY_BLANK | MAIL_COPY_TOFILE)
#define MAIL_COPY_MAILDIR (MAIL_COPY_RETURN_PATH | MAIL_COPY_ORIG_RCPT | MAIL_COPY_DELIVERED | MAIL_COPY_TOFILE)

#define MAIL_COPY_STAT_OK      0
#define MAIL_COPY_STAT_CORRUPT (1 << 0)
#define MAIL_COPY_STAT_READ    (1 << 1)
#define MAIL_COPY_STAT_WRITE   (1 << 2)

extern int mail_copy(const char *sender, const char *orig_rcpt, const char *delivered, VSTREAM *src,
                     off_t src_offset, VSTREAM *dst, int flags, const char *eol, DSN_BUF *why);

#endif
