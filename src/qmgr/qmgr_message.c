/*
 * qmgr_message - messages in the active queue: reading a queue file,
 * resolving its recipients into delivery entries, and deciding what
 * happens to the file when the last entry is done. See qmgr.h.
 *
 * qmgr_message_activate(queue, id, flags) moves QUEUE/ID to active/ and
 * takes it into memory; false when the file is gone or corrupt (moved to
 * corrupt/ with a warning). Recipients are read in batches so that at
 * most qmgr_message_recipient_limit recipients are in memory at once.
 * qmgr_message_entry_done() is called once per finished delivery entry.
 * qmgr_message_defer_rcpt() defers one recipient by the queue manager's
 * own decision (defer_transports, dead destination, resolver failure).
 * qmgr_backoff(age, min, max) is the retry delay of queue.md 5.2.
 */
#include "sys_defs.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>
#include <utime.h>

#include "bounce.h"
#include "deliver_request.h"
#include "dsn.h"
#include "htable.h"
#include "mail_params.h"
#include "mail_flow.h"
#include "mail_queue.h"
#include "msg.h"
#include "myflock.h"
#include "mymalloc.h"
#include "qmgr.h"
#include "rec_type.h"
#include "record.h"
#include "resolve_clnt.h"
#include "stringops.h"
#include "string_list.h"

#define QMGR_REC_LIMIT (1 << 20) /* longest envelope record accepted */

int qmgr_message_count;   /* messages in the active queue */
int qmgr_recipient_count; /* recipients in memory */

static QMGR_MESSAGE *qmgr_message_list;

static void qmgr_message_done(QMGR_MESSAGE *message);

/* The retry delay for a message of this age: age clamped to [min, max]. */
int qmgr_backoff(time_t age, int min_backoff, int max_backoff)
{
    if (age < min_backoff)
        return min_backoff;
    if (age > max_backoff)
        return max_backoff;
    return (int)age;
}

/* Free a message and unlink it from the active list. */
static void qmgr_message_free(QMGR_MESSAGE *message)
{
    if (message->prev)
        message->prev->next = message->next;
    else
        qmgr_message_list = message->next;
    if (message->next)
        message->next->prev = message->prev;
    qmgr_message_count--;
    myfree(message->queue_id);
    myfree(message->queue_name);
    myfree(message->sender);
    myfree(message->dsn_envid);
    myfree(message->encoding);
    myfree(message->filter);
    myfree(message->redirect);
    myfree(message->client_name);
    myfree(message->client_addr);
    myfree(message->client_port);
    myfree(message->client_proto);
    myfree(message->client_helo);
    myfree(message->rewrite_context);
    myfree(message->sasl_method);
    myfree(message->sasl_username);
    myfree(message->sasl_sender);
    myfree(message);
}

/* Replace a string member. */
static void qmgr_message_set(char **member, const char *value)
{
    myfree(*member);
    *member = mystrdup(value);
}

