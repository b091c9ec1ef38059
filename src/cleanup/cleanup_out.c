/*
 * cleanup_out - write records to the queue file being built.
 *
 * cleanup_out(state, type, data, len) appends one record to state->dst;
 * cleanup_out_string() writes a null-terminated string, cleanup_out_format()
 * a printf-style one. Once state->errs holds a lethal bit the message will
 * not be queued, so records are silently dropped (the stages keep reading
 * the client's records until END without checking every call).
 *
 * Errors: a failed write latches CLEANUP_STAT_WRITE (the client hears
 * "4.3.0 queue file write error") and logs
 *   warning: QID: write queue file: REASON
 * once per message; later records are dropped by the rule above.
 */
#include "sys_defs.h"

#include <errno.h>
#include <stdarg.h>
#include <string.h>

#include "cleanup.h"
#include "cleanup_user.h"
#include "msg.h"
#include "record.h"
#include "vstream.h"
#include "vstring.h"

/* Append one record to the queue file unless the message has already failed. */
void cleanup_out(CLEANUP_STATE *state, int type, const char *data, size_t len)
{
    if ((state->errs & CLEANUP_STAT_LETHAL) != 0 || state->dst == NULL)
        return;
    if (rec_put(state->dst, type, data, len) < 0) {
        errno = vstream_errno(state->dst);
        msg_warn("%s: write queue file: %m", state->queue_id ? state->queue_id : "NOQUEUE");
        cleanup_set_error(state, CLEANUP_STAT_WRITE, NULL);
    }
}

/* Append a record holding a null-terminated string. */
void cleanup_out_string(CLEANUP_STATE *state, int type, const char *str)
{
    cleanup_out(state, type, str, strlen(str));
}

/* Append a record holding formatted text. */
void cleanup_out_format(CLEANUP_STATE *state, int type, const char *fmt, ...)
{
    static VSTRING *buf;
    va_list ap;

    if ((state->errs & CLEANUP_STAT_LETHAL) != 0)
        return;
    if (buf == NULL)
        buf = vstring_alloc(100);
    va_start(ap, fmt);
    vstring_vsprintf(buf, fmt, ap);
    va_end(ap);
    cleanup_out(state, type, vstring_str(buf), VSTRING_LEN(buf));
}
