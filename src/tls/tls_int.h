/*
 * tls_int - what the tls modules share and callers never see: the
 * application context behind TLS_APPL_STATE, the private session
 * wrapper around TLS_SESS_STATE, and helpers of tls_misc.c and
 * tls_stream.c used by tls_server.c and tls_client.c.
 */
#ifndef TLS_INT_H
#define TLS_INT_H

#include <time.h>

#include <openssl/ssl.h>

#include "htable.h"
#include "tls.h"

#define TLS_ROLE_SERVER 0
#define TLS_ROLE_CLIENT 1

/* One server ticket key: name, HMAC key, AES key, when it was made. */
typedef struct TLS_TICKET_KEY {
    unsigned char name[16];
    unsigned char hmac[32];
    unsigned char aes[32];
    time_t created;
} TLS_TICKET_KEY;

struct TLS_APPL_STATE {
    SSL_CTX *ctx;
    int role; /* TLS_ROLE_* */
    int log_level;
    char *mdalg;
    int cache_timeout; /* seconds; 0: no resumption */
    int verifydepth;
    bool ask_ccert;
    HTABLE *cache; /* client: serverid -> TLS_CACHED_SESS */
    /* Server tickets (tls_server.c). */
    char *ticket_path;             /* shared key file, or NULL (process-local keys) */
    TLS_TICKET_KEY ticket_keys[2]; /* current, previous */
    int ticket_nkeys;
    time_t ticket_checked; /* when the key file was last looked at */
};

/* One client session cache entry (TLS_APPL_STATE.cache). */
typedef struct TLS_CACHED_SESS {
    SSL_SESSION *session;
    time_t expires;
} TLS_CACHED_SESS;

/* The session as this library keeps it; callers see only .pub. */
typedef struct TLS_SESS_PRIV {
    TLS_SESS_STATE pub; /* first: (TLS_SESS_STATE *) casts both ways */
    TLS_APPL_STATE *app;
    char *serverid; /* client cache key, or NULL */
    int fd;
    int saved_nonblock;  /* the descriptor's blocking mode before TLS */
    bool ccert_verified; /* server: the client certificate chain verified */
} TLS_SESS_PRIV;

/* tls_misc.c */
extern int tls_sess_ex_index(void);
extern TLS_SESS_PRIV *tls_sess_alloc(TLS_APPL_STATE *app, SSL *ssl, VSTREAM *stream, const char *namaddr,
                                     int level);
extern void tls_sess_free(TLS_SESS_PRIV *priv);
extern void tls_sess_describe(TLS_SESS_PRIV *priv, int role, const char *mdalg);
extern bool tls_set_protocols(SSL_CTX *ctx, SSL *ssl, const char *protocols, VSTRING *why);
extern bool tls_set_ciphers(SSL_CTX *ctx, SSL *ssl, const char *grade, const char *exclude, VSTRING *why);
extern void tls_print_errors(void);
extern TLS_APPL_STATE *tls_appl_alloc(SSL_CTX *ctx, int role, int log_level, const char *mdalg,
                                      int cache_timeout, int verifydepth);
extern void tls_appl_free(TLS_APPL_STATE *app);
extern void tls_cache_entry_free(void *ptr);
extern bool tls_load_credentials(SSL_CTX *ctx, const char *cert_file, const char *key_file,
                                 const char *eccert_file, const char *eckey_file, const char *chain_files);
extern bool tls_load_CAs(SSL_CTX *ctx, const char *CAfile, const char *CApath);

/* tls_stream.c */
extern int tls_stream_handshake(TLS_SESS_PRIV *priv, bool server, int timeout_ms);
extern void tls_stream_attach(TLS_SESS_PRIV *priv, VSTREAM *stream);
extern void tls_stream_detach(TLS_SESS_PRIV *priv, VSTREAM *stream, int timeout_ms, bool failure);
extern void tls_stream_log_failure(const char *what, const char *role, const char *namaddr, int status,
                                   int err);

/* tls_dane.c */
extern int tls_dane_apply(const TLS_DANE *dane, SSL *ssl);

#endif
