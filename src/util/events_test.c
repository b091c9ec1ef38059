/*
 * events_test - unit tests for the event loop.
 */
#include "sys_defs.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "events.h"
#include "iostuff.h"

/* What a callback saw, and what it should do to others when called. */
typedef struct PROBE {
    int calls;
    int last_event;
    int order;                /* global call sequence number */
    int fd;                   /* the descriptor it watches */
    struct PROBE *victim;     /* disable and close this one's fd */
    int rearm_ms;             /* >= 0: re-request own timer */
    struct PROBE *reuse_with; /* put an idle pipe on the victim's number, watched by this */
    int spare_fd;             /* the idle pipe's other end */
} PROBE;

static int call_sequence;

/* Record a call, then do to others what the probe says. */
static void probe_callback(int event, void *context)
{
    PROBE *p = context;

    p->calls++;
    p->last_event = event;
    p->order = ++call_sequence;
    if (p->victim && p->victim->fd >= 0) {
        int number = p->victim->fd;

        event_disable_readwrite(number);
        close(number);
        p->victim->fd = -1;
        if (p->reuse_with) {
            int c[2];

            assert_int_equal(pipe(c), 0);
            if (c[0] != number) {
                assert_int_equal(dup2(c[0], number), number);
                close(c[0]);
            }
            p->reuse_with->fd = number;
            p->reuse_with->spare_fd = c[1];
            event_enable_read(number, probe_callback, p->reuse_with);
        }
    }
    if (p->rearm_ms >= 0)
        event_request_timer(probe_callback, p, p->rearm_ms);
}

/* A probe that does nothing but count. */
#define PROBE_INIT                                                                                           \
    {                                                                                                        \
        .fd = -1, .rearm_ms = -1, .spare_fd = -1                                                             \
    }

/* Run iterations until *done or the time limit passes. */
static void run_until(const int *done, int limit_ms)
{
    int64_t end = iostuff_clock_ms() + limit_ms;

    while (!*done && iostuff_clock_ms() < end)
        event_loop(10);
}

/* Read, write and hangup notifications on a socketpair, and disabling them. */
static void test_read_write(void **state UNUSED)
{
    static const struct {
        bool write_side; /* watch for writing instead of reading */
        bool send_data;
        bool hang_up;
        int want_calls;
        int want_event;
    } cases[] = {
        {false, false, false, 0, 0},
        {false, true, false, 1, EVENT_READ},
        {false, false, true, 1, EVENT_READ | EVENT_XCPT},
        {true, false, false, 1, EVENT_WRITE},
        {true, false, true, 1, EVENT_WRITE | EVENT_XCPT},
    };

    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        int sv[2];
        PROBE p = PROBE_INIT;

        assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
        if (cases[i].write_side)
            event_enable_write(sv[0], probe_callback, &p);
        else
            event_enable_read(sv[0], probe_callback, &p);
        if (cases[i].send_data)
            assert_int_equal(write(sv[1], "x", 1), 1);
        if (cases[i].hang_up) {
            shutdown(sv[0], SHUT_WR);
            close(sv[1]);
            sv[1] = -1;
        }
        event_loop(cases[i].want_calls ? 1000 : 30);
        assert_int_equal(p.calls, cases[i].want_calls);
        if (p.calls)
            assert_int_equal(p.last_event, cases[i].want_event);

        /* Once disabled, the ready descriptor is not reported again. */
        event_disable_readwrite(sv[0]);
        p.calls = 0;
        event_loop(20);
        assert_int_equal(p.calls, 0);
        close(sv[0]);
        if (sv[1] >= 0)
            close(sv[1]);
    }
}

