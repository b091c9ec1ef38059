/*
 * mail_date - RFC 5322 dates for added headers. See mail_date.h.
 */
#include "sys_defs.h"

#include <stdlib.h>
#include <time.h>

#include "mail_date.h"

/* WHEN as "Sat, 21 Nov 2026 15:01:02 +0000 (UTC)", local zone. */
const char *mail_date(VSTRING *buf, time_t when)
{
    struct tm tm;
    char text[100];
    long offset;

    localtime_r(&when, &tm);
    offset = tm.tm_gmtoff / 60; /* minutes east of GMT */
    strftime(text, sizeof(text), "%a, %e %b %Y %H:%M:%S", &tm);
    vstring_sprintf(buf, "%s %c%02ld%02ld", text, offset < 0 ? '-' : '+', labs(offset) / 60,
                    labs(offset) % 60);
    if (strftime(text, sizeof(text), "%Z", &tm) > 0)
        vstring_sprintf_append(buf, " (%s)", text);
    return vstring_str(buf);
}
