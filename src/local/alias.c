/*
 * alias - alias_maps expansion for local(8) (spec/delivery.md 2.2, 2.4).
 *
 * Public functions:
 *   deliver_alias(state, &status)
 *       looks up the recipient's localpart in alias_maps, first with its
 *       extension (user+ext) then without; tables never get $1
 *       substitution (DICT_FLAG_NO_REGSUB). A found value is expanded by
 *       deliver_token_string() one level deeper with:
 *         - exp_type "alias", exp_from NAME (an occurrence of NAME in its
 *           own expansion is not looked up again: deliver_alias() returns
 *           false for it and the user gets the mail);
 *         - privileges of the table owner (2.4): root (or a table without
 *           a file, e.g. inline:) -> default_privs, else the owner;
 *         - with owner_request_special and an alias owner-NAME: sender
 *           owner-NAME@$myorigin (expand_owner_alias: the owner alias's
 *           value) and owner_alias set (DSN rules of 2.2).
 *       Returns false when no alias applies (the caller goes on with
 *       .forward and the mailbox), true with *status otherwise.
 *   deliver_alias_required(state, &status)   see local_expand.h
 *
 * Errors: a table lookup failure defers "4.3.0 alias database
 * unavailable"; more than 100 nesting levels bounce "5.4.6 alias database
 * loop for NAME".
 */
#include "sys_defs.h"

#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "dict.h"
#include "local.h"
#include "local_expand.h"
#include "mail_params.h"
#include "maps.h"
#include "msg.h"
#include "mymalloc.h"
#include "stringops.h"
#include "vstring.h"

#define ALIAS_OWNER_PREFIX "owner-"

static MAPS *alias_maps;

/* The alias table list, opened on first use (tables are shared). */
static MAPS *alias_maps_get(void)
{
    if (alias_maps == NULL)
        alias_maps = maps_create("alias_maps", var_alias_maps,
                                 DICT_FLAG_LOCK | DICT_FLAG_FOLD_FIX | DICT_FLAG_NO_REGSUB);
    return alias_maps;
}

/*
 * Look name up in every table in order. Returns the value (a copy) and
 * the table that had it, NULL when not found (*error 0) or on a lookup
 * failure (*error set).
 */
static char *alias_lookup(const char *name, DICT **found, int *error)
{
    MAPS *maps = alias_maps_get();
    const char *value;

    *error = DICT_ERR_NONE;
    for (size_t i = 0; i < maps->argv->argc; i++) {
        DICT *dict = maps->dicts[i];

        if ((value = dict_get(dict, name)) != NULL) {
            if (*value == 0) {
                msg_warn("alias_maps lookup of %s returns an empty string result", name);
                *error = DICT_ERR_CONFIG;
                return NULL;
            }
            if (found)
                *found = dict;
            return mystrdup(value);
        }
        if (dict->error != DICT_ERR_NONE) {
            msg_warn("%s:%s lookup error for \"%s\"", dict->type, dict->name, name);
            *error = dict->error;
            return NULL;
        }
    }
    return NULL;
}

/* The privileges for commands and files found in dict (spec 2.4). */
static LOCAL_PRIVS alias_privs(DICT *dict)
{
    struct stat st;
    LOCAL_PRIVS privs;
    LOCAL_USER *user;
    int ok;

    if (dict->stat_fd >= 0)
        ok = fstat(dict->stat_fd, &st) == 0;
    else
        ok = dict->name[0] == '/' && stat(dict->name, &st) == 0;
    if (!ok || st.st_uid == 0)
        return local_default_privs();
    privs.uid = st.st_uid;
    privs.gid = st.st_gid;
    if ((user = local_user_by_uid(st.st_uid)) != NULL) {
        privs.gid = user->gid;
        local_user_free(user);
    }
    return privs;
}

/* Required aliases without alias and without user: log and discard. */
bool deliver_alias_required(LOCAL_STATE *state, int *status)
{
    if (state->owner != NULL)
        return false;
    if (strcasecmp(state->user, "postmaster") != 0 && strcasecmp(state->user, "mailer-daemon") != 0)
        return false;
    msg_warn("required alias not found: %s", state->user);
    *status = local_sent(state, "discarded");
    return true;
}

