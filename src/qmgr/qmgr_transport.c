/*
 * qmgr_transport - transports, their destinations (queues), concurrency
 * windows with slow start and feedback, dead destinations, and the
 * scheduler that hands waiting entries to delivery agents (queue.md 5.3).
 *
 * qmgr_transport_find(name) returns the transport, creating it with its
 * limits: the master.cf process limit of the service (default_process_limit
 * for "-", unlimited for 0), and TRANSPORT_destination_concurrency_limit,
 * _recipient_limit, _rate_delay, _concurrency_positive_feedback,
 * _negative_feedback and _failed_cohort_limit with the default_* values as
 * fallback. qmgr_queue_find() does the same for a destination; a new
 * destination starts at initial_destination_concurrency.
 *
 * Feedback: a delivery without a destination failure adds the positive
 * feedback to the window while the window is below busy +
 * initial_destination_concurrency, up to the concurrency limit; a
 * destination failure (the agent's hop status) subtracts the negative
 * feedback (window at least 1) and counts 1/window towards a failed
 * cohort. After failed_cohort_limit cohorts the destination is dead for
 * minimal_backoff_time: its waiting entries and new recipients are
 * deferred with "delivery temporarily suspended: REASON". A transport
 * whose agent cannot be reached or dies is suspended for
 * transport_retry_time the same way.
 *
 * qmgr_schedule() asks for a scheduling pass soon (a zero timer, so many
 * changes in one event round cost one pass). The pass visits transports
 * round robin and, within each, destinations round robin, and starts one
 * delivery per visit while the process limit, the destination window and
 * the rate delay allow.
 */
#include "sys_defs.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include "events.h"
#include "mail_conf.h"
#include "mail_params.h"
#include "mail_params_init.h"
#include "master_ent.h"
#include "msg.h"
#include "mymalloc.h"
#include "qmgr.h"
#include "vstring.h"

static HTABLE *qmgr_transport_table;
static QMGR_TRANSPORT *qmgr_transport_ring; /* next transport to visit */
static MASTER_TABLE *qmgr_master_table;
static bool qmgr_schedule_pending;

static void qmgr_schedule_event(int event, void *context);

/* The value of parameter TRANSPORT_SUFFIX, or NULL when unset. */
static const char *qmgr_transport_param(const char *transport, const char *suffix)
{
    static VSTRING *name;

    if (name == NULL)
        name = vstring_alloc(100);
    vstring_sprintf(name, "%s_%s", transport, suffix);
    return mail_conf_eval(vstring_str(name));
}

/* A per-transport integer parameter, else the default's value. */
static int qmgr_transport_int(const char *transport, const char *suffix, int def)
{
    const char *value = qmgr_transport_param(transport, suffix);
    char *end;
    long n;

    if (value == NULL || *value == 0)
        return def;
    n = strtol(value, &end, 10);
    if (*end != 0 || n < 0) {
        msg_warn("%s_%s: bad value \"%s\"; using %d", transport, suffix, value, def);
        return def;
    }
    return (int)n;
}

/* A per-transport time parameter, else the default's value. */
static int qmgr_transport_time(const char *transport, const char *suffix, int def)
{
    const char *value = qmgr_transport_param(transport, suffix);
    long long n;

    if (value == NULL || *value == 0)
        return def;
    if (!mail_params_time(value, 's', &n)) {
        msg_warn("%s_%s: bad time value \"%s\"; using %d", transport, suffix, value, def);
        return def;
    }
    return (int)n;
}

/* Parse a feedback value: "1", "0.5", "1/4" or "1/concurrency". */
double qmgr_feedback_parse(const char *value, bool *per_window)
{
    char *end;
    double num = strtod(value, &end);

    *per_window = false;
    if (end == value || num < 0)
        return 1;
    while (*end == ' ')
        end++;
    if (*end == 0)
        return num;
    if (*end++ != '/')
        return 1;
    while (*end == ' ')
        end++;
    if (strcmp(end, "concurrency") == 0) {
        *per_window = true;
        return num;
    }
    double den = strtod(end, NULL);

    return den > 0 ? num / den : 1;
}