/* Separate read and write callbacks on one descriptor, and replacing a callback. */
static void test_both_directions(void **state UNUSED)
{
    int sv[2];
    PROBE r = PROBE_INIT;
    PROBE w = PROBE_INIT;
    PROBE r2 = PROBE_INIT;

    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
    event_enable_read(sv[0], probe_callback, &r);
    event_enable_write(sv[0], probe_callback, &w);
    assert_int_equal(write(sv[1], "x", 1), 1);
    event_loop(1000);
    assert_int_equal(r.calls, 1);
    assert_int_equal(r.last_event, EVENT_READ);
    assert_int_equal(w.calls, 1);
    assert_int_equal(w.last_event, EVENT_WRITE);

    event_enable_read(sv[0], probe_callback, &r2);
    event_loop(1000);
    assert_int_equal(r.calls, 1);
    assert_int_equal(r2.calls, 1);
    assert_int_equal(w.calls, 2);
    event_disable_readwrite(sv[0]);
    event_disable_readwrite(sv[0]);
    event_disable_readwrite(1000);
    close(sv[0]);
    close(sv[1]);
}

/*
 * Two descriptors ready in the same iteration, each callback disabling and
 * closing the other: whichever runs first wins and the other is never
 * called. With reuse, the winner also puts a new idle pipe on the closed
 * descriptor number and watches it; the stale notification for the old
 * pipe must not reach the new watcher.
 */
static void test_disable_other(void **state UNUSED)
{
    static const struct {
        bool reuse;
    } cases[] = {{false}, {true}};

    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        int a[2], b[2];
        PROBE pa = PROBE_INIT;
        PROBE pb = PROBE_INIT;
        PROBE reused = PROBE_INIT;

        assert_int_equal(pipe(a), 0);
        assert_int_equal(pipe(b), 0);
        pa.fd = a[0];
        pb.fd = b[0];
        pa.victim = &pb;
        pb.victim = &pa;
        if (cases[i].reuse)
            pa.reuse_with = pb.reuse_with = &reused;
        event_enable_read(a[0], probe_callback, &pa);
        event_enable_read(b[0], probe_callback, &pb);
        assert_int_equal(write(a[1], "x", 1), 1);
        assert_int_equal(write(b[1], "x", 1), 1);
        event_loop(1000);
        assert_int_equal(pa.calls + pb.calls, 1);
        PROBE *winner = pa.calls ? &pa : &pb;
        PROBE *loser = pa.calls ? &pb : &pa;

        assert_int_equal(loser->fd, -1);
        assert_int_equal(reused.calls, 0);
        if (cases[i].reuse) {
            /* The new watcher works once its own pipe has data. */
            assert_int_equal(write(reused.spare_fd, "y", 1), 1);
            event_loop(1000);
            assert_int_equal(reused.calls, 1);
            assert_int_equal(reused.last_event, EVENT_READ);
            event_disable_readwrite(reused.fd);
            close(reused.fd);
            close(reused.spare_fd);
        }
        event_disable_readwrite(winner->fd);
        close(winner->fd);
        close(a[1]);
        close(b[1]);
    }
}

/* A descriptor closed while still enabled is tolerated: disabling it, or enabling its reused number. */
static void test_close_without_disable(void **state UNUSED)
{
    static const struct {
        bool reuse;
    } cases[] = {{false}, {true}};

    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        int a[2], b[2];
        PROBE p = PROBE_INIT;

        assert_int_equal(pipe(a), 0);
        event_enable_read(a[0], probe_callback, &p);
        int number = a[0];

        close(a[0]);
        close(a[1]);
        if (!cases[i].reuse) {
            event_disable_readwrite(number);
            continue;
        }
        /* Same number, same callback and context, new pipe: it must really be watched. */
        assert_int_equal(pipe(b), 0);
        if (b[0] != number) {
            assert_int_equal(dup2(b[0], number), number);
            close(b[0]);
        }
        event_enable_read(number, probe_callback, &p);
        assert_int_equal(write(b[1], "x", 1), 1);
        event_loop(1000);
        assert_int_equal(p.calls, 1);
        event_disable_readwrite(number);
        close(number);
        close(b[1]);
    }
}

