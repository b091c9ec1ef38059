/*
 * xsasl_dovecot - the "dovecot" SASL server backend: a client of
 * Dovecot's auth protocol (version 1) on a UNIX socket (smtpd_sasl_path,
 * relative to queue_directory unless absolute) or "inet:host:port".
 *
 * One connection per process, shared by the sessions one after another:
 * the handshake (VERSION, CPID / VERSION, MECH..., DONE) gives the
 * mechanisms with their properties; every AUTH request carries a new,
 * increasing id. A connection found closed when a session starts, or
 * that fails while a request is written, is made again.
 *
 * Entry point: xsasl_dovecot_server_init() (through xsasl_server.c).
 * Errors: "warning: SASL: Connect to Dovecot auth socket 'PATH' failed:
 * ERROR" and a NULL session when the server cannot be reached at session
 * start; a lost connection or a malformed answer during an exchange is
 * XSASL_AUTH_TEMP; FAIL is XSASL_AUTH_FAIL (XSASL_AUTH_TEMP with "temp")
 * with Dovecot's reason, or an empty reply when it gave none (Postfix
 * then says "(reason unavailable)"). After FAIL the username is the one
 * Dovecot named, if any, for the log's sasl_username as Postfix logs it.
 */
#include "sys_defs.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "base64_code.h"
#include "iostuff.h"
#include "mail_params.h"
#include "msg.h"
#include "mymalloc.h"
#include "sockets.h"
#include "xsasl_int.h"

#define XSASL_DOVECOT_CONNECT_TIMEOUT 10  /* seconds */
#define XSASL_DOVECOT_IO_TIMEOUT      300 /* seconds; Dovecot delays failures */
#define XSASL_DOVECOT_LINE_LIMIT      65536

/* Mechanism properties that a "no..." option removes. */
#define XSASL_DOVECOT_NEGATIVE                                                                               \
    (XSASL_SEC_NOPLAINTEXT | XSASL_SEC_NOACTIVE | XSASL_SEC_NODICTIONARY | XSASL_SEC_NOANONYMOUS)
/* Mechanism properties that an option requires. */
#define XSASL_DOVECOT_POSITIVE (XSASL_SEC_MUTUAL_AUTH | XSASL_SEC_FORWARD_SECRECY)

typedef struct XSASL_DOVECOT_MECH {
    char *name;
    int props; /* XSASL_SEC_* bits: the properties the server announced */
} XSASL_DOVECOT_MECH;

typedef struct XSASL_DOVECOT_IMPL {
    XSASL_SERVER_IMPL xsasl;
    char *path;      /* as configured, for diagnostics */
    VSTREAM *stream; /* NULL when not connected */
    XSASL_DOVECOT_MECH *mechs;
    size_t mech_count;
    unsigned request_id; /* the last AUTH id used */
} XSASL_DOVECOT_IMPL;

typedef struct XSASL_DOVECOT_SERVER {
    XSASL_SERVER xsasl;
    XSASL_DOVECOT_IMPL *impl;
    char *service;
    char *server_addr;
    char *client_addr;
    int security_options;
    bool tls;
    unsigned request_id; /* the exchange in progress, 0 if none */
    char *username;
    VSTRING *mech_list;
    VSTRING *buf;
} XSASL_DOVECOT_SERVER;

/* Split LINE at tabs, keeping empty fields. */
static ARGV *xsasl_dovecot_split(const char *line)
{
    ARGV *fields = argv_alloc(8);
    const char *cp;

    while ((cp = strchr(line, '\t')) != NULL) {
        argv_addn(fields, line, (size_t)(cp - line));
        line = cp + 1;
    }
    argv_add(fields, line);
    return fields;
}

/* Forget the connection and the mechanisms it announced. */
static void xsasl_dovecot_disconnect(XSASL_DOVECOT_IMPL *impl)
{
    if (impl->stream) {
        (void)vstream_fclose(impl->stream);
        impl->stream = NULL;
    }
    for (size_t i = 0; i < impl->mech_count; i++)
        myfree(impl->mechs[i].name);
    myfree(impl->mechs);
    impl->mechs = NULL;
    impl->mech_count = 0;
}