/* A per-transport feedback parameter. */
static double qmgr_transport_feedback(const char *transport, const char *suffix, const char *def,
                                      bool *per_window)
{
    const char *value = qmgr_transport_param(transport, suffix);

    return qmgr_feedback_parse(value && *value ? value : def, per_window);
}

/* The master.cf process limit of a delivery service. */
static int qmgr_transport_process_limit(const char *name)
{
    MASTER_ENT *ent;

    if (qmgr_master_table == NULL) {
        VSTRING *path = vstring_alloc(100);

        vstring_sprintf(path, "%s/master.cf", mail_conf_dir);
        qmgr_master_table = master_ent_read(vstring_str(path), MASTER_ENT_FLAG_MISSING_OK);
        vstring_free(path);
    }
    if (qmgr_master_table == NULL || (ent = master_ent_find(qmgr_master_table, name, "unix")) == NULL)
        return var_default_process_limit;
    return ent->maxproc < 0 ? var_default_process_limit : ent->maxproc;
}

/* Find or create a transport. */
QMGR_TRANSPORT *qmgr_transport_find(const char *name)
{
    QMGR_TRANSPORT *transport;

    if (qmgr_transport_table == NULL)
        qmgr_transport_table = htable_create(10, 0);
    if ((transport = (QMGR_TRANSPORT *)htable_find(qmgr_transport_table, name)) != NULL)
        return transport;
    transport = (QMGR_TRANSPORT *)mymalloc(sizeof(*transport));
    memset(transport, 0, sizeof(*transport));
    transport->name = mystrdup(name);
    transport->process_limit = qmgr_transport_process_limit(name);
    transport->dest_limit =
        qmgr_transport_int(name, "destination_concurrency_limit", var_default_destination_concurrency_limit);
    transport->rcpt_limit =
        qmgr_transport_int(name, "destination_recipient_limit", var_default_destination_recipient_limit);
    transport->rate_delay =
        qmgr_transport_time(name, "destination_rate_delay", var_default_destination_rate_delay);
    transport->pos_feedback = qmgr_transport_feedback(name, "destination_concurrency_positive_feedback",
                                                      var_default_destination_concurrency_positive_feedback,
                                                      &transport->pos_per_window);
    transport->neg_feedback = qmgr_transport_feedback(name, "destination_concurrency_negative_feedback",
                                                      var_default_destination_concurrency_negative_feedback,
                                                      &transport->neg_per_window);
    transport->cohort_limit = qmgr_transport_int(name, "destination_concurrency_failed_cohort_limit",
                                                 var_default_destination_concurrency_failed_cohort_limit);
    transport->queues = htable_create(10, 0);
    htable_enter(qmgr_transport_table, name, transport);
    if (qmgr_transport_ring == NULL) {
        transport->next = transport;
        qmgr_transport_ring = transport;
    } else {
        transport->next = qmgr_transport_ring->next;
        qmgr_transport_ring->next = transport;
    }
    if (msg_verbose)
        msg_info("transport %s: process limit %d, destination concurrency %d, recipients %d, rate delay %ds",
                 name, transport->process_limit, transport->dest_limit, transport->rcpt_limit,
                 transport->rate_delay);
    return transport;
}

/* The largest window a destination of this transport may reach. */
static double qmgr_queue_window_limit(const QMGR_TRANSPORT *transport)
{
    int limit = transport->dest_limit;

    if (transport->rate_delay > 0)
        return 1;
    if (transport->process_limit > 0 && (limit == 0 || limit > transport->process_limit))
        limit = transport->process_limit;
    return limit > 0 ? limit : 1e9;
}

/* The window a new or revived destination starts with. */
static double qmgr_queue_initial_window(const QMGR_TRANSPORT *transport)
{
    double limit = qmgr_queue_window_limit(transport);

    return var_initial_destination_concurrency < limit ? var_initial_destination_concurrency : limit;
}

/* Find or create a destination. */
QMGR_QUEUE *qmgr_queue_find(QMGR_TRANSPORT *transport, const char *name, const char *nexthop)
{
    QMGR_QUEUE *queue;

    if ((queue = (QMGR_QUEUE *)htable_find(transport->queues, name)) != NULL)
        return queue;
    queue = (QMGR_QUEUE *)mymalloc(sizeof(*queue));
    memset(queue, 0, sizeof(*queue));
    queue->name = mystrdup(name);
    queue->nexthop = mystrdup(nexthop);
    queue->transport = transport;
    queue->window = qmgr_queue_initial_window(transport);
    queue->dead_status = mystrdup("");
    queue->dead_reason = mystrdup("");
    htable_enter(transport->queues, name, queue);
    return queue;
}

