/*
 * smtpd_sasl - SASL authentication in the SMTP server (spec/security.md
 * 5): the AUTH command and its exchanges, the mechanisms announced in
 * EHLO, the "Authenticated sender" Received: comment. Sender ownership
 * (smtpd_sender_login_maps and the *_sender_login_mismatch restrictions)
 * lives in smtpd_check.c.
 *
 * Called from smtpd.c:
 *   smtpd_sasl_pre_init()   from smtpd_pre_init(): the backend
 *                           (smtpd_sasl_type, smtpd_sasl_path).
 *   smtpd_sasl_connect()    at session start, and again after STARTTLS
 *                           (smtpd_tls.c) or XCLIENT: forgets any login
 *                           and builds the mechanism list for the current
 *                           (plain or TLS) security options.
 *   smtpd_sasl_mechanisms() the list EHLO announces ("PLAIN LOGIN"), or
 *                           NULL for no AUTH line (not enabled, TLS
 *                           required first, exception network, no
 *                           mechanism).
 *   smtpd_sasl_auth()       the AUTH command (command-table action).
 *   smtpd_sasl_received()   appends "\t(Authenticated sender: NAME)" to
 *                           LINES when smtpd_sasl_authenticated_header.
 *   smtpd_sasl_disconnect() at the end of a session.
 * A successful AUTH sets state->sasl_method and state->sasl_username.
 */
#ifndef SMTPD_SASL_H
#define SMTPD_SASL_H

#include "argv.h"
#include "smtpd.h"
#include "smtpd_token.h"

extern void smtpd_sasl_pre_init(void);
extern void smtpd_sasl_connect(SMTPD_STATE *state);
extern const char *smtpd_sasl_mechanisms(SMTPD_STATE *state);
extern int smtpd_sasl_auth(SMTPD_STATE *state, int argc, SMTPD_TOKEN *argv);
extern void smtpd_sasl_received(SMTPD_STATE *state, ARGV *lines);
extern void smtpd_sasl_disconnect(SMTPD_STATE *state);

#endif