/* Remember one named attribute of the envelope or extracted segment. */
static void qmgr_message_attr(QMGR_MESSAGE *message, char *text)
{
    char *name;
    char *value;

    if (rec_attr_split(text, &name, &value) < 0)
        return;
    if (strcmp(name, MAIL_ATTR_DSN_ENVID) == 0)
        qmgr_message_set(&message->dsn_envid, value);
    else if (strcmp(name, MAIL_ATTR_DSN_RET) == 0)
        message->dsn_ret = atoi(value);
    else if (strcmp(name, MAIL_ATTR_ENCODING) == 0)
        qmgr_message_set(&message->encoding, value);
    else if (strcmp(name, MAIL_ATTR_SMTPUTF8) == 0)
        message->smtputf8 = atoi(value);
    else if (strcmp(name, MAIL_ATTR_TRACE_FLAGS) == 0)
        message->trace_flags = atoi(value);
    else if (strcmp(name, MAIL_ATTR_FILTER) == 0)
        qmgr_message_set(&message->filter, value);
    else if (strcmp(name, MAIL_ATTR_REDIRECT) == 0)
        qmgr_message_set(&message->redirect, value);
    else if (strcmp(name, MAIL_ATTR_LOG_CLIENT_NAME) == 0)
        qmgr_message_set(&message->client_name, value);
    else if (strcmp(name, MAIL_ATTR_LOG_CLIENT_ADDR) == 0)
        qmgr_message_set(&message->client_addr, value);
    else if (strcmp(name, MAIL_ATTR_LOG_CLIENT_PORT) == 0)
        qmgr_message_set(&message->client_port, value);
    else if (strcmp(name, MAIL_ATTR_LOG_PROTO_NAME) == 0)
        qmgr_message_set(&message->client_proto, value);
    else if (strcmp(name, MAIL_ATTR_LOG_HELO_NAME) == 0)
        qmgr_message_set(&message->client_helo, value);
    else if (strcmp(name, MAIL_ATTR_RWR_CONTEXT) == 0)
        qmgr_message_set(&message->rewrite_context, value);
    else if (strcmp(name, MAIL_ATTR_SASL_METHOD) == 0)
        qmgr_message_set(&message->sasl_method, value);
    else if (strcmp(name, MAIL_ATTR_SASL_USERNAME) == 0)
        qmgr_message_set(&message->sasl_username, value);
    else if (strcmp(name, MAIL_ATTR_SASL_SENDER) == 0)
        qmgr_message_set(&message->sasl_sender, value);
}

/* Read the SIZE record, the envelope and the extracted segment's attributes. */
static bool qmgr_message_read_envelope(QMGR_MESSAGE *message, VSTREAM *fp)
{
    VSTRING *buf = vstring_alloc(100);
    long long size, data_offset, xtra_offset;
    int rcpt_count, qmgr_flags;
    bool ok = false;
    bool have_sender = false;
    int type;
    off_t offset;

    if (rec_get(fp, buf, QMGR_REC_LIMIT) != REC_TYPE_SIZE ||
        sscanf(vstring_str(buf), "%lld %lld %d %d %lld", &size, &data_offset, &rcpt_count, &qmgr_flags,
               &xtra_offset) != 5 ||
        data_offset <= 0 || xtra_offset <= data_offset) {
        msg_warn("%s: bad or missing size record", message->queue_id);
        goto out;
    }
    message->data_size = (long)size;
    message->data_offset = (long)data_offset;
    message->xtra_offset = (long)xtra_offset;
    message->rcpt_total = rcpt_count;
    message->rcpt_offset = (long)vstream_ftell(fp);

    for (;;) {
        offset = vstream_ftell(fp);
        type = rec_get(fp, buf, QMGR_REC_LIMIT);
        if (type == REC_TYPE_MESG)
            break;
        switch (type) {
        case REC_TYPE_TIME: {
            long long sec = 0;
            long usec = 0;

            (void)sscanf(vstring_str(buf), "%lld %ld", &sec, &usec);
            message->arrival.tv_sec = (time_t)sec;
            message->arrival.tv_usec = usec;
            break;
        }
        case REC_TYPE_FROM:
            qmgr_message_set(&message->sender, vstring_str(buf));
            have_sender = true;
            break;
        case REC_TYPE_ATTR:
            qmgr_message_attr(message, vstring_str(buf));
            break;
        case REC_TYPE_WARN:
            message->warn_time = atoll(vstring_str(buf));
            message->warn_offset = (long)offset;
            break;
        case REC_TYPE_CTIME:
        case REC_TYPE_FULL:
        case REC_TYPE_ORCP:
        case REC_TYPE_DSN_ORCPT:
        case REC_TYPE_DSN_NOTIFY:
        case REC_TYPE_RCPT:
        case REC_TYPE_DONE:
        case REC_TYPE_DRCP:
            break;
        default:
            msg_warn("%s: unexpected record type %d in the envelope", message->queue_id, type);
            goto out;
        }
    }
    if (!have_sender || message->arrival.tv_sec == 0) {
        msg_warn("%s: envelope without %s record", message->queue_id, have_sender ? "time" : "sender");
        goto out;
    }
    if (vstream_fseek(fp, message->xtra_offset, SEEK_SET) < 0 ||
        rec_get(fp, buf, QMGR_REC_LIMIT) != REC_TYPE_XTRA) {
        msg_warn("%s: no extracted segment at offset %ld", message->queue_id, message->xtra_offset);
        goto out;
    }
    while ((type = rec_get(fp, buf, QMGR_REC_LIMIT)) != REC_TYPE_END) {
        if (type == REC_TYPE_ATTR)
            qmgr_message_attr(message, vstring_str(buf));
        else if (type < 0 || !strchr("OonRDd", type)) {
            msg_warn("%s: unexpected record type %d in the extracted segment", message->queue_id, type);
            goto out;
        }
    }
    ok = true;
out:
    vstring_free(buf);
    return ok;
}

