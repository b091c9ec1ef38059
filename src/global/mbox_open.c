/*
 * mbox_open - open and lock a UNIX mailbox for appending. See mbox_open.h.
 *
 * Order: the file is opened first (safe_open(), so a symlink or a hard
 * link is never followed), then dot-locked, then locked with the kernel
 * methods; its length is taken after all locks are held, because another
 * writer may have appended while we waited.
 *
 * Errors: NULL with why set (open errors: def_status or a status derived
 * from errno; lock errors: 4.2.0); unknown lock names are fatal.
 */
#include "sys_defs.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "argv.h"
#include "dsn.h"
#include "mail_params.h"
#include "mbox_open.h"
#include "msg.h"
#include "myflock.h"
#include "mymalloc.h"
#include "safe_open.h"
#include "vstream.h"
#include "vstring.h"

/* The status for a failed open with this errno (resource problems are temporary). */
static const char *mbox_open_dsn(int err, const char *def_status)
{
    switch (err) {
    case ENOSPC:
        return "4.3.0";
    case EDQUOT:
    case EFBIG:
        return "5.2.2";
    case EAGAIN:
    case ESTALE:
        return "4.2.0";
    default:
        return def_status;
    }
}

/* Pause between lock attempts. */
static void mbox_lock_pause(void)
{
    if (var_deliver_lock_delay > 0)
        (void)sleep((unsigned)var_deliver_lock_delay);
}

/* Dot-lock path, retrying; 0, 1 when skipped (directory not writable), -1 with why set. */
static int mbox_dotlock(const char *path, DSN_BUF *why)
{
    VSTRING *reason = vstring_alloc(100);
    int attempts = var_deliver_lock_attempts > 0 ? var_deliver_lock_attempts : 1;
    int status = -1;

    for (int i = 0; i < attempts; i++) {
        if (i > 0)
            mbox_lock_pause();
        if (myflock_dotlock(path, var_stale_lock_time, reason) == 0) {
            status = 0;
            break;
        }
        if (errno == EACCES || errno == EPERM || errno == EROFS) {
            /* A spool directory the user may not write to: the kernel locks must do. */
            status = 1;
            break;
        }
        if (errno != EAGAIN) {
            dsb_simple(why, mbox_open_dsn(errno, "4.2.0"), "unable to lock for exclusive access: %s",
                       vstring_str(reason));
            vstring_free(reason);
            return -1;
        }
    }
    if (status < 0) {
        errno = EAGAIN;
        dsb_simple(why, "4.2.0", "unable to lock for exclusive access: %m");
    }
    vstring_free(reason);
    return status;
}

/* Lock fd with one kernel method, retrying; 0 or -1 with why set. */
static int mbox_kernel_lock(int fd, int method, DSN_BUF *why)
{
    int attempts = var_deliver_lock_attempts > 0 ? var_deliver_lock_attempts : 1;

    for (int i = 0; i < attempts; i++) {
        if (i > 0)
            mbox_lock_pause();
        if (myflock(fd, method, MYFLOCK_OP_EXCLUSIVE | MYFLOCK_OP_NOWAIT) == 0)
            return 0;
        if (errno != EAGAIN)
            break;
    }
    dsb_simple(why, "4.2.0", "unable to lock for exclusive access: %m");
    return -1;
}

/* Undo the locks that mp holds. */
static void mbox_unlock(MBOX *mp)
{
    if (mp->locked & MBOX_FCNTL_LOCK)
        (void)myflock(vstream_fileno(mp->fp), MYFLOCK_METHOD_FCNTL, MYFLOCK_OP_NONE);
    if (mp->locked & MBOX_FLOCK_LOCK)
        (void)myflock(vstream_fileno(mp->fp), MYFLOCK_METHOD_FLOCK, MYFLOCK_OP_NONE);
    if ((mp->locked & MBOX_DOT_LOCK) && myflock_dotunlock(mp->path) < 0 && errno != ENOENT)
        msg_warn("remove lock file %s.lock: %m", mp->path);
    mp->locked = 0;
}

