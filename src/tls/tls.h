/*
 * tls - TLS for the SMTP server and client, over OpenSSL 3
 * (spec/security.md 7 and 8). No mail-protocol knowledge beyond what the
 * parameters need: smtpd and smtp decide when to start TLS and what a
 * result means; this library builds contexts, runs handshakes, verifies
 * and describes peers, and moves a VSTREAM's bytes through the TLS layer
 * (vstream_set_io()), so the rest of a daemon keeps reading and writing
 * the same stream.
 *
 * Modules:
 *   tls_misc.c    levels, protocol lists (">=TLSv1.2", "!SSLv2, !SSLv3"),
 *                 cipher grades (tls_*_cipherlist), fingerprints, the
 *                 "... TLS connection established ..." log line, the
 *                 Received: text, tls_session_stop().
 *   tls_server.c  tls_server_init(), tls_server_start() (STARTTLS and
 *                 wrapper mode), client certificates, session tickets.
 *   tls_client.c  tls_client_init(), tls_client_start(): levels may ...
 *                 secure, name matching, fingerprint match, client
 *                 certificates, the in-process session cache.
 *   tls_dane.c    TLSA records (RFC 6698/7672) given by the caller.
 *   tls_stream.c  the VSTREAM bottom layer over SSL_read/SSL_write with
 *                 the stream's time limits.
 *
 * Errors: init functions log a warning and return NULL when credentials or
 * settings are unusable (the caller then offers no TLS or defers); start
 * functions log why a handshake failed ("SSL_accept error from
 * name[addr]: ...", "SSL_connect error to name[addr]: ...") and return
 * NULL. Nothing a peer sends can crash the caller.
 */
#ifndef TLS_H
#define TLS_H

#include <stdbool.h>
#include <stddef.h>

#include "argv.h"
#include "vstream.h"
#include "vstring.h"

/* Security levels, weakest first (smtp_tls_security_level names). */
#define TLS_LEV_INVALID   (-1)
#define TLS_LEV_NONE      0 /* "none" */
#define TLS_LEV_MAY       1 /* "may" */
#define TLS_LEV_ENCRYPT   2 /* "encrypt" */
#define TLS_LEV_FPRINT    3 /* "fingerprint" */
#define TLS_LEV_HALF_DANE 4 /* "dane" with TLSA records that turned out unusable */
#define TLS_LEV_DANE      5 /* "dane" */
#define TLS_LEV_DANE_ONLY 6 /* "dane-only" */
#define TLS_LEV_VERIFY    7 /* "verify" */
#define TLS_LEV_SECURE    8 /* "secure" */

#define TLS_REQUIRED(l)   ((l) > TLS_LEV_MAY)
#define TLS_MUST_MATCH(l) ((l) > TLS_LEV_ENCRYPT)
#define TLS_DANE_BASED(l) ((l) >= TLS_LEV_HALF_DANE && (l) <= TLS_LEV_DANE_ONLY)

/* Level by name (case-insensitive); TLS_LEV_INVALID if unknown. */
extern int tls_level_lookup(const char *name);
/* Name of a level ("none" ... "secure"). */
extern const char *tls_level_name(int level);

/* What is known about the peer's certificate (TLS_SESS_STATE.peer_status). */
#define TLS_CERT_FLAG_PRESENT (1 << 0) /* the peer sent a certificate */
#define TLS_CERT_FLAG_ALTNAME (1 << 1) /* it has subjectAltName DNS names */
#define TLS_CERT_FLAG_TRUSTED (1 << 2) /* the chain verifies (CAs or DANE TA) */
#define TLS_CERT_FLAG_MATCHED (1 << 3) /* the name/fingerprint/TLSA matched */
#define TLS_CERT_FLAG_SECURED (1 << 4) /* DANE: authenticated by DNSSEC TLSA */

#define TLS_CERT_IS_PRESENT(s) ((s) && ((s)->peer_status & TLS_CERT_FLAG_PRESENT))
#define TLS_CERT_IS_TRUSTED(s) ((s) && ((s)->peer_status & TLS_CERT_FLAG_TRUSTED))
#define TLS_CERT_IS_MATCHED(s) ((s) && ((s)->peer_status & TLS_CERT_FLAG_MATCHED))
#define TLS_CERT_IS_SECURED(s) ((s) && ((s)->peer_status & TLS_CERT_FLAG_SECURED))

/* One application context (SSL_CTX and its settings); opaque. */
typedef struct TLS_APPL_STATE TLS_APPL_STATE;

