/*
 * master_spawn - service processes: start them on demand, follow their
 * status records, reap them, enforce process limits and throttle services
 * whose program fails at startup.
 *
 * A listener is watched only while its service has no available process,
 * is below its process limit and is not throttled; when it turns readable
 * one process is started (it counts as available until it says it is
 * busy). Processes report MASTER_STAT_TAKEN/AVAIL on the service's status
 * socketpair (master_proto.h).
 *
 * Errors: a fork failure throttles the service ("PATH: fork: ... --
 * throttling"); a process that exits abnormally before serving anything
 * throttles it ("PATH: bad command startup -- throttling") for
 * service_throttle_time. Abnormal exits are logged as "process PATH pid N
 * exit status S" or "... killed by signal N".
 */
#include "sys_defs.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "events.h"
#include "htable.h"
#include "iostuff.h"
#include "mail_conf.h"
#include "mail_params.h"
#include "master.h"
#include "msg.h"
#include "mymalloc.h"

/* How often the process-limit warning may repeat, per service (seconds). */
#define MASTER_BUSY_WARN_TIME 1000

static HTABLE *master_procs; /* pid text -> MASTER_PROC */

static void master_listen_event(int event, void *context);

/* True when the service may have another process. */
static bool master_limit_ok(const MASTER_SERV *serv)
{
    return serv->max_proc == 0 || serv->total_proc < serv->max_proc;
}

/* The in_flow_delay token pipe, the same for every process (mail_flow.h). */
static int master_flow_pipe[2];

void master_spawn_init(void)
{
    master_procs = htable_create(100, 0);
    if (pipe2(master_flow_pipe, O_CLOEXEC | O_NONBLOCK) < 0)
        msg_fatal("pipe: %m");
}

void master_listen_off(MASTER_SERV *serv)
{
    if (serv->listen_fn == NULL)
        return;
    for (int i = 0; i < serv->listen_count; i++)
        event_disable_readwrite(serv->listen_fds[i]);
    serv->listen_fn = NULL;
}

/* At the process limit a client is waiting: say so, now and then. */
static void master_overflow_event(int event UNUSED, void *context)
{
    MASTER_SERV *serv = context;

    master_listen_off(serv);
    serv->busy_warn_time = time(NULL);
    msg_warn("service \"%s\" (%s) has reached its process limit \"%d\": "
             "new clients may experience noticeable delays",
             serv->name, serv->endpoint, serv->max_proc);
    msg_warn("to avoid this condition, increase the process count in master.cf or reduce the "
             "service time per client");
}

/*
 * Watch the listeners exactly when a new process may be needed. At the
 * process limit of an inet service, watch them once more to notice a
 * client that has to wait (the warning repeats at most every
 * MASTER_BUSY_WARN_TIME). Internal services (unix, fifo) are at their
 * limit by design: qmgr and pickup (limit 1) get wakeups while they
 * work, and the queue manager keeps delivery agents at theirs.
 */
void master_avail_listen(MASTER_SERV *serv)
{
    bool want = !serv->throttled && serv->avail_proc < 1 && master_limit_ok(serv);
    bool busy = !serv->throttled && serv->avail_proc < 1 && !master_limit_ok(serv) &&
                strcmp(serv->type, "inet") == 0 &&
                (serv->busy_warn_time == 0 || time(NULL) - serv->busy_warn_time >= MASTER_BUSY_WARN_TIME);

    EVENT_NOTIFY_FN fn = want ? master_listen_event : busy ? master_overflow_event : NULL;

    if (serv->listen_count == 0 || serv->listen_fn == fn)
        return;
    master_listen_off(serv);
    if (fn != NULL) {
        for (int i = 0; i < serv->listen_count; i++)
            event_enable_read(serv->listen_fds[i], fn, serv);
        serv->listen_fn = fn;
    }
}

/* The throttle period is over: accept clients again. */
static void master_unthrottle_event(int event UNUSED, void *context)
{
    MASTER_SERV *serv = context;

    if (msg_verbose)
        msg_info("throttle released for command %s", serv->path);
    serv->throttled = false;
    master_avail_listen(serv);
}

/* Stop serving for service_throttle_time. */
static void master_throttle(MASTER_SERV *serv)
{
    serv->throttled = true;
    master_avail_listen(serv);
    event_request_timer(master_unthrottle_event, serv, var_service_throttle_time * 1000);
}

void master_unthrottle_cancel(MASTER_SERV *serv)
{
    (void)event_cancel_timer(master_unthrottle_event, serv);
}

