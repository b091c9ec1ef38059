/*
 * mailbox - deliver_mailbox(): the part of the chain of spec/delivery.md
 * 2.7 after aliases and .forward: mailbox_transport_maps,
 * mailbox_transport (every local recipient, known or not), then for
 * passwd users mailbox_command_maps, mailbox_command (run as given: the
 * shell expands $EXTENSION etc. from the environment) and the mailbox
 * itself (home_mailbox, else mail_spool_directory/USER; a trailing "/"
 * means Maildir); recipients not in passwd go to deliver_unknown().
 *
 * mbox: mbox_open() with mailbox_delivery_lock, then mail_copy() of From_,
 * Return-Path:, X-Original-To:, Delivered-To: (when prepend_delivered_header
 * lists "file"), the >From-quoted message and a blank line; on failure
 * the file is cut back to its old length. Privileges (system mode): home
 * mailboxes and Maildirs are written as the recipient; a spool mailbox as
 * the recipient when the spool directory is world-writable (group: the
 * recipient's) or group-writable (group: the directory's), else created
 * as root and given to the recipient. strict_mailbox_ownership checks
 * the owner of an existing mailbox (in rootless mode against the
 * instance user, who writes every mailbox).
 *
 * Results: "delivered to mailbox" / "delivered to maildir"; failures
 * "cannot update mailbox PATH for user USER. REASON" (mbox) or "maildir
 * delivery failed: REASON", bounced or deferred by the status class.
 * Lookup failures of the *_maps tables defer with 4.3.0.
 */
#include "sys_defs.h"

#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "deliver_request.h"
#include "local.h"
#include "local_util.h"
#include "mail_copy.h"
#include "mail_params.h"
#include "maildir_deliver.h"
#include "maps.h"
#include "mbox_open.h"
#include "msg.h"
#include "mymalloc.h"
#include "rec_type.h"

static MAPS *mailbox_transport_maps;
static MAPS *mailbox_command_maps;

/* Put PREFIX in front of why->reason. */
static void mailbox_reason_prefix(DSN_BUF *why, const char *prefix)
{
    VSTRING *buf = vstring_alloc(100);

    vstring_sprintf(buf, "%s%s", prefix, vstring_str(why->reason));
    vstring_strcpy(why->reason, vstring_str(buf));
    vstring_free(buf);
}

/* Look KEY up in MAPS (created on first use); NULL with *error set on failure. */
static const char *mailbox_lookup(MAPS **maps, const char *title, const char *value, const char *key,
                                  int *error)
{
    const char *result;

    *error = 0;
    if (*value == 0)
        return NULL;
    if (*maps == NULL)
        *maps = maps_create(title, value, DICT_FLAG_LOCK);
    result = maps_find(*maps, key, 0);
    if (result == NULL && (*maps)->error != DICT_ERR_NONE)
        *error = 1;
    return result;
}

/* Run mailbox_command (already chosen; not $name-expanded: the shell
 * expands the environment's $EXTENSION etc.) as the recipient. */
static int mailbox_command(LOCAL_STATE *state, const char *command)
{
    LOCAL_PRIVS saved_privs = state->privs;
    int saved_type = state->exp_type;
    int status;

    state->privs.uid = state->owner->uid;
    state->privs.gid = state->owner->gid;
    state->exp_type = LOCAL_EXP_TYPE_NONE;
    status = deliver_command(state, command);
    state->privs = saved_privs;
    state->exp_type = saved_type;
    return status;
}

/* The ids that write a spool mailbox, and the owner a new one gets. */
static void mailbox_spool_ids(const LOCAL_USER *owner, uid_t *uid, gid_t *gid, uid_t *chown_uid,
                              gid_t *chown_gid)
{
    struct stat st;

    *uid = owner->uid;
    *gid = owner->gid;
    *chown_uid = (uid_t)-1;
    *chown_gid = (gid_t)-1;
    if (stat(var_mail_spool_directory, &st) < 0 || (st.st_mode & S_IWOTH))
        return;
    if (st.st_mode & S_IWGRP) {
        *gid = st.st_gid;
        return;
    }
    *uid = 0;
    *gid = 0;
    *chown_uid = owner->uid;
    *chown_gid = owner->gid;
}

