/*
 * iostuff_test - unit tests for iostuff.
 */
#include "sys_defs.h"

#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "iostuff.h"

/* What is at the other end of the pipe when a wait or read starts. */
enum pipe_state { PIPE_EMPTY, PIPE_DATA, PIPE_EOF, PIPE_BADFD };

/* Make a pipe in the given state; returns the read end (or a closed fd). */
static int make_pipe(enum pipe_state state, int *write_end)
{
    int fds[2];

    assert_int_equal(pipe(fds), 0);
    *write_end = fds[1];
    switch (state) {
    case PIPE_EMPTY:
        break;
    case PIPE_DATA:
        assert_int_equal(write(fds[1], "hello", 5), 5);
        break;
    case PIPE_EOF:
        close(fds[1]);
        *write_end = -1;
        break;
    case PIPE_BADFD:
        close(fds[0]);
        close(fds[1]);
        *write_end = -1;
        break;
    }
    return fds[0];
}

/* Fill a non-blocking pipe or socket until the kernel buffer is full. */
static void fill_up(int fd)
{
    char junk[4096];

    memset(junk, 'x', sizeof(junk));
    assert_true(non_blocking(fd, true) >= 0);
    while (write(fd, junk, sizeof(junk)) > 0)
        /* void */;
    assert_true(errno == EAGAIN || errno == EWOULDBLOCK);
}

/* Setting and clearing flags reports the previous state and sticks. */
static void test_flags(void **state UNUSED)
{
    static const struct {
        int (*fn)(int, bool);
        int getcmd;
        int bit;
        bool on;
        int want_prev;
    } cases[] = {
        {non_blocking, F_GETFL, O_NONBLOCK, true, 0},  {non_blocking, F_GETFL, O_NONBLOCK, true, 1},
        {non_blocking, F_GETFL, O_NONBLOCK, false, 1}, {non_blocking, F_GETFL, O_NONBLOCK, false, 0},
        {close_on_exec, F_GETFD, FD_CLOEXEC, true, 0}, {close_on_exec, F_GETFD, FD_CLOEXEC, false, 1},
    };
    int fds[2];

    assert_int_equal(pipe(fds), 0);
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        assert_int_equal(cases[i].fn(fds[0], cases[i].on), cases[i].want_prev);
        assert_int_equal((fcntl(fds[0], cases[i].getcmd) & cases[i].bit) != 0, cases[i].on);
    }
    close(fds[0]);
    close(fds[1]);
    errno = 0;
    assert_int_equal(non_blocking(fds[0], true), -1);
    assert_int_equal(errno, EBADF);
    assert_int_equal(close_on_exec(fds[0], true), -1);
}

/* read_wait() and timed_read() against pipes in various states. */
static void test_read_wait(void **state UNUSED)
{
    static const struct {
        enum pipe_state state;
        int timeout_ms;
        int want_wait; /* read_wait() result */
        int want_read; /* timed_read() result */
        int want_errno;
        int min_elapsed_ms;
    } cases[] = {
        {PIPE_EMPTY, 0, -1, -1, ETIMEDOUT, 0},
        {PIPE_EMPTY, 60, -1, -1, ETIMEDOUT, 60},
        {PIPE_DATA, 0, 0, 5, 0, 0},
        {PIPE_DATA, -1, 0, 5, 0, 0},
        {PIPE_EOF, 1000, 0, 0, 0, 0},
        {PIPE_EOF, -1, 0, 0, 0, 0},
        {PIPE_BADFD, 10, -1, -1, EBADF, 0},
    };

    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        int wr;
        int rd = make_pipe(cases[i].state, &wr);
        char buf[10];
        int64_t start = iostuff_clock_ms();

        errno = 0;
        assert_int_equal(read_wait(rd, cases[i].timeout_ms), cases[i].want_wait);
        if (cases[i].want_wait < 0)
            assert_int_equal(errno, cases[i].want_errno);
        errno = 0;
        assert_int_equal(timed_read(rd, buf, sizeof(buf), cases[i].timeout_ms), cases[i].want_read);
        if (cases[i].want_read < 0)
            assert_int_equal(errno, cases[i].want_errno);
        /* Both waits ran, so at least twice the minimum has passed. */
        assert_true(iostuff_clock_ms() - start >= 2 * cases[i].min_elapsed_ms);
        close(rd);
        if (wr >= 0)
            close(wr);
    }
}

