/*
 * master - Postern's resident process: owns the instance lock and runs the
 * services of master.cf.
 *
 * Usage: master [-d] [-c DIR] [-v]
 *   -d  stay in the foreground (postfix start-fg, make run)
 *
 * At startup the master takes the instance lock, reads main.cf and
 * master.cf, opens a listener for every service (master_service.c) and
 * logs "daemon started". Service processes start on demand, up to each
 * service's process limit (master_spawn.c); wakeup timers send trigger
 * requests (master_wakeup.c). A service process is started as
 *
 *   PROGRAM -n SERVICE -t TYPE [-s COUNT] [-u] [-z] [master.cf arguments]
 *
 * with argv[0] the command as written in master.cf, -s when an inet
 * service listens on more than one address, -u for unprivileged
 * services, -z for chroot services (system mode only), the master.cf
 * arguments (-o name=value, -v, the daemon's own) unchanged; descriptors,
 * environment and status records are as in master_proto.h. An absolute
 * command path in master.cf is used as is (a Postern extension); other
 * commands are looked up in $daemon_directory.
 *
 * Signals: SIGHUP re-reads both files ("reload -- version V, configuration
 * DIR"); SIGTERM and SIGINT stop the master ("terminating on signal N"):
 * listeners close, service processes get SIGTERM, the master exits.
 * SIGCHLD reaps service processes. Signal handlers only write the signal
 * number into a pipe that the event loop reads.
 *
 * System mode (started by root): the account checks of config.md 10
 * (mail_params_accounts()) run before the lock is taken.
 *
 * Errors: configuration errors are fatal at startup; at reload a broken
 * master.cf is fatal too (as in Postfix), a listener that cannot be
 * opened only disables its service.
 */
#include "sys_defs.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "events.h"
#include "iostuff.h"
#include "mail_conf.h"
#include "mail_params.h"
#include "mail_params_init.h"
#include "maillog_client.h"
#include "master.h"
#include "master_ent.h"
#include "master_lock.h"
#include "msg.h"
#include "mymalloc.h"
#include "vstring.h"

unsigned master_generation;
bool master_system_mode;

static int master_sig_pipe[2];

/* Signal handler: hand the signal to the event loop. */
static void master_sighandler(int sig)
{
    int saved = errno;
    unsigned char ch = (unsigned char)sig;

    (void)write(master_sig_pipe[1], &ch, 1);
    errno = saved;
}

static bool master_foreground; /* -d: stderr too, when it is a terminal */

/* Log as main.cf says (maillog_file, syslog_name), again after a reload. */
static void master_log_init(void)
{
    maillog_client_init("master",
                        master_foreground && isatty(STDERR_FILENO) && strcmp(var_maillog_file, "/dev/stdout")
                            ? MAILLOG_CLIENT_FLAG_STDERR
                            : MAILLOG_CLIENT_FLAG_NONE);
}

/*
 * System mode: daemons run as mail_owner and write maillog_file
 * themselves, so the file belongs to mail_owner (Postfix routes every
 * line through its postlogd instead). Commands run by other users fall
 * back to syslog when they cannot open it (maillog_client.c).
 */
static void master_log_owner(void)
{
    int fd;

    if (*var_maillog_file == 0 || strncmp(var_maillog_file, "/dev/", 5) == 0)
        return;
    if ((fd = open(var_maillog_file, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600)) < 0)
        msg_fatal("open maillog_file %s: %m", var_maillog_file);
    if (fchown(fd, mail_owner_uid, mail_owner_gid) < 0)
        msg_warn("chown maillog_file %s: %m", var_maillog_file);
    close(fd);
}

/* Read main.cf and master.cf and make the services match them. */
static void master_config(bool starting)
{
    char *path;
    MASTER_TABLE *table;

    if (!starting) {
        mail_conf_read();
        mail_params_init();
        master_log_init();
    }
    path = vstring_export(vstring_sprintf(vstring_alloc(100), "%s/master.cf", mail_conf_dir));
    table = master_ent_read(path, 0);
    master_services_config(table, starting);
    master_ent_free(table);
    myfree(path);
}

/* Stop: close listeners, terminate service processes, exit. */
static NORETURN master_stop(int sig)
{
    struct sigaction sa;

    msg_info("terminating on signal %d", sig);
    master_services_stop();
    master_kill_all(SIGTERM);
    if (getpgrp() == getpid()) {
        /* Also whatever our children started (commands run by pipe, ...). */
        memset(&sa, 0, sizeof(sa));
        sa.sa_handler = SIG_IGN;
        sigemptyset(&sa.sa_mask);
        sigaction(SIGTERM, &sa, NULL);
        (void)kill(0, SIGTERM);
    }
    exit(0);
}

/* Signals arrive here through the pipe. */
static void master_signal_event(int event UNUSED, void *context UNUSED)
{
    unsigned char buf[64];
    ssize_t n;
    bool reap = false;
    bool reload = false;

    while ((n = read(master_sig_pipe[0], buf, sizeof(buf))) > 0) {
        for (ssize_t i = 0; i < n; i++) {
            if (buf[i] == SIGCHLD)
                reap = true;
            else if (buf[i] == SIGHUP)
                reload = true;
            else
                master_stop(buf[i]);
        }
    }
    if (reap)
        master_reap();
    if (reload) {
        master_config(false);
        msg_info("reload -- version %s, configuration %s", var_mail_version, mail_conf_dir);
    }
}

int main(int argc, char **argv)
{
    int foreground = 0;
    struct sigaction sa;
    int ch;

    mail_process_name = "master";
    while ((ch = getopt(argc, argv, "c:dv")) != -1) {
        switch (ch) {
        case 'c':
            mail_conf_select(optarg);
            break;
        case 'd':
            foreground = 1;
            break;
        case 'v':
            msg_verbose++;
            break;
        default:
            msg_fatal("usage: master [-d] [-c config_dir] [-v]");
        }
    }
    if (getenv("MAIL_VERBOSE") != NULL && *getenv("MAIL_VERBOSE"))
        msg_verbose++;
    mail_conf_read();
    mail_params_init();
    master_foreground = foreground;
    master_log_init();
    master_system_mode = geteuid() == 0;
    if (master_system_mode) {
        mail_params_accounts(); /* config.md 10: fatal before anything starts */
        master_log_owner();
    }
    if (!foreground && setsid() < 0 && errno != EPERM)
        msg_fatal("setsid: %m");
    if (master_lock_acquire() < 0)
        msg_fatal("the Postfix mail system is already running");

    if (pipe2(master_sig_pipe, O_CLOEXEC | O_NONBLOCK) < 0)
        msg_fatal("pipe: %m");
    memset(&sa, 0, sizeof(sa));
    sigemptyset(&sa.sa_mask);
    sa.sa_handler = SIG_IGN;
    sigaction(SIGPIPE, &sa, NULL);
    sa.sa_handler = master_sighandler;
    sa.sa_flags = SA_RESTART;
    sigaction(SIGHUP, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGCHLD, &sa, NULL);
    event_enable_read(master_sig_pipe[0], master_signal_event, NULL);

    master_spawn_init();
    master_config(true);
    msg_info("daemon started -- version %s, configuration %s", var_mail_version, mail_conf_dir);
    for (;;)
        event_loop(-1);
}
