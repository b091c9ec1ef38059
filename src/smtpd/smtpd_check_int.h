/*
 * smtpd_check_int - what the restriction engine's source files share
 * (smtpd_check.c: engine, access maps, relay and recipient validation;
 * smtpd_check_dns.c: the DNS-based restrictions). Not for other modules.
 *
 * Decisions: SMTPD_CHECK_DUNNO (go on), SMTPD_CHECK_OK (this list is
 * done), SMTPD_CHECK_REJECT (the reply is in state->check->reply).
 *
 *   smtpd_check_reject(state, err, code, dsn, reply_class, fmt, ...)
 *       format "CODE DSN TEXT" (the enhanced code adapted to the class
 *       and to CODE), apply defer_if_reject and warn_if_reject, log it;
 *       returns SMTPD_CHECK_REJECT, or DUNNO when only warned.
 *   smtpd_check_defer(state, which, code, dsn, reply_class, fmt, ...)
 *       remember a defer_if_permit or defer_if_reject reply.
 *   smtpd_check_tempfail(state, action_param, ...)
 *       apply a *_tempfail_action value to a 4xx reply.
 *   smtpd_check_table_result(state, table, value, reply_name, reply_class, no_ok)
 *       apply an access-map (or policy) action.
 *   smtpd_check_dns_*: the restrictions of smtpd_check_dns.c.
 */
#ifndef SMTPD_CHECK_INT_H
#define SMTPD_CHECK_INT_H

#include <stdbool.h>

#include "htable.h"
#include "resolve_clnt.h"
#include "smtpd.h"
#include "vstring.h"

#define SMTPD_CHECK_DUNNO  0
#define SMTPD_CHECK_OK     1
#define SMTPD_CHECK_REJECT 2

/* Error classes: only policy rejections honour warn_if_reject. */
#define SMTPD_ERR_POLICY   0
#define SMTPD_ERR_SOFTWARE 1
#define SMTPD_ERR_RESOURCE 2

/* Reply classes (the CLASS of "<NAME>: CLASS rejected: TEXT"). */
#define SMTPD_NAME_CLIENT     "Client host"
#define SMTPD_NAME_REV_CLIENT "Unverified Client host"
#define SMTPD_NAME_HELO       "Helo command"
#define SMTPD_NAME_SENDER     "Sender address"
#define SMTPD_NAME_RECIPIENT  "Recipient address"
#define SMTPD_NAME_ETRN       "Etrn command"
#define SMTPD_NAME_DATA       "Data command"
#define SMTPD_NAME_EOD        "End-of-data"

/* A remembered 4xx decision (defer_if_permit, defer_if_reject). */
typedef struct SMTPD_CHECK_DEFER {
    bool active;
    VSTRING *reply;
} SMTPD_CHECK_DEFER;

#define SMTPD_CHECK_STAGE_CLIENT 0
#define SMTPD_CHECK_STAGE_HELO   1
#define SMTPD_CHECK_STAGE_SENDER 2
#define SMTPD_CHECK_STAGES       3

struct SMTPD_CHECK_STATE {
    VSTRING *reply;        /* the reply being built / returned */
    VSTRING *saved;        /* a copy of a remembered reply */
    bool warn_if_reject;   /* applies to the next restriction */
    int recursion;         /* class nesting */
    SMTPD_CHECK_DEFER dip; /* defer_if_permit of this command */
    SMTPD_CHECK_DEFER dir; /* defer_if_reject of this stage */
    /* Client, helo and sender results of their last run. */
    char *stage_reply[SMTPD_CHECK_STAGES];
    SMTPD_CHECK_DEFER stage_dip[SMTPD_CHECK_STAGES];
    bool rcptmap_checked;   /* recipient validation ran for this RCPT */
    bool sendermap_checked; /* sender validation ran for this message */
    HTABLE *dns_cache;      /* DNS list answers of this session */
};

typedef struct SMTPD_CHECK_STATE SMTPD_CHECK_STATE;

#define SMTPD_DEFER_IF_PERMIT 1
#define SMTPD_DEFER_IF_REJECT 2

extern int smtpd_check_reject(SMTPD_STATE *state, int err, int code, const char *dsn, const char *reply_class,
                              const char *fmt, ...) PRINTFLIKE(6, 7);
extern void smtpd_check_defer(SMTPD_STATE *state, int which, int code, const char *dsn,
                              const char *reply_class, const char *fmt, ...) PRINTFLIKE(6, 7);
extern int smtpd_check_tempfail(SMTPD_STATE *state, const char *action, int code, const char *dsn,
                                const char *reply_class, const char *text);
extern int smtpd_check_table_result(SMTPD_STATE *state, const char *table, const char *value,
                                    const char *reply_name, const char *reply_class, bool no_ok);
extern bool smtpd_check_mynetworks_match(SMTPD_STATE *state, int *error);
extern const RESOLVE_REPLY *smtpd_check_resolve(SMTPD_STATE *state, const char *addr);
extern int smtpd_check_config_error(SMTPD_STATE *state, const char *reply_name, const char *reply_class);

/* smtpd_check_dns.c */
/* smtpd_check_tls.c: permit_tls_clientcerts, permit_tls_all_clientcerts,
 * check_ccert_access ARG (NAME is the restriction); init opens
 * relay_clientcerts. */
extern void smtpd_check_tls_init(void);
extern int smtpd_check_ccert(SMTPD_STATE *state, const char *name, const char *arg);

/* smtpd_check_sasl.c: the *_sender_login_mismatch restrictions (NAME);
 * init opens smtpd_sender_login_maps. */
extern void smtpd_check_sasl_init(void);
extern int smtpd_check_sender_login(SMTPD_STATE *state, const char *name);

extern void smtpd_check_dns_init(void);
extern void smtpd_check_dns_state_free(SMTPD_STATE *state);
extern int smtpd_check_dns_rbl_client(SMTPD_STATE *state, const char *spec, bool allow);
extern int smtpd_check_dns_rhsbl(SMTPD_STATE *state, const char *what_class, const char *domain,
                                 const char *what, const char *spec, bool allow);
extern int smtpd_check_dns_unknown_helo(SMTPD_STATE *state, const char *helo);
extern int smtpd_check_dns_unknown_domain(SMTPD_STATE *state, const char *addr, const char *reply_class);
extern int smtpd_check_dns_server_access(SMTPD_STATE *state, const char *table, unsigned type,
                                         const char *name, const char *reply_name, const char *reply_class);
extern int smtpd_check_dns_mx_backup(SMTPD_STATE *state, const char *domain);
extern int smtpd_check_access_maps(SMTPD_STATE *state, const char *table, const char *const *keys,
                                   size_t nkeys, size_t full, const char *reply_name, const char *reply_class,
                                   bool no_ok, int *found);

#endif
