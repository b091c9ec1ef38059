/*
 * smtp.h - the state of the smtp(8)/lmtp(8) delivery agent
 * (spec/delivery.md 6 and 7). One program: started as "lmtp" (argv[0]'s
 * basename) it speaks LMTP, else SMTP.
 *
 * Modules:
 *   smtp.c          main(), parameters (smtp_* or lmtp_* twins), the
 *                   per-request loop over destinations and addresses
 *                   (fallback relays, session limits, final reports).
 *   smtp_addr.c     next-hop parsing, MX and address lookup, MX ordering
 *                   and shuffling, "loops back to myself" pruning.
 *   smtp_proto.c    one SMTP/LMTP session: greeting, EHLO/LHLO/HELO,
 *                   XFORWARD, MAIL/RCPT/DATA (pipelined when offered),
 *                   message transfer with dot-stuffing, replies.
 *   smtp_chat.c     reading and parsing server replies, xtext, sending
 *                   commands with the stage texts used on timeouts.
 *   smtp_trouble.c  recording recipient results (sent/defer/bounce) and
 *                   the hop status for destination-wide failures.
 *   smtp_dead.c     the per-process memory of unreachable addresses.
 *   smtp_bestmx.c   best_mx_transport: hand-off when this host is best MX.
 *   smtp_tls.c      TLS policy, STARTTLS and wrapper mode.
 *   smtp_sasl.c     SASL authentication (smtp_sasl_password_maps).
 *
 * Dead hosts: a connect to ADDR:PORT that fails (refused, timed out,
 * unreachable) is logged as "connect to H[A]:P: REASON" (unless it was
 * the last address, whose failure ends up in the delivery status) and
 * remembered by this process for SMTP_DEAD_TTL seconds; a successful
 * connect forgets it. smtp_addr_resolve() moves remembered addresses
 * behind all other addresses of the destination (stable, so MX order is
 * kept within both groups). A dead host is therefore not waited for on
 * every message while other hosts work, but is still tried when all
 * others fail, and again once the time has passed.
 *
 *   smtp_cache.c    connection caching, in this process for a moment and
 *                   through scache(8): a cached session for the
 *                   destination before connecting, and at the clean end
 *                   of a session (instead of QUIT) the hand-over to the
 *                   cache (conn_use=N in the log).
 */
#ifndef SMTP_H
#define SMTP_H

#include <stdbool.h>
#include <time.h>

#include "argv.h"
#include "deliver_request.h"
#include "dsn.h"
#include "vstream.h"
#include "vstring.h"

/* Parameters, from smtp_* or (LMTP mode) their lmtp_* twins. */
typedef struct SMTP_PARAMS {
    int connect_timeout;
    int helo_timeout;
    int xforward_timeout;
    int mail_timeout;
    int rcpt_timeout;
    int data_init_timeout;
    int data_xfer_timeout;
    int data_done_timeout;
    int quit_timeout;
    bool skip_5xx_greeting;
    bool send_xforward;
    bool randomize;
    bool always_ehlo;
    bool never_ehlo;
    bool defer_if_no_mx_address;
    int mx_address_limit;
    int mx_session_limit;
    const char *helo_name;
    const char *discard_keywords;
    const char *host_lookup; /* "dns", "native", "dns, native" */
    const char *tcp_port;    /* default port (name or number) */
    const char *fallback_relay;
    bool dns_disabled;
} SMTP_PARAMS;

extern SMTP_PARAMS smtp_params;
extern bool smtp_lmtp_mode;

/* One parsed destination (next hop). */
#define SMTP_DEST_DOMAIN 0 /* MX lookup */
#define SMTP_DEST_HOST   1 /* [host]: address lookup only */
#define SMTP_DEST_ADDR   2 /* [addr], [ipv6:addr]: no lookup */
#define SMTP_DEST_UNIX   3 /* LMTP unix:/path */

typedef struct SMTP_DEST {
    int kind;      /* SMTP_DEST_* */
    char *name;    /* domain, host, address or socket path */
    unsigned port; /* network byte order NOT used: host order */
    bool port_given;
} SMTP_DEST;

