/*
 * smtpd_policy - the policy delegation client (check_policy_service,
 * spec/smtpd.md §10). See smtpd_policy.h.
 *
 * Public functions: smtpd_policy_init(), smtpd_policy_query(),
 * smtpd_policy_reset().
 *
 * Endpoints: "inet:host:port"; "unix:/path"; "unix:private/name" and
 * "private/name" (relative to $queue_directory); the form "{ endpoint,
 * name = value, ... }" (elements separated by commas) overrides
 * timeout, max_idle, max_ttl, request_limit, try_limit, retry_delay,
 * default_action and policy_context for this client.
 *
 * Request: the attributes in the order Postfix 3.7 sends them (observed
 * from a running Postfix), then compatibility_level, mail_version and
 * tls_sni (newer Postfix); values are never longer than one line.
 * Reply: name=value lines up to an empty line; "action" is required.
 *
 * Connections are kept open. Before a request, a connection idle longer
 * than max_idle, older than max_ttl, or closed by the server (readable
 * while idle) is replaced; after request_limit requests it is closed. A
 * request that fails on a reused connection is sent once more at once on
 * a new one; otherwise failures are retried up to try_limit tries,
 * retry_delay apart.
 *
 * Errors: a malformed spec is fatal ("check_policy_service: ..."); a
 * failed request logs "warning: connect to ENDPOINT: REASON" or
 * "warning: problem talking to server ENDPOINT: REASON" (REASON
 * "missing attribute action" or "malformed reply" for bad replies), and
 * the query returns false with the default action.
 */
#include "sys_defs.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "argv.h"
#include "htable.h"
#include "iostuff.h"
#include "mail_params.h"
#include "mail_params_init.h"
#include "msg.h"
#include "mymalloc.h"
#include "smtpd.h"
#include "smtpd_policy.h"
#include "sockets.h"
#include "stringops.h"
#include "tls.h"
#include "vstream.h"
#include "vstring.h"

#define SMTPD_POLICY_LINE_MAX 4096 /* longest reply line */

struct SMTPD_POLICY {
    char *endpoint;       /* as configured, for logging */
    char *path;           /* UNIX-domain socket path, or NULL */
    char *addr;           /* TCP host:port, or NULL */
    int timeout;          /* seconds for connect and one request */
    int max_idle;         /* close after this long without a request */
    int max_ttl;          /* close this long after connecting */
    int request_limit;    /* close after this many requests (0: never) */
    int try_limit;        /* tries per query */
    int retry_delay;      /* seconds between tries */
    char *default_action; /* result when every try failed */
    char *policy_context; /* sent as policy_context */
    VSTREAM *stream;      /* open connection or NULL */
    time_t opened;        /* when connected */
    time_t last_used;     /* end of the last request */
    int requests;         /* requests on this connection */
};

static HTABLE *smtpd_policy_table; /* spec -> SMTPD_POLICY */

/* A time value of a "{ ... }" attribute; fatal when malformed. */
static int smtpd_policy_time(const char *spec, const char *name, const char *value)
{
    long long seconds;

    if (!mail_params_time(value, 's', &seconds) || seconds <= 0 || seconds > 1000000000)
        msg_fatal("check_policy_service %s: bad %s value: %s", spec, name, value);
    return (int)seconds;
}

/* A non-negative integer of a "{ ... }" attribute; fatal when malformed. */
static int smtpd_policy_int(const char *spec, const char *name, const char *value)
{
    char *end;
    long n;

    errno = 0;
    n = strtol(value, &end, 10);
    if (*value == 0 || *end != 0 || errno != 0 || n < 0 || n > 1000000000)
        msg_fatal("check_policy_service %s: bad %s value: %s", spec, name, value);
    return (int)n;
}

/* Set the socket address from ENDPOINT; fatal when it has no known form. */
static void smtpd_policy_endpoint(SMTPD_POLICY *policy, const char *spec, const char *endpoint)
{
    const char *path = NULL;

    policy->endpoint = mystrdup(endpoint);
    if (strncmp(endpoint, "inet:", 5) == 0) {
        if (strchr(endpoint + 5, ':') == NULL || endpoint[5] == 0)
            msg_fatal("check_policy_service %s: bad inet endpoint: %s", spec, endpoint);
        policy->addr = mystrdup(endpoint + 5);
        return;
    }
    if (strncmp(endpoint, "unix:", 5) == 0)
        path = endpoint + 5;
    else if (strchr(endpoint, '/') != NULL)
        path = endpoint;
    if (path == NULL || *path == 0)
        msg_fatal("check_policy_service %s: unsupported endpoint: %s (use inet:host:port or unix:path)", spec,
                  endpoint);
    if (*path == '/')
        policy->path = mystrdup(path);
    else {
        VSTRING *buf = vstring_alloc(100);

        vstring_sprintf(buf, "%s/%s", var_queue_directory, path);
        policy->path = mystrdup(vstring_str(buf));
        vstring_free(buf);
    }
}

