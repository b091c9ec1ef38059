/*
 * local_util - the local(8) agent's result reporting, passwd lookups,
 * default_privs, duplicate filter (the local.c part of local.h, kept out
 * of local.c so that unit tests can link it without main()), and the
 * helpers of local_util.h: $name expansion with a character filter, the
 * command environment, allow_mail_to_* checks, privilege switching.
 *
 * Results: local_sent/local_bounce/local_defer/local_result log the
 * delivery line with relay=local through bounce.h and return 0 when the
 * recipient is finished, -1 when it stays queued.
 *
 * Errors: an unknown or privileged default_privs user is fatal (a
 * configuration error), as is a failure to switch privileges.
 */
#include "sys_defs.h"

#include <grp.h>
#include <pwd.h>
#include <stdarg.h>
#include <string.h>
#include <unistd.h>

#include "bounce.h"
#include "local.h"
#include "local_util.h"
#include "mac_expand.h"
#include "mail_copy.h"
#include "mail_params.h"
#include "mbox_open.h"
#include "msg.h"
#include "mymalloc.h"
#include "stringops.h"

#define LOCAL_RELAY "local"

/* Report RESULT (status and reason set) for the current recipient. */
static int local_report(LOCAL_STATE *state, DSN_BUF *result, int kind)
{
    DELIVER_REQUEST *request = state->request;
    DSN dsn;
    int status;

    dsn_from_buf(&dsn, result);
    if (kind == '2')
        status =
            sent(request->flags, request->queue_id, &request->msg_stats, &state->rcpt, LOCAL_RELAY, &dsn);
    else if (kind == '5')
        status = bounce_append(request->flags, request->queue_id, &request->msg_stats, &state->rcpt,
                               LOCAL_RELAY, &dsn);
    else
        status = defer_append(request->flags, request->queue_id, &request->msg_stats, &state->rcpt,
                              LOCAL_RELAY, &dsn);
    return status == 0 ? 0 : -1;
}

/* The recipient was delivered: status=sent (TEXT). */
int local_sent(LOCAL_STATE *state, const char *fmt, ...)
{
    DSN_BUF *why = dsb_create();
    va_list ap;
    int status;

    va_start(ap, fmt);
    vstring_strcpy(why->status, "2.0.0");
    vstring_vsprintf(why->reason, fmt, ap);
    va_end(ap);
    dsb_action(why, DSN_ACTION_DELIVERED);
    status = local_report(state, why, '2');
    dsb_free(why);
    return status;
}

/* Report a reason with an x-unix diagnostic; KIND '5' or '4'. */
static int local_vfail(LOCAL_STATE *state, int kind, const char *status, const char *fmt, va_list ap)
{
    DSN_BUF *why = dsb_create();
    int result;

    vstring_strcpy(why->status, status);
    vstring_vsprintf(why->reason, fmt, ap);
    vstring_strcpy(why->dtype, "x-unix");
    vstring_strcpy(why->dtext, vstring_str(why->reason));
    if (kind == '4' && why->status->data[0] != '4')
        why->status->data[0] = '4';
    result = local_report(state, why, kind);
    dsb_free(why);
    return result;
}

/* The recipient bounced: status=bounced (TEXT), or deferred with soft_bounce. */
int local_bounce(LOCAL_STATE *state, const char *status, const char *fmt, ...)
{
    va_list ap;
    int result;

    va_start(ap, fmt);
    result = local_vfail(state, '5', status, fmt, ap);
    va_end(ap);
    return result;
}

/* The recipient stays queued: status=deferred (TEXT). */
int local_defer(LOCAL_STATE *state, const char *status, const char *fmt, ...)
{
    va_list ap;
    int result;

    va_start(ap, fmt);
    result = local_vfail(state, '4', status, fmt, ap);
    va_end(ap);
    return result;
}

