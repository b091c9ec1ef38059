/*
 * smtp_sasl - SASL in the SMTP/LMTP client (smtp.h). Stand-in until the
 * SASL work lands: the client never authenticates.
 */
#include "sys_defs.h"

#include "smtp.h"

void smtp_sasl_init(void)
{
}

int smtp_sasl_authenticate(SMTP_STATE *state, SMTP_SESSION *session, SMTP_RESP *resp)
{
    (void)state;
    (void)session;
    (void)resp;
    return 0;
}