/* Parse SPEC into a new client; fatal on syntax errors. */
static SMTPD_POLICY *smtpd_policy_parse(const char *spec)
{
    SMTPD_POLICY *policy = mymalloc(sizeof(*policy));
    char *copy = mystrdup(spec);
    char *body = copy;
    size_t len;
    ARGV *elems;

    memset(policy, 0, sizeof(*policy));
    policy->timeout = var_smtpd_policy_service_timeout;
    policy->max_idle = var_smtpd_policy_service_max_idle;
    policy->max_ttl = var_smtpd_policy_service_max_ttl;
    policy->request_limit = var_smtpd_policy_service_request_limit;
    policy->try_limit = var_smtpd_policy_service_try_limit;
    policy->retry_delay = var_smtpd_policy_service_retry_delay;
    policy->default_action = mystrdup(var_smtpd_policy_service_default_action);
    policy->policy_context = mystrdup(var_smtpd_policy_service_policy_context);

    body = trimblanks(body);
    len = strlen(body);
    if (*body != '{') {
        smtpd_policy_endpoint(policy, spec, body);
        myfree(copy);
        return policy;
    }
    if (len < 2 || body[len - 1] != '}')
        msg_fatal("check_policy_service %s: missing '}'", spec);
    body[len - 1] = 0;
    elems = argv_split(body + 1, ",");
    for (size_t i = 0; i < elems->argc; i++) {
        char *elem = trimblanks(elems->argv[i]);
        char *eq = strchr(elem, '=');
        char *name;
        char *value;

        if (i == 0) {
            if (eq != NULL || *elem == 0)
                msg_fatal("check_policy_service %s: the first element must be the endpoint", spec);
            smtpd_policy_endpoint(policy, spec, elem);
            continue;
        }
        if (*elem == 0)
            continue;
        if (eq == NULL)
            msg_fatal("check_policy_service %s: expected name = value, found: %s", spec, elem);
        *eq = 0;
        name = trimblanks(elem);
        value = trimblanks(eq + 1);
        if (strcmp(name, "timeout") == 0) {
            policy->timeout = smtpd_policy_time(spec, name, value);
        } else if (strcmp(name, "max_idle") == 0) {
            policy->max_idle = smtpd_policy_time(spec, name, value);
        } else if (strcmp(name, "max_ttl") == 0) {
            policy->max_ttl = smtpd_policy_time(spec, name, value);
        } else if (strcmp(name, "request_limit") == 0) {
            policy->request_limit = smtpd_policy_int(spec, name, value);
        } else if (strcmp(name, "try_limit") == 0) {
            if ((policy->try_limit = smtpd_policy_int(spec, name, value)) < 1)
                msg_fatal("check_policy_service %s: bad %s value: %s", spec, name, value);
        } else if (strcmp(name, "retry_delay") == 0) {
            policy->retry_delay = smtpd_policy_time(spec, name, value);
        } else if (strcmp(name, "default_action") == 0) {
            myfree(policy->default_action);
            policy->default_action = mystrdup(value);
        } else if (strcmp(name, "policy_context") == 0) {
            myfree(policy->policy_context);
            policy->policy_context = mystrdup(value);
        } else {
            msg_fatal("check_policy_service %s: unknown attribute: %s", spec, name);
        }
    }
    if (policy->endpoint == NULL)
        msg_fatal("check_policy_service %s: missing endpoint", spec);
    argv_free(elems);
    myfree(copy);
    return policy;
}

SMTPD_POLICY *smtpd_policy_init(const char *spec)
{
    SMTPD_POLICY *policy;

    if (smtpd_policy_table == NULL)
        smtpd_policy_table = htable_create(5, 0);
    if ((policy = htable_find(smtpd_policy_table, spec)) == NULL) {
        policy = smtpd_policy_parse(spec);
        htable_enter(smtpd_policy_table, spec, policy);
    }
    return policy;
}

/* Close the connection, if any. */
static void smtpd_policy_disconnect(SMTPD_POLICY *policy)
{
    if (policy->stream != NULL) {
        vstream_fclose(policy->stream);
        policy->stream = NULL;
    }
}

/* Close a connection that is too old, idle too long, or closed by the server. */
static void smtpd_policy_expire(SMTPD_POLICY *policy, time_t now)
{
    if (policy->stream == NULL)
        return;
    if (now - policy->last_used >= policy->max_idle || now - policy->opened >= policy->max_ttl ||
        read_wait(vstream_fileno(policy->stream), 0) == 0) {
        if (msg_verbose)
            msg_info("closing connection to policy server %s", policy->endpoint);
        smtpd_policy_disconnect(policy);
    }
}

