/*
 * smtpd_check_sasl - sender ownership restrictions (smtpd_check_int.h).
 * Stand-in until the SASL work lands: DUNNO.
 */
#include "sys_defs.h"

#include "smtpd_check.h"
#include "smtpd_check_int.h"

void smtpd_check_sasl_init(void)
{
}

int smtpd_check_sender_login(SMTPD_STATE *state, const char *name)
{
    (void)state, (void)name;
    return SMTPD_CHECK_DUNNO;
}
