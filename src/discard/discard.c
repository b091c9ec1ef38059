/*
 * discard - the discard delivery agent, like Postfix's discard(8).
 *
 * The next hop of a request is the reason for discarding: every
 * recipient is reported sent with "status=sent (NEXTHOP)", relay=none,
 * dsn=2.0.0 (a leading RFC 3463 status in the next hop sets the detail
 * code; the class is always 2), and marked done in the queue file. An
 * empty next hop is reported as "discarded". Nothing is delivered.
 *
 * Errors: a bad request is logged by deliver_request_read() and the
 * connection closed without an answer; a recipient whose result could
 * not be recorded (trace service failure) stays queued and the answer
 * is DEL_STAT_DEFER.
 */
#include "sys_defs.h"

#include "bounce.h"
#include "deliver_request.h"
#include "dsn.h"
#include "mail_server.h"
#include "msg.h"
#include "vstring.h"

#define DISCARD_DEFAULT_REASON "discarded"

/* Report every recipient of REQUEST as sent; returns the request's status. */
static int discard_deliver(DELIVER_REQUEST *request)
{
    VSTRING *status = vstring_alloc(10);
    VSTRING *reason = vstring_alloc(100);
    DSN_BUF *dsb = dsb_create();
    DSN dsn;
    int result = DEL_STAT_FINAL;

    dsn_split(status, reason, request->nexthop, "2.0.0");
    if (VSTRING_LEN(reason) == 0)
        vstring_strcpy(reason, DISCARD_DEFAULT_REASON);
    dsb_simple(dsb, vstring_str(status), "%s", vstring_str(reason));
    dsb_action(dsb, DSN_ACTION_DELIVERED);
    dsn_from_buf(&dsn, dsb);

    for (int i = 0; i < request->rcpt_list.len; i++) {
        const RECIPIENT *rcpt = request->rcpt_list.info + i;

        if (sent(request->flags, request->queue_id, &request->msg_stats, rcpt, "none", &dsn) == 0 &&
            deliver_completed(request->fp, rcpt->offset) == 0)
            continue;
        result = DEL_STAT_DEFER;
    }
    dsb_free(dsb);
    vstring_free(status);
    vstring_free(reason);
    return result;
}

/* One delivery request. */
static void discard_service(VSTREAM *client, char *service UNUSED, char **argv UNUSED)
{
    DELIVER_REQUEST *request;
    int status;

    if ((request = deliver_request_read(client)) == NULL)
        return;
    status = discard_deliver(request);
    (void)deliver_request_done(client, request, status);
}

int main(int argc, char **argv)
{
    static const MAIL_SERVER_OPTS opts;

    single_server_main(argc, argv, discard_service, &opts);
}
