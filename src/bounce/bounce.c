/*
 * bounce - the bounce, defer and trace services (bounce(8)): keep the
 * per-message logs of delivery results and send the notices made from
 * them (queue.md section 7; protocol in src/global/bounce.h).
 *
 * One program serves the three master.cf names; the service name chooses
 * the log directory (bounce/, defer/ or trace/ under the queue directory,
 * hashed like the queue). A single_server: one request per connection.
 *
 *   append  one log entry: opened O_APPEND|O_CREAT 0600, exclusive flock,
 *           written, flushed and fsynced before status 0 is answered.
 *   flush   non-delivery notice from the log (service defer: every entry
 *           reported as "failed", at expiry), then the log is removed.
 *   warn    delay notice from defer/ID (headers only); the log stays.
 *   trace   success notice (NOTIFY=SUCCESS recipients) or, with
 *           DEL_REQ_FLAG_RECORD/MTA_VRFY, the delivery status report;
 *           the log is removed.
 *   one     immediate non-delivery notice for the request's recipient.
 *
 * Notices go to the original sender with the null sender; the null
 * sender's mail only produces postmaster copies (notify_classes 2bounce or
 * bounce), and a failed postmaster notice ($double_bounce_sender) is
 * discarded with "warning: QID: undeliverable postmaster notification
 * discarded". notify_classes "bounce" adds a headers-only postmaster copy
 * of each non-delivery notice, "delay" of each delay notice.
 *
 * Errors: every failure is answered with status -1 and logged; the log
 * file stays, so the client retries later. Bad requests never crash the
 * daemon.
 */
#include "sys_defs.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "attr.h"
#include "bounce.h"
#include "bounce_log.h"
#include "bounce_notice.h"
#include "bounce_template.h"
#include "cleanup_user.h"
#include "deliver_request.h"
#include "mail_params.h"
#include "mail_proto.h"
#include "mail_queue.h"
#include "mail_server.h"
#include "msg.h"
#include "myflock.h"
#include "mymalloc.h"
#include "post_mail.h"
#include "rec_type.h"
#include "stringops.h"
#include "vstream.h"
#include "vstring.h"

/* One request, as received. */
typedef struct BOUNCE_REQ {
    VSTRING *request;
    int flags;
    VSTRING *queue;
    VSTRING *id;
    VSTRING *encoding;
    int smtputf8;
    VSTRING *sender;
    VSTRING *envid;
    int ret;
    VSTRING *orig_rcpt, *rcpt, *dsn_orcpt;
    int dsn_notify;
    long long offset;
    DSN_BUF *dsb;
    long long log_time;
} BOUNCE_REQ;

/* The log directory this process serves (from the service name). */
static const char *bounce_log_queue(void)
{
    const char *name = mail_server_service_name ? mail_server_service_name : "";

    if (strcmp(name, MAIL_SERVICE_DEFER) == 0)
        return MAIL_QUEUE_DEFER;
    if (strcmp(name, MAIL_SERVICE_TRACE) == 0)
        return MAIL_QUEUE_TRACE;
    return MAIL_QUEUE_BOUNCE;
}

/* True when notify_classes names CLASS. */
static bool bounce_notify_class(const char *class_)
{
    char *copy = mystrdup(var_notify_classes ? var_notify_classes : "");
    char *bp = copy;
    char *word;
    bool found = false;

    while (!found && (word = mystrtok(&bp, " \t\r\n,")) != NULL)
        found = strcasecmp(word, class_) == 0;
    myfree(copy);
    return found;
}

/* True when QUEUE is a message queue a request may name. */
static bool bounce_queue_ok(const char *queue)
{
    static const char *const queues[] = {MAIL_QUEUE_INCOMING, MAIL_QUEUE_ACTIVE, MAIL_QUEUE_DEFERRED,
                                         MAIL_QUEUE_HOLD, MAIL_QUEUE_MAILDROP};

    for (size_t i = 0; i < ARRAY_LEN(queues); i++)
        if (strcmp(queue, queues[i]) == 0)
            return true;
    return false;
}

