/*
 * cleanup - the cleanup daemon: turns a client's record stream into a
 * complete, durable queue file in incoming/ and wakes the queue manager.
 *
 * Usage (started by the master): cleanup [generic daemon options].
 * main() hands event_server_main() the per-client service function
 * (cleanup_service(), cleanup_input.c) and opens the stages' tables before
 * privileges are dropped. How the parts fit together: cleanup.h; the
 * connection and record reading: cleanup_input.c; durable commit and the
 * reply: cleanup_final.c.
 *
 * Errors: a table that cannot be opened is the stages' business (they
 * degrade to temporary failures); everything per client is logged with
 * the queue ID and reported to that client, never fatal to the process.
 */
#include "sys_defs.h"

#include "cleanup.h"
#include "cleanup_frame.h"
#include "mail_server.h"

/* Open the envelope and content stages' tables while still privileged. */
static void cleanup_pre_init(char *service UNUSED, char **argv UNUSED)
{
    cleanup_addr_init();
    cleanup_message_init();
}

/* The daemon: many clients per process, event driven. */
int main(int argc, char **argv)
{
    static const MAIL_SERVER_OPTS opts = {
        .pre_init = cleanup_pre_init,
    };

    event_server_main(argc, argv, cleanup_service, &opts);
}
