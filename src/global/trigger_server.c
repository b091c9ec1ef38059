/*
 * trigger_server - skeleton for daemons woken by short requests on a FIFO
 * or a UNIX-domain stream socket (pickup, qmgr, flush). See mail_server.h.
 *
 * trigger_server_main() never returns. For a fifo service it reads what
 * is in the FIFO; for a stream service it accepts one connection and
 * reads until end of file or TRIGGER_SERVER_LIMIT bytes. A non-empty
 * request goes to the service function as one buffer. With -S or -d,
 * standard input is one request.
 *
 * Errors: read errors and time-outs are logged as warnings and the
 * request is dropped (a trigger is only a hint).
 */
#include "sys_defs.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "iostuff.h"
#include "mail_server_int.h"
#include "msg.h"

#define TRIGGER_SERVER_LIMIT 1024

static MAIL_SERVER_TRIGGER_FN trigger_server_service;

/* Hand one request to the service function. */
static void trigger_server_deliver(char *buf, ssize_t len)
{
    mail_server_client_begin();
    if (len > 0)
        trigger_server_service(buf, len, mail_server.service, mail_server.argv);
    mail_server_client_end();
}

/* Read a stream client until end of file, the size limit or an error. */
static ssize_t trigger_server_read_all(int fd, char *buf, size_t size, int timeout_ms)
{
    size_t len = 0;
    ssize_t n;

    while (len < size) {
        if ((n = timed_read(fd, buf + len, size - len, timeout_ms)) < 0) {
            msg_warn("read trigger request: %m");
            return -1;
        }
        if (n == 0)
            break;
        len += (size_t)n;
    }
    return (ssize_t)len;
}

/* A listening descriptor is readable: read one request. */
static void trigger_server_event(int event UNUSED, void *context)
{
    int listen_fd = (int)(long)context;
    char buf[TRIGGER_SERVER_LIMIT];
    ssize_t len;
    int fd;

    if (!mail_server_may_accept())
        return;
    if (strcmp(mail_server.transport, "fifo") == 0 || strcmp(mail_server.transport, "unix-dgram") == 0) {
        do {
            len = read(listen_fd, buf, sizeof(buf));
        } while (len < 0 && errno == EINTR);
        if (len < 0) {
            if (errno != EAGAIN)
                msg_warn("read trigger request: %m");
            return;
        }
    } else {
        if ((fd = mail_server_accept(listen_fd)) < 0)
            return;
        len = trigger_server_read_all(fd, buf, sizeof(buf), 10 * 1000);
        (void)close(fd);
        if (len < 0)
            return;
    }
    trigger_server_deliver(buf, len);
}

NORETURN trigger_server_main(int argc, char **argv, MAIL_SERVER_TRIGGER_FN service,
                             const MAIL_SERVER_OPTS *opts)
{
    mail_server_init("trigger_server", argc, argv, opts);
    trigger_server_service = service;
    if (mail_server.standalone) {
        char buf[TRIGGER_SERVER_LIMIT];
        ssize_t len = trigger_server_read_all(STDIN_FILENO, buf, sizeof(buf), -1);

        trigger_server_deliver(buf, len < 0 ? 0 : len);
        mail_server_exit();
    }
    mail_server_listen(trigger_server_event);
    mail_server_run();
}
