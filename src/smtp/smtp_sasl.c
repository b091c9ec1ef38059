/*
 * smtp_sasl - SASL authentication in the SMTP/LMTP client (smtp.h;
 * spec/security.md 6). LMTP reads the lmtp_sasl_* twins and
 * lmtp_sender_dependent_authentication.
 *
 *   smtp_sasl_init() runs before privileges are dropped: with
 *       smtp_sasl_auth_enable it opens smtp_sasl_password_maps (so the
 *       file may be mode 0600 root), builds smtp_sasl_mechanism_filter,
 *       parses the three security option sets and starts the client
 *       backend (smtp_sasl_type, smtp_sasl_path).
 *   smtp_sasl_authenticate(state, session, resp) runs after EHLO (and
 *       after STARTTLS): when the server offers AUTH, its mechanisms are
 *       filtered by smtp_sasl_mechanism_filter (nothing left: a warning
 *       "NAME[ADDR]:PORT offered no supported AUTH mechanisms: 'LIST'");
 *       the credentials are looked up (smtp_sasl.h: sender when
 *       sender-dependent, host, next hop as written); none: the mail goes
 *       unauthenticated. Else the backend picks a mechanism allowed by
 *       smtp_sasl_security_options (smtp_sasl_tls_security_options on an
 *       encrypted session, smtp_sasl_tls_verified_security_options when
 *       the server certificate also matched) and the AUTH exchange runs:
 *       "AUTH MECH [initial-response]", 334 challenges answered by the
 *       backend, 235 to go on. Nothing is logged on success.
 *
 * Errors (server-wide failures: the session ends with QUIT and the
 * next address is tried; the last failure is the delivery status):
 *   4.7.0 "SASL authentication failed; cannot authenticate to server
 *         NAME[ADDR]: REASON" (no mechanism allowed, backend failure),
 *   4.7.0 "SASL authentication failed: server NAME[ADDR] offered no
 *         compatible authentication mechanisms for this type of
 *         connection security" (the filter left nothing),
 *   the server's status "SASL authentication failed; server NAME[ADDR]
 *         said: REPLY" for a reply other than 334/235; a 5xx becomes 4xx
 *         with smtp_sasl_auth_soft_bounce = yes, else it bounces,
 *   4.3.0 "local data error while talking to NAME[ADDR]" after a
 *         password or filter table lookup failure (with a warning).
 * A lost connection or timeout is reported like any other stage
 * ("... while performing the EHLO handshake"). A backend that cannot be
 * initialised at all is fatal (the master restarts the process; the mail
 * stays queued), as in Postfix.
 *
 * Not implemented: smtp_sasl_auth_cache_name (the cache of failed
 * logins).
 */
#include "sys_defs.h"

#include <string.h>
#include <strings.h>

#include "dict.h"
#include "dsn.h"
#include "mail_addr_find.h"
#include "mail_conf.h"
#include "mail_params.h"
#include "maps.h"
#include "msg.h"
#include "mymalloc.h"
#include "smtp.h"
#include "smtp_sasl.h"
#include "string_list.h"
#include "stringops.h"
#include "tls.h"
#include "vstream.h"
#include "vstring.h"
#include "xsasl.h"

/* Round trips after which the exchange is called a loop. */
#define SMTP_SASL_MAX_STEPS 20

/* The settings, from smtp_* or lmtp_* parameters. */
static struct {
    bool enable;
    bool sender_auth;
    bool soft_bounce;
    int delim;
    int secopts;
    int tls_secopts;
    int tls_verified_secopts;
} smtp_sasl_params;

static MAPS *smtp_sasl_passwd_map;
static STRING_LIST *smtp_sasl_mech_filter;
static XSASL_CLIENT_IMPL *smtp_sasl_impl;

/* An lmtp_* parameter's expanded value, or DEF expanded (never freed). */
static const char *smtp_sasl_lmtp_value(const char *name, const char *def)
{
    const char *value = mail_conf_eval(name);
    VSTRING *buf;

    if (value != NULL)
        return value;
    buf = vstring_alloc(100);
    mail_conf_expand(buf, def);
    return vstring_export(buf);
}

/* A parameter by its smtp_* value or its lmtp_* twin's name. */
static const char *smtp_sasl_param(const char *smtp_value, const char *lmtp_name, const char *lmtp_def)
{
    return smtp_lmtp_mode ? smtp_sasl_lmtp_value(lmtp_name, lmtp_def) : smtp_value;
}

/* A boolean parameter by its smtp_* value or its lmtp_* twin. */
static bool smtp_sasl_bool(bool smtp_value, const char *lmtp_name, const char *lmtp_def)
{
    return smtp_lmtp_mode ? strcasecmp(smtp_sasl_lmtp_value(lmtp_name, lmtp_def), "yes") == 0 : smtp_value;
}

