/*
 * forward - addresses that local(8) re-submits as a new message (spec
 * 2.2: remote alias members, owner- list members, :include: and .forward
 * entries).
 *
 * Public functions:
 *   forward_append(state, address)
 *       remembers address for the recipient being delivered, grouped by
 *       envelope sender (an owner- alias changes it) and by whether DSN
 *       information is propagated (plain alias) or not (owner- list). The
 *       same address is kept once per group. Returns 0.
 *   forward_finish(state, status)
 *       called once per recipient after deliver_recipient() with its
 *       result. With status 0, each group becomes ONE new message through
 *       cleanup (post_mail.h): the collected recipients, "Delivered-To:
 *       DELIVERED" first when prepend_delivered_header has "forward", then
 *       the queued message's headers and body copied from the queue file.
 *       The recipient is reported "2.0.0 forwarded as NEWQID" (action
 *       "expanded"; "delivered" for an owner- list). With status -1 (the
 *       recipient was deferred) nothing is sent: the retry expands again.
 *       Returns the recipient's final status.
 *
 * DSN: a plain alias passes on the envelope ID, the original recipient
 * and NOTIFY without SUCCESS (SUCCESS alone becomes NEVER); an owner-
 * list passes on none of them.
 *
 * Errors: a queue file read error or a cleanup failure defers the
 * recipient "4.3.0 CLEANUP-REASON" (or "4.3.0 error reading message").
 */
#include "sys_defs.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "argv.h"
#include "cleanup_user.h"
#include "deliver_request.h"
#include "dsn.h"
#include "local.h"
#include "mail_params.h"
#include "msg.h"
#include "mymalloc.h"
#include "post_mail.h"
#include "rec_type.h"
#include "record.h"
#include "stringops.h"
#include "vstring.h"

/* The addresses for one new message. */
typedef struct FORWARD_INFO {
    char *sender;
    bool owner; /* from an owner- list: no DSN propagation */
    ARGV *rcpts;
    struct FORWARD_INFO *next;
} FORWARD_INFO;

static FORWARD_INFO *forward_list;

/* The group for sender and owner, created when new. */
static FORWARD_INFO *forward_group(const char *sender, bool owner)
{
    FORWARD_INFO *info;
    FORWARD_INFO **pp;

    for (pp = &forward_list; (info = *pp) != NULL; pp = &info->next)
        if (info->owner == owner && strcmp(info->sender, sender) == 0)
            return info;
    info = mymalloc(sizeof(*info));
    info->sender = mystrdup(sender);
    info->owner = owner;
    info->rcpts = argv_alloc(2);
    info->next = NULL;
    *pp = info;
    return info;
}

/* Remember one address to forward; see the file comment. */
int forward_append(LOCAL_STATE *state, const char *address)
{
    const char *sender = state->sender ? state->sender : state->request->sender;
    FORWARD_INFO *info = forward_group(sender, state->owner_alias);

    for (size_t i = 0; i < info->rcpts->argc; i++)
        if (strcasecmp(info->rcpts->argv[i], address) == 0)
            return 0;
    if (msg_verbose)
        msg_info("forward_append: %s: %s (sender %s)", state->rcpt.address, address, sender);
    argv_add(info->rcpts, address);
    return 0;
}

/* Forget every collected address. */
static void forward_free(void)
{
    FORWARD_INFO *next;

    for (FORWARD_INFO *info = forward_list; info; info = next) {
        next = info->next;
        myfree(info->sender);
        argv_free(info->rcpts);
        myfree(info);
    }
    forward_list = NULL;
}

/* Whether prepend_delivered_header lists "forward". */
static bool forward_delivered_header(void)
{
    char *saved = mystrdup(var_prepend_delivered_header);
    char *bp = saved;
    char *item;
    bool found = false;

    while (!found && (item = mystrtok(&bp, CHARS_COMMA_SP)) != NULL)
        found = strcasecmp(item, "forward") == 0;
    myfree(saved);
    return found;
}

