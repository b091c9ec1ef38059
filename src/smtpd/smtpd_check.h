/*
 * smtpd_check - the SMTP server's access restrictions and recipient
 * validation (spec/smtpd.md §7, §8, §9, §13).
 *
 * Every check function returns NULL when the command may go on, or the
 * complete reply text to send ("554 5.7.1 <u@remote.test>: Relay access
 * denied"); the caller sends it with smtpd_chat_reply(state, "%s", reply)
 * and counts an error. The text stays valid until the next check call.
 * The functions log their own "reject:" / "reject_warning:" / "hold:" ...
 * lines (smtpd_log_event), apply soft_bounce only through
 * smtpd_chat_reply, and remember deferred decisions (defer_if_permit,
 * defer_if_reject) in state->check across stages.
 *
 *   smtpd_check_init()
 *       after main.cf is read, before privileges are dropped: parse every
 *       restriction list and smtpd_restriction_classes, open their tables,
 *       and exit with the §7.1 fatal message when neither the relay nor
 *       the recipient list can reject. Unknown restriction names are not
 *       fatal: they answer "451 4.3.5 Server configuration error" when
 *       reached, with a warning.
 *   smtpd_check_state_init(state) / smtpd_check_state_free(state)
 *       per session (state->check). smtpd_check_reset(state) per
 *       transaction (called by smtpd_state_reset_transaction()).
 *   smtpd_check_client(state)     CONNECT: smtpd_client_restrictions
 *                                 (with smtpd_delay_reject = no; with yes
 *                                 it returns NULL and the list runs at
 *                                 RCPT/ETRN)
 *   smtpd_check_helo(state, helo) HELO/EHLO: smtpd_helo_restrictions
 *                                 (delay_reject = no only)
 *   smtpd_check_mail(state, sender) MAIL: smtpd_sender_restrictions
 *                                 (delay_reject = no only)
 *   smtpd_check_rcpt(state, recipient)
 *       RCPT and VRFY: with delay_reject the client, helo and sender lists
 *       (once per message; their result is remembered), then
 *       smtpd_relay_restrictions, smtpd_recipient_restrictions, then
 *       recipient validation (smtpd_reject_unlisted_recipient), then a
 *       pending defer_if_permit. state->recipient is set by the caller.
 *   smtpd_check_rcptmap(state, recipient)
 *       recipient validation alone (§9.2; relocated_maps included).
 *   smtpd_check_etrn(state, domain) ETRN: client and helo lists (delay
 *                                 reject), then smtpd_etrn_restrictions
 *   smtpd_check_data(state)       DATA / first BDAT: smtpd_data_restrictions
 *   smtpd_check_eod(state)        after the final dot:
 *                                 smtpd_end_of_data_restrictions
 *   smtpd_check_size(state, size) MAIL: "452 4.3.1 Insufficient system
 *                                 storage" when the queue file system has
 *                                 less than queue_minfree or 1.5 x
 *                                 message_size_limit free, "552 5.3.4
 *                                 Message size exceeds fixed limit" when
 *                                 size > message_size_limit > 0
 *   smtpd_check_addr(state, addr, smtputf8)
 *       0 when addr is an acceptable envelope address (valid domain or
 *       address literal), -1 otherwise (the caller answers 501 5.1.7 /
 *       5.1.3).
 *   smtpd_check_xclient_ok(state) / smtpd_check_xforward_ok(state) /
 *   smtpd_check_verp_ok(state)
 *       whether the client is in smtpd_authorized_xclient_hosts /
 *       _xforward_hosts / smtpd_authorized_verp_clients.
 *   smtpd_check_event_exempt(state)
 *       whether the client is in smtpd_client_event_limit_exceptions
 *       (anvil limits do not apply).
 *   smtpd_check_bare_lf_exempt(state)
 *       whether the client is in smtpd_forbid_bare_newline_exclusions.
 *   smtpd_check_mynetworks(state)
 *       whether the client is in $mynetworks.
 *
 * Errors: table lookup failures give "451 4.3.5 <NAME>: CLASS rejected:
 * Server configuration error"; DNS failures follow reject_tempfail_action;
 * nothing here exits except smtpd_check_init().
 */
#ifndef SMTPD_CHECK_H
#define SMTPD_CHECK_H

#include <stdbool.h>
#include <sys/types.h>

#include "smtpd.h"

extern void smtpd_check_init(void);
extern void smtpd_check_state_init(SMTPD_STATE *state);
extern void smtpd_check_state_free(SMTPD_STATE *state);
extern void smtpd_check_reset(SMTPD_STATE *state);

extern const char *smtpd_check_client(SMTPD_STATE *state);
extern const char *smtpd_check_helo(SMTPD_STATE *state, const char *helo);
extern const char *smtpd_check_mail(SMTPD_STATE *state, const char *sender);
extern const char *smtpd_check_rcpt(SMTPD_STATE *state, const char *recipient);
extern const char *smtpd_check_rcptmap(SMTPD_STATE *state, const char *recipient);
extern const char *smtpd_check_etrn(SMTPD_STATE *state, const char *domain);
extern const char *smtpd_check_data(SMTPD_STATE *state);
extern const char *smtpd_check_eod(SMTPD_STATE *state);
extern const char *smtpd_check_size(SMTPD_STATE *state, off_t size);
extern int smtpd_check_addr(SMTPD_STATE *state, const char *addr, bool smtputf8);

extern bool smtpd_check_xclient_ok(SMTPD_STATE *state);
extern bool smtpd_check_xforward_ok(SMTPD_STATE *state);
extern bool smtpd_check_verp_ok(SMTPD_STATE *state);
extern bool smtpd_check_event_exempt(SMTPD_STATE *state);
extern bool smtpd_check_bare_lf_exempt(SMTPD_STATE *state);
extern bool smtpd_check_mynetworks(SMTPD_STATE *state);

#endif