/* Link a queue into its transport's ring of queues with waiting entries. */
static void qmgr_queue_ready(QMGR_QUEUE *queue)
{
    QMGR_TRANSPORT *transport = queue->transport;

    if (queue->in_ready)
        return;
    queue->in_ready = true;
    if (transport->ready == NULL) {
        queue->ready_next = queue->ready_prev = queue;
        transport->ready = queue;
    } else {
        queue->ready_prev = transport->ready->ready_prev;
        queue->ready_next = transport->ready;
        transport->ready->ready_prev->ready_next = queue;
        transport->ready->ready_prev = queue;
    }
}

/* Unlink a queue from the ring. */
static void qmgr_queue_unready(QMGR_QUEUE *queue)
{
    QMGR_TRANSPORT *transport = queue->transport;

    if (!queue->in_ready)
        return;
    queue->in_ready = false;
    if (queue->ready_next == queue) {
        transport->ready = NULL;
    } else {
        queue->ready_prev->ready_next = queue->ready_next;
        queue->ready_next->ready_prev = queue->ready_prev;
        if (transport->ready == queue)
            transport->ready = queue->ready_next;
    }
    queue->ready_next = queue->ready_prev = NULL;
}

/* Forget an idle destination with nothing waiting, unless it is dead. */
static void qmgr_queue_cleanup(QMGR_QUEUE *queue)
{
    if (queue->busy > 0 || queue->todo_count > 0 || queue->dead_until != 0 || queue->rate_wait)
        return;
    qmgr_queue_unready(queue);
    htable_delete(queue->transport->queues, queue->name, NULL);
    myfree(queue->name);
    myfree(queue->nexthop);
    myfree(queue->dead_status);
    myfree(queue->dead_reason);
    myfree(queue);
}

/* Queue an entry for delivery. */
void qmgr_queue_add_entry(QMGR_QUEUE *queue, QMGR_ENTRY *entry)
{
    entry->next = NULL;
    if (queue->todo_tail)
        queue->todo_tail->next = entry;
    else
        queue->todo_head = entry;
    queue->todo_tail = entry;
    queue->todo_count++;
    qmgr_queue_ready(queue);
    qmgr_schedule();
}

/* Take the first waiting entry. */
static QMGR_ENTRY *qmgr_queue_pop(QMGR_QUEUE *queue)
{
    QMGR_ENTRY *entry = queue->todo_head;

    if (entry == NULL)
        return NULL;
    queue->todo_head = entry->next;
    if (queue->todo_head == NULL)
        queue->todo_tail = NULL;
    queue->todo_count--;
    if (queue->todo_count == 0)
        qmgr_queue_unready(queue);
    entry->next = NULL;
    return entry;
}

/* Defer every recipient of an entry that is not done yet, and free it. */
void qmgr_defer_entry(QMGR_ENTRY *entry, const char *status, const char *fmt, ...)
{
    QMGR_MESSAGE *message = entry->message;
    VSTRING *reason = vstring_alloc(100);
    va_list ap;

    va_start(ap, fmt);
    vstring_vsprintf(reason, fmt, ap);
    va_end(ap);
    for (int i = 0; i < entry->rcpt_list.len; i++)
        qmgr_message_defer_rcpt(message, entry->rcpt_list.info + i, status, "%s", vstring_str(reason));
    message->rcpt_in_memory -= entry->rcpt_list.len;
    qmgr_recipient_count -= entry->rcpt_list.len;
    recipient_list_free(&entry->rcpt_list);
    myfree(entry);
    vstring_free(reason);
    qmgr_message_entry_done(message);
}

/* Defer everything waiting in a queue with its dead reason. */
static void qmgr_queue_defer_todo(QMGR_QUEUE *queue, const char *status, const char *reason)
{
    QMGR_ENTRY *entry;

    while ((entry = qmgr_queue_pop(queue)) != NULL)
        qmgr_defer_entry(entry, status, "%s", reason);
}