/* Report a filled-in result: by its status class, or deferred when DEFER. */
int local_result(LOCAL_STATE *state, const DSN_BUF *why, bool defer)
{
    DSN_BUF *copy = dsb_create();
    DSN dsn;
    int kind;
    int status;

    dsb_from_dsn(copy, dsn_from_buf(&dsn, why));
    if (VSTRING_LEN(copy->status) == 0)
        vstring_strcpy(copy->status, defer ? "4.3.0" : "5.3.0");
    kind = defer ? '4' : copy->status->data[0];
    if (kind != '2' && kind != '5')
        kind = '4';
    if (kind == '4')
        copy->status->data[0] = '4';
    if (kind == '2' && VSTRING_LEN(copy->action) == 0)
        dsb_action(copy, DSN_ACTION_DELIVERED);
    status = local_report(state, copy, kind);
    dsb_free(copy);
    return status;
}

/* True when DESTINATION was already delivered in this expansion. */
bool local_dup_seen(LOCAL_STATE *state, const char *destination)
{
    if (state->dups == NULL)
        return false;
    if (htable_locate(state->dups, destination) != NULL)
        return true;
    if (var_duplicate_filter_limit == 0 || state->dups->used < (size_t)var_duplicate_filter_limit)
        (void)htable_enter(state->dups, destination, NULL);
    return false;
}

/* Copy a passwd entry. */
static LOCAL_USER *local_user_copy(const struct passwd *pw)
{
    LOCAL_USER *user = (LOCAL_USER *)mymalloc(sizeof(*user));

    user->logname = mystrdup(pw->pw_name);
    user->home = mystrdup(pw->pw_dir ? pw->pw_dir : "");
    user->shell = mystrdup(pw->pw_shell ? pw->pw_shell : "");
    user->uid = pw->pw_uid;
    user->gid = pw->pw_gid;
    return user;
}

/* The passwd entry of NAME, or NULL. */
LOCAL_USER *local_user_by_name(const char *name)
{
    struct passwd *pw;

    if (*name == 0 || (pw = getpwnam(name)) == NULL)
        return NULL;
    return local_user_copy(pw);
}

/* The passwd entry of UID, or NULL. */
LOCAL_USER *local_user_by_uid(uid_t uid)
{
    struct passwd *pw;

    if ((pw = getpwuid(uid)) == NULL)
        return NULL;
    return local_user_copy(pw);
}

/* Free a LOCAL_USER (NULL is fine). */
void local_user_free(LOCAL_USER *user)
{
    if (user == NULL)
        return;
    myfree(user->logname);
    myfree(user->home);
    myfree(user->shell);
    myfree(user);
}

/* The default_privs user's ids; ours in rootless mode. */
LOCAL_PRIVS local_default_privs(void)
{
    LOCAL_PRIVS privs = {getuid(), getgid()};
    struct passwd *pw;

    if (getuid() != 0)
        return privs;
    if ((pw = getpwnam(var_default_privs)) == NULL)
        msg_fatal("unknown default_privs user: %s", var_default_privs);
    if (pw->pw_uid == 0)
        msg_fatal("default_privs: %s: privileged user is not allowed", var_default_privs);
    privs.uid = pw->pw_uid;
    privs.gid = pw->pw_gid;
    return privs;
}

/* The privileges for a command or file: never root. */
LOCAL_PRIVS local_privs_for(const LOCAL_STATE *state)
{
    if (state->privs.uid == 0 || state->privs.uid == (uid_t)-1)
        return local_default_privs();
    return state->privs;
}

/* Switch the effective ids (system mode only). */
void local_eugid_set(uid_t uid, gid_t gid)
{
    if (getuid() != 0 || uid == (uid_t)-1)
        return;
    if (geteuid() != 0 && seteuid(0) < 0)
        msg_fatal("seteuid(0): %m");
    if (setgroups(1, &gid) < 0)
        msg_fatal("setgroups(%ld): %m", (long)gid);
    if (setegid(gid) < 0)
        msg_fatal("setegid(%ld): %m", (long)gid);
    if (uid != 0 && seteuid(uid) < 0)
        msg_fatal("seteuid(%ld): %m", (long)uid);
}

