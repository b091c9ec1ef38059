/*
 * mail_server - the parts every server skeleton shares: the master's
 * options, configuration, logging, privileges, the status protocol and
 * the reasons to exit (max_use, max_idle, master gone, table changed).
 * See mail_server_int.h for the functions and mail_server.h for the
 * behaviour daemons see.
 *
 * Options (master_proto.h): -n SERVICE, -t TYPE, -s COUNT, -u (run as
 * mail_owner in system mode), -z (chroot to queue_directory in system
 * mode), -v, -o name=value, -D (ignored); stand-alone: -c DIR, -d, -S.
 * Option parsing stops at the first non-option argument; what follows
 * belongs to the daemon.
 *
 * Every process changes its working directory to queue_directory, so
 * daemons may name sockets and queue files relative to it.
 *
 * Errors: a bad option or -o setting is fatal ("usage: ...", "bad -o
 * setting"); so is a failed account check in system mode
 * (mail_params_accounts(), e.g. an unknown mail_owner).
 */
#include "sys_defs.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "argv.h"
#include "dict.h"
#include "dict_registry.h"
#include "iostuff.h"
#include "mail_conf.h"
#include "mail_flow.h"
#include "mail_params.h"
#include "mail_params_init.h"
#include "mail_server_int.h"
#include "maillog_client.h"
#include "master_proto.h"
#include "msg.h"
#include "mymalloc.h"

MAIL_SERVER mail_server;
const char *mail_server_service_name = "";

static EVENT_NOTIFY_FN mail_server_listen_fn;
static bool mail_server_listening;

/* SIGTERM ends a service process at once (the master is stopping). */
static void mail_server_sigterm(int sig UNUSED)
{
    _exit(0);
}

/* on_exit, then a normal exit: the master sees status 0. */
NORETURN mail_server_exit(void)
{
    if (mail_server.opts && mail_server.opts->on_exit)
        mail_server.opts->on_exit();
    exit(0);
}

/* Write a status record; without a master there is nothing to serve for. */
static void mail_server_status(int avail)
{
    if (mail_server.standalone || mail_server.master_gone)
        return;
    if (master_notify(getpid(), mail_server.generation, avail) < 0) {
        if (msg_verbose)
            msg_info("master disconnect -- exiting");
        mail_server.master_gone = true;
        if (mail_server.client_count == 0)
            mail_server_exit();
    }
}

/* The table-change test of dict_registry.h: true when we must restart
 * (logged once, though asked again until the process exits). */
static bool mail_server_table_changed(void)
{
    static bool logged;
    const char *spec = dict_registry_changed();

    if (spec == NULL)
        return false;
    if (!logged)
        msg_info("table %s has changed -- restarting", spec);
    logged = true;
    return true;
}

/* Exit now when there is a reason to and nobody is being served. */
static void mail_server_exit_if_done(void)
{
    const MAIL_SERVER_OPTS *opts = mail_server.opts;

    if (mail_server.client_count > 0)
        return;
    if (mail_server.master_gone) {
        if (msg_verbose)
            msg_info("master disconnect -- exiting");
        mail_server_exit();
    }
    if (!opts->long_lived && mail_server.use_count >= var_max_use) {
        if (msg_verbose)
            msg_info("max_use %d reached -- exiting", var_max_use);
        mail_server_exit();
    }
    if (mail_server_table_changed())
        mail_server_exit();
}

/* max_idle expired with no client. */
static void mail_server_idle_event(int event UNUSED, void *context UNUSED)
{
    if (mail_server.client_count == 0) {
        if (msg_verbose)
            msg_info("idle timeout -- exiting");
        mail_server_exit();
    }
}

/* (Re)start the max_idle timer, unless the daemon is long-lived. */
static void mail_server_idle_start(void)
{
    if (!mail_server.opts->long_lived && !mail_server.standalone)
        event_request_timer(mail_server_idle_event, NULL, var_max_idle * 1000);
}

/* The master closed its end of the status channel (reload, stop). */
static void mail_server_master_event(int event UNUSED, void *context UNUSED)
{
    char ch;
    ssize_t n = read(MASTER_STATUS_FD, &ch, 1);

    if (n > 0 || (n < 0 && (errno == EAGAIN || errno == EINTR)))
        return;
    event_disable_readwrite(MASTER_STATUS_FD);
    mail_server.master_gone = true;
    mail_server_unlisten();
    mail_server_exit_if_done();
}

/* Poll the status channel between clients (single server, busy loops). */
static void mail_server_master_poll(void)
{
    struct pollfd pfd = {.fd = MASTER_STATUS_FD, .events = POLLIN};

    if (!mail_server.standalone && !mail_server.master_gone && poll(&pfd, 1, 0) > 0)
        mail_server_master_event(EVENT_READ, NULL);
}