/* Defer everything waiting in a dead queue. */
static void qmgr_queue_defer_suspended(QMGR_QUEUE *queue)
{
    QMGR_ENTRY *entry;

    while ((entry = qmgr_queue_pop(queue)) != NULL)
        qmgr_defer_entry(entry, queue->dead_status, "delivery temporarily suspended: %s", queue->dead_reason);
}

/* True while a destination is suspended; revives it when the time has come. */
bool qmgr_queue_dead(QMGR_QUEUE *queue)
{
    if (queue->dead_until == 0)
        return false;
    if (time(NULL) < queue->dead_until)
        return true;
    queue->dead_until = 0;
    queue->window = qmgr_queue_initial_window(queue->transport);
    queue->failure = queue->success = 0;
    queue->fail_cohorts = 0;
    return false;
}

/* A delivery to this destination succeeded (no destination failure). */
void qmgr_queue_success(QMGR_QUEUE *queue)
{
    QMGR_TRANSPORT *transport = queue->transport;
    double limit = qmgr_queue_window_limit(transport);
    double step =
        transport->pos_per_window ? transport->pos_feedback / queue->window : transport->pos_feedback;

    queue->failure = 0;
    queue->fail_cohorts = 0;
    if (queue->window < queue->busy + var_initial_destination_concurrency) {
        queue->window += step;
        if (queue->window > limit)
            queue->window = limit;
    }
    if (var_destination_concurrency_feedback_debug)
        msg_info("%s: %s: success, window %.2f, busy %d", transport->name, queue->name, queue->window,
                 queue->busy);
}

/* A delivery found the destination failing: shrink the window, maybe declare it dead. */
void qmgr_queue_failure(QMGR_QUEUE *queue, const char *status, const char *reason)
{
    QMGR_TRANSPORT *transport = queue->transport;
    double step =
        transport->neg_per_window ? transport->neg_feedback / queue->window : transport->neg_feedback;

    queue->failure += 1.0 / (queue->window < 1 ? 1 : queue->window);
    queue->window -= step;
    if (queue->window < 1)
        queue->window = 1;
    if (var_destination_concurrency_feedback_debug)
        msg_info("%s: %s: failure, window %.2f, failed cohorts %.2f", transport->name, queue->name,
                 queue->window, queue->failure);
    if (queue->dead_until != 0 || transport->cohort_limit <= 0 ||
        queue->failure + 1e-9 < transport->cohort_limit)
        return;
    queue->dead_until = time(NULL) + var_minimal_backoff_time;
    myfree(queue->dead_status);
    myfree(queue->dead_reason);
    queue->dead_status = mystrdup(*status == '4' || *status == '5' ? status : "4.0.0");
    queue->dead_status[0] = '4';
    queue->dead_reason = mystrdup(reason);
    qmgr_queue_defer_suspended(queue);
}

/* True while a transport is suspended. */
bool qmgr_transport_dead(QMGR_TRANSPORT *transport)
{
    if (transport->dead_until == 0)
        return false;
    if (time(NULL) < transport->dead_until)
        return true;
    transport->dead_until = 0;
    return false;
}

/* Suspend a transport whose agent is unreachable or dying; defer what waits for it. */
void qmgr_transport_throttle(QMGR_TRANSPORT *transport, const char *reason)
{
    HTABLE_INFO **list;

    if (transport->dead_until == 0)
        msg_warn("transport %s failure -- see a previous warning/fatal/panic logfile record for the problem "
                 "description",
                 transport->name);
    transport->dead_until = time(NULL) + var_transport_retry_time;
    myfree(transport->dead_reason);
    transport->dead_reason = mystrdup(reason);
    list = htable_list(transport->queues);
    for (HTABLE_INFO **ht = list; *ht; ht++)
        qmgr_queue_defer_todo((QMGR_QUEUE *)(*ht)->value, "4.3.0", reason);
    myfree(list);
    event_request_timer(qmgr_schedule_event, transport, var_transport_retry_time * 1000);
}

