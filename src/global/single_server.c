/*
 * single_server - skeleton for daemons that serve one client at a time
 * (smtpd, local, smtp, bounce, ...). See mail_server.h.
 *
 * single_server_main() never returns. The process is busy (MASTER_STAT_
 * TAKEN) while the service function runs and available otherwise. For a
 * fifo or unix-dgram service the listening descriptor itself is the
 * client. With -S or -d, standard input and output are the one client.
 *
 * Errors: accept failures other than "a sibling was faster" are logged
 * and the process waits for the next connection.
 */
#include "sys_defs.h"

#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "mail_server_int.h"
#include "msg.h"

static MAIL_SERVER_FN single_server_service;

/* Run the service function for one client stream, then close it. */
static void single_server_serve(VSTREAM *stream)
{
    mail_server_client_begin();
    single_server_service(stream, mail_server.service, mail_server.argv);
    (void)vstream_fclose(stream);
    mail_server_client_end();
}

/* A listening descriptor is readable: take the connection (or message). */
static void single_server_accept(int event UNUSED, void *context)
{
    int listen_fd = (int)(long)context;
    int fd;

    if (!mail_server_may_accept())
        return;
    if (strcmp(mail_server.transport, "fifo") == 0 || strcmp(mail_server.transport, "unix-dgram") == 0) {
        if ((fd = fcntl(listen_fd, F_DUPFD_CLOEXEC, 0)) < 0)
            msg_fatal("dup listening descriptor: %m");
    } else if ((fd = mail_server_accept(listen_fd)) < 0) {
        return;
    }
    single_server_serve(mail_server_client_stream(fd));
}

NORETURN single_server_main(int argc, char **argv, MAIL_SERVER_FN service, const MAIL_SERVER_OPTS *opts)
{
    mail_server_init("single_server", argc, argv, opts);
    single_server_service = service;
    if (mail_server.standalone) {
        single_server_serve(mail_server_stdio_stream());
        mail_server_exit();
    }
    mail_server_listen(single_server_accept);
    mail_server_run();
}
