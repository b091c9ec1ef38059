/*
 * smtp_cache - connection caching for smtp(8) and lmtp(8), in this
 * process and through the scache(8) service (spec/delivery.md 1, 6.3;
 * Postfix's smtp_connection_cache_* parameters, or their lmtp_* twins).
 *
 * A session that ends cleanly and may be cached stays with this process
 * first, for SMTP_CACHE_HOLD_MS: under load the next request this process
 * gets is usually for the same destination, and then the connection is
 * reused without a round trip to scache (three of them per message
 * otherwise: find, save endpoint, save destination). When the hold time
 * passes, the next request is for another destination, a second session
 * is to be cached, or the process exits, the held session goes to scache
 * as before, for smtp_connection_cache_time_limit, so other processes can
 * reuse it. A held session that the server has closed or written to
 * meanwhile is closed instead.
 *
 *   smtp_cache_init() reads the parameters (after the configuration).
 *   smtp_cache_find(state) returns a cached session for the request's
 *       destination when the queue manager asked for it
 *       (DEL_REQ_FLAG_CONN_LOAD) or the destination is listed in
 *       smtp_connection_cache_destinations; NULL otherwise. The held
 *       session when it is for this destination, else one from scache.
 *       The session skips the greeting and EHLO (its features travel
 *       with it), and request->msg_stats.reuse_count makes the log show
 *       conn_use=N.
 *   smtp_cache_prepare(state, session, resp, txn_done), called by
 *       smtp_proto() instead of QUIT at the clean end of a session:
 *       when caching is wanted (DEL_REQ_FLAG_CONN_STORE with
 *       smtp_connection_cache_on_demand, or a listed destination), the
 *       reuse count and time limits allow it and the server did not say
 *       421, it sends RSET when the mail transaction did not complete
 *       (TXN_DONE false), marks the session cache_ok and returns true (no
 *       QUIT). Returns false when the caller must QUIT.
 *   smtp_cache_save(state, session) keeps a cache_ok session (see above)
 *       under the request's destination label (service:nexthop); scache
 *       gets it under its endpoint label (service:address:port) with the
 *       destination label bound to it. True when the cache took the
 *       session (the caller must not touch it any more); false when the
 *       caller must close and free it.
 *   smtp_cache_exit() hands the held session to scache (at process exit).
 *
 * With SASL sender-dependent authentication (smtp_sasl_auth_enable and
 * smtp_sender_dependent_authentication, or the lmtp_* twins) nothing is
 * cached or reused: a connection authenticated for one sender must not
 * carry another sender's mail (Postfix's documented behaviour).
 *
 * Errors: a cache that cannot be reached or a bad cached entry only
 * costs a new connection; the stream of a session that could not be
 * saved is closed by the caller.
 */
#include "sys_defs.h"

#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "argv.h"
#include "deliver_request.h"
#include "events.h"
#include "mail_conf.h"
#include "mail_params.h"
#include "mail_params_init.h"
#include "mail_server.h"
#include "msg.h"
#include "msg_stats.h"
#include "mymalloc.h"
#include "scache_clnt.h"
#include "smtp.h"
#include "stringops.h"
#include "vstream.h"
#include "vstring.h"

#define STAGE_RSET "sending RSET"

static struct {
    bool on_demand;
    ARGV *dests; /* smtp_connection_cache_destinations */
    int time_limit;
    int reuse_time_limit;
    int reuse_count_limit;
    int rset_timeout;
    bool sender_auth; /* sender-dependent SASL credentials: never cache */
} smtp_cache_params;

static SCACHE_CLNT *smtp_scache;

/* How long a session stays with this process before it goes to scache. */
#define SMTP_CACHE_HOLD_MS 250

/* The session this process holds, its destination label, since when. */
static SMTP_SESSION *smtp_cache_held;
static VSTRING *smtp_cache_held_dest;
static time_t smtp_cache_held_since;

