/*
 * smtpd_chat - what the SMTP server says and reads (spec/smtpd.md §2, §4,
 * §5, §7.4).
 *
 *   smtpd_chat_reply(state, fmt, ...)
 *       send one reply (a multi-line reply: one call per line, "250-..."
 *       lines first). Before sending: with soft_bounce a 5xx becomes 4xx
 *       (the enhanced code too: "554 5.7.1" -> "454 4.7.1"); 4xx/5xx get
 *       $smtpd_reject_footer (or the smtpd_reject_footer_maps value for
 *       the client address) appended as a separate reply line with the
 *       same code; the text is cut to 510 characters and non-printables
 *       become spaces; once state->error_count >= smtpd_soft_error_limit
 *       the reply waits smtpd_error_sleep_time first. A 421 or 521 reply
 *       sets SMTPD_FLAG_HANGUP. Replies are buffered and flushed before
 *       the next read (so pipelined replies leave in one write).
 *   smtpd_chat_query(state)
 *       flush replies, then read one command line into state->buffer
 *       (without CRLF) and return 0; line_length_limit: the rest of an
 *       overlong line is read and dropped, and -1 is returned with
 *       errno EFBIG (the caller answers "500 5.5.2 ... command too long").
 *       Bare <LF> handling per smtpd_forbid_bare_newline: a line that
 *       ended in bare <LF> sets SMTPD_FLAG_BARE_LF and returns 1 when
 *       the policy is "reject" for this client. Timeout, EOF and I/O
 *       errors longjmp/exit through smtpd_chat_lost() (the caller's
 *       handler logs "timeout|lost connection after CMD").
 *   smtpd_chat_pending(state)
 *       true when client input is already waiting (pipelining checks).
 *   smtpd_chat_flush(state)
 *       write out buffered replies now.
 *
 *   smtpd_chat_format(out, reply, soft_bounce, footer)
 *       the rewriting of smtpd_chat_reply() alone: OUT gets the lines to
 *       send, each with CRLF (unit tests).
 *   smtpd_chat_bare_lf_mode(state)
 *       SMTPD_BARE_LF_*: smtpd_forbid_bare_newline for this client
 *       (SMTPD_BARE_LF_NO for smtpd_forbid_bare_newline_exclusions).
 *   smtpd_chat_lost_hook
 *       set by smtpd.c: called with "lost connection" or "timeout" when
 *       the client is gone; it logs and ends the session (never returns).
 *
 * Errors: I/O errors and timeouts never return to the caller of query/
 * reply: they end the session through the handler the session installed
 * (see smtpd.c), after logging.
 */
#ifndef SMTPD_CHAT_H
#define SMTPD_CHAT_H

#include <stdbool.h>

#include "smtpd.h"
#include "sys_defs.h"
#include "vstring.h"

extern void smtpd_chat_reply(SMTPD_STATE *state, const char *fmt, ...) PRINTFLIKE(2, 3);
/* Reply and count an error (smtpd_hard_error_limit); the value is -1. */
#define SMTPD_ERROR(state, ...) (smtpd_chat_reply((state), __VA_ARGS__), (state)->error_count++, -1)
extern int smtpd_chat_query(SMTPD_STATE *state);
extern bool smtpd_chat_pending(SMTPD_STATE *state);
extern void smtpd_chat_flush(SMTPD_STATE *state);
extern void smtpd_chat_strip_esc(VSTRING *out);
extern void smtpd_chat_format(VSTRING *out, const char *reply, bool soft_bounce, const char *footer);

#define SMTPD_BARE_LF_NO        0 /* bare <LF> is a line end (legacy) */
#define SMTPD_BARE_LF_NORMALIZE 1 /* line end, but only <CR><LF>.<CR><LF> ends DATA */
#define SMTPD_BARE_LF_NOTE      2 /* normalize and log notes=bare_lf */
#define SMTPD_BARE_LF_REJECT    3 /* 550 5.5.2 ... bare <LF> received */
extern int smtpd_chat_bare_lf_mode(SMTPD_STATE *state);

extern void (*smtpd_chat_lost_hook)(SMTPD_STATE *state, const char *why);

#endif
