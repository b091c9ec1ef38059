/*
 * event_server - skeleton for event-driven daemons that keep many clients
 * and drive them with their own event handlers (cleanup). See
 * mail_server.h.
 *
 * event_server_main() never returns. The service function is called once
 * per accepted client; the daemon registers events on the stream itself
 * (events.h) and calls event_server_disconnect() when the client is done,
 * which disables the descriptor's events, closes the stream and updates
 * the counts. The process is busy for the master while it has any client.
 *
 * Errors: none of its own; accept failures are logged.
 */
#include "sys_defs.h"

#include "mail_server_int.h"
#include "msg.h"

static MAIL_SERVER_FN event_server_service;

void event_server_disconnect(VSTREAM *stream)
{
    if (mail_server.opts->on_disconnect)
        mail_server.opts->on_disconnect(stream, mail_server.service, mail_server.argv);
    event_disable_readwrite(vstream_fileno(stream));
    (void)vstream_fclose(stream);
    mail_server_client_end();
}

/* Start serving one client stream. */
static void event_server_start(VSTREAM *stream)
{
    mail_server_client_begin();
    if (mail_server.opts->on_connect)
        mail_server.opts->on_connect(stream, mail_server.service, mail_server.argv);
    event_server_service(stream, mail_server.service, mail_server.argv);
}

/* A listening descriptor is readable: take the connection. */
static void event_server_accept(int event UNUSED, void *context)
{
    int fd;

    if (!mail_server_may_accept())
        return;
    if ((fd = mail_server_accept((int)(long)context)) < 0)
        return;
    event_server_start(mail_server_client_stream(fd));
}

NORETURN event_server_main(int argc, char **argv, MAIL_SERVER_FN service, const MAIL_SERVER_OPTS *opts)
{
    mail_server_init("event_server", argc, argv, opts);
    event_server_service = service;
    if (mail_server.standalone) {
        event_server_start(mail_server_stdio_stream());
    } else {
        mail_server_listen(event_server_accept);
    }
    mail_server_run();
}
