/*
 * myflock - file locking by method: flock(2), fcntl(2) record locks, and
 * dot-lock files.
 *
 * Public functions:
 *   myflock(fd, method, op)         lock or unlock an open file with the
 *                                   flock or fcntl method
 *   myflock_dotlock(path, stale_age, why)
 *                                   create path.lock exclusively, first
 *                                   removing a lock older than stale_age
 *                                   seconds (0: never)
 *   myflock_dotunlock(path)         remove path.lock
 *   myflock_methods()               names of the available methods, in
 *                                   the order "flock", "fcntl", "dotlock"
 *   myflock_method(name)            a method name to its MYFLOCK_METHOD_*
 *
 * The op for myflock() is MYFLOCK_OP_SHARED or MYFLOCK_OP_EXCLUSIVE,
 * optionally with MYFLOCK_OP_NOWAIT, or MYFLOCK_OP_NONE to unlock. Without
 * NOWAIT, myflock() waits for the lock (restarting after signals). Note
 * that fcntl locks belong to the process and vanish when any descriptor of
 * the file is closed, while flock locks belong to the open file.
 *
 * Errors: -1 with errno set. A lock held by someone else gives EAGAIN (for
 * NOWAIT requests and for dot-locks); myflock_dotlock() also puts a reason
 * in why ("lock file /var/mail/u.lock exists", "cannot create lock file
 * ...: Permission denied"). myflock_method() returns -1 for an unknown name.
 * Passing the dotlock method or a bad op to myflock() is a bug (msg_panic).
 */
#ifndef MYFLOCK_H
#define MYFLOCK_H

#include "sys_defs.h"
#include "vstring.h"

#define MYFLOCK_METHOD_FLOCK   1
#define MYFLOCK_METHOD_FCNTL   2
#define MYFLOCK_METHOD_DOTLOCK 3

#define MYFLOCK_OP_NONE      0
#define MYFLOCK_OP_SHARED    1
#define MYFLOCK_OP_EXCLUSIVE 2
#define MYFLOCK_OP_NOWAIT    4

extern int myflock(int fd, int method, int op);
extern int myflock_dotlock(const char *path, int stale_age, VSTRING *why);
extern int myflock_dotunlock(const char *path);
extern const char *const *myflock_methods(void);
extern int myflock_method(const char *name);

#endif
