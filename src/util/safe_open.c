/*
 * safe_open - open or create files safely. See safe_open.h.
 */
#include "sys_defs.h"

#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "iostuff.h"
#include "safe_open.h"
#include "vstring.h"

#define SAFE_OPEN_NO_USER  ((uid_t)-1)
#define SAFE_OPEN_NO_GROUP ((gid_t)-1)

static int safe_open_refuse(int fd, int err, VSTRING *why, const char *fmt, ...) PRINTFLIKE(4, 5);

/* Record why we refuse, close fd, and return -1 with errno. */
static int safe_open_refuse(int fd, int err, VSTRING *why, const char *fmt, ...)
{
    va_list ap;

    errno = err;
    va_start(ap, fmt);
    vstring_vsprintf(why, fmt, ap);
    va_end(ap);
    if (fd >= 0)
        (void)close(fd);
    errno = err;
    return -1;
}

/* Is the name still bound to the file we have open? Fills in why if not. */
static int safe_open_same_file(int fd, const char *path, const struct stat *st, VSTRING *why)
{
    struct stat lst;

    if (lstat(path, &lst) < 0) {
        if (errno == ENOENT)
            return safe_open_refuse(fd, ENOENT, why, "file was removed");
        return safe_open_refuse(fd, errno, why, "cannot lstat file: %m");
    }
    if (S_ISLNK(lst.st_mode))
        return safe_open_refuse(fd, ELOOP, why, "file is a symbolic link");
    if (lst.st_dev != st->st_dev || lst.st_ino != st->st_ino)
        return safe_open_refuse(fd, EAGAIN, why, "file was replaced");
    return 0;
}

/* Check an existing file that we opened; returns fd or -1. */
static int safe_open_existing(int fd, const char *path, int flags, struct stat *st, uid_t user, gid_t group,
                              VSTRING *why)
{
    if (fstat(fd, st) < 0)
        return safe_open_refuse(fd, errno, why, "cannot fstat file: %m");
    if (!S_ISREG(st->st_mode))
        return safe_open_refuse(fd, EINVAL, why, "file is not a regular file");
    if (st->st_nlink != 1) {
        if (st->st_nlink == 0)
            return safe_open_refuse(fd, ENOENT, why, "file was removed");
        return safe_open_refuse(fd, EMLINK, why, "file has %lu hard links", (unsigned long)st->st_nlink);
    }
    if (safe_open_same_file(fd, path, st, why) < 0)
        return -1;
    if (user != SAFE_OPEN_NO_USER && st->st_uid != user)
        return safe_open_refuse(fd, EPERM, why, "file is owned by uid %ld, not uid %ld", (long)st->st_uid,
                                (long)user);
    if (group != SAFE_OPEN_NO_GROUP && st->st_gid != group)
        return safe_open_refuse(fd, EPERM, why, "file has group id %ld, not gid %ld", (long)st->st_gid,
                                (long)group);
    if ((flags & O_TRUNC) && st->st_size > 0) {
        if (ftruncate(fd, 0) < 0)
            return safe_open_refuse(fd, errno, why, "cannot truncate file: %m");
        st->st_size = 0;
    }
    return fd;
}

/* Give a file we just created its owner; returns fd or -1 (the file is removed). */
static int safe_open_created(int fd, const char *path, struct stat *st, uid_t user, gid_t group, VSTRING *why)
{
    if (fstat(fd, st) < 0)
        return safe_open_refuse(fd, errno, why, "cannot fstat file: %m");
    if ((user != SAFE_OPEN_NO_USER && user != st->st_uid) ||
        (group != SAFE_OPEN_NO_GROUP && group != st->st_gid)) {
        if (fchown(fd, user, group) < 0 || fstat(fd, st) < 0) {
            int err = errno;
            struct stat lst;

            /* Do not leave a file with the wrong owner behind, but remove only ours. */
            if (lstat(path, &lst) == 0 && lst.st_dev == st->st_dev && lst.st_ino == st->st_ino)
                (void)unlink(path);
            errno = err;
            return safe_open_refuse(fd, err, why, "cannot set file owner to uid %ld gid %ld: %m", (long)user,
                                    (long)group);
        }
    }
    return fd;
}

/* Open or create path safely; see safe_open.h. */
int safe_open(const char *path, int flags, mode_t mode, struct stat *st, uid_t user, gid_t group,
              VSTRING *why)
{
    struct stat local_st;
    bool create = (flags & (O_CREAT | O_EXCL)) != 0;
    bool exclusive = (flags & O_EXCL) != 0;
    int base = (flags & ~(O_CREAT | O_EXCL | O_TRUNC)) | O_NOFOLLOW | O_CLOEXEC;
    int fd;

    if (st == NULL)
        st = &local_st;
    vstring_reset(why);

    /* Someone may create or remove the file between our attempts; try a few times. */
    for (int attempt = 0; attempt < 3; attempt++) {
        if (!exclusive) {
            /* O_NONBLOCK keeps a FIFO from blocking the open; it is refused below. */
            if ((fd = open(path, base | O_NONBLOCK)) >= 0) {
                if ((flags & O_NONBLOCK) == 0 && non_blocking(fd, false) < 0)
                    return safe_open_refuse(fd, errno, why, "cannot clear non-blocking mode: %m");
                return safe_open_existing(fd, path, flags, st, user, group, why);
            }
            if (errno == ELOOP) {
                struct stat lst;

                if (lstat(path, &lst) == 0 && S_ISLNK(lst.st_mode))
                    return safe_open_refuse(-1, ELOOP, why, "file is a symbolic link");
            }
            if (errno != ENOENT || !create)
                return safe_open_refuse(-1, errno, why, "cannot open file: %m");
        }
        if ((fd = open(path, base | O_CREAT | O_EXCL, mode)) >= 0)
            return safe_open_created(fd, path, st, user, group, why);
        if (errno != EEXIST || exclusive)
            return safe_open_refuse(-1, errno, why, "cannot create file exclusively: %m");
    }
    return safe_open_refuse(-1, EAGAIN, why, "file keeps appearing and disappearing");
}
