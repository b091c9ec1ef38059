/*
 * pipe_command - run a delivery command with the message on its standard
 * input and map its result to a delivery status. See pipe_command.h.
 *
 * The command is started with spawn_start(): its input is a pipe that
 * mail_copy() writes through a VSTREAM whose write function never blocks
 * for long: while the pipe is full it collects the command's output (so a
 * command that writes much before reading cannot deadlock with us) and
 * watches the time limit. A command that exits without reading its input
 * gives EPIPE (SIGPIPE is ignored meanwhile), which is no error by itself:
 * the exit status decides. After the message, the output is read until
 * end of file, the command's exit, or the time limit; at the limit the
 * whole process group is killed.
 *
 * Errors: the PIPE_STAT_* result with why set (see pipe_command.h).
 */
#include "sys_defs.h"

#include <errno.h>
#include <fcntl.h>
#include <paths.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "argv.h"
#include "dsn.h"
#include "iostuff.h"
#include "mail_copy.h"
#include "mail_params.h"
#include "msg.h"
#include "pipe_command.h"
#include "spawn.h"
#include "vstream.h"
#include "vstring.h"

#define PIPE_OUTPUT_MAX 2000 /* bytes of command output kept */
#define PIPE_DEF_SHELL  "/bin/sh"

/* The sysexits.h codes and what they mean for delivery (spec 4.4). */
static const SYS_EXITS_DETAIL sys_exits_table[] = {
    {64, "5.3.0", "command line usage error"},  {65, "5.6.0", "data format error"},
    {66, "5.3.0", "cannot open input"},         {67, "5.1.1", "user unknown"},
    {68, "5.1.2", "host name unknown"},         {69, "5.3.0", "service unavailable"},
    {70, "5.3.0", "internal software error"},   {71, "4.3.0", "system resource problem"},
    {72, "5.3.0", "critical OS file missing"},  {73, "5.2.0", "can't create user output file"},
    {74, "5.3.0", "input/output error"},        {75, "4.3.0", "temporary failure"},
    {76, "5.5.0", "remote error in protocol"},  {77, "5.7.0", "permission denied"},
    {78, "5.3.5", "local configuration error"},
};

/* The sysexits row for an exit code, or NULL. */
const SYS_EXITS_DETAIL *sys_exits_detail(int code)
{
    for (size_t i = 0; i < ARRAY_LEN(sys_exits_table); i++)
        if (sys_exits_table[i].code == code)
            return &sys_exits_table[i];
    return NULL;
}

/* What the input writer and the output reader share. */
typedef struct PIPE_IO {
    int out_fd;       /* the command's stdout+stderr, non-blocking */
    bool out_eof;     /* nothing more will come */
    VSTRING *output;  /* mapped and capped */
    int64_t deadline; /* iostuff_clock_ms() time; 0: none */
    bool timed_out;
} PIPE_IO;

/* Keep command output, newlines and tabs as spaces, other non-printables as "_". */
static void pipe_output_add(PIPE_IO *io, const char *buf, size_t len)
{
    for (size_t i = 0; i < len && VSTRING_LEN(io->output) < PIPE_OUTPUT_MAX; i++) {
        unsigned char ch = (unsigned char)buf[i];
        char out = ch == '\n' || ch == '\t' ? ' ' : ch < 32 || ch > 126 ? '_' : (char)ch;

        vstring_memcat(io->output, &out, 1);
    }
}

/* Read what output there is now (the descriptor is non-blocking). */
static void pipe_output_read(PIPE_IO *io)
{
    char buf[4096];
    ssize_t n;

    while (!io->out_eof) {
        if ((n = read(io->out_fd, buf, sizeof(buf))) > 0) {
            pipe_output_add(io, buf, (size_t)n);
        } else if (n == 0) {
            io->out_eof = true;
        } else if (errno != EINTR) {
            if (errno != EAGAIN)
                io->out_eof = true;
            break;
        }
    }
}

