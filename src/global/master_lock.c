/*
 * master_lock - the master's instance lock. See master_lock.h.
 */
#include "sys_defs.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "mail_params.h"
#include "mail_queue.h"
#include "master_lock.h"
#include "msg.h"
#include "myflock.h"
#include "mymalloc.h"
#include "vstring.h"

/* Open and try to lock a file; returns the fd, or -1 when it is locked. */
static int master_lock_file(const char *path)
{
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);

    if (fd < 0)
        msg_fatal("open lock file %s: %m", path);
    if (myflock(fd, MYFLOCK_METHOD_FLOCK, MYFLOCK_OP_EXCLUSIVE | MYFLOCK_OP_NOWAIT) < 0) {
        if (errno != EAGAIN)
            msg_fatal("lock %s: %m", path);
        close(fd);
        return -1;
    }
    return fd;
}

int master_lock_acquire(void)
{
    char *pid_path = mail_queue_pid_path();
    VSTRING *data_lock = vstring_alloc(100);
    char text[40];
    int fd;
    int len;

    if ((fd = master_lock_file(pid_path)) < 0) {
        myfree(pid_path);
        return -1;
    }
    len = snprintf(text, sizeof(text), "%32ld\n", (long) getpid());
    if (ftruncate(fd, 0) < 0 || pwrite(fd, text, (size_t) len, 0) != len)
        msg_fatal("write %s: %m", pid_path);
    vstring_sprintf(data_lock, "%s/master.lock", var_data_directory);
    if (master_lock_file(vstring_str(data_lock)) < 0)
        return -1;
    myfree(pid_path);
    vstring_free(data_lock);
    return 0;
}

pid_t master_lock_owner(void)
{
    char *pid_path = mail_queue_pid_path();
    char text[40];
    ssize_t len;
    pid_t pid = 0;
    int fd;

    if ((fd = open(pid_path, O_RDONLY | O_CLOEXEC)) >= 0) {
        if (myflock(fd, MYFLOCK_METHOD_FLOCK, MYFLOCK_OP_SHARED | MYFLOCK_OP_NOWAIT) < 0 && errno == EAGAIN &&
            (len = pread(fd, text, sizeof(text) - 1, 0)) > 0) {
            text[len] = 0;
            pid = (pid_t) atol(text);
        }
        close(fd);
    }
    myfree(pid_path);
    return pid;
}
