/*
 * deliver_pass - hand recipients to another master.cf transport
 * (best_mx_transport in smtp(8); the same idea as local(8)'s
 * mailbox_transport hand-off): a delivery request (deliver_request.h)
 * with this message's attributes and the given recipients is sent to
 * private/TRANSPORT and its answer awaited. The other agent logs the
 * delivery lines and marks the recipients done in the queue file itself.
 *
 *   deliver_pass_rcpts(transport, nexthop, request, rcpts, count)
 *       returns the agent's status (DEL_STAT_FINAL or DEL_STAT_DEFER), or
 *       with a warning logged (the caller defers): DELIVER_PASS_BADNAME
 *       for an empty name or one with "/", DELIVER_PASS_UNAVAILABLE when
 *       the transport cannot be reached, DELIVER_PASS_NOANSWER when it
 *       closed without an answer.
 *       An empty nexthop means the request's own next hop.
 *
 * Errors: as above; nothing is fatal.
 */
#include "sys_defs.h"

#include <string.h>
#include <sys/time.h>

#include "attr.h"
#include "deliver_pass.h"
#include "deliver_request.h"
#include "iostuff.h"
#include "mail_proto.h"
#include "msg.h"
#include "msg_stats.h"

/* Microseconds since the epoch. */
static long long deliver_pass_usec(const struct timeval *tv)
{
    return (long long)tv->tv_sec * 1000000 + tv->tv_usec;
}

/* Send the request; 0 or -1. */
static int deliver_pass_send(VSTREAM *stream, DELIVER_REQUEST *request, const char *nexthop,
                             const RECIPIENT *rcpts, int count)
{
    struct timeval now;

    msg_stats_set_now(&now);
    if (attr_print(
            stream, ATTR_FLAG_NOFLUSH, SEND_ATTR_INT(DELIVER_ATTR_FLAGS, request->flags),
            SEND_ATTR_STR(DELIVER_ATTR_QUEUE_NAME, request->queue_name),
            SEND_ATTR_STR(DELIVER_ATTR_QUEUE_ID, request->queue_id),
            SEND_ATTR_LONG(DELIVER_ATTR_DATA_OFFSET, request->data_offset),
            SEND_ATTR_LONG(DELIVER_ATTR_DATA_SIZE, request->data_size),
            SEND_ATTR_STR(DELIVER_ATTR_NEXTHOP, nexthop),
            SEND_ATTR_STR(DELIVER_ATTR_ENCODING, request->encoding),
            SEND_ATTR_INT(DELIVER_ATTR_SMTPUTF8, request->smtputf8),
            SEND_ATTR_STR(DELIVER_ATTR_SENDER, request->sender),
            SEND_ATTR_STR(DELIVER_ATTR_DSN_ENVID, request->dsn_envid),
            SEND_ATTR_INT(DELIVER_ATTR_DSN_RET, request->dsn_ret),
            SEND_ATTR_STR(DELIVER_ATTR_CLIENT_NAME, request->client_name),
            SEND_ATTR_STR(DELIVER_ATTR_CLIENT_ADDR, request->client_addr),
            SEND_ATTR_STR(DELIVER_ATTR_CLIENT_PORT, request->client_port),
            SEND_ATTR_STR(DELIVER_ATTR_CLIENT_PROTO, request->client_proto),
            SEND_ATTR_STR(DELIVER_ATTR_CLIENT_HELO, request->client_helo),
            SEND_ATTR_STR(DELIVER_ATTR_RWR_CONTEXT, request->rewrite_context),
            SEND_ATTR_STR(DELIVER_ATTR_SASL_METHOD, request->sasl_method),
            SEND_ATTR_STR(DELIVER_ATTR_SASL_USERNAME, request->sasl_username),
            SEND_ATTR_STR(DELIVER_ATTR_SASL_SENDER, request->sasl_sender),
            SEND_ATTR_LONG(DELIVER_ATTR_TIME_INCOMING,
                           deliver_pass_usec(&request->msg_stats.incoming_arrival)),
            SEND_ATTR_LONG(DELIVER_ATTR_TIME_ACTIVE, deliver_pass_usec(&request->msg_stats.active_arrival)),
            SEND_ATTR_LONG(DELIVER_ATTR_TIME_HANDOFF, deliver_pass_usec(&now)),
            SEND_ATTR_INT(DELIVER_ATTR_RCPT_COUNT, count), ATTR_TYPE_END) != 0)
        return -1;
    for (int i = 0; i < count; i++)
        if (attr_print(stream, ATTR_FLAG_NOFLUSH, SEND_ATTR_STR(DELIVER_ATTR_ORCPT, rcpts[i].orig_addr),
                       SEND_ATTR_STR(DELIVER_ATTR_RECIP, rcpts[i].address),
                       SEND_ATTR_STR(DELIVER_ATTR_DSN_ORCPT, rcpts[i].dsn_orcpt),
                       SEND_ATTR_INT(DELIVER_ATTR_DSN_NOTIFY, rcpts[i].dsn_notify),
                       SEND_ATTR_LONG(DELIVER_ATTR_OFFSET, rcpts[i].offset), ATTR_TYPE_END) != 0)
            return -1;
    return vstream_fflush(stream) == 0 ? 0 : -1;
}

/* Hand RCPTS to TRANSPORT; see above. */
int deliver_pass_rcpts(const char *transport, const char *nexthop, DELIVER_REQUEST *request,
                       const RECIPIENT *rcpts, int count)
{
    VSTRING *hop_status;
    VSTRING *hop_reason;
    VSTREAM *stream;
    int status = DEL_STAT_DEFER;
    int n;

    if (nexthop == NULL || *nexthop == 0)
        nexthop = request->nexthop;
    if (*transport == 0 || strchr(transport, '/') != NULL) {
        msg_warn("%s: bad transport name: \"%s\"", request->queue_id, transport);
        return DELIVER_PASS_BADNAME;
    }
    if ((stream = mail_connect(MAIL_CLASS_PRIVATE, transport, BLOCKING)) == NULL) {
        msg_warn("%s: connect to transport %s: %m", request->queue_id, transport);
        return DELIVER_PASS_UNAVAILABLE;
    }
    hop_status = vstring_alloc(10);
    hop_reason = vstring_alloc(10);
    if (deliver_pass_send(stream, request, nexthop, rcpts, count) == 0)
        n = attr_scan(stream, ATTR_FLAG_NONE, RECV_ATTR_INT(DELIVER_ATTR_STATUS, &status),
                      RECV_ATTR_STR(DELIVER_ATTR_HOP_STATUS, hop_status),
                      RECV_ATTR_STR(DELIVER_ATTR_HOP_REASON, hop_reason), ATTR_TYPE_END);
    else
        n = -1;
    (void)vstream_fclose(stream);
    vstring_free(hop_status);
    vstring_free(hop_reason);
    if (n < 1) {
        msg_warn("%s: no answer from delivery agent %s for %s", request->queue_id, transport, nexthop);
        return DELIVER_PASS_NOANSWER;
    }
    return status;
}