/* The XSASL_SEC_* bits for Dovecot's MECH flag words. */
static int xsasl_dovecot_props(ARGV *fields)
{
    static const struct {
        const char *word;
        int prop;
    } table[] = {
        {"plaintext", XSASL_SEC_NOPLAINTEXT},           {"anonymous", XSASL_SEC_NOANONYMOUS},
        {"dictionary", XSASL_SEC_NODICTIONARY},         {"active", XSASL_SEC_NOACTIVE},
        {"forward-secrecy", XSASL_SEC_FORWARD_SECRECY}, {"mutual-auth", XSASL_SEC_MUTUAL_AUTH},
    };
    int props = 0;

    for (size_t f = 2; f < fields->argc; f++)
        for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++)
            if (strcasecmp(fields->argv[f], table[i].word) == 0)
                props |= table[i].prop;
    return props;
}

/* Read the server's handshake up to DONE; 0 or -1 after a warning. */
static int xsasl_dovecot_handshake(XSASL_DOVECOT_IMPL *impl)
{
    VSTRING *line = vstring_alloc(100);
    bool version_ok = false;
    int result = -1;

    vstream_fprintf(impl->stream, "VERSION\t1\t0\nCPID\t%ld\n", (long)getpid());
    if (vstream_fflush(impl->stream) == VSTREAM_EOF) {
        msg_warn("SASL: Couldn't send handshake: %s", strerror(vstream_errno(impl->stream)));
        goto done;
    }
    for (;;) {
        if (vstream_fgets_nonl_limit(line, impl->stream, XSASL_DOVECOT_LINE_LIMIT) != VSTREAM_LINE_OK) {
            msg_warn("SASL: Connection lost to authentication server %s during handshake", impl->path);
            goto done;
        }
        ARGV *fields = xsasl_dovecot_split(vstring_str(line));
        const char *cmd = fields->argv[0];

        if (strcmp(cmd, "VERSION") == 0) {
            int major = fields->argc > 1 ? atoi(fields->argv[1]) : -1;

            if (major != 1) {
                msg_warn("SASL: Protocol version mismatch (%d vs. %d)", major, 1);
                argv_free(fields);
                goto done;
            }
            version_ok = true;
        } else if (strcmp(cmd, "MECH") == 0 && fields->argc > 1 && *fields->argv[1]) {
            impl->mechs = myrealloc(impl->mechs, (impl->mech_count + 1) * sizeof(*impl->mechs));
            impl->mechs[impl->mech_count].name = mystrdup(fields->argv[1]);
            impl->mechs[impl->mech_count].props = xsasl_dovecot_props(fields);
            impl->mech_count++;
        } else if (strcmp(cmd, "DONE") == 0) {
            argv_free(fields);
            if (!version_ok) {
                msg_warn("SASL: Protocol error");
                goto done;
            }
            result = 0;
            goto done;
        }
        /* SPID, CUID, COOKIE and anything newer: not needed here. */
        argv_free(fields);
    }
done:
    vstring_free(line);
    return result;
}

/* Connect and read the handshake unless connected; 0 or -1 after a warning. */
static int xsasl_dovecot_connect(XSASL_DOVECOT_IMPL *impl)
{
    int fd;

    if (impl->stream)
        return 0;
    if (strncmp(impl->path, "inet:", 5) == 0) {
        fd = inet_connect(impl->path + 5, BLOCKING, XSASL_DOVECOT_CONNECT_TIMEOUT);
    } else if (impl->path[0] == '/') {
        fd = unix_connect(impl->path, BLOCKING, XSASL_DOVECOT_CONNECT_TIMEOUT);
    } else {
        char *full = mymalloc(strlen(var_queue_directory) + strlen(impl->path) + 2);

        strcpy(full, var_queue_directory);
        strcat(full, "/");
        strcat(full, impl->path);
        fd = unix_connect(full, BLOCKING, XSASL_DOVECOT_CONNECT_TIMEOUT);
        myfree(full);
    }
    if (fd < 0) {
        msg_warn("SASL: Connect to Dovecot auth socket '%s' failed: %s", impl->path, strerror(errno));
        return -1;
    }
    impl->stream = vstream_fdopen(fd, O_RDWR);
    vstream_set_timeout(impl->stream, XSASL_DOVECOT_IO_TIMEOUT);
    if (xsasl_dovecot_handshake(impl) < 0) {
        xsasl_dovecot_disconnect(impl);
        return -1;
    }
    return 0;
}

