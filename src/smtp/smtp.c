/*
 * smtp - the SMTP and LMTP delivery agent (Postfix's smtp(8) and lmtp(8);
 * spec/delivery.md 1, 6, 7). One program: when its name (argv[0]'s
 * basename) is "lmtp" it speaks LMTP and reads the lmtp_* twins of the
 * smtp_* parameters.
 *
 * Per delivery request: the next hop (a comma/space list, then the
 * smtp_fallback_relay destinations unless this host is an MX for the
 * domain) is resolved destination by destination (smtp_addr.c); own
 * addresses are pruned for port-25 destinations ("loops back to
 * myself"); the addresses are tried in order, at most
 * smtp_mx_address_limit addresses and smtp_mx_session_limit sessions per
 * destination, each session run by smtp_proto(). Recipients a server did
 * not decide are reported at the end with the last failure: deferred, or
 * bounced when that failure was permanent; a permanent failure caused by
 * relayhost or a fallback relay itself is deferred 4.3.5 with a
 * "configuration problem" warning. A failure of the whole destination
 * also sets request->hop_status so the queue manager throttles it.
 *
 * Connection caching (smtp_cache.c): before the destinations are tried,
 * a cached session for the next hop is used when the queue manager asks
 * for it; a session that ended cleanly is handed to scache instead of
 * closed. A cached session that fails (the server dropped it) costs
 * nothing: the destinations are then tried as usual.
 *
 * Errors: a bad request is logged by deliver_request_read() and the
 * connection closed; everything else ends in recipient reports.
 */
#include "sys_defs.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "argv.h"
#include "deliver_request.h"
#include "dsn.h"
#include "mail_conf.h"
#include "mail_params.h"
#include "mail_params_init.h"
#include "mail_server.h"
#include "msg.h"
#include "mymalloc.h"
#include "smtp.h"
#include "smtp_tls_policy.h"
#include "sockets.h"
#include "stringops.h"
#include "tls.h"
#include "vstream.h"

/* An lmtp_* parameter's value, or DEF when not set anywhere. */
static const char *smtp_lmtp_value(const char *name, const char *def)
{
    const char *value = mail_conf_eval(name);
    static VSTRING *buf;

    if (value != NULL)
        return value;
    if (buf == NULL)
        buf = vstring_alloc(100);
    mail_conf_expand(buf, def);
    return mystrdup(vstring_str(buf));
}

/* An lmtp_* time parameter in seconds. */
static int smtp_lmtp_time(const char *name, const char *def)
{
    const char *value = smtp_lmtp_value(name, def);
    long long secs;

    if (mail_params_time(value, 's', &secs) == 0 || secs < 0 || secs > 0x7fffffff) {
        msg_warn("%s: bad time value: %s; using %s", name, value, def);
        (void)mail_params_time(def, 's', &secs);
    }
    return (int)secs;
}

/* An lmtp_* boolean parameter. */
static bool smtp_lmtp_bool(const char *name, const char *def)
{
    return strcasecmp(smtp_lmtp_value(name, def), "yes") == 0;
}

/* An lmtp_* integer parameter. */
static int smtp_lmtp_int(const char *name, const char *def)
{
    return atoi(smtp_lmtp_value(name, def));
}

