/*
 * smtpd_log - the SMTP server's event log lines (smtpd.h, spec/smtpd.md
 * §12).
 *
 * Public function:
 *   smtpd_log_event(state, action, text)
 *       "QUEUEID: ACTION: WHERE from NAME[ADDR]: TEXT; from=<S> to=<R>
 *       proto=P helo=<H>", NOQUEUE before a queue file exists, each field
 *       only when known, then sasl_method= and sasl_username=.
 *
 * Errors: none.
 */
#include "sys_defs.h"

#include "msg.h"
#include "smtpd.h"
#include "vstring.h"

/* Log one event line for the current stage. */
void smtpd_log_event(SMTPD_STATE *state, const char *action, const char *text)
{
    VSTRING *buf = vstring_alloc(200);

    vstring_sprintf(buf, "%s: %s: %s from %s: %s;", state->queue_id ? state->queue_id : "NOQUEUE", action,
                    state->where ? state->where : SMTPD_AFTER_CONNECT,
                    state->namaddr ? state->namaddr : "unknown", text);
    if (state->sender)
        vstring_sprintf_append(buf, " from=<%s>", state->sender);
    if (state->recipient)
        vstring_sprintf_append(buf, " to=<%s>", state->recipient);
    if (state->protocol)
        vstring_sprintf_append(buf, " proto=%s", state->protocol);
    if (state->helo_name)
        vstring_sprintf_append(buf, " helo=<%s>", state->helo_name);
    if (state->sasl_method)
        vstring_sprintf_append(buf, " sasl_method=%s", state->sasl_method);
    if (state->sasl_username)
        vstring_sprintf_append(buf, " sasl_username=%s", state->sasl_username);
    msg_info("%s", vstring_str(buf));
    vstring_free(buf);
}
