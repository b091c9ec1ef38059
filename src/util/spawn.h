/*
 * spawn - run a command in a child process and wait for it, with a clean
 * environment, chosen privileges and descriptors, and a time limit.
 *
 * Public functions:
 *   spawn_command(attr, result, why)  fork+exec attr->argv and wait
 *   spawn_start(attr, result, why)     fork+exec attr->argv without waiting
 *                                     (result->pid set; attr->time_limit_ms
 *                                     is not used), for callers that talk to
 *                                     the command while it runs
 *   spawn_wait(result, deadline)      wait for a started command; at deadline
 *                                     (iostuff_clock_ms() time, 0: none)
 *                                     kill its process group first
 *   spawn_shell_command(command, attr, result, why)
 *                                     the same for a command line: through
 *                                     /bin/sh -c when it has shell
 *                                     metacharacters, exec'd directly when not
 *   spawn_argv(command)               the argument vector that would be used
 *   spawn_env(names, additions)       the environment that would be exported
 *
 * The child starts from an empty environment. Entries of attr->export_env
 * and then attr->env are "NAME" (copy NAME from our environment, if set) or
 * "NAME=VALUE" (set it); a later entry for the same name wins. The command
 * is looked up in the PATH of that new environment (a default path when
 * none). The child gets its own process group, default signal handling,
 * and no descriptors other than 0, 1 and 2. With uid/gid set, the child
 * switches to them (and gid as its only group) before exec, but only when
 * we run as root: in rootless mode the command runs as ourselves.
 *
 * When the time limit expires, the whole process group is killed with
 * SIGKILL and result->timed_out is set; result->status is the wait status
 * as from waitpid().
 *
 * Errors: spawn_command() returns 0 when the command ran (whatever its exit
 * status) and -1 with errno and a reason in why when it could not be
 * started: "cannot execute \"prog\": No such file or directory", "cannot
 * set user ID 8: ...", "fork: ..."; spawn_start() the same once exec
 * succeeded or failed. spawn_wait() returns -1 with errno when waitpid()
 * fails. Do not ignore SIGCHLD (SIG_IGN) in a
 * process that spawns: the child could not be waited for.
 */
#ifndef SPAWN_H
#define SPAWN_H

#include <sys/types.h>

#include "argv.h"
#include "sys_defs.h"
#include "vstring.h"

typedef struct SPAWN_ATTR {
    char *const *argv;             /* command and arguments, NULL-terminated */
    uid_t uid;                     /* (uid_t) -1: keep ours */
    gid_t gid;                     /* (gid_t) -1: keep ours; required with uid */
    const char *const *export_env; /* "NAME" or "NAME=VALUE", NULL-terminated, or NULL */
    const char *const *env;        /* more of the same, applied after export_env */
    int stdin_fd;                  /* -1: inherit ours */
    int stdout_fd;
    int stderr_fd;
    int time_limit_ms; /* 0 or less: none */
    const char *cwd;   /* NULL: ours */
} SPAWN_ATTR;

/* Start with this and set what you need. */
#define SPAWN_ATTR_INIT                                                                                      \
    {                                                                                                        \
        .uid = (uid_t)-1, .gid = (gid_t)-1, .stdin_fd = -1, .stdout_fd = -1, .stderr_fd = -1                 \
    }

typedef struct SPAWN_RESULT {
    pid_t pid;
    int status;     /* wait status */
    bool timed_out; /* killed at the time limit */
} SPAWN_RESULT;

/* Characters that make spawn_argv() use the shell. */
#define SPAWN_SHELL_CHARS "\"'`\\$;&|<>()[]{}*?~#=!\n"

extern int spawn_command(const SPAWN_ATTR *attr, SPAWN_RESULT *result, VSTRING *why);
extern int spawn_start(const SPAWN_ATTR *attr, SPAWN_RESULT *result, VSTRING *why);
extern int spawn_wait(SPAWN_RESULT *result, int64_t deadline);
extern int spawn_shell_command(const char *command, const SPAWN_ATTR *attr, SPAWN_RESULT *result,
                               VSTRING *why);
extern ARGV *spawn_argv(const char *command);
extern ARGV *spawn_env(const char *const *export_env, const char *const *env);

#endif
