/*
 * error - the error and retry delivery agents (one program, two
 * master.cf services, like Postfix's error(8)).
 *
 * The next hop of a request is the reason: "error:5.1.1 User unknown"
 * arrives as nexthop "5.1.1 User unknown". A leading RFC 3463 status sets
 * the code; without one the service's default is used: 5.0.0 for
 * "error", 4.0.0 for "retry" (the class always follows the service).
 * Service "retry" defers every recipient, any other name bounces them
 * (with soft_bounce = yes a bounce is a deferral too). The log line has
 * relay=none. Finished recipients are marked done in the queue file;
 * the answer is DEL_STAT_DEFER when any recipient stays queued.
 *
 * Errors: a bad request is logged by deliver_request_read() and the
 * connection closed without an answer (the queue manager defers).
 */
#include "sys_defs.h"

#include <string.h>

#include "bounce.h"
#include "deliver_request.h"
#include "dsn.h"
#include "mail_server.h"
#include "msg.h"
#include "vstring.h"

#define ERROR_SERVICE_RETRY "retry"

/* Reasons used when the next hop is empty. */
#define ERROR_DEFAULT_BOUNCE "mail delivery error"
#define ERROR_DEFAULT_DEFER  "mail delivery deferred"

/* Report every recipient of REQUEST; returns the request's status. */
static int error_deliver(DELIVER_REQUEST *request, const char *service)
{
    int retry = strcmp(service, ERROR_SERVICE_RETRY) == 0;
    VSTRING *status = vstring_alloc(10);
    VSTRING *reason = vstring_alloc(100);
    DSN_BUF *dsb = dsb_create();
    DSN dsn;
    int result = DEL_STAT_FINAL;

    dsn_split(status, reason, request->nexthop, retry ? "4.0.0" : "5.0.0");
    if (VSTRING_LEN(reason) == 0)
        vstring_strcpy(reason, retry ? ERROR_DEFAULT_DEFER : ERROR_DEFAULT_BOUNCE);
    dsb_simple(dsb, vstring_str(status), "%s", vstring_str(reason));
    dsn_from_buf(&dsn, dsb);

    for (int i = 0; i < request->rcpt_list.len; i++) {
        const RECIPIENT *rcpt = request->rcpt_list.info + i;
        int rcpt_stat;

        if (retry)
            rcpt_stat =
                defer_append(request->flags, request->queue_id, &request->msg_stats, rcpt, "none", &dsn);
        else
            rcpt_stat =
                bounce_append(request->flags, request->queue_id, &request->msg_stats, rcpt, "none", &dsn);
        if (rcpt_stat == 0 && deliver_completed(request->fp, rcpt->offset) == 0)
            continue;
        result = DEL_STAT_DEFER;
    }
    dsb_free(dsb);
    vstring_free(status);
    vstring_free(reason);
    return result;
}

/* One delivery request. */
static void error_service(VSTREAM *client, char *service UNUSED, char **argv UNUSED)
{
    DELIVER_REQUEST *request;
    int status;

    if ((request = deliver_request_read(client)) == NULL)
        return;
    status = error_deliver(request, mail_server_service_name);
    (void)deliver_request_done(client, request, status);
}

int main(int argc, char **argv)
{
    static const MAIL_SERVER_OPTS opts;

    single_server_main(argc, argv, error_service, &opts);
}
