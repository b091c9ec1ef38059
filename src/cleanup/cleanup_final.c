/*
 * cleanup_final - finish a message: patch its SIZE record, make it
 * durable together with the other messages that completed at the same
 * moment (group commit), then answer each client.
 *
 * Public functions: cleanup_final(), cleanup_final_commit(),
 * cleanup_final_abort(), cleanup_size_patch(), cleanup_disconnect.
 *
 * The rule this module exists for: a client hears "status=0" only after
 * its queue file's data, its completion mark and its directory entry are
 * on stable storage; and nothing half-written ever looks complete.
 *
 *   1. While records arrive the file is incoming/QID with mode 0600; the
 *      queue manager and every queue tool skip such files.
 *   2. cleanup_final(), when the stages set state->done: a rejected
 *      message (lethal state->errs) is removed and the client gets the
 *      error at once; a discarded one (DISCARD flag or action) is removed
 *      and the client gets status=0, as Postfix pretends delivery. Else the
 *      SIZE record is rewritten in place (same width) and the file is
 *      flushed to the kernel; a held message (HOLD flag or action) is
 *      renamed into hold/ now, while it is still 0600, so the queue
 *      manager can never pick it up from incoming/. The state then joins
 *      the batch, and a zero-delay event timer is requested.
 *   3. The timer runs at the end of the current event-loop round, after
 *      every readable client of that round was served (events.c runs
 *      timers after the descriptor callbacks; a zero-delay timer requested
 *      by a callback is due in the same round). So a batch holds exactly
 *      the messages that completed in one round: a lone message is never
 *      delayed waiting for company, and under load many messages share
 *      one round. cleanup_final_commit() then
 *        a. sets mode 0700 (MAIL_QUEUE_STAT_READY, the completion mark)
 *           on every file of the batch,
 *        b. fsyncs every file (the first fsync commits the file system
 *           journal with all the batch's metadata, later ones find less to
 *           do; that is where batching pays),
 *        c. fsyncs each directory that holds a file of the batch ONCE
 *           (normally just incoming/, plus hold/ for held messages),
 *        d. replies status=0 to each client whose file survived a-c, or
 *           removes the file and replies the error,
 *        e. wakes the queue manager once for the batch ("I": scan
 *           incoming) if a message landed in incoming/,
 *        f. releases the clients. Last, because releasing the client that
 *           completes the process's max_use ends the process at once: a
 *           release inside d lost the wakeup and left later clients of
 *           the batch without their answer.
 *      A crash before d leaves files the clients were never told about:
 *      they retry (a duplicate at worst, never a loss); the 0600 leftovers
 *      are incomplete by definition. A crash after d loses nothing: every
 *      acknowledged byte and name was fsynced.
 *
 * The mode changes before the fsync so one fsync makes both the data and
 * the mark durable. A file already marked 0700 whose fsync then fails is
 * removed and the client gets a temporary error; if the queue manager
 * was quicker the message may be delivered and retried by the client (a
 * duplicate, never a loss), the same trade Postfix makes.
 *
 * Nothing is logged per message on success (the stages log message-id,
 * hold, discard and reject lines, Postfix's wording). Frame errors are
 * warnings with the queue ID:
 *   warning: QID: write queue file: REASON     (also in cleanup_out.c)
 *   warning: QID: commit queue file: REASON
 *   warning: QID: cannot move to hold: REASON  (temporary failure)
 *   warning: remove incoming/QID: REASON       (Postfix's wording; the path has the ID)
 * A failed qmgr wakeup is logged by mail_trigger() at most once a minute:
 * after a failure, wakeups are skipped for 60 seconds. That strands
 * nothing: the queue manager scans incoming/ when it starts and on its
 * own timer.
 *
 * The client's reply is attr "status" (CLEANUP_STAT_* bits, 0 for success)
 * and "reason": state->reason, or for an error without text the generic
 * "DSN TEXT" of cleanup_stat_detail(), so the client always has a
 * diagnostic.
 *
 * Local submissions with CLEANUP_FLAG_BOUNCE: Postfix's cleanup turns a
 * permanent rejection into a non-delivery notice and replies success.
 * Here the client (pickup) gets the error status like any other and
 * returns the message to its sender itself: a cleanup process that
 * waited for the bounce service could deadlock, since the notice comes
 * back through cleanup.
 */
#include "sys_defs.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "argv.h"
#include "attr.h"
#include "cleanup.h"
#include "cleanup_frame.h"
#include "cleanup_user.h"
#include "events.h"
#include "mail_proto.h"
#include "mail_queue.h"
#include "mail_server.h"
#include "msg.h"
#include "mymalloc.h"
#include "record.h"
#include "vstream.h"
#include "vstring.h"

/* How the frame lets go of a client; tests substitute their own. */
void (*cleanup_disconnect)(VSTREAM *client) = event_server_disconnect;

/* Messages completed in this event-loop round, waiting for cleanup_final_commit(). */
static CLEANUP_STATE **cleanup_batch;
static size_t cleanup_batch_len;
static size_t cleanup_batch_size;

