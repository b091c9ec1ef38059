/*
 * showq - the queue listing service (showq(8)): public/showq, used by
 * postqueue -p/-j, mailq and sendmail -bp.
 *
 * A client connects and sends nothing; showq walks the queue
 * (showq_scan.h: maildrop, active, incoming, deferred, hold, hashed
 * subdirectories included), adds the defer log reason of each pending
 * recipient (showq_scan_defer_log), streams one
 * record per message in the protocol of showq_scan.h and ends the listing
 * with an empty record. Runs as mail_owner in system mode (the skeleton
 * drops privileges); one client at a time per process.
 *
 * Errors: queue files that cannot be parsed are skipped with a warning; a
 * client that goes away ends the walk quietly. Nothing here is fatal.
 */
#include "sys_defs.h"

#include "mail_server.h"
#include "msg.h"
#include "showq_scan.h"
#include "vstream.h"

/* Send one message; stop the walk when the client is gone. */
static int showq_send(const SHOWQ_MSG *msg, void *context)
{
    VSTREAM *client = context;

    return showq_scan_send(client, msg);
}

/* Serve one client: the whole listing, then the end marker. */
static void showq_service(VSTREAM *client, char *service UNUSED, char **argv UNUSED)
{
    if (showq_scan(showq_scan_defer_log, showq_send, client) < 0 || showq_scan_end(client) < 0) {
        if (msg_verbose)
            msg_info("client went away during the queue listing");
    }
}

int main(int argc, char **argv)
{
    static const MAIL_SERVER_OPTS opts = {0};

    single_server_main(argc, argv, showq_service, &opts);
}
