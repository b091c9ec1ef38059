/*
 * qmgr - the queue manager (qmgr(8), queue.md section 5).
 *
 * A trigger server (mail_server.h), long-lived, one process. At start it
 * moves files left in active/ back to incoming/ and scans incoming/ and
 * deferred/. Requests on its socket (mail_proto.h):
 *
 *   I  scan incoming/ (cleanup after new mail)
 *   D  scan deferred/ for messages whose retry time has passed
 *   A  scan deferred/ ignoring retry times; those messages ignore
 *      defer_transports (postqueue -f, sendmail -q)
 *   F  forget dead destinations and suspended transports
 *   W  the master's wakeup: scan incoming/
 *
 * It fills the in_flow_delay token pipe (mail_flow.h) at each periodic
 * scan and whenever it has finished with a message. Besides, deferred/
 * is scanned every queue_run_delay seconds (just after a second
 * boundary: retry times are whole seconds), and while
 * no message is active spare/ is stocked with empty queue files for the
 * next burst (mail_queue_spare_fill(), up to queue_spare_files). The rest
 * is in qmgr.h and the qmgr_*.c modules.
 */
#include "sys_defs.h"

#include <sys/time.h>

#include "events.h"
#include "mail_flow.h"
#include "mail_params.h"
#include "mail_proto.h"
#include "mail_queue.h"
#include "mail_server.h"
#include "msg.h"
#include "qmgr.h"

/* The periodic deferred scan, just after a second boundary (qmgr_scan_period_ms()). */
static void qmgr_deferred_event(int event UNUSED, void *context UNUSED)
{
    struct timeval now;

    qmgr_scan_request(MAIL_QUEUE_DEFERRED, 0);
    mail_flow_feed(var_default_process_limit);
    gettimeofday(&now, NULL);
    event_request_timer(qmgr_deferred_event, NULL, qmgr_scan_period_ms(var_queue_run_delay, now.tv_usec));
}

/* Spares created per event: a short pause for the event loop. */
#define QMGR_SPARE_BATCH 100

/*
 * While no message is active and none arrived in the last second, stock
 * spare/; batches 10 ms apart until full.
 */
static void qmgr_spare_event(int event UNUSED, void *context UNUSED)
{
    int delay = 1000;

    if (qmgr_message_count == 0 && mail_queue_spare_fill(QMGR_SPARE_BATCH) == QMGR_SPARE_BATCH)
        delay = 10;
    event_request_timer(qmgr_spare_event, NULL, delay);
}

/* A trigger request: one byte per request, several may arrive at once. */
static void qmgr_trigger(char *buf, ssize_t len, char *service UNUSED, char **argv UNUSED)
{
    bool incoming = false, deferred = false, all = false;

    for (ssize_t i = 0; i < len; i++) {
        switch (buf[i]) {
        case QMGR_REQ_SCAN_INCOMING:
        case TRIGGER_REQ_WAKEUP:
            incoming = true;
            break;
        case QMGR_REQ_SCAN_DEFERRED:
            deferred = true;
            break;
        case QMGR_REQ_SCAN_ALL:
            all = true;
            break;
        case QMGR_REQ_FLUSH_DEAD:
            qmgr_transport_forget_dead();
            break;
        default:
            msg_warn("unknown trigger request '%c'", buf[i]);
            break;
        }
    }
    if (incoming)
        qmgr_scan_request(MAIL_QUEUE_INCOMING, 0);
    if (all)
        qmgr_scan_request(MAIL_QUEUE_DEFERRED, QMGR_SCAN_ALL | QMGR_SCAN_FLUSH);
    else if (deferred)
        qmgr_scan_request(MAIL_QUEUE_DEFERRED, 0);
    qmgr_schedule();
}

/* After privileges are dropped: recover, then the first scans. */
static void qmgr_post_init(char *service UNUSED, char **argv UNUSED)
{
    qmgr_scan_recover_active();
    qmgr_scan_request(MAIL_QUEUE_INCOMING, 0);
    qmgr_deferred_event(0, NULL);
    qmgr_spare_event(0, NULL);
}

int main(int argc, char **argv)
{
    static const MAIL_SERVER_OPTS opts = {
        .post_init = qmgr_post_init,
        .long_lived = true,
    };

    trigger_server_main(argc, argv, qmgr_trigger, &opts);
}
