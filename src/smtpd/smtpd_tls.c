/*
 * smtpd_tls - TLS in the SMTP server (smtpd_tls.h; spec/security.md 7).
 *
 * The level comes from smtpd_tls_security_level (none, may, encrypt;
 * fingerprint, verify and secure fall back to encrypt with a warning),
 * else from the obsolete smtpd_use_tls / smtpd_enforce_tls; wrapper mode
 * makes TLS mandatory. At encrypt the mandatory protocol and cipher
 * settings apply, at may the opportunistic ones. The server context is
 * built once per process while privileged (keys may be root-only).
 *
 * STARTTLS: the reply, then every plaintext byte the client already sent
 * is thrown away (nothing pipelined behind STARTTLS is ever answered,
 * RFC 3207 section 5 and CVE-2011-0411), then the handshake within
 * smtpd_starttls_timeout; afterwards HELO, MAIL, RCPT and SASL state are
 * forgotten. Wrapper mode does the handshake before the greeting.
 * Sessions on standard input (-S, sendmail -bs) never use TLS.
 *
 * Errors: an unusable context is logged once at startup; STARTTLS then
 * answers "454 4.7.0 TLS not available due to local problem" and the
 * session goes on in plaintext. A failed handshake is logged by the TLS
 * library ("SSL_accept error from ...") and ends the session as a lost
 * connection.
 */
#include "sys_defs.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "anvil_clnt.h"
#include "mail_params.h"
#include "msg.h"
#include "mymalloc.h"
#include "smtpd_chat.h"
#include "smtpd_check.h"
#include "smtpd_sasl.h"
#include "smtpd_tls.h"
#include "tls.h"
#include "vstream.h"
#include "vstring.h"

/* Per-process settings (smtpd_tls_pre_init()). */
static bool smtpd_tls_use;            /* offer STARTTLS (level may or encrypt) */
static bool smtpd_tls_enforce;        /* level encrypt or wrapper mode */
static bool smtpd_tls_ask;            /* request a client certificate */
static int smtpd_tls_log_level;       /* smtpd_tls_loglevel */
static TLS_APPL_STATE *smtpd_tls_ctx; /* NULL: TLS unusable ("local problem") */
static ANVIL_CLNT *smtpd_tls_anvil;   /* new-session rate (lazily made) */

/* How smtpd.c forgets a mail transaction (see smtpd_tls.h). */
void (*smtpd_tls_reset_hook)(SMTPD_STATE *state);

/* Per-session: true for -S sessions, which never use TLS. */
static bool smtpd_tls_stand_alone;

/* The security level settings: use/enforce from the parameters. */
static void smtpd_tls_level(void)
{
    if (*var_smtpd_tls_security_level) {
        switch (tls_level_lookup(var_smtpd_tls_security_level)) {
        case TLS_LEV_SECURE:
        case TLS_LEV_VERIFY:
        case TLS_LEV_FPRINT:
            msg_warn("%s: unsupported TLS level \"%s\", using \"encrypt\"", "smtpd_tls_security_level",
                     var_smtpd_tls_security_level);
            /* FALLTHROUGH */
        case TLS_LEV_ENCRYPT:
            smtpd_tls_use = smtpd_tls_enforce = true;
            break;
        case TLS_LEV_MAY:
            smtpd_tls_use = true;
            smtpd_tls_enforce = false;
            break;
        case TLS_LEV_NONE:
            smtpd_tls_use = smtpd_tls_enforce = false;
            break;
        default:
            msg_fatal("%s: unknown TLS security level \"%s\"", "smtpd_tls_security_level",
                      var_smtpd_tls_security_level);
        }
    } else {
        smtpd_tls_enforce = var_smtpd_enforce_tls;
        smtpd_tls_use = var_smtpd_use_tls || var_smtpd_enforce_tls;
    }
    if (var_smtpd_tls_wrappermode)
        smtpd_tls_use = smtpd_tls_enforce = true;
}

