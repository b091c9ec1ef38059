/*
 * cleanup - the daemon that turns a submission into a queue file.
 *
 * Clients (pickup, smtpd, local forwarding, notices) connect to
 * public/cleanup (the stock master.cf makes it public, as Postfix does), receive a queue ID, and stream records (rec_type.h,
 * cleanup_user.h). cleanup processes each record as it arrives through
 * state->action, which moves through three stages:
 *
 *   cleanup_envelope()   FLGS TIME FULL FROM ATTR ORCP/DSN_* RCPT ... MESG
 *                        (cleanup_envelope.c: addresses are canonicalised,
 *                        masqueraded, BCC'ed, aliased, deduplicated)
 *   cleanup_message()    NORM/CONT ... XTRA
 *                        (cleanup_message.c: header and body processing,
 *                        MIME, checks, missing headers, size and hop limits)
 *   cleanup_extracted()  ATTR RCPT ... END
 *                        (cleanup_extracted.c: recipients from headers with
 *                        sendmail -t, trailing attributes; END sets done)
 *
 * The frame (cleanup.c, cleanup_state.c, cleanup_final.c, cleanup_out.c)
 * owns the connection, the queue file and the commit: completed files
 * are made durable in batches (group commit) before any client hears
 * "status=0".
 *
 * Ownership of the pieces, so each stage can change on its own:
 *   frame:     cleanup.c cleanup_state.c cleanup_out.c cleanup_final.c
 *   envelope:  cleanup_envelope.c cleanup_extracted.c cleanup_addr.c
 *              cleanup_map11.c cleanup_map1n.c cleanup_masq.c
 *              cleanup_rewrite.c cleanup_out_recipient.c cleanup_header_addr.c
 *   content:   cleanup_message.c cleanup_checks.c cleanup_missing.c
 *
 * Errors: a stage that cannot go on sets a CLEANUP_STAT_* bit in
 * state->errs with cleanup_set_error() (the first reason text wins); from
 * then on records are read and dropped, and the client gets the error.
 */
#ifndef CLEANUP_H
#define CLEANUP_H

#include <stdbool.h>
#include <sys/time.h>
#include <sys/types.h>

#include "argv.h"
#include "htable.h"
#include "maps.h"
#include "sys_defs.h"
#include "vstream.h"
#include "vstring.h"

typedef struct CLEANUP_STATE CLEANUP_STATE;
typedef void (*CLEANUP_ACTION)(CLEANUP_STATE *state, int type, const char *buf, size_t len);

struct CLEANUP_STATE {
    /* --- frame: connection and queue file --- */
    VSTREAM *client;           /* the client connection */
    VSTRING *inbuf;            /* bytes received, not yet parsed into records */
    VSTREAM *dst;              /* the queue file being written */
    char *queue_id;
    char *queue_name;          /* where the file is: "incoming" */
    struct timeval create_time; /* file creation */
    struct timeval arrival_time; /* REC_TYPE_TIME, else create_time */
    CLEANUP_ACTION action;     /* handler of the next record */
    bool done;                 /* END seen: ready to commit */
    int flags;                 /* CLEANUP_FLAG_* from the client */
    unsigned errs;             /* CLEANUP_STAT_* bits */
    VSTRING *reason;           /* first error text, "5.7.1 ..." style */
    VSTRING *temp1;            /* scratch */
    VSTRING *temp2;

