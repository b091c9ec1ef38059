/*
 * scache - the shared connection cache service (Postfix's scache(8);
 * spec/delivery.md 6.3). A multi_server daemon on private/scache: SMTP
 * and LMTP clients hand it idle connections (file descriptors, passed
 * with SCM_RIGHTS) under an endpoint label and bind destination labels
 * to endpoints; a later delivery asks for a connection by destination or
 * by endpoint and gets the descriptor back (scache_clnt.h describes the
 * protocol, scache_db.h the store).
 *
 * Every item lives at most its requested TTL, capped at
 * connection_cache_ttl_limit; expired connections are closed without a
 * protocol goodbye. Every connection_cache_status_update_time, and before
 * a planned exit, the hit and miss counts are logged:
 *
 *   statistics: start interval Mon DD HH:MM:SS
 *   statistics: domain lookup hits=N miss=N success=N%
 *   statistics: address lookup hits=N miss=N success=N%
 *   statistics: max simultaneous domains=N addresses=N connection=N
 *
 * Errors: a malformed request gets status -1 or a dropped client and a
 * warning; nothing is fatal.
 */
#include "sys_defs.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "argv.h"
#include "attr.h"
#include "events.h"
#include "iostuff.h"
#include "mail_params.h"
#include "mail_proto.h"
#include "mail_server.h"
#include "msg.h"
#include "scache_clnt.h"
#include "scache_db.h"
#include "unix_fdpass.h"
#include "vstream.h"
#include "vstring.h"

static SCACHE_DB *scache_db;

/* Log the statistics of the interval that just ended. */
static void scache_status_log(void)
{
    ARGV *lines = argv_alloc(5);

    scache_db_stats(scache_db, lines);
    for (size_t i = 0; i < lines->argc; i++)
        msg_info("%s", lines->argv[i]);
    argv_free(lines);
}

/* Timer: the periodic statistics report. */
static void scache_status_event(int event UNUSED, void *context UNUSED)
{
    scache_status_log();
    event_request_timer(scache_status_event, NULL, var_connection_cache_status_update_time * 1000);
}

/* Timer: close what expired; runs while the cache is not empty. */
static void scache_expire_event(int event UNUSED, void *context UNUSED)
{
    int dests, endps, conns;
    int closed = scache_db_expire(scache_db, iostuff_clock_ms());

    if (msg_verbose && closed)
        msg_info("closed %d expired connection(s)", closed);
    scache_db_count(scache_db, &dests, &endps, &conns);
    if (dests + endps + conns > 0)
        event_request_timer(scache_expire_event, NULL, 250);
}

/* Send one reply: the marker byte (with FD when >= 0) and the attributes. */
static int scache_reply(VSTREAM *client, int status, int fd, const char *prop, const char *endp_prop)
{
    if (unix_send_fd(vstream_fileno(client), fd) < 0)
        return -1;
    return attr_print(client, ATTR_FLAG_NONE, SEND_ATTR_INT(MAIL_ATTR_STATUS, status),
                      SEND_ATTR_STR(SCACHE_ATTR_PROP, prop), SEND_ATTR_STR(SCACHE_ATTR_ENDP_PROP, endp_prop),
                      ATTR_TYPE_END);
}

