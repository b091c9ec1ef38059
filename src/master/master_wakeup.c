/*
 * master_wakeup - periodic wakeup requests (master.cf wakeup column).
 *
 * master_wakeup_init(serv) starts the timer: at once and then every
 * serv->wakeup seconds the master sends TRIGGER_REQ_WAKEUP to the service
 * the way a client would (connect and write for unix and inet, write for
 * fifo), so the normal on-demand logic starts a process if none runs.
 * "N?" services get none until master_wakeup_used(serv) reports their
 * first use; their first request follows N seconds later. Throttled
 * services are skipped. master_wakeup_cleanup(serv) stops it.
 *
 * Errors: a request that cannot be delivered is logged in verbose mode
 * only; the next period tries again.
 */
#include "sys_defs.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "events.h"
#include "iostuff.h"
#include "mail_proto.h"
#include "master.h"
#include "msg.h"
#include "sockets.h"

/* Send one wakeup request. */
static void master_wakeup_send(MASTER_SERV *serv)
{
    static const char req[] = {TRIGGER_REQ_WAKEUP};
    int fd = -1;

    if (strcmp(serv->type, "fifo") == 0) {
        if (fifo_trigger(serv->sock_path, req, sizeof(req), 1) < 0 && msg_verbose)
            msg_info("wakeup %s: %m", serv->sock_path);
        return;
    }
    if (strcmp(serv->type, "unix") == 0)
        fd = unix_connect(serv->sock_path, NON_BLOCKING, 0);
    else if (strcmp(serv->type, "inet") == 0 && strchr(serv->endpoint, ':') != NULL)
        fd = inet_connect(serv->endpoint, BLOCKING, 1);
    else if (strcmp(serv->type, "inet") == 0) {
        char addr[300];

        snprintf(addr, sizeof(addr), "127.0.0.1:%s", serv->endpoint);
        fd = inet_connect(addr, BLOCKING, 1);
    } else
        return;
    if (fd < 0) {
        if (msg_verbose)
            msg_info("wakeup %s: %m", serv->endpoint);
        return;
    }
    if (write(fd, req, sizeof(req)) < 0 && msg_verbose)
        msg_info("wakeup %s: write: %m", serv->endpoint);
    (void)close(fd);
}

/* The timer: send a request unless throttled, then rearm. */
static void master_wakeup_event(int event UNUSED, void *context)
{
    MASTER_SERV *serv = context;

    if (!serv->throttled)
        master_wakeup_send(serv);
    event_request_timer(master_wakeup_event, serv, serv->wakeup * 1000);
}

void master_wakeup_init(MASTER_SERV *serv)
{
    /* The first wakeup goes out at once, as Postfix's does: pickup takes
       mail dropped while the system was down as soon as it starts. */
    if (serv->wakeup > 0 && !serv->wakeup_if_used)
        event_request_timer(master_wakeup_event, serv, 0);
}

/* A "N?" service was used for the first time: wake it every N seconds from now. */
void master_wakeup_used(MASTER_SERV *serv)
{
    if (serv->wakeup_if_used) {
        serv->wakeup_if_used = false;
        if (serv->wakeup > 0)
            event_request_timer(master_wakeup_event, serv, serv->wakeup * 1000);
    }
}

void master_wakeup_cleanup(MASTER_SERV *serv)
{
    (void)event_cancel_timer(master_wakeup_event, serv);
}
