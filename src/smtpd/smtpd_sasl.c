/*
 * smtpd_sasl - SASL authentication in the SMTP server (smtpd_sasl.h,
 * spec/security.md 5): the backend (xsasl.h), the mechanisms EHLO
 * announces, the AUTH command and its exchanges, the "Authenticated
 * sender" Received: comment.
 *
 * Public functions: smtpd_sasl_pre_init(), smtpd_sasl_connect(),
 * smtpd_sasl_mechanisms(), smtpd_sasl_auth(), smtpd_sasl_received(),
 * smtpd_sasl_disconnect() (see smtpd_sasl.h).
 *
 * A session is "active" (state->sasl_server set) when
 * smtpd_sasl_auth_enable is on and, if TLS must come first
 * (smtpd_tls_auth_only, level encrypt, wrapper mode), the session is
 * encrypted. Activation uses smtpd_sasl_security_options, or
 * smtpd_sasl_tls_security_options under TLS, and keeps the backend's
 * mechanisms that smtpd_sasl_mechanism_filter lets through (names,
 * patterns, type:table; backend order). Clients in
 * smtpd_sasl_exceptions_networks are not offered AUTH but may use it.
 *
 * Errors, as in Postfix: an unusable backend is fatal
 * ("SASL per-process initialization failed" at start-up, "SASL
 * per-connection initialization failed" or "no SASL authentication
 * mechanisms" for a session); the process exits and the master starts
 * another one. AUTH failures are replies (spec 5.2 table) that count as
 * errors for the tarpit, and a "SASL MECH authentication failed" warning.
 */
#include "sys_defs.h"

#include <string.h>
#include <strings.h>

#include "argv.h"
#include "mail_params.h"
#include "msg.h"
#include "mymalloc.h"
#include "namadr_list.h"
#include "smtpd_chat.h"
#include "smtpd_sasl.h"
#include "string_list.h"
#include "stringops.h"
#include "vstream.h"
#include "vstring.h"
#include "xsasl.h"

static XSASL_SERVER_IMPL *smtpd_sasl_impl; /* NULL: AUTH is off */
static STRING_LIST *smtpd_sasl_filter;     /* smtpd_sasl_mechanism_filter */
static NAMADR_LIST *smtpd_sasl_exceptions; /* smtpd_sasl_exceptions_networks */
static int smtpd_sasl_opts;                /* plaintext security options */
static int smtpd_sasl_tls_opts;            /* the same under TLS */
static bool smtpd_sasl_tls_first;          /* no AUTH before TLS */
static bool smtpd_sasl_fresh_per_attempt;  /* cyrus: new context after an attempt */
static bool smtpd_sasl_attempted;          /* an AUTH ran on this context */
static VSTRING *smtpd_sasl_reply;          /* backend challenge or reason */

/* Whether TLS must come first: smtpd_tls_auth_only, level encrypt, wrapper mode. */
static bool smtpd_sasl_tls_required(void)
{
    const char *level = var_smtpd_tls_security_level;

    if (var_smtpd_tls_auth_only || var_smtpd_tls_wrappermode)
        return true;
    if (level && *level)
        return strcasecmp(level, "encrypt") == 0;
    return var_smtpd_enforce_tls;
}

/* Parse one security options parameter, fatal when malformed. */
static int smtpd_sasl_options(const char *param, const char *value)
{
    int opts = xsasl_security_options(param, value);

    if (opts < 0)
        msg_fatal("bad %s value: \"%s\"", param, value);
    return opts;
}

/* The backend, while privileged. */
void smtpd_sasl_pre_init(void)
{
    if (!var_smtpd_sasl_auth_enable)
        return;
    if ((smtpd_sasl_impl = xsasl_server_init(var_smtpd_sasl_type, var_smtpd_sasl_path)) == NULL)
        msg_fatal("SASL per-process initialization failed");
    smtpd_sasl_opts = smtpd_sasl_options("smtpd_sasl_security_options", var_smtpd_sasl_security_options);
    smtpd_sasl_tls_opts =
        smtpd_sasl_options("smtpd_sasl_tls_security_options", var_smtpd_sasl_tls_security_options);
    if (*var_smtpd_sasl_mechanism_filter)
        smtpd_sasl_filter = string_list_init("smtpd_sasl_mechanism_filter", var_smtpd_sasl_mechanism_filter);
    if (*var_smtpd_sasl_exceptions_networks)
        smtpd_sasl_exceptions =
            namadr_list_init("smtpd_sasl_exceptions_networks", var_smtpd_sasl_exceptions_networks);
    smtpd_sasl_tls_first = smtpd_sasl_tls_required();
    smtpd_sasl_fresh_per_attempt = strcasecmp(var_smtpd_sasl_type, "cyrus") == 0;
    smtpd_sasl_reply = vstring_alloc(100);
}

