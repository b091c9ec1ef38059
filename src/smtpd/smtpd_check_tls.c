/*
 * smtpd_check_tls - restrictions on TLS client certificates
 * (smtpd_check_int.h). Stand-in until the TLS work lands: DUNNO.
 */
#include "sys_defs.h"

#include "smtpd_check.h"
#include "smtpd_check_int.h"

void smtpd_check_tls_init(void)
{
}

int smtpd_check_ccert(SMTPD_STATE *state, const char *name, const char *arg)
{
    (void)state, (void)name, (void)arg;
    return SMTPD_CHECK_DUNNO;
}