/* Build the server context from the parameters; NULL when unusable. */
static TLS_APPL_STATE *smtpd_tls_context(void)
{
    TLS_SERVER_INIT_PROPS props;
    VSTRING *why = vstring_alloc(100);
    const char *protocols = smtpd_tls_enforce ? var_smtpd_tls_mandatory_protocols : var_smtpd_tls_protocols;
    const char *grade = smtpd_tls_enforce ? var_smtpd_tls_mandatory_ciphers : var_smtpd_tls_ciphers;
    bool have_cert = *var_smtpd_tls_cert_file || *var_smtpd_tls_eccert_file || *var_smtpd_tls_chain_files;
    TLS_APPL_STATE *ctx = NULL;

    if (!smtpd_tls_enforce && var_smtpd_tls_req_ccert)
        msg_warn("Can't require client certs unless TLS is required");
    if (!have_cert) {
        msg_warn("No server certs available. TLS won't be enabled");
    } else if (!tls_protocols_valid(protocols, why)) {
        msg_warn("Invalid TLS protocol list \"%s\": %s: disabling TLS support", protocols, vstring_str(why));
    } else if (!tls_cipher_grade_valid(grade, why)) {
        msg_warn("invalid %s value \"%s\": %s: disabling TLS support",
                 smtpd_tls_enforce ? "smtpd_tls_mandatory_ciphers" : "smtpd_tls_ciphers", grade,
                 vstring_str(why));
    } else {
        memset(&props, 0, sizeof(props));
        props.log_level = smtpd_tls_log_level;
        props.cert_file = var_smtpd_tls_cert_file;
        props.key_file = var_smtpd_tls_key_file;
        props.eccert_file = var_smtpd_tls_eccert_file;
        props.eckey_file = var_smtpd_tls_eckey_file;
        props.chain_files = var_smtpd_tls_chain_files;
        props.CAfile = var_smtpd_tls_CAfile;
        props.CApath = var_smtpd_tls_CApath;
        props.ask_ccert = smtpd_tls_ask;
        props.verifydepth = var_smtpd_tls_ccert_verifydepth;
        props.protocols = protocols;
        props.cipher_grade = grade;
        props.exclude_ciphers =
            smtpd_tls_enforce ? var_smtpd_tls_mandatory_exclude_ciphers : var_smtpd_tls_exclude_ciphers;
        props.mdalg = var_smtpd_tls_fingerprint_digest;
        props.cache_timeout = var_smtpd_tls_session_cache_timeout;
        props.cache_type = "smtpd";
        ctx = tls_server_init(&props);
    }
    vstring_free(why);
    return ctx;
}

/* The level and, when TLS may be used, the server context (privileged). */
void smtpd_tls_pre_init(void)
{
    smtpd_tls_level();
    smtpd_tls_log_level = atoi(var_smtpd_tls_loglevel);
    smtpd_tls_ask = var_smtpd_tls_ask_ccert || (smtpd_tls_enforce && var_smtpd_tls_req_ccert);
    /* Mandatory TLS implies smtpd_tls_auth_only (read by smtpd_sasl.c). */
    if (smtpd_tls_enforce)
        var_smtpd_tls_auth_only = true;
    if (smtpd_tls_use)
        smtpd_tls_ctx = smtpd_tls_context();
}

/*
 * smtpd_client_new_tls_session_rate_limit, as Postfix: before a handshake
 * the client's new sessions so far are compared with the limit (nothing
 * counted); after one that created a new session (not a resumed one) it
 * is counted, and the session ends when that goes over the limit. So the
 * session after the limit was reached still completes its handshake and
 * is then dropped; later ones are refused before the handshake.
 */

/* Whether the limit applies to this client. */
static bool smtpd_tls_rate_applies(SMTPD_STATE *state)
{
    if (var_smtpd_client_new_tls_session_rate_limit <= 0 || state->addr_family == AF_UNSPEC ||
        smtpd_check_event_exempt(state))
        return false;
    if (smtpd_tls_anvil == NULL)
        smtpd_tls_anvil = anvil_clnt_create();
    return true;
}