/* Parse one security option set; fatal on an unknown word. */
static int smtp_sasl_secopts(const char *param, const char *text)
{
    int opts = xsasl_security_options(param, text);

    if (opts < 0)
        msg_fatal("bad %s value: %s", param, text);
    return opts;
}

/* Read the parameters and open the tables; see above. */
void smtp_sasl_init(void)
{
    const char *pfx = smtp_lmtp_mode ? "lmtp" : "smtp";
    VSTRING *name = vstring_alloc(60);
    const char *maps;
    const char *filter;
    const char *type;
    const char *path;
    const char *delim;
    const char *opts;

    smtp_sasl_params.enable = smtp_sasl_bool(var_smtp_sasl_auth_enable, "lmtp_sasl_auth_enable", "no");
    if (!smtp_sasl_params.enable) {
        vstring_free(name);
        return;
    }
    smtp_sasl_params.sender_auth = smtp_sasl_bool(var_smtp_sender_dependent_authentication,
                                                  "lmtp_sender_dependent_authentication", "no");
    smtp_sasl_params.soft_bounce =
        smtp_sasl_bool(var_smtp_sasl_auth_soft_bounce, "lmtp_sasl_auth_soft_bounce", "yes");
    maps = smtp_lmtp_mode ? var_lmtp_sasl_password_maps : var_smtp_sasl_password_maps;
    filter = smtp_sasl_param(var_smtp_sasl_mechanism_filter, "lmtp_sasl_mechanism_filter", "");
    type = smtp_sasl_param(var_smtp_sasl_type, "lmtp_sasl_type", "cyrus");
    path = smtp_sasl_param(var_smtp_sasl_path, "lmtp_sasl_path", "");
    delim = var_smtp_sasl_password_result_delimiter;
    smtp_sasl_params.delim = delim && *delim ? (unsigned char)*delim : ':';

    /* Each TLS set defaults to the set before it (Postfix's defaults). */
    opts = smtp_sasl_param(var_smtp_sasl_security_options, "lmtp_sasl_security_options",
                           "noplaintext, noanonymous");
    smtp_sasl_params.secopts =
        smtp_sasl_secopts(smtp_lmtp_mode ? "lmtp_sasl_security_options" : "smtp_sasl_security_options", opts);
    if (smtp_lmtp_mode)
        opts = mail_conf_eval("lmtp_sasl_tls_security_options")
                   ? mail_conf_eval("lmtp_sasl_tls_security_options")
                   : opts;
    else
        opts = var_smtp_sasl_tls_security_options;
    smtp_sasl_params.tls_secopts = smtp_sasl_secopts(
        smtp_lmtp_mode ? "lmtp_sasl_tls_security_options" : "smtp_sasl_tls_security_options", opts);
    if (smtp_lmtp_mode)
        opts = mail_conf_eval("lmtp_sasl_tls_verified_security_options")
                   ? mail_conf_eval("lmtp_sasl_tls_verified_security_options")
                   : opts;
    else
        opts = var_smtp_sasl_tls_verified_security_options;
    smtp_sasl_params.tls_verified_secopts =
        smtp_sasl_secopts(smtp_lmtp_mode ? "lmtp_sasl_tls_verified_security_options"
                                         : "smtp_sasl_tls_verified_security_options",
                          opts);

    vstring_sprintf(name, "%s_sasl_password_maps", pfx);
    smtp_sasl_passwd_map = maps_create(vstring_str(name), maps ? maps : "", DICT_FLAG_DEFAULT);
    if (filter != NULL && *filter) {
        vstring_sprintf(name, "%s_sasl_mechanism_filter", pfx);
        smtp_sasl_mech_filter = string_list_init(vstring_str(name), filter);
    }
    if ((smtp_sasl_impl = xsasl_client_init(type, path)) == NULL)
        msg_fatal("SASL library initialization");
    vstring_free(name);
}

/* Split a "username:password" table value; see smtp_sasl.h. */
static void smtp_sasl_split(const char *value, int delim, char **user, char **pass)
{
    const char *sep = strchr(value, delim);

    if (sep != NULL) {
        *user = mystrndup(value, (size_t)(sep - value));
        *pass = mystrdup(sep + 1);
    } else {
        *user = mystrdup(value);
        *pass = mystrdup("");
    }
}