/* A connection the server closed (or wrote to unasked) since the last exchange is stale. */
static void xsasl_dovecot_check_idle(XSASL_DOVECOT_IMPL *impl)
{
    if (impl->stream && impl->stream->rpos == impl->stream->rend &&
        read_wait(vstream_fileno(impl->stream), 0) < 0)
        return;
    if (impl->stream)
        xsasl_dovecot_disconnect(impl);
}

/* Rebuild the session's mechanism list from the connection's. */
static void xsasl_dovecot_filter(XSASL_DOVECOT_SERVER *server)
{
    int negative = server->security_options & XSASL_DOVECOT_NEGATIVE;
    int positive = server->security_options & XSASL_DOVECOT_POSITIVE;

    vstring_truncate(server->mech_list, 0);
    for (size_t i = 0; i < server->impl->mech_count; i++) {
        const XSASL_DOVECOT_MECH *mech = server->impl->mechs + i;

        if ((mech->props & negative) != 0 || (mech->props & positive) != positive)
            continue;
        if (VSTRING_LEN(server->mech_list))
            vstring_strcat(server->mech_list, " ");
        vstring_strcat(server->mech_list, mech->name);
    }
}

/* The mechanisms this session's security options allow, server order. */
static const char *xsasl_dovecot_get_mechanism_list(XSASL_SERVER *xsasl)
{
    XSASL_DOVECOT_SERVER *server = (XSASL_DOVECOT_SERVER *)xsasl;

    return vstring_str(server->mech_list);
}

/* The allowed mechanism named NAME (any case), or NULL. */
static const XSASL_DOVECOT_MECH *xsasl_dovecot_find(XSASL_DOVECOT_SERVER *server, const char *name)
{
    int negative = server->security_options & XSASL_DOVECOT_NEGATIVE;
    int positive = server->security_options & XSASL_DOVECOT_POSITIVE;

    for (size_t i = 0; i < server->impl->mech_count; i++) {
        const XSASL_DOVECOT_MECH *mech = server->impl->mechs + i;

        if (strcasecmp(mech->name, name) == 0 && (mech->props & negative) == 0 &&
            (mech->props & positive) == positive)
            return mech;
    }
    return NULL;
}

/* A lost connection: drop it and answer temporary failure. */
static int xsasl_dovecot_lost(XSASL_DOVECOT_SERVER *server, VSTRING *reply)
{
    msg_warn("SASL: Connection lost to authentication server %s", server->impl->path);
    xsasl_dovecot_disconnect(server->impl);
    server->request_id = 0;
    vstring_strcpy(reply, "Connection lost to authentication server");
    return XSASL_AUTH_TEMP;
}

