/*
 * xsasl_server - the SASL server backend registry ("cyrus", "dovecot")
 * and the xsasl_server_* calls that dispatch to the backend a session
 * belongs to.
 *
 * Public functions: xsasl_server_types(), xsasl_server_init(),
 * xsasl_server_done(), xsasl_server_create(), xsasl_server_free(),
 * xsasl_server_get_mechanism_list(), xsasl_server_first(),
 * xsasl_server_next(), xsasl_server_get_username().
 *
 * Errors: an unknown type is "warning: unsupported SASL server
 * implementation: TYPE" and a NULL result.
 */
#include "sys_defs.h"

#include <string.h>

#include "msg.h"
#include "xsasl_int.h"

static const struct {
    const char *type;
    XSASL_SERVER_IMPL *(*init)(const char *path);
} xsasl_server_table[] = {
    {"cyrus", xsasl_cyrus_server_init},
    {"dovecot", xsasl_dovecot_server_init},
};

#define XSASL_SERVER_TABLE_LEN (sizeof(xsasl_server_table) / sizeof(xsasl_server_table[0]))

/* The server backend names, for postconf -a. */
ARGV *xsasl_server_types(void)
{
    ARGV *types = argv_alloc(XSASL_SERVER_TABLE_LEN);

    for (size_t i = 0; i < XSASL_SERVER_TABLE_LEN; i++)
        argv_add(types, xsasl_server_table[i].type);
    return types;
}

/* Initialise backend TYPE with its PATH (smtpd_sasl_path). */
XSASL_SERVER_IMPL *xsasl_server_init(const char *type, const char *path)
{
    for (size_t i = 0; i < XSASL_SERVER_TABLE_LEN; i++)
        if (strcmp(type, xsasl_server_table[i].type) == 0)
            return xsasl_server_table[i].init(path);
    msg_warn("unsupported SASL server implementation: %s", type);
    return NULL;
}

/* Release a backend. */
void xsasl_server_done(XSASL_SERVER_IMPL *impl)
{
    if (impl)
        impl->done(impl);
}

/* One authentication context for one SMTP session. */
XSASL_SERVER *xsasl_server_create(XSASL_SERVER_IMPL *impl, const XSASL_SERVER_CREATE_ARGS *args)
{
    return impl->create(impl, args);
}

/* Release a session's context. */
void xsasl_server_free(XSASL_SERVER *server)
{
    if (server)
        server->free(server);
}

/* The mechanisms this session may use, in the backend's order. */
const char *xsasl_server_get_mechanism_list(XSASL_SERVER *server)
{
    return server->get_mechanism_list(server);
}

/* Start an exchange. */
int xsasl_server_first(XSASL_SERVER *server, const char *mechanism, const char *init_response, VSTRING *reply)
{
    vstring_truncate(reply, 0);
    return server->first(server, mechanism, init_response, reply);
}

/* Continue an exchange. */
int xsasl_server_next(XSASL_SERVER *server, const char *response, VSTRING *reply)
{
    vstring_truncate(reply, 0);
    return server->next(server, response, reply);
}

/* The login name after a successful exchange. */
const char *xsasl_server_get_username(XSASL_SERVER *server)
{
    return server->get_username(server);
}
