/*
 * smtp_tls - TLS in the SMTP/LMTP client (smtp.h). Stand-in until the TLS
 * work lands: every destination is at level "none".
 */
#include "sys_defs.h"

#include "smtp.h"

void smtp_tls_init(void)
{
}

int smtp_tls_wrap(SMTP_STATE *state, SMTP_SESSION *session)
{
    (void)state;
    (void)session;
    return 0;
}

int smtp_tls_starttls(SMTP_STATE *state, SMTP_SESSION *session, SMTP_RESP *resp)
{
    (void)state;
    (void)session;
    (void)resp;
    return 0;
}

void smtp_tls_end(SMTP_SESSION *session)
{
    (void)session;
}