/* address, with @$myorigin appended when it has no domain. */
static char *alias_qualify(const char *address)
{
    VSTRING *buf;

    if (strchr(address, '@'))
        return mystrdup(address);
    buf = vstring_alloc(100);
    vstring_sprintf(buf, "%s@%s", address, var_myorigin);
    return vstring_export(buf);
}

/*
 * The sender for mail expanded from alias name: owner-NAME@$myorigin or
 * the owner alias's value, or NULL without an owner. *error on failure.
 */
static char *alias_owner(const char *name, int *error)
{
    VSTRING *owner_name = vstring_alloc(100);
    char *owner_value;
    char *sender = NULL;

    *error = DICT_ERR_NONE;
    if (!var_owner_request_special ||
        strncasecmp(name, ALIAS_OWNER_PREFIX, strlen(ALIAS_OWNER_PREFIX)) == 0) {
        vstring_free(owner_name);
        return NULL;
    }
    vstring_sprintf(owner_name, "%s%s", ALIAS_OWNER_PREFIX, name);
    if ((owner_value = alias_lookup(vstring_str(owner_name), NULL, error)) != NULL) {
        if (var_expand_owner_alias) {
            ARGV *dests = deliver_token_split(owner_value);

            if (dests->argc > 0)
                sender = alias_qualify(dests->argv[0]);
            argv_free(dests);
        }
        if (sender == NULL)
            sender = alias_qualify(vstring_str(owner_name));
        myfree(owner_value);
    }
    vstring_free(owner_name);
    return sender;
}

/* Expand the alias name = value found in dict. */
static int alias_expand(LOCAL_STATE *state, const char *name, const char *value, DICT *dict)
{
    LOCAL_STATE copy = *state;
    char *owner_sender;
    int error;
    int status;

    owner_sender = alias_owner(name, &error);
    if (error != DICT_ERR_NONE)
        return local_defer(state, "4.3.0", "alias database unavailable");
    copy.level = state->level + 1;
    copy.exp_type = LOCAL_EXP_TYPE_ALIAS;
    copy.exp_from = name;
    copy.privs = alias_privs(dict);
    if (owner_sender) {
        copy.sender = owner_sender;
        copy.owner_alias = true;
    }
    if (msg_verbose)
        msg_info("deliver_alias: %s: %s = %s (sender %s)", state->rcpt.address, name, value, copy.sender);
    status = deliver_token_string(&copy, value);
    if (owner_sender)
        myfree(owner_sender);
    return status;
}

/* alias_maps lookup and expansion; see the file comment. */
bool deliver_alias(LOCAL_STATE *state, int *status)
{
    const char *names[2];
    int count = 0;
    DICT *dict = NULL;
    char *value;
    int error;

    if (state->user == NULL || *state->user == 0)
        return false;
    if (state->level > DELIVER_EXP_LIMIT) {
        msg_warn("alias database loop for %s", state->user);
        *status = local_bounce(state, "5.4.6", "alias database loop for %s", state->user);
        return true;
    }
    if (state->extension && state->local && strcasecmp(state->local, state->user) != 0)
        names[count++] = state->local;
    names[count++] = state->user;
    for (int i = 0; i < count; i++) {
        char *name = lowercase(mystrdup(names[i]));

        if (state->exp_type == LOCAL_EXP_TYPE_ALIAS && state->exp_from &&
            strcasecmp(state->exp_from, name) == 0) {
            myfree(name);
            return false;
        }
        value = alias_lookup(name, &dict, &error);
        if (error != DICT_ERR_NONE) {
            myfree(name);
            *status = local_defer(state, "4.3.0", "alias database unavailable");
            return true;
        }
        if (value) {
            *status = alias_expand(state, name, value, dict);
            myfree(value);
            myfree(name);
            return true;
        }
        myfree(name);
    }
    return deliver_alias_required(state, status);
}