/* The credentials for this session; see smtp_sasl.h. */
int smtp_sasl_passwd_lookup(MAPS *maps, const char *sender, const char *host, const char *dest, int delim,
                            char **user, char **pass)
{
    const char *value = NULL;

    *user = *pass = NULL;
    if (sender != NULL && *sender) {
        value = mail_addr_find(maps, sender, NULL);
        if (value == NULL && maps->error)
            return -1;
    }
    if (value == NULL && host != NULL && *host) {
        value = maps_find(maps, host, 0);
        if (value == NULL && maps->error)
            return -1;
    }
    if (value == NULL && dest != NULL && *dest) {
        value = maps_find(maps, dest, 0);
        if (value == NULL && maps->error)
            return -1;
    }
    if (value == NULL)
        return 0;
    smtp_sasl_split(value, delim, user, pass);
    return 1;
}

/* The offered mechanisms the filter allows; see smtp_sasl.h. */
int smtp_sasl_filter_mechs(const char *offered, STRING_LIST *filter, VSTRING *out)
{
    char *copy = mystrdup(offered ? offered : "");
    char *bp = copy;
    char *mech;
    int result = 0;

    vstring_strcpy(out, "");
    while ((mech = mystrtok(&bp, " \t")) != NULL) {
        if (filter != NULL && !string_list_match(filter, mech)) {
            if (filter->error) {
                result = -1;
                break;
            }
            continue;
        }
        if (VSTRING_LEN(out))
            vstring_addch(out, ' ');
        vstring_strcat(out, mech);
    }
    myfree(copy);
    return result;
}

/* End the session politely after a failure that left the stream usable. */
static int smtp_sasl_quit(SMTP_SESSION *session, SMTP_RESP *resp)
{
    session->stage = "sending QUIT";
    if (smtp_chat_cmd(session, smtp_params.quit_timeout, "QUIT") == 0)
        (void)smtp_chat_resp(session, resp, smtp_params.quit_timeout);
    return SMTP_PROTO_SITE;
}

/* The security options for this session (plain, TLS, verified TLS). */
static int smtp_sasl_session_secopts(const SMTP_SESSION *session)
{
    if (session->tls_context == NULL)
        return smtp_sasl_params.secopts;
    if (TLS_CERT_IS_MATCHED(session->tls_context))
        return smtp_sasl_params.tls_verified_secopts;
    return smtp_sasl_params.tls_secopts;
}

/* A 4.3.0 failure after a table lookup error. */
static int smtp_sasl_data_error(SMTP_STATE *state, SMTP_SESSION *session, SMTP_RESP *resp, const char *what)
{
    msg_warn("%s: %s lookup error", state->request->queue_id, what);
    smtp_site_fail(state, session->relay, "4.3.0", NULL, NULL, "local data error while talking to %s",
                   session->namaddr);
    return smtp_sasl_quit(session, resp);
}

/* Record a failure reply from the server (soft bounce applied). */
static int smtp_sasl_reply_fail(SMTP_STATE *state, SMTP_SESSION *session, SMTP_RESP *resp)
{
    if (resp->code / 100 == 5 && smtp_sasl_params.soft_bounce)
        resp->dsn[0] = '4';
    else if (resp->code / 100 != 5)
        resp->dsn[0] = '4';
    smtp_site_fail(state, session->relay, resp->dsn, vstring_str(resp->text), session->host,
                   "SASL authentication failed; server %s said: %s", session->namaddr,
                   vstring_str(resp->text));
    /* A permanent refusal is the server's verdict, not a relayhost
     * configuration problem: it bounces as it stands. */
    if (resp->dsn[0] == '5')
        state->why_site = false;
    return smtp_sasl_quit(session, resp);
}