/* Seconds between qmgr wakeup attempts after one failed. */
#define CLEANUP_TRIGGER_QUIET 60
static time_t cleanup_trigger_failed;

static void cleanup_final_commit_event(int event, void *context);

/* The status sent to the client: only the defined error bits. */
static unsigned cleanup_final_status(CLEANUP_STATE *state)
{
    return state->errs & CLEANUP_STAT_LETHAL;
}

/* Send status and reason; a client that has gone away simply misses it. */
static void cleanup_final_reply(CLEANUP_STATE *state)
{
    unsigned status = cleanup_final_status(state);
    const char *reason = "";

    if (status != 0) {
        if (VSTRING_LEN(state->reason) > 0) {
            reason = vstring_str(state->reason);
        } else {
            const CLEANUP_STAT_DETAIL *detail = cleanup_stat_detail(status);

            reason = detail ? vstring_str(vstring_sprintf(state->temp1, "%s %s", detail->dsn, detail->text))
                            : cleanup_strerror(status);
        }
    }
    (void)attr_print(state->client, ATTR_FLAG_NONE, SEND_ATTR_INT(MAIL_ATTR_STATUS, status),
                     SEND_ATTR_STR(MAIL_ATTR_WHY, reason), ATTR_TYPE_END);
}

/* Close and delete the queue file; a file that is already gone is fine. */
static void cleanup_final_remove(CLEANUP_STATE *state)
{
    if (state->dst != NULL) {
        (void)vstream_fclose(state->dst);
        state->dst = NULL;
    }
    if (state->queue_id != NULL && mail_queue_remove(state->queue_name, state->queue_id) < 0 &&
        errno != ENOENT)
        msg_warn("remove %s/%s: %m", state->queue_name, state->queue_id);
}

/* Let go of the client and the state. */
static void cleanup_final_release(CLEANUP_STATE *state)
{
    VSTREAM *client = state->client;

    cleanup_state_free(state);
    cleanup_disconnect(client);
}

/* Give up on a client: no file stays behind; REPLY says whether it still listens. */
void cleanup_final_abort(CLEANUP_STATE *state, bool reply)
{
    cleanup_final_remove(state);
    if (reply) {
        if (cleanup_final_status(state) == 0)
            cleanup_set_error(state, CLEANUP_STAT_BAD, NULL);
        cleanup_final_reply(state);
    }
    cleanup_final_release(state);
}

/* Rewrite the SIZE record at offset 0 with the final values; 0 or -1 (WRITE error latched). */
int cleanup_size_patch(CLEANUP_STATE *state)
{
    static VSTRING *buf;

    if (buf == NULL)
        buf = vstring_alloc(REC_SIZE_LEN + 1);
    vstring_sprintf(buf, REC_SIZE_FORMAT, (long long)state->cont_length, (long long)state->data_offset,
                    state->rcpt_count, 0, (long long)state->xtra_offset);
    if (VSTRING_LEN(buf) != REC_SIZE_LEN) {
        msg_warn("%s: size record values do not fit: %s", state->queue_id, vstring_str(buf));
        cleanup_set_error(state, CLEANUP_STAT_WRITE, NULL);
        return -1;
    }
    if (vstream_fseek(state->dst, 0, SEEK_SET) < 0 ||
        rec_put(state->dst, REC_TYPE_SIZE, vstring_str(buf), REC_SIZE_LEN) < 0 ||
        vstream_fflush(state->dst) != 0) {
        errno = vstream_errno(state->dst) ? vstream_errno(state->dst) : errno;
        msg_warn("%s: write queue file: %m", state->queue_id);
        cleanup_set_error(state, CLEANUP_STAT_WRITE, NULL);
        return -1;
    }
    return 0;
}

/* The message is complete: reject, discard, or join the commit batch. */
void cleanup_final(CLEANUP_STATE *state)
{
    if ((state->errs & CLEANUP_STAT_LETHAL) == 0 && cleanup_size_patch(state) == 0) {
        if ((state->flags & CLEANUP_FLAG_DISCARD) != 0 || state->discard) {
            /* The stage (or the client's access rule) logged the discard. */
            cleanup_final_remove(state);
            cleanup_final_reply(state);
            cleanup_final_release(state);
            return;
        }
        if ((state->flags & CLEANUP_FLAG_HOLD) != 0 || state->hold_reason != NULL) {
            if (mail_queue_rename(state->queue_id, state->queue_name, MAIL_QUEUE_HOLD) == 0) {
                myfree(state->queue_name);
                state->queue_name = mystrdup(MAIL_QUEUE_HOLD);
            } else {
                msg_warn("%s: cannot move to hold: %m", state->queue_id);
                cleanup_set_error(state, CLEANUP_STAT_WRITE, NULL);
            }
        }
    }
    if ((state->errs & CLEANUP_STAT_LETHAL) != 0) {
        /* Rejected: nothing to keep. See the top comment about CLEANUP_FLAG_BOUNCE. */
        cleanup_final_remove(state);
        cleanup_final_reply(state);
        cleanup_final_release(state);
        return;
    }
    if (cleanup_batch_len == cleanup_batch_size) {
        cleanup_batch_size = cleanup_batch_size ? 2 * cleanup_batch_size : 16;
        cleanup_batch = myrealloc(cleanup_batch, cleanup_batch_size * sizeof(*cleanup_batch));
    }
    cleanup_batch[cleanup_batch_len++] = state;
    event_request_timer(cleanup_final_commit_event, NULL, 0);
}

