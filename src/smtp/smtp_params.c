/*
 * smtp_params - the smtp(8)/lmtp(8) globals shared by its modules:
 * smtp_params (filled by smtp.c from the smtp_* or lmtp_* parameters)
 * and smtp_lmtp_mode (true when running as "lmtp"). Kept apart from
 * main() so that the unit tests can set them.
 *
 * Errors: none.
 */
#include "sys_defs.h"

#include "smtp.h"

SMTP_PARAMS smtp_params;
bool smtp_lmtp_mode;