/* Open a connection; false with errno set on failure. */
static bool smtpd_policy_connect(SMTPD_POLICY *policy)
{
    int fd;

    if (policy->path)
        fd = unix_connect(policy->path, BLOCKING, policy->timeout);
    else
        fd = inet_connect(policy->addr, BLOCKING, policy->timeout);
    if (fd < 0)
        return false;
    policy->stream = vstream_fdopen(fd, O_RDWR);
    vstream_set_timeout(policy->stream, policy->timeout);
    vstream_set_deadline(policy->stream, true);
    policy->opened = time(NULL);
    policy->requests = 0;
    return true;
}

/* Append "name=value\n", with any line break in VALUE replaced. */
static void smtpd_policy_attr(VSTRING *buf, const char *name, const char *value)
{
    const char *cp;

    vstring_sprintf_append(buf, "%s=", name);
    for (cp = value ? value : ""; *cp; cp++)
        vstring_sprintf_append(buf, "%c", (*cp == '\n' || *cp == '\r') ? ' ' : *cp);
    vstring_sprintf_append(buf, "\n");
}

/* Build the request text for STATE. */
static void smtpd_policy_request(VSTRING *buf, SMTPD_STATE *state, SMTPD_POLICY *policy)
{
    const char *where = state->where ? state->where : "";
    bool at_data = strcmp(where, SMTPD_CMD_DATA) == 0 || strcmp(where, SMTPD_CMD_BDAT) == 0;
    bool at_eom = strcmp(where, SMTPD_AFTER_EOM) == 0;
    bool is_rcpt = strcmp(where, SMTPD_CMD_RCPT) == 0 || strcmp(where, SMTPD_CMD_VRFY) == 0;
    char num[64];
    const TLS_SESS_STATE *tls = state->tls_context;

    vstring_reset(buf);
    smtpd_policy_attr(buf, "request", "smtpd_access_policy");
    smtpd_policy_attr(buf, "protocol_state", strcmp(where, SMTPD_CMD_BDAT) == 0 ? SMTPD_CMD_DATA : where);
    smtpd_policy_attr(buf, "protocol_name", state->protocol ? state->protocol : "SMTP");
    smtpd_policy_attr(buf, "client_address", state->addr);
    smtpd_policy_attr(buf, "client_name", state->name);
    smtpd_policy_attr(buf, "client_port", state->port);
    smtpd_policy_attr(buf, "reverse_client_name", state->reverse_name);
    smtpd_policy_attr(buf, "server_address", state->dest_addr);
    smtpd_policy_attr(buf, "server_port", state->dest_port);
    smtpd_policy_attr(buf, "helo_name", state->helo_name);
    smtpd_policy_attr(buf, "sender", state->sender);
    smtpd_policy_attr(buf, "recipient", is_rcpt ? state->recipient : "");
    snprintf(num, sizeof(num), "%d", at_data || at_eom ? state->rcpt_count : 0);
    smtpd_policy_attr(buf, "recipient_count", num);
    smtpd_policy_attr(buf, "queue_id", state->queue_id);
    smtpd_policy_attr(buf, "instance", state->instance);
    snprintf(num, sizeof(num), "%lld", (long long)(at_eom ? state->act_size : state->msg_size));
    smtpd_policy_attr(buf, "size", num);
    smtpd_policy_attr(buf, "etrn_domain", state->etrn_domain ? state->etrn_domain : "");
    smtpd_policy_attr(buf, "stress", state->stress ? "yes" : "");
    smtpd_policy_attr(buf, "sasl_method", state->sasl_method);
    smtpd_policy_attr(buf, "sasl_username", state->sasl_username);
    smtpd_policy_attr(buf, "sasl_sender", state->sasl_sender);
    /* Subject and issuer only for a verified certificate, as Postfix. */
    smtpd_policy_attr(buf, "ccert_subject", TLS_CERT_IS_TRUSTED(tls) ? tls->peer_CN : "");
    smtpd_policy_attr(buf, "ccert_issuer", TLS_CERT_IS_TRUSTED(tls) ? tls->issuer_CN : "");
    smtpd_policy_attr(buf, "ccert_fingerprint", tls ? tls->peer_cert_fprint : "");
    smtpd_policy_attr(buf, "ccert_pubkey_fingerprint", tls ? tls->peer_pkey_fprint : "");
    smtpd_policy_attr(buf, "encryption_protocol", state->tls_protocol);
    smtpd_policy_attr(buf, "encryption_cipher", state->tls_cipher);
    snprintf(num, sizeof(num), "%d", state->tls_protocol ? state->tls_cipher_bits : 0);
    smtpd_policy_attr(buf, "encryption_keysize", num);
    smtpd_policy_attr(buf, "policy_context", policy->policy_context);
    smtpd_policy_attr(buf, "compatibility_level", var_compatibility_level);
    smtpd_policy_attr(buf, "mail_version", var_mail_version);
    smtpd_policy_attr(buf, "tls_sni", "");
    vstring_sprintf_append(buf, "\n");
}