/* One TLS session on one stream. Strings are owned by the session. */
typedef struct TLS_SESS_STATE {
    char *namaddr;        /* "name[addr]" or "name[addr]:port", for logs */
    int level;            /* TLS_LEV_* this session was started with */
    char *protocol;       /* "TLSv1.3" */
    char *cipher_name;    /* "TLS_AES_256_GCM_SHA384" */
    int cipher_usebits;   /* 256 */
    int cipher_algbits;   /* 256 */
    char *kex_name;       /* "X25519", "ECDHE", ... or NULL */
    char *kex_curve;      /* ECDHE group ("prime256v1") or NULL */
    int kex_bits;         /* key-exchange group size, 0 if unknown */
    char *srvr_sig_name;  /* "RSA-PSS", "ECDSA", ... or NULL */
    char *srvr_sig_curve; /* ECDSA curve ("prime256v1") or NULL */
    int srvr_sig_bits;
    char *srvr_sig_dgst; /* "SHA256" or NULL */
    char *clnt_sig_name; /* client certificate signature, or NULL */
    char *clnt_sig_curve;
    int clnt_sig_bits;
    char *clnt_sig_dgst;
    int peer_status;        /* TLS_CERT_FLAG_* */
    char *peer_CN;          /* subject CommonName (printable), "" if none */
    char *issuer_CN;        /* issuer CommonName or O (printable), "" if none */
    char *peer_cert_fprint; /* "AA:BB:..." of the certificate, "" if none */
    char *peer_pkey_fprint; /* "AA:BB:..." of the public key, "" if none */
    bool session_reused;    /* the handshake resumed a cached session */
    void *ssl;              /* the SSL object (OpenSSL type, opaque here) */
} TLS_SESS_STATE;

/* Server side (smtpd). */
typedef struct TLS_SERVER_INIT_PROPS {
    int log_level;               /* smtpd_tls_loglevel */
    const char *cert_file;       /* smtpd_tls_cert_file ("" if none) */
    const char *key_file;        /* smtpd_tls_key_file */
    const char *eccert_file;     /* smtpd_tls_eccert_file */
    const char *eckey_file;      /* smtpd_tls_eckey_file */
    const char *chain_files;     /* smtpd_tls_chain_files (preferred when set) */
    const char *CAfile;          /* smtpd_tls_CAfile */
    const char *CApath;          /* smtpd_tls_CApath */
    bool ask_ccert;              /* smtpd_tls_ask_ccert */
    int verifydepth;             /* smtpd_tls_ccert_verifydepth */
    const char *protocols;       /* smtpd_tls_protocols or _mandatory_protocols */
    const char *cipher_grade;    /* smtpd_tls_ciphers or _mandatory_ciphers */
    const char *exclude_ciphers; /* smtpd_tls_(mandatory_)exclude_ciphers */
    const char *mdalg;           /* smtpd_tls_fingerprint_digest */
    int cache_timeout;           /* smtpd_tls_session_cache_timeout, seconds */
    const char *cache_type;      /* "smtpd": names the shared ticket key */
} TLS_SERVER_INIT_PROPS;

/* Build the server context; NULL (with a warning) when unusable. */
extern TLS_APPL_STATE *tls_server_init(const TLS_SERVER_INIT_PROPS *props);

typedef struct TLS_SERVER_START_PROPS {
    VSTREAM *stream;     /* the client connection */
    int timeout;         /* handshake limit, seconds */
    const char *namaddr; /* "name[addr]" for logs */
    bool requirecert;    /* smtpd_tls_req_ccert: fail without a verified one */
    const char *mdalg;   /* fingerprint digest */
} TLS_SERVER_START_PROPS;

/* Handshake as server; on success the stream speaks TLS. NULL on failure
 * (logged); the caller must then end the session. */
extern TLS_SESS_STATE *tls_server_start(TLS_APPL_STATE *app, const TLS_SERVER_START_PROPS *props);

/* Client side (smtp). */
typedef struct TLS_CLIENT_INIT_PROPS {
    int log_level;         /* smtp_tls_loglevel */
    const char *cert_file; /* client certificate, "" if none */
    const char *key_file;
    const char *eccert_file;
    const char *eckey_file;
    const char *chain_files;
    const char *CAfile; /* trust anchors for server certificates */
    const char *CApath;
    int verifydepth;   /* smtp_tls_scert_verifydepth */
    const char *mdalg; /* smtp_tls_fingerprint_digest */
    int cache_timeout; /* smtp_tls_session_cache_timeout, seconds; 0: no cache */
} TLS_CLIENT_INIT_PROPS;

