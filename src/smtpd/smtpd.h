/*
 * smtpd - the state of one SMTP session, shared by the modules of the SMTP
 * server (spec/smtpd.md).
 *
 * Modules and who owns what:
 *   smtpd.c         main(), the command loop and every command (HELO ...
 *                   BDAT, XCLIENT, XFORWARD), the conversation with
 *                   cleanup, the Received: header, the disconnect log.
 *   smtpd_chat.c    replies (soft_bounce, footer, tarpit), command input
 *                   (line_length_limit, bare <LF> policy): smtpd_chat.h.
 *   smtpd_token.c   command argument tokens; smtpd_addr.c envelope address
 *                   syntax (smtpd_token.h); both are fuzz targets.
 *   smtpd_peer.c    client identity: name, reverse name, address, port.
 *   smtpd_check.c   the restriction engine and recipient validation
 *                   (smtpd_check.h); private state behind state->check.
 *   smtpd_policy.c  check_policy_service clients (smtpd_policy.h).
 *   smtpd_log.c     smtpd_log_event(): "reject:", "hold:", ... log lines.
 *   smtpd_tls.c     STARTTLS, wrapper mode, TLS levels (smtpd_tls.h).
 *   smtpd_sasl.c    AUTH and the announced mechanisms (smtpd_sasl.h).
 *
 * Life cycle: smtpd_state_init() when a client connects (the peer fields
 * are then filled by smtpd_peer_init()), smtpd_state_reset_transaction()
 * after each message or RSET (and by HELO/EHLO), smtpd_state_free() at
 * disconnect. XCLIENT replaces the peer fields and starts over at the
 * greeting; XFORWARD only fills state->xforward.
 *
 * String fields are owned by the state (mystrdup/myfree) unless marked
 * otherwise; NULL means "not known yet" (no HELO, no MAIL, ...).
 */
#ifndef SMTPD_H
#define SMTPD_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "argv.h"
#include "sys_defs.h"
#include "vstream.h"
#include "vstring.h"

/* Peer lookup status (name_status, reverse_name_status). */
#define SMTPD_PEER_CODE_OK     2 /* name known (and for name: confirmed) */
#define SMTPD_PEER_CODE_TEMP   4 /* lookup failed temporarily */
#define SMTPD_PEER_CODE_PERM   5 /* no name */
#define SMTPD_PEER_CODE_FORGED 6 /* PTR name does not resolve back */

/* Session flags. */
#define SMTPD_FLAG_HANGUP       (1 << 0) /* a 421/521 was sent: disconnect */
#define SMTPD_FLAG_ILL_PIPELINE (1 << 1) /* improper pipelining seen (reject_unauth_pipelining) */
#define SMTPD_FLAG_AUTH_USED    (1 << 2) /* MAIL had AUTH= (for the security issue) */
#define SMTPD_FLAG_SMTPUTF8     (1 << 3) /* MAIL ... SMTPUTF8 */
#define SMTPD_FLAG_BARE_LF      (1 << 4) /* a bare <LF> was seen (notes=bare_lf) */
#define SMTPD_FLAG_ESMTP        (1 << 5) /* EHLO (not HELO) was used */
#define SMTPD_FLAG_NO_ESC       (1 << 6) /* ENHANCEDSTATUSCODES discarded: replies without them */

/* XFORWARD attributes: logging only, reset after each message. */
typedef struct SMTPD_XFORWARD {
    char *name;     /* NAME=, "unknown" if unavailable */
    char *addr;     /* ADDR= */
    char *port;     /* PORT= */
    char *protocol; /* PROTO= */
    char *helo;     /* HELO= */
    char *ident;    /* IDENT= (original queue id) */
    char *source;   /* SOURCE= LOCAL or REMOTE */
    bool used;      /* any attribute was given */
} SMTPD_XFORWARD;

struct SMTPD_CHECK_STATE; /* smtpd_check.c */

