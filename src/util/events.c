/*
 * events - a single-threaded event loop on epoll. See events.h.
 *
 * Every epoll registration carries the descriptor and a generation number
 * that changes whenever the registration changes. A notification whose
 * generation no longer matches is stale (the callback that ran before it
 * disabled, re-enabled or closed and reused the descriptor) and is dropped;
 * epoll is level-triggered, so anything still ready is reported again.
 */
#include "sys_defs.h"

#include <errno.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#include "events.h"
#include "iostuff.h"
#include "msg.h"
#include "mymalloc.h"

typedef struct EVENT_FD {
    EVENT_NOTIFY_FN read_fn;
    void *read_context;
    EVENT_NOTIFY_FN write_fn;
    void *write_context;
    uint32_t gen;    /* changes with each registration change */
    bool registered; /* known to the epoll instance */
} EVENT_FD;

typedef struct EVENT_TIMER {
    EVENT_NOTIFY_FN callback;
    void *context;
    int64_t deadline; /* iostuff_clock_ms() time */
    uint64_t seq;     /* request order */
    struct EVENT_TIMER *next;
} EVENT_TIMER;

#define EVENT_BATCH 64

static int event_epfd = -1;
static EVENT_FD *event_fds;
static int event_fds_size;
static EVENT_TIMER *event_timers; /* sorted by deadline, then seq */
static uint64_t event_timer_seq;
static time_t event_present;
static bool event_running;

/* Create the epoll instance on first use. */
static void event_init(void)
{
    if (event_epfd < 0 && (event_epfd = epoll_create1(EPOLL_CLOEXEC)) < 0)
        msg_fatal("epoll_create1: %m");
}

/* The table slot for fd, growing the table as needed. */
static EVENT_FD *event_slot(int fd)
{
    if (fd < 0)
        msg_panic("event: bad file descriptor %d", fd);
    if (fd >= event_fds_size) {
        int size = event_fds_size ? event_fds_size : 64;

        while (size <= fd)
            size *= 2;
        event_fds = myrealloc(event_fds, (size_t)size * sizeof(*event_fds));
        for (int i = event_fds_size; i < size; i++)
            event_fds[i] = (EVENT_FD){0};
        event_fds_size = size;
    }
    return &event_fds[fd];
}

/* Tell epoll what fd's slot now asks for; bumps the generation. */
static void event_sync(int fd)
{
    EVENT_FD *ep = &event_fds[fd];
    struct epoll_event ev = {0};

    event_init();
    ep->gen++;
    ev.events = (ep->read_fn ? EPOLLIN : 0) | (ep->write_fn ? EPOLLOUT : 0);
    ev.data.u64 = (uint64_t)ep->gen << 32 | (uint32_t)fd;
    if (ev.events == 0) {
        /* A descriptor closed before it was disabled has already left the set. */
        if (ep->registered && epoll_ctl(event_epfd, EPOLL_CTL_DEL, fd, NULL) < 0 && errno != ENOENT &&
            errno != EBADF)
            msg_fatal("epoll_ctl DEL fd %d: %m", fd);
        ep->registered = false;
        return;
    }
    int op = ep->registered ? EPOLL_CTL_MOD : EPOLL_CTL_ADD;

    if (epoll_ctl(event_epfd, op, fd, &ev) < 0) {
        /* Registered but closed and reused, or the other way around. */
        if (op == EPOLL_CTL_MOD && errno == ENOENT)
            op = EPOLL_CTL_ADD;
        else if (op == EPOLL_CTL_ADD && errno == EEXIST)
            op = EPOLL_CTL_MOD;
        else
            msg_fatal("epoll_ctl fd %d: %m", fd);
        if (epoll_ctl(event_epfd, op, fd, &ev) < 0)
            msg_fatal("epoll_ctl fd %d: %m", fd);
    }
    ep->registered = true;
}

/* Call callback(EVENT_READ, context) whenever fd is readable. */
void event_enable_read(int fd, EVENT_NOTIFY_FN callback, void *context)
{
    EVENT_FD *ep = event_slot(fd);

    ep->read_fn = callback;
    ep->read_context = context;
    event_sync(fd);
}

/* Call callback(EVENT_WRITE, context) whenever fd is writable. */
void event_enable_write(int fd, EVENT_NOTIFY_FN callback, void *context)
{
    EVENT_FD *ep = event_slot(fd);

    ep->write_fn = callback;
    ep->write_context = context;
    event_sync(fd);
}

/* Stop watching fd in both directions (harmless if it was not watched). */
void event_disable_readwrite(int fd)
{
    if (fd < 0)
        msg_panic("event_disable_readwrite: bad file descriptor %d", fd);
    if (fd >= event_fds_size)
        return;
    EVENT_FD *ep = &event_fds[fd];

    if (ep->read_fn == NULL && ep->write_fn == NULL && !ep->registered)
        return;
    *ep = (EVENT_FD){.gen = ep->gen, .registered = ep->registered};
    event_sync(fd);
}

