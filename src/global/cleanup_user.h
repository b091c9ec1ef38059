/*
 * cleanup_user - what a client of the cleanup service needs: request flags,
 * reply status bits, and their meaning.
 *
 * Conversation (docs/queue-file.md, "The cleanup protocol"):
 *   cleanup -> client   attr: queue_id
 *   client -> cleanup   records: FLGS, envelope, MESG, content, XTRA,
 *                       extracted, END
 *   cleanup -> client   attr: status (CLEANUP_STAT_* bits), reason (text
 *                       starting with an enhanced status code, or empty)
 * The reply comes only after the queue file and its directory entry are on
 * stable storage (or the message was discarded or rejected).
 *
 * cleanup_strerror(status) is the generic text of the most important bit
 * ("message file too big"); cleanup_stat_detail() gives the SMTP reply
 * code, the enhanced status code and the text smtpd sends for it.
 * input_transp_cleanup() turns receive_override_options into flags to
 * clear from a client's default flags.
 */
#ifndef CLEANUP_USER_H
#define CLEANUP_USER_H

/* Request flags (REC_TYPE_FLGS). */
#define CLEANUP_FLAG_NONE     0
#define CLEANUP_FLAG_BOUNCE   (1 << 0) /* local submission: bounce, do not reject */
#define CLEANUP_FLAG_FILTER   (1 << 1) /* run header/body checks */
#define CLEANUP_FLAG_HOLD     (1 << 2) /* put the message on hold */
#define CLEANUP_FLAG_DISCARD  (1 << 3) /* accept and drop */
#define CLEANUP_FLAG_BCC_OK   (1 << 4) /* always_bcc, sender_bcc_maps, recipient_bcc_maps */
#define CLEANUP_FLAG_MAP_OK   (1 << 5) /* canonical, masquerading, virtual aliases */
#define CLEANUP_FLAG_EXTRACT  (1 << 6) /* sendmail -t: recipients from headers */
#define CLEANUP_FLAG_SMTPUTF8 (1 << 7) /* the client requested SMTPUTF8 */
#define CLEANUP_FLAG_SMTP_REPLY (1 << 8) /* reply text suited for an SMTP client */

/* What a normal client asks for before receive_override_options. */
#define CLEANUP_FLAG_MASK_EXTERNAL (CLEANUP_FLAG_FILTER | CLEANUP_FLAG_BCC_OK | CLEANUP_FLAG_MAP_OK)
/* Notices and forwarded mail: no BCC, no checks. */
#define CLEANUP_FLAG_MASK_INTERNAL CLEANUP_FLAG_MAP_OK

/* Reply status bits. */
#define CLEANUP_STAT_OK    0
#define CLEANUP_STAT_BAD   (1 << 0) /* internal protocol error */
#define CLEANUP_STAT_WRITE (1 << 1) /* error writing the queue file */
#define CLEANUP_STAT_SIZE  (1 << 2) /* message_size_limit exceeded */
#define CLEANUP_STAT_CONT  (1 << 3) /* content rejected (reason has the text) */
#define CLEANUP_STAT_HOPS  (1 << 4) /* hopcount_limit reached */
#define CLEANUP_STAT_RCPT  (1 << 5) /* no recipients */
#define CLEANUP_STAT_DEFER (1 << 6) /* temporary failure (reason has the text) */
#define CLEANUP_STAT_PROXY (1 << 7) /* before-queue filter problem */

#define CLEANUP_STAT_LETHAL (CLEANUP_STAT_BAD | CLEANUP_STAT_WRITE | CLEANUP_STAT_SIZE | CLEANUP_STAT_CONT \
                             | CLEANUP_STAT_HOPS | CLEANUP_STAT_RCPT | CLEANUP_STAT_DEFER | CLEANUP_STAT_PROXY)

typedef struct CLEANUP_STAT_DETAIL {
    unsigned status; /* one CLEANUP_STAT_* bit */
    int smtp;        /* SMTP reply code: 451, 552, 554, ... */
    const char *dsn; /* enhanced status code: "4.3.0", "5.3.4", ... */
    const char *text; /* "Error: message file too big" */
} CLEANUP_STAT_DETAIL;

extern const char *cleanup_strerror(unsigned status);
extern const CLEANUP_STAT_DETAIL *cleanup_stat_detail(unsigned status);
extern int input_transp_cleanup(int flags, const char *options);

#endif