/* The zero-delay timer that ends a round. */
static void cleanup_final_commit_event(int event UNUSED, void *context UNUSED)
{
    cleanup_final_commit();
}

/* A file of the batch could not be made durable. */
static void cleanup_final_commit_error(CLEANUP_STATE *state, const char *what)
{
    msg_warn("%s: commit queue file: %s: %m", state->queue_id, what);
    cleanup_set_error(state, CLEANUP_STAT_WRITE, NULL);
}

/* Wake the queue manager, but stay quiet for a while after it could not be reached. */
static void cleanup_final_trigger(void)
{
    time_t now = time(NULL);

    if (cleanup_trigger_failed != 0 && now - cleanup_trigger_failed < CLEANUP_TRIGGER_QUIET &&
        now >= cleanup_trigger_failed)
        return;
    if (mail_trigger(MAIL_CLASS_PUBLIC, MAIL_SERVICE_QUEUE, "I", 1) < 0)
        cleanup_trigger_failed = now;
    else
        cleanup_trigger_failed = 0;
}

/* Make every file of the batch durable, then answer each client. */
void cleanup_final_commit(void)
{
    CLEANUP_STATE **batch = cleanup_batch;
    size_t len = cleanup_batch_len;
    VSTRING *dir = vstring_alloc(100);
    ARGV *synced = argv_alloc(2);
    bool wake_qmgr = false;

    /* A new batch starts empty; nothing below adds to it, but stay safe. */
    cleanup_batch = NULL;
    cleanup_batch_len = cleanup_batch_size = 0;
    (void)event_cancel_timer(cleanup_final_commit_event, NULL);

    /* a. The completion mark. */
    for (size_t i = 0; i < len; i++) {
        CLEANUP_STATE *state = batch[i];

        if (vstream_fflush(state->dst) != 0) {
            errno = vstream_errno(state->dst);
            cleanup_final_commit_error(state, "flush");
        } else if (fchmod(vstream_fileno(state->dst), MAIL_QUEUE_STAT_READY) < 0) {
            cleanup_final_commit_error(state, "fchmod");
        }
    }
    /* b. Data and mark on stable storage. */
    for (size_t i = 0; i < len; i++) {
        CLEANUP_STATE *state = batch[i];

        if ((state->errs & CLEANUP_STAT_LETHAL) == 0 && fsync(vstream_fileno(state->dst)) < 0)
            cleanup_final_commit_error(state, "fsync");
    }
    /* c. Each directory entry, once per directory. */
    for (size_t i = 0; i < len; i++) {
        CLEANUP_STATE *state = batch[i];

        if ((state->errs & CLEANUP_STAT_LETHAL) != 0)
            continue;
        mail_queue_dir(dir, state->queue_name, state->queue_id, true);
        bool seen = false;

        for (size_t j = 0; j < synced->argc; j++)
            if (strcmp(synced->argv[j], vstring_str(dir)) == 0)
                seen = true;
        if (seen)
            continue;
        argv_add(synced, vstring_str(dir));
        if (mail_queue_sync_dir(state->queue_name, state->queue_id) < 0) {
            /* Every file of the batch in that directory is in doubt. */
            int saved = errno;

            for (size_t j = i; j < len; j++) {
                VSTRING *other = state->temp2;

                if ((batch[j]->errs & CLEANUP_STAT_LETHAL) == 0 &&
                    strcmp(mail_queue_dir(other, batch[j]->queue_name, batch[j]->queue_id, true),
                           vstring_str(dir)) == 0) {
                    errno = saved;
                    cleanup_final_commit_error(batch[j], "fsync directory");
                }
            }
        }
    }
    /* d. The answers. */
    for (size_t i = 0; i < len; i++) {
        CLEANUP_STATE *state = batch[i];

        if ((state->errs & CLEANUP_STAT_LETHAL) != 0) {
            cleanup_final_remove(state);
        } else if (strcmp(state->queue_name, MAIL_QUEUE_INCOMING) == 0) {
            wake_qmgr = true;
        }
        cleanup_final_reply(state);
    }
    /* e. One wakeup for the whole batch. */
    if (wake_qmgr)
        cleanup_final_trigger();
    /* f. Only now the clients go: the last one may end a process at its max_use. */
    for (size_t i = 0; i < len; i++)
        cleanup_final_release(batch[i]);
    myfree(batch);
    argv_free(synced);
    vstring_free(dir);
}