/* Read one reply; the action goes into ACTION. NULL or the reason it failed. */
static const char *smtpd_policy_reply(SMTPD_POLICY *policy, VSTRING *action)
{
    static VSTRING *line;
    bool have_action = false;
    int rc;

    if (line == NULL)
        line = vstring_alloc(100);
    for (;;) {
        rc = vstream_fgets_nonl_limit(line, policy->stream, SMTPD_POLICY_LINE_MAX);
        if (rc == VSTREAM_LINE_EOF || rc == VSTREAM_LINE_PARTIAL) {
            if (vstream_ftimeout(policy->stream))
                return "timeout";
            if (vstream_ferror(policy->stream))
                return strerror(vstream_errno(policy->stream));
            return "lost connection";
        }
        if (rc == VSTREAM_LINE_LIMIT)
            return "reply line too long";
        if (VSTRING_LEN(line) > 0 && vstring_str(line)[VSTRING_LEN(line) - 1] == '\r')
            vstring_truncate(line, VSTRING_LEN(line) - 1);
        if (VSTRING_LEN(line) == 0)
            break;
        if (strchr(vstring_str(line), '=') == NULL || vstring_str(line)[0] == '=')
            return "malformed reply";
        if (strncmp(vstring_str(line), "action=", 7) == 0) {
            vstring_strcpy(action, vstring_str(line) + 7);
            have_action = true;
        }
    }
    return have_action ? NULL : "missing attribute action";
}

/* One request/reply exchange; NULL or the reason it failed. */
static const char *smtpd_policy_exchange(SMTPD_POLICY *policy, VSTRING *request, VSTRING *action)
{
    const char *why;

    if (vstream_fwrite(policy->stream, vstring_str(request), VSTRING_LEN(request)) == VSTREAM_EOF ||
        vstream_fflush(policy->stream) == VSTREAM_EOF)
        return vstream_ftimeout(policy->stream) ? "timeout" : strerror(vstream_errno(policy->stream));
    why = smtpd_policy_reply(policy, action);
    return why;
}

bool smtpd_policy_query(SMTPD_STATE *state, SMTPD_POLICY *policy, VSTRING *action)
{
    static VSTRING *request;
    const char *why = NULL;
    bool reused;

    if (request == NULL)
        request = vstring_alloc(1000);
    smtpd_policy_request(request, state, policy);
    for (int tries = 1;; tries++) {
        smtpd_policy_expire(policy, time(NULL));
        reused = policy->stream != NULL;
        if (!reused && !smtpd_policy_connect(policy)) {
            msg_warn("connect to %s: %s", policy->endpoint, strerror(errno));
            why = NULL;
        } else if ((why = smtpd_policy_exchange(policy, request, action)) != NULL && reused &&
                   strcmp(why, "timeout") != 0) {
            /* The server may have closed an idle connection: try a fresh one now. */
            smtpd_policy_disconnect(policy);
            if (smtpd_policy_connect(policy))
                why = smtpd_policy_exchange(policy, request, action);
            else
                msg_warn("connect to %s: %s", policy->endpoint, strerror(errno));
        }
        if (policy->stream != NULL && why == NULL) {
            policy->last_used = time(NULL);
            if (policy->request_limit > 0 && ++policy->requests >= policy->request_limit)
                smtpd_policy_disconnect(policy);
            if (msg_verbose)
                msg_info("policy server %s: action=%s", policy->endpoint, vstring_str(action));
            return true;
        }
        if (why != NULL)
            msg_warn("problem talking to server %s: %s", policy->endpoint, why);
        smtpd_policy_disconnect(policy);
        if (tries >= policy->try_limit)
            break;
        sleep(policy->retry_delay);
    }
    vstring_strcpy(action, policy->default_action);
    return false;
}

void smtpd_policy_reset(void)
{
    HTABLE_INFO **list;
    time_t now = time(NULL);

    if (smtpd_policy_table == NULL)
        return;
    list = htable_list(smtpd_policy_table);
    for (HTABLE_INFO **ht = list; *ht; ht++)
        smtpd_policy_expire((*ht)->value, now);
    myfree(list);
}
