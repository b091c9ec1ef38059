/*
 * xsasl_cyrus - the "cyrus" SASL backends over libsasl2: the server
 * (smtpd_sasl_type = cyrus; smtpd_sasl_path is the application name, so
 * libsasl2 reads PATH.conf from cyrus_sasl_config_path or its default
 * directories) and the client (smtp_sasl_type = cyrus; the username and
 * password come from the caller).
 *
 * Entry points: xsasl_cyrus_server_init(), xsasl_cyrus_client_init()
 * (through xsasl_server.c and xsasl_client.c).
 *
 * Errors: library initialisation failures are warnings and a NULL
 * backend; per-session failures a warning and a NULL session. In an
 * exchange, libsasl2's codes become XSASL_AUTH_FAIL (bad credentials,
 * unknown or disallowed mechanism, protocol errors) or XSASL_AUTH_TEMP
 * (backend trouble: SASL_FAIL, SASL_NOMEM, SASL_TRYAGAIN, SASL_UNAVAIL)
 * with libsasl2's short text as the reason; an unknown user is reported
 * as a wrong password. libsasl2's own log messages become "warning: SASL
 * authentication failure: ..." and similar lines.
 */
#include "sys_defs.h"

#include <stdlib.h>
#include <string.h>

#include <sasl/sasl.h>

#include "base64_code.h"
#include "mail_params.h"
#include "msg.h"
#include "mymalloc.h"
#include "xsasl_int.h"

/* libsasl2's log messages, at Postern's levels. */
static int xsasl_cyrus_log(void *context, int priority, const char *message)
{
    (void)context;
    switch (priority) {
    case SASL_LOG_ERR:
    case SASL_LOG_WARN:
        msg_warn("SASL authentication problem: %s", message);
        break;
    case SASL_LOG_FAIL:
        msg_warn("SASL authentication failure: %s", message);
        break;
    case SASL_LOG_NOTE:
        if (msg_verbose)
            msg_info("SASL authentication info: %s", message);
        break;
    case SASL_LOG_DEBUG:
        if (msg_verbose)
            msg_info("SASL authentication debug: %s", message);
        break;
    case SASL_LOG_TRACE:
        if (msg_verbose)
            msg_info("SASL authentication trace: %s", message);
        break;
    case SASL_LOG_PASS:
        if (msg_verbose > 1)
            msg_info("SASL authentication pass: %s", message);
        break;
    }
    return SASL_OK;
}

/* cyrus_sasl_config_path, when set, is where PATH.conf is looked for. */
static int xsasl_cyrus_getconfpath(void *context, const char **path)
{
    (void)context;
    *path = var_cyrus_sasl_config_path;
    return SASL_OK;
}

/* libsasl2 stores every callback as int (*)(void); the detour through
 * void (*)(void) is the cast the compiler accepts for that. */
#define XSASL_CYRUS_CB(fn) ((int (*)(void))(void (*)(void))(fn))

/* The process-wide callbacks (log; config path if configured). */
static sasl_callback_t *xsasl_cyrus_global_callbacks(void)
{
    static sasl_callback_t callbacks[3];
    int n = 0;

    callbacks[n++] = (sasl_callback_t){SASL_CB_LOG, XSASL_CYRUS_CB(xsasl_cyrus_log), NULL};
    if (var_cyrus_sasl_config_path && *var_cyrus_sasl_config_path)
        callbacks[n++] =
            (sasl_callback_t){SASL_CB_GETCONFPATH, XSASL_CYRUS_CB(xsasl_cyrus_getconfpath), NULL};
    callbacks[n] = (sasl_callback_t){SASL_CB_LIST_END, NULL, NULL};
    return callbacks;
}