/* The MSG_STATS of a decision the queue manager makes now. */
static void qmgr_message_stats(const QMGR_MESSAGE *message, MSG_STATS *stats)
{
    MSG_STATS_INIT(stats);
    stats->incoming_arrival = message->arrival;
    stats->active_arrival = message->active_arrival;
    msg_stats_set_now(&stats->agent_handoff);
}

/* Mark a recipient done in the queue file. */
static void qmgr_message_completed(QMGR_MESSAGE *message, long offset)
{
    VSTREAM *fp;

    if ((fp = mail_queue_open(message->queue_name, message->queue_id, O_RDWR, 0)) == NULL) {
        msg_warn("%s: open for update: %m", message->queue_id);
        return;
    }
    (void)deliver_completed(fp, offset);
    (void)vstream_fclose(fp);
}

/* Defer one recipient by the queue manager's own decision. */
void qmgr_message_defer_rcpt(QMGR_MESSAGE *message, const RECIPIENT *rcpt, const char *status,
                             const char *fmt, ...)
{
    DSN_BUF *dsb = dsb_create();
    MSG_STATS stats;
    DSN dsn;
    va_list ap;

    va_start(ap, fmt);
    vstring_vsprintf(dsb->reason, fmt, ap);
    va_end(ap);
    vstring_strcpy(dsb->status, status);
    qmgr_message_stats(message, &stats);
    if (defer_append(message->trace_flags, message->queue_id, &stats, rcpt, "none",
                     dsn_from_buf(&dsn, dsb)) == 0)
        qmgr_message_completed(message, rcpt->offset); /* sendmail -bv: finished */
    else
        message->flags |= QMGR_MSG_DEFER;
    dsb_free(dsb);
}

/* Mail for the local double-bounce address is dropped (queue.md 5.4). */
static bool qmgr_message_double_bounce(const RESOLVE_REPLY *reply)
{
    const char *rcpt = vstring_str(reply->recipient);
    const char *at = strrchr(rcpt, '@');
    size_t len = at ? (size_t)(at - rcpt) : strlen(rcpt);

    return (reply->flags & RESOLVE_CLASS_LOCAL) && strlen(var_double_bounce_sender) == len &&
           strncasecmp(rcpt, var_double_bounce_sender, len) == 0;
}

/* The queue name of a recipient: the next hop, or user@nexthop for limit 1. */
static void qmgr_message_queue_name(VSTRING *name, const QMGR_TRANSPORT *transport, const char *nexthop,
                                    const char *recipient)
{
    if (transport->rcpt_limit == 1) {
        const char *at = strrchr(recipient, '@');
        size_t len = at ? (size_t)(at - recipient) : strlen(recipient);

        if (*var_recipient_delimiter) {
            size_t cut = strcspn(recipient, var_recipient_delimiter);

            if (cut > 0 && cut < len)
                len = cut;
        }
        vstring_strncpy(name, recipient, len);
        vstring_strcat(name, "@");
        vstring_strcat(name, nexthop);
    } else {
        vstring_strcpy(name, nexthop);
    }
    lowercase(vstring_str(name));
}

