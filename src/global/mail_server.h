/*
 * mail_server - the skeletons every Postern daemon is built on, so that a
 * daemon's main() is its callbacks and nothing else.
 *
 *   single_server_main()  one client at a time; the service function gets
 *                         a connected stream and returns when done with it.
 *                         (smtpd, local, smtp, bounce, ...)
 *   multi_server_main()   many clients per process; the service function is
 *                         called each time a client stream has a request
 *                         ready (trivial-rewrite, proxymap, showq, ...).
 *                         It calls multi_server_disconnect() to drop one.
 *   event_server_main()   many clients per process, event driven: the
 *                         service function is called once per new client
 *                         and sets up its own event handlers; the daemon
 *                         calls event_server_disconnect() when the client
 *                         is done (cleanup).
 *   trigger_server_main() wakeup requests on a FIFO or a UNIX-domain
 *                         socket; the service function gets the bytes
 *                         (pickup, qmgr, flush triggers).
 *
 * Every skeleton: parses the master's options (master_proto.h) and the
 * stand-alone ones (-c DIR, -d: debug in the foreground on stdin/stdout with
 * a single client, -S: serve one client on standard input/output, used by
 * sendmail -bs), reads main.cf, applies -o settings, initialises every
 * parameter (mail_params_init), sets up logging with the service's
 * syslog_name, calls pre_init (open tables and files while privileged),
 * drops privileges in system mode (mail_owner; chroot when the master.cf
 * column says so), calls post_init, sets dict_allow_surrogate, then
 * serves. Before each client or request it calls dict_registry_changed()
 * and exits ("table X has changed -- restarting") when a table file was
 * replaced, once no client is being served. It honours max_use (exit
 * after that many clients) and max_idle (exit after that long without a
 * client) unless the daemon is marked long-lived, exits when the master
 * goes away, and logs "fatal:" and exits non-zero when a callback fails
 * fatally so the master restarts it. SIGTERM ends the process at once.
 *
 * Options are passed in MAIL_SERVER_OPTS; a zero field means "none".
 */
#ifndef MAIL_SERVER_H
#define MAIL_SERVER_H

#include <stdbool.h>
#include <sys/types.h>

#include "sys_defs.h"
#include "vstream.h"

typedef void (*MAIL_SERVER_FN)(VSTREAM *client, char *service, char **argv);
typedef void (*MAIL_SERVER_TRIGGER_FN)(char *buf, ssize_t len, char *service, char **argv);
typedef void (*MAIL_SERVER_INIT_FN)(char *service, char **argv);
typedef int (*MAIL_SERVER_LOOP_FN)(char *service, char **argv);
typedef void (*MAIL_SERVER_EXIT_FN)(void);

typedef struct MAIL_SERVER_OPTS {
    MAIL_SERVER_INIT_FN pre_init;  /* before privileges are dropped */
    MAIL_SERVER_INIT_FN post_init; /* after privileges are dropped */
    MAIL_SERVER_LOOP_FN loop;      /* before each wait: returns a wait limit in
                                      seconds, or -1 for the default */
    MAIL_SERVER_FN on_connect;     /* multi: a client was accepted */
    MAIL_SERVER_FN on_disconnect;  /* multi/event: before a client is closed */
    MAIL_SERVER_EXIT_FN on_exit;   /* before a planned exit (max_use, max_idle, master gone) */
    bool long_lived;               /* ignore max_use and max_idle (qmgr, ...) */
    bool privileged;               /* keep root in system mode (local, pipe, virtual) */
    int timeout;                   /* seconds a client may be silent; 0: ipc_timeout */
} MAIL_SERVER_OPTS;

extern NORETURN single_server_main(int argc, char **argv, MAIL_SERVER_FN service, const MAIL_SERVER_OPTS *opts);
extern NORETURN multi_server_main(int argc, char **argv, MAIL_SERVER_FN service, const MAIL_SERVER_OPTS *opts);
extern NORETURN event_server_main(int argc, char **argv, MAIL_SERVER_FN service, const MAIL_SERVER_OPTS *opts);
extern NORETURN trigger_server_main(int argc, char **argv, MAIL_SERVER_TRIGGER_FN service,
                                    const MAIL_SERVER_OPTS *opts);

extern void multi_server_disconnect(VSTREAM *client);
extern void event_server_disconnect(VSTREAM *client);

/* The service name (-n) and the configured process name, for log lines. */
extern const char *mail_server_service_name;

#endif
