/*
 * qmgr_scan - the incoming and deferred queue scans (queue.md 5.1).
 *
 * qmgr_scan_request(queue, flags) starts a scan of incoming/ or deferred/
 * (with QMGR_SCAN_ALL: ignore retry times; QMGR_SCAN_FLUSH: the messages
 * found ignore defer_transports), or, when that scan is already running,
 * remembers to scan again once it ends (its flags are merged).
 * qmgr_scan_run() takes messages from the running scans into the active
 * queue, alternating between the incoming and the deferred scan one
 * message at a time, while the active queue has room
 * (qmgr_message_active_limit messages, qmgr_message_recipient_limit
 * recipients). A deferred message is taken when its file's mtime (the
 * retry time) has passed.
 *
 * qmgr_scan_later(queue) scans QUEUE again in a few seconds, for a file
 * that was in use (locked by an agent of an earlier queue manager).
 *
 * qmgr_scan_period_ms(run_delay, usec) is the wait until the next
 * periodic deferred scan, RUN_DELAY seconds on, for a scan started USEC
 * microseconds into a second: scans run just after a second boundary.
 * Retry times (file mtimes) are whole seconds, so such a scan takes every
 * message whose time has come; at an arbitrary phase a retry waited up to
 * a second longer (half a second on average). The number of scans is the
 * same.
 *
 * qmgr_scan_recover_active() moves every file left in active/ by an
 * earlier queue manager back to incoming/ (at start only).
 *
 * A scan lists its directory once (hashed subdirectories included) and
 * walks the list; files that vanish meanwhile are skipped.
 */
#include "sys_defs.h"

#include <dirent.h>
#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "argv.h"
#include "events.h"
#include "mail_params.h"
#include "mail_queue.h"
#include "msg.h"
#include "mymalloc.h"
#include "qmgr.h"
#include "vstring.h"

typedef struct QMGR_SCAN {
    const char *queue;
    ARGV *ids;   /* the listing being walked, NULL when idle */
    size_t next; /* next index in ids */
    int flags;   /* flags of the running scan */
    bool again;  /* scan again when done */
    int again_flags;
} QMGR_SCAN;

#define QMGR_SCAN_LATER_MS 5000 /* retry a file that was in use */
#define QMGR_SCAN_PHASE_MS 5    /* periodic scans: this long after the second */

static QMGR_SCAN qmgr_scan_incoming = {MAIL_QUEUE_INCOMING, NULL, 0, 0, false, 0};
static QMGR_SCAN qmgr_scan_deferred = {MAIL_QUEUE_DEFERRED, NULL, 0, 0, false, 0};

/* Append the queue IDs under DIR (recursing into hash subdirectories). */
static void qmgr_scan_list(ARGV *ids, const char *dir, int depth)
{
    DIR *dp;
    struct dirent *dent;

    if ((dp = opendir(dir)) == NULL) {
        if (errno != ENOENT)
            msg_warn("open directory %s: %m", dir);
        return;
    }
    while ((dent = readdir(dp)) != NULL) {
        if (dent->d_name[0] == '.')
            continue;
        if (strlen(dent->d_name) == 1 && depth < 16) {
            struct stat st;
            VSTRING *sub = vstring_alloc(100);
            bool is_dir;

            vstring_sprintf(sub, "%s/%s", dir, dent->d_name);
            if ((is_dir = stat(vstring_str(sub), &st) == 0 && S_ISDIR(st.st_mode)))
                qmgr_scan_list(ids, vstring_str(sub), depth + 1);
            vstring_free(sub);
            if (is_dir)
                continue;
        }
        if (mail_queue_id_ok(dent->d_name))
            argv_add(ids, dent->d_name);
    }
    closedir(dp);
}

/* Start (or restart) listing a queue. */
static void qmgr_scan_start(QMGR_SCAN *scan, int flags)
{
    scan->ids = argv_alloc(100);
    scan->next = 0;
    scan->flags = flags;
    qmgr_scan_list(scan->ids, scan->queue, 0);
    if (msg_verbose)
        msg_info("scan %s: %zu files", scan->queue, scan->ids->argc);
}

