/*
 * postfix - control a Postern instance.
 *
 * Usage: postfix [-Dv] [-c DIR] COMMAND
 *   check     validate main.cf and master.cf, create missing queue
 *             directories, warn about unsafe ownership or modes
 *   start     check, then start the master in the background
 *   start-fg  check, then run the master in the foreground
 *   stop      stop the master (abort is the same)
 *   reload    make the master re-read its configuration
 *   flush     retry all deferred mail now ("postqueue -f"; its exit status)
 *   status    report whether the master is running
 *
 * Messages go to the log and, for a person at a terminal, to standard
 * error, tagged "postfix/postfix-script" as Postfix's are.
 *
 * System mode (run by root, config.md 5 and 10): check also makes the
 * account checks (mail_params_accounts(), fatal), creates missing queue
 * directories with Postfix's owners and modes (maildrop/ and public/
 * mail_owner:setgid_group 730/710, pid/ root 755, the others and
 * data_directory mail_owner 700) and warns "not owned by root: PATH",
 * "not owned by MAIL_OWNER: PATH", "not owned by group SETGID_GROUP:
 * PATH" and "not set-gid or not owner+group+world executable: PATH"
 * (postdrop, postqueue in command_directory). Only the top level of the
 * queue is checked. Rootless mode compares owners with the invoking user.
 */
#include "sys_defs.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "mail_conf.h"
#include "mail_params.h"
#include "mail_params_init.h"
#include "mail_queue.h"
#include "maillog_client.h"
#include "master_ent.h"
#include "master_lock.h"
#include "msg.h"
#include "msg_stderr.h"
#include "mymalloc.h"
#include "vstring.h"

#define POSTFIX_WAIT_SECONDS 5

static NORETURN postfix_usage(void)
{
    msg_fatal("usage: postfix [-c config_dir] [-Dv] command (check, start, start-fg, stop, abort, reload, "
              "flush, status)");
}

/*
 * Create a directory with the given mode when it is missing; otherwise
 * warn when its owner is wrong (rootless: the invoking user).
 */
static void postfix_mkdir(const char *path, mode_t mode)
{
    struct stat st;

    if (stat(path, &st) == 0) {
        if (!S_ISDIR(st.st_mode))
            msg_fatal("not a directory: %s", path);
        if (st.st_uid != geteuid())
            msg_warn("not owned by %s: %s", geteuid() == 0 ? "root" : "the invoking user", path);
        return;
    }
    if (errno != ENOENT)
        msg_fatal("stat %s: %m", path);
    if (mkdir(path, mode) < 0 && errno != EEXIST)
        msg_fatal("create directory %s: %m", path);
    if (chmod(path, mode) < 0)
        msg_fatal("chmod %s: %m", path);
}

/*
 * System mode: create a missing directory with Postfix's owner, group and
 * mode, or warn about the owner and group of an existing one
 * ("not owned by NAME: PATH", "not owned by group NAME: PATH").
 * gid (gid_t)-1 means "the owner's primary group, not checked".
 */
static void postfix_mkdir_system(const char *path, mode_t mode, uid_t uid, const char *owner, gid_t gid,
                                 gid_t owner_gid)
{
    struct stat st;

    if (stat(path, &st) == 0) {
        if (!S_ISDIR(st.st_mode))
            msg_fatal("not a directory: %s", path);
        if (st.st_uid != uid)
            msg_warn("not owned by %s: %s", owner, path);
        if (gid != (gid_t)-1 && st.st_gid != gid)
            msg_warn("not owned by group %s: %s", var_setgid_group, path);
        return;
    }
    if (errno != ENOENT)
        msg_fatal("stat %s: %m", path);
    if (mkdir(path, mode) < 0 && errno != EEXIST)
        msg_fatal("create directory %s: %m", path);
    if (chown(path, uid, gid != (gid_t)-1 ? gid : owner_gid) < 0)
        msg_fatal("chown %s: %m", path);
    if (chmod(path, mode) < 0)
        msg_fatal("chmod %s: %m", path);
}

