/*
 * mbox_open - open and lock a UNIX mailbox for appending (spec/delivery.md
 * 2.6, 3): the mailbox of local(8), /file destinations, virtual(8) mbox
 * delivery.
 *
 *   mp = mbox_open(path, flags, mode, st, uid, gid, lock_mask, def_status, why)
 *       open path with safe_open() (flags O_APPEND|O_WRONLY|O_CREAT
 *       normally; no symlinks followed, an existing file must be a regular
 *       file with one link; when uid/gid are not -1 a new file gets that
 *       owner, an existing one must have it), then lock it with every
 *       method in lock_mask: MBOX_DOT_LOCK (PATH.lock, created as the
 *       current user, removed when older than stale_lock_time; when the
 *       directory is not writable the dotlock is skipped silently, as
 *       Postfix does for user mailboxes in sticky spool directories),
 *       MBOX_FCNTL_LOCK, MBOX_FLOCK_LOCK. Locks are retried
 *       deliver_lock_attempts times deliver_lock_delay apart. st (when not
 *       NULL) gets the file's stat before writing. Returns NULL with why
 *       set: def_status ("5.2.0" for a mailbox, "5.3.0" ...) for open
 *       errors ("cannot open file: Permission denied"), "4.2.0" for lock
 *       failures ("unable to lock for exclusive access: Resource
 *       temporarily unavailable").
 *   mbox_release(mp)
 *       unlock (dotlock removed) and close. Before it, after a failed
 *       write, the caller calls mbox_truncate(mp) to cut the file back to
 *       its length at open time.
 *   mask = mbox_lock_mask(styles)
 *       "fcntl, dotlock" (mailbox_delivery_lock, virtual_mailbox_lock)
 *       -> MBOX_FCNTL_LOCK | MBOX_DOT_LOCK; an unknown name is fatal
 *       ("fatal: mailbox_delivery_lock: unknown lock method: X").
 */
#ifndef MBOX_OPEN_H
#define MBOX_OPEN_H

#include <sys/stat.h>
#include <sys/types.h>

#include "dsn.h"
#include "vstream.h"

#define MBOX_FLOCK_LOCK (1 << 0)
#define MBOX_FCNTL_LOCK (1 << 1)
#define MBOX_DOT_LOCK   (1 << 2)

typedef struct MBOX {
    char *path;        /* the mailbox */
    VSTREAM *fp;       /* open for appending */
    int locked;        /* MBOX_*_LOCK held */
    off_t orig_size;   /* length at open time (mbox_truncate) */
} MBOX;

extern MBOX *mbox_open(const char *path, int flags, mode_t mode, struct stat *st, uid_t uid, gid_t gid,
                       int lock_mask, const char *def_status, DSN_BUF *why);
extern void mbox_truncate(MBOX *mp);
extern void mbox_release(MBOX *mp);
extern int mbox_lock_mask(const char *styles);

#endif