/* The transport and next hop of ADDRESS (the recipient, or the message's
 * REDIRECT address); false when the recipient was deferred or finished instead. */
static bool qmgr_message_route(QMGR_MESSAGE *message, const RECIPIENT *rcpt, const char *address,
                               RESOLVE_REPLY *reply)
{
    static STRING_LIST *defer_xports;

    resolve_clnt_query(message->sender, address, reply);
    if (reply->flags & RESOLVE_FLAG_FAIL) {
        qmgr_message_defer_rcpt(message, rcpt, "4.3.0", "address resolver failure");
        return false;
    }
    if (qmgr_message_double_bounce(reply)) {
        DSN_BUF *dsb = dsb_simple(dsb_create(), "2.0.0", "undeliverable postmaster notification discarded");
        MSG_STATS stats;
        DSN dsn;

        qmgr_message_stats(message, &stats);
        if (sent(message->trace_flags, message->queue_id, &stats, rcpt, "none", dsn_from_buf(&dsn, dsb)) == 0)
            qmgr_message_completed(message, rcpt->offset);
        else
            message->flags |= QMGR_MSG_DEFER;
        dsb_free(dsb);
        return false;
    }
    if (message->filter && *message->filter) {
        const char *colon = strchr(message->filter, ':');

        if (colon == NULL) {
            vstring_strcpy(reply->transport, message->filter);
        } else {
            vstring_strncpy(reply->transport, message->filter, (size_t)(colon - message->filter));
            if (colon[1])
                vstring_strcpy(reply->nexthop, colon + 1);
        }
    }
    if (!(message->flags & QMGR_MSG_FLUSH) && *var_defer_transports) {
        if (defer_xports == NULL)
            defer_xports = string_list_init("defer_transports", var_defer_transports);
        if (string_list_match(defer_xports, vstring_str(reply->transport)) > 0) {
            qmgr_message_defer_rcpt(message, rcpt, "4.3.2", "deferred transport");
            return false;
        }
    }
    return true;
}

/* One batch of recipients read from the file: resolve them into entries. */
static void qmgr_message_assign(QMGR_MESSAGE *message, RECIPIENT_LIST *list)
{
    HTABLE *current = htable_create(10, 0); /* queue name -> entry being filled */
    RESOLVE_REPLY reply;
    VSTRING *qname = vstring_alloc(100);

    resolve_clnt_init(&reply);
    for (int i = 0; i < list->len; i++) {
        const RECIPIENT *rcpt = list->info + i;
        QMGR_TRANSPORT *transport;
        QMGR_QUEUE *queue;
        QMGR_ENTRY *entry;

        /* REDIRECT (access map or header check): deliver to that address
         * instead; the replaced recipient is logged as orig_to. */
        const char *address = message->redirect ? message->redirect : rcpt->address;
        const char *orig_addr = message->redirect && !*rcpt->orig_addr ? rcpt->address : rcpt->orig_addr;

        if (!qmgr_message_route(message, rcpt, address, &reply))
            continue;
        transport = qmgr_transport_find(vstring_str(reply.transport));
        if (qmgr_transport_dead(transport)) {
            qmgr_message_defer_rcpt(message, rcpt, "4.3.0", "%s", transport->dead_reason);
            continue;
        }
        qmgr_message_queue_name(qname, transport, vstring_str(reply.nexthop), vstring_str(reply.recipient));
        queue = qmgr_queue_find(transport, vstring_str(qname), vstring_str(reply.nexthop));
        if (qmgr_queue_dead(queue)) {
            qmgr_message_defer_rcpt(message, rcpt, queue->dead_status, "delivery temporarily suspended: %s",
                                    queue->dead_reason);
            continue;
        }
        vstring_sprintf(qname, "%s\n%s", transport->name, queue->name);
        entry = (QMGR_ENTRY *)htable_find(current, vstring_str(qname));
        if (entry == NULL || (transport->rcpt_limit > 0 && entry->rcpt_list.len >= transport->rcpt_limit)) {
            entry = (QMGR_ENTRY *)mymalloc(sizeof(*entry));
            entry->message = message;
            entry->queue = queue;
            entry->next = NULL;
            entry->stream = NULL;
            recipient_list_init(&entry->rcpt_list);
            message->refcount++;
            if (htable_locate(current, vstring_str(qname)))
                htable_locate(current, vstring_str(qname))->value = entry;
            else
                htable_enter(current, vstring_str(qname), entry);
            qmgr_queue_add_entry(queue, entry);
        }
        recipient_list_add(&entry->rcpt_list, rcpt->offset, rcpt->dsn_orcpt, rcpt->dsn_notify, orig_addr,
                           address);
        message->rcpt_in_memory++;
        qmgr_recipient_count++;
    }
    resolve_clnt_free(&reply);
    vstring_free(qname);
    htable_free(current, NULL);
}