static volatile sig_atomic_t alarms;

/* Count SIGALRM deliveries. */
static void on_alarm(int sig UNUSED)
{
    alarms++;
}

/* Signals that interrupt a wait neither end it early nor extend it. */
static void test_eintr(void **state UNUSED)
{
    struct sigaction sa = {.sa_handler = on_alarm}; /* no SA_RESTART */
    struct itimerval tick = {.it_interval = {0, 10000}, .it_value = {0, 10000}};
    struct itimerval off = {{0, 0}, {0, 0}};
    int wr;
    int rd = make_pipe(PIPE_EMPTY, &wr);
    char buf[4];

    sigemptyset(&sa.sa_mask);
    assert_int_equal(sigaction(SIGALRM, &sa, NULL), 0);
    alarms = 0;
    assert_int_equal(setitimer(ITIMER_REAL, &tick, NULL), 0);
    int64_t start = iostuff_clock_ms();

    assert_int_equal(timed_read(rd, buf, sizeof(buf), 150), -1);
    assert_int_equal(errno, ETIMEDOUT);
    int64_t elapsed = iostuff_clock_ms() - start;

    assert_int_equal(setitimer(ITIMER_REAL, &off, NULL), 0);
    assert_true(alarms >= 3);
    assert_true(elapsed >= 150);
    assert_true(elapsed < 1000);
    close(rd);
    close(wr);
    signal(SIGALRM, SIG_DFL);
}

/* Writes: room, a full buffer with a limit, a vanished reader, a slow reader. */
static void test_write(void **state UNUSED)
{
    static const struct {
        const char *what;
        size_t len;
        int timeout_ms;
        bool fill;
        bool close_reader;
        bool drain_slowly;
        ssize_t want;
        int want_errno;
    } cases[] = {
        {"room", 100, 100, false, false, false, 100, 0},
        {"full", 100, 50, true, false, false, -1, ETIMEDOUT},
        {"full, no wait", 100, 0, true, false, false, -1, ETIMEDOUT},
        {"no reader", 100, 100, false, true, false, -1, EPIPE},
        {"slow reader", 300000, 5000, true, false, true, 300000, 0},
    };

    signal(SIGPIPE, SIG_IGN);
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        int sv[2];
        pid_t pid = 0;
        static char data[300000];

        assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
        if (cases[i].fill)
            fill_up(sv[0]);
        if (cases[i].close_reader)
            close(sv[1]);
        if (cases[i].drain_slowly) {
            pid = fork();
            assert_true(pid >= 0);
            if (pid == 0) {
                char buf[8192];
                ssize_t n;
                size_t total = 0;

                close(sv[0]);
                usleep(50000);
                while ((n = read(sv[1], buf, sizeof(buf))) > 0)
                    total += (size_t)n;
                _exit(total > cases[i].len ? 0 : 1);
            }
        }
        errno = 0;
        assert_int_equal(write_buf(sv[0], data, cases[i].len, cases[i].timeout_ms), cases[i].want);
        if (cases[i].want < 0)
            assert_int_equal(errno, cases[i].want_errno);
        close(sv[0]);
        if (!cases[i].close_reader)
            close(sv[1]);
        if (pid > 0) {
            int status;

            assert_int_equal(waitpid(pid, &status, 0), pid);
            assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
        }
    }
}

/* timed_write() returns a short count rather than waiting for all the room. */
static void test_timed_write_partial(void **state UNUSED)
{
    int sv[2];
    static char data[1 << 20];

    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    assert_true(non_blocking(sv[0], true) >= 0);
    ssize_t n = timed_write(sv[0], data, sizeof(data), 100);

    assert_true(n > 0 && (size_t)n < sizeof(data));
    assert_int_equal(write_wait(sv[0], 20), -1);
    assert_int_equal(errno, ETIMEDOUT);
    assert_int_equal(timed_write(sv[0], data, sizeof(data), 20), -1);
    assert_int_equal(errno, ETIMEDOUT);
    close(sv[0]);
    close(sv[1]);
}

/* Run the tests. */
int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_flags),
        cmocka_unit_test(test_read_wait),
        cmocka_unit_test(test_eintr),
        cmocka_unit_test(test_write),
        cmocka_unit_test(test_timed_write_partial),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