/* Milliseconds left before the deadline (-1: none), or 0 with timed_out set. */
static int pipe_time_left(PIPE_IO *io)
{
    if (io->deadline == 0)
        return -1;
    int64_t left = io->deadline - iostuff_clock_ms();

    if (left <= 0) {
        io->timed_out = true;
        return 0;
    }
    return left > 60000 ? 60000 : (int)left;
}

/* VSTREAM write function for the command's input; see the file comment. */
static ssize_t pipe_write(int fd, const void *buf, size_t len, int timeout_ms UNUSED, void *context)
{
    PIPE_IO *io = context;

    for (;;) {
        ssize_t n = write(fd, buf, len);

        if (n >= 0)
            return n;
        if (errno == EINTR)
            continue;
        if (errno != EAGAIN)
            return -1;
        int wait = pipe_time_left(io);

        if (io->timed_out) {
            errno = ETIMEDOUT;
            return -1;
        }
        struct pollfd pfd[2] = {{.fd = fd, .events = POLLOUT}, {.fd = io->out_fd, .events = POLLIN}};

        if (poll(pfd, io->out_eof ? 1 : 2, wait) > 0 && !io->out_eof && pfd[1].revents)
            pipe_output_read(io);
    }
}

/* After the message: collect output until end of file, the command's exit, or the deadline. */
static void pipe_output_finish(PIPE_IO *io, pid_t pid)
{
    int pidfd = -1;

#ifdef SYS_pidfd_open
    pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
#endif
    while (!io->out_eof) {
        int wait = pipe_time_left(io);

        if (io->timed_out)
            break;
        struct pollfd pfd[2] = {{.fd = io->out_fd, .events = POLLIN}, {.fd = pidfd, .events = POLLIN}};

        if (poll(pfd, pidfd >= 0 ? 2 : 1, wait) < 0 && errno != EINTR)
            break;
        if (pfd[0].revents)
            pipe_output_read(io);
        if (pidfd >= 0 && pfd[1].revents) {
            /* Exited; a background child may keep the pipe open, so stop with what is there. */
            pipe_output_read(io);
            break;
        }
    }
    if (pidfd >= 0)
        (void)close(pidfd);
}

/* The argument vector for attr, and the command text for messages. */
static ARGV *pipe_argv(const PIPE_COMMAND_ATTR *attr, VSTRING *cmd)
{
    ARGV *argv;

    if (attr->argv) {
        argv = argv_alloc(10);
        vstring_truncate(cmd, 0);
        for (char *const *cpp = attr->argv; *cpp; cpp++) {
            argv_add(argv, *cpp);
            vstring_sprintf_append(cmd, "%s%s", cpp == attr->argv ? "" : " ", *cpp);
        }
        return argv;
    }
    vstring_strcpy(cmd, attr->command ? attr->command : "");
    if (attr->shell && *attr->shell) {
        /* local_command_shell: every command through it ("/path/smrsh -c"; "-c" added to a bare shell). */
        argv = argv_split(attr->shell, " \t\r\n");
        if (argv->argc == 1)
            argv_add(argv, "-c");
        argv_add(argv, vstring_str(cmd));
    } else if (strpbrk(vstring_str(cmd), SPAWN_SHELL_CHARS) != NULL) {
        argv = argv_alloc(3);
        argv_add(argv, PIPE_DEF_SHELL);
        argv_add(argv, "-c");
        argv_add(argv, vstring_str(cmd));
    } else {
        argv = argv_split(vstring_str(cmd), " \t\r\n");
    }
    return argv;
}

/* The environment additions: PATH, then the caller's entries. */
static ARGV *pipe_env(const PIPE_COMMAND_ATTR *attr)
{
    ARGV *env = argv_alloc(10);

    argv_add(env, "PATH=" _PATH_DEFPATH);
    for (const char *const *cpp = attr->env; cpp && *cpp; cpp++)
        argv_add(env, *cpp);
    return env;
}