void mail_server_listen(EVENT_NOTIFY_FN fn)
{
    mail_server_listen_fn = fn;
    if (mail_server.standalone || mail_server_listening)
        return;
    for (int i = 0; i < mail_server.listen_count; i++)
        event_enable_read(MASTER_LISTEN_FD + i, fn, (void *)(long)(MASTER_LISTEN_FD + i));
    mail_server_listening = true;
}

void mail_server_unlisten(void)
{
    if (!mail_server_listening)
        return;
    for (int i = 0; i < mail_server.listen_count; i++)
        event_disable_readwrite(MASTER_LISTEN_FD + i);
    mail_server_listening = false;
}

int mail_server_accept(int listen_fd)
{
    int fd;

    do {
        fd = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC);
    } while (fd < 0 && errno == EINTR);
    if (fd < 0) {
        if (errno != EAGAIN && errno != EWOULDBLOCK && errno != ECONNABORTED)
            msg_warn("accept connection: %m");
        return -1;
    }
    (void)non_blocking(fd, false);
    return fd;
}

/* Take no new client from now on (max_use, a changed table); a process
 * that serves clients while it takes more now turns busy for the master,
 * which starts another for new clients. */
static void mail_server_stop_taking(void)
{
    if (!mail_server_listening)
        return;
    mail_server_unlisten();
    if (mail_server.accepts_while_serving)
        mail_server_status(MASTER_STAT_TAKEN);
}

bool mail_server_may_accept(void)
{
    mail_server_master_poll();
    if (mail_server.master_gone)
        return false;
    if (mail_server_table_changed()) {
        if (mail_server.client_count == 0)
            mail_server_exit();
        /* Its clients finish with the old table; new ones get a new process. */
        mail_server_stop_taking();
        return false;
    }
    return true;
}

void mail_server_client_begin(void)
{
    if (mail_server.client_count++ == 0) {
        event_cancel_timer(mail_server_idle_event, NULL);
        if (!mail_server.accepts_while_serving)
            mail_server_status(MASTER_STAT_TAKEN);
    }
    if (!mail_server.opts->long_lived && mail_server.use_count + mail_server.client_count >= var_max_use)
        mail_server_stop_taking();
}

void mail_server_client_end(void)
{
    mail_server.client_count--;
    mail_server.use_count++;
    if (mail_server.client_count > 0)
        return;
    if (mail_server.standalone)
        mail_server_exit();
    mail_server_master_poll();
    mail_server_exit_if_done();
    if (!mail_server.accepts_while_serving)
        mail_server_status(MASTER_STAT_AVAIL);
    mail_server_idle_start();
    if (mail_server_listen_fn && !mail_server.master_gone)
        mail_server_listen(mail_server_listen_fn);
}

VSTREAM *mail_server_client_stream(int fd)
{
    VSTREAM *stream = vstream_fdopen(fd, O_RDWR);

    vstream_set_timeout(stream, mail_server.timeout);
    return stream;
}

/* Writes of the stand-alone stream go to standard output. */
static ssize_t mail_server_stdout_write(int fd UNUSED, const void *buf, size_t len, int timeout_ms,
                                        void *context UNUSED)
{
    return timed_write(STDOUT_FILENO, buf, len, timeout_ms);
}

VSTREAM *mail_server_stdio_stream(void)
{
    VSTREAM *stream = vstream_fdopen(STDIN_FILENO, O_RDWR);

    /* Reads and writes use different descriptors: never seek back. */
    stream->flags &= ~VSTREAM_FLAG_SEEKABLE;
    vstream_set_io(stream, NULL, mail_server_stdout_write, NULL);
    vstream_set_timeout(stream, mail_server.timeout);
    return stream;
}

/* Apply one "-o name=value" setting. */
static void mail_server_override(const char *setting)
{
    const char *eq = strchr(setting, '=');
    char *name;

    if (eq == NULL || eq == setting)
        msg_fatal("bad -o setting: \"%s\" (expected name=value)", setting);
    name = mystrndup(setting, (size_t)(eq - setting));
    mail_conf_override(name, eq + 1);
    myfree(name);
}

/*
 * System mode: the account checks of config.md 10, then chroot and the
 * mail_owner identity (uid and primary gid, no other groups) as the
 * service asks.
 */