/* Copy the queued message content to fp; false on a queue file error. */
static bool forward_copy(DELIVER_REQUEST *request, VSTREAM *fp)
{
    VSTRING *buf = vstring_alloc(100);
    VSTRING *line = vstring_alloc(100);
    bool ok = false;
    int type;

    if (vstream_fseek(request->fp, request->data_offset, SEEK_SET) < 0) {
        msg_warn("%s: seek queue file: %m", request->queue_id);
    } else if ((type = rec_get(request->fp, buf, 0)) != REC_TYPE_MESG) {
        msg_warn("%s: queue file has no message content", request->queue_id);
    } else {
        while ((type = rec_get(request->fp, buf, 0)) == REC_TYPE_NORM || type == REC_TYPE_CONT) {
            vstring_memcat(line, vstring_str(buf), VSTRING_LEN(buf));
            if (type == REC_TYPE_NORM) {
                post_mail_buffer(fp, vstring_str(line), VSTRING_LEN(line));
                vstring_reset(line);
            }
        }
        if (type == REC_TYPE_XTRA)
            ok = true;
        else
            msg_warn("%s: corrupt queue file: record type %d in the message content", request->queue_id,
                     type);
    }
    vstring_free(line);
    vstring_free(buf);
    return ok;
}

/* Submit the message for one group; cleanup status bits, or -1 on a read error. */
static int forward_send(LOCAL_STATE *state, const FORWARD_INFO *info, VSTRING *queue_id)
{
    DELIVER_REQUEST *request = state->request;
    const char *orig = NULL;
    int notify = 0;
    int flags = CLEANUP_FLAG_BOUNCE | (request->smtputf8 ? CLEANUP_FLAG_SMTPUTF8 : 0);
    int trace = request->flags & (DEL_REQ_FLAG_MTA_VRFY | DEL_REQ_FLAG_RECORD);
    VSTREAM *fp;
    bool copied;
    int status;

    if (!info->owner) {
        orig = *state->rcpt.orig_addr ? state->rcpt.orig_addr : state->rcpt.address;
        notify = state->rcpt.dsn_notify == DSN_NOTIFY_SUCCESS ? DSN_NOTIFY_NEVER
                                                              : state->rcpt.dsn_notify & ~DSN_NOTIFY_SUCCESS;
    }
    /* A plain alias passes ENVID, RET, ORCPT and NOTIFY (minus SUCCESS) on;
     * an owner- list starts over (spec 2.2). */
    fp = post_mail_open(info->sender, NULL, flags, trace, info->owner ? NULL : request->dsn_envid, queue_id);
    if (!info->owner && request->dsn_ret) {
        char ret[16];

        snprintf(ret, sizeof(ret), "%d", request->dsn_ret);
        post_mail_attr(fp, MAIL_ATTR_DSN_RET, ret);
    }
    for (size_t i = 0; i < info->rcpts->argc; i++)
        post_mail_rcpt(fp, info->rcpts->argv[i], orig, notify);
    if (forward_delivered_header())
        post_mail_fprintf(fp, "Delivered-To: %s", state->delivered ? state->delivered : state->rcpt.address);
    copied = forward_copy(request, fp);
    status = post_mail_close(fp);
    return copied ? status : -1;
}

/* Send what was collected and report the recipient; see the file comment. */
int forward_finish(LOCAL_STATE *state, int status)
{
    VSTRING *queue_id = vstring_alloc(20);
    VSTRING *queue_ids = vstring_alloc(20);
    bool owner = false;
    int cleanup_status = 0;

    if (forward_list == NULL || status != 0) {
        forward_free();
        vstring_free(queue_id);
        vstring_free(queue_ids);
        return status;
    }
    for (FORWARD_INFO *info = forward_list; info && cleanup_status == 0; info = info->next) {
        cleanup_status = forward_send(state, info, queue_id);
        if (VSTRING_LEN(queue_ids))
            vstring_strcat(queue_ids, ", ");
        vstring_strcat(queue_ids, vstring_str(queue_id));
        owner |= info->owner;
    }
    forward_free();
    if (cleanup_status < 0) {
        status = local_defer(state, "4.3.0", "error reading message");
    } else if (cleanup_status != 0) {
        status = local_defer(state, "4.3.0", "%s", cleanup_strerror((unsigned)cleanup_status));
    } else {
        dsb_simple(state->why, "2.0.0", "forwarded as %s", vstring_str(queue_ids));
        dsb_action(state->why, owner ? DSN_ACTION_DELIVERED : DSN_ACTION_EXPANDED);
        status = local_result(state, state->why, false);
    }
    vstring_free(queue_id);
    vstring_free(queue_ids);
    return status;
}