/* One address to try. */
typedef struct SMTP_ADDR {
    char *host;    /* MX host name or the address itself */
    char addr[64]; /* printable address */
    int pref;      /* MX preference; 0 for host lookups */
    bool dnssec_valid; /* the address records were DNSSEC-validated (DANE) */
} SMTP_ADDR;

typedef struct SMTP_ADDR_LIST {
    SMTP_ADDR *info;
    int len;
    int avail;
    int best_pref; /* preference of the best MX record (before pruning) */
    bool i_am_mx;  /* one of our addresses was in the MX list */
    bool mx_lookup;      /* the addresses came from an MX lookup */
    bool mx_dnssec_valid; /* ... whose answer was DNSSEC-validated (DANE) */
} SMTP_ADDR_LIST;

/* Results of smtp_addr_resolve(). */
#define SMTP_RESOLVE_OK   0 /* list has addresses */
#define SMTP_RESOLVE_FAIL 1 /* why is set (status 4.x.x or 5.x.x) */

/* Server features from the EHLO/LHLO reply. */
#define SMTP_FEAT_ESMTP      (1 << 0)
#define SMTP_FEAT_PIPELINING (1 << 1)
#define SMTP_FEAT_SIZE       (1 << 2)
#define SMTP_FEAT_8BITMIME   (1 << 3)
#define SMTP_FEAT_DSN        (1 << 4)
#define SMTP_FEAT_SMTPUTF8   (1 << 5)
#define SMTP_FEAT_XFORWARD   (1 << 6)
#define SMTP_FEAT_STARTTLS   (1 << 7)
#define SMTP_FEAT_BEST_MX    (1 << 8) /* this server is a best-preference MX */
#define SMTP_FEAT_AUTH       (1 << 9) /* AUTH offered: session->sasl_mechanisms */

/* XFORWARD attributes the server announced. */
#define SMTP_XFWD_NAME   (1 << 0)
#define SMTP_XFWD_ADDR   (1 << 1)
#define SMTP_XFWD_PORT   (1 << 2)
#define SMTP_XFWD_PROTO  (1 << 3)
#define SMTP_XFWD_HELO   (1 << 4)
#define SMTP_XFWD_IDENT  (1 << 5)
#define SMTP_XFWD_SOURCE (1 << 6)

/* One server reply. */
typedef struct SMTP_RESP {
    int code;       /* 0 when malformed */
    char dsn[16];   /* "2.0.0"-style status (from the text or derived) */
    VSTRING *text;  /* the reply, lines joined by spaces */
    VSTRING *first; /* the first line, without the code */
    ARGV *lines;    /* each line without its code and separator */
} SMTP_RESP;

/* One session with one server. */
typedef struct SMTP_SESSION {
    VSTREAM *stream;
    char *host;        /* name for logging */
    char *addr;        /* printable address or the socket path */
    unsigned port;     /* 0 for UNIX sockets */
    char *namaddr;     /* host[addr] */
    char *relay;       /* host[addr]:port or myhostname[/path] */
    int features;      /* SMTP_FEAT_* */
    int xforward;      /* SMTP_XFWD_* */
    long size_limit;   /* SIZE value, 0 if none */
    const char *stage; /* the current conversation stage, for errors */
    /* Connection cache (smtp_cache.c). */
    int reuse_count;  /* deliveries over this connection before this one */
    time_t first_use; /* when the connection was first used; 0: now */
    bool cache_ok;    /* ended cleanly and wanted: save, do not close */
    /* SASL (smtp_sasl.c). */
    char *sasl_mechanisms; /* AUTH keyword values of the last EHLO, or NULL */
    /* TLS (smtp_tls.c). */
    int tls_level;                      /* TLS_LEV_* for this server */
    struct TLS_SESS_STATE *tls_context; /* non-NULL while encrypted */
} SMTP_SESSION;