/* Map a finished command to a delivery status; see pipe_command.h. */
static int pipe_result(const SPAWN_RESULT *res, bool timed_out, int write_err, const char *cmd,
                       const VSTRING *output, DSN_BUF *why)
{
    const char *out = vstring_str(output);
    const char *sep = *out ? ". Command output: " : "";
    const SYS_EXITS_DETAIL *dp;
    size_t len;

    if (timed_out) {
        dsb_unix(why, "5.3.0", "Command time limit exceeded: \"%s\"%s%s", cmd, sep, out);
        return PIPE_STAT_BOUNCE;
    }
    if (WIFSIGNALED(res->status)) {
        dsb_unix(why, "4.3.0", "Command died with signal %d: \"%s\"%s%s", WTERMSIG(res->status), cmd, sep,
                 out);
        return PIPE_STAT_DEFER;
    }
    int code = WIFEXITED(res->status) ? WEXITSTATUS(res->status) : 255;

    if (code == 0) {
        if (write_err != 0 && write_err != EPIPE) {
            errno = write_err;
            dsb_unix(why, "4.3.0", "error writing message to command: %m");
            return PIPE_STAT_DEFER;
        }
        dsb_simple(why, "2.0.0", "%s", out);
        return PIPE_STAT_OK;
    }
    if ((len = dsn_status_len(out)) > 0 && (out[0] == '4' || out[0] == '5')) {
        VSTRING *status = vstring_strncpy(vstring_alloc(10), out, len);
        const char *text = out + len + strspn(out + len, " ");

        dsb_unix(why, vstring_str(status), "%s", text);
        vstring_free(status);
        return out[0] == '4' ? PIPE_STAT_DEFER : PIPE_STAT_BOUNCE;
    }
    if ((dp = sys_exits_detail(code)) != NULL) {
        dsb_unix(why, dp->dsn, "%s%s%s", dp->text, sep, out);
        return dp->dsn[0] == '4' ? PIPE_STAT_DEFER : PIPE_STAT_BOUNCE;
    }
    dsb_unix(why, "5.3.0", "Command died with status %d: \"%s\"%s%s", code, cmd, sep, out);
    return PIPE_STAT_BOUNCE;
}

