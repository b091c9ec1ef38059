/*
 * mail_date - the RFC 5322 date Postern writes into headers it adds
 * (Date:, Received:), in the local time zone, as Postfix formats it:
 * "Sat, 21 Nov 2026 15:01:02 +0000 (UTC)" (day of month space-padded;
 * the zone name in parentheses only when the system knows one).
 *
 * mail_date(buf, when) formats WHEN into BUF and returns its text.
 */
#ifndef MAIL_DATE_H
#define MAIL_DATE_H

#include <time.h>

#include "vstring.h"

extern const char *mail_date(VSTRING *buf, time_t when);

#endif