/* Back to root (system mode only). */
void local_eugid_restore(void)
{
    if (getuid() != 0)
        return;
    if (geteuid() != 0 && seteuid(0) < 0)
        msg_fatal("seteuid(0): %m");
    if (setegid(0) < 0)
        msg_fatal("setegid(0): %m");
}

/* Replace characters not in FILTER by "_". */
char *local_filter(char *value, const char *filter)
{
    if (filter == NULL)
        return value;
    for (char *cp = value; *cp; cp++)
        if (strchr(filter, *cp) == NULL)
            *cp = '_';
    return value;
}

typedef struct LOCAL_EXP_CTX {
    const LOCAL_STATE *state;
    const char *filter;
    VSTRING *buf;
} LOCAL_EXP_CTX;

/* The raw value of an expansion name ($user, $home, ...), or NULL; see
 * local_util.h. */
const char *local_expand_value(const LOCAL_STATE *state, const char *name)
{
    static char delim[2];

    if (strcmp(name, "user") == 0)
        return state->user;
    if (strcmp(name, "home") == 0)
        return state->owner ? state->owner->home : NULL;
    if (strcmp(name, "shell") == 0)
        return state->owner ? state->owner->shell : NULL;
    if (strcmp(name, "recipient") == 0)
        return state->rcpt.address;
    if (strcmp(name, "extension") == 0)
        return state->extension;
    if (strcmp(name, "domain") == 0)
        return state->domain;
    if (strcmp(name, "local") == 0)
        return state->local;
    if (strcmp(name, "recipient_delimiter") == 0) {
        /* The character that split this address (one of the set). */
        if (state->extension == NULL || state->user == NULL || state->local == NULL ||
            strlen(state->local) <= strlen(state->user))
            return NULL;
        delim[0] = state->local[strlen(state->user)];
        return delim;
    }
    return NULL;
}

/* mac_expand() lookup: the filtered value. */
static const char *local_exp_lookup(const char *name, void *context)
{
    LOCAL_EXP_CTX *ctx = (LOCAL_EXP_CTX *)context;
    const char *value = local_expand_value(ctx->state, name);

    if (value == NULL || *value == 0)
        return value;
    vstring_strcpy(ctx->buf, value);
    return local_filter(vstring_str(ctx->buf), ctx->filter);
}

/* Expand PATTERN into RESULT (appending); mac_expand() flags. */
int local_expand(VSTRING *result, const char *pattern, const LOCAL_STATE *state, const char *filter)
{
    LOCAL_EXP_CTX ctx = {state, filter, vstring_alloc(100)};
    int status;

    status = mac_expand(result, pattern, MAC_EXP_FLAG_NORECURSE, local_exp_lookup, &ctx);
    vstring_free(ctx.buf);
    return status;
}

/* Add NAME=VALUE (filtered) when VALUE is non-empty. */
static void local_env_add(ARGV *env, const char *name, const char *value, const char *filter)
{
    VSTRING *buf;

    if (value == NULL || *value == 0)
        return;
    buf = vstring_alloc(100);
    vstring_sprintf(buf, "%s=", name);
    vstring_strcat(buf, value);
    local_filter(vstring_str(buf) + strlen(name) + 1, filter);
    argv_add(env, vstring_str(buf));
    vstring_free(buf);
}

