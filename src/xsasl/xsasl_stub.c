/*
 * xsasl_stub - link stand-in for the SASL library while it is being
 * written: no backend initialises, so smtpd announces no AUTH and the
 * smtp client never authenticates. Deleted when xsasl_server.c,
 * xsasl_client.c, xsasl_dovecot.c, xsasl_cyrus.c and xsasl_secopt.c land.
 */
#include "sys_defs.h"

#include "msg.h"
#include "xsasl.h"

int xsasl_security_options(const char *param, const char *text)
{
    (void)param, (void)text;
    return 0;
}

ARGV *xsasl_server_types(void)
{
    return argv_alloc(1);
}

XSASL_SERVER_IMPL *xsasl_server_init(const char *type, const char *path)
{
    (void)path;
    msg_warn("unsupported SASL server implementation: %s", type);
    return NULL;
}

void xsasl_server_done(XSASL_SERVER_IMPL *impl)
{
    (void)impl;
}

XSASL_SERVER *xsasl_server_create(XSASL_SERVER_IMPL *impl, const XSASL_SERVER_CREATE_ARGS *args)
{
    (void)impl, (void)args;
    return NULL;
}

void xsasl_server_free(XSASL_SERVER *server)
{
    (void)server;
}

const char *xsasl_server_get_mechanism_list(XSASL_SERVER *server)
{
    (void)server;
    return NULL;
}

int xsasl_server_first(XSASL_SERVER *server, const char *mechanism, const char *init_response, VSTRING *reply)
{
    (void)server, (void)mechanism, (void)init_response;
    vstring_strcpy(reply, "SASL support is not built yet");
    return XSASL_AUTH_TEMP;
}

int xsasl_server_next(XSASL_SERVER *server, const char *response, VSTRING *reply)
{
    (void)server, (void)response;
    vstring_strcpy(reply, "SASL support is not built yet");
    return XSASL_AUTH_TEMP;
}

const char *xsasl_server_get_username(XSASL_SERVER *server)
{
    (void)server;
    return NULL;
}

ARGV *xsasl_client_types(void)
{
    return argv_alloc(1);
}

XSASL_CLIENT_IMPL *xsasl_client_init(const char *type, const char *path)
{
    (void)path;
    msg_warn("unsupported SASL client implementation: %s", type);
    return NULL;
}

void xsasl_client_done(XSASL_CLIENT_IMPL *impl)
{
    (void)impl;
}

XSASL_CLIENT *xsasl_client_create(XSASL_CLIENT_IMPL *impl, const XSASL_CLIENT_CREATE_ARGS *args)
{
    (void)impl, (void)args;
    return NULL;
}

void xsasl_client_free(XSASL_CLIENT *client)
{
    (void)client;
}

int xsasl_client_first(XSASL_CLIENT *client, const char *mechanisms, const char *username,
                       const char *password, const char **mechanism, VSTRING *init)
{
    (void)client, (void)mechanisms, (void)username, (void)password, (void)init;
    *mechanism = NULL;
    return XSASL_AUTH_TEMP;
}

int xsasl_client_next(XSASL_CLIENT *client, const char *challenge, VSTRING *reply)
{
    (void)client, (void)challenge;
    vstring_strcpy(reply, "SASL support is not built yet");
    return XSASL_AUTH_TEMP;
}
