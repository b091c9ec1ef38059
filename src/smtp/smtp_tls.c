/*
 * smtp_tls - TLS in the SMTP/LMTP client: STARTTLS after EHLO, wrapper
 * mode before the greeting, and what each security level demands
 * (spec/security.md 8; smtp.h, smtp_tls_policy.h).
 *
 *   smtp_tls_init() reads the parameters and builds the client context
 *       (certificates, CAs) when some destination can use TLS.
 *   smtp_tls_wrap(state, session) takes the address's level from
 *       state->tls and, with smtp_tls_wrappermode, runs the handshake
 *       before the greeting.
 *   smtp_tls_starttls(state, session, resp) after EHLO: at "none" only
 *       notes the offer (smtp_tls_note_starttls_offer: "Host offered
 *       STARTTLS: [HOST]"); otherwise STARTTLS when offered, the
 *       handshake, the certificate checks of the level, and EHLO again.
 *   smtp_tls_end(session) ends TLS on a session before its stream closes.
 *
 * Outcomes, as Postfix 3.7: TLS required but not offered: 4.7.4 "TLS is
 * required, but was not offered by host NAME[ADDR]"; STARTTLS refused:
 * "TLS is required, but host NAME[ADDR] refused to start TLS: REPLY"
 * (at "may" the session goes on in plaintext); no client context:
 * 4.7.5 "TLS is required, but our TLS engine is unavailable"; handshake
 * failure: 4.7.5 "Cannot start TLS: handshake failure", except that at
 * "may" a message that was already deferred once (in the queue for at
 * least minimal_backoff_time, or an address probe) is retried at once
 * over a new plaintext connection to the same address
 * (state->tls_retry_plain); untrusted chain at "dane" or stronger:
 * 4.7.5 "Server certificate not trusted"; no name/fingerprint/TLSA
 * match above "encrypt": 4.7.5 "Server certificate not verified".
 * Failed checks end the session politely (QUIT over TLS). With
 * smtp_tls_loglevel >= 1 every session logs "... TLS connection
 * established to NAME[ADDR]:PORT: ...".
 */
#include "sys_defs.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/time.h>

#include "argv.h"
#include "deliver_request.h"
#include "mail_params.h"
#include "mail_server.h"
#include "msg.h"
#include "mymalloc.h"
#include "rec_type.h"
#include "smtp.h"
#include "smtp_tls_policy.h"
#include "tls.h"
#include "vstream.h"
#include "vstring.h"

static TLS_APPL_STATE *smtp_tls_ctx;

/* Read the parameters, build the client context; see above. */
void smtp_tls_init(void)
{
    TLS_CLIENT_INIT_PROPS props;
    const SMTP_TLS_PARAMS *p;
    int level;

    smtp_tls_params_init();
    p = &smtp_tls_params;
    if ((level = smtp_tls_level_default()) == TLS_LEV_INVALID)
        msg_fatal("invalid TLS security level: \"%s\"", p->level);
    if (level == TLS_LEV_NONE && *p->policy_maps == 0 && !p->wrappermode)
        return;
    memset(&props, 0, sizeof(props));
    props.log_level = p->loglevel;
    props.cert_file = p->cert_file;
    props.key_file = p->key_file;
    props.eccert_file = p->eccert_file;
    props.eckey_file = p->eckey_file;
    props.chain_files = p->chain_files;
    props.CAfile = p->CAfile;
    props.CApath = p->CApath;
    props.verifydepth = p->verifydepth;
    props.mdalg = p->mdalg;
    props.cache_timeout = *p->cache_database ? p->cache_timeout : 0;
    smtp_tls_ctx = tls_client_init(&props);
}

/* Polite end after a failed check; errors do not matter any more. */
static void smtp_tls_quit(SMTP_SESSION *session, SMTP_RESP *resp)
{
    session->stage = "sending QUIT";
    if (smtp_chat_cmd(session, smtp_params.quit_timeout, "QUIT") == 0)
        (void)smtp_chat_resp(session, resp, smtp_params.quit_timeout);
}

