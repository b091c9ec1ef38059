/*
 * msg_stats - the times a message passes on its way to one delivery, for
 * the delay=T and delays=A/B/C/D fields of the delivery log line
 * (delivery.md section 1).
 *
 *   incoming_arrival  the message's arrival time (the T record)
 *   active_arrival    the queue manager took the message into memory
 *   agent_handoff     the queue manager sent the delivery request
 *   conn_setup_done   the agent finished connection setup (smtp, lmtp;
 *                     zero for agents without a connection)
 *   deliver_done      the result is known (zero: "now" when logging)
 *   reuse_count       deliveries over this connection before this one
 *                     (conn_use=N+1 is logged when it is not 0)
 *
 * delay = deliver_done - incoming_arrival; A = active_arrival -
 * incoming_arrival; B = agent_handoff - active_arrival; C =
 * conn_setup_done - agent_handoff (0 when no connection); D =
 * deliver_done - (conn_setup_done or agent_handoff). Unset times count as
 * the previous one (difference 0). log_adhoc.h formats them.
 *
 * The queue manager sends incoming_arrival, active_arrival and
 * agent_handoff with every delivery request (deliver_request.h).
 * msg_stats_set_now(&tv) sets a time to now.
 */
#ifndef MSG_STATS_H
#define MSG_STATS_H

#include <sys/time.h>

typedef struct MSG_STATS {
    struct timeval incoming_arrival;
    struct timeval active_arrival;
    struct timeval agent_handoff;
    struct timeval conn_setup_done;
    struct timeval deliver_done;
    int reuse_count;
} MSG_STATS;

#define MSG_STATS_INIT(st) ((void)memset((st), 0, sizeof(*(st))))

extern void msg_stats_set_now(struct timeval *tv);

#endif