/* Append to an mbox file as UID/GID; 0 or -1 with why set. */
static int mailbox_mbox(LOCAL_STATE *state, const char *path, uid_t uid, gid_t gid, uid_t chown_uid,
                        gid_t chown_gid)
{
    uid_t want_uid = getuid() == 0 ? state->owner->uid : geteuid();
    struct stat st;
    MBOX *mp;
    int status = -1;

    /* An existing mailbox keeps its owner; strict_mailbox_ownership checks it below. */
    if (chown_uid != (uid_t)-1 && lstat(path, &st) == 0) {
        chown_uid = (uid_t)-1;
        chown_gid = (gid_t)-1;
    }
    local_eugid_set(uid, gid);
    mp = mbox_open(path, O_APPEND | O_WRONLY | O_CREAT, S_IRUSR | S_IWUSR, &st, chown_uid, chown_gid,
                   mbox_lock_mask(var_mailbox_delivery_lock), "5.2.0", state->why);
    if (mp != NULL) {
        if (!S_ISREG(st.st_mode)) {
            dsb_simple(state->why, "5.2.0", "destination %s is not a regular file", path);
        } else if (var_strict_mailbox_ownership && st.st_uid != want_uid) {
            dsb_simple(state->why, "4.2.0", "destination %s is not owned by recipient", path);
            msg_warn("specify \"strict_mailbox_ownership = no\" to ignore mailbox ownership mismatch");
        } else {
            status = local_mbox_append(state, mp);
        }
        mbox_release(mp);
    }
    local_eugid_restore();
    return status;
}

/* Deliver to a Maildir as UID/GID; 0 or -1 with why set. */
static int mailbox_maildir(LOCAL_STATE *state, const char *dir, uid_t uid, gid_t gid)
{
    DELIVER_REQUEST *request = state->request;
    const char *delivered = local_delivered_hdr("file") ? state->delivered : "";
    int status;

    local_eugid_set(uid, gid);
    status = maildir_deliver(dir, request->sender, local_orig_rcpt(state), delivered, request->fp,
                             request->data_offset, 0, state->why, NULL);
    local_eugid_restore();
    return status == 0 ? 0 : -1;
}

/* The mailbox proper: home_mailbox or the spool file. */
static int mailbox_file(LOCAL_STATE *state)
{
    VSTRING *path = vstring_alloc(100);
    uid_t uid = state->owner->uid;
    gid_t gid = state->owner->gid;
    uid_t chown_uid = (uid_t)-1;
    gid_t chown_gid = (gid_t)-1;
    bool maildir;
    int status;

    if (*var_home_mailbox)
        vstring_sprintf(path, "%s/%s", state->owner->home, var_home_mailbox);
    else if (*var_mail_spool_directory &&
             var_mail_spool_directory[strlen(var_mail_spool_directory) - 1] == '/')
        vstring_sprintf(path, "%s%s/", var_mail_spool_directory, state->user);
    else
        vstring_sprintf(path, "%s/%s", var_mail_spool_directory, state->user);
    maildir = vstring_str(path)[VSTRING_LEN(path) - 1] == '/';

    if (state->request->flags & DEL_REQ_FLAG_MTA_VRFY) {
        status = local_sent(state, "delivers to %s", maildir ? "maildir" : "mailbox");
    } else if (maildir) {
        dsb_reset(state->why);
        if (mailbox_maildir(state, vstring_str(path), uid, gid) == 0) {
            status = local_sent(state, "delivered to maildir");
        } else {
            mailbox_reason_prefix(state->why, "maildir delivery failed: ");
            status = local_result(state, state->why, false);
        }
    } else {
        if (*var_home_mailbox == 0)
            mailbox_spool_ids(state->owner, &uid, &gid, &chown_uid, &chown_gid);
        dsb_reset(state->why);
        if (mailbox_mbox(state, vstring_str(path), uid, gid, chown_uid, chown_gid) == 0) {
            status = local_sent(state, "delivered to mailbox");
        } else {
            VSTRING *prefix = vstring_alloc(100);

            vstring_sprintf(prefix, "cannot update mailbox %s for user %s. ", vstring_str(path), state->user);
            mailbox_reason_prefix(state->why, vstring_str(prefix));
            vstring_free(prefix);
            status = local_result(state, state->why, false);
        }
    }
    vstring_free(path);
    return status;
}

/* Deliver to the recipient's mailbox (spec 2.7 after .forward). */
int deliver_mailbox(LOCAL_STATE *state)
{
    VSTRING *key = vstring_alloc(100);
    const char *value;
    int error;
    bool seen;

    vstring_sprintf(key, "mailbox %s", state->user);
    seen = local_dup_seen(state, vstring_str(key));
    vstring_free(key);
    if (seen)
        return 0;

    value = mailbox_lookup(&mailbox_transport_maps, "mailbox_transport_maps", var_mailbox_transport_maps,
                           state->user, &error);
    if (error)
        return local_defer(state, "4.3.0", "mailbox_transport_maps map lookup failure");
    if (value != NULL)
        return deliver_pass_to(state, value);
    if (*var_mailbox_transport)
        return deliver_pass_to(state, var_mailbox_transport);

    if (state->owner == NULL)
        return deliver_unknown(state);

    value = mailbox_lookup(&mailbox_command_maps, "mailbox_command_maps", var_mailbox_command_maps,
                           state->user, &error);
    if (error)
        return local_defer(state, "4.3.0", "mailbox_command_maps map lookup failure");
    if (value != NULL) {
        char *command = mystrdup(value);
        int status = mailbox_command(state, command);

        myfree(command);
        return status;
    }
    if (*var_mailbox_command)
        return mailbox_command(state, var_mailbox_command);
    return mailbox_file(state);
}