/* Split a match list; fingerprint lists from the policy table use '|'. */
static ARGV *smtp_tls_match_list(const SMTP_TLS_POLICY *policy, int level)
{
    if (level == TLS_LEV_FPRINT)
        return policy->match ? argv_split(policy->match, "|")
                             : argv_split(smtp_tls_params.fingerprint_cert_match, ", \t\r\n");
    if (level == TLS_LEV_VERIFY)
        return argv_split(policy->match ? policy->match : smtp_tls_params.verify_cert_match, ", \t\r\n:");
    if (level == TLS_LEV_SECURE)
        return argv_split(policy->match ? policy->match : smtp_tls_params.secure_cert_match, ", \t\r\n:");
    return NULL;
}

/* Does the "may" level allow a plaintext retry after a failed handshake?
 * Only for a message deferred before (or an address probe). */
static bool smtp_tls_plain_retry_ok(const SMTP_STATE *state, int level)
{
    const DELIVER_REQUEST *request = state->request;
    long preactive =
        (long)(request->msg_stats.active_arrival.tv_sec - request->msg_stats.incoming_arrival.tv_sec);

    if (level != TLS_LEV_MAY || smtp_tls_params.wrappermode)
        return false;
    return (request->flags & DEL_REQ_FLAG_MTA_VRFY) != 0 || preactive >= var_minimal_backoff_time;
}

/* The handshake and the level's checks; 0 or SMTP_PROTO_SITE. */
static int smtp_tls_handshake(SMTP_STATE *state, SMTP_SESSION *session, SMTP_RESP *resp, bool polite)
{
    const SMTP_TLS_PARAMS *p = &smtp_tls_params;
    const SMTP_TLS_POLICY *policy = state->tls;
    TLS_CLIENT_START_PROPS props;
    VSTRING *serverid = vstring_alloc(100);
    ARGV *match;
    TLS_SESS_STATE *sess;
    int level = session->tls_level;
    bool mandatory = level >= TLS_LEV_ENCRYPT;

    match = smtp_tls_match_list(policy, level);
    if (TLS_DANE_BASED(level) && policy->dane_match) {
        match = argv_alloc(2);
        for (size_t i = 0; i < policy->dane_match->argc; i++)
            argv_add(match, policy->dane_match->argv[i]);
    }
    vstring_sprintf(serverid, "%s:%s:%u:%s:%s", mail_server_service_name ? mail_server_service_name : "smtp",
                    session->addr, session->port, session->host, tls_level_name(level));
    memset(&props, 0, sizeof(props));
    props.stream = session->stream;
    props.timeout = p->starttls_timeout;
    props.tls_level = level;
    props.nexthop = policy->nexthop;
    props.host = session->host;
    props.namaddr = session->relay;
    props.serverid = vstring_str(serverid);
    props.protocols = policy->protocols ? policy->protocols
                      : mandatory       ? p->mandatory_protocols
                                        : p->protocols;
    props.cipher_grade = policy->ciphers ? policy->ciphers : mandatory ? p->mandatory_ciphers : p->ciphers;
    props.exclude_ciphers = policy->exclude ? policy->exclude : mandatory ? p->mandatory_exclude : p->exclude;
    props.matchargv = match;
    props.mdalg = p->mdalg;
    props.dane = TLS_DANE_BASED(level) ? policy->dane : NULL;
    sess = tls_client_start(smtp_tls_ctx, &props);
    if (match)
        argv_free(match);
    vstring_free(serverid);

    if (sess == NULL) {
        /* The peer is in an undefined state: no more I/O on this stream. */
        smtp_site_fail(state, session->relay, "4.7.5", NULL, NULL, "Cannot start TLS: handshake failure");
        if (level == TLS_LEV_MAY) {
            state->why_site = false; /* opportunistic: do not throttle */
            state->tls_retry_plain = smtp_tls_plain_retry_ok(state, level);
        }
        return SMTP_PROTO_SITE;
    }
    session->tls_context = sess; /* tls_client_start() logged the summary */
    if (SMTP_TLS_MUST_TRUST(level) && !TLS_CERT_IS_TRUSTED(sess)) {
        smtp_site_fail(state, session->relay, "4.7.5", NULL, NULL, "Server certificate not trusted");
        if (polite)
            smtp_tls_quit(session, resp);
        return SMTP_PROTO_SITE;
    }
    if (TLS_MUST_MATCH(level) && !TLS_CERT_IS_MATCHED(sess)) {
        smtp_site_fail(state, session->relay, "4.7.5", NULL, NULL, "Server certificate not verified");
        if (polite)
            smtp_tls_quit(session, resp);
        return SMTP_PROTO_SITE;
    }
    return 0;
}