/* libsasl2's security properties for XSASL_SEC_* options: no security layer. */
static int xsasl_cyrus_set_security(sasl_conn_t *conn, int options)
{
    sasl_security_properties_t props;

    memset(&props, 0, sizeof(props));
    props.min_ssf = 0;
    props.max_ssf = 1; /* no SASL security layer: we cannot run one */
    props.maxbufsize = 0;
    if (options & XSASL_SEC_NOPLAINTEXT)
        props.security_flags |= SASL_SEC_NOPLAINTEXT;
    if (options & XSASL_SEC_NOACTIVE)
        props.security_flags |= SASL_SEC_NOACTIVE;
    if (options & XSASL_SEC_NODICTIONARY)
        props.security_flags |= SASL_SEC_NODICTIONARY;
    if (options & XSASL_SEC_NOANONYMOUS)
        props.security_flags |= SASL_SEC_NOANONYMOUS;
    if (options & XSASL_SEC_MUTUAL_AUTH)
        props.security_flags |= SASL_SEC_MUTUAL_AUTH;
    if (options & XSASL_SEC_FORWARD_SECRECY)
        props.security_flags |= SASL_SEC_FORWARD_SECRECY;
    return sasl_setprop(conn, SASL_SEC_PROPS, &props);
}

/* XSASL_AUTH_FAIL or _TEMP for a libsasl2 error, with its text in REPLY. */
static int xsasl_cyrus_error(int status, VSTRING *reply)
{
    if (status == SASL_NOUSER) /* do not tell who exists */
        status = SASL_BADAUTH;
    vstring_strcpy(reply, sasl_errstring(status, NULL, NULL));
    switch (status) {
    case SASL_FAIL:
    case SASL_NOMEM:
    case SASL_TRYAGAIN:
    case SASL_UNAVAIL:
        return XSASL_AUTH_TEMP;
    default:
        return XSASL_AUTH_FAIL;
    }
}

/*
 * Server backend.
 */
typedef struct XSASL_CYRUS_SERVER {
    XSASL_SERVER xsasl;
    sasl_conn_t *conn;
    char *mech_list;
    char *username;
    VSTRING *decoded;
} XSASL_CYRUS_SERVER;

static int xsasl_cyrus_server_inited;

/* "ADDR;PORT" as libsasl2 wants addresses, or NULL when unknown. */
static char *xsasl_cyrus_ipport(const char *addr, const char *port)
{
    char *text;

    if (addr == NULL || *addr == 0 || port == NULL || *port == 0)
        return NULL;
    text = mymalloc(strlen(addr) + strlen(port) + 2);
    strcpy(text, addr);
    strcat(text, ";");
    strcat(text, port);
    return text;
}

/* The mechanisms libsasl2 allows under this session's properties. */
static const char *xsasl_cyrus_server_mechs(XSASL_SERVER *xsasl)
{
    XSASL_CYRUS_SERVER *server = (XSASL_CYRUS_SERVER *)xsasl;
    const char *list;
    int count;
    int status;

    if (server->mech_list == NULL) {
        if ((status = sasl_listmech(server->conn, NULL, "", " ", "", &list, NULL, &count)) != SASL_OK) {
            if (status != SASL_NOMECH) {
                msg_warn("cannot lookup SASL authentication mechanisms: %s",
                         sasl_errstring(status, NULL, NULL));
                return NULL;
            }
            list = "";
        }
        server->mech_list = mystrdup(list);
    }
    return server->mech_list;
}

/* Turn a start/step result into XSASL_AUTH_* with REPLY. */
static int xsasl_cyrus_server_result(XSASL_CYRUS_SERVER *server, int status, const char *out, unsigned outlen,
                                     VSTRING *reply)
{
    const void *name;

    switch (status) {
    case SASL_CONTINUE:
        base64_encode(reply, out ? out : "", out ? outlen : 0);
        return XSASL_AUTH_MORE;
    case SASL_OK:
        if (sasl_getprop(server->conn, SASL_USERNAME, &name) != SASL_OK || name == NULL) {
            msg_warn("SASL authentication succeeded without a username");
            vstring_strcpy(reply, "Authentication backend error");
            return XSASL_AUTH_TEMP;
        }
        myfree(server->username);
        server->username = mystrdup((const char *)name);
        return XSASL_AUTH_OK;
    default:
        if (msg_verbose)
            msg_info("SASL: %s", sasl_errdetail(server->conn));
        return xsasl_cyrus_error(status, reply);
    }
}

