/*
 * rec_type - the record types of Postern's queue files and of the record
 * stream that clients send to cleanup.
 *
 * A queue file is a sequence of records (record.h). The layout written by
 * cleanup (docs/queue-file.md has the full description):
 *
 *   envelope segment   SIZE TIME ATTR* FULL? SENDER (ORCPT? DSN_* RCPT)* ...
 *   MESG               start of the message content
 *   content segment    NORM/CONT records: the message, headers then body
 *   XTRA               start of the extracted segment
 *   extracted segment  ATTR* (ORCPT? DSN_* RCPT)* ... (recipients found in
 *                      headers, added by checks, and trailing attributes)
 *   END
 *
 * The queue manager marks a recipient delivered by overwriting the type
 * byte of its RCPT record with DONE, in place; that is why RCPT records
 * never move once written. Unknown types make a queue file corrupt.
 */
#ifndef REC_TYPE_H
#define REC_TYPE_H

#define REC_TYPE_SIZE       'C' /* fixed-width size record, first in the file */
#define REC_TYPE_TIME       'T' /* arrival time: "SECONDS MICROSECONDS" */
#define REC_TYPE_CTIME      'c' /* file creation time: "SECONDS MICROSECONDS" */
#define REC_TYPE_FULL       'F' /* sender full name (for an added From:) */
#define REC_TYPE_FROM       'S' /* envelope sender ("" = null sender) */
#define REC_TYPE_ATTR       'A' /* named attribute "name=value" */
#define REC_TYPE_ORCP       'O' /* original recipient of the next RCPT */
#define REC_TYPE_DSN_ORCPT  'o' /* DSN ORCPT of the next RCPT ("rfc822;addr") */
#define REC_TYPE_DSN_NOTIFY 'n' /* DSN NOTIFY bits of the next RCPT (decimal) */
#define REC_TYPE_RCPT       'R' /* recipient, pending */
#define REC_TYPE_DONE       'D' /* recipient, delivered or bounced (was RCPT) */
#define REC_TYPE_DRCP       'd' /* recipient, dropped before queueing (was RCPT) */
#define REC_TYPE_WARN       'W' /* delay warning time (seconds since the epoch) */
#define REC_TYPE_MESG       'M' /* start of message content */
#define REC_TYPE_NORM       'N' /* a content line, end of line after it */
#define REC_TYPE_CONT       'L' /* part of a long content line, continued next */
#define REC_TYPE_XTRA       'X' /* start of the extracted segment */
#define REC_TYPE_END        'E' /* end of the file (or of the client's stream) */

/*
 * The SIZE record is written first with placeholder values and rewritten
 * in place when the file is complete, so its length never changes:
 * REC_SIZE_FORMAT with message_size (header + body bytes as delivered),
 * data_offset (file offset of the MESG record), rcpt_count (RCPT records
 * written), qmgr_flags (reserved, 0) and xtra_offset (file offset of the
 * XTRA record).
 */
#define REC_SIZE_FORMAT "%15lld %15lld %15d %15d %15lld"
#define REC_SIZE_LEN    79

/* Record types only seen on the client -> cleanup stream. */
#define REC_TYPE_FLGS 'f' /* cleanup flags (decimal) */

/* Results of rec_get() besides a record type. */
#define REC_TYPE_EOF   (-1) /* clean end of input before a record */
#define REC_TYPE_ERROR (-2) /* read error, truncated or over-long record */

/*
 * Named attributes (REC_TYPE_ATTR "name=value") that cleanup and the
 * queue manager understand. Others are kept and passed on.
 */
#define MAIL_ATTR_LOG_CLIENT_NAME "log_client_name"
#define MAIL_ATTR_LOG_CLIENT_ADDR "log_client_address"
#define MAIL_ATTR_LOG_CLIENT_PORT "log_client_port"
#define MAIL_ATTR_LOG_HELO_NAME   "log_helo_name"
#define MAIL_ATTR_LOG_PROTO_NAME  "log_protocol_name"
#define MAIL_ATTR_LOG_ORIGIN      "log_message_origin"
#define MAIL_ATTR_RWR_CONTEXT     "rewrite_context" /* "local" or "remote" */
#define MAIL_ATTR_ORIG_ID         "orig_id"         /* postsuper -r */
#define MAIL_ATTR_DSN_ENVID       "envelope_id"
#define MAIL_ATTR_DSN_RET         "dsn_ret"  /* DSN_RET_FULL, DSN_RET_HDRS */
#define MAIL_ATTR_ENCODING        "encoding" /* 7bit, 8bitmime */
#define MAIL_ATTR_SMTPUTF8        "smtputf8"
#define MAIL_ATTR_TRACE_FLAGS     "trace_flags"    /* sendmail -v, -bv */
#define MAIL_ATTR_FILTER          "content_filter" /* transport:nexthop */
#define MAIL_ATTR_REDIRECT        "redirect"       /* REDIRECT action */
#define MAIL_ATTR_HOLD_REASON     "hold_reason"
#define MAIL_ATTR_SASL_METHOD     "sasl_method"   /* smtpd AUTH mechanism */
#define MAIL_ATTR_SASL_USERNAME   "sasl_username" /* smtpd AUTH login */
#define MAIL_ATTR_SASL_SENDER     "sasl_sender"   /* MAIL FROM ... AUTH=<addr> */

/* Values of MAIL_ATTR_DSN_RET (Postfix's values; 0: not specified). */
#define DSN_RET_FULL 1
#define DSN_RET_HDRS 2

/* Bits of REC_TYPE_DSN_NOTIFY (Postfix's values). */
#define DSN_NOTIFY_NEVER   (1 << 0)
#define DSN_NOTIFY_SUCCESS (1 << 1)
#define DSN_NOTIFY_FAILURE (1 << 2)
#define DSN_NOTIFY_DELAY   (1 << 3)
#define DSN_NOTIFY_ANY     (DSN_NOTIFY_SUCCESS | DSN_NOTIFY_FAILURE | DSN_NOTIFY_DELAY)

/* Bits of MAIL_ATTR_TRACE_FLAGS (Postfix's values). */
#define DEL_REQ_FLAG_MTA_VRFY (1 << 9)  /* sendmail -bv: verify, do not deliver */
#define DEL_REQ_FLAG_RECORD   (1 << 10) /* sendmail -v: report the delivery */

#endif