/* Mark every descriptor from FIRST on close-on-exec. */
static void master_cloexec_from(int first)
{
#ifdef SYS_close_range
    if (syscall(SYS_close_range, (unsigned)first, ~0U, 4 /* CLOSE_RANGE_CLOEXEC */) == 0)
        return;
#endif
    for (int fd = first; fd < 4096; fd++)
        (void)fcntl(fd, F_SETFD, FD_CLOEXEC);
}

/* In the child: descriptors, signals and environment, then exec. */
static NORETURN master_exec(MASTER_SERV *serv)
{
    int top = MASTER_LISTEN_FD + serv->listen_count + 10;
    int status_fd;
    int flow_fd[2];
    int *fds = mymalloc(sizeof(int) * (size_t)(serv->listen_count + 1));
    int null_fd;
    char buf[32];
    struct sigaction sa;
    sigset_t none;

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = SIG_DFL;
    sigemptyset(&sa.sa_mask);
    for (int sig = 1; sig < NSIG; sig++)
        (void)sigaction(sig, &sa, NULL);
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);

    /* Lift every descriptor we hand over above the target range first. */
    if ((status_fd = fcntl(serv->status_fd[1], F_DUPFD, top)) < 0 ||
        (flow_fd[0] = fcntl(master_flow_pipe[0], F_DUPFD, top)) < 0 ||
        (flow_fd[1] = fcntl(master_flow_pipe[1], F_DUPFD, top)) < 0)
        msg_fatal("dup status or flow descriptor: %m");
    for (int i = 0; i < serv->listen_count; i++)
        if ((fds[i] = fcntl(serv->listen_fds[i], F_DUPFD, top)) < 0)
            msg_fatal("dup listen descriptor: %m");
    if (dup2(status_fd, MASTER_STATUS_FD) < 0 || dup2(flow_fd[0], MASTER_FLOW_READ) < 0 ||
        dup2(flow_fd[1], MASTER_FLOW_WRITE) < 0)
        msg_fatal("dup2 status or flow descriptor: %m");
    for (int i = 0; i < serv->listen_count; i++)
        if (dup2(fds[i], MASTER_LISTEN_FD + i) < 0)
            msg_fatal("dup2 listen descriptor: %m");
    if ((null_fd = open("/dev/null", O_RDWR)) < 0)
        msg_fatal("open /dev/null: %m");
    /* maillog_file = /dev/stdout (make run, containers): every process logs to the master's stdout. */
    for (int fd = 0; fd < 3; fd++)
        if (null_fd != fd && !(fd == 1 && strcmp(var_maillog_file, "/dev/stdout") == 0) &&
            dup2(null_fd, fd) < 0)
            msg_fatal("dup2 /dev/null: %m");
    master_cloexec_from(MASTER_LISTEN_FD + serv->listen_count);

    mail_conf_select(mail_conf_dir);
    snprintf(buf, sizeof(buf), "%u", serv->generation);
    setenv("MASTER_GENERATION", buf, 1);
    setenv("MAIL_LOGTAG", var_syslog_name, 1);
    if (msg_verbose)
        setenv("MAIL_VERBOSE", "1", 1);
    else
        unsetenv("MAIL_VERBOSE");
    execv(serv->path, serv->args->argv);
    msg_fatal("%s: exec: %m", serv->path);
}

/* Start one process of the service. */
static void master_spawn(MASTER_SERV *serv)
{
    MASTER_PROC *proc;
    char key[32];
    pid_t pid;

    if ((pid = fork()) < 0) {
        msg_warn("%s: fork: %m -- throttling", serv->path);
        master_throttle(serv);
        return;
    }
    if (pid == 0)
        master_exec(serv);
    proc = mymalloc(sizeof(*proc));
    proc->pid = pid;
    proc->serv = serv;
    proc->path = mystrdup(serv->path);
    proc->generation = serv->generation;
    proc->avail = true;
    proc->use_count = 0;
    proc->killed = false;
    snprintf(key, sizeof(key), "%ld", (long)pid);
    htable_enter(master_procs, key, proc);
    serv->total_proc++;
    serv->avail_proc++;
    if (msg_verbose)
        msg_info("spawn %s pid %ld for %s", serv->path, (long)pid, serv->key);
    master_avail_listen(serv);
}

/* A listener is readable and no process is available. */
static void master_listen_event(int event UNUSED, void *context)
{
    MASTER_SERV *serv = context;

    master_wakeup_used(serv);
    if (serv->throttled || serv->avail_proc > 0 || !master_limit_ok(serv)) {
        master_avail_listen(serv);
        return;
    }
    master_spawn(serv);
}