/* Start MECHANISM with an optional base64 initial response. */
static int xsasl_cyrus_server_first(XSASL_SERVER *xsasl, const char *mechanism, const char *init_response,
                                    VSTRING *reply)
{
    XSASL_CYRUS_SERVER *server = (XSASL_CYRUS_SERVER *)xsasl;
    const char *in = NULL;
    unsigned inlen = 0;
    const char *out = NULL;
    unsigned outlen = 0;
    int status;

    myfree(server->username);
    server->username = NULL;
    if (init_response) {
        if (strcmp(init_response, "=") == 0) {
            vstring_truncate(server->decoded, 0);
        } else if (base64_decode(server->decoded, init_response, strlen(init_response)) == NULL) {
            vstring_strcpy(reply, "Invalid base64 data in initial response");
            return XSASL_AUTH_FORM;
        }
        in = vstring_str(server->decoded);
        inlen = (unsigned)VSTRING_LEN(server->decoded);
    }
    status = sasl_server_start(server->conn, mechanism, in, inlen, &out, &outlen);
    return xsasl_cyrus_server_result(server, status, out, outlen, reply);
}

/* Continue with the client's base64 RESPONSE. */
static int xsasl_cyrus_server_next(XSASL_SERVER *xsasl, const char *response, VSTRING *reply)
{
    XSASL_CYRUS_SERVER *server = (XSASL_CYRUS_SERVER *)xsasl;
    const char *out = NULL;
    unsigned outlen = 0;
    int status;

    if (base64_decode(server->decoded, response, strlen(response)) == NULL) {
        vstring_strcpy(reply, "Invalid base64 data in continued response");
        return XSASL_AUTH_FORM;
    }
    status = sasl_server_step(server->conn, vstring_str(server->decoded),
                              (unsigned)VSTRING_LEN(server->decoded), &out, &outlen);
    return xsasl_cyrus_server_result(server, status, out, outlen, reply);
}

/* The login name after XSASL_AUTH_OK. */
static const char *xsasl_cyrus_server_username(XSASL_SERVER *xsasl)
{
    return ((XSASL_CYRUS_SERVER *)xsasl)->username;
}

/* Release a session. */
static void xsasl_cyrus_server_free(XSASL_SERVER *xsasl)
{
    XSASL_CYRUS_SERVER *server = (XSASL_CYRUS_SERVER *)xsasl;

    sasl_dispose(&server->conn);
    myfree(server->mech_list);
    myfree(server->username);
    vstring_free(server->decoded);
    myfree(server);
}

/* One libsasl2 server connection for one SMTP session. */
static XSASL_SERVER *xsasl_cyrus_server_create(XSASL_SERVER_IMPL *impl, const XSASL_SERVER_CREATE_ARGS *args)
{
    XSASL_CYRUS_SERVER *server;
    sasl_conn_t *conn = NULL;
    char *local = xsasl_cyrus_ipport(args->server_addr, args->server_port);
    char *remote = xsasl_cyrus_ipport(args->client_addr, args->client_port);
    int status;

    (void)impl;
    status = sasl_server_new(args->service ? args->service : "smtp", NULL,
                             args->user_realm && *args->user_realm ? args->user_realm : NULL, local, remote,
                             NULL, 0, &conn);
    myfree(local);
    myfree(remote);
    if (status != SASL_OK) {
        msg_warn("SASL per-connection server initialization: %s", sasl_errstring(status, NULL, NULL));
        return NULL;
    }
    if ((status = xsasl_cyrus_set_security(conn, args->security_options)) != SASL_OK) {
        msg_warn("SASL per-connection security setup: %s", sasl_errdetail(conn));
        sasl_dispose(&conn);
        return NULL;
    }
    server = mycalloc(1, sizeof(*server));
    server->xsasl.free = xsasl_cyrus_server_free;
    server->xsasl.get_mechanism_list = xsasl_cyrus_server_mechs;
    server->xsasl.first = xsasl_cyrus_server_first;
    server->xsasl.next = xsasl_cyrus_server_next;
    server->xsasl.get_username = xsasl_cyrus_server_username;
    server->conn = conn;
    server->decoded = vstring_alloc(100);
    return &server->xsasl;
}

