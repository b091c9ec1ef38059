/*
 * file - deliver_file(): "/path" (mbox append) and "/dir/" (Maildir)
 * destinations from aliases, :include: files and .forward files
 * (spec/delivery.md 2.4, 2.6).
 *
 * The destination must be allowed by allow_mail_to_files for the
 * expansion type it came from ("5.7.1 mail to file is restricted"); it is
 * written with state->privs (root replaced by default_privs; rootless:
 * the instance user). An executable file is refused ("5.7.1 file is
 * executable"). The mbox form is the one of mailbox delivery (From_,
 * Return-Path:, X-Original-To:, Delivered-To: when prepend_delivered_
 * header lists "file", >From quoting, blank line), locked with
 * mailbox_delivery_lock, cut back on failure.
 *
 * Results: "delivered to file: PATH"; failures "cannot append message to
 * file PATH: REASON" (maildir: "maildir delivery failed: REASON"),
 * bounced or deferred by the status class. A destination met twice in
 * one expansion is delivered once.
 */
#include "sys_defs.h"

#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>

#include "deliver_request.h"
#include "local.h"
#include "local_util.h"
#include "mail_copy.h"
#include "mail_params.h"
#include "maildir_deliver.h"
#include "mbox_open.h"
#include "msg.h"
#include "rec_type.h"

/* Put the failure context in front of why->reason. */
static void file_reason_prefix(DSN_BUF *why, bool maildir, const char *path)
{
    VSTRING *buf = vstring_alloc(100);

    if (maildir)
        vstring_strcpy(buf, "maildir delivery failed: ");
    else
        vstring_sprintf(buf, "cannot append message to file %s: ", path);
    vstring_strcat(buf, vstring_str(why->reason));
    vstring_strcpy(why->reason, vstring_str(buf));
    vstring_free(buf);
}

/* Append to an mbox-style file; 0, -1 (why set) or 1 (executable). */
static int file_mbox(LOCAL_STATE *state, const char *path)
{
    struct stat st;
    MBOX *mp;
    int status;

    mp = mbox_open(path, O_APPEND | O_WRONLY | O_CREAT, S_IRUSR | S_IWUSR, &st, (uid_t)-1, (gid_t)-1,
                   mbox_lock_mask(var_mailbox_delivery_lock), "5.2.0", state->why);
    if (mp == NULL)
        return -1;
    status = st.st_mode & (S_IXUSR | S_IXGRP | S_IXOTH) ? 1 : local_mbox_append(state, mp);
    mbox_release(mp);
    return status;
}

/* Deliver to "/path" or "/dir/"; 0 or -1 (reported). */
int deliver_file(LOCAL_STATE *state, const char *path)
{
    DELIVER_REQUEST *request = state->request;
    VSTRING *key;
    LOCAL_PRIVS privs;
    bool maildir = *path && path[strlen(path) - 1] == '/';
    bool seen;
    int status;

    if (msg_verbose)
        msg_info("deliver_file[%d]: %s", state->level, path);
    key = vstring_alloc(100);
    vstring_sprintf(key, "file %s", path);
    seen = local_dup_seen(state, vstring_str(key));
    vstring_free(key);
    if (seen)
        return 0;
    if (!local_allowed(var_allow_mail_to_files, state->exp_type))
        return local_bounce(state, "5.7.1", "mail to file is restricted");
    if (request->flags & DEL_REQ_FLAG_MTA_VRFY)
        return local_sent(state, "delivers to file: %s", path);

    privs = local_privs_for(state);
    dsb_reset(state->why);
    local_eugid_set(privs.uid, privs.gid);
    if (maildir) {
        status = maildir_deliver(path, request->sender, local_orig_rcpt(state), state->delivered, request->fp,
                                 request->data_offset, 0, state->why, NULL);
        status = status == 0 ? 0 : -1;
    } else {
        status = file_mbox(state, path);
    }
    local_eugid_restore();

    if (status == 0)
        return local_sent(state, "delivered to file: %s", path);
    if (status == 1)
        return local_bounce(state, "5.7.1", "file is executable");
    file_reason_prefix(state->why, maildir, path);
    return local_result(state, state->why, false);
}
