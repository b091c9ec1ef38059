/*
 * smtpd_tls - TLS in the SMTP server (smtpd_tls.h). Stand-in until the
 * TLS work lands: TLS is never offered and STARTTLS answers as Postfix
 * does without smtpd_tls_security_level.
 */
#include "sys_defs.h"

#include "smtpd_chat.h"
#include "smtpd_tls.h"

void smtpd_tls_pre_init(void)
{
}

bool smtpd_tls_connect(SMTPD_STATE *state)
{
    (void)state;
    return true;
}

bool smtpd_tls_offered(const SMTPD_STATE *state)
{
    (void)state;
    return false;
}

int smtpd_tls_starttls(SMTPD_STATE *state, int argc, SMTPD_TOKEN *argv)
{
    (void)argc;
    (void)argv;
    return SMTPD_ERROR(state, "502 5.5.1 Error: command not implemented");
}

bool smtpd_tls_gate(SMTPD_STATE *state, const char *verb)
{
    (void)state;
    (void)verb;
    return true;
}

void smtpd_tls_received(SMTPD_STATE *state, ARGV *lines)
{
    (void)state;
    (void)lines;
}

void smtpd_tls_disconnect(SMTPD_STATE *state)
{
    (void)state;
}
