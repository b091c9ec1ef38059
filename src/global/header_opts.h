/*
 * header_opts - what Postern knows about message header names.
 *
 * header_opts_find(name, len) looks a header name up (case-insensitive,
 * len bytes, without the colon) and returns its HEADER_OPTS entry, or
 * NULL for a header without special meaning. Each entry has a type
 * (HDR_*) and flags:
 *   HDR_OPT_SENDER   an address header of the sender class (From, Sender,
 *                    Reply-To, Errors-To, Return-Receipt-To, Resent-...)
 *   HDR_OPT_RECIP    an address header of the recipient class (To, Cc,
 *                    Bcc, Apparently-To, Resent-To/Cc/Bcc)
 *   HDR_OPT_EXTRACT  recipients for sendmail -t (To, Cc, Bcc and the
 *                    Resent- forms)
 *   HDR_OPT_RR       a Resent- header
 *   HDR_OPT_MIME     a MIME header (Content-*, MIME-Version)
 *
 * message_drop_headers: header_opts_drop_init(list) sets the names to drop
 * (comma/space separated, case-insensitive; replaces the previous list);
 * header_opts_drop(name, len) tells whether a name is on it.
 *
 * Errors: none.
 */
#ifndef HEADER_OPTS_H
#define HEADER_OPTS_H

#include <stdbool.h>
#include <stddef.h>

typedef struct HEADER_OPTS {
    const char *name; /* canonical spelling */
    int type;         /* HDR_* */
    unsigned flags;   /* HDR_OPT_* */
} HEADER_OPTS;

enum {
    HDR_OTHER,
    HDR_APPARENTLY_TO,
    HDR_BCC,
    HDR_CC,
    HDR_CONTENT_DESCRIPTION,
    HDR_CONTENT_DISPOSITION,
    HDR_CONTENT_ID,
    HDR_CONTENT_LENGTH,
    HDR_CONTENT_TRANSFER_ENCODING,
    HDR_CONTENT_TYPE,
    HDR_DATE,
    HDR_DELIVERED_TO,
    HDR_ERRORS_TO,
    HDR_FROM,
    HDR_MESSAGE_ID,
    HDR_MIME_VERSION,
    HDR_RECEIVED,
    HDR_REPLY_TO,
    HDR_RESENT_BCC,
    HDR_RESENT_CC,
    HDR_RESENT_DATE,
    HDR_RESENT_FROM,
    HDR_RESENT_MESSAGE_ID,
    HDR_RESENT_REPLY_TO,
    HDR_RESENT_SENDER,
    HDR_RESENT_TO,
    HDR_RETURN_PATH,
    HDR_RETURN_RECEIPT_TO,
    HDR_SENDER,
    HDR_TO,
    HDR_X_ORIGINAL_TO,
};

#define HDR_OPT_SENDER  (1 << 0)
#define HDR_OPT_RECIP   (1 << 1)
#define HDR_OPT_EXTRACT (1 << 2)
#define HDR_OPT_RR      (1 << 3)
#define HDR_OPT_MIME    (1 << 4)

extern const HEADER_OPTS *header_opts_find(const char *name, size_t len);
extern void header_opts_drop_init(const char *names);
extern bool header_opts_drop(const char *name, size_t len);

#endif
