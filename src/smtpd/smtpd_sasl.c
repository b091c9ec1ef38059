/*
 * smtpd_sasl - SASL in the SMTP server (smtpd_sasl.h). Stand-in until the
 * SASL work lands: AUTH is never announced and answers as Postfix does
 * without smtpd_sasl_auth_enable.
 */
#include "sys_defs.h"

#include "smtpd_chat.h"
#include "smtpd_sasl.h"

void smtpd_sasl_pre_init(void)
{
}

void smtpd_sasl_connect(SMTPD_STATE *state)
{
    (void)state;
}

const char *smtpd_sasl_mechanisms(SMTPD_STATE *state)
{
    (void)state;
    return NULL;
}

int smtpd_sasl_auth(SMTPD_STATE *state, int argc, SMTPD_TOKEN *argv)
{
    (void)argc;
    (void)argv;
    return SMTPD_ERROR(state, "503 5.5.1 Error: authentication not enabled");
}

void smtpd_sasl_received(SMTPD_STATE *state, ARGV *lines)
{
    (void)state;
    (void)lines;
}

void smtpd_sasl_disconnect(SMTPD_STATE *state)
{
    (void)state;
}
