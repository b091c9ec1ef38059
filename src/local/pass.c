/*
 * pass - deliver_pass(): hand the current recipient to another master.cf
 * transport (mailbox_transport(_maps), fallback_transport(_maps)), the
 * way the queue manager would: a delivery request (deliver_request.h)
 * with this message's attributes and ONE recipient (the current address,
 * the queued recipient's original address, DSN fields and queue file
 * offset) sent to private/TRANSPORT, then its answer awaited. The other
 * agent logs the delivery line and marks the recipient done itself.
 *
 * The next hop is the part after the first ":" of the setting
 * ("lmtp:unix:/path" -> transport lmtp, nexthop unix:/path), or the
 * request's own next hop when empty.
 *
 * Results: 0 when the agent answered DEL_STAT_FINAL, -1 otherwise.
 * Errors: an agent that cannot be reached defers the recipient "4.3.0
 * mail transport unavailable"; one that closes without an answer defers
 * it "4.3.0 unknown mail transport error" (unless it finished it).
 */
#include "sys_defs.h"

#include <string.h>
#include <sys/time.h>

#include "attr.h"
#include "deliver_request.h"
#include "iostuff.h"
#include "local.h"
#include "local_util.h"
#include "mail_proto.h"
#include "msg.h"
#include "rec_type.h"

/* Microseconds since the epoch. */
static long long pass_usec(const struct timeval *tv)
{
    return (long long)tv->tv_sec * 1000000 + tv->tv_usec;
}

/* Send the request for the current recipient; 0 or -1. */
static int pass_send(VSTREAM *stream, LOCAL_STATE *state, const char *nexthop)
{
    DELIVER_REQUEST *request = state->request;
    const RECIPIENT *rcpt = &state->rcpt;
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
            SEND_ATTR_LONG(DELIVER_ATTR_TIME_INCOMING, pass_usec(&request->msg_stats.incoming_arrival)),
            SEND_ATTR_LONG(DELIVER_ATTR_TIME_ACTIVE, pass_usec(&request->msg_stats.active_arrival)),
            SEND_ATTR_LONG(DELIVER_ATTR_TIME_HANDOFF, pass_usec(&now)),
            SEND_ATTR_INT(DELIVER_ATTR_RCPT_COUNT, 1), ATTR_TYPE_END) != 0)
        return -1;
    if (attr_print(stream, ATTR_FLAG_NOFLUSH, SEND_ATTR_STR(DELIVER_ATTR_ORCPT, rcpt->orig_addr),
                   SEND_ATTR_STR(DELIVER_ATTR_RECIP, rcpt->address),
                   SEND_ATTR_STR(DELIVER_ATTR_DSN_ORCPT, rcpt->dsn_orcpt),
                   SEND_ATTR_INT(DELIVER_ATTR_DSN_NOTIFY, rcpt->dsn_notify),
                   SEND_ATTR_LONG(DELIVER_ATTR_OFFSET, rcpt->offset), ATTR_TYPE_END) != 0)
        return -1;
    return vstream_fflush(stream) == 0 ? 0 : -1;
}

/* Hand the recipient to TRANSPORT; 0 or -1 (reported by us or the agent). */
int deliver_pass(LOCAL_STATE *state, const char *transport, const char *nexthop)
{
    DELIVER_REQUEST *request = state->request;
    VSTRING *hop_status;
    VSTRING *hop_reason;
    VSTREAM *stream;
    int status = DEL_STAT_DEFER;
    int n;

    if (nexthop == NULL || *nexthop == 0)
        nexthop = request->nexthop;
    if (msg_verbose)
        msg_info("deliver_pass[%d]: %s -> %s:%s", state->level, state->rcpt.address, transport, nexthop);
    if (*transport == 0 || strchr(transport, '/') != NULL) {
        msg_warn("%s: bad transport name: \"%s\"", request->queue_id, transport);
        return local_defer(state, "4.3.5", "mail system configuration error");
    }
    if ((stream = mail_connect(MAIL_CLASS_PRIVATE, transport, BLOCKING)) == NULL) {
        msg_warn("%s: connect to transport %s: %m", request->queue_id, transport);
        return local_defer(state, "4.3.0", "mail transport unavailable");
    }
    hop_status = vstring_alloc(10);
    hop_reason = vstring_alloc(10);
    if (pass_send(stream, state, nexthop) == 0)
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
        return local_defer(state, "4.3.0", "unknown mail transport error");
    }
    return status == DEL_STAT_FINAL ? 0 : -1;
}

/* Hand the recipient to VALUE, "transport:nexthop" (mailbox_transport,
 * fallback_transport and their _maps); 0 or -1 as deliver_pass(). */
int deliver_pass_to(LOCAL_STATE *state, const char *value)
{
    VSTRING *transport = vstring_alloc(20);
    VSTRING *nexthop = vstring_alloc(20);
    int status;

    local_split_transport(value, transport, nexthop);
    status = deliver_pass(state, vstring_str(transport), vstring_str(nexthop));
    vstring_free(transport);
    vstring_free(nexthop);
    return status;
}
