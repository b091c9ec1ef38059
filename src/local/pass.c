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
 * The request itself is src/global/deliver_pass.c's (shared with smtp's
 * best_mx_transport).
 *
 * Results: 0 when the agent answered DEL_STAT_FINAL, -1 otherwise.
 * Errors: an agent that cannot be reached defers the recipient "4.3.0
 * mail transport unavailable"; one that closes without an answer defers
 * it "4.3.0 unknown mail transport error" (unless it finished it).
 */
#include "sys_defs.h"

#include "deliver_pass.h"
#include "deliver_request.h"
#include "local.h"
#include "local_util.h"
#include "msg.h"
#include "vstring.h"

/* Hand the recipient to TRANSPORT; 0 or -1 (reported by us or the agent). */
int deliver_pass(LOCAL_STATE *state, const char *transport, const char *nexthop)
{
    if (msg_verbose)
        msg_info("deliver_pass[%d]: %s -> %s:%s", state->level, state->rcpt.address, transport, nexthop);
    switch (deliver_pass_rcpts(transport, nexthop, state->request, &state->rcpt, 1)) {
    case DEL_STAT_FINAL:
        return 0;
    case DELIVER_PASS_BADNAME:
        return local_defer(state, "4.3.5", "mail system configuration error");
    case DELIVER_PASS_UNAVAILABLE:
        return local_defer(state, "4.3.0", "mail transport unavailable");
    case DELIVER_PASS_NOANSWER:
        return local_defer(state, "4.3.0", "unknown mail transport error");
    default:
        return -1;
    }
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