/* The library stays initialised for the life of the process. */
static void xsasl_cyrus_server_done(XSASL_SERVER_IMPL *impl)
{
    myfree(impl);
}

/* Initialise libsasl2's server side once, with application name PATH. */
XSASL_SERVER_IMPL *xsasl_cyrus_server_init(const char *path)
{
    XSASL_SERVER_IMPL *impl;
    int status;

    if (!xsasl_cyrus_server_inited) {
        if ((status = sasl_server_init(xsasl_cyrus_global_callbacks(), path)) != SASL_OK) {
            msg_warn("SASL per-process initialization failed: %s", sasl_errstring(status, NULL, NULL));
            return NULL;
        }
        xsasl_cyrus_server_inited = 1;
    }
    impl = mycalloc(1, sizeof(*impl));
    impl->create = xsasl_cyrus_server_create;
    impl->done = xsasl_cyrus_server_done;
    return impl;
}

/*
 * Client backend.
 */
typedef struct XSASL_CYRUS_CLIENT {
    XSASL_CLIENT xsasl;
    sasl_conn_t *conn;
    sasl_callback_t callbacks[4];
    char *username;
    sasl_secret_t *password;
    char *mechanism;
    VSTRING *decoded;
} XSASL_CYRUS_CLIENT;

static int xsasl_cyrus_client_inited;

/* SASL_CB_AUTHNAME: the login name; SASL_CB_USER: an empty authorization
 * identity (PLAIN sends "\0user\0password", as Postfix's client does). */
static int xsasl_cyrus_client_user(void *context, int id, const char **result, unsigned *len)
{
    XSASL_CYRUS_CLIENT *client = context;

    if (client->username == NULL)
        return SASL_FAIL;
    *result = id == SASL_CB_USER ? "" : client->username;
    if (len)
        *len = (unsigned)strlen(*result);
    return SASL_OK;
}

/* SASL_CB_PASS: the password. */
static int xsasl_cyrus_client_pass(sasl_conn_t *conn, void *context, int id, sasl_secret_t **secret)
{
    XSASL_CYRUS_CLIENT *client = context;

    (void)conn, (void)id;
    if (client->password == NULL)
        return SASL_FAIL;
    *secret = client->password;
    return SASL_OK;
}

/* Choose a mechanism from MECHANISMS and compute its initial response. */
static int xsasl_cyrus_client_first(XSASL_CLIENT *xsasl, const char *mechanisms, const char *username,
                                    const char *password, const char **mechanism, VSTRING *init)
{
    XSASL_CYRUS_CLIENT *client = (XSASL_CYRUS_CLIENT *)xsasl;
    const char *out = NULL;
    unsigned outlen = 0;
    const char *chosen = NULL;
    size_t pwlen = strlen(password);
    int status;

    myfree(client->username);
    client->username = mystrdup(username);
    myfree(client->password);
    client->password = mymalloc(sizeof(sasl_secret_t) + pwlen);
    client->password->len = pwlen;
    memcpy(client->password->data, password, pwlen + 1);
    status = sasl_client_start(client->conn, mechanisms, NULL, &out, &outlen, &chosen);
    if (status != SASL_OK && status != SASL_CONTINUE) {
        if (msg_verbose)
            msg_info("SASL: %s", sasl_errdetail(client->conn));
        return xsasl_cyrus_error(status, init);
    }
    myfree(client->mechanism);
    client->mechanism = mystrdup(chosen);
    *mechanism = client->mechanism;
    if (out && outlen > 0)
        base64_encode(init, out, outlen);
    else if (out)
        vstring_strcpy(init, "=");
    return XSASL_AUTH_OK;
}

