/*
 * smtp_bestmx - best_mx_transport (spec/delivery.md 6.2): when this host
 * is the best MX for a destination ("mail for D loops back to myself")
 * and best_mx_transport is set, the recipients go to that transport
 * instead of bouncing.
 *
 *   smtp_best_mx_pass(state, transport) hands every recipient not yet
 *       decided to TRANSPORT ("name" or "name:nexthop"; without a next
 *       hop the request's own) with deliver_pass_rcpts(). The other
 *       agent logs and finishes them; they are marked done here. When
 *       the transport cannot be reached they are deferred "4.3.0 mail
 *       transport unavailable".
 *
 * Errors: as above; nothing is fatal.
 */
#include "sys_defs.h"

#include <string.h>

#include "deliver_pass.h"
#include "dsn.h"
#include "msg.h"
#include "mymalloc.h"
#include "smtp.h"

/* Hand the undecided recipients to TRANSPORT; see above. */
void smtp_best_mx_pass(SMTP_STATE *state, const char *transport)
{
    DELIVER_REQUEST *request = state->request;
    RECIPIENT *rcpts = mymalloc(sizeof(*rcpts) * (request->rcpt_list.len + 1));
    char *name = mystrdup(transport);
    char *nexthop = strchr(name, ':');
    int count = 0;
    int status;

    if (nexthop != NULL)
        *nexthop++ = 0;
    for (int i = 0; i < request->rcpt_list.len; i++)
        if (state->rcpt_stat[i] != SMTP_RCPT_DONE)
            rcpts[count++] = request->rcpt_list.info[i];
    status = count > 0 ? deliver_pass_rcpts(name, nexthop, request, rcpts, count) : DEL_STAT_FINAL;
    if (status < 0) { /* DELIVER_PASS_*: not handed over */
        DSN_BUF *why = dsb_create();

        dsb_simple(why, "4.3.0", "mail transport unavailable");
        smtp_report_pending(state, "none", why, SMTP_REPORT_DEFER);
        dsb_free(why);
    } else {
        if (status != DEL_STAT_FINAL)
            state->status = DEL_STAT_DEFER;
        for (int i = 0; i < request->rcpt_list.len; i++)
            state->rcpt_stat[i] = SMTP_RCPT_DONE;
    }
    myfree(name);
    myfree(rcpts);
}
