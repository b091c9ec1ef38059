/*
 * qmgr_deliver - send one delivery request to an agent and take its
 * answer (the protocol is in deliver_request.h).
 *
 * qmgr_deliver(entry) connects to private/TRANSPORT, sends the request
 * and waits for the answer in the event loop; false when the agent could
 * not be reached (the transport is suspended and the entry deferred with
 * "mail transport unavailable"); then the entry is gone and the caller
 * releases the queue slot it took (qmgr_queue_release). The answer feeds the destination's
 * window (a hop status is a destination failure); a connection that ends
 * without an answer means the agent died: every recipient of the entry
 * that is not marked done in the queue file is deferred with "unknown
 * mail transport error" and the transport is suspended.
 */
#include "sys_defs.h"

#include <fcntl.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

#include "attr.h"
#include "deliver_request.h"
#include "events.h"
#include "iostuff.h"
#include "mail_params.h"
#include "mail_proto.h"
#include "mail_queue.h"
#include "msg.h"
#include "mymalloc.h"
#include "qmgr.h"
#include "rec_type.h"
#include "record.h"

/* Microseconds since the epoch. */
static long long qmgr_deliver_usec(const struct timeval *tv)
{
    return (long long)tv->tv_sec * 1000000 + tv->tv_usec;
}

/* Send the request; 0 or -1. */
static int qmgr_deliver_send(VSTREAM *stream, QMGR_ENTRY *entry)
{
    QMGR_MESSAGE *message = entry->message;
    int flags = message->trace_flags & (DEL_REQ_FLAG_MTA_VRFY | DEL_REQ_FLAG_RECORD);

    /* More mail waits for this destination: let the agent keep its
     * connection, and keep asking for cached ones while the queue lives. */
    if (entry->queue->todo_count > 0)
        entry->queue->conn_cache = true;
    if (entry->queue->conn_cache)
        flags |= DEL_REQ_FLAG_CONN_LOAD | (entry->queue->todo_count > 0 ? DEL_REQ_FLAG_CONN_STORE : 0);

    if (attr_print(stream, ATTR_FLAG_NOFLUSH, SEND_ATTR_INT(DELIVER_ATTR_FLAGS, flags),
                   SEND_ATTR_STR(DELIVER_ATTR_QUEUE_NAME, message->queue_name),
                   SEND_ATTR_STR(DELIVER_ATTR_QUEUE_ID, message->queue_id),
                   SEND_ATTR_LONG(DELIVER_ATTR_DATA_OFFSET, message->data_offset),
                   SEND_ATTR_LONG(DELIVER_ATTR_DATA_SIZE, message->data_size),
                   SEND_ATTR_STR(DELIVER_ATTR_NEXTHOP, entry->queue->nexthop),
                   SEND_ATTR_STR(DELIVER_ATTR_ENCODING, message->encoding),
                   SEND_ATTR_INT(DELIVER_ATTR_SMTPUTF8, message->smtputf8),
                   SEND_ATTR_STR(DELIVER_ATTR_SENDER, message->sender),
                   SEND_ATTR_STR(DELIVER_ATTR_DSN_ENVID, message->dsn_envid),
                   SEND_ATTR_INT(DELIVER_ATTR_DSN_RET, message->dsn_ret),
                   SEND_ATTR_STR(DELIVER_ATTR_CLIENT_NAME, message->client_name),
                   SEND_ATTR_STR(DELIVER_ATTR_CLIENT_ADDR, message->client_addr),
                   SEND_ATTR_STR(DELIVER_ATTR_CLIENT_PORT, message->client_port),
                   SEND_ATTR_STR(DELIVER_ATTR_CLIENT_PROTO, message->client_proto),
                   SEND_ATTR_STR(DELIVER_ATTR_CLIENT_HELO, message->client_helo),
                   SEND_ATTR_STR(DELIVER_ATTR_RWR_CONTEXT, message->rewrite_context),
                   SEND_ATTR_STR(DELIVER_ATTR_SASL_METHOD, message->sasl_method),
                   SEND_ATTR_STR(DELIVER_ATTR_SASL_USERNAME, message->sasl_username),
                   SEND_ATTR_STR(DELIVER_ATTR_SASL_SENDER, message->sasl_sender),
                   SEND_ATTR_LONG(DELIVER_ATTR_TIME_INCOMING, qmgr_deliver_usec(&message->arrival)),
                   SEND_ATTR_LONG(DELIVER_ATTR_TIME_ACTIVE, qmgr_deliver_usec(&message->active_arrival)),
                   SEND_ATTR_LONG(DELIVER_ATTR_TIME_HANDOFF, qmgr_deliver_usec(&entry->handoff)),
                   SEND_ATTR_INT(DELIVER_ATTR_RCPT_COUNT, entry->rcpt_list.len), ATTR_TYPE_END) != 0)
        return -1;
    for (int i = 0; i < entry->rcpt_list.len; i++) {
        const RECIPIENT *rcpt = entry->rcpt_list.info + i;

        if (attr_print(stream, ATTR_FLAG_NOFLUSH, SEND_ATTR_STR(DELIVER_ATTR_ORCPT, rcpt->orig_addr),
                       SEND_ATTR_STR(DELIVER_ATTR_RECIP, rcpt->address),
                       SEND_ATTR_STR(DELIVER_ATTR_DSN_ORCPT, rcpt->dsn_orcpt),
                       SEND_ATTR_INT(DELIVER_ATTR_DSN_NOTIFY, rcpt->dsn_notify),
                       SEND_ATTR_LONG(DELIVER_ATTR_OFFSET, rcpt->offset), ATTR_TYPE_END) != 0)
            return -1;
    }
    return vstream_fflush(stream) == 0 ? 0 : -1;
}