/* An lmtp_* parameter's raw value, or DEF. */
static const char *smtp_cache_lmtp(const char *name, const char *def)
{
    const char *value = mail_conf_eval(name);

    return value != NULL ? value : def;
}

/* An lmtp_* time parameter in seconds. */
static int smtp_cache_lmtp_time(const char *name, const char *def)
{
    const char *value = smtp_cache_lmtp(name, def);
    long long secs;

    if (mail_params_time(value, 's', &secs) == 0 || secs < 0 || secs > 0x7fffffff) {
        msg_warn("%s: bad time value: %s; using %s", name, value, def);
        (void)mail_params_time(def, 's', &secs);
    }
    return (int)secs;
}

/* Read the parameters; see above. */
void smtp_cache_init(void)
{
    const char *dests;

    if (!smtp_lmtp_mode) {
        smtp_cache_params.on_demand = var_smtp_connection_cache_on_demand;
        dests = var_smtp_connection_cache_destinations;
        smtp_cache_params.time_limit = var_smtp_connection_cache_time_limit;
        smtp_cache_params.reuse_time_limit = var_smtp_connection_reuse_time_limit;
        smtp_cache_params.reuse_count_limit = var_smtp_connection_reuse_count_limit;
        smtp_cache_params.rset_timeout = var_smtp_rset_timeout;
        smtp_cache_params.sender_auth = var_smtp_sasl_auth_enable && var_smtp_sender_dependent_authentication;
    } else {
        smtp_cache_params.on_demand =
            strcasecmp(smtp_cache_lmtp("lmtp_connection_cache_on_demand", "yes"), "yes") == 0;
        dests = smtp_cache_lmtp("lmtp_connection_cache_destinations", "");
        smtp_cache_params.time_limit = smtp_cache_lmtp_time("lmtp_connection_cache_time_limit", "2s");
        smtp_cache_params.reuse_time_limit = smtp_cache_lmtp_time("lmtp_connection_reuse_time_limit", "300s");
        smtp_cache_params.reuse_count_limit = atoi(smtp_cache_lmtp("lmtp_connection_reuse_count_limit", "0"));
        smtp_cache_params.rset_timeout = smtp_cache_lmtp_time("lmtp_rset_timeout", "20s");
        smtp_cache_params.sender_auth =
            strcasecmp(smtp_cache_lmtp("lmtp_sasl_auth_enable", "no"), "yes") == 0 &&
            strcasecmp(smtp_cache_lmtp("lmtp_sender_dependent_authentication", "no"), "yes") == 0;
    }
    smtp_cache_params.dests = argv_split(dests ? dests : "", ", \t\r\n");
}

/* Is the request's destination listed in ..._connection_cache_destinations? */
static bool smtp_cache_listed(const SMTP_STATE *state)
{
    const char *nexthop = state->request->nexthop;

    if (smtp_cache_params.dests == NULL)
        return false;
    for (size_t i = 0; i < smtp_cache_params.dests->argc; i++)
        if (strcasecmp(smtp_cache_params.dests->argv[i], nexthop) == 0)
            return true;
    return false;
}

/* The destination label of the request. */
static const char *smtp_cache_dest_label(VSTRING *buf, const SMTP_STATE *state)
{
    vstring_sprintf(buf, "%s:%s", mail_server_service_name ? mail_server_service_name : "smtp",
                    state->request->nexthop);
    return vstring_str(buf);
}

/* The endpoint label of a session. */
static const char *smtp_cache_endp_label(VSTRING *buf, const SMTP_SESSION *session)
{
    vstring_sprintf(buf, "%s:%s:%u", mail_server_service_name ? mail_server_service_name : "smtp",
                    session->addr, session->port);
    return vstring_str(buf);
}