/* System mode: a file that must belong to root (main.cf, master.cf). */
static void postfix_check_root_file(const char *path)
{
    struct stat st;

    if (stat(path, &st) == 0 && st.st_uid != 0)
        msg_warn("not owned by root: %s", path);
}

/* System mode: postdrop and postqueue must be set-gid setgid_group. */
static void postfix_check_setgid_program(const char *name)
{
    VSTRING *path = vstring_alloc(100);
    struct stat st;

    vstring_sprintf(path, "%s/%s", var_command_directory, name);
    if (stat(vstring_str(path), &st) == 0) {
        if (st.st_gid != mail_setgid_gid)
            msg_warn("not owned by group %s: %s", var_setgid_group, vstring_str(path));
        if ((st.st_mode & (S_ISGID | S_IXUSR | S_IXGRP | S_IXOTH)) != (S_ISGID | S_IXUSR | S_IXGRP | S_IXOTH))
            msg_warn("not set-gid or not owner+group+world executable: %s", vstring_str(path));
    }
    vstring_free(path);
}

/*
 * System mode (config.md 5 and 10): accounts, then the queue with
 * Postfix's owners: queue_directory and pid/ root, maildrop/ and public/
 * mail_owner:setgid_group, everything else and data_directory mail_owner.
 */
static void postfix_check_system(VSTRING *path)
{
    mail_params_accounts();
    postfix_check_root_file(mail_conf_path);
    vstring_sprintf(path, "%s/master.cf", mail_conf_dir);
    postfix_check_root_file(vstring_str(path));
    postfix_mkdir_system(var_queue_directory, 0755, 0, "root", (gid_t)-1, 0);
    postfix_mkdir_system(var_data_directory, 0700, mail_owner_uid, var_mail_owner, (gid_t)-1, mail_owner_gid);
    for (const MAIL_QUEUE_DIR *dir = mail_queue_dirs; dir->name; dir++) {
        vstring_sprintf(path, "%s/%s", var_queue_directory, dir->name);
        if (strcmp(dir->name, "pid") == 0)
            postfix_mkdir_system(vstring_str(path), dir->mode, 0, "root", (gid_t)-1, 0);
        else if (strcmp(dir->name, "maildrop") == 0 || strcmp(dir->name, "public") == 0)
            postfix_mkdir_system(vstring_str(path), dir->mode, mail_owner_uid, var_mail_owner,
                                 mail_setgid_gid, mail_owner_gid);
        else
            postfix_mkdir_system(vstring_str(path), dir->mode, mail_owner_uid, var_mail_owner, (gid_t)-1,
                                 mail_owner_gid);
    }
    postfix_check_setgid_program("postdrop");
    postfix_check_setgid_program("postqueue");
}

/* Validate the configuration and prepare the directories (postfix check). */
static void postfix_check(void)
{
    VSTRING *path = vstring_alloc(100);
    MASTER_TABLE *table;
    struct stat st;

    vstring_sprintf(path, "%s/master.cf", mail_conf_dir);
    table = master_ent_read(vstring_str(path), 0);
    master_ent_free(table);

    if (stat(mail_conf_path, &st) == 0 && (st.st_mode & 022))
        msg_warn("group or other writable: %s", mail_conf_path);
    if (geteuid() == 0) {
        postfix_check_system(path);
    } else {
        postfix_mkdir(var_queue_directory, 0755);
        postfix_mkdir(var_data_directory, 0700);
        for (const MAIL_QUEUE_DIR *dir = mail_queue_dirs; dir->name; dir++) {
            vstring_sprintf(path, "%s/%s", var_queue_directory, dir->name);
            postfix_mkdir(vstring_str(path), dir->mode);
        }
    }
    vstring_free(path);
}

/* The master program of this instance. */
static char *postfix_master_path(void)
{
    return vstring_export(vstring_sprintf(vstring_alloc(100), "%s/master", var_daemon_directory));
}