/* Fill smtp_params from smtp_* or lmtp_* parameters. */
static void smtp_params_init(void)
{
    SMTP_PARAMS *p = &smtp_params;

    if (!smtp_lmtp_mode) {
        p->connect_timeout = var_smtp_connect_timeout;
        p->helo_timeout = var_smtp_helo_timeout;
        p->xforward_timeout = var_smtp_xforward_timeout;
        p->mail_timeout = var_smtp_mail_timeout;
        p->rcpt_timeout = var_smtp_rcpt_timeout;
        p->data_init_timeout = var_smtp_data_init_timeout;
        p->data_xfer_timeout = var_smtp_data_xfer_timeout;
        p->data_done_timeout = var_smtp_data_done_timeout;
        p->quit_timeout = var_smtp_quit_timeout;
        p->skip_5xx_greeting = var_smtp_skip_5xx_greeting;
        p->send_xforward = var_smtp_send_xforward_command;
        p->randomize = var_smtp_randomize_addresses;
        p->always_ehlo = var_smtp_always_send_ehlo;
        p->never_ehlo = var_smtp_never_send_ehlo;
        p->defer_if_no_mx_address = var_smtp_defer_if_no_mx_address_found;
        p->mx_address_limit = var_smtp_mx_address_limit;
        p->mx_session_limit = var_smtp_mx_session_limit;
        p->helo_name = var_smtp_helo_name;
        p->discard_keywords = var_smtp_discard_ehlo_keywords;
        p->host_lookup = var_smtp_host_lookup;
        p->tcp_port = var_smtp_tcp_port;
        p->fallback_relay = var_smtp_fallback_relay;
        p->dns_disabled = var_disable_dns_lookups || strcasecmp(var_smtp_dns_support_level, "disabled") == 0;
    } else {
        p->connect_timeout = smtp_lmtp_time("lmtp_connect_timeout", "0s");
        p->helo_timeout = smtp_lmtp_time("lmtp_lhlo_timeout", "300s");
        p->xforward_timeout = smtp_lmtp_time("lmtp_xforward_timeout", "300s");
        p->mail_timeout = smtp_lmtp_time("lmtp_mail_timeout", "300s");
        p->rcpt_timeout = smtp_lmtp_time("lmtp_rcpt_timeout", "300s");
        p->data_init_timeout = smtp_lmtp_time("lmtp_data_init_timeout", "120s");
        p->data_xfer_timeout = smtp_lmtp_time("lmtp_data_xfer_timeout", "180s");
        p->data_done_timeout = smtp_lmtp_time("lmtp_data_done_timeout", "600s");
        p->quit_timeout = smtp_lmtp_time("lmtp_quit_timeout", "300s");
        p->skip_5xx_greeting = smtp_lmtp_bool("lmtp_skip_5xx_greeting", "yes");
        p->send_xforward = smtp_lmtp_bool("lmtp_send_xforward_command", "no");
        p->randomize = smtp_lmtp_bool("lmtp_randomize_addresses", "yes");
        p->always_ehlo = true;
        p->never_ehlo = false;
        p->defer_if_no_mx_address = false;
        p->mx_address_limit = smtp_lmtp_int("lmtp_mx_address_limit", "5");
        p->mx_session_limit = smtp_lmtp_int("lmtp_mx_session_limit", "2");
        p->helo_name = var_lmtp_lhlo_name;
        p->discard_keywords = smtp_lmtp_value("lmtp_discard_lhlo_keywords", "");
        p->host_lookup = smtp_lmtp_value("lmtp_host_lookup", "dns");
        p->tcp_port = var_lmtp_tcp_port;
        p->fallback_relay = "";
        p->dns_disabled = var_disable_dns_lookups ||
                          strcasecmp(smtp_lmtp_value("lmtp_dns_support_level", ""), "disabled") == 0;
    }
}

/* Is DEST one of the relayhost destinations? */
static bool smtp_is_relayhost(const char *dest)
{
    char *copy;
    char *bp;
    char *item;
    bool found = false;

    if (var_relayhost == NULL || *var_relayhost == 0)
        return false;
    bp = copy = mystrdup(var_relayhost);
    while (!found && (item = mystrtok(&bp, ", \t\r\n")) != NULL)
        found = strcasecmp(item, dest) == 0;
    myfree(copy);
    return found;
}

