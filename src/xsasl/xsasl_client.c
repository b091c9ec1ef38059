/*
 * xsasl_client - the SASL client backend registry ("cyrus") and the
 * xsasl_client_* calls that dispatch to a session's backend.
 *
 * Public functions: xsasl_client_types(), xsasl_client_init(),
 * xsasl_client_done(), xsasl_client_create(), xsasl_client_free(),
 * xsasl_client_first(), xsasl_client_next().
 *
 * Errors: an unknown type is "warning: unsupported SASL client
 * implementation: TYPE" and a NULL result.
 */
#include "sys_defs.h"

#include <string.h>

#include "msg.h"
#include "xsasl_int.h"

static const struct {
    const char *type;
    XSASL_CLIENT_IMPL *(*init)(const char *path);
} xsasl_client_table[] = {
    {"cyrus", xsasl_cyrus_client_init},
};

#define XSASL_CLIENT_TABLE_LEN (sizeof(xsasl_client_table) / sizeof(xsasl_client_table[0]))

/* The client backend names, for postconf -A. */
ARGV *xsasl_client_types(void)
{
    ARGV *types = argv_alloc(XSASL_CLIENT_TABLE_LEN);

    for (size_t i = 0; i < XSASL_CLIENT_TABLE_LEN; i++)
        argv_add(types, xsasl_client_table[i].type);
    return types;
}

/* Initialise client backend TYPE with its PATH (smtp_sasl_path). */
XSASL_CLIENT_IMPL *xsasl_client_init(const char *type, const char *path)
{
    for (size_t i = 0; i < XSASL_CLIENT_TABLE_LEN; i++)
        if (strcmp(type, xsasl_client_table[i].type) == 0)
            return xsasl_client_table[i].init(path);
    msg_warn("unsupported SASL client implementation: %s", type);
    return NULL;
}

/* Release a backend. */
void xsasl_client_done(XSASL_CLIENT_IMPL *impl)
{
    if (impl)
        impl->done(impl);
}

/* One client context for one SMTP session. */
XSASL_CLIENT *xsasl_client_create(XSASL_CLIENT_IMPL *impl, const XSASL_CLIENT_CREATE_ARGS *args)
{
    return impl->create(impl, args);
}

/* Release a session's context. */
void xsasl_client_free(XSASL_CLIENT *client)
{
    if (client)
        client->free(client);
}

/* Choose a mechanism and compute the initial response. */
int xsasl_client_first(XSASL_CLIENT *client, const char *mechanisms, const char *username,
                       const char *password, const char **mechanism, VSTRING *init)
{
    *mechanism = NULL;
    vstring_truncate(init, 0);
    return client->first(client, mechanisms, username, password, mechanism, init);
}

/* Answer a server challenge. */
int xsasl_client_next(XSASL_CLIENT *client, const char *challenge, VSTRING *reply)
{
    vstring_truncate(reply, 0);
    return client->next(client, challenge, reply);
}