/* Run a command with the message as input; see pipe_command.h. */
int pipe_command(VSTREAM *src, off_t src_offset, DSN_BUF *why, const PIPE_COMMAND_ATTR *attr)
{
    VSTRING *cmd = vstring_alloc(100);
    VSTRING *reason = vstring_alloc(100);
    ARGV *argv = pipe_argv(attr, cmd);
    ARGV *export = argv_split(var_export_environment ? var_export_environment : "", ", \t\r\n");
    ARGV *env = pipe_env(attr);
    PIPE_IO io = {.out_fd = -1, .output = vstring_alloc(100)};
    SPAWN_RESULT res;
    int in[2] = {-1, -1};
    int out[2] = {-1, -1};
    int status;

    dsb_reset(why);
    if (attr->out)
        vstring_truncate(attr->out, 0);
    if (attr->uid == 0) {
        msg_warn("refusing to run command \"%s\" with root privileges", vstring_str(cmd));
        dsb_unix(why, "4.3.0", "mail system configuration error");
        status = PIPE_STAT_DEFER;
        goto done;
    }
    if (argv->argc == 0) {
        dsb_unix(why, "5.3.0", "empty command");
        status = PIPE_STAT_BOUNCE;
        goto done;
    }
    if (pipe2(in, O_CLOEXEC) < 0 || pipe2(out, O_CLOEXEC) < 0) {
        dsb_unix(why, "4.3.0", "cannot create pipe: %m");
        status = PIPE_STAT_DEFER;
        goto done;
    }

    SPAWN_ATTR sattr = SPAWN_ATTR_INIT;

    sattr.argv = argv->argv;
    sattr.uid = attr->uid;
    sattr.gid = attr->gid;
    sattr.export_env = (const char *const *)export->argv;
    sattr.env = (const char *const *)env->argv;
    sattr.stdin_fd = in[0];
    sattr.stdout_fd = out[1];
    sattr.stderr_fd = out[1];
    sattr.cwd = attr->cwd ? attr->cwd : var_queue_directory;
    io.deadline = attr->time_limit > 0 ? iostuff_clock_ms() + (int64_t)attr->time_limit * 1000 : 0;
    int started = spawn_start(&sattr, &res, reason);

    /* "exit 9", "ulimit ...": a name not found on PATH may be a shell built-in. */
    if (started < 0 && errno == ENOENT && attr->argv == NULL && (attr->shell == NULL || *attr->shell == 0) &&
        strchr(argv->argv[0], '/') == NULL) {
        argv_truncate(argv, 0);
        argv_add(argv, PIPE_DEF_SHELL);
        argv_add(argv, "-c");
        argv_add(argv, vstring_str(cmd));
        sattr.argv = argv->argv;
        started = spawn_start(&sattr, &res, reason);
    }
    if (started < 0) {
        msg_warn("command \"%s\": %s", vstring_str(cmd), vstring_str(reason));
        dsb_unix(why, "4.3.0", "%s", vstring_str(reason));
        status = PIPE_STAT_DEFER;
        goto done;
    }
    (void)close(in[0]);
    (void)close(out[1]);
    in[0] = out[1] = -1;
    io.out_fd = out[0];
    (void)non_blocking(in[1], true);
    (void)non_blocking(out[0], true);

    /* Write the message; a command that stops reading must not kill us with SIGPIPE. */
    struct sigaction ign = {.sa_handler = SIG_IGN};
    struct sigaction saved;
    DSN_BUF *copy_why = dsb_create();

    sigemptyset(&ign.sa_mask);
    (void)sigaction(SIGPIPE, &ign, &saved);
    VSTREAM *dst = vstream_fdopen(in[1], O_WRONLY);

    in[1] = -1;
    (void)vstream_set_io(dst, NULL, pipe_write, &io);
    int copy_status = mail_copy(attr->sender ? attr->sender : "", attr->orig_rcpt, attr->delivered, src,
                                src_offset, dst, attr->copy_flags & ~MAIL_COPY_TOFILE, attr->eol, copy_why);
    int write_err = (copy_status & MAIL_COPY_STAT_WRITE) ? errno : 0;

    (void)vstream_fclose(dst);
    (void)sigaction(SIGPIPE, &saved, NULL);

    /* A message we could not read completely must not be delivered in part. */
    if (copy_status & (MAIL_COPY_STAT_CORRUPT | MAIL_COPY_STAT_READ)) {
        (void)kill(-res.pid, SIGKILL);
        (void)kill(res.pid, SIGKILL);
    } else if (!io.timed_out) {
        pipe_output_finish(&io, res.pid);
    }
    if (io.timed_out) {
        (void)kill(-res.pid, SIGKILL);
        (void)kill(res.pid, SIGKILL);
    }
    if (spawn_wait(&res, io.deadline) < 0)
        msg_warn("waitpid %ld: %m", (long)res.pid);

    while (VSTRING_LEN(io.output) > 0 && vstring_end(io.output)[-1] == ' ')
        vstring_truncate(io.output, VSTRING_LEN(io.output) - 1);
    if (attr->out)
        vstring_strcpy(attr->out, vstring_str(io.output));

    if (copy_status & (MAIL_COPY_STAT_CORRUPT | MAIL_COPY_STAT_READ)) {
        dsb_simple(why, vstring_str(copy_why->status), "%s", vstring_str(copy_why->reason));
        status = PIPE_STAT_CORRUPT;
    } else {
        status =
            pipe_result(&res, io.timed_out || res.timed_out, write_err, vstring_str(cmd), io.output, why);
    }
    dsb_free(copy_why);

done:
    for (int i = 0; i < 2; i++) {
        if (in[i] >= 0)
            (void)close(in[i]);
        if (out[i] >= 0)
            (void)close(out[i]);
    }
    vstring_free(io.output);
    argv_free(env);
    argv_free(export);
    argv_free(argv);
    vstring_free(reason);
    vstring_free(cmd);
    return status;
}