/* Append one entry to the log; 0 or -1. */
static int bounce_append_service(const BOUNCE_REQ *req)
{
    RECIPIENT rcpt = {(long)req->offset, vstring_str(req->dsn_orcpt), req->dsn_notify,
                      vstring_str(req->orig_rcpt), vstring_str(req->rcpt)};
    const char *queue = bounce_log_queue();
    DSN dsn;
    VSTREAM *fp;
    int ret = 0;

    if (VSTRING_LEN(req->rcpt) == 0 || VSTRING_LEN(req->dsb->status) == 0) {
        msg_warn("%s: append request without recipient or status", vstring_str(req->id));
        return -1;
    }
    if ((fp = mail_queue_open(queue, vstring_str(req->id), O_WRONLY | O_APPEND | O_CREAT, 0600)) == NULL) {
        msg_warn("open %s/%s: %m", queue, vstring_str(req->id));
        return -1;
    }
    if (myflock(vstream_fileno(fp), MYFLOCK_METHOD_FLOCK, MYFLOCK_OP_EXCLUSIVE) < 0) {
        msg_warn("lock %s/%s: %m", queue, vstring_str(req->id));
        ret = -1;
    } else {
        dsn_from_buf(&dsn, req->dsb);
        if (bounce_log_append(fp, &rcpt, &dsn, req->log_time ? (time_t)req->log_time : time(NULL)) < 0 ||
            vstream_fflush(fp) != 0 || fsync(vstream_fileno(fp)) < 0) {
            msg_warn("write %s/%s: %m", queue, vstring_str(req->id));
            ret = -1;
        }
    }
    if (vstream_fclose(fp) != 0 && ret == 0) {
        msg_warn("close %s/%s: %m", queue, vstring_str(req->id));
        ret = -1;
    }
    return ret;
}

/* BOUNCE_PUT_FN for post_mail. */
static int bounce_put(void *ctx, const char *data, size_t len)
{
    return post_mail_buffer((VSTREAM *)ctx, data, len) != 0;
}

/*
 * Queue one notice to RECIPIENT with envelope SENDER; logs "QID: WHO
 * WHAT notification: NEWQID". 0 or -1.
 */
static int bounce_post(const BOUNCE_REQ *req, BOUNCE_NOTICE *notice, const BOUNCE_ENTRIES *entries,
                       const char *env_sender, const char *recipient, const char *what)
{
    VSTRING *new_id = vstring_alloc(MAIL_QUEUE_ID_LEN_MAX);
    VSTREAM *msg_fp = NULL;
    VSTREAM *fp;
    BOUNCE_MSG msg = {time(NULL), 0};
    int status;

    msg_fp = mail_queue_open(vstring_str(req->queue), vstring_str(req->id), O_RDONLY, 0);
    if (msg_fp == NULL) {
        msg_warn("%s: open %s/%s: %m; notice sent without the message", vstring_str(req->id),
                 vstring_str(req->queue), vstring_str(req->id));
    } else if (bounce_msg_scan(msg_fp, &msg) < 0) {
        vstream_fclose(msg_fp);
        msg_fp = NULL;
    }
    notice->arrival = msg.arrival ? msg.arrival : time(NULL);
    notice->now = time(NULL);
    notice->to = recipient;
    if (notice->kind == BOUNCE_KIND_FAILURE && !notice->postmaster &&
        (req->ret == DSN_RET_HDRS || (var_bounce_size_limit > 0 && msg.size > var_bounce_size_limit)))
        notice->headers_only = true;
    if (notice->kind == BOUNCE_KIND_FAILURE && notice->postmaster && msg.size > var_bounce_size_limit)
        notice->headers_only = true;

    fp = post_mail_open(env_sender, recipient, CLEANUP_FLAG_NONE, 0, NULL, new_id);
    notice->notice_id = vstring_str(new_id);
    status = bounce_notice_write(notice, entries, msg_fp, bounce_put, fp) == 0 ? 0 : CLEANUP_STAT_WRITE;
    status |= post_mail_close(fp);
    if (msg_fp)
        vstream_fclose(msg_fp);
    if (status == 0)
        msg_info("%s: %s notification: %s", vstring_str(req->id), what, vstring_str(new_id));
    else
        msg_warn("%s: %s notification failed: %s", vstring_str(req->id), what,
                 cleanup_strerror((unsigned)status));
    vstring_free(new_id);
    return status == 0 ? 0 : -1;
}

/* Read the log of this service into ENTRIES, filtered; -1 when unreadable (no log: 0, empty). */
static int bounce_read_log(const BOUNCE_REQ *req, BOUNCE_ENTRIES *all)
{
    const char *queue = bounce_log_queue();
    BOUNCE_LOG *bp = bounce_log_open(queue, vstring_str(req->id), O_RDONLY, 0);

    if (bp == NULL) {
        if (errno == ENOENT)
            return 0;
        msg_warn("open %s/%s: %m", queue, vstring_str(req->id));
        return -1;
    }
    while (bounce_log_read(bp) != NULL)
        bounce_entries_add(all, &bp->rcpt, &bp->dsn, bp->log_time);
    bounce_log_close(bp);
    return 0;
}