/* The required level cannot be met without a client context. */
static int smtp_tls_no_engine(SMTP_STATE *state, SMTP_SESSION *session)
{
    smtp_site_fail(state, session->relay, "4.7.5", NULL, NULL,
                   "TLS is required, but our TLS engine is unavailable");
    return SMTP_PROTO_SITE;
}

/* Wrapper mode: TLS before the greeting; see above. */
int smtp_tls_wrap(SMTP_STATE *state, SMTP_SESSION *session)
{
    session->tls_level =
        state->tls && state->tls->level != TLS_LEV_INVALID ? state->tls->level : TLS_LEV_NONE;
    if (!smtp_tls_params.wrappermode || state->tls == NULL)
        return 0;
    if (session->tls_level < TLS_LEV_ENCRYPT)
        session->tls_level = TLS_LEV_ENCRYPT;
    if (smtp_tls_ctx == NULL)
        return smtp_tls_no_engine(state, session);
    return smtp_tls_handshake(state, session, NULL, false);
}

/* STARTTLS after EHLO; see above. */
int smtp_tls_starttls(SMTP_STATE *state, SMTP_SESSION *session, SMTP_RESP *resp)
{
    int level = session->tls_level;
    int result;

    if (session->tls_context != NULL) /* wrapper mode */
        return 0;
    if (level <= TLS_LEV_NONE) {
        if ((session->features & SMTP_FEAT_STARTTLS) && smtp_tls_params.note_starttls_offer)
            msg_info("Host offered STARTTLS: [%s]", session->host);
        return 0;
    }
    if (!(session->features & SMTP_FEAT_STARTTLS)) {
        if (!TLS_REQUIRED(level))
            return 0;
        smtp_site_fail(state, session->relay, "4.7.4", NULL, NULL,
                       "TLS is required, but was not offered by host %s", session->namaddr);
        smtp_tls_quit(session, resp);
        return SMTP_PROTO_SITE;
    }
    if (smtp_tls_ctx == NULL) {
        if (!TLS_REQUIRED(level))
            return 0;
        result = smtp_tls_no_engine(state, session);
        smtp_tls_quit(session, resp);
        return result;
    }
    if (smtp_chat_cmd(session, smtp_params.helo_timeout, "STARTTLS") < 0 ||
        smtp_chat_resp(session, resp, smtp_params.helo_timeout) < 0)
        return smtp_stream_fail(state, session);
    if (resp->code / 100 != 2) {
        session->features &= ~SMTP_FEAT_STARTTLS;
        if (!TLS_REQUIRED(level))
            return 0;
        smtp_site_fail(state, session->relay, resp->dsn, vstring_str(resp->text), session->host,
                       "TLS is required, but host %s refused to start TLS: %s", session->namaddr,
                       vstring_str(resp->text));
        smtp_tls_quit(session, resp);
        return SMTP_PROTO_SITE;
    }
    if ((result = smtp_tls_handshake(state, session, resp, true)) != 0)
        return result;
    return smtp_ehlo(state, session, resp);
}

/* End TLS before the stream is closed. */
void smtp_tls_end(SMTP_SESSION *session)
{
    bool failure;

    if (session->tls_context == NULL)
        return;
    failure = session->stream == NULL || vstream_ferror(session->stream) || vstream_feof(session->stream);
    tls_session_stop(smtp_tls_ctx, session->stream, smtp_params.quit_timeout, failure, session->tls_context);
    session->tls_context = NULL;
}
