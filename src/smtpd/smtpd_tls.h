/*
 * smtpd_tls - TLS in the SMTP server (spec/security.md 7): the
 * smtpd_tls_security_level policy, STARTTLS, wrapper mode, client
 * certificates, the TLS log line and the Received: comment.
 *
 * Called from smtpd.c:
 *   smtpd_tls_pre_init()   from smtpd_pre_init(), while privileged: the
 *                          level and the server context (keys are read
 *                          now, before privileges are dropped).
 *   smtpd_tls_connect()    before the greeting: wrapper mode handshake.
 *                          false: the session ends without a greeting.
 *   smtpd_tls_offered()    whether EHLO lists STARTTLS.
 *   smtpd_tls_starttls()   the STARTTLS command (command-table action).
 *   smtpd_tls_gate()       before each command: at level encrypt without
 *                          TLS every verb except HELO EHLO XCLIENT
 *                          STARTTLS NOOP QUIT HELP gets "530 5.7.0 Must
 *                          issue a STARTTLS command first" (returns false
 *                          after replying).
 *   smtpd_tls_received()   appends the Received: comment lines ("\t(using
 *                          ...)", client certificate) to LINES.
 *   smtpd_tls_disconnect() at the end of a session.
 *   smtpd_tls_reset_hook   set by smtpd.c to smtpd_state_reset_transaction():
 *                          how STARTTLS forgets a mail transaction
 *                          (smtpd.c is not linked into the unit tests).
 * The session itself lives in state->tls_context; state->tls_protocol,
 * tls_cipher and tls_cipher_bits mirror it for logs and policy.
 */
#ifndef SMTPD_TLS_H
#define SMTPD_TLS_H

#include <stdbool.h>

#include "argv.h"
#include "smtpd.h"
#include "smtpd_token.h"

extern void smtpd_tls_pre_init(void);
extern bool smtpd_tls_connect(SMTPD_STATE *state);
extern bool smtpd_tls_offered(const SMTPD_STATE *state);
extern int smtpd_tls_starttls(SMTPD_STATE *state, int argc, SMTPD_TOKEN *argv);
extern bool smtpd_tls_gate(SMTPD_STATE *state, const char *verb);
extern void smtpd_tls_received(SMTPD_STATE *state, ARGV *lines);
extern void smtpd_tls_disconnect(SMTPD_STATE *state);
extern void (*smtpd_tls_reset_hook)(SMTPD_STATE *state);

#endif