/* The entries whose NOTIFY asks for BIT (0: not specified counts as yes for failure/delay). */
static BOUNCE_ENTRIES *bounce_select(const BOUNCE_ENTRIES *all, int bit, bool default_yes)
{
    BOUNCE_ENTRIES *out = bounce_entries_create();

    for (int i = 0; i < all->len; i++) {
        const BOUNCE_ENTRY *ep = all->entry + i;
        int notify = ep->rcpt.dsn_notify;

        if (notify == 0 ? default_yes : (notify & DSN_NOTIFY_NEVER) == 0 && (notify & bit) != 0)
            bounce_entries_add(out, &ep->rcpt, &ep->dsn, ep->log_time);
    }
    return out;
}

/* The double bounce sender address, $double_bounce_sender@$myorigin. */
static const char *bounce_double_sender(VSTRING *buf)
{
    if (strchr(var_double_bounce_sender, '@'))
        return vstring_str(vstring_strcpy(buf, var_double_bounce_sender));
    return vstring_str(vstring_sprintf(buf, "%s@%s", var_double_bounce_sender, var_myorigin));
}

/*
 * Non-delivery (KIND failure) or delay notices for ALL: to the sender
 * (entries that asked for it), then the postmaster copies; 0 or -1.
 */
static int bounce_notify(const BOUNCE_REQ *req, BOUNCE_ENTRIES *all, BOUNCE_KIND kind)
{
    VSTRING *dbl = vstring_alloc(100);
    const char *sender = vstring_str(req->sender);
    const char *double_sender = bounce_double_sender(dbl);
    BOUNCE_NOTICE notice;
    int ret = 0;

    memset(&notice, 0, sizeof(notice));
    notice.kind = kind;
    notice.queue_id = vstring_str(req->id);
    notice.sender = sender;
    notice.envid = vstring_str(req->envid);
    if (all->len == 0)
        goto out;
    if (strcasecmp(sender, double_sender) == 0) {
        msg_warn("%s: undeliverable postmaster notification discarded", vstring_str(req->id));
        goto out;
    }
    if (*sender == 0) {
        /* A notice that could not be delivered: a double bounce. */
        if (kind == BOUNCE_KIND_FAILURE &&
            (bounce_notify_class("2bounce") || bounce_notify_class("bounce"))) {
            notice.postmaster = true;
            ret = bounce_post(req, &notice, all, double_sender, var_2bounce_notice_recipient,
                              "postmaster non-delivery");
        } else if (kind == BOUNCE_KIND_DELAY && bounce_notify_class("delay")) {
            notice.postmaster = true;
            ret =
                bounce_post(req, &notice, all, double_sender, var_delay_notice_recipient, "postmaster delay");
        }
        goto out;
    }
    BOUNCE_ENTRIES *mine =
        bounce_select(all, kind == BOUNCE_KIND_DELAY ? DSN_NOTIFY_DELAY : DSN_NOTIFY_FAILURE, true);

    if (mine->len > 0)
        ret = bounce_post(req, &notice, mine, "", sender,
                          kind == BOUNCE_KIND_DELAY ? "sender delay" : "sender non-delivery");
    bounce_entries_free(mine);
    if (ret == 0 && kind == BOUNCE_KIND_FAILURE && bounce_notify_class("bounce")) {
        memset(&notice, 0, sizeof(notice));
        notice.kind = kind;
        notice.queue_id = vstring_str(req->id);
        notice.sender = sender;
        notice.envid = vstring_str(req->envid);
        notice.postmaster = true;
        notice.headers_only = true;
        /* A failed copy is only logged: a retry would repeat the sender's notice. */
        (void)bounce_post(req, &notice, all, double_sender, var_bounce_notice_recipient,
                          "postmaster non-delivery");
    } else if (ret == 0 && kind == BOUNCE_KIND_DELAY && bounce_notify_class("delay")) {
        memset(&notice, 0, sizeof(notice));
        notice.kind = kind;
        notice.queue_id = vstring_str(req->id);
        notice.sender = sender;
        notice.envid = vstring_str(req->envid);
        notice.postmaster = true;
        (void)bounce_post(req, &notice, all, double_sender, var_delay_notice_recipient, "postmaster delay");
    }
out:
    vstring_free(dbl);
    return ret;
}

/* Remove the log after its notice was sent; 0 or -1. */
static int bounce_remove_log(const BOUNCE_REQ *req)
{
    const char *queue = bounce_log_queue();

    if (mail_queue_remove(queue, vstring_str(req->id)) < 0 && errno != ENOENT) {
        msg_warn("remove %s/%s: %m", queue, vstring_str(req->id));
        return -1;
    }
    return 0;
}

