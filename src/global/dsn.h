/*
 * dsn - the delivery status of one recipient: what a delivery agent
 * reports, what the per-message logs keep and what notices print
 * (RFC 3463 status codes, RFC 3464 actions and diagnostics).
 *
 * DSN is a read-only view (pointers owned by someone else); DSN_BUF owns
 * its strings and is what agents fill in:
 *
 *   dsb_simple(why, "4.4.1", "connect to %s: %s", host, err)
 *       status and reason; no diagnostic or remote MTA.
 *   dsb_unix(why, "5.1.1", "unknown user: \"%s\"", user)
 *       also diagnostic type "x-unix" with the reason as its text
 *       (local, pipe, virtual).
 *   dsb_smtp(why, "5.1.1", "550 5.1.1 no such user", "mx.example.net",
 *            "host %s said: %s", ...)
 *       diagnostic type "smtp" with the server's reply, remote MTA
 *       "dns; mx.example.net" (smtp, lmtp).
 *   dsb_reset(why) empties every field.
 *   dsn_from_buf(&dsn, why) makes a DSN view of a DSN_BUF.
 *
 * Actions: the per-recipient client functions (bounce.h) set the action
 * themselves ("failed" for bounce_append, "delayed" for defer_append,
 * "delivered"/"relayed"/"expanded" for sent as the agent chose with
 * dsb_action()); agents only choose between delivered and relayed.
 *
 * dsn_status_len(text) is the length of an RFC 3463 status ("X.Y.Z",
 * X in 2/4/5, Y up to 3 digits, Z up to 3 digits) at the start of TEXT
 * when it is followed by a space or the end, else 0. dsn_split(status,
 * reason, text, default_status) splits "5.7.1 go away" into "5.7.1" and
 * "go away", or uses default_status and the whole text when there is no
 * status; the class digit of default_status wins over the text's when
 * they differ (an "error:4.1.1 x" entry still bounces: 5.1.1).
 *
 * Errors: none; the functions never fail.
 */
#ifndef DSN_H
#define DSN_H

#include <stddef.h>

#include "sys_defs.h"
#include "vstring.h"

typedef struct DSN {
    const char *status; /* "2.0.0", "4.4.1", "5.1.1" */
    const char *action; /* "delivered", "relayed", "expanded", "delayed", "failed" */
    const char *reason; /* free text, logged in parentheses */
    const char *dtype;  /* diagnostic type: "smtp", "x-unix" or "" */
    const char *dtext;  /* diagnostic text: "550 5.1.1 no such user" or "" */
    const char *mtype;  /* remote MTA name type: "dns" or "" */
    const char *mname;  /* remote MTA name: "mx.example.net" or "" */
} DSN;

typedef struct DSN_BUF {
    VSTRING *status;
    VSTRING *action;
    VSTRING *reason;
    VSTRING *dtype;
    VSTRING *dtext;
    VSTRING *mtype;
    VSTRING *mname;
} DSN_BUF;

#define DSN_ACTION_DELIVERED "delivered"
#define DSN_ACTION_RELAYED   "relayed"
#define DSN_ACTION_EXPANDED  "expanded"
#define DSN_ACTION_DELAYED   "delayed"
#define DSN_ACTION_FAILED    "failed"

extern DSN_BUF *dsb_create(void);
extern void dsb_free(DSN_BUF *dsb);
extern DSN_BUF *dsb_reset(DSN_BUF *dsb);
extern DSN_BUF *dsb_simple(DSN_BUF *dsb, const char *status, const char *fmt, ...) PRINTFLIKE(3, 4);
extern DSN_BUF *dsb_unix(DSN_BUF *dsb, const char *status, const char *fmt, ...) PRINTFLIKE(3, 4);
extern DSN_BUF *dsb_smtp(DSN_BUF *dsb, const char *status, const char *reply, const char *mta,
                         const char *fmt, ...) PRINTFLIKE(5, 6);
extern DSN_BUF *dsb_action(DSN_BUF *dsb, const char *action);
extern DSN *dsn_from_buf(DSN *dsn, const DSN_BUF *dsb);
extern DSN_BUF *dsb_from_dsn(DSN_BUF *dsb, const DSN *dsn);
extern size_t dsn_status_len(const char *text);
extern void dsn_split(VSTRING *status, VSTRING *reason, const char *text, const char *default_status);

#endif