/* Drop the backend context and the mechanism list. */
static void smtpd_sasl_deactivate(SMTPD_STATE *state)
{
    if (state->sasl_server) {
        xsasl_server_free(state->sasl_server);
        state->sasl_server = NULL;
    }
    state->sasl_mechanism_list = myfree(state->sasl_mechanism_list);
    smtpd_sasl_attempted = false;
}

/* The mechanisms of LIST that smtpd_sasl_mechanism_filter keeps, in order. */
static char *smtpd_sasl_filter_list(const char *list)
{
    VSTRING *out = vstring_alloc(50);
    char *copy = mystrdup(list);
    char *bp = copy;
    char *mech;

    while ((mech = mystrtok(&bp, " \t")) != NULL) {
        if (smtpd_sasl_filter && !string_list_match(smtpd_sasl_filter, mech))
            continue;
        if (VSTRING_LEN(out))
            vstring_strcat(out, " ");
        vstring_strcat(out, mech);
    }
    myfree(copy);
    char *result = mystrdup(vstring_str(out));

    vstring_free(out);
    return result;
}

/* A backend context for this session with the plain or TLS options. */
static void smtpd_sasl_activate(SMTPD_STATE *state)
{
    XSASL_SERVER_CREATE_ARGS args = {
        .service = var_smtpd_sasl_service,
        .user_realm = var_smtpd_sasl_local_domain,
        .server_addr = state->dest_addr ? state->dest_addr : "",
        .server_port = state->dest_port ? state->dest_port : "",
        .client_addr = state->addr ? state->addr : "",
        .client_port = state->port ? state->port : "",
        .security_options = state->tls_protocol ? smtpd_sasl_tls_opts : smtpd_sasl_opts,
        .tls = state->tls_protocol != NULL,
    };
    const char *list;

    /* Postfix's Dovecot client fails later, when it asks for the list. */
    if ((state->sasl_server = xsasl_server_create(smtpd_sasl_impl, &args)) == NULL)
        msg_fatal("%s", strcasecmp(var_smtpd_sasl_type, "dovecot") == 0
                            ? "no SASL authentication mechanisms"
                            : "SASL per-connection initialization failed");
    if ((list = xsasl_server_get_mechanism_list(state->sasl_server)) == NULL || *list == 0)
        msg_fatal("no SASL authentication mechanisms");
    state->sasl_mechanism_list = smtpd_sasl_filter_list(list);
    if (*state->sasl_mechanism_list == 0) {
        msg_warn("smtpd_sasl_mechanism_filter discards all mechanisms in '%s'", list);
        msg_fatal("no SASL authentication mechanisms");
    }
    smtpd_sasl_attempted = false;
}

/* Session start, STARTTLS, XCLIENT: forget the login, rebuild the mechanisms. */
void smtpd_sasl_connect(SMTPD_STATE *state)
{
    smtpd_sasl_deactivate(state);
    state->sasl_method = myfree(state->sasl_method);
    state->sasl_username = myfree(state->sasl_username);
    state->sasl_sender = myfree(state->sasl_sender);
    if (smtpd_sasl_impl == NULL || (smtpd_sasl_tls_first && state->tls_protocol == NULL))
        return;
    smtpd_sasl_activate(state);
}

/* The AUTH keyword value for EHLO, or NULL for none. */
const char *smtpd_sasl_mechanisms(SMTPD_STATE *state)
{
    int match;

    if (state->sasl_server == NULL)
        return NULL;
    if (smtpd_sasl_exceptions) {
        match = namadr_list_match(smtpd_sasl_exceptions, state->name, state->addr);
        if (msg_verbose)
            msg_info("sasl_exceptions: %s, match=%d", state->namaddr, match);
        if (match)
            return NULL;
    }
    return state->sasl_mechanism_list;
}

/* Replace *FIELD with a copy of VALUE whose non-printables are '?'. */
static void smtpd_sasl_set_printable(char **field, const char *value)
{
    myfree(*field);
    *field = mystrdup(value);
    for (char *cp = *field; *cp; cp++)
        if ((unsigned char)*cp < 0x20 || (unsigned char)*cp == 0x7f)
            *cp = '?';
}

/*
 * Read one client response into state->buffer (CRLF removed). False when
 * it is longer than smtpd_sasl_response_limit (the rest of the line is
 * read and dropped). A lost client ends the session via the chat hook.
 */