/* flush: non-delivery notice from the log, then remove it. */
static int bounce_flush_service(const BOUNCE_REQ *req)
{
    BOUNCE_ENTRIES *all = bounce_entries_create();
    int ret = bounce_read_log(req, all);

    if (ret == 0 && strcmp(bounce_log_queue(), MAIL_QUEUE_DEFER) == 0) {
        /* Returned to sender at expiry: every delayed entry has failed. */
        for (int i = 0; i < all->len; i++) {
            myfree((void *)all->entry[i].dsn.action);
            all->entry[i].dsn.action = mystrdup(DSN_ACTION_FAILED);
        }
    }
    if (ret == 0)
        ret = bounce_notify(req, all, BOUNCE_KIND_FAILURE);
    if (ret == 0)
        ret = bounce_remove_log(req);
    bounce_entries_free(all);
    return ret;
}

/* warn: delay notice from the defer log, which stays. */
static int bounce_warn_service(const BOUNCE_REQ *req)
{
    BOUNCE_ENTRIES *all = bounce_entries_create();
    int ret = bounce_read_log(req, all);

    if (ret == 0)
        ret = bounce_notify(req, all, BOUNCE_KIND_DELAY);
    bounce_entries_free(all);
    return ret;
}

/* trace: success notice or delivery status report, then remove the log. */
static int bounce_trace_service(const BOUNCE_REQ *req)
{
    BOUNCE_ENTRIES *all = bounce_entries_create();
    BOUNCE_ENTRIES *mine = NULL;
    BOUNCE_NOTICE notice;
    int ret = bounce_read_log(req, all);

    memset(&notice, 0, sizeof(notice));
    notice.queue_id = vstring_str(req->id);
    notice.sender = vstring_str(req->sender);
    notice.envid = vstring_str(req->envid);
    if (req->flags & (DEL_REQ_FLAG_RECORD | DEL_REQ_FLAG_MTA_VRFY)) {
        notice.kind = BOUNCE_KIND_VERIFY;
        mine = all; /* every recipient, whatever its NOTIFY */
        all = NULL;
    } else {
        notice.kind = BOUNCE_KIND_SUCCESS;
        mine = bounce_select(all, DSN_NOTIFY_SUCCESS, false);
    }
    if (ret == 0 && mine->len > 0 && *notice.sender != 0)
        ret = bounce_post(req, &notice, mine, "", notice.sender, "sender delivery status");
    if (ret == 0)
        ret = bounce_remove_log(req);
    if (all)
        bounce_entries_free(all);
    bounce_entries_free(mine);
    return ret;
}

/* one: immediate non-delivery notice for the request's recipient. */
static int bounce_one_service(const BOUNCE_REQ *req)
{
    RECIPIENT rcpt = {(long)req->offset, vstring_str(req->dsn_orcpt), req->dsn_notify,
                      vstring_str(req->orig_rcpt), vstring_str(req->rcpt)};
    BOUNCE_ENTRIES *all = bounce_entries_create();
    DSN dsn;
    int ret;

    if (VSTRING_LEN(req->rcpt) == 0) {
        msg_warn("%s: one request without recipient", vstring_str(req->id));
        bounce_entries_free(all);
        return -1;
    }
    dsn_from_buf(&dsn, req->dsb);
    if (*dsn.action == 0)
        dsn.action = DSN_ACTION_FAILED;
    bounce_entries_add(all, &rcpt, &dsn, req->log_time ? (time_t)req->log_time : time(NULL));
    ret = bounce_notify(req, all, BOUNCE_KIND_FAILURE);
    bounce_entries_free(all);
    return ret;
}