extern TLS_APPL_STATE *tls_client_init(const TLS_CLIENT_INIT_PROPS *props);

/* TLSA records (usage, selector, matching type, data) for DANE. */
typedef struct TLS_DANE TLS_DANE;
extern TLS_DANE *tls_dane_alloc(void);
extern void tls_dane_add(TLS_DANE *dane, int usage, int selector, int mtype, const unsigned char *data,
                         size_t len);
/* Records OpenSSL can use (unknown usages/selectors/types are ignored). */
extern int tls_dane_usable(const TLS_DANE *dane);
extern void tls_dane_free(TLS_DANE *dane);

typedef struct TLS_CLIENT_START_PROPS {
    VSTREAM *stream;
    int timeout;              /* handshake limit, seconds */
    int tls_level;            /* TLS_LEV_* */
    const char *nexthop;      /* destination as routed: "example.com" */
    const char *host;         /* MX or relay host name (SNI, hostname matching) */
    const char *namaddr;      /* "host[addr]:port" for logs */
    const char *serverid;     /* session cache key: "[addr]:port" plus settings */
    const char *protocols;    /* smtp_tls_(mandatory_)protocols */
    const char *cipher_grade; /* smtp_tls_(mandatory_)ciphers */
    const char *exclude_ciphers;
    const ARGV *matchargv; /* verify/secure: name patterns ("hostname",
                            * "nexthop", "dot-nexthop", ".domain",
                            * "domain"); fingerprint: digests */
    const char *mdalg;     /* fingerprint digest */
    const TLS_DANE *dane;  /* dane/dane-only: records, else NULL */
} TLS_CLIENT_START_PROPS;

/* Handshake as client. Returns the session even when the certificate did
 * not match (the caller checks TLS_CERT_IS_MATCHED() for the levels that
 * need it); NULL when the handshake itself failed (logged). */
extern TLS_SESS_STATE *tls_client_start(TLS_APPL_STATE *app, const TLS_CLIENT_START_PROPS *props);

/* End TLS on the stream (close_notify unless FAILURE) and free the session.
 * The stream goes back to plain I/O. */
extern void tls_session_stop(TLS_APPL_STATE *app, VSTREAM *stream, int timeout, bool failure,
                             TLS_SESS_STATE *sess);

/*
 * "Anonymous|Untrusted|Trusted|Verified TLS connection established
 * from|to NAMADDR: PROTOCOL with cipher CIPHER (USE/ALG bits)" plus the
 * key-exchange/signature details, as Postfix logs at loglevel >= 1.
 * ROLE is "from" (server) or "to" (client). tls_server_start() and
 * tls_client_start() log it themselves when log_level >= 1. The details are known for
 * TLSv1.3 only (Postfix 3.7 prints none for older protocols):
 * " key-exchange X25519 server-signature RSA-PSS (2048 bits) server-digest
 * SHA256 client-signature ECDSA (prime256v1) client-digest SHA256", an EC
 * group or curve in parentheses instead of the bit count. "Verified" when
 * the name, fingerprint or TLSA record matched, "Trusted" when only the
 * chain verified, "Untrusted" for any other certificate, "Anonymous"
 * without one.
 */
extern void tls_log_summary(const char *role, const TLS_SESS_STATE *sess);

/* The Received: comment text, into BUF; returns its string. Exactly:
 *   "TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits)"
 *   "\n\t key-exchange X25519 server-signature RSA-PSS (2048 bits) server-digest SHA256"
 *   "\n\t client-signature ECDSA (prime256v1) client-digest SHA256"
 * (the second line when there are key-exchange or server details, the
 * third with a client signature; neither before TLSv1.3). smtpd wraps it
 * as "\n\t(using %s)", as Postfix 3.7's Received: header reads. */
extern const char *tls_received_text(VSTRING *buf, const TLS_SESS_STATE *sess);

/* "AA:BB:..." digest (MDALG: "sha256", "sha1", "md5") of DER bytes, into
 * BUF; NULL if MDALG is unknown. */
extern const char *tls_fingerprint(VSTRING *buf, const char *mdalg, const unsigned char *der, size_t len);

/* Whether PROTOCOLS ("<=TLSv1.3", ">=TLSv1", "!SSLv2, !SSLv3", ...) and the
 * cipher GRADE ("high", "medium", "low", "export", "null") are valid; on
 * error a reason into WHY. smtpd and smtp check their settings with these
 * at startup. */
extern bool tls_protocols_valid(const char *protocols, VSTRING *why);
extern bool tls_cipher_grade_valid(const char *grade, VSTRING *why);

#endif
