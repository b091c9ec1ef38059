/*
 * postlock - run a command while a mailbox file is locked the way
 * Postern's local delivery locks it (postlock(1)).
 *
 * Usage: postlock [-c config_dir] [-l lock_style] [-v] file command...
 *
 * The lock styles are those of mailbox_delivery_lock (default "fcntl,
 * dotlock"), or of -l: dotlock (FILE.lock, removed when older than
 * stale_lock_time), fcntl and flock. A lock held by someone else is
 * retried deliver_lock_attempts times, deliver_lock_delay apart. FILE is
 * created when missing (never through a symbolic link). The command is
 * run directly, without a shell, while the locks are held.
 *
 * Exit status: the command's; 75 (EX_TEMPFAIL) when the file cannot be
 * opened or locked or on a usage error ("postlock: fatal: open file F:
 * REASON", "unknown mailbox_delivery_lock value "X" in "X""); 1 when the
 * command cannot be executed ("execvp CMD: REASON").
 */
#include "sys_defs.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <sysexits.h>
#include <unistd.h>

#include "argv.h"
#include "mail_conf.h"
#include "mail_params.h"
#include "mail_params_init.h"
#include "maillog_client.h"
#include "msg.h"
#include "msg_stderr.h"
#include "myflock.h"
#include "safe_open.h"
#include "vstring.h"

static const char *postlock_dotlock_path; /* FILE while we hold FILE.lock */

/* Remove our dot-lock on the way out. */
static void postlock_cleanup(void)
{
    if (postlock_dotlock_path != NULL)
        (void)myflock_dotunlock(postlock_dotlock_path);
}

/* The lock methods named in STYLES. */
static ARGV *postlock_styles(const char *styles)
{
    ARGV *words = argv_split(styles, ", \t\r\n");

    for (size_t i = 0; i < words->argc; i++)
        if (myflock_method(words->argv[i]) < 0)
            msg_fatal_status(EX_TEMPFAIL, "unknown mailbox_delivery_lock value \"%s\" in \"%s\"",
                             words->argv[i], styles);
    return words;
}

/* One lock, retried while someone else holds it; false with WHY set. */
static bool postlock_lock(const char *path, int fd, int method, VSTRING *why)
{
    for (int attempt = 1;; attempt++) {
        int rc;

        if (method == MYFLOCK_METHOD_DOTLOCK) {
            rc = myflock_dotlock(path, var_stale_lock_time, why);
        } else {
            rc = myflock(fd, method, MYFLOCK_OP_EXCLUSIVE | MYFLOCK_OP_NOWAIT);
            if (rc < 0)
                vstring_sprintf(why, "unable to lock for exclusive access: %s", strerror(errno));
        }
        if (rc == 0)
            return true;
        if (errno != EAGAIN || attempt >= var_deliver_lock_attempts)
            return false;
        sleep((unsigned)var_deliver_lock_delay);
    }
}

int main(int argc, char **argv)
{
    const char *styles = NULL;
    const char *path;
    VSTRING *why = vstring_alloc(100);
    ARGV *methods;
    int fd = -1;
    int status;
    pid_t pid;
    int ch;

    mail_process_name = "postlock";
    msg_stderr_init("postlock");
    msg_cleanup(postlock_cleanup);
    while ((ch = getopt(argc, argv, "+c:l:v")) != -1) {
        switch (ch) {
        case 'c':
            if (setenv("MAIL_CONFIG", optarg, 1) < 0)
                msg_fatal_status(EX_TEMPFAIL, "setenv: %m");
            break;
        case 'l':
            styles = optarg;
            break;
        case 'v':
            msg_verbose++;
            break;
        default:
            msg_fatal_status(EX_TEMPFAIL,
                             "usage: postlock [-c config_dir] [-l lock_style] [-v] folder command...");
        }
    }
    if (argc - optind < 2)
        msg_fatal_status(EX_TEMPFAIL,
                         "usage: postlock [-c config_dir] [-l lock_style] [-v] folder command...");
    path = argv[optind];
    mail_conf_read();
    mail_params_init();
    maillog_client_init("postlock", MAILLOG_CLIENT_FLAG_NONE);
    msg_stderr_init("postlock");
    methods = postlock_styles(styles ? styles : var_mailbox_delivery_lock);

    /* The dot-lock comes first, as local delivery takes it. */
    for (size_t i = 0; i < methods->argc; i++) {
        if (myflock_method(methods->argv[i]) != MYFLOCK_METHOD_DOTLOCK)
            continue;
        if (!postlock_lock(path, -1, MYFLOCK_METHOD_DOTLOCK, why))
            msg_fatal_status(EX_TEMPFAIL, "open file %s: %s", path, vstring_str(why));
        postlock_dotlock_path = path;
    }
    if ((fd = safe_open(path, O_RDWR | O_APPEND | O_CREAT, 0600, NULL, (uid_t)-1, (gid_t)-1, why)) < 0)
        msg_fatal_status(EX_TEMPFAIL, "open file %s: %s", path, vstring_str(why));
    for (size_t i = 0; i < methods->argc; i++) {
        int method = myflock_method(methods->argv[i]);

        if (method != MYFLOCK_METHOD_DOTLOCK && !postlock_lock(path, fd, method, why))
            msg_fatal_status(EX_TEMPFAIL, "open file %s: %s", path, vstring_str(why));
    }

    switch (pid = fork()) {
    case -1:
        msg_fatal_status(EX_TEMPFAIL, "fork %s: %m", argv[optind + 1]);
    case 0:
        msg_cleanup(NULL);
        close(fd);
        execvp(argv[optind + 1], argv + optind + 1);
        msg_fatal("execvp %s: %m", argv[optind + 1]);
    default:
        while (waitpid(pid, &status, 0) < 0)
            if (errno != EINTR)
                msg_fatal_status(EX_TEMPFAIL, "waitpid: %m");
    }
    postlock_cleanup();
    postlock_dotlock_path = NULL;
    close(fd);
    argv_free(methods);
    vstring_free(why);
    return WIFEXITED(status) ? WEXITSTATUS(status) : EX_TEMPFAIL;
}
