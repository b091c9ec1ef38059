/*
 * spawn - run a command and wait for it. See spawn.h.
 *
 * The child reports a failure before exec (setuid, chdir, exec itself)
 * through a close-on-exec pipe: the parent reads either one failure record
 * or end of file, which means exec succeeded.
 */
#include "sys_defs.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "argv.h"
#include "iostuff.h"
#include "mymalloc.h"
#include "spawn.h"
#include "vstring.h"

/* Where a child failed before it could exec. */
enum spawn_stage {
    SPAWN_STAGE_DUP,
    SPAWN_STAGE_SETGID,
    SPAWN_STAGE_SETUID,
    SPAWN_STAGE_CHDIR,
    SPAWN_STAGE_EXEC
};

typedef struct SPAWN_FAILURE {
    int stage;
    int err;
    long value; /* the descriptor, user or group ID involved */
} SPAWN_FAILURE;

static int spawn_error(VSTRING *why, int err, const char *fmt, ...) PRINTFLIKE(3, 4);

/* Record an error for the caller; returns -1. */
static int spawn_error(VSTRING *why, int err, const char *fmt, ...)
{
    va_list ap;

    errno = err;
    va_start(ap, fmt);
    vstring_vsprintf(why, fmt, ap);
    va_end(ap);
    errno = err;
    return -1;
}

/* Set NAME=VALUE in env, replacing an earlier entry for NAME. */
static void spawn_env_set(ARGV *env, const char *entry, size_t name_len)
{
    for (size_t i = 0; i < env->argc; i++) {
        if (strncmp(env->argv[i], entry, name_len + 1) == 0) {
            argv_delete(env, i, 1);
            argv_insert(env, i, entry);
            return;
        }
    }
    argv_add(env, entry);
}

/* Build the child's environment from "NAME" and "NAME=VALUE" lists; see spawn.h. */
ARGV *spawn_env(const char *const *export_env, const char *const *env)
{
    const char *const *lists[] = {export_env, env};
    ARGV *result = argv_alloc(10);
    VSTRING *buf = vstring_alloc(100);

    for (size_t l = 0; l < ARRAY_LEN(lists); l++) {
        for (const char *const *cpp = lists[l]; cpp && *cpp; cpp++) {
            const char *eq = strchr(*cpp, '=');
            const char *value;

            if (eq == *cpp || **cpp == 0)
                continue;
            if (eq) {
                vstring_strcpy(buf, *cpp);
            } else if ((value = getenv(*cpp)) != NULL) {
                vstring_sprintf(buf, "%s=%s", *cpp, value);
            } else {
                continue;
            }
            spawn_env_set(result, vstring_str(buf), strcspn(vstring_str(buf), "="));
        }
    }
    vstring_free(buf);
    return result;
}

/* Split a command line, or wrap it in /bin/sh -c when it needs a shell. */
ARGV *spawn_argv(const char *command)
{
    if (strpbrk(command, SPAWN_SHELL_CHARS) == NULL)
        return argv_split(command, " \t\r\f\v");
    ARGV *argv = argv_alloc(4);

    argv_add(argv, "/bin/sh");
    argv_add(argv, "-c");
    argv_add(argv, command);
    return argv;
}

/* In the child: tell the parent what failed, and give up. */
static NORETURN spawn_child_fail(int errfd, int stage, long value)
{
    SPAWN_FAILURE rec = {.stage = stage, .err = errno, .value = value};

    (void)!write(errfd, &rec, sizeof(rec));
    _exit(127);
}

/* In the child: set up signals, descriptors and privileges, then exec. */
static NORETURN spawn_child(const SPAWN_ATTR *attr, char **envp, int errfd)
{
    struct sigaction sa = {.sa_handler = SIG_DFL};
    sigset_t none;
    int want[3] = {attr->stdin_fd, attr->stdout_fd, attr->stderr_fd};
    int tmp[3];

    (void)setpgid(0, 0);

    /* Ignored signals stay ignored across exec; the command expects defaults. */
    sigemptyset(&sa.sa_mask);
    for (int sig = 1; sig < NSIG; sig++)
        if (sig != SIGKILL && sig != SIGSTOP)
            (void)sigaction(sig, &sa, NULL);
    sigemptyset(&none);
    (void)sigprocmask(SIG_SETMASK, &none, NULL);

    /* Move sources out of the way first, in case they are 0, 1 or 2 themselves. */
    for (int i = 0; i < 3; i++)
        if ((tmp[i] = want[i]) >= 0 && (tmp[i] = fcntl(want[i], F_DUPFD_CLOEXEC, 3)) < 0)
            spawn_child_fail(errfd, SPAWN_STAGE_DUP, want[i]);
    for (int i = 0; i < 3; i++)
        if (tmp[i] >= 0 && dup2(tmp[i], i) < 0)
            spawn_child_fail(errfd, SPAWN_STAGE_DUP, want[i]);
    (void)close_range(3, ~0U, CLOSE_RANGE_CLOEXEC);

    if (geteuid() == 0) {
        if (attr->gid != (gid_t)-1 && (setgroups(1, &attr->gid) < 0 || setgid(attr->gid) < 0))
            spawn_child_fail(errfd, SPAWN_STAGE_SETGID, (long)attr->gid);
        if (attr->uid != (uid_t)-1 && setuid(attr->uid) < 0)
            spawn_child_fail(errfd, SPAWN_STAGE_SETUID, (long)attr->uid);
    }
    if (attr->cwd && chdir(attr->cwd) < 0)
        spawn_child_fail(errfd, SPAWN_STAGE_CHDIR, 0);
    environ = envp;
    execvp(attr->argv[0], attr->argv);
    spawn_child_fail(errfd, SPAWN_STAGE_EXEC, 0);
}