/* Connect to one address; the session, or NULL with state->why set. */
static SMTP_SESSION *smtp_connect(SMTP_STATE *state, const SMTP_DEST *dest, const SMTP_ADDR *addr)
{
    SMTP_SESSION *session;
    VSTRING *buf = vstring_alloc(100);
    int fd;

    if (dest->kind == SMTP_DEST_UNIX) {
        vstring_sprintf(buf, "%s[%s]", var_myhostname, dest->name);
        fd = unix_connect(dest->name, BLOCKING, smtp_params.connect_timeout);
    } else {
        vstring_sprintf(buf, "[%s]:%u", addr->addr, dest->port);
        fd = inet_connect(vstring_str(buf), BLOCKING, smtp_params.connect_timeout);
        vstring_sprintf(buf, "%s[%s]", addr->host, addr->addr);
    }
    if (fd < 0) {
        if (dest->kind == SMTP_DEST_UNIX)
            smtp_site_fail(state, "none", "4.4.1", NULL, NULL, "connect to %s: %m", dest->name);
        else
            smtp_site_fail(state, "none", "4.4.1", NULL, NULL, "connect to %s:%u: %m", vstring_str(buf),
                           dest->port);
        if (dest->kind != SMTP_DEST_UNIX)
            smtp_dead_mark(addr->addr, dest->port, time(NULL));
        if (!state->last_addr)
            msg_info("%s", vstring_str(state->why->reason));
        vstring_free(buf);
        return NULL;
    }
    if (dest->kind != SMTP_DEST_UNIX) {
        int on = 1;

        smtp_dead_clear(addr->addr, dest->port);
        /* Our stream buffers whole commands and content blocks; without
         * this, the last partial block of a message waits for the peer's
         * delayed ACK (Nagle): ~40 ms per message over 8 KB. */
        (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
    }
    session = mymalloc(sizeof(*session));
    memset(session, 0, sizeof(*session));
    session->stream = vstream_fdopen(fd, O_RDWR);
    session->namaddr = vstring_export(buf);
    if (dest->kind == SMTP_DEST_UNIX) {
        session->host = mystrdup(var_myhostname);
        session->addr = mystrdup(dest->name);
        session->relay = mystrdup(session->namaddr);
    } else {
        session->host = mystrdup(addr->host);
        session->addr = mystrdup(addr->addr);
        session->port = dest->port;
        buf = vstring_alloc(100);
        vstring_sprintf(buf, "%s:%u", session->namaddr, dest->port);
        session->relay = vstring_export(buf);
    }
    return session;
}

/* End a session: the connection cache takes it, or it is closed. */
static void smtp_session_end(SMTP_STATE *state, SMTP_SESSION *session)
{
    state->request->msg_stats.reuse_count = 0;
    if (!smtp_cache_save(state, session))
        smtp_session_free(session);
}

/* Recipients still to be decided. */
static int smtp_pending(const SMTP_STATE *state)
{
    int n = 0;

    for (int i = 0; i < state->request->rcpt_list.len; i++)
        if (state->rcpt_stat[i] != SMTP_RCPT_DONE)
            n++;
    return n;
}

/* Record a failure of a destination that reached no server. */
static void smtp_dest_fail(SMTP_STATE *state, DSN_BUF *why)
{
    smtp_site_fail(state, "none", vstring_str(why->status), NULL, NULL, "%s", vstring_str(why->reason));
}

/* The final report for recipients no server decided. */
static void smtp_final_report(SMTP_STATE *state, bool why_config, const char *config_name)
{
    DELIVER_REQUEST *request = state->request;

    if (smtp_pending(state) == 0)
        return;
    if (VSTRING_LEN(state->why->status) == 0)
        dsb_simple(state->why, "4.4.1", "delivery temporarily suspended: no address to try");
    if (why_config && vstring_str(state->why->status)[0] == '5') {
        msg_warn("%s configuration problem", config_name);
        vstring_strcpy(state->why->status, "4.3.5");
    }
    /* The log shows the connection the failure happened on (conn_use=). */
    request->msg_stats.reuse_count = state->why_reuse;
    smtp_report_pending(state, state->why_relay ? state->why_relay : "none", state->why, SMTP_REPORT_AUTO);
    request->msg_stats.reuse_count = 0;
    if (state->why_site && vstring_str(state->why->status)[0] == '4') {
        vstring_strcpy(request->hop_status->status, vstring_str(state->why->status));
        vstring_strcpy(request->hop_status->reason, vstring_str(state->why->reason));
    }
}

/* First try a cached connection to the destination, if there is one. */
static void smtp_try_cached(SMTP_STATE *state)
{
    SMTP_SESSION *session;

    /* A cached session is plaintext: not for a destination requiring TLS. */
    if (!smtp_tls_cache_ok(state) || (session = smtp_cache_find(state)) == NULL)
        return;
    state->nexthop = state->request->nexthop;
    state->dest_text = state->request->nexthop;
    state->last_addr = false;
    (void)smtp_proto(state, session);
    for (int i = 0; i < state->request->rcpt_list.len; i++) {
        /* A 4xx RCPT reply: other servers may take it, this one not again. */
        if (state->rcpt_stat[i] == SMTP_RCPT_SOFT && state->soft_addr == NULL) {
            state->soft_addr = mystrdup(session->addr);
            state->soft_port = session->port;
        }
        if (state->rcpt_stat[i] != SMTP_RCPT_DONE)
            state->rcpt_stat[i] = SMTP_RCPT_PENDING;
    }
    smtp_session_end(state, session);
}

/* Deliver one request; DEL_STAT_FINAL or DEL_STAT_DEFER. */
static int smtp_deliver(DELIVER_REQUEST *request)
{
    SMTP_STATE state;
    ARGV *sites = argv_split(request->nexthop, ", \t\r\n");
    size_t fallback_start = sites->argc;
    DSN_BUF *why = dsb_create();
    bool why_config = false;
    const char *why_config_name = "relayhost";

    memset(&state, 0, sizeof(state));
    state.request = request;
    state.status = DEL_STAT_FINAL;
    state.why = dsb_create();
    state.rcpt_stat = mymalloc(sizeof(int) * (request->rcpt_list.len + 1));
    for (int i = 0; i < request->rcpt_list.len; i++)
        state.rcpt_stat[i] = SMTP_RCPT_PENDING;
    if (!smtp_lmtp_mode && smtp_params.fallback_relay && *smtp_params.fallback_relay) {
        ARGV *fb = argv_split(smtp_params.fallback_relay, ", \t\r\n");

        for (size_t i = 0; i < fb->argc; i++) {
            bool dup = false;

            for (size_t k = 0; k < sites->argc; k++)
                if (strcasecmp(sites->argv[k], fb->argv[i]) == 0)
                    dup = true;
            if (!dup)
                argv_add(sites, fb->argv[i]);
        }
        argv_free(fb);
    }

    smtp_try_cached(&state);
    for (size_t si = 0; si < sites->argc && smtp_pending(&state) > 0; si++) {
        SMTP_DEST dest;
        SMTP_ADDR_LIST list;
        const char *err;
        bool config = si >= fallback_start || smtp_is_relayhost(sites->argv[si]);
        const char *config_name = si >= fallback_start ? "smtp_fallback_relay" : "relayhost";
        int addr_count = 0;
        int sess_count = 0;
        bool stop = false;

        if ((err = smtp_dest_parse(&dest, sites->argv[si], smtp_params.tcp_port, smtp_lmtp_mode)) != NULL) {
            msg_warn("%s: %s", request->queue_id, err);
            dsb_simple(why, "4.3.5", "mail system configuration error: %s", err);
            smtp_dest_fail(&state, why);
            why_config = false;
            continue;
        }
        state.nexthop = dest.name;
        if (smtp_tls_policy_dest(&state, sites->argv[si], &dest) < 0) {
            why_config = false;
            smtp_dest_free(&dest);
            continue;
        }
        state.dest_text = sites->argv[si];
        if (dest.kind == SMTP_DEST_UNIX) {
            smtp_addr_list_init(&list);
            smtp_addr_list_add(&list, dest.name, dest.name, 0);
        } else if (smtp_addr_resolve(&dest, &list, why) != SMTP_RESOLVE_OK) {
            smtp_dest_fail(&state, why);
            why_config = config;
            why_config_name = config_name;
            /* A null MX is final; other failures may use fallback relays. */
            if (strcmp(vstring_str(why->status), "5.1.0") == 0)
                stop = true;
            smtp_dest_free(&dest);
            if (stop)
                break;
            continue;
        }

        /* Loops back to myself: only for destinations on port 25. */
        if (!smtp_lmtp_mode && dest.port == 25) {
            int self_pref = smtp_addr_prune_self(&list, smtp_addr_is_own);

            if (self_pref >= 0) {
                /* Never use fallback relays for a domain we are MX for. */
                if (si < fallback_start)
                    argv_truncate(sites, fallback_start);
                if (list.len == 0 && self_pref <= list.best_pref && *var_best_mx_transport) {
                    /* best_mx_transport: we are the best MX, deliver here. */
                    smtp_best_mx_pass(&state, var_best_mx_transport);
                    smtp_addr_list_free(&list);
                    smtp_dest_free(&dest);
                    break;
                }
                if (list.len == 0) {
                    if (self_pref <= list.best_pref)
                        dsb_simple(why, "5.4.6", "mail for %s loops back to myself", dest.name);
                    else
                        dsb_simple(why, "4.4.4", "unable to find primary relay for %s", dest.name);
                    smtp_dest_fail(&state, why);
                    why_config = config;
                    why_config_name = config_name;
                }
            }
        }

        state.config_problem = config;
        for (int ai = 0; ai < list.len && smtp_pending(&state) > 0; ai++) {
            SMTP_SESSION *session;
            int result;

            if (smtp_params.mx_address_limit > 0 && addr_count >= smtp_params.mx_address_limit)
                break;
            addr_count++;
            /* Already asked over the cached session (smtp_try_cached()). */
            if (state.soft_addr && strcmp(list.info[ai].addr, state.soft_addr) == 0 &&
                dest.port == state.soft_port) {
                sess_count++;
                continue;
            }
            state.last_addr =
                si + 1 >= sites->argc &&
                (ai + 1 >= list.len ||
                 (smtp_params.mx_address_limit > 0 && addr_count >= smtp_params.mx_address_limit) ||
                 (smtp_params.mx_session_limit > 0 && sess_count + 1 >= smtp_params.mx_session_limit));
            /* The TLS level for this address (DANE: its TLSA records). */
            if (smtp_tls_policy_host(&state, &dest, &list, list.info + ai) < 0) {
                why_config = false;
                continue;
            }
            if ((session = smtp_connect(&state, &dest, list.info + ai)) == NULL) {
                why_config = false;
                continue;
            }
            sess_count++;
            if (list.info[ai].pref == list.best_pref)
                session->features |= SMTP_FEAT_BEST_MX;
            result = smtp_proto(&state, session);
            smtp_session_end(&state, session);
            for (int i = 0; i < request->rcpt_list.len; i++)
                if (state.rcpt_stat[i] != SMTP_RCPT_DONE)
                    state.rcpt_stat[i] = SMTP_RCPT_PENDING;
            /* Opportunistic TLS failed in the handshake: the same address
             * again, in plaintext (smtp_tls.c). */
            if (state.tls_retry_plain) {
                state.tls_retry_plain = false;
                state.tls->level = TLS_LEV_NONE;
                if ((session = smtp_connect(&state, &dest, list.info + ai)) != NULL) {
                    if (list.info[ai].pref == list.best_pref)
                        session->features |= SMTP_FEAT_BEST_MX;
                    result = smtp_proto(&state, session);
                    smtp_session_end(&state, session);
                    for (int i = 0; i < request->rcpt_list.len; i++)
                        if (state.rcpt_stat[i] != SMTP_RCPT_DONE)
                            state.rcpt_stat[i] = SMTP_RCPT_PENDING;
                }
            }
            why_config = config && state.why_site;
            why_config_name = config_name;
            if (result == SMTP_PROTO_FINAL) {
                smtp_final_report(&state, why_config, why_config_name);
                stop = true;
                break;
            }
            if (smtp_params.mx_session_limit > 0 && sess_count >= smtp_params.mx_session_limit)
                break;
        }
        smtp_addr_list_free(&list);
        smtp_dest_free(&dest);
        if (stop)
            break;
    }
    state.nexthop = request->nexthop;
    smtp_final_report(&state, why_config, why_config_name);

    smtp_tls_policy_done(&state);
    argv_free(sites);
    dsb_free(why);
    dsb_free(state.why);
    if (state.why_relay)
        myfree(state.why_relay);
    myfree(state.rcpt_stat);
    if (state.soft_addr)
        myfree(state.soft_addr);
    return state.status;
}

/* One delivery request. */
static void smtp_service(VSTREAM *client, char *service UNUSED, char **argv UNUSED)
{
    DELIVER_REQUEST *request;
    int status;

    if ((request = deliver_request_read(client)) == NULL)
        return;
    status = request->rcpt_list.len > 0 ? smtp_deliver(request) : DEL_STAT_FINAL;
    (void)deliver_request_done(client, request, status);
}

/* Open what must be opened while privileged: smtp_sasl_password_maps,
 * TLS keys and certificates, the TLS policy tables. */
static void smtp_pre_init(char *service UNUSED, char **argv UNUSED)
{
    smtp_sasl_init();
    smtp_tls_init();
}

/* Read the parameters once the configuration is known. */
static void smtp_post_init(char *service UNUSED, char **argv UNUSED)
{
    smtp_params_init();
    smtp_cache_init();
}

int main(int argc, char **argv)
{
    static const MAIL_SERVER_OPTS opts = {
        .pre_init = smtp_pre_init,
        .post_init = smtp_post_init,
        .on_exit = smtp_cache_exit,
    };
    const char *slash = strrchr(argv[0], '/');

    smtp_lmtp_mode = strcmp(slash ? slash + 1 : argv[0], "lmtp") == 0;
    single_server_main(argc, argv, smtp_service, &opts);
}
