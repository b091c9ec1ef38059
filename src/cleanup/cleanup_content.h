/*
 * cleanup_content - how the content stage's files (cleanup_message.c,
 * cleanup_checks.c, cleanup_missing.c) reach each other. Other stages use
 * cleanup.h only.
 *
 *   CLEANUP_CONTENT        the stage's private state, kept in state->mime
 *                          (cleanup_content() creates it on first use).
 *   cleanup_content_out()  write one content record, counting
 *                          state->cont_length and enforcing
 *                          message_size_limit.
 *   cleanup_content_out_header()  write a logical header ("\n" between
 *                          its lines) as NORM/CONT records.
 *   cleanup_checks()       run one header/body check table on a line,
 *                          carry out the actions that change the message
 *                          state and log them; return the actions that
 *                          edit the output (PREPEND, REPLACE, IGNORE,
 *                          STRIP) for the caller, else HBC_DUNNO.
 *   cleanup_missing_headers()  end of the primary headers: Message-Id,
 *                          Date, From, To as configured, message-id logs.
 *
 * Errors: through cleanup_set_error() as in cleanup.h.
 */
#ifndef CLEANUP_CONTENT_H
#define CLEANUP_CONTENT_H

#include <stdbool.h>

#include "argv.h"
#include "cleanup.h"
#include "header_body_checks.h"
#include "maps.h"
#include "mime_state.h"
#include "vstring.h"

typedef struct CLEANUP_CONTENT {
    MIME_STATE *mime;
    bool filter;        /* header/body checks still run */
    bool body_started;  /* the first primary body line was seen */
    bool size_exceeded; /* message_size_limit reached: write no more */
    ARGV *rcpt;         /* To/Cc/Bcc values (sendmail -t) */
    ARGV *resent_rcpt;  /* Resent-To/Cc/Bcc values */
    VSTRING *key;       /* check lookup key */
    VSTRING *value;     /* check result copy */
    VSTRING *reason;    /* REJECT reason */
    VSTRING *log;       /* log line pieces */
    VSTRING *context;   /* cleanup_log_context() */
} CLEANUP_CONTENT;

extern CLEANUP_CONTENT *cleanup_content(CLEANUP_STATE *state);
extern void cleanup_content_out(CLEANUP_STATE *state, int type, const char *buf, size_t len);
extern void cleanup_content_out_header(CLEANUP_STATE *state, const char *text);
extern HBC_ACTION cleanup_checks(CLEANUP_STATE *state, MAPS *maps, const char *where, const char *line,
                                 size_t len, HBC_RESULT *result);
extern void cleanup_missing_headers(CLEANUP_STATE *state);

#endif