static void mail_server_privileges(void)
{
    if (geteuid() != 0)
        return;
    mail_params_accounts();
    if (mail_server.chroot) {
        if (chroot(var_queue_directory) < 0)
            msg_fatal("chroot(%s): %m", var_queue_directory);
        if (chdir("/") < 0)
            msg_fatal("chdir(\"/\"): %m");
    }
    if (mail_server.unpriv && !mail_server.opts->privileged) {
        gid_t gid = mail_owner_gid;

        if (setgroups(1, &gid) < 0 || setgid(gid) < 0)
            msg_fatal("setgid(%ld): %m", (long)gid);
        if (setuid(mail_owner_uid) < 0)
            msg_fatal("setuid(%ld): %m", (long)mail_owner_uid);
    }
}

void mail_server_init(const char *kind, int argc, char **argv, const MAIL_SERVER_OPTS *opts)
{
    static const MAIL_SERVER_OPTS no_opts;
    ARGV *overrides = argv_alloc(4);
    const char *slash;
    const char *env;
    struct sigaction sa;
    int ch;

    memset(&sa, 0, sizeof(sa));
    sigemptyset(&sa.sa_mask);
    sa.sa_handler = SIG_IGN;
    sigaction(SIGPIPE, &sa, NULL);
    sa.sa_handler = mail_server_sigterm;
    sigaction(SIGTERM, &sa, NULL);

    mail_server.kind = kind;
    mail_server.opts = opts ? opts : &no_opts;
    mail_server.listen_count = 1;
    mail_process_name = (slash = strrchr(argv[0], '/')) != NULL ? slash + 1 : argv[0];
    if ((env = getenv("MAIL_VERBOSE")) != NULL && *env)
        msg_verbose++;
    if ((env = getenv("MASTER_GENERATION")) != NULL)
        mail_server.generation = (unsigned)strtoul(env, NULL, 10);

    optind = 1;
    while ((ch = getopt(argc, argv, "+c:dDn:o:s:St:uvz")) != -1) {
        switch (ch) {
        case 'c':
            mail_conf_select(optarg);
            break;
        case 'd':
            mail_server.debug = mail_server.standalone = true;
            break;
        case 'D':
            break;
        case 'n':
            mail_server.service = optarg;
            break;
        case 'o':
            argv_add(overrides, optarg);
            break;
        case 's':
            if ((mail_server.listen_count = atoi(optarg)) <= 0)
                msg_fatal("invalid socket count: %s", optarg);
            break;
        case 'S':
            mail_server.standalone = true;
            break;
        case 't':
            mail_server.transport = optarg;
            break;
        case 'u':
            mail_server.unpriv = true;
            break;
        case 'v':
            msg_verbose++;
            break;
        case 'z':
            mail_server.chroot = true;
            break;
        default:
            msg_fatal("usage: %s [-dSv] [-c config_dir] [-n service] [-t type] [-s count] [-o name=value] "
                      "[args]",
                      mail_process_name);
        }
    }
    mail_server.argv = argv + optind;
    if (mail_server.service == NULL)
        mail_server.service = (char *)mail_process_name;
    if (mail_server.transport == NULL)
        mail_server.transport = "unix";
    mail_server_service_name = mail_server.service;

    mail_conf_read();
    /* $service_name expands in -o values and main.cf alike. */
    mail_conf_override("service_name", mail_server.service);
    for (size_t i = 0; i < overrides->argc; i++)
        mail_server_override(overrides->argv[i]);
    argv_free(overrides);
    mail_params_init();
    maillog_client_init(mail_process_name,
                        mail_server.debug ? MAILLOG_CLIENT_FLAG_STDERR : MAILLOG_CLIENT_FLAG_NONE);
    if (msg_verbose)
        msg_info("%s: service %s transport %s generation %u", kind, mail_server.service,
                 mail_server.transport, mail_server.generation);
    mail_server.timeout = mail_server.opts->timeout > 0 ? mail_server.opts->timeout : var_ipc_timeout;

    if (chdir(var_queue_directory) < 0)
        msg_fatal("chdir(\"%s\"): %m", var_queue_directory);
    if (!mail_server.standalone)
        mail_flow_init(); /* before the service's init, which may use it */
    if (mail_server.opts->pre_init)
        mail_server.opts->pre_init(mail_server.service, mail_server.argv);
    mail_server_privileges();
    if (mail_server.opts->post_init)
        mail_server.opts->post_init(mail_server.service, mail_server.argv);
    dict_allow_surrogate = 1;

    if (!mail_server.standalone) {
        (void)non_blocking(MASTER_STATUS_FD, true);
        event_enable_read(MASTER_STATUS_FD, mail_server_master_event, NULL);
        mail_server_idle_start();
    }
}

NORETURN mail_server_run(void)
{
    for (;;) {
        int delay = -1;

        if (mail_server.opts->loop)
            delay = mail_server.opts->loop(mail_server.service, mail_server.argv);
        event_loop(delay < 0 ? -1 : delay * 1000);
    }
}
