/*
 * smtp_tls_policy.h - the TLS parameters and per-destination policy of the
 * smtp(8)/lmtp(8) client (spec/security.md 8). Shared by smtp_tls.c (the
 * STARTTLS and wrapper-mode conversation) and smtp_tls_policy.c (levels,
 * smtp_tls_policy_maps, DANE).
 *
 *   smtp_tls_params          the smtp_tls_* (LMTP: lmtp_tls_*) values,
 *                            filled by smtp_tls_params_init().
 *   smtp_tls_policy_parse(policy, value, why) one policy table value
 *       ("secure match=.example.com:example.com protocols=>=TLSv1.2");
 *       0, or -1 with the reason in why.
 *   smtp_tls_policy_keys(dest_text) the table keys to try, in order: the
 *       destination verbatim (without an LMTP "inet:"/"unix:" prefix),
 *       then for a bare domain its parent domains ".example.com", ".com".
 *   smtp_tls_level_default() the level of smtp_tls_security_level, or
 *       when empty of smtp_enforce_tls/smtp_tls_enforce_peername/
 *       smtp_use_tls; TLS_LEV_INVALID when the parameter is invalid.
 *
 * Errors: in the return values.
 */
#ifndef SMTP_TLS_POLICY_H
#define SMTP_TLS_POLICY_H

#include <stdbool.h>

#include "argv.h"
#include "tls.h"
#include "vstring.h"

/* "dane" or stronger requires a trusted chain; above "encrypt" a match. */
#define SMTP_TLS_MUST_TRUST(l) ((l) >= TLS_LEV_DANE)

typedef struct SMTP_TLS_PARAMS {
    const char *level; /* smtp_tls_security_level */
    bool use_tls;
    bool enforce_tls;
    bool enforce_peername;
    const char *policy_maps;
    int loglevel;
    bool note_starttls_offer;
    bool wrappermode;
    const char *protocols;
    const char *mandatory_protocols;
    const char *ciphers;
    const char *mandatory_ciphers;
    const char *exclude;
    const char *mandatory_exclude;
    const char *fingerprint_cert_match;
    const char *verify_cert_match;
    const char *secure_cert_match;
    const char *mdalg;
    const char *cert_file;
    const char *key_file;
    const char *eccert_file;
    const char *eckey_file;
    const char *chain_files;
    const char *CAfile;
    const char *CApath;
    int verifydepth;
    int starttls_timeout;
    const char *cache_database;
    int cache_timeout;
    const char *insecure_mx_policy; /* smtp_tls_dane_insecure_mx_policy */
    bool force_tlsa;                /* smtp_tls_force_insecure_host_tlsa_lookup */
    bool dnssec;                    /* smtp_dns_support_level = dnssec */
} SMTP_TLS_PARAMS;

extern SMTP_TLS_PARAMS smtp_tls_params;
extern void smtp_tls_params_init(void);

typedef struct SMTP_TLS_POLICY {
    int dest_level;  /* of the destination (parameters, policy table) */
    int level;       /* for the current address (DANE may lower it) */
    char *protocols; /* policy attributes, NULL when not given */
    char *ciphers;
    char *exclude;
    char *match;
    char *tafile;
    char *nexthop;    /* the name certificates are matched against */
    ARGV *dane_match; /* DANE: names for trust-anchor records */
    TLS_DANE *dane;   /* DANE: the current address's TLSA records */
} SMTP_TLS_POLICY;

extern int smtp_tls_policy_parse(SMTP_TLS_POLICY *policy, const char *value, VSTRING *why);
extern ARGV *smtp_tls_policy_keys(const char *dest_text);
extern int smtp_tls_level_default(void);
extern void smtp_tls_policy_clear(SMTP_TLS_POLICY *policy);

#endif
