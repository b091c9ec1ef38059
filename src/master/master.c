/*
 * master - Postern's resident process: owns the instance lock and runs the
 * services of master.cf.
 *
 * Usage: master [-d] [-c DIR]
 *   -d  stay in the foreground (postfix start-fg, make run)
 *
 * This first version takes the instance lock, reads main.cf and
 * master.cf, reports every service whose program is not part of this
 * build, and serves signals: SIGHUP re-reads both files ("reload"),
 * SIGTERM/SIGINT end it ("terminating on signal N"). Starting service
 * processes on demand comes with the queue issue.
 */
#include "sys_defs.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mail_conf.h"
#include "mail_params.h"
#include "mail_params_init.h"
#include "maillog_client.h"
#include "master_ent.h"
#include "master_lock.h"
#include "msg.h"
#include "mymalloc.h"
#include "vstring.h"

static volatile sig_atomic_t master_signal;

static void master_sighandler(int sig)
{
    master_signal = sig;
}

/* Read main.cf and master.cf; report services this build cannot run. */
static MASTER_TABLE *master_config(void)
{
    char *path = vstring_export(vstring_sprintf(vstring_alloc(100), "%s/master.cf", mail_conf_dir));
    MASTER_TABLE *table = master_ent_read(path, 0);
    VSTRING *program = vstring_alloc(100);

    for (size_t i = 0; i < table->count; i++) {
        const MASTER_ENT *ent = table->ents[i];

        vstring_sprintf(program, "%s/%s", var_daemon_directory, ent->field[MASTER_FIELD_COMMAND]);
        if (access(vstring_str(program), X_OK) < 0)
            msg_warn("service \"%s/%s\": %s: %m; service not started", ent->field[MASTER_FIELD_SERVICE],
                     ent->field[MASTER_FIELD_TYPE], vstring_str(program));
    }
    vstring_free(program);
    myfree(path);
    return table;
}

int main(int argc, char **argv)
{
    int foreground = 0;
    MASTER_TABLE *table;
    struct sigaction sa;
    sigset_t block, old;
    int ch;

    mail_process_name = "master";
    while ((ch = getopt(argc, argv, "c:dv")) != -1) {
        switch (ch) {
        case 'c':
            if (setenv("MAIL_CONFIG", optarg, 1) < 0)
                msg_fatal("setenv: %m");
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
    mail_conf_read();
    mail_params_init();
    maillog_client_init("master", foreground && isatty(STDERR_FILENO) && strcmp(var_maillog_file, "/dev/stdout")
                                      ? MAILLOG_CLIENT_FLAG_STDERR
                                      : MAILLOG_CLIENT_FLAG_NONE);
    if (!foreground && setsid() < 0 && errno != EPERM)
        msg_fatal("setsid: %m");
    if (master_lock_acquire() < 0)
        msg_fatal("the Postfix mail system is already running");
    table = master_config();
    msg_info("daemon started -- version %s, configuration %s", var_mail_version, mail_conf_dir);

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = master_sighandler;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGHUP, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sigemptyset(&block);
    sigaddset(&block, SIGHUP);
    sigaddset(&block, SIGTERM);
    sigaddset(&block, SIGINT);
    sigprocmask(SIG_BLOCK, &block, &old);
    for (;;) {
        while (master_signal == 0)
            sigsuspend(&old);
        if (master_signal != SIGHUP)
            break;
        master_signal = 0;
        mail_conf_read();
        mail_params_init();
        master_ent_free(table);
        table = master_config();
        msg_info("reload -- version %s, configuration %s", var_mail_version, mail_conf_dir);
    }
    msg_info("terminating on signal %d", (int) master_signal);
    master_ent_free(table);
    return 0;
}
