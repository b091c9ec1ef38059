/*
 * newaliases - rebuild every table listed in alias_database (newaliases(1),
 * the same as "sendmail -bi").
 *
 * Each table is built by a child process running postalias's code, so a
 * broken source (missing file, write error) stops only that table: the
 * others are still rebuilt, its old table stays as it was, and the exit
 * status is 1. Nothing is printed on success.
 */
#include "sys_defs.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "argv.h"
#include "mail_conf.h"
#include "mail_params.h"
#include "mail_params_init.h"
#include "maillog_client.h"
#include "mkmap.h"
#include "msg.h"
#include "msg_stderr.h"
#include "mymalloc.h"
#include "stringops.h"

/* Build one alias table in a child; true on success. */
static bool newaliases_build(const char *table)
{
    MKMAP_OPTS opts;
    pid_t pid;
    int status;

    mkmap_opts_init(&opts, MKMAP_ALIASES);
    fflush(NULL);
    if ((pid = fork()) < 0)
        msg_fatal("fork: %m");
    if (pid == 0) {
        mkmap_build(table, &opts, false);
        exit(0);
    }
    while (waitpid(pid, &status, 0) < 0)
        /* EINTR */;
    return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

int main(int argc, char **argv)
{
    char *copy;
    char *cp;
    char *table;
    int status = 0;
    int ch;

    mail_process_name = "newaliases";
    msg_stderr_init("newaliases");
    while ((ch = getopt(argc, argv, "c:C:v")) != -1) {
        switch (ch) {
        case 'c':
        case 'C':
            mail_conf_select(optarg);
            break;
        case 'v':
            msg_verbose++;
            break;
        default:
            msg_fatal("usage: newaliases [-C config_dir] [-v]");
        }
    }
    mail_conf_read();
    mail_params_init();
    maillog_client_init("newaliases", MAILLOG_CLIENT_FLAG_NONE);
    msg_stderr_init("newaliases"); /* "newaliases: ..." on stderr */

    cp = copy = mystrdup(var_alias_database);
    while ((table = mystrtokq(&cp, CHARS_COMMA_SP, "{}")) != NULL)
        if (!newaliases_build(table))
            status = 1;
    myfree(copy);
    return status;
}
