/*
 * myflock - file locking by method. See myflock.h.
 */
#include "sys_defs.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "msg.h"
#include "myflock.h"
#include "vstring.h"

/* Lock or unlock with flock(2). */
static int myflock_flock(int fd, int op)
{
    int how = (op & MYFLOCK_OP_EXCLUSIVE) ? LOCK_EX : (op & MYFLOCK_OP_SHARED) ? LOCK_SH : LOCK_UN;

    if (how != LOCK_UN && (op & MYFLOCK_OP_NOWAIT))
        how |= LOCK_NB;
    while (flock(fd, how) < 0) {
        if (errno != EINTR)
            return -1;
    }
    return 0;
}

/* Lock or unlock the whole file with fcntl(2) record locks. */
static int myflock_fcntl(int fd, int op)
{
    struct flock lock = {.l_whence = SEEK_SET, .l_start = 0, .l_len = 0};
    int cmd = (op & MYFLOCK_OP_NOWAIT) || op == MYFLOCK_OP_NONE ? F_SETLK : F_SETLKW;

    lock.l_type = (op & MYFLOCK_OP_EXCLUSIVE) ? F_WRLCK : (op & MYFLOCK_OP_SHARED) ? F_RDLCK : F_UNLCK;
    while (fcntl(fd, cmd, &lock) < 0) {
        if (errno == EACCES)
            errno = EAGAIN; /* POSIX allows either for "held by someone else" */
        if (errno != EINTR)
            return -1;
    }
    return 0;
}

/* Lock or unlock an open file; see myflock.h. */
int myflock(int fd, int method, int op)
{
    int mode = op & ~MYFLOCK_OP_NOWAIT;

    if (mode != MYFLOCK_OP_NONE && mode != MYFLOCK_OP_SHARED && mode != MYFLOCK_OP_EXCLUSIVE)
        msg_panic("myflock: bad lock operation 0x%x", (unsigned)op);
    switch (method) {
    case MYFLOCK_METHOD_FLOCK:
        return myflock_flock(fd, op);
    case MYFLOCK_METHOD_FCNTL:
        return myflock_fcntl(fd, op);
    default:
        msg_panic("myflock: method %d does not lock descriptors", method);
    }
}

/* The lock file name for path. */
static VSTRING *myflock_lock_name(VSTRING *buf, const char *path)
{
    return vstring_sprintf(buf, "%s.lock", path);
}

/* Create path.lock exclusively; see myflock.h. */
int myflock_dotlock(const char *path, int stale_age, VSTRING *why)
{
    VSTRING *lock = myflock_lock_name(vstring_alloc(100), path);
    int status = -1;

    vstring_reset(why);
    for (int attempt = 0; attempt < 2; attempt++) {
        int fd = open(vstring_str(lock), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);

        if (fd >= 0) {
            char pid[32];
            int len = snprintf(pid, sizeof(pid), "%ld\n", (long)getpid());

            /* The PID is only a hint for people; the lock is the file itself. */
            (void)!write(fd, pid, (size_t)len);
            (void)close(fd);
            status = 0;
            break;
        }
        if (errno != EEXIST) {
            int err = errno;

            vstring_sprintf(why, "cannot create lock file %s: %m", vstring_str(lock));
            errno = err;
            break;
        }
        struct stat st;

        /* A holder that died leaves its lock behind; after stale_age it is fair game. */
        if (attempt == 0 && stale_age > 0 && lstat(vstring_str(lock), &st) == 0 &&
            time(NULL) - st.st_mtime > stale_age) {
            msg_warn("removing stale lock file %s", vstring_str(lock));
            if (unlink(vstring_str(lock)) == 0 || errno == ENOENT)
                continue;
        }
        vstring_sprintf(why, "lock file %s exists", vstring_str(lock));
        errno = EAGAIN;
        break;
    }
    int err = errno;

    vstring_free(lock);
    errno = err;
    return status;
}

/* Remove path.lock; -1 with errno if that fails. */
int myflock_dotunlock(const char *path)
{
    VSTRING *lock = myflock_lock_name(vstring_alloc(100), path);
    int status = unlink(vstring_str(lock));
    int err = errno;

    vstring_free(lock);
    errno = err;
    return status;
}

static const char *const myflock_names[] = {"flock", "fcntl", "dotlock", NULL};

/* The available method names, NULL-terminated, in preference order. */
const char *const *myflock_methods(void)
{
    return myflock_names;
}

/* Map a method name to MYFLOCK_METHOD_*; -1 if unknown. */
int myflock_method(const char *name)
{
    static const int methods[] = {MYFLOCK_METHOD_FLOCK, MYFLOCK_METHOD_FCNTL, MYFLOCK_METHOD_DOTLOCK};

    for (size_t i = 0; i < ARRAY_LEN(methods); i++)
        if (strcmp(name, myflock_names[i]) == 0)
            return methods[i];
    return -1;
}
