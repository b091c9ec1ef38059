/*
 * xsasl_int - private to the xsasl library: the method tables a backend
 * fills in, and the backends' init functions the registries call.
 *
 * A backend's impl and session structures start with XSASL_SERVER_IMPL /
 * XSASL_SERVER (or the client twins), so the dispatch functions in
 * xsasl_server.c and xsasl_client.c can call through them.
 */
#ifndef XSASL_INT_H
#define XSASL_INT_H

#include "xsasl.h"

struct XSASL_SERVER_IMPL {
    XSASL_SERVER *(*create)(XSASL_SERVER_IMPL *impl, const XSASL_SERVER_CREATE_ARGS *args);
    void (*done)(XSASL_SERVER_IMPL *impl);
};

struct XSASL_SERVER {
    void (*free)(XSASL_SERVER *server);
    const char *(*get_mechanism_list)(XSASL_SERVER *server);
    int (*first)(XSASL_SERVER *server, const char *mechanism, const char *init_response, VSTRING *reply);
    int (*next)(XSASL_SERVER *server, const char *response, VSTRING *reply);
    const char *(*get_username)(XSASL_SERVER *server);
};

struct XSASL_CLIENT_IMPL {
    XSASL_CLIENT *(*create)(XSASL_CLIENT_IMPL *impl, const XSASL_CLIENT_CREATE_ARGS *args);
    void (*done)(XSASL_CLIENT_IMPL *impl);
};

struct XSASL_CLIENT {
    void (*free)(XSASL_CLIENT *client);
    int (*first)(XSASL_CLIENT *client, const char *mechanisms, const char *username, const char *password,
                 const char **mechanism, VSTRING *init);
    int (*next)(XSASL_CLIENT *client, const char *challenge, VSTRING *reply);
};

/* Backend entry points (NULL with a warning when unusable). */
extern XSASL_SERVER_IMPL *xsasl_dovecot_server_init(const char *path);
extern XSASL_SERVER_IMPL *xsasl_cyrus_server_init(const char *path);
extern XSASL_CLIENT_IMPL *xsasl_cyrus_client_init(const char *path);

#endif