/* Timers: order, moving a deadline, cancelling, re-requesting from a callback. */
static void test_timers(void **state UNUSED)
{
    PROBE t1 = PROBE_INIT;
    PROBE t2 = PROBE_INIT;
    PROBE t3 = PROBE_INIT;

    call_sequence = 0;
    int64_t start = iostuff_clock_ms();

    event_request_timer(probe_callback, &t1, 60);
    event_request_timer(probe_callback, &t2, 20);
    event_request_timer(probe_callback, &t3, 40);
    /* Moving t2 later puts it after t1. */
    event_request_timer(probe_callback, &t2, 100);
    int left = event_cancel_timer(probe_callback, &t3);

    assert_true(left > 0 && left <= 40);
    assert_int_equal(event_cancel_timer(probe_callback, &t3), -1);
    run_until(&t2.calls, 2000);
    int64_t elapsed = iostuff_clock_ms() - start;

    assert_int_equal(t1.calls, 1);
    assert_int_equal(t1.last_event, EVENT_TIME);
    assert_int_equal(t2.calls, 1);
    assert_int_equal(t3.calls, 0);
    assert_true(t1.order < t2.order);
    assert_true(elapsed >= 100);
    assert_true(elapsed < 1000);

    /* A timer fires once per request. */
    event_loop(30);
    assert_int_equal(t1.calls + t2.calls, 2);

    /* A zero-delay timer that re-requests itself runs once per iteration, not forever. */
    t1 = (PROBE)PROBE_INIT;
    t1.rearm_ms = 0;
    event_request_timer(probe_callback, &t1, 0);
    event_loop(0);
    assert_int_equal(t1.calls, 1);
    event_loop(0);
    assert_int_equal(t1.calls, 2);
    assert_int_equal(event_cancel_timer(probe_callback, &t1), 0);
}

/* An iteration with nothing to do returns after its time limit. */
static void test_loop_timeout(void **state UNUSED)
{
    static const int limits[] = {0, 50, 120};

    for (size_t i = 0; i < ARRAY_LEN(limits); i++) {
        int64_t start = iostuff_clock_ms();

        event_loop(limits[i]);
        int64_t elapsed = iostuff_clock_ms() - start;

        assert_true(elapsed >= limits[i]);
        assert_true(elapsed < limits[i] + 500);
    }
    /* A pending timer shortens an unlimited wait. */
    PROBE t = PROBE_INIT;
    int64_t start = iostuff_clock_ms();

    event_request_timer(probe_callback, &t, 30);
    event_loop(-1);
    assert_int_equal(t.calls, 1);
    assert_true(iostuff_clock_ms() - start >= 30);
    time_t now = time(NULL);

    assert_true(event_time() >= now - 1 && event_time() <= now);
}

/* After fork, the child's registrations do not affect the parent's. */
static void test_fork(void **state UNUSED)
{
    int sv[2];
    PROBE p = PROBE_INIT;

    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
    event_enable_read(sv[0], probe_callback, &p);
    pid_t pid = fork();

    assert_true(pid >= 0);
    if (pid == 0) {
        event_fork();
        event_disable_readwrite(sv[0]);
        if (write(sv[1], "x", 1) != 1)
            _exit(1);
        event_loop(20);
        _exit(p.calls == 0 ? 0 : 2);
    }
    int status;

    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    event_loop(1000);
    assert_int_equal(p.calls, 1);
    event_disable_readwrite(sv[0]);
    close(sv[0]);
    close(sv[1]);
}

/* Run the tests. */
int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_read_write),    cmocka_unit_test(test_both_directions),
        cmocka_unit_test(test_disable_other), cmocka_unit_test(test_close_without_disable),
        cmocka_unit_test(test_timers),        cmocka_unit_test(test_loop_timeout),
        cmocka_unit_test(test_fork),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