    /* --- envelope: filled by the envelope stage --- */
    char *fullname;            /* REC_TYPE_FULL */
    char *sender;              /* after rewriting; NULL until seen */
    char *orig_sender;         /* as received */
    char *orig_rcpt;           /* pending REC_TYPE_ORCP for the next RCPT */
    char *dsn_orcpt;           /* pending REC_TYPE_DSN_ORCPT */
    int dsn_notify;            /* pending REC_TYPE_DSN_NOTIFY */
    HTABLE *attr;              /* named attributes received (name -> value) */
    const char *rewrite_context; /* "local" or "remote" (points into attr or a literal) */
    const char *client_name;   /* log_client_name, NULL if unknown */
    const char *client_addr;
    const char *protocol;      /* log_protocol_name */
    const char *helo;          /* log_helo_name */
    int rcpt_count;            /* recipient records written */
    char *first_rcpt;          /* first recipient written, for log lines (to=<>) */
    HTABLE *dups;              /* duplicate filter: "addr\norcpt\nnotify" */
    ARGV *extracted;           /* recipients taken from headers (sendmail -t) */
    ARGV *header_bcc;          /* BCC action results, written at the end */
    char *redirect;            /* REDIRECT action: replaces all recipients */
    char *filter;              /* FILTER action or content_filter */
    off_t data_offset;         /* offset of the MESG record */
    off_t xtra_offset;         /* offset of the XTRA record */

    /* --- content: filled by the content stage --- */
    void *mime;                /* MIME_STATE, owned by the content stage */
    long long cont_length;     /* message bytes as delivered (headers + body) */
    int hop_count;             /* Received: headers seen */
    unsigned headers_seen;     /* CLEANUP_HDR_* bits */
    char *message_id;          /* Message-ID value, for the log */
    char *hold_reason;         /* HOLD action text */
    bool discard;              /* DISCARD action */
};

/* Which headers the message had (content stage). */
#define CLEANUP_HDR_FROM        (1 << 0)
#define CLEANUP_HDR_DATE        (1 << 1)
#define CLEANUP_HDR_MESSAGE_ID  (1 << 2)
#define CLEANUP_HDR_TO_CC       (1 << 3) /* To: or Cc: */
#define CLEANUP_HDR_RESENT      (1 << 4) /* any Resent- header */
#define CLEANUP_HDR_RESENT_FROM (1 << 5)
#define CLEANUP_HDR_RESENT_DATE (1 << 6)
#define CLEANUP_HDR_RESENT_MID  (1 << 7)
#define CLEANUP_HDR_RESENT_TO_CC (1 << 8)
#define CLEANUP_HDR_BCC         (1 << 9)

/* Address classes for header rewriting (cleanup_rewrite_header()). */
#define CLEANUP_CLASS_SENDER    1
#define CLEANUP_CLASS_RECIPIENT 2

/* frame: cleanup_state.c, cleanup_out.c */
extern CLEANUP_STATE *cleanup_state_alloc(VSTREAM *client);
extern CLEANUP_STATE *cleanup_state_free(CLEANUP_STATE *state);
extern void cleanup_set_error(CLEANUP_STATE *state, unsigned status, const char *fmt, ...) PRINTFLIKE(3, 4);
extern void cleanup_out(CLEANUP_STATE *state, int type, const char *data, size_t len);
extern void cleanup_out_string(CLEANUP_STATE *state, int type, const char *str);
extern void cleanup_out_format(CLEANUP_STATE *state, int type, const char *fmt, ...) PRINTFLIKE(3, 4);
extern const char *cleanup_log_context(CLEANUP_STATE *state, VSTRING *buf);

/* envelope stage */
extern void cleanup_addr_init(void);  /* open canonical, virtual, bcc maps, masquerade lists */
extern void cleanup_envelope(CLEANUP_STATE *state, int type, const char *buf, size_t len);
extern void cleanup_extracted(CLEANUP_STATE *state, int type, const char *buf, size_t len);
extern void cleanup_rewrite_header(CLEANUP_STATE *state, VSTRING *header, int class_);
extern void cleanup_extract_header(CLEANUP_STATE *state, const char *value);

/* content stage */
extern void cleanup_message_init(void); /* open header/body check tables */
extern void cleanup_message(CLEANUP_STATE *state, int type, const char *buf, size_t len);
extern void cleanup_message_free(CLEANUP_STATE *state);

#endif