/* Read answers until one for the current request: OK, CONT or FAIL. */
static int xsasl_dovecot_answer(XSASL_DOVECOT_SERVER *server, VSTRING *reply)
{
    VSTREAM *stream = server->impl->stream;

    for (;;) {
        if (vstream_fgets_nonl_limit(server->buf, stream, XSASL_DOVECOT_LINE_LIMIT) != VSTREAM_LINE_OK)
            return xsasl_dovecot_lost(server, reply);

        ARGV *fields = xsasl_dovecot_split(vstring_str(server->buf));
        const char *cmd = fields->argv[0];
        char *end;
        unsigned long id;
        int status;

        if (fields->argc < 2 || (id = strtoul(fields->argv[1], &end, 10), *end != 0) ||
            id != server->request_id) {
            /* An answer to an abandoned request, or a notice: not ours. */
            argv_free(fields);
            continue;
        }
        if (strcmp(cmd, "OK") == 0) {
            status = XSASL_AUTH_OK;
            for (size_t i = 2; i < fields->argc; i++)
                if (strncmp(fields->argv[i], "user=", 5) == 0) {
                    myfree(server->username);
                    server->username = mystrdup(fields->argv[i] + 5);
                }
            if (server->username == NULL) {
                msg_warn("missing Dovecot server OK username field");
                vstring_strcpy(reply, "Authentication backend error");
                status = XSASL_AUTH_TEMP;
            }
            server->request_id = 0;
        } else if (strcmp(cmd, "CONT") == 0) {
            vstring_strcpy(reply, fields->argc > 2 ? fields->argv[2] : "");
            status = XSASL_AUTH_MORE;
        } else if (strcmp(cmd, "FAIL") == 0) {
            status = XSASL_AUTH_FAIL;
            for (size_t i = 2; i < fields->argc; i++) {
                if (strncmp(fields->argv[i], "reason=", 7) == 0) {
                    vstring_strcpy(reply, fields->argv[i] + 7);
                } else if (strncmp(fields->argv[i], "user=", 5) == 0) {
                    /* Not a login: only for the log's sasl_username. */
                    myfree(server->username);
                    server->username = mystrdup(fields->argv[i] + 5);
                } else if (strcmp(fields->argv[i], "temp") == 0)
                    status = XSASL_AUTH_TEMP;
            }
            server->request_id = 0;
        } else {
            msg_warn("SASL: Protocol error: unexpected answer from %s: %.100s", server->impl->path,
                     vstring_str(server->buf));
            argv_free(fields);
            xsasl_dovecot_disconnect(server->impl);
            server->request_id = 0;
            vstring_strcpy(reply, "Authentication backend error");
            return XSASL_AUTH_TEMP;
        }
        argv_free(fields);
        return status;
    }
}

/* Start an exchange: one AUTH request (made again once on a fresh connection if writing fails). */
static int xsasl_dovecot_first(XSASL_SERVER *xsasl, const char *mechanism, const char *init_response,
                               VSTRING *reply)
{
    XSASL_DOVECOT_SERVER *server = (XSASL_DOVECOT_SERVER *)xsasl;
    XSASL_DOVECOT_IMPL *impl = server->impl;
    const XSASL_DOVECOT_MECH *mech;
    VSTRING *resp = NULL;

    myfree(server->username);
    server->username = NULL;
    server->request_id = 0;
    if ((mech = xsasl_dovecot_find(server, mechanism)) == NULL) {
        vstring_strcpy(reply, "Invalid authentication mechanism");
        return XSASL_AUTH_FAIL;
    }
    if (init_response) {
        resp = vstring_alloc(100);
        if (strcmp(init_response, "=") != 0) {
            if (base64_decode(server->buf, init_response, strlen(init_response)) == NULL) {
                vstring_free(resp);
                vstring_strcpy(reply, "Invalid base64 data in initial response");
                return XSASL_AUTH_FORM;
            }
            base64_encode(resp, vstring_str(server->buf), VSTRING_LEN(server->buf));
        }
    }
    for (int attempt = 0;; attempt++) {
        if (xsasl_dovecot_connect(impl) < 0) {
            if (resp)
                vstring_free(resp);
            vstring_strcpy(reply, "Can't connect to authentication server");
            return XSASL_AUTH_TEMP;
        }
        /* The mechanism may be gone after a reconnect. */
        if ((mech = xsasl_dovecot_find(server, mechanism)) == NULL) {
            if (resp)
                vstring_free(resp);
            vstring_strcpy(reply, "Invalid authentication mechanism");
            return XSASL_AUTH_FAIL;
        }
        server->request_id = ++impl->request_id;
        vstream_fprintf(impl->stream, "AUTH\t%u\t%s\tservice=%s\tnologin\tlip=%s\trip=%s%s",
                        server->request_id, mech->name, server->service, server->server_addr,
                        server->client_addr, server->tls ? "\tsecured" : "");
        if (resp)
            vstream_fprintf(impl->stream, "\tresp=%s", vstring_str(resp));
        vstream_fputs("\n", impl->stream);
        if (vstream_fflush(impl->stream) != VSTREAM_EOF)
            break;
        xsasl_dovecot_disconnect(impl);
        if (attempt > 0) {
            if (resp)
                vstring_free(resp);
            return xsasl_dovecot_lost(server, reply);
        }
    }
    if (resp)
        vstring_free(resp);
    return xsasl_dovecot_answer(server, reply);
}