/* Per-request state. */
#define SMTP_RCPT_PENDING  0
#define SMTP_RCPT_DONE     1 /* reported: sent, bounced or deferred */
#define SMTP_RCPT_ACCEPTED 2 /* this session: RCPT got 2xx */
#define SMTP_RCPT_SOFT     3 /* this session: RCPT got 4xx, retry elsewhere */

typedef struct SMTP_STATE {
    DELIVER_REQUEST *request;
    int *rcpt_stat;          /* SMTP_RCPT_* per recipient */
    int status;              /* DEL_STAT_FINAL or DEL_STAT_DEFER */
    DSN_BUF *why;            /* the last failure not yet reported */
    char *why_relay;         /* its relay= text */
    int why_reuse;           /* its session's reuse count (conn_use=) */
    bool why_site;           /* the failure concerned the whole destination */
    bool last_addr;          /* the session uses the last address to try */
    bool config_problem;     /* the destination is relayhost or a fallback */
    const char *config_name; /* "relayhost" or "smtp_fallback_relay" */
    const char *nexthop;     /* the destination being tried */
    /* TLS (smtp_tls.c): the policy of the destination and current host. */
    struct SMTP_TLS_POLICY *tls;
    bool tls_retry_plain; /* "may" handshake failed: same address, no TLS */
    const char *dest_text;   /* the same as written: "[host]:587" (SASL key) */
    /* A cached session whose server answered 4xx to a RCPT: that server
     * is not asked again in this delivery (smtp.c). NULL if none. */
    char *soft_addr;
    unsigned soft_port;
} SMTP_STATE;

/* smtp_addr.c */
extern const char *smtp_dest_parse(SMTP_DEST *dest, const char *text, const char *def_port, bool lmtp);
extern void smtp_dest_free(SMTP_DEST *dest);
extern int smtp_port_lookup(const char *service, unsigned *port);
extern void smtp_addr_list_init(SMTP_ADDR_LIST *list);
extern void smtp_addr_list_add(SMTP_ADDR_LIST *list, const char *host, const char *addr, int pref);
extern void smtp_addr_list_free(SMTP_ADDR_LIST *list);
extern void smtp_addr_sort(SMTP_ADDR_LIST *list, bool randomize, unsigned (*rnd)(void));
extern int smtp_addr_prune_self(SMTP_ADDR_LIST *list, bool (*is_own)(const char *addr));
extern int smtp_addr_resolve(const SMTP_DEST *dest, SMTP_ADDR_LIST *list, DSN_BUF *why);
extern bool smtp_addr_is_own(const char *addr);

/* smtp_dead.c */
#define SMTP_DEAD_TTL 60 /* seconds an unreachable address stays last */
extern void smtp_dead_mark(const char *addr, unsigned port, time_t now);
extern void smtp_dead_clear(const char *addr, unsigned port);
extern bool smtp_dead_check(const char *addr, unsigned port, time_t now);
extern int smtp_dead_reorder(SMTP_ADDR_LIST *list, unsigned port, time_t now);

/* smtp_bestmx.c */
extern void smtp_best_mx_pass(SMTP_STATE *state, const char *transport);

/* smtp_cache.c */
extern void smtp_cache_init(void);
extern SMTP_SESSION *smtp_cache_find(SMTP_STATE *state);
extern bool smtp_cache_prepare(SMTP_STATE *state, SMTP_SESSION *session, SMTP_RESP *resp, bool txn_done);
extern bool smtp_cache_save(SMTP_STATE *state, SMTP_SESSION *session);
extern void smtp_cache_exit(void);

/* smtp_chat.c */
extern SMTP_RESP *smtp_resp_create(void);
extern void smtp_resp_free(SMTP_RESP *resp);
extern int smtp_resp_parse_line(const char *line, int *code, bool *more, const char **text);
extern void smtp_resp_finish(SMTP_RESP *resp);
extern int smtp_chat_resp(SMTP_SESSION *session, SMTP_RESP *resp, int timeout);
extern int smtp_chat_cmd(SMTP_SESSION *session, int timeout, const char *fmt, ...) PRINTFLIKE(3, 4);
extern void smtp_xtext_encode(VSTRING *out, const char *text);