/* Serve one connection: one request, one answer. */
static void bounce_service(VSTREAM *client, char *service, char **argv)
{
    BOUNCE_REQ req;
    int status = -1;

    (void)service;
    (void)argv;
    memset(&req, 0, sizeof(req));
    req.request = vstring_alloc(10);
    req.queue = vstring_alloc(10);
    req.id = vstring_alloc(20);
    req.encoding = vstring_alloc(10);
    req.sender = vstring_alloc(50);
    req.envid = vstring_alloc(10);
    req.orig_rcpt = vstring_alloc(50);
    req.rcpt = vstring_alloc(50);
    req.dsn_orcpt = vstring_alloc(50);
    req.dsb = dsb_create();

    if (attr_scan(
            client, ATTR_FLAG_NONE, RECV_ATTR_STR(BOUNCE_ATTR_REQUEST, req.request),
            RECV_ATTR_INT(BOUNCE_ATTR_FLAGS, &req.flags), RECV_ATTR_STR(BOUNCE_ATTR_QUEUE, req.queue),
            RECV_ATTR_STR(BOUNCE_ATTR_QUEUE_ID, req.id), RECV_ATTR_STR(BOUNCE_ATTR_ENCODING, req.encoding),
            RECV_ATTR_INT(BOUNCE_ATTR_SMTPUTF8, &req.smtputf8), RECV_ATTR_STR(BOUNCE_ATTR_SENDER, req.sender),
            RECV_ATTR_STR(BOUNCE_ATTR_ENVID, req.envid), RECV_ATTR_INT(BOUNCE_ATTR_RET, &req.ret),
            RECV_ATTR_STR(DELIVER_ATTR_ORCPT, req.orig_rcpt), RECV_ATTR_STR(DELIVER_ATTR_RECIP, req.rcpt),
            RECV_ATTR_STR(DELIVER_ATTR_DSN_ORCPT, req.dsn_orcpt),
            RECV_ATTR_INT(DELIVER_ATTR_DSN_NOTIFY, &req.dsn_notify),
            RECV_ATTR_LONG(DELIVER_ATTR_OFFSET, &req.offset),
            RECV_ATTR_STR(BOUNCE_ATTR_DSN_STATUS, req.dsb->status),
            RECV_ATTR_STR(BOUNCE_ATTR_DSN_ACTION, req.dsb->action),
            RECV_ATTR_STR(BOUNCE_ATTR_DSN_REASON, req.dsb->reason),
            RECV_ATTR_STR(BOUNCE_ATTR_DSN_DTYPE, req.dsb->dtype),
            RECV_ATTR_STR(BOUNCE_ATTR_DSN_DTEXT, req.dsb->dtext),
            RECV_ATTR_STR(BOUNCE_ATTR_DSN_MTYPE, req.dsb->mtype),
            RECV_ATTR_STR(BOUNCE_ATTR_DSN_MNAME, req.dsb->mname),
            RECV_ATTR_LONG(BOUNCE_ATTR_LOG_TIME, &req.log_time), ATTR_TYPE_END) < 1) {
        msg_warn("malformed request from %s", vstream_path(client));
        goto out;
    }
    if (!mail_queue_id_ok(vstring_str(req.id))) {
        msg_warn("malformed queue ID in %s request: \"%.100s\"", vstring_str(req.request),
                 vstring_str(req.id));
    } else if (strcmp(vstring_str(req.request), BOUNCE_CMD_APPEND) == 0) {
        status = bounce_append_service(&req);
    } else if (!bounce_queue_ok(vstring_str(req.queue))) {
        msg_warn("%s: bad queue name in %s request: \"%.100s\"", vstring_str(req.id),
                 vstring_str(req.request), vstring_str(req.queue));
    } else if (strcmp(vstring_str(req.request), BOUNCE_CMD_FLUSH) == 0) {
        status = bounce_flush_service(&req);
    } else if (strcmp(vstring_str(req.request), BOUNCE_CMD_WARN) == 0) {
        status = bounce_warn_service(&req);
    } else if (strcmp(vstring_str(req.request), BOUNCE_CMD_TRACE) == 0) {
        status = bounce_trace_service(&req);
    } else if (strcmp(vstring_str(req.request), BOUNCE_CMD_ONE) == 0) {
        status = bounce_one_service(&req);
    } else {
        msg_warn("unknown request: \"%.100s\"", vstring_str(req.request));
    }
    attr_print(client, ATTR_FLAG_NONE, SEND_ATTR_INT(BOUNCE_ATTR_STATUS, status), ATTR_TYPE_END);
out:
    vstring_free(req.request);
    vstring_free(req.queue);
    vstring_free(req.id);
    vstring_free(req.encoding);
    vstring_free(req.sender);
    vstring_free(req.envid);
    vstring_free(req.orig_rcpt);
    vstring_free(req.rcpt);
    vstring_free(req.dsn_orcpt);
    dsb_free(req.dsb);
}

/* Read bounce_template_file while still privileged (before any chroot). */
static void bounce_pre_init(char *service, char **argv)
{
    (void)service;
    (void)argv;
    bounce_template_load(var_bounce_template_file);
}

/* The bounce, defer and trace services: one program on the single_server skeleton. */
int main(int argc, char **argv)
{
    static const MAIL_SERVER_OPTS opts = {.pre_init = bounce_pre_init};

    single_server_main(argc, argv, bounce_service, &opts);
}