/* Remove the timer for callback and context from the list; returns it or NULL. */
static EVENT_TIMER *event_timer_unlink(EVENT_NOTIFY_FN callback, void *context)
{
    for (EVENT_TIMER **tpp = &event_timers; *tpp; tpp = &(*tpp)->next) {
        EVENT_TIMER *tp = *tpp;

        if (tp->callback == callback && tp->context == context) {
            *tpp = tp->next;
            return tp;
        }
    }
    return NULL;
}

/* Run callback(EVENT_TIME, context) once, delay_ms from now; moves an existing request. */
void event_request_timer(EVENT_NOTIFY_FN callback, void *context, int delay_ms)
{
    EVENT_TIMER *tp = event_timer_unlink(callback, context);

    if (tp == NULL) {
        tp = mymalloc(sizeof(*tp));
        tp->callback = callback;
        tp->context = context;
    }
    tp->deadline = iostuff_clock_ms() + (delay_ms > 0 ? delay_ms : 0);
    tp->seq = event_timer_seq++;

    /* Equal deadlines run in request order. */
    EVENT_TIMER **tpp = &event_timers;

    while (*tpp && (*tpp)->deadline <= tp->deadline)
        tpp = &(*tpp)->next;
    tp->next = *tpp;
    *tpp = tp;
}

/* Cancel a timer; returns the milliseconds it had left, or -1 if there was none. */
int event_cancel_timer(EVENT_NOTIFY_FN callback, void *context)
{
    EVENT_TIMER *tp = event_timer_unlink(callback, context);

    if (tp == NULL)
        return -1;
    int64_t left = tp->deadline - iostuff_clock_ms();

    myfree(tp);
    return left > 0 ? (int)left : 0;
}

/* The wall-clock time in seconds as of the latest event_loop() iteration. */
time_t event_time(void)
{
    if (event_present == 0)
        event_present = time(NULL);
    return event_present;
}

/* Deliver one epoll notification, unless a callback has made it stale. */
static void event_dispatch(const struct epoll_event *ev)
{
    int fd = (int)(ev->data.u64 & 0xffffffffU);
    uint32_t gen = (uint32_t)(ev->data.u64 >> 32);
    int xcpt = ev->events & (EPOLLERR | EPOLLHUP) ? EVENT_XCPT : 0;

    if (fd >= event_fds_size || event_fds[fd].gen != gen)
        return;
    if ((ev->events & (EPOLLIN | EPOLLERR | EPOLLHUP)) && event_fds[fd].read_fn)
        event_fds[fd].read_fn(EVENT_READ | xcpt, event_fds[fd].read_context);
    /* The read callback may have changed anything, the table's address included. */
    if (fd >= event_fds_size || event_fds[fd].gen != gen)
        return;
    if ((ev->events & (EPOLLOUT | EPOLLERR | EPOLLHUP)) && event_fds[fd].write_fn)
        event_fds[fd].write_fn(EVENT_WRITE | xcpt, event_fds[fd].write_context);
}

/* Run the timers that are due and were requested before this phase began. */
static void event_run_timers(void)
{
    int64_t now = iostuff_clock_ms();
    uint64_t limit = event_timer_seq;

    for (;;) {
        EVENT_TIMER **tpp = &event_timers;

        while (*tpp && (*tpp)->deadline <= now && (*tpp)->seq >= limit)
            tpp = &(*tpp)->next;
        EVENT_TIMER *tp = *tpp;

        if (tp == NULL || tp->deadline > now)
            return;
        *tpp = tp->next;
        EVENT_NOTIFY_FN callback = tp->callback;
        void *context = tp->context;

        myfree(tp);
        callback(EVENT_TIME, context);
    }
}

/*
 * Run one iteration: wait at most timeout_ms (negative: until something
 * happens), then handle ready descriptors and due timers.
 */
void event_loop(int timeout_ms)
{
    struct epoll_event events[EVENT_BATCH];
    int wait_ms = timeout_ms;

    if (event_running)
        msg_panic("event_loop: recursive call");
    event_running = true;
    event_init();
    if (event_timers) {
        int64_t left = event_timers->deadline - iostuff_clock_ms();

        if (left < 0)
            left = 0;
        if (wait_ms < 0 || left < wait_ms)
            wait_ms = (int)(left < INT32_MAX ? left : INT32_MAX);
    }
    int n = epoll_wait(event_epfd, events, EVENT_BATCH, wait_ms);

    if (n < 0) {
        if (errno != EINTR)
            msg_fatal("epoll_wait: %m");
        n = 0;
    }
    event_present = time(NULL);
    for (int i = 0; i < n; i++)
        event_dispatch(&events[i]);
    event_run_timers();
    event_running = false;
}

/*
 * In a child after fork(): give the child its own epoll instance. The
 * parent and child would otherwise share one set of registrations.
 */
void event_fork(void)
{
    if (event_epfd < 0)
        return;
    (void)close(event_epfd);
    event_epfd = -1;
    event_init();
    for (int fd = 0; fd < event_fds_size; fd++) {
        event_fds[fd].registered = false;
        if (event_fds[fd].read_fn || event_fds[fd].write_fn)
            event_sync(fd);
    }
}
