/*
 * master_lock - the lock that says "this instance's master is running".
 *
 * master_lock_acquire() opens $queue_directory/pid/master.pid, takes an
 * exclusive non-blocking flock() on it and writes the caller's PID
 * right-aligned in a 32-column field; it also locks
 * $data_directory/master.lock. It returns -1 when another master holds
 * the lock (fatal on other errors). The locks live as long as the process.
 * master_lock_owner() returns the PID of the running master, or 0 when
 * none holds the lock.
 */
#ifndef MASTER_LOCK_H
#define MASTER_LOCK_H

#include <sys/types.h>

extern int master_lock_acquire(void);
extern pid_t master_lock_owner(void);

#endif