/* Answer the server's base64 CHALLENGE. */
static int xsasl_cyrus_client_next(XSASL_CLIENT *xsasl, const char *challenge, VSTRING *reply)
{
    XSASL_CYRUS_CLIENT *client = (XSASL_CYRUS_CLIENT *)xsasl;
    const char *out = NULL;
    unsigned outlen = 0;
    int status;

    if (base64_decode(client->decoded, challenge, strlen(challenge)) == NULL) {
        vstring_strcpy(reply, "malformed SASL challenge from server");
        return XSASL_AUTH_FORM;
    }
    status = sasl_client_step(client->conn, vstring_str(client->decoded),
                              (unsigned)VSTRING_LEN(client->decoded), NULL, &out, &outlen);
    if (status != SASL_OK && status != SASL_CONTINUE) {
        if (msg_verbose)
            msg_info("SASL: %s", sasl_errdetail(client->conn));
        return xsasl_cyrus_error(status, reply);
    }
    base64_encode(reply, out ? out : "", out ? outlen : 0);
    return XSASL_AUTH_OK;
}

/* Release a client session. */
static void xsasl_cyrus_client_free(XSASL_CLIENT *xsasl)
{
    XSASL_CYRUS_CLIENT *client = (XSASL_CYRUS_CLIENT *)xsasl;

    sasl_dispose(&client->conn);
    myfree(client->username);
    if (client->password) {
        memset(client->password->data, 0, client->password->len);
        myfree(client->password);
    }
    myfree(client->mechanism);
    vstring_free(client->decoded);
    myfree(client);
}

/* One libsasl2 client connection for one SMTP session. */
static XSASL_CLIENT *xsasl_cyrus_client_create(XSASL_CLIENT_IMPL *impl, const XSASL_CLIENT_CREATE_ARGS *args)
{
    XSASL_CYRUS_CLIENT *client = mycalloc(1, sizeof(*client));
    int status;

    (void)impl;
    client->xsasl.free = xsasl_cyrus_client_free;
    client->xsasl.first = xsasl_cyrus_client_first;
    client->xsasl.next = xsasl_cyrus_client_next;
    client->decoded = vstring_alloc(100);
    client->callbacks[0] = (sasl_callback_t){SASL_CB_USER, XSASL_CYRUS_CB(xsasl_cyrus_client_user), client};
    client->callbacks[1] =
        (sasl_callback_t){SASL_CB_AUTHNAME, XSASL_CYRUS_CB(xsasl_cyrus_client_user), client};
    client->callbacks[2] = (sasl_callback_t){SASL_CB_PASS, XSASL_CYRUS_CB(xsasl_cyrus_client_pass), client};
    client->callbacks[3] = (sasl_callback_t){SASL_CB_LIST_END, NULL, NULL};
    status = sasl_client_new(args->service ? args->service : "smtp", args->server_name, NULL, NULL,
                             client->callbacks, 0, &client->conn);
    if (status != SASL_OK) {
        msg_warn("per-session SASL client initialization: %s", sasl_errstring(status, NULL, NULL));
        client->conn = NULL;
        xsasl_cyrus_client_free(&client->xsasl);
        return NULL;
    }
    if (xsasl_cyrus_set_security(client->conn, args->security_options) != SASL_OK) {
        msg_warn("per-session SASL client security setup: %s", sasl_errdetail(client->conn));
        xsasl_cyrus_client_free(&client->xsasl);
        return NULL;
    }
    return &client->xsasl;
}

/* The library stays initialised for the life of the process. */
static void xsasl_cyrus_client_done(XSASL_CLIENT_IMPL *impl)
{
    myfree(impl);
}

/* Initialise libsasl2's client side once. */
XSASL_CLIENT_IMPL *xsasl_cyrus_client_init(const char *path)
{
    XSASL_CLIENT_IMPL *impl;
    int status;

    (void)path;
    if (!xsasl_cyrus_client_inited) {
        if ((status = sasl_client_init(xsasl_cyrus_global_callbacks())) != SASL_OK) {
            msg_warn("SASL library initialization: %s", sasl_errstring(status, NULL, NULL));
            return NULL;
        }
        xsasl_cyrus_client_inited = 1;
    }
    impl = mycalloc(1, sizeof(*impl));
    impl->create = xsasl_cyrus_client_create;
    impl->done = xsasl_cyrus_client_done;
    return impl;
}
