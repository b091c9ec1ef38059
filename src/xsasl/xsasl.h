/*
 * xsasl - SASL authentication backends for the SMTP server and client
 * (spec/security.md 5 and 6). The SMTP side (smtpd AUTH, smtp client
 * AUTH) speaks base64 on the wire; this library takes and gives the same
 * base64 text, so callers never decode.
 *
 * Server backends (smtpd_sasl_type):
 *   "cyrus"    libsasl2; smtpd_sasl_path is the application name
 *              (smtpd.conf searched in cyrus_sasl_config_path), the
 *              realm is smtpd_sasl_local_domain.
 *   "dovecot"  Dovecot's auth protocol on a UNIX socket (smtpd_sasl_path,
 *              relative to the queue directory unless absolute) or
 *              "inet:host:port"; one connection per server session.
 * Client backend (smtp_sasl_type): "cyrus" (libsasl2 client with the
 * username and password from smtp_sasl_password_maps).
 *
 * Modules:
 *   xsasl_server.c   the backend registry and xsasl_server_* dispatch.
 *   xsasl_dovecot.c  the Dovecot auth client (server backend).
 *   xsasl_cyrus.c    libsasl2 server and client backends.
 *   xsasl_client.c   the client registry and xsasl_client_* dispatch.
 *   xsasl_secopt.c   security options ("noanonymous, noplaintext").
 *
 * Results of the first/next calls: XSASL_AUTH_OK (done; the login name is
 * available), XSASL_AUTH_MORE (REPLY holds the base64 challenge to send
 * after "334 "), XSASL_AUTH_FORM (the client's text is not valid base64),
 * XSASL_AUTH_FAIL (wrong credentials or unknown mechanism; REPLY holds the
 * backend's reason), XSASL_AUTH_TEMP (backend unavailable; REPLY holds the
 * reason). Init and create return NULL with a warning when the backend is
 * unusable.
 */
#ifndef XSASL_H
#define XSASL_H

#include <stdbool.h>

#include "argv.h"
#include "vstream.h"
#include "vstring.h"

#define XSASL_AUTH_OK   1
#define XSASL_AUTH_MORE 2
#define XSASL_AUTH_FORM 3
#define XSASL_AUTH_FAIL 4
#define XSASL_AUTH_TEMP 5

/* Security options: each removes mechanisms with that property. */
#define XSASL_SEC_NOPLAINTEXT     (1 << 0)
#define XSASL_SEC_NOACTIVE        (1 << 1)
#define XSASL_SEC_NODICTIONARY    (1 << 2)
#define XSASL_SEC_NOANONYMOUS     (1 << 3)
#define XSASL_SEC_MUTUAL_AUTH     (1 << 4)
#define XSASL_SEC_FORWARD_SECRECY (1 << 5)

/* Parse "noanonymous, noplaintext"; -1 (with a warning naming PARAM) on
 * an unknown word. */
extern int xsasl_security_options(const char *param, const char *text);

/* Server side. */
typedef struct XSASL_SERVER_IMPL XSASL_SERVER_IMPL;
typedef struct XSASL_SERVER XSASL_SERVER;

/* Backend names built in, for postconf -a ("cyrus", "dovecot"). */
extern ARGV *xsasl_server_types(void);

/* One backend per process: TYPE is smtpd_sasl_type, PATH smtpd_sasl_path. */
extern XSASL_SERVER_IMPL *xsasl_server_init(const char *type, const char *path);
extern void xsasl_server_done(XSASL_SERVER_IMPL *impl);

typedef struct XSASL_SERVER_CREATE_ARGS {
    const char *service;     /* smtpd_sasl_service: "smtp" */
    const char *user_realm;  /* smtpd_sasl_local_domain, "" if none */
    const char *server_addr; /* local address, or "" */
    const char *server_port;
    const char *client_addr; /* remote address, or "" */
    const char *client_port;
    int security_options; /* XSASL_SEC_* for this session (plain or TLS) */
    bool tls;             /* the session is encrypted ("secured" for Dovecot) */
} XSASL_SERVER_CREATE_ARGS;

/* One authentication context per SMTP session; NULL on backend failure
 * (the caller then announces no AUTH). */
extern XSASL_SERVER *xsasl_server_create(XSASL_SERVER_IMPL *impl, const XSASL_SERVER_CREATE_ARGS *args);
extern void xsasl_server_free(XSASL_SERVER *server);

/* Space-separated mechanisms the backend offers after the security
 * options, in the backend's order ("PLAIN LOGIN"); NULL on failure. */
extern const char *xsasl_server_get_mechanism_list(XSASL_SERVER *server);

/* Start MECHANISM with the optional base64 INIT_RESPONSE (NULL: none;
 * "=" means an empty response); see XSASL_AUTH_* for REPLY. */
extern int xsasl_server_first(XSASL_SERVER *server, const char *mechanism, const char *init_response,
                              VSTRING *reply);
/* Continue with the client's base64 RESPONSE. */
extern int xsasl_server_next(XSASL_SERVER *server, const char *response, VSTRING *reply);
/* The authenticated login name after XSASL_AUTH_OK (after a failure:
 * the name the backend reported, or NULL; for the log only). */
extern const char *xsasl_server_get_username(XSASL_SERVER *server);

/* Client side. */
typedef struct XSASL_CLIENT_IMPL XSASL_CLIENT_IMPL;
typedef struct XSASL_CLIENT XSASL_CLIENT;

extern ARGV *xsasl_client_types(void);
extern XSASL_CLIENT_IMPL *xsasl_client_init(const char *type, const char *path);
extern void xsasl_client_done(XSASL_CLIENT_IMPL *impl);

typedef struct XSASL_CLIENT_CREATE_ARGS {
    const char *service;     /* "smtp" */
    const char *server_name; /* the server's host name */
    int security_options;    /* XSASL_SEC_* */
    bool tls;                /* the session is encrypted */
} XSASL_CLIENT_CREATE_ARGS;

extern XSASL_CLIENT *xsasl_client_create(XSASL_CLIENT_IMPL *impl, const XSASL_CLIENT_CREATE_ARGS *args);
extern void xsasl_client_free(XSASL_CLIENT *client);

/*
 * Choose a mechanism among MECHANISMS (space-separated, those the server
 * offered after the caller's mechanism filter) allowed by the security
 * options, and compute the initial response for USERNAME/PASSWORD.
 * *MECHANISM is set to the chosen name (owned by the client); INIT holds
 * the base64 initial response or is empty when the mechanism has none.
 * XSASL_AUTH_OK when a mechanism was chosen; XSASL_AUTH_FAIL when none
 * is allowed (INIT then says why: "no mechanism available").
 */
extern int xsasl_client_first(XSASL_CLIENT *client, const char *mechanisms, const char *username,
                              const char *password, const char **mechanism, VSTRING *init);
/* Answer the server's base64 CHALLENGE (text after "334 ") into REPLY. */
extern int xsasl_client_next(XSASL_CLIENT *client, const char *challenge, VSTRING *reply);

#endif