/* The command environment of spec 2.5. */
ARGV *local_command_env(const LOCAL_STATE *state, const char *filter)
{
    ARGV *env = argv_alloc(20);
    const DELIVER_REQUEST *request = state->request;
    const char *orig = state->rcpt.orig_addr;

    if (state->owner) {
        local_env_add(env, "SHELL", state->owner->shell, filter);
        local_env_add(env, "HOME", state->owner->home, filter);
    }
    local_env_add(env, "USER", state->user, filter);
    local_env_add(env, "LOGNAME", state->user, filter);
    local_env_add(env, "EXTENSION", state->extension, filter);
    local_env_add(env, "DOMAIN", state->domain, filter);
    local_env_add(env, "LOCAL", state->local, filter);
    local_env_add(env, "RECIPIENT", state->rcpt.address, filter);
    local_env_add(env, "ORIGINAL_RECIPIENT", orig && *orig ? orig : state->rcpt.address, filter);
    if (request) {
        /* SENDER is present even for the null sender. */
        if (*request->sender == 0)
            argv_add(env, "SENDER=");
        else
            local_env_add(env, "SENDER", request->sender, filter);
        local_env_add(env, "ENVID", request->dsn_envid, filter);
        local_env_add(env, "CLIENT_ADDRESS", request->client_addr, filter);
        local_env_add(env, "CLIENT_HELO", request->client_helo, filter);
        local_env_add(env, "CLIENT_HOSTNAME", request->client_name, filter);
        local_env_add(env, "CLIENT_PROTOCOL", request->client_proto, filter);
        local_env_add(env, "SASL_METHOD", request->sasl_method, filter);
        local_env_add(env, "SASL_USERNAME", request->sasl_username, filter);
        local_env_add(env, "SASL_SENDER", request->sasl_sender, filter);
    }
    return env;
}

/* The allow_mail_to_* name of an expansion type. */
const char *local_exp_type_name(int type)
{
    switch (type) {
    case LOCAL_EXP_TYPE_ALIAS:
        return "alias";
    case LOCAL_EXP_TYPE_FORWARD:
        return "forward";
    case LOCAL_EXP_TYPE_INCLUDE:
        return "include";
    default:
        return "";
    }
}

/* True when the comma/space separated LIST names WORD (case-insensitive). */
static bool local_list_has(const char *list, const char *word)
{
    ARGV *argv = argv_split(list, ", \t\r\n");
    bool found = false;

    for (size_t i = 0; i < argv->argc && !found; i++)
        found = strcasecmp(argv->argv[i], word) == 0;
    argv_free(argv);
    return found;
}

/* True when a destination found through TYPE may be delivered. */
bool local_allowed(const char *list_value, int type)
{
    if (type == LOCAL_EXP_TYPE_NONE)
        return true;
    return local_list_has(list_value, local_exp_type_name(type));
}

/* True when prepend_delivered_header lists NAME. */
bool local_delivered_hdr(const char *name)
{
    return local_list_has(var_prepend_delivered_header, name);
}

/* Split "transport:nexthop". */
void local_split_transport(const char *value, VSTRING *transport, VSTRING *nexthop)
{
    const char *colon = strchr(value, ':');

    if (colon == NULL) {
        vstring_strcpy(transport, value);
        vstring_strcpy(nexthop, "");
    } else {
        vstring_strncpy(transport, value, (size_t)(colon - value));
        vstring_strcpy(nexthop, colon + 1);
    }
}

/* The X-Original-To: value of a delivery (enable_original_recipient). */
const char *local_orig_rcpt(const LOCAL_STATE *state)
{
    return var_enable_original_recipient ? state->rcpt.orig_addr : "";
}

/* Append the message to the open mbox MP (mailbox or /file); see
 * local_util.h. */
int local_mbox_append(LOCAL_STATE *state, MBOX *mp)
{
    DELIVER_REQUEST *request = state->request;
    int flags = MAIL_COPY_MBOX;
    const char *delivered = state->delivered;
    int status;

    if (!local_delivered_hdr("file")) {
        flags &= ~MAIL_COPY_DELIVERED;
        delivered = "";
    }
    (void)vstream_fseek(mp->fp, 0, SEEK_END);
    status = mail_copy(request->sender, local_orig_rcpt(state), delivered, request->fp, request->data_offset,
                       mp->fp, flags, "\n", state->why);
    if (status == 0)
        return 0;
    mbox_truncate(mp);
    if (status & MAIL_COPY_STAT_CORRUPT)
        vstring_strcpy(state->why->status, "4.3.0");
    return -1;
}