/* Rebuild a session from its endpoint properties; NULL when malformed. */
static SMTP_SESSION *smtp_cache_revive(int fd, const char *props)
{
    char *copy = mystrdup(props);
    char *bp = copy;
    char *field[10];
    int n = 0;
    SMTP_SESSION *session;

    while (n < 10 && (field[n] = strsep(&bp, "\t")) != NULL)
        n++;
    if (n != 10 || bp != NULL) {
        msg_warn("malformed cached connection properties: \"%.100s\"", props);
        myfree(copy);
        return NULL;
    }
    session = mymalloc(sizeof(*session));
    memset(session, 0, sizeof(*session));
    session->stream = vstream_fdopen(fd, O_RDWR);
    session->host = mystrdup(field[0]);
    session->addr = mystrdup(field[1]);
    session->port = (unsigned)strtoul(field[2], NULL, 10);
    session->namaddr = mystrdup(field[3]);
    session->relay = mystrdup(field[4]);
    session->features = atoi(field[5]);
    session->xforward = atoi(field[6]);
    session->size_limit = atol(field[7]);
    session->reuse_count = atoi(field[8]);
    session->first_use = (time_t)atoll(field[9]);
    myfree(copy);
    return session;
}

/* Can a held session still carry mail: nothing from the server meanwhile? */
static bool smtp_cache_alive(SMTP_SESSION *session)
{
    struct pollfd pfd = {.fd = vstream_fileno(session->stream), .events = POLLIN};

    return vstream_peek(session->stream) == 0 && poll(&pfd, 1, 0) == 0;
}

/* Hand SESSION's connection to scache under DEST (a destination label) and free it. */
static void smtp_cache_handoff(SMTP_SESSION *session, const char *dest)
{
    VSTRING *endp = vstring_alloc(100);
    VSTRING *props = vstring_alloc(200);
    bool saved;
    int fd;

    if (smtp_scache == NULL)
        smtp_scache = scache_clnt_create();
    vstring_sprintf(props, "%s\t%s\t%u\t%s\t%s\t%d\t%d\t%ld\t%d\t%lld", session->host, session->addr,
                    session->port, session->namaddr, session->relay, session->features, session->xforward,
                    session->size_limit, session->reuse_count, (long long)session->first_use);
    smtp_cache_endp_label(endp, session);
    fd = vstream_fileno(session->stream);
    (void)vstream_fdclose(session->stream);
    session->stream = NULL;
    saved = scache_clnt_save_endp(smtp_scache, smtp_cache_params.time_limit, vstring_str(endp),
                                  vstring_str(props), fd) == 0;
    if (saved)
        (void)scache_clnt_save_dest(smtp_scache, smtp_cache_params.time_limit, dest, "", vstring_str(endp));
    if (msg_verbose)
        msg_info("%s connection to %s", saved ? "cached" : "could not cache", session->relay);
    smtp_session_free(session);
    vstring_free(endp);
    vstring_free(props);
}

/* The hold time has passed (or the held session must go): scache gets it. */
static void smtp_cache_release(int event UNUSED, void *context UNUSED)
{
    SMTP_SESSION *session = smtp_cache_held;

    if (session == NULL)
        return;
    smtp_cache_held = NULL;
    (void)event_cancel_timer(smtp_cache_release, NULL);
    if (smtp_cache_alive(session))
        smtp_cache_handoff(session, vstring_str(smtp_cache_held_dest));
    else
        smtp_session_free(session);
}

/* At process exit; see above. */
void smtp_cache_exit(void)
{
    smtp_cache_release(0, NULL);
}

/* The held session when it is for LABEL and still usable, else NULL. */
static SMTP_SESSION *smtp_cache_take_held(const char *label)
{
    SMTP_SESSION *session = smtp_cache_held;

    if (session == NULL || strcmp(vstring_str(smtp_cache_held_dest), label) != 0)
        return NULL;
    smtp_cache_held = NULL;
    (void)event_cancel_timer(smtp_cache_release, NULL);
    if (time(NULL) - smtp_cache_held_since < smtp_cache_params.time_limit && smtp_cache_alive(session))
        return session;
    smtp_session_free(session);
    return NULL;
}

