/*
 * cleanup_input - one client connection of the cleanup daemon: the queue
 * file is created, the queue ID sent, then the client's records are read
 * as they arrive, without blocking the other clients of this process.
 *
 * cleanup_service(client) is event_server_main's service function:
 * cleanup_open() then cleanup_input_start(). cleanup_open() creates
 * incoming/QID with mode 0600 (incomplete: the queue manager
 * ignores it), writes the SIZE record with placeholder values (fixed
 * width, patched in place at the end), replies "queue_id=QID", makes the
 * connection non-blocking and asks the event loop for readable events
 * (cleanup_input_start()).
 *
 * Each readable event reads what is there (one read per event: clients
 * in the same process take turns) into state->inbuf. cleanup_input()
 * decodes every whole record with rec_decode() and calls
 * state->action(state, type, data, len); DATA is null-terminated for the
 * duration of the call (the byte after it is set to 0 and restored), so
 * stages may treat text records as C strings without a copy. A partial
 * record stays in inbuf until the rest arrives. Once state->errs holds a
 * lethal bit, records are dropped until END, so the client can still
 * finish sending and read the error reply. END completes the message:
 * reading stops and cleanup_final() takes over. A stage that does not
 * set state->done on END is a protocol error (the client never waits
 * forever).
 *
 * Record size limit (cleanup_rec_limit()): max(2 * line_length_limit,
 * 1 MiB). Clients split message lines at line_length_limit, so content
 * records are far below it; envelope records (addresses, attributes) are
 * bounded by the same 1 MiB the attribute protocol allows for a value.
 * The limit only exists to bound the memory a broken client can make a
 * cleanup process hold: the check happens while a record is still
 * arriving, so inbuf never grows past limit + a header + one read.
 *
 * Time limit: a client that sends nothing for $ipc_timeout (the limit
 * Postfix applies to each read of a cleanup client) is dropped; the
 * timer restarts with every read, so a large message from a slow but
 * steady client is never cut off.
 *
 * Errors (all logged with the queue ID, the queue file removed, nothing
 * acknowledged):
 *   warning: QID: read timeout on STREAM            reply status=BAD
 *   warning: QID: malformed record from STREAM      reply status=BAD
 *   warning: QID: record of N bytes from STREAM exceeds the limit of L
 *                                                   reply status=BAD
 *   warning: QID: unexpected end of input from STREAM (client gone, no reply)
 *   warning: cannot create a queue file in incoming: REASON (the client
 *            is dropped before it gets a queue ID; it retries)
 */
#include "sys_defs.h"

#include <errno.h>
#include <limits.h>
#include <string.h>
#include <unistd.h>

#include "attr.h"
#include "cleanup.h"
#include "cleanup_frame.h"
#include "cleanup_user.h"
#include "events.h"
#include "iostuff.h"
#include "mail_params.h"
#include "mail_proto.h"
#include "mail_queue.h"
#include "msg.h"
#include "mymalloc.h"
#include "record.h"
#include "vstream.h"
#include "vstring.h"

/* How much one readable event reads at most. */
#define CLEANUP_READ_CHUNK (4 * VSTREAM_BUFSIZE)

/* The floor of the record size limit: the attribute protocol's value limit. */
#define CLEANUP_REC_LIMIT_FLOOR ((size_t)ATTR_LEN_MAX)

static void cleanup_input_event(int event, void *context);

/* The longest record data a client may send. */
size_t cleanup_rec_limit(void)
{
    size_t by_lines = var_line_length_limit > 0 ? 2 * (size_t)var_line_length_limit : 0;

    return by_lines > CLEANUP_REC_LIMIT_FLOOR ? by_lines : CLEANUP_REC_LIMIT_FLOOR;
}

/* The client's stream name for log lines. */
static const char *cleanup_input_peer(CLEANUP_STATE *state)
{
    const char *path = vstream_path(state->client);

    return path ? path : "client";
}

/* $ipc_timeout in milliseconds, for the event timer. */
static int cleanup_input_timeout_ms(void)
{
    int seconds = var_ipc_timeout > 0 ? var_ipc_timeout : 1;

    return seconds > INT_MAX / 1000 ? INT_MAX : seconds * 1000;
}

/* The client was silent for too long: give up on it. */
static void cleanup_input_timeout(int event UNUSED, void *context)
{
    CLEANUP_STATE *state = context;

    msg_warn("%s: read timeout on %s", state->queue_id, cleanup_input_peer(state));
    cleanup_input_stop(state);
    cleanup_set_error(state, CLEANUP_STAT_BAD, NULL);
    cleanup_final_abort(state, true);
}

/* Stop reading from the client and its timer (the message is complete or abandoned). */
void cleanup_input_stop(CLEANUP_STATE *state)
{
    if (state->client != NULL && vstream_fileno(state->client) >= 0)
        event_disable_readwrite(vstream_fileno(state->client));
    (void)event_cancel_timer(cleanup_input_timeout, state);
}

