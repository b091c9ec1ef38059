/*
 * multi_server - skeleton for daemons that keep many clients open and
 * answer requests as they arrive (trivial-rewrite, proxymap, showq, ...).
 * See mail_server.h.
 *
 * multi_server_main() never returns. Each accepted client is watched for
 * input; when it has a request (or end of file) the service function is
 * called, and again while the stream still holds buffered input. The
 * service function calls multi_server_disconnect() at end of file or on
 * errors. A client silent for longer than the time limit is dropped.
 * The process stays available for the master while it has clients, as it
 * takes new ones (Postfix's multi-client servers do the same): one
 * process serves everyone, and a service with a process limit of 1
 * (anvil, scache) is not "at its process limit" whenever it has a
 * client. It turns busy only when max_use or a changed table stops it
 * from taking more.
 *
 * Errors: none of its own; accept failures are logged.
 */
#include "sys_defs.h"

#include <unistd.h>

#include "mail_server_int.h"
#include "msg.h"

static MAIL_SERVER_FN multi_server_service;
static VSTREAM *multi_server_current; /* being served now */
static bool multi_server_dropped;     /* ... and disconnected meanwhile */

static void multi_server_read(int event, void *context);

/* A client was silent for too long. */
static void multi_server_timeout(int event UNUSED, void *context)
{
    VSTREAM *stream = context;

    if (msg_verbose)
        msg_info("%s: client timeout", mail_server.kind);
    multi_server_disconnect(stream);
}

/* Watch a client for its next request. */
static void multi_server_watch(VSTREAM *stream)
{
    event_enable_read(vstream_fileno(stream), multi_server_read, stream);
    event_request_timer(multi_server_timeout, stream, mail_server.timeout * 1000);
}

/* A client has input: serve it until it is done or has nothing buffered. */
static void multi_server_read(int event UNUSED, void *context)
{
    VSTREAM *stream = context;

    event_disable_readwrite(vstream_fileno(stream));
    event_cancel_timer(multi_server_timeout, stream);
    multi_server_current = stream;
    multi_server_dropped = false;
    do {
        multi_server_service(stream, mail_server.service, mail_server.argv);
    } while (!multi_server_dropped && vstream_peek(stream) > 0);
    multi_server_current = NULL;
    if (!multi_server_dropped)
        multi_server_watch(stream);
}

void multi_server_disconnect(VSTREAM *stream)
{
    if (mail_server.opts->on_disconnect)
        mail_server.opts->on_disconnect(stream, mail_server.service, mail_server.argv);
    if (stream == multi_server_current)
        multi_server_dropped = true;
    event_disable_readwrite(vstream_fileno(stream));
    event_cancel_timer(multi_server_timeout, stream);
    (void)vstream_fclose(stream);
    mail_server_client_end();
}

/* Start serving one client stream. */
static void multi_server_start(VSTREAM *stream)
{
    mail_server_client_begin();
    if (mail_server.opts->on_connect)
        mail_server.opts->on_connect(stream, mail_server.service, mail_server.argv);
    multi_server_watch(stream);
}

/* A listening descriptor is readable: take the connection. */
static void multi_server_accept(int event UNUSED, void *context)
{
    int fd;

    if (!mail_server_may_accept())
        return;
    if ((fd = mail_server_accept((int)(long)context)) < 0)
        return;
    multi_server_start(mail_server_client_stream(fd));
}

NORETURN multi_server_main(int argc, char **argv, MAIL_SERVER_FN service, const MAIL_SERVER_OPTS *opts)
{
    mail_server_init("multi_server", argc, argv, opts);
    mail_server.accepts_while_serving = true;
    multi_server_service = service;
    if (mail_server.standalone) {
        multi_server_start(mail_server_stdio_stream());
    } else {
        mail_server_listen(multi_server_accept);
    }
    mail_server_run();
}
