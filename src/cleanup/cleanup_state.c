/*
 * cleanup_state - the per-client state of the cleanup daemon: creation,
 * destruction, error latching and the log context of check actions.
 *
 * cleanup_state_alloc(client) returns a state with every container
 * allocated (attr and dups tables, extracted and header_bcc lists, the
 * scratch strings) and state->action = cleanup_envelope; the queue file
 * is created by the caller. cleanup_state_free() releases everything the
 * state owns: strings, tables (attr values with myfree(), dups values are
 * not freed: the duplicate filter stores no memory in them), the content
 * stage's part (cleanup_message_free()) and the queue file stream. It
 * neither removes the queue file nor closes the client: cleanup_final.c
 * decides about the file, the server skeleton owns the connection.
 *
 * cleanup_set_error(state, bits, fmt, ...) ORs CLEANUP_STAT_* bits into
 * state->errs; the first non-empty reason text is kept, later ones are
 * ignored, so the client hears about the first problem.
 *
 * cleanup_log_context(state, buf) formats the part of a check action's log
 * line after the matched text, as Postfix does:
 *   from CLIENT; from=<SENDER> to=<RCPT> proto=PROTO helo=<HELO>
 * CLIENT is "name[addr]" when the client is known and "local" otherwise;
 * from=, to=, proto= and helo= appear only when known.
 */
#include "sys_defs.h"

#include <stdarg.h>

#include "argv.h"
#include "cleanup.h"
#include "htable.h"
#include "mymalloc.h"
#include "rec_type.h"
#include "vstream.h"
#include "vstring.h"

/* HTABLE_FREE_FN for values allocated with mymalloc(). */
static void cleanup_state_free_value(void *value)
{
    myfree(value);
}

/* A fresh state for one client; every container exists, nothing is known yet. */
CLEANUP_STATE *cleanup_state_alloc(VSTREAM *client)
{
    CLEANUP_STATE *state = mycalloc(1, sizeof(*state));

    state->client = client;
    state->inbuf = vstring_alloc(VSTREAM_BUFSIZE);
    state->action = cleanup_envelope;
    state->reason = vstring_alloc(100);
    state->temp1 = vstring_alloc(100);
    state->temp2 = vstring_alloc(100);
    state->attr = htable_create(16, 0);
    state->dups = htable_create(16, 0);
    state->extracted = argv_alloc(1);
    state->header_bcc = argv_alloc(1);
    return state;
}

/* Release the state and everything it owns except the client and the file's directory entry. */
CLEANUP_STATE *cleanup_state_free(CLEANUP_STATE *state)
{
    cleanup_message_free(state);
    if (state->dst)
        (void)vstream_fclose(state->dst);
    vstring_free(state->inbuf);
    myfree(state->queue_id);
    myfree(state->queue_name);
    vstring_free(state->reason);
    vstring_free(state->temp1);
    vstring_free(state->temp2);
    myfree(state->fullname);
    myfree(state->sender);
    myfree(state->orig_sender);
    myfree(state->orig_rcpt);
    myfree(state->dsn_orcpt);
    htable_free(state->attr, cleanup_state_free_value);
    myfree(state->first_rcpt);
    htable_free(state->dups, NULL);
    if (state->extracted)
        argv_free(state->extracted);
    if (state->header_bcc)
        argv_free(state->header_bcc);
    myfree(state->redirect);
    myfree(state->filter);
    myfree(state->message_id);
    myfree(state->hold_reason);
    myfree(state);
    return NULL;
}

/* Latch error bits; the first reason text wins. FMT may format to "" for "no text". */
void cleanup_set_error(CLEANUP_STATE *state, unsigned status, const char *fmt, ...)
{
    va_list ap;

    state->errs |= status;
    if (fmt == NULL || VSTRING_LEN(state->reason) > 0)
        return;
    va_start(ap, fmt);
    vstring_vsprintf(state->reason, fmt, ap);
    va_end(ap);
}

/* A value the envelope stage stored in the state, else the named attribute, else NULL. */
static const char *cleanup_state_known(CLEANUP_STATE *state, const char *value, const char *attr_name)
{
    const char *found;

    if (value != NULL && *value != 0)
        return value;
    found = state->attr ? htable_find(state->attr, attr_name) : NULL;
    return found != NULL && *found != 0 ? found : NULL;
}

/* "from CLIENT; from=<S> to=<R> proto=P helo=<H>" with only the parts that are known. */
const char *cleanup_log_context(CLEANUP_STATE *state, VSTRING *buf)
{
    const char *name = cleanup_state_known(state, state->client_name, MAIL_ATTR_LOG_CLIENT_NAME);
    const char *addr = cleanup_state_known(state, state->client_addr, MAIL_ATTR_LOG_CLIENT_ADDR);
    const char *proto = cleanup_state_known(state, state->protocol, MAIL_ATTR_LOG_PROTO_NAME);
    const char *helo = cleanup_state_known(state, state->helo, MAIL_ATTR_LOG_HELO_NAME);

    if (addr != NULL)
        vstring_sprintf(buf, "from %s[%s];", name ? name : "unknown", addr);
    else if (name != NULL)
        vstring_sprintf(buf, "from %s;", name);
    else
        vstring_strcpy(buf, "from local;");
    if (state->sender != NULL)
        vstring_sprintf_append(buf, " from=<%s>", state->sender);
    if (state->first_rcpt != NULL)
        vstring_sprintf_append(buf, " to=<%s>", state->first_rcpt);
    if (proto != NULL)
        vstring_sprintf_append(buf, " proto=%s", proto);
    if (helo != NULL)
        vstring_sprintf_append(buf, " helo=<%s>", helo);
    return vstring_str(buf);
}