/*
 * Read up to LIMIT pending recipients from rcpt_offset on; false on a
 * corrupt file. FP is the open queue file (closed here: that releases the
 * queue manager's lock), or NULL to open it.
 */
static bool qmgr_message_read_rcpts(QMGR_MESSAGE *message, RECIPIENT_LIST *list, int limit, VSTREAM *fp)
{
    VSTRING *buf = vstring_alloc(100);
    VSTRING *orig = vstring_alloc(100);
    VSTRING *orcpt = vstring_alloc(100);
    int notify = 0;
    bool ok = false;
    int type;
    off_t offset;

    if (fp == NULL && (fp = mail_queue_open(message->queue_name, message->queue_id, O_RDONLY, 0)) == NULL) {
        msg_warn("%s: open: %m", message->queue_id);
        goto out;
    }
    if (vstream_fseek(fp, message->rcpt_offset, SEEK_SET) < 0)
        goto out;
    while (list->len < limit) {
        offset = vstream_ftell(fp);
        type = rec_get(fp, buf, QMGR_REC_LIMIT);
        switch (type) {
        case REC_TYPE_ORCP:
            vstring_strcpy(orig, vstring_str(buf));
            continue;
        case REC_TYPE_DSN_ORCPT:
            vstring_strcpy(orcpt, vstring_str(buf));
            continue;
        case REC_TYPE_DSN_NOTIFY:
            notify = atoi(vstring_str(buf));
            continue;
        case REC_TYPE_RCPT:
            recipient_list_add(list, (long)offset, vstring_str(orcpt), notify, vstring_str(orig),
                               vstring_str(buf));
            if (notify & DSN_NOTIFY_SUCCESS)
                message->flags |= QMGR_MSG_TRACE;
            /* FALLTHROUGH */
        case REC_TYPE_DONE:
        case REC_TYPE_DRCP:
            vstring_truncate(orig, 0);
            vstring_truncate(orcpt, 0);
            notify = 0;
            continue;
        case REC_TYPE_MESG:
            if (message->rcpt_in_xtra)
                goto corrupt;
            message->rcpt_in_xtra = true;
            if (vstream_fseek(fp, message->xtra_offset, SEEK_SET) < 0)
                goto corrupt;
            continue;
        case REC_TYPE_END:
            message->rcpt_offset = 0;
            ok = true;
            goto out;
        case REC_TYPE_EOF:
        case REC_TYPE_ERROR:
            goto corrupt;
        default:
            continue;
        }
    }
    message->rcpt_offset = (long)vstream_ftell(fp);
    ok = true;
    goto out;
corrupt:
    msg_warn("%s: corrupt queue file while reading recipients", message->queue_id);
out:
    if (fp)
        (void)vstream_fclose(fp);
    vstring_free(buf);
    vstring_free(orig);
    vstring_free(orcpt);
    return ok;
}