static bool smtpd_sasl_read(SMTPD_STATE *state)
{
    size_t limit = (size_t)var_smtpd_sasl_response_limit;
    int status;
    int ch;

    smtpd_chat_flush(state);
    status = vstream_fgets_limit(state->buffer, state->client, limit + 2);
    if (status == VSTREAM_LINE_EOF || status == VSTREAM_LINE_PARTIAL)
        smtpd_chat_lost_hook(state, vstream_ftimeout(state->client) ? "timeout" : "lost connection");
    if (status == VSTREAM_LINE_LIMIT) {
        while ((ch = vstream_getc(state->client)) != VSTREAM_EOF && ch != '\n')
            /* void */;
        if (ch == VSTREAM_EOF)
            smtpd_chat_lost_hook(state, vstream_ftimeout(state->client) ? "timeout" : "lost connection");
        vstring_reset(state->buffer);
        return false;
    }
    size_t len = VSTRING_LEN(state->buffer);
    const char *cp = vstring_str(state->buffer);

    if (len > 0 && cp[len - 1] == '\n')
        len--;
    if (len > 0 && cp[len - 1] == '\r')
        len--;
    vstring_truncate(state->buffer, len);
    if (len > limit) {
        vstring_reset(state->buffer);
        return false;
    }
    if (msg_verbose)
        msg_info("< %s: %s", state->namaddr, vstring_str(state->buffer));
    return true;
}

/* Run one exchange for METHOD with the optional INIT response. */
static int smtpd_sasl_authenticate(SMTPD_STATE *state, const char *method, const char *init)
{
    const char *username;
    const char *reason;
    int status;

    smtpd_sasl_attempted = true;
    status = xsasl_server_first(state->sasl_server, method, init, smtpd_sasl_reply);
    while (status == XSASL_AUTH_MORE) {
        smtpd_chat_reply(state, "334 %s", vstring_str(smtpd_sasl_reply));
        if (!smtpd_sasl_read(state))
            return SMTPD_ERROR(state, "500 5.5.6 SASL response limit exceeded");
        if (strcmp(vstring_str(state->buffer), "*") == 0) {
            msg_warn("%s: SASL %s authentication aborted", state->namaddr, method);
            return SMTPD_ERROR(state, "501 5.7.0 Authentication aborted");
        }
        status = xsasl_server_next(state->sasl_server, vstring_str(state->buffer), smtpd_sasl_reply);
    }
    username = xsasl_server_get_username(state->sasl_server);
    if (status == XSASL_AUTH_OK && username == NULL) {
        vstring_strcpy(smtpd_sasl_reply, "cannot look up the authenticated SASL username");
        status = XSASL_AUTH_TEMP;
    }
    if (status != XSASL_AUTH_OK) {
        reason = VSTRING_LEN(smtpd_sasl_reply) ? vstring_str(smtpd_sasl_reply) : "(reason unavailable)";
        msg_warn("%s: SASL %.100s authentication failed: %s, sasl_username=%.100s", state->namaddr, method,
                 reason, username ? username : "(unavailable)");
        if (status == XSASL_AUTH_TEMP)
            return SMTPD_ERROR(state, "454 4.7.0 Temporary authentication failure: %s", reason);
        return SMTPD_ERROR(state, "535 5.7.8 Error: authentication failed: %s", reason);
    }
    smtpd_sasl_set_printable(&state->sasl_username, username);
    smtpd_sasl_set_printable(&state->sasl_method, method);
    smtpd_chat_reply(state, "235 2.7.0 Authentication successful");
    return 0;
}

/* AUTH mechanism [initial-response]. */
int smtpd_sasl_auth(SMTPD_STATE *state, int argc, SMTPD_TOKEN *argv)
{
    if (var_smtpd_helo_required && state->helo_name == NULL)
        return SMTPD_ERROR(state, "503 5.5.1 Error: send HELO/EHLO first");
    if (state->sasl_server == NULL)
        return SMTPD_ERROR(state, "503 5.5.1 Error: authentication not enabled");
    if (state->sender != NULL)
        return SMTPD_ERROR(state, "503 5.5.1 Error: MAIL transaction in progress");
    if (state->sasl_username != NULL)
        return SMTPD_ERROR(state, "503 5.5.1 Error: already authenticated");
    if (argc < 2 || argc > 3)
        return SMTPD_ERROR(state, "501 5.5.4 Syntax: AUTH mechanism");
    /* libsasl2 contexts are not reused after an attempt. */
    if (smtpd_sasl_fresh_per_attempt && smtpd_sasl_attempted) {
        smtpd_sasl_deactivate(state);
        smtpd_sasl_activate(state);
    }
    return smtpd_sasl_authenticate(state, argv[1].strval, argc == 3 ? argv[2].strval : NULL);
}

/* The Received: comment naming the login. */
void smtpd_sasl_received(SMTPD_STATE *state, ARGV *lines)
{
    VSTRING *buf;

    if (!var_smtpd_sasl_authenticated_header || state->sasl_username == NULL)
        return;
    buf = vstring_alloc(60);
    vstring_sprintf(buf, "\t(Authenticated sender: %s)", state->sasl_username);
    argv_add(lines, vstring_str(buf));
    vstring_free(buf);
}

/* End of session. */
void smtpd_sasl_disconnect(SMTPD_STATE *state)
{
    smtpd_sasl_deactivate(state);
}