/* The AUTH exchange with CLIENT; 0 when authenticated, else SMTP_PROTO_*. */
static int smtp_sasl_exchange(SMTP_STATE *state, SMTP_SESSION *session, SMTP_RESP *resp, XSASL_CLIENT *client,
                              const char *mechs, const char *user, const char *pass)
{
    VSTRING *buf = vstring_alloc(100);
    const char *mech = NULL;
    int timeout = smtp_params.helo_timeout;
    int steps = 0;
    int result = 0;

    if (xsasl_client_first(client, mechs, user, pass, &mech, buf) != XSASL_AUTH_OK || mech == NULL) {
        smtp_site_fail(state, session->relay, "4.7.0", NULL, NULL,
                       "SASL authentication failed; cannot authenticate to server %s: %s", session->namaddr,
                       VSTRING_LEN(buf) ? vstring_str(buf) : "no mechanism available");
        result = smtp_sasl_quit(session, resp);
        goto done;
    }
    if (msg_verbose)
        msg_info("%s: %s: SASL mechanisms %s, using %s", __func__, session->namaddr, mechs, mech);
    if ((VSTRING_LEN(buf) ? smtp_chat_cmd(session, timeout, "AUTH %s %s", mech, vstring_str(buf))
                          : smtp_chat_cmd(session, timeout, "AUTH %s", mech)) < 0 ||
        smtp_chat_resp(session, resp, timeout) < 0) {
        result = smtp_stream_fail(state, session);
        goto done;
    }
    while (resp->code == 334) {
        if (++steps > SMTP_SASL_MAX_STEPS) {
            smtp_site_fail(state, session->relay, "4.7.0", NULL, NULL,
                           "SASL authentication failed; authentication protocol loop with server %s",
                           session->namaddr);
            result = smtp_sasl_quit(session, resp);
            goto done;
        }
        if (xsasl_client_next(client, vstring_str(resp->first), buf) != XSASL_AUTH_OK) {
            smtp_site_fail(state, session->relay, "4.7.0", NULL, NULL,
                           "SASL authentication failed; cannot authenticate to server %s: %s",
                           session->namaddr, vstring_str(buf));
            /* Cancel the exchange (RFC 4954) before saying goodbye. */
            if (smtp_chat_cmd(session, timeout, "*") < 0 || smtp_chat_resp(session, resp, timeout) < 0)
                result = SMTP_PROTO_SITE;
            else
                result = smtp_sasl_quit(session, resp);
            goto done;
        }
        if (smtp_chat_cmd(session, timeout, "%s", vstring_str(buf)) < 0 ||
            smtp_chat_resp(session, resp, timeout) < 0) {
            result = smtp_stream_fail(state, session);
            goto done;
        }
    }
    if (resp->code / 100 != 2)
        result = smtp_sasl_reply_fail(state, session, resp);

done:
    vstring_free(buf);
    return result;
}

/* Authenticate to the server when configured; see above. */
int smtp_sasl_authenticate(SMTP_STATE *state, SMTP_SESSION *session, SMTP_RESP *resp)
{
    DELIVER_REQUEST *request = state->request;
    VSTRING *mechs;
    XSASL_CLIENT *client;
    XSASL_CLIENT_CREATE_ARGS args;
    char *user;
    char *pass;
    int found;
    int result;

    if (!smtp_sasl_params.enable || !(session->features & SMTP_FEAT_AUTH))
        return 0;
    if (session->sasl_mechanisms == NULL || *session->sasl_mechanisms == 0) {
        msg_warn("%s offered null AUTH mechanism list", session->relay);
        return 0;
    }
    mechs = vstring_alloc(50);
    if (smtp_sasl_filter_mechs(session->sasl_mechanisms, smtp_sasl_mech_filter, mechs) < 0) {
        vstring_free(mechs);
        return smtp_sasl_data_error(state, session, resp, smtp_sasl_mech_filter->title);
    }
    if (VSTRING_LEN(mechs) == 0)
        msg_warn("%s offered no supported AUTH mechanisms: '%s'", session->relay, session->sasl_mechanisms);

    found = smtp_sasl_passwd_lookup(
        smtp_sasl_passwd_map, smtp_sasl_params.sender_auth ? request->sender : NULL, session->host,
        state->dest_text ? state->dest_text : state->nexthop, smtp_sasl_params.delim, &user, &pass);
    if (found < 0) {
        vstring_free(mechs);
        return smtp_sasl_data_error(state, session, resp, smtp_sasl_passwd_map->title);
    }
    if (found == 0) {
        if (msg_verbose)
            msg_info("%s: no SASL credentials for %s", __func__, session->namaddr);
        vstring_free(mechs);
        return 0;
    }
    if (VSTRING_LEN(mechs) == 0) {
        smtp_site_fail(
            state, session->relay, "4.7.0", NULL, NULL,
            "SASL authentication failed: server %s offered no compatible authentication mechanisms "
            "for this type of connection security",
            session->namaddr);
        result = smtp_sasl_quit(session, resp);
    } else {
        memset(&args, 0, sizeof(args));
        args.service = smtp_lmtp_mode ? "lmtp" : "smtp";
        args.server_name = session->host;
        args.security_options = smtp_sasl_session_secopts(session);
        args.tls = session->tls_context != NULL;
        if ((client = xsasl_client_create(smtp_sasl_impl, &args)) == NULL) {
            smtp_site_fail(state, session->relay, "4.7.0", NULL, NULL,
                           "SASL authentication failed; cannot authenticate to server %s: %s",
                           session->namaddr, "SASL per-connection initialization failed");
            result = smtp_sasl_quit(session, resp);
        } else {
            result = smtp_sasl_exchange(state, session, resp, client, vstring_str(mechs), user, pass);
            xsasl_client_free(client);
        }
    }
    memset(pass, 0, strlen(pass));
    myfree(user);
    myfree(pass);
    vstring_free(mechs);
    return result;
}