/* Move a damaged file to corrupt/. */
static void qmgr_message_corrupt(QMGR_MESSAGE *message)
{
    if (mail_queue_rename(message->queue_id, message->queue_name, MAIL_QUEUE_CORRUPT) == 0)
        msg_warn("%s: saving corrupt file \"%s\" to \"%s\"", message->queue_id, message->queue_name,
                 MAIL_QUEUE_CORRUPT);
    else
        msg_warn("%s: cannot save corrupt file: %m", message->queue_id);
}

/* True when LOG (bounce, defer, trace) exists for the message. */
static bool qmgr_message_has_log(const QMGR_MESSAGE *message, const char *log)
{
    VSTRING *path = vstring_alloc(100);
    bool found = access(mail_queue_path(path, log, message->queue_id, true), F_OK) == 0;

    vstring_free(path);
    return found;
}

/* Read and resolve the next batch of recipients; FP as for qmgr_message_read_rcpts(). */
static bool qmgr_message_next_batch(QMGR_MESSAGE *message, VSTREAM *fp)
{
    RECIPIENT_LIST list;
    int room = var_qmgr_message_recipient_limit - qmgr_recipient_count;
    bool ok;

    if (room < var_qmgr_message_recipient_minimum)
        room = var_qmgr_message_recipient_minimum;
    recipient_list_init(&list);
    ok = qmgr_message_read_rcpts(message, &list, room, fp);
    if (ok && (message->flags & QMGR_MSG_EXPIRE_FORCE)) {
        /* postsuper -e: no more deliveries; the notice reports the defer log. */
        if (message->flags & QMGR_MSG_EXPIRE_NOLOG)
            for (int i = 0; i < list.len; i++)
                qmgr_message_defer_rcpt(message, list.info + i, "4.7.0",
                                        "message is administratively expired");
        message->flags |= QMGR_MSG_DEFER;
    } else if (ok) {
        qmgr_message_assign(message, &list);
    }
    recipient_list_free(&list);
    return ok;
}