/* True when the RCPT record at OFFSET is still pending in the queue file. */
static bool qmgr_deliver_pending(VSTREAM *fp, long offset)
{
    VSTRING *buf;
    bool pending;

    if (fp == NULL || vstream_fseek(fp, offset, SEEK_SET) < 0)
        return true;
    buf = vstring_alloc(100);
    pending = rec_get(fp, buf, 0) == REC_TYPE_RCPT;
    vstring_free(buf);
    return pending;
}

/* The agent died: defer what it did not finish, suspend the transport. */
static void qmgr_deliver_crashed(QMGR_ENTRY *entry)
{
    QMGR_MESSAGE *message = entry->message;
    VSTREAM *fp = mail_queue_open(message->queue_name, message->queue_id, O_RDONLY, 0);

    for (int i = 0; i < entry->rcpt_list.len; i++)
        if (qmgr_deliver_pending(fp, entry->rcpt_list.info[i].offset))
            qmgr_message_defer_rcpt(message, entry->rcpt_list.info + i, "4.3.0",
                                    "unknown mail transport error");
    if (fp)
        (void)vstream_fclose(fp);
    qmgr_transport_throttle(entry->queue->transport, "unknown mail transport error");
}

/* Free a finished entry and tell its message. */
static void qmgr_deliver_free(QMGR_ENTRY *entry)
{
    QMGR_MESSAGE *message = entry->message;

    message->rcpt_in_memory -= entry->rcpt_list.len;
    qmgr_recipient_count -= entry->rcpt_list.len;
    recipient_list_free(&entry->rcpt_list);
    myfree(entry);
    qmgr_message_entry_done(message);
}

/* The agent's answer (or the end of its connection) arrived. */
static void qmgr_deliver_answer(int event UNUSED, void *context)
{
    QMGR_ENTRY *entry = (QMGR_ENTRY *)context;
    VSTREAM *stream = entry->stream;
    QMGR_QUEUE *queue;
    VSTRING *hop_status = vstring_alloc(10);
    VSTRING *hop_reason = vstring_alloc(100);
    int status = DEL_STAT_DEFER;
    int n;

    event_disable_readwrite(vstream_fileno(stream));
    n = attr_scan(stream, ATTR_FLAG_NONE, RECV_ATTR_INT(DELIVER_ATTR_STATUS, &status),
                  RECV_ATTR_STR(DELIVER_ATTR_HOP_STATUS, hop_status),
                  RECV_ATTR_STR(DELIVER_ATTR_HOP_REASON, hop_reason), ATTR_TYPE_END);
    (void)vstream_fclose(stream);
    entry->stream = NULL;
    if (n < 1) {
        msg_warn("%s: no answer from delivery agent %s for %s", entry->message->queue_id,
                 entry->queue->transport->name, entry->queue->nexthop);
        qmgr_deliver_crashed(entry);
    } else {
        if (status != DEL_STAT_FINAL)
            entry->message->flags |= QMGR_MSG_DEFER;
        if (VSTRING_LEN(hop_status) > 0)
            qmgr_queue_failure(entry->queue, vstring_str(hop_status),
                               VSTRING_LEN(hop_reason) ? vstring_str(hop_reason) : "destination failure");
        else
            qmgr_queue_success(entry->queue);
    }
    vstring_free(hop_status);
    vstring_free(hop_reason);
    queue = entry->queue;
    qmgr_deliver_free(entry);
    qmgr_queue_release(queue);
}

/* Hand an entry to its transport's agent. */
bool qmgr_deliver(QMGR_ENTRY *entry)
{
    QMGR_TRANSPORT *transport = entry->queue->transport;
    VSTREAM *stream;

    gettimeofday(&entry->handoff, NULL);
    if ((stream = mail_connect_quiet(MAIL_CLASS_PRIVATE, transport->name, BLOCKING)) == NULL) {
        msg_warn("connect to transport %s/%s: %m", MAIL_CLASS_PRIVATE, transport->name);
        qmgr_transport_throttle(transport, "mail transport unavailable");
        qmgr_defer_entry(entry, "4.3.0", "mail transport unavailable");
        return false;
    }
    vstream_set_timeout(stream, var_qmgr_ipc_timeout);
    if (qmgr_deliver_send(stream, entry) != 0) {
        msg_warn("%s: cannot send the request to delivery agent %s: %m", entry->message->queue_id,
                 transport->name);
        (void)vstream_fclose(stream);
        entry->stream = NULL;
        qmgr_deliver_crashed(entry);
        qmgr_deliver_free(entry);
        return false;
    }
    entry->stream = stream;
    event_enable_read(vstream_fileno(stream), qmgr_deliver_answer, entry);
    return true;
}
