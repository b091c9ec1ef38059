/*
 * iostuff - small descriptor helpers: blocking mode, close-on-exec,
 * waiting for readiness with poll(2), and reads and writes with a time
 * limit.
 *
 * Public functions: non_blocking(), close_on_exec(), read_wait(),
 * write_wait(), timed_read(), timed_write(), write_buf(), and
 * iostuff_clock_ms() (the monotonic clock all time limits are measured
 * with). The descriptor helpers keep their short traditional names; this
 * header is their module.
 *
 * Time limits are in milliseconds: a negative limit means wait as long as
 * it takes, zero means do not wait at all. Interrupted system calls (EINTR)
 * are restarted with the time that is left, so a signal never shortens or
 * lengthens a wait. Errors: -1 with errno set; an expired time limit gives
 * errno ETIMEDOUT. Writing to a pipe or socket whose reader has gone raises
 * SIGPIPE unless the process ignores it (daemons do); then errno is EPIPE.
 */
#ifndef IOSTUFF_H
#define IOSTUFF_H

#include <stddef.h>
#include <sys/types.h>

#include "sys_defs.h"

/* Values for the block_mode arguments of the socket functions. */
#define BLOCKING     0
#define NON_BLOCKING 1

extern int non_blocking(int fd, bool on);
extern int close_on_exec(int fd, bool on);
extern int read_wait(int fd, int timeout_ms);
extern int write_wait(int fd, int timeout_ms);
extern ssize_t timed_read(int fd, void *buf, size_t len, int timeout_ms);
extern ssize_t timed_write(int fd, const void *buf, size_t len, int timeout_ms);
extern ssize_t write_buf(int fd, const void *buf, size_t len, int timeout_ms);
extern int64_t iostuff_clock_ms(void);

#endif
