/*
 * events - a single-threaded event loop on epoll(7), with timers.
 *
 * A descriptor can be watched for reading and for writing, each with its
 * own callback and context; event_disable_readwrite() stops both. Timers
 * are identified by their callback and context: requesting the same pair
 * again moves its deadline, event_cancel_timer() removes it. A timer runs
 * once per request.
 *
 * event_loop() runs one iteration: it waits until a descriptor is ready, a
 * timer is due or its own time limit passes, runs the callbacks for what is
 * ready, then the timers that are due, and returns. Callbacks receive the
 * event type (EVENT_READ, EVENT_WRITE, EVENT_TIME; an error or hangup
 * condition adds EVENT_XCPT to the read or write bit) and their context.
 *
 * Callbacks may enable, disable and close any descriptor, and request or
 * cancel any timer, including their own. A descriptor disabled (or disabled
 * and re-enabled) by a callback gets no stale notifications from the same
 * iteration; a timer requested during the timer phase first runs in the
 * next iteration. Disable a descriptor before closing it.
 *
 * Public functions: event_enable_read(), event_enable_write(),
 * event_disable_readwrite(), event_request_timer(), event_cancel_timer(),
 * event_loop(), event_time(), event_fork().
 *
 * Errors: the loop cannot continue without epoll, so epoll failures end
 * the process with msg_fatal(); misuse (a negative descriptor, a recursive
 * event_loop()) is a bug and ends in msg_panic().
 */
#ifndef EVENTS_H
#define EVENTS_H

#include <time.h>

#include "sys_defs.h"

#define EVENT_READ  (1 << 0) /* readable, or end of file */
#define EVENT_WRITE (1 << 1) /* writable */
#define EVENT_XCPT  (1 << 2) /* error or hangup (with READ or WRITE) */
#define EVENT_TIME  (1 << 3) /* timer expired */

typedef void (*EVENT_NOTIFY_FN)(int event, void *context);

extern void event_enable_read(int fd, EVENT_NOTIFY_FN callback, void *context);
extern void event_enable_write(int fd, EVENT_NOTIFY_FN callback, void *context);
extern void event_disable_readwrite(int fd);
extern void event_request_timer(EVENT_NOTIFY_FN callback, void *context, int delay_ms);
extern int event_cancel_timer(EVENT_NOTIFY_FN callback, void *context);
extern void event_loop(int timeout_ms);
extern time_t event_time(void);
extern void event_fork(void);

#endif