/* Before a handshake: whether the client is over the limit already. */
static bool smtpd_tls_rate_reached(SMTPD_STATE *state)
{
    int rate = 0;

    return smtpd_tls_rate_applies(state) &&
           anvil_clnt_newtls_report(smtpd_tls_anvil, state->service, state->addr, &rate) == ANVIL_STAT_OK &&
           rate > var_smtpd_client_new_tls_session_rate_limit;
}

/* After a handshake: count a new session; true when that is one too many. */
static bool smtpd_tls_rate_count(SMTPD_STATE *state)
{
    int rate = 0;

    if (state->tls_context->session_reused || !smtpd_tls_rate_applies(state) ||
        anvil_clnt_newtls(smtpd_tls_anvil, state->service, state->addr, &rate) != ANVIL_STAT_OK ||
        rate <= var_smtpd_client_new_tls_session_rate_limit)
        return false;
    msg_warn("New TLS session rate limit exceeded: %d from %s for service %s", rate, state->namaddr,
             state->service);
    return true;
}

/* Handshake on the client stream; on failure the session ends here. */
static void smtpd_tls_handshake(SMTPD_STATE *state)
{
    TLS_SERVER_START_PROPS props;
    TLS_SESS_STATE *sess;

    memset(&props, 0, sizeof(props));
    props.stream = state->client;
    props.timeout = var_smtpd_starttls_timeout;
    props.namaddr = state->namaddr;
    props.requirecert = smtpd_tls_enforce && var_smtpd_tls_req_ccert;
    props.mdalg = var_smtpd_tls_fingerprint_digest;
    if ((sess = tls_server_start(smtpd_tls_ctx, &props)) == NULL) {
        /* The library logged why; Postfix then logs the lost connection. */
        smtpd_chat_lost_hook(state, "lost connection");
        msg_panic("smtpd_tls_handshake: the lost-connection hook returned");
    }
    state->tls_context = sess;
    myfree(state->tls_protocol);
    state->tls_protocol = mystrdup(sess->protocol ? sess->protocol : "TLS");
    myfree(state->tls_cipher);
    state->tls_cipher = mystrdup(sess->cipher_name ? sess->cipher_name : "");
    state->tls_cipher_bits = sess->cipher_usebits;
    /* The library logged "... TLS connection established from ..." (loglevel >= 1). */
}

/* Wrapper mode: TLS before the greeting. */
bool smtpd_tls_connect(SMTPD_STATE *state)
{
    smtpd_tls_stand_alone = state->addr_family == AF_UNSPEC;
    if (smtpd_tls_stand_alone || !var_smtpd_tls_wrappermode)
        return true;
    if (smtpd_tls_ctx == NULL) {
        msg_warn("Wrapper-mode request dropped from %s for service %s. TLS context initialization failed. "
                 "For details see earlier warnings in your logs.",
                 state->namaddr, state->service);
        return false;
    }
    if (smtpd_tls_rate_reached(state)) {
        msg_warn("Refusing TLS service request from %s for service %s", state->namaddr, state->service);
        return false;
    }
    smtpd_tls_handshake(state);
    return !smtpd_tls_rate_count(state);
}

/* Whether EHLO announces STARTTLS. */
bool smtpd_tls_offered(const SMTPD_STATE *state)
{
    return smtpd_tls_use && !smtpd_tls_stand_alone && state->tls_context == NULL;
}

/* Drop the plaintext the client sent after STARTTLS (injection defence). */
static void smtpd_tls_discard_pending(SMTPD_STATE *state)
{
    char junk[VSTREAM_BUFSIZE];
    size_t left;

    while ((left = vstream_peek(state->client)) > 0) {
        size_t n = left < sizeof(junk) ? left : sizeof(junk);

        if (vstream_fread(state->client, junk, n) != n)
            break;
        if (msg_verbose)
            msg_info("discarding %zu plaintext bytes after STARTTLS from %s", n, state->namaddr);
    }
}

