/*
 * iostuff - descriptor helpers with time limits. See iostuff.h.
 */
#include "sys_defs.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "iostuff.h"
#include "msg.h"

/* Milliseconds on a clock that never jumps (not wall-clock time). */
int64_t iostuff_clock_ms(void)
{
    struct timespec ts;

    if (clock_gettime(CLOCK_MONOTONIC, &ts) < 0)
        msg_panic("iostuff_clock_ms: clock_gettime: %m");
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Time left until deadline for a wait that started with timeout_ms. */
static int iostuff_time_left(int64_t deadline, int timeout_ms)
{
    if (timeout_ms <= 0)
        return timeout_ms;
    int64_t left = deadline - iostuff_clock_ms();

    return left > 0 ? (int)left : 0;
}

/* Deadline for a wait of timeout_ms that starts now (unused when not positive). */
static int64_t iostuff_deadline(int timeout_ms)
{
    return timeout_ms > 0 ? iostuff_clock_ms() + timeout_ms : 0;
}

/* Flip one descriptor flag bit; returns the previous setting or -1. */
static int iostuff_set_flag(int fd, int get_cmd, int set_cmd, int bit, bool on)
{
    int flags = fcntl(fd, get_cmd);

    if (flags < 0)
        return -1;
    int want = on ? flags | bit : flags & ~bit;

    if (want != flags && fcntl(fd, set_cmd, want) < 0)
        return -1;
    return (flags & bit) != 0;
}

/* Turn O_NONBLOCK on or off; returns the previous setting (0 or 1) or -1. */
int non_blocking(int fd, bool on)
{
    return iostuff_set_flag(fd, F_GETFL, F_SETFL, O_NONBLOCK, on);
}

/* Turn FD_CLOEXEC on or off; returns the previous setting (0 or 1) or -1. */
int close_on_exec(int fd, bool on)
{
    return iostuff_set_flag(fd, F_GETFD, F_SETFD, FD_CLOEXEC, on);
}

/* Wait until fd reports one of events (or an error or hangup). */
static int iostuff_poll(int fd, short events, int timeout_ms)
{
    struct pollfd pfd = {.fd = fd, .events = events};
    int64_t deadline = iostuff_deadline(timeout_ms);
    int wait_ms = timeout_ms;

    for (;;) {
        int n = poll(&pfd, 1, wait_ms);

        if (n > 0) {
            if (pfd.revents & POLLNVAL) {
                errno = EBADF;
                return -1;
            }
            return 0;
        }
        if (n == 0) {
            errno = ETIMEDOUT;
            return -1;
        }
        if (errno != EINTR)
            return -1;
        wait_ms = iostuff_time_left(deadline, timeout_ms);
    }
}

/* Wait until fd is readable (or at end of file, or in error). */
int read_wait(int fd, int timeout_ms)
{
    return iostuff_poll(fd, POLLIN, timeout_ms);
}

/* Wait until fd is writable (or in error). */
int write_wait(int fd, int timeout_ms)
{
    return iostuff_poll(fd, POLLOUT, timeout_ms);
}

/* One read(2) that waits at most timeout_ms for data, blocking or not. */
ssize_t timed_read(int fd, void *buf, size_t len, int timeout_ms)
{
    int64_t deadline = iostuff_deadline(timeout_ms);

    for (;;) {
        if (timeout_ms >= 0 && read_wait(fd, iostuff_time_left(deadline, timeout_ms)) < 0)
            return -1;
        ssize_t n = read(fd, buf, len);

        if (n >= 0)
            return n;
        if (errno == EINTR)
            continue;
        /* Readiness can be spurious, and a non-blocking fd with no limit must still wait. */
        if (errno != EAGAIN && errno != EWOULDBLOCK)
            return -1;
        if (timeout_ms < 0 && read_wait(fd, -1) < 0)
            return -1;
    }
}

/* One write(2) that waits at most timeout_ms for room; may write less than len. */
ssize_t timed_write(int fd, const void *buf, size_t len, int timeout_ms)
{
    int64_t deadline = iostuff_deadline(timeout_ms);

    /*
     * A socket almost always has room: try without waiting first, which
     * saves the poll(2) of nearly every reply and request. MSG_DONTWAIT
     * works whatever the descriptor's blocking mode; other descriptors
     * (ENOTSOCK) take the waiting path below.
     */
    if (timeout_ms >= 0) {
        ssize_t n;

        do {
            n = send(fd, buf, len, MSG_DONTWAIT);
        } while (n < 0 && errno == EINTR);
        if (n >= 0)
            return n;
        if (errno != EAGAIN && errno != EWOULDBLOCK && errno != ENOTSOCK)
            return -1;
    }
    for (;;) {
        if (timeout_ms >= 0 && write_wait(fd, iostuff_time_left(deadline, timeout_ms)) < 0)
            return -1;
        ssize_t n = write(fd, buf, len);

        if (n >= 0)
            return n;
        if (errno == EINTR)
            continue;
        if (errno != EAGAIN && errno != EWOULDBLOCK)
            return -1;
        if (timeout_ms < 0 && write_wait(fd, -1) < 0)
            return -1;
    }
}

/* Write all len bytes within timeout_ms in total; returns len or -1. */
ssize_t write_buf(int fd, const void *buf, size_t len, int timeout_ms)
{
    const char *cp = buf;
    size_t done = 0;
    int64_t deadline = iostuff_deadline(timeout_ms);

    while (done < len) {
        ssize_t n = timed_write(fd, cp + done, len - done, iostuff_time_left(deadline, timeout_ms));

        if (n < 0)
            return -1;
        if (n == 0) {
            errno = EIO;
            return -1;
        }
        done += (size_t)n;
    }
    return (ssize_t)len;
}
