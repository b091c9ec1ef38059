/*
 * cleanup_checks - header_checks, mime_header_checks,
 * nested_header_checks and body_checks actions inside cleanup.
 *
 * cleanup_checks(state, maps, where, line, len, result) looks the line up
 * in maps (nothing happens for an empty line, with checks turned off, or
 * without a table), parses the result (header_body_checks.h) and carries
 * it out: REJECT fails the message (4.x.x reasons temporarily), DISCARD,
 * HOLD, FILTER, REDIRECT and BCC change the message state, WARN, INFO and
 * PASS only log; REJECT, DISCARD, REDIRECT and PASS end all further
 * inspection of the message, as Postfix does. Each of these logs
 *   QID: ACTION: header|body LINE from CLIENT; from=<S> to=<R>...: TEXT
 * with LINE cut at 200 characters and made printable. PREPEND, REPLACE,
 * IGNORE and STRIP are returned to the caller, which edits the output.
 *
 * Errors: a table lookup failure logs
 *   warning: QID: TITLE map lookup problem -- message not accepted, try again later
 * and fails the message with a temporary error (CLEANUP_STAT_WRITE, as
 * Postfix); bad results are logged by header_body_checks_parse() and
 * ignored.
 */
#include "sys_defs.h"

#include <string.h>

#include "cleanup_content.h"
#include "cleanup_user.h"
#include "is_header.h"
#include "msg.h"
#include "mymalloc.h"

#define CLEANUP_CHECKS_LOG_LEN 200

/* Log one action: "QID: NAME: WHERE LINE CONTEXT[: TEXT]". */
static void cleanup_checks_log(CLEANUP_STATE *state, const char *name, const char *where, const char *line,
                               size_t len, const char *text)
{
    CLEANUP_CONTENT *cc = cleanup_content(state);

    if (len > CLEANUP_CHECKS_LOG_LEN)
        len = CLEANUP_CHECKS_LOG_LEN;
    vstring_reset(cc->log);
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)line[i];

        vstring_addch(cc->log, ch < 0x20 || ch == 0x7f ? '?' : ch);
    }
    msg_info("%s: %s: %s %s %s%s%s", state->queue_id ? state->queue_id : "NOQUEUE", name, where,
             vstring_str(cc->log), cleanup_log_context(state, cc->context), *text ? ": " : "", text);
}

/* Run one check table on one line; see the file comment. */
HBC_ACTION cleanup_checks(CLEANUP_STATE *state, MAPS *maps, const char *where, const char *line, size_t len,
                          HBC_RESULT *result)
{
    CLEANUP_CONTENT *cc = cleanup_content(state);
    const char *value;
    const char *name;

    result->action = HBC_DUNNO;
    result->text = "";
    result->defer = false;
    if (!cc->filter || maps == NULL || len == 0)
        return HBC_DUNNO;
    vstring_memcpy(cc->key, line, len);
    if ((value = maps_find(maps, vstring_str(cc->key), 0)) == NULL) {
        if (maps->error != 0) {
            msg_warn("%s: %s map lookup problem -- message not accepted, try again later",
                     state->queue_id ? state->queue_id : "NOQUEUE", maps->title);
            cleanup_set_error(state, CLEANUP_STAT_WRITE, "%s", "");
            cc->filter = false;
        }
        return HBC_DUNNO;
    }
    vstring_strcpy(cc->value, value);
    header_body_checks_parse(result, cc->reason, vstring_str(cc->value), maps->title);
    name = header_body_checks_name(result->action);
    switch (result->action) {
    case HBC_DUNNO:
    case HBC_INVALID:
        return HBC_DUNNO;
    case HBC_REJECT:
        cleanup_checks_log(state, name, where, line, len, result->text);
        cleanup_set_error(state, result->defer ? CLEANUP_STAT_DEFER : CLEANUP_STAT_CONT, "%s", result->text);
        cc->filter = false;
        return HBC_DUNNO;
    case HBC_DISCARD:
        if (!state->discard) {
            cleanup_checks_log(state, name, where, line, len, result->text);
            state->discard = true;
        }
        cc->filter = false;
        return HBC_DUNNO;
    case HBC_HOLD:
        if ((state->flags & CLEANUP_FLAG_HOLD) == 0 && !state->discard) {
            cleanup_checks_log(state, name, where, line, len, result->text);
            state->flags |= CLEANUP_FLAG_HOLD;
            if (*result->text) {
                myfree(state->hold_reason);
                state->hold_reason = mystrdup(result->text);
            }
        }
        return HBC_DUNNO;
    case HBC_FILTER:
        cleanup_checks_log(state, name, where, line, len, result->text);
        myfree(state->filter);
        state->filter = mystrdup(result->text);
        return HBC_DUNNO;
    case HBC_REDIRECT:
        cleanup_checks_log(state, name, where, line, len, result->text);
        myfree(state->redirect);
        state->redirect = mystrdup(result->text);
        cc->filter = false;
        return HBC_DUNNO;
    case HBC_BCC:
        cleanup_checks_log(state, name, where, line, len, result->text);
        if (state->header_bcc == NULL)
            state->header_bcc = argv_alloc(1);
        argv_add(state->header_bcc, result->text);
        return HBC_DUNNO;
    case HBC_PREPEND:
    case HBC_REPLACE:
        if (strcmp(where, "header") == 0 && is_header(result->text) == 0) {
            msg_warn("bad %s header text \"%s\" in %s map -- need \"headername: headervalue\"",
                     result->action == HBC_PREPEND ? "PREPEND" : "REPLACE", result->text, maps->title);
            return HBC_DUNNO;
        }
        cleanup_checks_log(state, name, where, line, len, result->text);
        return result->action;
    case HBC_IGNORE:
        return HBC_IGNORE;
    case HBC_STRIP:
        cleanup_checks_log(state, name, where, line, len, result->text);
        return HBC_STRIP;
    case HBC_WARN:
    case HBC_INFO:
        cleanup_checks_log(state, name, where, line, len, result->text);
        return HBC_DUNNO;
    case HBC_PASS:
        cleanup_checks_log(state, name, where, line, len, result->text);
        cc->filter = false;
        return HBC_DUNNO;
    }
    return HBC_DUNNO;
}