/* smtp_tls.c: the TLS policy per destination (smtp_tls_security_level,
 * smtp_tls_policy_maps, DANE), wrapper mode and STARTTLS.
 * smtp_tls_init() runs once after the configuration is read (client
 * context, policy tables). smtp_tls_wrap() starts TLS right after the
 * connect in wrapper mode (smtp_tls_wrappermode), before the greeting;
 * smtp_tls_starttls() runs after EHLO: STARTTLS and EHLO again as the
 * level demands. Both return 0 to go on, or SMTP_PROTO_SITE/FINAL with
 * the recipients' status recorded. smtp_tls_end() ends TLS before the
 * stream is closed (no close_notify after a stream error). */
extern void smtp_tls_init(void);
extern int smtp_tls_wrap(SMTP_STATE *state, SMTP_SESSION *session);
extern int smtp_tls_starttls(SMTP_STATE *state, SMTP_SESSION *session, SMTP_RESP *resp);
extern void smtp_tls_end(SMTP_SESSION *session);

/* The TLS policy (smtp_tls_policy.c). smtp_tls_policy_dest() finds the
 * level and attributes of one destination (DEST_TEXT as routed:
 * "example.com", "[mx.example.net]:587") into state->tls; -1 with
 * state->why set on a configuration problem. smtp_tls_policy_host()
 * settles the level for one address (DANE: TLSA lookup); -1 with
 * state->why set when the address must not be used. smtp_tls_cache_ok():
 * may a cached plaintext connection serve the request's next hop?
 * smtp_tls_policy_done() releases state->tls. */
extern int smtp_tls_policy_dest(SMTP_STATE *state, const char *dest_text, const SMTP_DEST *dest);
extern int smtp_tls_policy_host(SMTP_STATE *state, const SMTP_DEST *dest, const SMTP_ADDR_LIST *list,
                                const SMTP_ADDR *addr);
extern bool smtp_tls_cache_ok(SMTP_STATE *state);
extern void smtp_tls_policy_done(SMTP_STATE *state);

/* smtp_sasl.c: AUTH after EHLO (and after STARTTLS) when
 * smtp_sasl_auth_enable and smtp_sasl_password_maps have credentials for
 * this server; 0 to go on, or SMTP_PROTO_SITE/FINAL. smtp_sasl_init()
 * runs once before privileges are dropped (it opens the password tables). */
extern void smtp_sasl_init(void);
extern int smtp_sasl_authenticate(SMTP_STATE *state, SMTP_SESSION *session, SMTP_RESP *resp);

/* smtp_proto.c */
extern void smtp_session_free(SMTP_SESSION *session);
extern int smtp_ehlo(SMTP_STATE *state, SMTP_SESSION *session, SMTP_RESP *resp);
#define SMTP_PROTO_OK    0 /* session done; recipients reported or kept */
#define SMTP_PROTO_SITE  1 /* try the next address; state->why set */
#define SMTP_PROTO_FINAL 2 /* stop trying addresses */
extern int smtp_proto(SMTP_STATE *state, SMTP_SESSION *session);

/* smtp_trouble.c */
extern void smtp_rcpt_report(SMTP_STATE *state, int idx, const char *relay, const DSN_BUF *why, int how);
extern void smtp_report_pending(SMTP_STATE *state, const char *relay, const DSN_BUF *why, int how);
extern void smtp_site_fail(SMTP_STATE *state, const char *relay, const char *status, const char *reply,
                           const char *mta, const char *fmt, ...) PRINTFLIKE(6, 7);
extern int smtp_stream_fail(SMTP_STATE *state, SMTP_SESSION *session);

#define SMTP_REPORT_SENT   0
#define SMTP_REPORT_DEFER  1
#define SMTP_REPORT_BOUNCE 2
#define SMTP_REPORT_AUTO   3 /* by the status class: 2 sent, 4 defer, 5 bounce */

#endif