/* STARTTLS. */
int smtpd_tls_starttls(SMTPD_STATE *state, int argc, SMTPD_TOKEN *argv)
{
    (void)argv;
    if (argc != 1)
        return SMTPD_ERROR(state, "501 5.5.4 Syntax: STARTTLS");
    if (state->tls_context != NULL)
        return SMTPD_ERROR(state, "554 5.5.1 Error: TLS already active");
    if (!smtpd_tls_offered(state))
        return SMTPD_ERROR(state, "502 5.5.1 Error: command not implemented");
    if (smtpd_tls_ctx == NULL)
        return SMTPD_ERROR(state, "454 4.7.0 TLS not available due to local problem");
    if (smtpd_tls_rate_reached(state)) {
        msg_warn("Refusing STARTTLS request from %s for service %s", state->namaddr, state->service);
        return SMTPD_ERROR(state, "454 4.7.0 Error: too many new TLS sessions from %s", state->namaddr);
    }
    smtpd_chat_reply(state, "220 2.0.0 Ready to start TLS");
    smtpd_chat_flush(state);
    smtpd_tls_discard_pending(state);
    smtpd_tls_handshake(state);
    if (smtpd_tls_rate_count(state)) {
        /* Postfix ends the session without a reply; STARTTLS counts as failed. */
        state->flags |= SMTPD_FLAG_HANGUP;
        return -1;
    }

    /* RFC 3207 4.2: the client starts over; nothing said in plaintext counts. */
    if (smtpd_tls_reset_hook)
        smtpd_tls_reset_hook(state);
    myfree(state->helo_name);
    state->helo_name = NULL;
    smtpd_sasl_connect(state);
    return 0;
}

/* At level encrypt, only a few commands are allowed before TLS. */
bool smtpd_tls_gate(SMTPD_STATE *state, const char *verb)
{
    static const char *const pre_tls[] = {"HELO", "EHLO", "XCLIENT", "STARTTLS", "NOOP", "QUIT", "HELP"};

    if (!smtpd_tls_enforce || smtpd_tls_stand_alone || state->tls_context != NULL)
        return true;
    for (size_t i = 0; i < sizeof(pre_tls) / sizeof(pre_tls[0]); i++)
        if (strcasecmp(verb, pre_tls[i]) == 0)
            return true;
    (void)SMTPD_ERROR(state, "530 5.7.0 Must issue a STARTTLS command first");
    return false;
}

/* The Received: comment lines (smtpd_tls_received_header = yes). */
void smtpd_tls_received(SMTPD_STATE *state, ARGV *lines)
{
    const TLS_SESS_STATE *sess = state->tls_context;
    VSTRING *text;
    VSTRING *line;
    char *copy;
    char *cp;
    char *nl;

    if (!var_smtpd_tls_received_header || sess == NULL)
        return;
    text = vstring_alloc(200);
    line = vstring_alloc(200);
    /* "PROTO with cipher ...\n\t key-exchange ...": one header line each. */
    copy = mystrdup(tls_received_text(text, sess));
    for (cp = copy; cp != NULL; cp = nl) {
        if ((nl = strchr(cp, '\n')) != NULL)
            *nl++ = 0;
        vstring_sprintf(line, "%s%s%s", cp == copy ? "\t(using " : "", cp, nl == NULL ? ")" : "");
        argv_add(lines, vstring_str(line));
    }
    myfree(copy);
    if (TLS_CERT_IS_PRESENT(sess))
        vstring_sprintf(line, "\t(Client CN \"%s\", Issuer \"%s\" (%s))", sess->peer_CN ? sess->peer_CN : "",
                        sess->issuer_CN ? sess->issuer_CN : "",
                        TLS_CERT_IS_TRUSTED(sess) ? "verified OK" : "not verified");
    else if (smtpd_tls_ask)
        vstring_strcpy(line, "\t(Client did not present a certificate)");
    else
        vstring_strcpy(line, "\t(No client certificate requested)");
    argv_add(lines, vstring_str(line));
    vstring_free(line);
    vstring_free(text);
}

/* End TLS (close_notify after a clean end, not after an I/O error). */
void smtpd_tls_disconnect(SMTPD_STATE *state)
{
    bool failure;

    if (state->tls_context == NULL)
        return;
    failure = vstream_ferror(state->client) || vstream_feof(state->client);
    tls_session_stop(smtpd_tls_ctx, state->client, var_smtpd_starttls_timeout, failure, state->tls_context);
    state->tls_context = NULL;
}