/* postqueue -f: forget dead destinations and suspended transports. */
void qmgr_transport_forget_dead(void)
{
    HTABLE_INFO **tlist;

    if (qmgr_transport_table == NULL)
        return;
    tlist = htable_list(qmgr_transport_table);
    for (HTABLE_INFO **t = tlist; *t; t++) {
        QMGR_TRANSPORT *transport = (QMGR_TRANSPORT *)(*t)->value;
        HTABLE_INFO **qlist = htable_list(transport->queues);

        transport->dead_until = 0;
        for (HTABLE_INFO **q = qlist; *q; q++) {
            QMGR_QUEUE *queue = (QMGR_QUEUE *)(*q)->value;

            if (queue->dead_until) {
                queue->dead_until = 1; /* revived on the next check */
                (void)qmgr_queue_dead(queue);
            }
        }
        myfree(qlist);
    }
    myfree(tlist);
}

/* The rate delay of a destination passed: schedule again. */
static void qmgr_queue_rate_event(int event UNUSED, void *context)
{
    QMGR_QUEUE *queue = (QMGR_QUEUE *)context;

    queue->rate_wait = false;
    qmgr_schedule();
}

/* True when a queue may start one more delivery now. */
static bool qmgr_queue_can_start(QMGR_QUEUE *queue)
{
    QMGR_TRANSPORT *transport = queue->transport;

    if (queue->todo_count == 0 || queue->rate_wait)
        return false;
    if (qmgr_queue_dead(queue)) {
        qmgr_queue_defer_suspended(queue);
        return false;
    }
    if (queue->busy >= (int)queue->window)
        return false;
    if (transport->rate_delay > 0 && queue->last_handoff.tv_sec != 0) {
        struct timeval now;
        long long wait_ms;

        gettimeofday(&now, NULL);
        wait_ms = (long long)(queue->last_handoff.tv_sec + transport->rate_delay - now.tv_sec) * 1000 +
                  (queue->last_handoff.tv_usec - now.tv_usec) / 1000;
        if (wait_ms > 0) {
            queue->rate_wait = true;
            event_request_timer(qmgr_queue_rate_event, queue, (int)wait_ms);
            return false;
        }
    }
    return true;
}

/* A delivery of this queue finished. */
void qmgr_queue_release(QMGR_QUEUE *queue)
{
    queue->busy--;
    queue->transport->busy--;
    if (queue->transport->rate_delay > 0)
        gettimeofday(&queue->last_handoff, NULL);
    qmgr_queue_cleanup(queue);
    qmgr_schedule();
}

/* Start one delivery for a transport; true if one was started. */
static bool qmgr_transport_start_one(QMGR_TRANSPORT *transport)
{
    QMGR_QUEUE *queue;
    int count = 0;

    if (transport->ready == NULL || qmgr_transport_dead(transport))
        return false;
    if (transport->process_limit > 0 && transport->busy >= transport->process_limit)
        return false;
    queue = transport->ready;
    do {
        count++;
        queue = queue->ready_next;
    } while (queue != transport->ready);
    while (count-- > 0 && (queue = transport->ready) != NULL) {
        transport->ready = queue->ready_next;
        if (!qmgr_queue_can_start(queue))
            continue;
        QMGR_ENTRY *entry = qmgr_queue_pop(queue);

        queue->busy++;
        transport->busy++;
        gettimeofday(&queue->last_handoff, NULL);
        if (!qmgr_deliver(entry))
            qmgr_queue_release(queue);
        return true;
    }
    return false;
}

/* The scheduling pass. */
static void qmgr_schedule_event(int event UNUSED, void *context UNUSED)
{
    bool progress = true;

    qmgr_schedule_pending = false;
    while (progress && qmgr_transport_ring) {
        QMGR_TRANSPORT *start = qmgr_transport_ring;
        QMGR_TRANSPORT *transport = start;

        progress = false;
        do {
            if (qmgr_transport_start_one(transport))
                progress = true;
            transport = transport->next;
        } while (transport != start);
        qmgr_transport_ring = qmgr_transport_ring->next;
    }
    qmgr_scan_run();
}

/* Ask for a scheduling pass soon. */
void qmgr_schedule(void)
{
    if (qmgr_schedule_pending)
        return;
    qmgr_schedule_pending = true;
    event_request_timer(qmgr_schedule_event, NULL, 0);
}