/* A new client: create the queue file and send its ID; NULL when the client was dropped. */
CLEANUP_STATE *cleanup_open(VSTREAM *client)
{
    CLEANUP_STATE *state = cleanup_state_alloc(client);
    VSTRING *id = vstring_alloc(MAIL_QUEUE_ID_LEN_MAX);

    state->dst = mail_queue_enter(MAIL_QUEUE_INCOMING, MAIL_QUEUE_STAT_WRITE, &state->create_time, id);
    if (state->dst == NULL) {
        msg_warn("cannot create a queue file in %s: %m", MAIL_QUEUE_INCOMING);
        vstring_free(id);
        cleanup_state_free(state);
        cleanup_disconnect(client);
        return NULL;
    }
    state->queue_id = vstring_export(id);
    state->queue_name = mystrdup(MAIL_QUEUE_INCOMING);
    state->arrival_time = state->create_time;

    /* Placeholder values; cleanup_size_patch() writes the real ones in the same width. */
    cleanup_out_format(state, REC_TYPE_SIZE, REC_SIZE_FORMAT, 0LL, 0LL, 0, 0, 0LL);
    if (state->errs != 0) {
        cleanup_final_abort(state, false);
        return NULL;
    }
    if (attr_print(client, ATTR_FLAG_NONE, SEND_ATTR_STR(MAIL_ATTR_QUEUEID, state->queue_id),
                   ATTR_TYPE_END) != 0) {
        msg_warn("%s: cannot send the queue ID to %s: %m", state->queue_id, cleanup_input_peer(state));
        cleanup_final_abort(state, false);
        return NULL;
    }
    return state;
}

/* Read the client's records as they arrive, under the $ipc_timeout inactivity limit. */
void cleanup_input_start(CLEANUP_STATE *state)
{
    int fd = vstream_fileno(state->client);

    (void)non_blocking(fd, true);
    event_enable_read(fd, cleanup_input_event, state);
    event_request_timer(cleanup_input_timeout, state, cleanup_input_timeout_ms());
}

/* event_server_main's service function: one new client. */
void cleanup_service(VSTREAM *client, char *service UNUSED, char **argv UNUSED)
{
    CLEANUP_STATE *state = cleanup_open(client);

    if (state != NULL)
        cleanup_input_start(state);
}

/* One record from the client: to the current stage, or dropped after a lethal error. */
static void cleanup_input_record(CLEANUP_STATE *state, int type, const char *data, size_t len)
{
    if ((state->errs & CLEANUP_STAT_LETHAL) == 0)
        state->action(state, type, data, len);
    if (type != REC_TYPE_END)
        return;
    if (!state->done && (state->errs & CLEANUP_STAT_LETHAL) == 0) {
        msg_warn("%s: unexpected END record from %s", state->queue_id, cleanup_input_peer(state));
        cleanup_set_error(state, CLEANUP_STAT_BAD, NULL);
    }
    state->done = true;
}

/* The client broke the record format: reply with an error and drop it. */
static void cleanup_input_bad(CLEANUP_STATE *state)
{
    cleanup_input_stop(state);
    cleanup_set_error(state, CLEANUP_STAT_BAD, NULL);
    cleanup_final_abort(state, true);
}

/* Feed received bytes; whole records go to the stages. May free the state. */
void cleanup_input(CLEANUP_STATE *state, const char *bytes, size_t len)
{
    size_t limit = cleanup_rec_limit();
    size_t used = 0;

    vstring_memcat(state->inbuf, bytes, len);
    while (!state->done && used < VSTRING_LEN(state->inbuf)) {
        char *start = vstring_str(state->inbuf) + used;
        size_t avail = VSTRING_LEN(state->inbuf) - used;
        const char *data;
        size_t data_len;
        int type;
        ssize_t n = rec_decode(start, avail, &type, &data, &data_len);

        if (n < 0) {
            msg_warn("%s: malformed record from %s", state->queue_id, cleanup_input_peer(state));
            cleanup_input_bad(state);
            return;
        }
        if (n == 0) {
            /* Incomplete; refuse to buffer more than the largest record can take. */
            if (avail > limit + 1 + REC_LEN_MAX_BYTES) {
                msg_warn("%s: record of more than %zu bytes from %s exceeds the limit of %zu",
                         state->queue_id, avail - 1 - REC_LEN_MAX_BYTES, cleanup_input_peer(state), limit);
                cleanup_input_bad(state);
                return;
            }
            break;
        }
        if (data_len > limit) {
            msg_warn("%s: record of %zu bytes from %s exceeds the limit of %zu", state->queue_id, data_len,
                     cleanup_input_peer(state), limit);
            cleanup_input_bad(state);
            return;
        }
        used += (size_t)n;

        /* Terminate the data in place for the stage, then put the byte back. */
        char *end = (char *)data + data_len;
        char saved = *end;

        *end = 0;
        cleanup_input_record(state, type, data, data_len);
        *end = saved;
    }
    if (state->done) {
        cleanup_input_stop(state);
        cleanup_final(state);
        return;
    }
    if (used > 0) {
        size_t rest = VSTRING_LEN(state->inbuf) - used;

        memmove(vstring_str(state->inbuf), vstring_str(state->inbuf) + used, rest);
        vstring_truncate(state->inbuf, rest);
    }
}

/* The client is readable: take what it sent, or notice that it has gone. */
static void cleanup_input_event(int event UNUSED, void *context)
{
    CLEANUP_STATE *state = context;
    char buf[CLEANUP_READ_CHUNK];
    ssize_t n;

    if (vstream_peek(state->client) > 0) {
        size_t ready = vstream_peek(state->client);

        n = (ssize_t)vstream_fread(state->client, buf, ready < sizeof(buf) ? ready : sizeof(buf));
    } else {
        n = read(vstream_fileno(state->client), buf, sizeof(buf));
    }
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
        return;
    if (n <= 0) {
        if (n < 0)
            msg_warn("%s: read from %s: %m -- queue file removed", state->queue_id,
                     cleanup_input_peer(state));
        else
            msg_warn("%s: unexpected end of input from %s -- queue file removed", state->queue_id,
                     cleanup_input_peer(state));
        cleanup_input_stop(state);
        cleanup_final_abort(state, false);
        return;
    }
    event_request_timer(cleanup_input_timeout, state, cleanup_input_timeout_ms());
    cleanup_input(state, buf, (size_t)n);
}