/* Continue an exchange with the client's base64 RESPONSE. */
static int xsasl_dovecot_next(XSASL_SERVER *xsasl, const char *response, VSTRING *reply)
{
    XSASL_DOVECOT_SERVER *server = (XSASL_DOVECOT_SERVER *)xsasl;
    VSTRING *resp;

    if (server->request_id == 0 || server->impl->stream == NULL)
        return xsasl_dovecot_lost(server, reply);
    if (base64_decode(server->buf, response, strlen(response)) == NULL) {
        vstring_strcpy(reply, "Invalid base64 data in continued response");
        return XSASL_AUTH_FORM;
    }
    resp = base64_encode(vstring_alloc(100), vstring_str(server->buf), VSTRING_LEN(server->buf));
    vstream_fprintf(server->impl->stream, "CONT\t%u\t%s\n", server->request_id, vstring_str(resp));
    vstring_free(resp);
    if (vstream_fflush(server->impl->stream) == VSTREAM_EOF)
        return xsasl_dovecot_lost(server, reply);
    return xsasl_dovecot_answer(server, reply);
}

/* The login name Dovecot returned with OK. */
static const char *xsasl_dovecot_get_username(XSASL_SERVER *xsasl)
{
    return ((XSASL_DOVECOT_SERVER *)xsasl)->username;
}

/* Release a session (the connection stays for the next one). */
static void xsasl_dovecot_free(XSASL_SERVER *xsasl)
{
    XSASL_DOVECOT_SERVER *server = (XSASL_DOVECOT_SERVER *)xsasl;

    myfree(server->service);
    myfree(server->server_addr);
    myfree(server->client_addr);
    myfree(server->username);
    vstring_free(server->mech_list);
    vstring_free(server->buf);
    myfree(server);
}

/* A session: (re)connect if needed, filter the mechanisms. */
static XSASL_SERVER *xsasl_dovecot_create(XSASL_SERVER_IMPL *xsasl_impl, const XSASL_SERVER_CREATE_ARGS *args)
{
    XSASL_DOVECOT_IMPL *impl = (XSASL_DOVECOT_IMPL *)xsasl_impl;
    XSASL_DOVECOT_SERVER *server;

    xsasl_dovecot_check_idle(impl);
    if (xsasl_dovecot_connect(impl) < 0)
        return NULL;
    server = mycalloc(1, sizeof(*server));
    server->xsasl.free = xsasl_dovecot_free;
    server->xsasl.get_mechanism_list = xsasl_dovecot_get_mechanism_list;
    server->xsasl.first = xsasl_dovecot_first;
    server->xsasl.next = xsasl_dovecot_next;
    server->xsasl.get_username = xsasl_dovecot_get_username;
    server->impl = impl;
    server->service = mystrdup(args->service ? args->service : "smtp");
    server->server_addr = mystrdup(args->server_addr ? args->server_addr : "");
    server->client_addr = mystrdup(args->client_addr ? args->client_addr : "");
    server->security_options = args->security_options;
    server->tls = args->tls;
    server->mech_list = vstring_alloc(100);
    server->buf = vstring_alloc(100);
    xsasl_dovecot_filter(server);
    return &server->xsasl;
}

/* Release the backend and its connection. */
static void xsasl_dovecot_done(XSASL_SERVER_IMPL *xsasl_impl)
{
    XSASL_DOVECOT_IMPL *impl = (XSASL_DOVECOT_IMPL *)xsasl_impl;

    xsasl_dovecot_disconnect(impl);
    myfree(impl->path);
    myfree(impl);
}

/* The backend for PATH; connecting waits for the first session. */
XSASL_SERVER_IMPL *xsasl_dovecot_server_init(const char *path)
{
    XSASL_DOVECOT_IMPL *impl = mycalloc(1, sizeof(*impl));

    impl->xsasl.create = xsasl_dovecot_create;
    impl->xsasl.done = xsasl_dovecot_done;
    impl->path = mystrdup(path);
    return &impl->xsasl;
}
