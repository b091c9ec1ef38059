/*
 * mail_server_int - what the four server skeletons share (mail_server.c).
 * Private to single_server.c, multi_server.c, event_server.c and
 * trigger_server.c; daemons include mail_server.h only.
 *
 *   mail_server_init()          options, configuration, logging, pre_init,
 *                               privileges, post_init (mail_server.h)
 *   mail_server_listen(fn)      watch every listening descriptor with FN
 *   mail_server_unlisten()      stop watching them (exit pending)
 *   mail_server_accept(fd)      accept one connection, or -1 (taken by a
 *                               sibling process, or an error already logged)
 *   mail_server_client_begin()  a client arrives: busy for the master (a
 *                               multi_server only once max_use or a
 *                               changed table stops it from taking more)
 *   mail_server_client_end()    a client is done: count it, exit when the
 *                               master has gone, max_use is reached or a
 *                               table changed and nobody else is served
 *   mail_server_may_accept()    before a new client: false (and exit when
 *                               idle) when the process should stop
 *   mail_server_client_stream() wrap a client descriptor with the timeout
 *   mail_server_stdio_stream()  standard input and output as one stream
 *   mail_server_run()           the event loop, forever
 *   mail_server_exit()          on_exit, then exit(0)
 *
 * Errors: configuration problems are fatal (the master restarts and
 * eventually throttles the service).
 */
#ifndef MAIL_SERVER_INT_H
#define MAIL_SERVER_INT_H

#include <stdbool.h>

#include "events.h"
#include "mail_server.h"

typedef struct MAIL_SERVER {
    const char *kind; /* "single_server", ... */
    char *service;    /* -n */
    char *transport;  /* -t: inet, unix, unix-dgram, fifo, pass */
    int listen_count; /* -s */
    bool standalone;  /* -S or -d: one client on stdin/stdout */
    bool debug;       /* -d */
    bool unpriv;      /* -u */
    bool chroot;      /* -z */
    char **argv;      /* the daemon's own arguments */
    const MAIL_SERVER_OPTS *opts;
    unsigned generation; /* MASTER_GENERATION */
    int use_count;       /* clients finished */
    int client_count;    /* clients being served */
    bool master_gone;    /* status descriptor reported end of file */
    int timeout;         /* client time limit, seconds */
    /* multi_server: takes new clients while it serves others, so it is
     * available to the master until max_use or a changed table stops it
     * from listening. */
    bool accepts_while_serving;
} MAIL_SERVER;

extern MAIL_SERVER mail_server;

extern void mail_server_init(const char *kind, int argc, char **argv, const MAIL_SERVER_OPTS *opts);
extern void mail_server_listen(EVENT_NOTIFY_FN fn);
extern void mail_server_unlisten(void);
extern int mail_server_accept(int listen_fd);
extern void mail_server_client_begin(void);
extern void mail_server_client_end(void);
extern bool mail_server_may_accept(void);
extern VSTREAM *mail_server_client_stream(int fd);
extern VSTREAM *mail_server_stdio_stream(void);
extern NORETURN mail_server_run(void);
extern NORETURN mail_server_exit(void);

#endif