/* Does the child exit before the deadline? It is not reaped here. */
static bool spawn_exited_by(pid_t pid, int64_t deadline)
{
    int pidfd = -1;
    bool exited = false;

#ifdef SYS_pidfd_open
    pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
#endif
    for (;;) {
        siginfo_t info = {.si_pid = 0};

        if (waitid(P_PID, (id_t)pid, &info, WEXITED | WNOHANG | WNOWAIT) == 0 && info.si_pid == pid) {
            exited = true;
            break;
        }
        int64_t left = deadline - iostuff_clock_ms();

        if (left <= 0)
            break;
        /* A pidfd becomes readable when the child exits; without one, look every few ms. */
        if (pidfd >= 0)
            (void)read_wait(pidfd, (int)left);
        else
            (void)poll(NULL, 0, left < 10 ? (int)left : 10);
    }
    if (pidfd >= 0)
        (void)close(pidfd);
    return exited;
}

/* Wait for a started child; at the deadline (0: none), kill its process group first. */
int spawn_wait(SPAWN_RESULT *result, int64_t deadline)
{
    pid_t pid = result->pid;

    if (deadline > 0 && !spawn_exited_by(pid, deadline)) {
        (void)kill(-pid, SIGKILL);
        (void)kill(pid, SIGKILL);
        result->timed_out = true;
    }
    while (waitpid(pid, &result->status, 0) < 0)
        if (errno != EINTR)
            return -1;
    return 0;
}

/* Start attr->argv without waiting for it; see spawn.h. */
int spawn_start(const SPAWN_ATTR *attr, SPAWN_RESULT *result, VSTRING *why)
{
    int errpipe[2];
    SPAWN_FAILURE rec;

    result->pid = -1;
    result->status = 0;
    result->timed_out = false;
    vstring_reset(why);
    if (attr->argv == NULL || attr->argv[0] == NULL || attr->argv[0][0] == 0)
        return spawn_error(why, EINVAL, "empty command");
    if (attr->uid != (uid_t)-1 && attr->gid == (gid_t)-1)
        return spawn_error(why, EINVAL, "user ID %ld without group ID", (long)attr->uid);
    if (pipe2(errpipe, O_CLOEXEC) < 0)
        return spawn_error(why, errno, "pipe: %m");

    ARGV *env = spawn_env(attr->export_env, attr->env);
    pid_t pid = fork();

    if (pid == 0)
        spawn_child(attr, env->argv, errpipe[1]);
    int fork_errno = errno;

    argv_free(env);
    (void)close(errpipe[1]);
    if (pid < 0) {
        (void)close(errpipe[0]);
        return spawn_error(why, fork_errno, "fork: %m");
    }
    result->pid = pid;
    /* Also here, so the group exists even if we must kill it before the child ran. */
    (void)setpgid(pid, pid);

    ssize_t n;

    while ((n = read(errpipe[0], &rec, sizeof(rec))) < 0 && errno == EINTR)
        /* void */;
    (void)close(errpipe[0]);
    if (n == (ssize_t)sizeof(rec)) {
        while (waitpid(pid, &result->status, 0) < 0 && errno == EINTR)
            /* void */;
        switch (rec.stage) {
        case SPAWN_STAGE_DUP:
            return spawn_error(why, rec.err, "cannot set up descriptor %ld: %m", rec.value);
        case SPAWN_STAGE_SETGID:
            return spawn_error(why, rec.err, "cannot set group ID %ld: %m", rec.value);
        case SPAWN_STAGE_SETUID:
            return spawn_error(why, rec.err, "cannot set user ID %ld: %m", rec.value);
        case SPAWN_STAGE_CHDIR:
            return spawn_error(why, rec.err, "cannot change directory to \"%s\": %m", attr->cwd);
        default:
            return spawn_error(why, rec.err, "cannot execute \"%s\": %m", attr->argv[0]);
        }
    }
    return 0;
}

/* Run attr->argv and wait for it; see spawn.h. */
int spawn_command(const SPAWN_ATTR *attr, SPAWN_RESULT *result, VSTRING *why)
{
    int64_t deadline = attr->time_limit_ms > 0 ? iostuff_clock_ms() + attr->time_limit_ms : 0;

    if (spawn_start(attr, result, why) < 0)
        return -1;
    if (spawn_wait(result, deadline) < 0)
        return spawn_error(why, errno, "waitpid: %m");
    return 0;
}

/* Run a command line, with or without the shell; see spawn.h. */
int spawn_shell_command(const char *command, const SPAWN_ATTR *attr, SPAWN_RESULT *result, VSTRING *why)
{
    ARGV *argv = spawn_argv(command);
    SPAWN_ATTR copy = *attr;

    copy.argv = argv->argv;
    int status = spawn_command(&copy, result, why);

    argv_free(argv);
    return status;
}