/* Free mp without touching locks. */
static void mbox_free(MBOX *mp)
{
    if (mp->fp && vstream_fclose(mp->fp) != 0)
        msg_warn("close %s: %m", mp->path);
    myfree(mp->path);
    myfree(mp);
}

/* Open and lock a mailbox; see mbox_open.h. */
MBOX *mbox_open(const char *path, int flags, mode_t mode, struct stat *st, uid_t uid, gid_t gid,
                int lock_mask, const char *def_status, DSN_BUF *why)
{
    VSTRING *reason = vstring_alloc(100);
    struct stat local_st;
    int fd;

    if (st == NULL)
        st = &local_st;
    dsb_reset(why);
    if ((fd = safe_open(path, flags, mode, st, uid, gid, reason)) < 0) {
        dsb_simple(why, mbox_open_dsn(errno, def_status), "%s", vstring_str(reason));
        vstring_free(reason);
        return NULL;
    }
    vstring_free(reason);

    MBOX *mp = mymalloc(sizeof(*mp));

    mp->path = mystrdup(path);
    mp->fp = vstream_fdopen(fd, flags & O_ACCMODE);
    mp->locked = 0;
    mp->orig_size = 0;

    static const struct {
        int mask;
        int method;
    } kernel_locks[] = {
        {MBOX_FCNTL_LOCK, MYFLOCK_METHOD_FCNTL},
        {MBOX_FLOCK_LOCK, MYFLOCK_METHOD_FLOCK},
    };
    int status = 0;

    if (lock_mask & MBOX_DOT_LOCK) {
        if ((status = mbox_dotlock(path, why)) == 0)
            mp->locked |= MBOX_DOT_LOCK;
    }
    for (size_t i = 0; status >= 0 && i < ARRAY_LEN(kernel_locks); i++) {
        if ((lock_mask & kernel_locks[i].mask) == 0)
            continue;
        if ((status = mbox_kernel_lock(fd, kernel_locks[i].method, why)) == 0)
            mp->locked |= kernel_locks[i].mask;
    }
    if (status >= 0 && fstat(fd, st) < 0) {
        dsb_simple(why, "4.3.0", "cannot fstat file: %m");
        status = -1;
    }
    if (status < 0) {
        mbox_unlock(mp);
        mbox_free(mp);
        return NULL;
    }
    mp->orig_size = st->st_size;
    return mp;
}

/* Cut the mailbox back to its length at open time, after a failed write. */
void mbox_truncate(MBOX *mp)
{
    /* Whatever the failed write left buffered must not reach the file later. */
    vstream_clearerr(mp->fp);
    if (ftruncate(vstream_fileno(mp->fp), mp->orig_size) < 0)
        msg_warn("truncate %s to %lld bytes: %m", mp->path, (long long)mp->orig_size);
}

/* Unlock and close a mailbox; see mbox_open.h. */
void mbox_release(MBOX *mp)
{
    mbox_unlock(mp);
    mbox_free(mp);
}

/* The MBOX_*_LOCK mask for a list of lock method names; see mbox_open.h. */
int mbox_lock_mask(const char *styles)
{
    static const struct {
        const char *name;
        int mask;
    } names[] = {
        {"flock", MBOX_FLOCK_LOCK},
        {"fcntl", MBOX_FCNTL_LOCK},
        {"dotlock", MBOX_DOT_LOCK},
    };
    /* The two parameters that hold lock lists; name the one we were given. */
    const char *param = styles == var_virtual_mailbox_lock ? "virtual_mailbox_lock" : "mailbox_delivery_lock";
    ARGV *argv = argv_split(styles ? styles : "", ", \t\r\n");
    int mask = 0;

    for (size_t i = 0; i < argv->argc; i++) {
        size_t n;

        for (n = 0; n < ARRAY_LEN(names); n++)
            if (strcasecmp(argv->argv[i], names[n].name) == 0)
                break;
        if (n == ARRAY_LEN(names))
            msg_fatal("%s: unknown lock method: %s", param, argv->argv[i]);
        mask |= names[n].mask;
    }
    argv_free(argv);
    return mask;
}