/* Serve one request. */
static void scache_service(VSTREAM *client, char *service UNUSED, char **argv UNUSED)
{
    static VSTRING *request, *label, *prop, *endp, *out_prop, *out_endp_prop;
    int64_t now = iostuff_clock_ms();
    int ttl = 0;
    int fd = -1;
    int status = -1;
    const char *req;
    int rc;

    if (request == NULL) {
        request = vstring_alloc(20);
        label = vstring_alloc(100);
        prop = vstring_alloc(100);
        endp = vstring_alloc(100);
        out_prop = vstring_alloc(100);
        out_endp_prop = vstring_alloc(100);
    }
    if (vstream_peek(client) > 0) {
        msg_warn("%s: data before the request marker; disconnecting", vstream_path(client));
        multi_server_disconnect(client);
        return;
    }
    if ((fd = unix_recv_fd(vstream_fileno(client), var_connection_cache_protocol_timeout)) == -1) {
        if (errno != ECONNRESET)
            msg_warn("%s: cannot receive request: %m", vstream_path(client));
        multi_server_disconnect(client);
        return;
    }
    if (fd == UNIX_FDPASS_NONE)
        fd = -1;
    rc = attr_scan(client, ATTR_FLAG_STRICT, RECV_ATTR_STR(MAIL_ATTR_REQ, request),
                   RECV_ATTR_INT(SCACHE_ATTR_TTL, &ttl), RECV_ATTR_STR(SCACHE_ATTR_LABEL, label),
                   RECV_ATTR_STR(SCACHE_ATTR_PROP, prop), RECV_ATTR_STR(SCACHE_ATTR_ENDP, endp),
                   ATTR_TYPE_END);
    if (rc != 5) {
        if (fd >= 0)
            (void)close(fd);
        multi_server_disconnect(client);
        return;
    }
    req = vstring_str(request);
    if (ttl > var_connection_cache_ttl_limit)
        ttl = var_connection_cache_ttl_limit;
    vstring_strcpy(out_prop, "");
    vstring_strcpy(out_endp_prop, "");
    if (strcmp(req, SCACHE_REQ_SAVE_ENDP) == 0) {
        if (fd < 0 || ttl <= 0 || VSTRING_LEN(label) == 0) {
            msg_warn("%s: bad %s request for \"%.100s\"", vstream_path(client), req, vstring_str(label));
        } else {
            scache_db_save_endp(scache_db, now, ttl * 1000LL, vstring_str(label), vstring_str(prop), fd);
            fd = -1;
            status = 0;
        }
    } else if (strcmp(req, SCACHE_REQ_SAVE_DEST) == 0) {
        if (ttl <= 0 || VSTRING_LEN(label) == 0 || VSTRING_LEN(endp) == 0) {
            msg_warn("%s: bad %s request for \"%.100s\"", vstream_path(client), req, vstring_str(label));
        } else {
            scache_db_save_dest(scache_db, now, ttl * 1000LL, vstring_str(label), vstring_str(prop),
                                vstring_str(endp));
            status = 0;
        }
    } else if (strcmp(req, SCACHE_REQ_FIND_ENDP) == 0) {
        fd = scache_db_find_endp(scache_db, now, vstring_str(label), out_prop);
        status = fd >= 0 ? 0 : -1;
    } else if (strcmp(req, SCACHE_REQ_FIND_DEST) == 0) {
        fd = scache_db_find_dest(scache_db, now, vstring_str(label), out_prop, out_endp_prop);
        status = fd >= 0 ? 0 : -1;
    } else {
        msg_warn("%s: unrecognized request: \"%.100s\", ignored", vstream_path(client), req);
    }
    if (msg_verbose)
        msg_info("%s %s: status=%d", req, vstring_str(label), status);
    if (strncmp(req, "save_", 5) == 0) {
        if (fd >= 0)
            (void)close(fd);
        fd = -1;
        event_cancel_timer(scache_expire_event, NULL);
        event_request_timer(scache_expire_event, NULL, 250);
    }
    rc = scache_reply(client, status, fd, vstring_str(out_prop), vstring_str(out_endp_prop));
    if (fd >= 0)
        (void)close(fd);
    if (rc != 0)
        multi_server_disconnect(client);
}

/* Set up the store and the statistics timer. */
static void scache_post_init(char *service UNUSED, char **argv UNUSED)
{
    scache_db = scache_db_create();
    event_request_timer(scache_status_event, NULL, var_connection_cache_status_update_time * 1000);
}

/* Last report before a planned exit. */
static void scache_exit(void)
{
    if (scache_db)
        scache_status_log();
}

int main(int argc, char **argv)
{
    static const MAIL_SERVER_OPTS opts = {.post_init = scache_post_init, .on_exit = scache_exit};

    multi_server_main(argc, argv, scache_service, &opts);
}