/* Take a message file into the active queue. */
bool qmgr_message_activate(const char *queue_name, const char *id, int scan_flags)
{
    QMGR_MESSAGE *message;
    VSTRING *path = vstring_alloc(100);
    struct stat st;
    VSTREAM *fp;

    if ((fp = mail_queue_open(queue_name, id, O_RDONLY, 0)) == NULL || fstat(vstream_fileno(fp), &st) < 0 ||
        (st.st_mode & S_IRWXU) != MAIL_QUEUE_STAT_READY) {
        if (fp)
            (void)vstream_fclose(fp);
        vstring_free(path);
        return false;
    }
    /* An agent of an earlier queue manager (before a reload) may still deliver it. */
    if (myflock(vstream_fileno(fp), MYFLOCK_METHOD_FLOCK, MYFLOCK_OP_EXCLUSIVE | MYFLOCK_OP_NOWAIT) < 0) {
        msg_info("%s: queue file is in use; will try again later", id);
        (void)vstream_fclose(fp);
        vstring_free(path);
        qmgr_scan_later(queue_name);
        return false;
    }
    if (strcmp(queue_name, MAIL_QUEUE_ACTIVE) != 0 &&
        mail_queue_rename(id, queue_name, MAIL_QUEUE_ACTIVE) < 0) {
        if (errno != ENOENT)
            msg_warn("%s: move to %s: %m", id, MAIL_QUEUE_ACTIVE);
        (void)vstream_fclose(fp);
        vstring_free(path);
        return false;
    }
    if (strcmp(queue_name, MAIL_QUEUE_INCOMING) == 0)
        mail_queue_spare_used();
    message = (QMGR_MESSAGE *)mymalloc(sizeof(*message));
    memset(message, 0, sizeof(*message));
    message->queue_id = mystrdup(id);
    message->queue_name = mystrdup(MAIL_QUEUE_ACTIVE);
    message->sender = mystrdup("");
    message->dsn_envid = mystrdup("");
    message->encoding = mystrdup("");
    message->client_name = mystrdup("");
    message->client_addr = mystrdup("");
    message->client_port = mystrdup("");
    message->client_proto = mystrdup("");
    message->client_helo = mystrdup("");
    message->rewrite_context = mystrdup("");
    message->sasl_method = mystrdup("");
    message->sasl_username = mystrdup("");
    message->sasl_sender = mystrdup("");
    message->next = qmgr_message_list;
    if (qmgr_message_list)
        qmgr_message_list->prev = message;
    qmgr_message_list = message;
    qmgr_message_count++;
    msg_stats_set_now(&message->active_arrival);
    if (st.st_mode & MAIL_QUEUE_STAT_EXPIRE) {
        message->flags |= QMGR_MSG_EXPIRE_FORCE;
        if (!qmgr_message_has_log(message, MAIL_QUEUE_DEFER))
            message->flags |= QMGR_MSG_EXPIRE_NOLOG;
    }
    if ((st.st_mode & MAIL_QUEUE_STAT_FLUSH) || (scan_flags & QMGR_SCAN_FLUSH))
        message->flags |= QMGR_MSG_FLUSH;
    if (st.st_mode & MAIL_QUEUE_STAT_FLUSH)
        (void)chmod(mail_queue_path(path, MAIL_QUEUE_ACTIVE, id, true),
                    st.st_mode & ~MAIL_QUEUE_STAT_FLUSH & 07777);
    vstring_free(path);

    if (!qmgr_message_read_envelope(message, fp)) {
        (void)vstream_fclose(fp);
        qmgr_message_corrupt(message);
        qmgr_message_free(message);
        return false;
    }
    if (message->trace_flags)
        message->flags |= QMGR_MSG_TRACE;
    msg_info("%s: from=<%s>, size=%ld, nrcpt=%d (queue active)", id, message->sender, message->data_size,
             message->rcpt_total);
    message->refcount++; /* hold the message while the first batch is filed */
    /* The first batch comes from the same open file, which is then closed:
     * that releases the lock before any of our own agents wants it. */
    if (!qmgr_message_next_batch(message, fp)) {
        /* Entries already filed keep the message alive; it is saved when they end. */
        message->rcpt_offset = 0;
        message->flags |= QMGR_MSG_DEFER;
    }
    qmgr_message_entry_done(message); /* may finish and free the message */
    return true;
}

/* One entry of the message is finished (or the initial hold is released). */
void qmgr_message_entry_done(QMGR_MESSAGE *message)
{
    if (--message->refcount > 0)
        return;
    while (message->rcpt_offset != 0) {
        message->refcount++;
        if (!qmgr_message_next_batch(message, NULL)) {
            message->rcpt_offset = 0;
            message->flags |= QMGR_MSG_DEFER;
        }
        if (--message->refcount > 0)
            return;
    }
    qmgr_message_done(message);
}

/* Ask for a whole-message notice; the function is bounce_flush, defer_flush, ... */
typedef int (*QMGR_NOTICE_FN)(int, const char *, const char *, const char *, int, const char *, const char *,
                              int);

static int qmgr_message_notice(const QMGR_MESSAGE *message, QMGR_NOTICE_FN fn)
{
    return fn(message->trace_flags, message->queue_name, message->queue_id, message->encoding,
              message->smtputf8, message->sender, message->dsn_envid, message->dsn_ret);
}

