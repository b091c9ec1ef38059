/*
 * smtp_cache - connection caching for smtp(8) and lmtp(8) through the
 * scache(8) service (spec/delivery.md 1, 6.3; Postfix's
 * smtp_connection_cache_* parameters, or their lmtp_* twins).
 *
 *   smtp_cache_init() reads the parameters (after the configuration).
 *   smtp_cache_find(state) returns a cached session for the request's
 *       destination when the queue manager asked for it
 *       (DEL_REQ_FLAG_CONN_LOAD) or the destination is listed in
 *       smtp_connection_cache_destinations; NULL otherwise. The session
 *       skips the greeting and EHLO (its features travel with it), and
 *       request->msg_stats.reuse_count makes the log show conn_use=N.
 *   smtp_cache_prepare(state, session, resp, txn_done), called by
 *       smtp_proto() instead of QUIT at the clean end of a session:
 *       when caching is wanted (DEL_REQ_FLAG_CONN_STORE with
 *       smtp_connection_cache_on_demand, or a listed destination), the
 *       reuse count and time limits allow it and the server did not say
 *       421, it sends RSET when the mail transaction did not complete
 *       (TXN_DONE false), marks the session cache_ok and returns true (no
 *       QUIT). Returns false when the caller must QUIT.
 *   smtp_cache_save(state, session) hands a cache_ok session's connection
 *       to scache, under its endpoint label (service:address:port) and
 *       binds the destination label (service:nexthop) to it, for
 *       smtp_connection_cache_time_limit. True when the stream was taken
 *       (the caller frees the session without closing it).
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
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "argv.h"
#include "deliver_request.h"
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

/* A cached session for the request's destination, or NULL. */
SMTP_SESSION *smtp_cache_find(SMTP_STATE *state)
{
    DELIVER_REQUEST *request = state->request;
    VSTRING *label;
    VSTRING *dest_prop;
    VSTRING *endp_prop;
    SMTP_SESSION *session = NULL;
    int fd;

    if (smtp_cache_params.sender_auth)
        return NULL;
    if (!(request->flags & DEL_REQ_FLAG_CONN_LOAD) && !smtp_cache_listed(state))
        return NULL;
    if (smtp_scache == NULL)
        smtp_scache = scache_clnt_create();
    label = vstring_alloc(100);
    dest_prop = vstring_alloc(100);
    endp_prop = vstring_alloc(100);
    fd = scache_clnt_find_dest(smtp_scache, smtp_cache_dest_label(label, state), dest_prop, endp_prop);
    if (fd >= 0 && (session = smtp_cache_revive(fd, vstring_str(endp_prop))) == NULL)
        (void)close(fd);
    if (session != NULL) {
        request->msg_stats.reuse_count = session->reuse_count;
        if (msg_verbose)
            msg_info("%s: reusing cached connection to %s (use %d)", request->queue_id, session->relay,
                     session->reuse_count + 1);
    }
    vstring_free(label);
    vstring_free(dest_prop);
    vstring_free(endp_prop);
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

/* Hand a cache_ok session's connection to scache; see above. */
bool smtp_cache_save(SMTP_STATE *state, SMTP_SESSION *session)
{
    VSTRING *endp;
    VSTRING *dest;
    VSTRING *props;
    bool saved;
    int fd;

    if (!session->cache_ok || vstream_fflush(session->stream) == VSTREAM_EOF)
        return false;
    if (smtp_scache == NULL)
        smtp_scache = scache_clnt_create();
    endp = vstring_alloc(100);
    dest = vstring_alloc(100);
    props = vstring_alloc(200);
    vstring_sprintf(props, "%s\t%s\t%u\t%s\t%s\t%d\t%d\t%ld\t%d\t%lld", session->host, session->addr,
                    session->port, session->namaddr, session->relay, session->features, session->xforward,
                    session->size_limit, session->reuse_count + 1, (long long)session->first_use);
    smtp_cache_endp_label(endp, session);
    fd = vstream_fileno(session->stream);
    (void)vstream_fdclose(session->stream);
    session->stream = NULL;
    saved = scache_clnt_save_endp(smtp_scache, smtp_cache_params.time_limit, vstring_str(endp),
                                  vstring_str(props), fd) == 0;
    if (saved)
        (void)scache_clnt_save_dest(smtp_scache, smtp_cache_params.time_limit,
                                    smtp_cache_dest_label(dest, state), "", vstring_str(endp));
    if (msg_verbose)
        msg_info("%s: %s connection to %s", state->request->queue_id, saved ? "cached" : "could not cache",
                 session->relay);
    vstring_free(endp);
    vstring_free(dest);
    vstring_free(props);
    return true;
}