/* Request a scan. */
void qmgr_scan_request(const char *queue_name, int flags)
{
    QMGR_SCAN *scan =
        strcmp(queue_name, MAIL_QUEUE_INCOMING) == 0 ? &qmgr_scan_incoming : &qmgr_scan_deferred;

    if (scan->ids) {
        scan->again = true;
        scan->again_flags |= flags;
    } else {
        qmgr_scan_start(scan, flags);
    }
    qmgr_schedule();
}

/* The retry timer of a queue with a file in use: scan it again. */
static void qmgr_scan_later_event(int event UNUSED, void *context)
{
    QMGR_SCAN *scan = (QMGR_SCAN *)context;

    qmgr_scan_request(scan->queue, scan->flags);
}

/* A file of QUEUE could not be taken now: scan that queue again in a while. */
void qmgr_scan_later(const char *queue_name)
{
    QMGR_SCAN *scan =
        strcmp(queue_name, MAIL_QUEUE_INCOMING) == 0 ? &qmgr_scan_incoming : &qmgr_scan_deferred;

    event_request_timer(qmgr_scan_later_event, scan, QMGR_SCAN_LATER_MS);
}

/* The next message file of a scan that may be taken now, or NULL. */
static const char *qmgr_scan_next(QMGR_SCAN *scan)
{
    VSTRING *path = vstring_alloc(100);
    const char *id = NULL;
    time_t now = time(NULL);
    struct stat st;

    while (scan->ids && id == NULL) {
        if (scan->next >= scan->ids->argc) {
            argv_free(scan->ids);
            scan->ids = NULL;
            if (scan->again) {
                scan->again = false;
                qmgr_scan_start(scan, scan->again_flags);
                scan->again_flags = 0;
            }
            continue;
        }
        const char *candidate = scan->ids->argv[scan->next++];

        if (stat(mail_queue_path(path, scan->queue, candidate, true), &st) < 0)
            continue;
        if ((st.st_mode & S_IRWXU) != MAIL_QUEUE_STAT_READY)
            continue;
        if (scan == &qmgr_scan_deferred && !(scan->flags & QMGR_SCAN_ALL) &&
            !(st.st_mode & MAIL_QUEUE_STAT_FLUSH) && st.st_mtime > now)
            continue;
        id = candidate;
    }
    vstring_free(path);
    return id;
}

/* Take messages into the active queue while there is room. */
void qmgr_scan_run(void)
{
    bool progress = true;

    while (progress && qmgr_message_count < var_qmgr_message_active_limit &&
           qmgr_recipient_count < var_qmgr_message_recipient_limit) {
        QMGR_SCAN *order[2] = {&qmgr_scan_incoming, &qmgr_scan_deferred};

        progress = false;
        for (int i = 0; i < 2; i++) {
            QMGR_SCAN *scan = order[i];
            const char *id = qmgr_scan_next(scan);

            if (id != NULL) {
                (void)qmgr_message_activate(scan->queue, id, scan->flags);
                progress = true;
            }
        }
    }
}

/* Move files left in active/ back to incoming/. */
void qmgr_scan_recover_active(void)
{
    ARGV *ids = argv_alloc(10);

    qmgr_scan_list(ids, MAIL_QUEUE_ACTIVE, 0);
    for (size_t i = 0; i < ids->argc; i++)
        if (mail_queue_rename(ids->argv[i], MAIL_QUEUE_ACTIVE, MAIL_QUEUE_INCOMING) < 0 && errno != ENOENT)
            msg_warn("%s: move from %s to %s: %m", ids->argv[i], MAIL_QUEUE_ACTIVE, MAIL_QUEUE_INCOMING);
    argv_free(ids);
}

/* The wait until the next periodic deferred scan; see above. */
int qmgr_scan_period_ms(int run_delay, long usec)
{
    int ms = run_delay * 1000 - (int)(usec / 1000) + QMGR_SCAN_PHASE_MS;

    return ms > 0 ? ms : QMGR_SCAN_PHASE_MS;
}