/* Start the master in the background and wait until it holds the lock. */
static void postfix_start(void)
{
    char *master = postfix_master_path();
    pid_t pid;
    int status;

    msg_info("starting the Postfix mail system");
    if ((pid = fork()) < 0)
        msg_fatal("fork: %m");
    if (pid == 0) {
        /* Detach stdio so the caller's pipes close when we return. */
        if (freopen("/dev/null", "r", stdin) == NULL || freopen("/dev/null", "w", stdout) == NULL)
            _exit(1);
        execl(master, "master", (char *)NULL);
        msg_fatal("exec %s: %m", master);
    }
    myfree(master);
    for (int tries = 0; tries < 10 * POSTFIX_WAIT_SECONDS; tries++) {
        if (master_lock_owner() == pid)
            return;
        if (waitpid(pid, &status, WNOHANG) == pid)
            msg_fatal("mail system startup failed");
        usleep(100000);
    }
    msg_fatal("mail system startup failed: the master did not start within %d seconds", POSTFIX_WAIT_SECONDS);
}

/* Signal the master and, for stop, wait for it to go away. */
static void postfix_signal(pid_t pid, int sig, int wait_for_exit)
{
    if (kill(pid, sig) < 0)
        msg_fatal("cannot signal the master, PID %ld: %m", (long)pid);
    if (!wait_for_exit)
        return;
    for (int tries = 0; tries < 10 * POSTFIX_WAIT_SECONDS; tries++) {
        if (master_lock_owner() != pid)
            return;
        usleep(100000);
    }
    msg_warn("the master did not stop within %d seconds; killing its process group", POSTFIX_WAIT_SECONDS);
    (void)kill(-pid, SIGKILL);
    (void)kill(pid, SIGKILL);
}

int main(int argc, char **argv)
{
    const char *command;
    pid_t pid;
    int ch;

    mail_process_name = "postfix";
    msg_stderr_init("postfix");
    while ((ch = getopt(argc, argv, "c:Dv")) != -1) {
        switch (ch) {
        case 'c':
            mail_conf_select(optarg);
            break;
        case 'D':
            break;
        case 'v':
            msg_verbose++;
            if (setenv("MAIL_VERBOSE", "1", 1) < 0)
                msg_fatal("setenv: %m");
            break;
        default:
            postfix_usage();
        }
    }
    if (optind + 1 != argc)
        postfix_usage();
    command = argv[optind];

    mail_conf_read();
    mail_params_init();
    maillog_client_init("postfix-script", MAILLOG_CLIENT_FLAG_STDERR);
    pid = master_lock_owner();

    if (strcmp(command, "check") == 0) {
        postfix_check();
    } else if (strcmp(command, "start") == 0 || strcmp(command, "start-fg") == 0) {
        if (pid)
            msg_fatal("the Postfix mail system is already running");
        postfix_check();
        if (strcmp(command, "start") == 0) {
            postfix_start();
        } else {
            char *master = postfix_master_path();

            msg_info("starting the Postfix mail system");
            execl(master, "master", "-d", (char *)NULL);
            msg_fatal("exec %s: %m", master);
        }
    } else if (strcmp(command, "stop") == 0 || strcmp(command, "abort") == 0) {
        if (pid == 0)
            msg_fatal("the Postfix mail system is not running");
        msg_info("%s the Postfix mail system", strcmp(command, "stop") == 0 ? "stopping" : "aborting");
        postfix_signal(pid, SIGTERM, 1);
    } else if (strcmp(command, "reload") == 0) {
        if (pid == 0)
            msg_fatal("the Postfix mail system is not running");
        msg_info("refreshing the Postfix mail system");
        postfix_signal(pid, SIGHUP, 0);
    } else if (strcmp(command, "flush") == 0) {
        VSTRING *postqueue = vstring_alloc(100);

        vstring_sprintf(postqueue, "%s/postqueue", var_command_directory);
        mail_conf_select(mail_conf_dir);
        if (msg_verbose)
            execl(vstring_str(postqueue), "postqueue", "-v", "-f", (char *)NULL);
        else
            execl(vstring_str(postqueue), "postqueue", "-f", (char *)NULL);
        msg_fatal("exec %s: %m", vstring_str(postqueue));
    } else if (strcmp(command, "status") == 0) {
        if (pid == 0) {
            msg_info("the Postfix mail system is not running");
            return 1;
        }
        msg_info("the Postfix mail system is running: PID: %ld", (long)pid);
    } else {
        postfix_usage();
    }
    return 0;
}