/* A cached session for the request's destination, or NULL. */
SMTP_SESSION *smtp_cache_find(SMTP_STATE *state)
{
    DELIVER_REQUEST *request = state->request;
    VSTRING *label;
    VSTRING *dest_prop;
    VSTRING *endp_prop;
    SMTP_SESSION *session;
    int fd;

    if (smtp_cache_params.sender_auth)
        return NULL;
    if (!(request->flags & DEL_REQ_FLAG_CONN_LOAD) && !smtp_cache_listed(state))
        return NULL;
    label = vstring_alloc(100);
    smtp_cache_dest_label(label, state);
    if ((session = smtp_cache_take_held(vstring_str(label))) == NULL) {
        /* A held session for another destination is of use to others. */
        smtp_cache_release(0, NULL);
        if (smtp_scache == NULL)
            smtp_scache = scache_clnt_create();
        dest_prop = vstring_alloc(100);
        endp_prop = vstring_alloc(100);
        fd = scache_clnt_find_dest(smtp_scache, vstring_str(label), dest_prop, endp_prop);
        if (fd >= 0 && (session = smtp_cache_revive(fd, vstring_str(endp_prop))) == NULL)
            (void)close(fd);
        vstring_free(dest_prop);
        vstring_free(endp_prop);
    }
    if (session != NULL) {
        request->msg_stats.reuse_count = session->reuse_count;
        if (msg_verbose)
            msg_info("%s: reusing cached connection to %s (use %d)", request->queue_id, session->relay,
                     session->reuse_count + 1);
    }
    vstring_free(label);
    return session;
}

/* Decide at the clean end of a session whether to cache it; see above. */
bool smtp_cache_prepare(SMTP_STATE *state, SMTP_SESSION *session, SMTP_RESP *resp, bool txn_done)
{
    DELIVER_REQUEST *request = state->request;
    time_t now = time(NULL);

    if (session->first_use == 0)
        session->first_use = now;
    if (smtp_cache_params.sender_auth)
        return false;
    if (!((request->flags & DEL_REQ_FLAG_CONN_STORE) && smtp_cache_params.on_demand) &&
        !smtp_cache_listed(state))
        return false;
    if (resp->code == 421 || vstream_ferror(session->stream))
        return false;
    /* A TLS session cannot be handed to another process (no tlsproxy). */
    if (session->tls_context != NULL)
        return false;
    if (smtp_cache_params.reuse_count_limit > 0 &&
        session->reuse_count + 1 >= smtp_cache_params.reuse_count_limit)
        return false;
    if (now - session->first_use >= smtp_cache_params.reuse_time_limit)
        return false;
    if (!txn_done) {
        session->stage = STAGE_RSET;
        if (smtp_chat_cmd(session, smtp_cache_params.rset_timeout, "RSET") < 0 ||
            smtp_chat_resp(session, resp, smtp_cache_params.rset_timeout) < 0 || resp->code / 100 != 2)
            return false;
    }
    session->cache_ok = true;
    return true;
}

/* Keep a cache_ok session; see above. */
bool smtp_cache_save(SMTP_STATE *state, SMTP_SESSION *session)
{
    if (!session->cache_ok || vstream_fflush(session->stream) == VSTREAM_EOF)
        return false;
    session->reuse_count++;
    smtp_cache_release(0, NULL);
    if (smtp_cache_held_dest == NULL)
        smtp_cache_held_dest = vstring_alloc(100);
    smtp_cache_dest_label(smtp_cache_held_dest, state);
    smtp_cache_held = session;
    smtp_cache_held_since = time(NULL);
    event_request_timer(smtp_cache_release, NULL, SMTP_CACHE_HOLD_MS);
    if (msg_verbose)
        msg_info("%s: keeping connection to %s", state->request->queue_id, session->relay);
    return true;
}