typedef struct SMTPD_STATE {
    VSTREAM *client;     /* the SMTP client connection */
    VSTRING *buffer;     /* the last command line (smtpd_chat_query) */
    int flags;           /* SMTPD_FLAG_* */
    const char *service; /* master.cf service name (not owned) */

    /* Client identity (smtpd_peer.c; replaced by XCLIENT). */
    char *name;         /* verified client name, "unknown" */
    char *reverse_name; /* unverified PTR name, "unknown" */
    char *addr;         /* printable address "192.0.2.10", "2001:db8::1" */
    char *rfc_addr;     /* "192.0.2.10", "IPv6:2001:db8::1" (Received:) */
    char *port;         /* client port, "0" if unknown */
    char *namaddr;      /* "name[addr]" for replies and logs */
    int addr_family;    /* AF_INET, AF_INET6, AF_UNSPEC (local/-S) */
    int name_status;    /* SMTPD_PEER_CODE_* */
    int reverse_name_status;
    char *dest_addr; /* server address the client connected to */
    char *dest_port; /* server port */

    /* Session. */
    char *helo_name;   /* HELO/EHLO argument (non-printables -> '?') */
    char *protocol;    /* "SMTP", "ESMTP" (plus S/A suffixes in Received:) */
    const char *where; /* protocol stage for logs and policy: "CONNECT", "EHLO",
                          "HELO", "MAIL", "RCPT", "DATA", "END-OF-MESSAGE",
                          "VRFY", "ETRN" (static strings) */
    int error_count;   /* errors so far (smtpd_*_error_limit) */
    int junk_cmds;     /* junk commands so far (smtpd_junk_command_limit) */
    bool stress;       /* all smtpd processes busy ("stress" in policy) */
    char *instance;    /* policy "instance": same for one message */
    int seqno;         /* message number in this session (for instance) */

    /* Transaction: set by MAIL, cleared by smtpd_state_reset_transaction(). */
    char *sender;            /* MAIL FROM address, "" for <> */
    char *recipient;         /* the RCPT or VRFY address being checked */
    const char *etrn_domain; /* the ETRN argument while it is checked (not owned) */
    int rcpt_count;          /* accepted recipients */
    char *queue_id;          /* set when the cleanup connection is opened */
    VSTREAM *cleanup;        /* connection to cleanup, or NULL */
    off_t msg_size;          /* MAIL SIZE= value, 0 if none */
    off_t act_size;          /* bytes of content received so far */
    char *encoding;          /* BODY= value or NULL */
    char *dsn_envid;         /* ENVID= (xtext decoded) or NULL */
    int dsn_ret;             /* DSN_RET_* from dsn.h, 0 if none */
    char *verp_delims;       /* XVERP delimiters or NULL */
    bool bdat_seen;          /* BDAT started in this transaction */

    /* Side effects of access-map actions, applied when the message is
     * accepted (smtpd_check.c sets them; smtpd.c uses them at DATA/end). */
    ARGV *prepend;        /* PREPEND header lines, in order */
    char *saved_filter;   /* FILTER transport:destination (last wins) */
    char *saved_redirect; /* REDIRECT address (last wins) */
    ARGV *saved_bcc;      /* BCC addresses */
    int saved_flags;      /* CLEANUP_FLAG_HOLD, CLEANUP_FLAG_DISCARD */
    char *discard_reason; /* the text that caused DISCARD, for the log */

    /* SASL (smtpd_sasl.c): set by a successful AUTH, NULL before. */
    char *sasl_method;                /* "PLAIN" */
    char *sasl_username;              /* login name */
    char *sasl_sender;                /* MAIL FROM ... AUTH=<addr> */
    struct XSASL_SERVER *sasl_server; /* backend session, NULL if AUTH is off */
    char *sasl_mechanism_list;        /* what EHLO announces, NULL: no AUTH */

    /* TLS (smtpd_tls.c): set once the session is encrypted, NULL before. */
    char *tls_protocol; /* "TLSv1.3" */
    char *tls_cipher;   /* "TLS_AES_256_GCM_SHA384" */
    int tls_cipher_bits;
    struct TLS_SESS_STATE *tls_context;

    SMTPD_XFORWARD xforward;
    struct SMTPD_CHECK_STATE *check; /* restriction engine state */
} SMTPD_STATE;

/* Protocol stage names for state->where. */
#define SMTPD_AFTER_CONNECT "CONNECT"
#define SMTPD_CMD_EHLO      "EHLO"
#define SMTPD_CMD_HELO      "HELO"
#define SMTPD_CMD_MAIL      "MAIL"
#define SMTPD_CMD_RCPT      "RCPT"
#define SMTPD_CMD_DATA      "DATA"
#define SMTPD_CMD_BDAT      "BDAT"
#define SMTPD_AFTER_EOM     "END-OF-MESSAGE"
#define SMTPD_CMD_VRFY      "VRFY"
#define SMTPD_CMD_ETRN      "ETRN"

extern void smtpd_state_init(SMTPD_STATE *state, VSTREAM *client, const char *service);
extern void smtpd_state_reset_transaction(SMTPD_STATE *state);
extern void smtpd_state_free(SMTPD_STATE *state);

/* smtpd_peer.c: fill the identity fields from the connection. When the
 * client is not a socket (-S, sendmail -bs) the client is
 * "localhost[127.0.0.1]" as in Postfix. smtpd_peer_reset() frees them
 * (before XCLIENT replaces them). */
extern void smtpd_peer_init(SMTPD_STATE *state);
extern void smtpd_peer_reset(SMTPD_STATE *state);
/* Recompute state->namaddr after name/addr changed (XCLIENT). */
extern void smtpd_peer_namaddr(SMTPD_STATE *state);

/* smtpd_log.c: "QUEUEID: ACTION: WHERE from NAME[ADDR]: TEXT; from=<S>
 * to=<R> proto=P helo=<H>" (NOQUEUE before a queue file exists; fields
 * only when known; then sasl_method=, sasl_username=). ACTION is
 * "reject", "reject_warning", "hold", "discard", "filter", "redirect",
 * "bcc", "warn", "info", "prepend". The recipient logged is
 * state->recipient; WHERE is state->where. */
extern void smtpd_log_event(SMTPD_STATE *state, const char *action, const char *text);

#endif