/* Clear the W record's time after a delay warning went out. */
static void qmgr_message_warned(QMGR_MESSAGE *message)
{
    VSTREAM *fp;

    if ((fp = mail_queue_open(message->queue_name, message->queue_id, O_RDWR, 0)) == NULL)
        return;
    if (vstream_fseek(fp, message->warn_offset, SEEK_SET) < 0 ||
        rec_fprintf(fp, REC_TYPE_WARN, "%15lld", 0LL) == REC_TYPE_ERROR || vstream_fflush(fp) != 0)
        msg_warn("%s: update delay warning time: %m", message->queue_id);
    (void)vstream_fclose(fp);
}

/* Remove the message and its logs (the queue file is recycled: mail_queue_retire()). */
static void qmgr_message_remove(QMGR_MESSAGE *message)
{
    if (mail_queue_retire(message->queue_name, message->queue_id, message->data_size) < 0 && errno != ENOENT) {
        msg_warn("%s: remove %s: %m", message->queue_id, message->queue_name);
        return;
    }
    (void)mail_queue_remove(MAIL_QUEUE_DEFER, message->queue_id);
    msg_info("%s: removed", message->queue_id);
}

/* Move the message to deferred/ with its next retry time as mtime. */
static void qmgr_message_requeue(QMGR_MESSAGE *message, time_t now)
{
    VSTRING *path = vstring_alloc(100);
    struct utimbuf tbuf;
    int delay =
        qmgr_backoff(now - message->arrival.tv_sec, var_minimal_backoff_time, var_maximal_backoff_time);

    if (mail_queue_rename(message->queue_id, message->queue_name, MAIL_QUEUE_DEFERRED) < 0) {
        if (errno != ENOENT)
            msg_warn("%s: move to %s: %m", message->queue_id, MAIL_QUEUE_DEFERRED);
    } else {
        tbuf.actime = now;
        tbuf.modtime = now + delay;
        if (utime(mail_queue_path(path, MAIL_QUEUE_DEFERRED, message->queue_id, true), &tbuf) < 0)
            msg_warn("%s: set retry time: %m", message->queue_id);
    }
    vstring_free(path);
}

/* The last entry is done and every recipient was read: finish the attempt. */
static void qmgr_message_done(QMGR_MESSAGE *message)
{
    time_t now = time(NULL);
    bool keep = false;

    /* Room for new mail (in_flow_delay). */
    mail_flow_feed(var_default_process_limit);

    if (qmgr_message_has_log(message, MAIL_QUEUE_BOUNCE) && qmgr_message_notice(message, bounce_flush) != 0) {
        msg_warn("%s: bounce notice failed; keeping the message", message->queue_id);
        keep = true;
    }
    if ((message->flags & QMGR_MSG_DEFER) && !keep) {
        int lifetime = *message->sender ? var_maximal_queue_lifetime : var_bounce_queue_lifetime;
        bool forced = (message->flags & QMGR_MSG_EXPIRE_FORCE) != 0;

        if (forced || now - message->arrival.tv_sec >= lifetime) {
            msg_info("%s: from=<%s>, status=%s, returned to sender", message->queue_id, message->sender,
                     forced ? "force-expired" : "expired");
            if (qmgr_message_notice(message, defer_flush) == 0) {
                qmgr_message_remove(message);
                qmgr_message_free(message);
                return;
            }
            msg_warn("%s: expiry notice failed; keeping the message", message->queue_id);
        } else if (message->warn_time > 0 && now >= message->warn_time && message->warn_offset > 0) {
            if (qmgr_message_notice(message, defer_warn) == 0)
                qmgr_message_warned(message);
        }
    }
    if ((message->flags & QMGR_MSG_DEFER) || keep) {
        qmgr_message_requeue(message, now);
    } else {
        if ((message->flags & QMGR_MSG_TRACE) && qmgr_message_has_log(message, MAIL_QUEUE_TRACE) &&
            qmgr_message_notice(message, trace_flush) != 0)
            msg_warn("%s: delivery status report failed", message->queue_id);
        qmgr_message_remove(message);
    }
    qmgr_message_free(message);
}
