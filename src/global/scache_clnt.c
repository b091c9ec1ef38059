/*
 * scache_clnt - the client of the connection cache service; see
 * scache_clnt.h.
 *
 * Public functions: scache_clnt_create(), scache_clnt_free(),
 * scache_clnt_save_endp(), scache_clnt_save_dest(),
 * scache_clnt_find_endp(), scache_clnt_find_dest().
 *
 * Errors: -1 after "warning: problem talking to service scache: ..."
 * when the service cannot be reached or answers badly; a miss is a
 * quiet -1.
 */
#include "sys_defs.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "attr.h"
#include "iostuff.h"
#include "mail_params.h"
#include "mail_proto.h"
#include "msg.h"
#include "mymalloc.h"
#include "scache_clnt.h"
#include "unix_fdpass.h"
#include "vstream.h"
#include "vstring.h"

struct SCACHE_CLNT {
    VSTREAM *stream; /* NULL until the first request */
};

/* A request: what to send and where to put the answer. */
typedef struct SCACHE_REQ {
    const char *request;
    int ttl;
    const char *label;
    const char *prop;
    const char *endp;
    int send_fd;        /* save_endp: the descriptor, else -1 */
    VSTRING *got_prop;  /* find: PROP */
    VSTRING *endp_prop; /* find_dest: ENDPOINT_PROP */
} SCACHE_REQ;

/* A client without a connection. */
SCACHE_CLNT *scache_clnt_create(void)
{
    SCACHE_CLNT *sc = mymalloc(sizeof(*sc));

    sc->stream = NULL;
    return sc;
}

/* Drop the connection; the next request opens a new one. */
static void scache_clnt_close(SCACHE_CLNT *sc)
{
    if (sc->stream != NULL) {
        vstream_fclose(sc->stream);
        sc->stream = NULL;
    }
}

/* Free a client. */
void scache_clnt_free(SCACHE_CLNT *sc)
{
    scache_clnt_close(sc);
    myfree(sc);
}

/* One round trip; the received fd (or UNIX_FDPASS_NONE) with *status, or -1 on failure. */
static int scache_clnt_ask(SCACHE_CLNT *sc, SCACHE_REQ *req, int *status)
{
    static VSTRING *prop;
    static VSTRING *endp_prop;
    int sock;
    int fd;

    if (prop == NULL) {
        prop = vstring_alloc(100);
        endp_prop = vstring_alloc(100);
    }
    if (sc->stream == NULL) {
        if ((sc->stream =
                 mail_connect_quiet(MAIL_CLASS_PRIVATE, var_connection_cache_service_name, BLOCKING)) == NULL)
            return -1;
        vstream_set_timeout(sc->stream, var_connection_cache_protocol_timeout);
    }
    sock = vstream_fileno(sc->stream);
    if (unix_send_fd(sock, req->send_fd) < 0 ||
        attr_print(sc->stream, ATTR_FLAG_NONE, SEND_ATTR_STR(MAIL_ATTR_REQ, req->request),
                   SEND_ATTR_INT(SCACHE_ATTR_TTL, req->ttl), SEND_ATTR_STR(SCACHE_ATTR_LABEL, req->label),
                   SEND_ATTR_STR(SCACHE_ATTR_PROP, req->prop), SEND_ATTR_STR(SCACHE_ATTR_ENDP, req->endp),
                   ATTR_TYPE_END) != 0)
        goto fail;
    if ((fd = unix_recv_fd(sock, var_connection_cache_protocol_timeout)) == -1)
        goto fail;
    if (attr_scan(sc->stream, ATTR_FLAG_STRICT, RECV_ATTR_INT(MAIL_ATTR_STATUS, status),
                  RECV_ATTR_STR(SCACHE_ATTR_PROP, prop), RECV_ATTR_STR(SCACHE_ATTR_ENDP_PROP, endp_prop),
                  ATTR_TYPE_END) != 3) {
        if (fd >= 0)
            (void)close(fd);
        goto fail;
    }
    if (req->got_prop)
        vstring_strcpy(req->got_prop, vstring_str(prop));
    if (req->endp_prop)
        vstring_strcpy(req->endp_prop, vstring_str(endp_prop));
    return fd;

fail:
    scache_clnt_close(sc);
    return -1;
}

/* Send a request, once more on a new connection if a kept one failed. */
static int scache_clnt_request(SCACHE_CLNT *sc, SCACHE_REQ *req)
{
    bool reused = sc->stream != NULL;
    int status = -1;
    int fd;

    errno = 0;
    if ((fd = scache_clnt_ask(sc, req, &status)) == -1 &&
        (!reused || (fd = scache_clnt_ask(sc, req, &status)) == -1)) {
        msg_warn("problem talking to service %s: %s", var_connection_cache_service_name,
                 errno ? strerror(errno) : "protocol error");
        return -1;
    }
    if (status != 0) {
        if (fd >= 0)
            (void)close(fd);
        return -1;
    }
    return fd; /* a descriptor, or UNIX_FDPASS_NONE */
}

/* Hand a connection to the cache; FD is closed here either way. */
int scache_clnt_save_endp(SCACHE_CLNT *sc, int ttl, const char *endp, const char *prop, int fd)
{
    SCACHE_REQ req = {SCACHE_REQ_SAVE_ENDP, ttl, endp, prop, "", fd, NULL, NULL};
    int status = scache_clnt_request(sc, &req);

    (void)close(fd);
    return status == -1 ? -1 : 0;
}

/* Bind a destination to an endpoint. */
int scache_clnt_save_dest(SCACHE_CLNT *sc, int ttl, const char *dest, const char *prop, const char *endp)
{
    SCACHE_REQ req = {SCACHE_REQ_SAVE_DEST, ttl, dest, prop, endp, -1, NULL, NULL};

    return scache_clnt_request(sc, &req) == -1 ? -1 : 0;
}

/* A cached connection by endpoint, or -1. */
int scache_clnt_find_endp(SCACHE_CLNT *sc, const char *endp, VSTRING *prop)
{
    SCACHE_REQ req = {SCACHE_REQ_FIND_ENDP, 0, endp, "", "", -1, prop, NULL};
    int fd = scache_clnt_request(sc, &req);

    return fd >= 0 ? fd : -1;
}

/* A cached connection by destination, or -1. */
int scache_clnt_find_dest(SCACHE_CLNT *sc, const char *dest, VSTRING *dest_prop, VSTRING *endp_prop)
{
    SCACHE_REQ req = {SCACHE_REQ_FIND_DEST, 0, dest, "", "", -1, dest_prop, endp_prop};
    int fd = scache_clnt_request(sc, &req);

    return fd >= 0 ? fd : -1;
}
