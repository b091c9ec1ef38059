/*
 * testd - a tiny service program for testing the master and the server
 * skeletons; never part of a real master.cf.
 *
 * Usage (from master.cf): testd [-trigger] [skeleton options]
 *
 * By default a single_server. Per connection it greets with
 * "220 $smtpd_banner", then answers each line: QUIT -> "221 2.0.0 Bye"
 * and close; PID -> "250 <pid>"; SLEEP n -> sleep n seconds, "250 ok";
 * anything else "250 ok". With -trigger (anywhere in the arguments) it is
 * a trigger_server that logs "trigger: BYTES" for each request.
 *
 * Errors: a lost client ends the session silently.
 */
#include "sys_defs.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mail_params.h"
#include "mail_server.h"
#include "msg.h"
#include "stringops.h"
#include "vstring.h"

/* One client session of the line protocol above. */
static void testd_service(VSTREAM *client, char *service UNUSED, char **argv UNUSED)
{
    VSTRING *line = vstring_alloc(100);

    vstream_fprintf(client, "220 %s\r\n", var_smtpd_banner);
    while (vstream_fflush(client) == 0 && vstream_fgets_nonl_limit(line, client, 1000) != VSTREAM_LINE_EOF) {
        char *cmd = trimblanks(vstring_str(line));

        if (strcasecmp(cmd, "QUIT") == 0) {
            vstream_fprintf(client, "221 2.0.0 Bye\r\n");
            break;
        } else if (strcasecmp(cmd, "PID") == 0) {
            vstream_fprintf(client, "250 %ld\r\n", (long)getpid());
        } else if (strncasecmp(cmd, "SLEEP ", 6) == 0) {
            sleep((unsigned)atoi(cmd + 6));
            vstream_fprintf(client, "250 ok\r\n");
        } else {
            vstream_fprintf(client, "250 ok\r\n");
        }
    }
    (void)vstream_fflush(client);
    vstring_free(line);
}

/* One wakeup request. */
static void testd_trigger(char *buf, ssize_t len, char *service UNUSED, char **argv UNUSED)
{
    msg_info("trigger: %.*s", (int)len, buf);
}

int main(int argc, char **argv)
{
    static const MAIL_SERVER_OPTS opts;
    int trigger = 0;

    /* Our own flag would look like "-t rigger" to the skeleton: take it out. */
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "-trigger") == 0) {
            trigger = 1;
            memmove(argv + i, argv + i + 1, (size_t)(argc - i) * sizeof(*argv));
            argc--;
            i--;
        }
    }
    if (trigger)
        trigger_server_main(argc, argv, testd_trigger, &opts);
    single_server_main(argc, argv, testd_service, &opts);
}
