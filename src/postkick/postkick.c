/*
 * postkick - send a wakeup request to a Postern service (postkick(1)).
 *
 * Usage: postkick [-c config_dir] [-v] class service request
 *
 * Writes REQUEST (as given, e.g. "W", or "I" for qmgr) to the trigger
 * endpoint $queue_directory/CLASS/SERVICE (a FIFO or a UNIX-domain
 * socket) with mail_trigger().
 *
 * Errors: "postkick: warning: Cannot contact class C service S - perhaps
 * the mail system is down" and exit 1; usage errors are fatal.
 */
#include "sys_defs.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mail_conf.h"
#include "mail_params.h"
#include "mail_params_init.h"
#include "mail_proto.h"
#include "maillog_client.h"
#include "msg.h"
#include "msg_stderr.h"

int main(int argc, char **argv)
{
    int ch;

    mail_process_name = "postkick";
    msg_stderr_init("postkick");
    while ((ch = getopt(argc, argv, "c:v")) != -1) {
        switch (ch) {
        case 'c':
            mail_conf_select(optarg);
            break;
        case 'v':
            msg_verbose++;
            break;
        default:
            msg_fatal("usage: postkick [-c config_dir] [-v] class service request");
        }
    }
    if (argc - optind != 3)
        msg_fatal("usage: postkick [-c config_dir] [-v] class service request");
    mail_conf_read();
    mail_params_init();
    maillog_client_init("postkick", MAILLOG_CLIENT_FLAG_NONE);
    msg_stderr_init("postkick");
    if (mail_trigger(argv[optind], argv[optind + 1], argv[optind + 2], strlen(argv[optind + 2])) < 0) {
        msg_warn("Cannot contact class %s service %s - perhaps the mail system is down", argv[optind],
                 argv[optind + 1]);
        return 1;
    }
    return 0;
}