/* Apply one status record. */
static void master_status_apply(MASTER_SERV *serv, const MASTER_STATUS *stat)
{
    char key[32];
    MASTER_PROC *proc;

    snprintf(key, sizeof(key), "%ld", (long)stat->pid);
    if ((proc = htable_find(master_procs, key)) == NULL || proc->serv != serv ||
        proc->generation != stat->generation) {
        if (msg_verbose)
            msg_info("status record for unknown process %ld", (long)stat->pid);
        return;
    }
    if (stat->avail == MASTER_STAT_AVAIL) {
        if (!proc->avail) {
            proc->avail = true;
            serv->avail_proc++;
        }
    } else if (stat->avail == MASTER_STAT_TAKEN) {
        if (proc->avail) {
            proc->avail = false;
            serv->avail_proc--;
        }
        proc->use_count++;
    } else {
        msg_warn("process %ld: bad status %d", (long)stat->pid, stat->avail);
    }
}

/* Status records from the service's processes. */
static void master_status_event(int event UNUSED, void *context)
{
    MASTER_SERV *serv = context;
    ssize_t n;

    /* Every record that has arrived, several per read; a partial one waits. */
    for (;;) {
        size_t room = sizeof(serv->status_buf) - serv->status_len;
        size_t done = 0;

        n = read(serv->status_fd[0], serv->status_buf + serv->status_len, room);
        if (n <= 0)
            break;
        serv->status_len += (size_t)n;
        for (; serv->status_len - done >= sizeof(MASTER_STATUS); done += sizeof(MASTER_STATUS)) {
            MASTER_STATUS stat;

            memcpy(&stat, serv->status_buf + done, sizeof(stat));
            master_status_apply(serv, &stat);
        }
        serv->status_len -= done;
        memmove(serv->status_buf, serv->status_buf + done, serv->status_len);
        if ((size_t)n < room)
            break; /* a short read: nothing more is waiting */
    }
    master_avail_listen(serv);
}

void master_status_open(MASTER_SERV *serv)
{
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, serv->status_fd) < 0)
        msg_fatal("socketpair: %m");
    (void)non_blocking(serv->status_fd[0], true);
    serv->status_len = 0;
    serv->generation = master_generation;
    event_enable_read(serv->status_fd[0], master_status_event, serv);
}

void master_status_close(MASTER_SERV *serv)
{
    if (serv->status_fd[0] < 0)
        return;
    event_disable_readwrite(serv->status_fd[0]);
    (void)close(serv->status_fd[0]);
    (void)close(serv->status_fd[1]);
    serv->status_fd[0] = serv->status_fd[1] = -1;
}

void master_retire_procs(MASTER_SERV *serv, bool terminate)
{
    HTABLE_INFO **list = htable_list(master_procs);

    for (HTABLE_INFO **ht = list; *ht; ht++) {
        MASTER_PROC *proc = (*ht)->value;

        if (proc->serv != serv)
            continue;
        proc->serv = NULL;
        if (terminate) {
            proc->killed = true;
            (void)kill(proc->pid, SIGTERM);
        }
    }
    myfree(list);
    serv->total_proc = serv->avail_proc = 0;
}

/* Forget one process record. */
static void master_proc_free(void *ptr)
{
    MASTER_PROC *proc = ptr;

    myfree(proc->path);
    myfree(proc);
}

void master_reap(void)
{
    char key[32];
    int status;
    pid_t pid;

    while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
        MASTER_PROC *proc;
        MASTER_SERV *serv;
        bool bad = false;

        snprintf(key, sizeof(key), "%ld", (long)pid);
        if ((proc = htable_find(master_procs, key)) == NULL)
            continue;
        if (WIFEXITED(status) && WEXITSTATUS(status) != 0) {
            bad = true;
            if (!proc->killed)
                msg_warn("process %s pid %ld exit status %d", proc->path, (long)pid, WEXITSTATUS(status));
        } else if (WIFSIGNALED(status)) {
            bad = true;
            if (!proc->killed)
                msg_warn("process %s pid %ld killed by signal %d", proc->path, (long)pid, WTERMSIG(status));
        }
        if ((serv = proc->serv) != NULL) {
            serv->total_proc--;
            if (proc->avail)
                serv->avail_proc--;
            if (bad && proc->use_count == 0 && !serv->throttled) {
                msg_warn("%s: bad command startup -- throttling", serv->path);
                master_throttle(serv);
            }
            master_avail_listen(serv);
        }
        htable_delete(master_procs, key, master_proc_free);
    }
}

void master_kill_all(int sig)
{
    HTABLE_INFO **list = htable_list(master_procs);

    for (HTABLE_INFO **ht = list; *ht; ht++) {
        MASTER_PROC *proc = (*ht)->value;

        proc->killed = true;
        (void)kill(proc->pid, sig);
    }
    myfree(list);
}
