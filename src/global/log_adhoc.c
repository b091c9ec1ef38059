/*
 * log_adhoc - the delivery log line "QID: to=<RCPT>, ..., status=STATUS
 * (TEXT)". See log_adhoc.h. Public functions: log_adhoc(),
 * log_adhoc_delay().
 *
 * Errors: none; an unset or out-of-order time counts as a zero interval.
 */
#include "sys_defs.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "log_adhoc.h"
#include "mail_params.h"
#include "msg.h"
#include "vstring.h"

/* True when a time was never set. */
#define LOG_ADHOC_UNSET(tv) ((tv)->tv_sec == 0 && (tv)->tv_usec == 0)

/* Seconds from A to B, never negative. */
static double log_adhoc_diff(const struct timeval *a, const struct timeval *b)
{
    double d = (double)(b->tv_sec - a->tv_sec) + (double)(b->tv_usec - a->tv_usec) / 1e6;

    return d > 0 ? d : 0;
}

/* Append one delay value: 2 significant digits, limited decimals. */
void log_adhoc_delay(VSTRING *buf, double seconds)
{
    int limit = var_delay_logging_resolution_limit;
    int decimals;
    char tmp[64];
    char *end;

    if (!(seconds > 0)) /* also NaN */
        seconds = 0;
    if (limit < 0)
        limit = 0;
    /* Decimals needed for two significant digits: 1 in [1,10), 2 in [0.1,1), ... */
    if (seconds >= 10 || seconds == 0) {
        decimals = 0;
    } else {
        decimals = 1;
        for (double scale = 1; seconds < scale && decimals < limit; scale /= 10)
            decimals++;
        if (decimals > limit)
            decimals = limit;
    }
    snprintf(tmp, sizeof(tmp), "%.*f", decimals, seconds);
    if (strchr(tmp, '.') != NULL) {
        end = tmp + strlen(tmp);
        while (end[-1] == '0')
            *--end = 0;
        if (end[-1] == '.')
            *--end = 0;
    }
    vstring_strcat(buf, tmp);
}

/* Log the delivery line of one recipient. */
void log_adhoc(const char *id, const MSG_STATS *stats, const RECIPIENT *rcpt, const char *relay,
               const DSN *dsn, const char *status)
{
    VSTRING *buf = vstring_alloc(200);
    struct timeval now;
    const struct timeval *active, *handoff, *done;
    double conn_delay, xfer_delay;

    if (LOG_ADHOC_UNSET(&stats->deliver_done)) {
        msg_stats_set_now(&now);
        done = &now;
    } else {
        done = &stats->deliver_done;
    }
    active = LOG_ADHOC_UNSET(&stats->active_arrival) ? &stats->incoming_arrival : &stats->active_arrival;
    handoff = LOG_ADHOC_UNSET(&stats->agent_handoff) ? active : &stats->agent_handoff;
    if (LOG_ADHOC_UNSET(&stats->conn_setup_done)) {
        conn_delay = 0;
        xfer_delay = log_adhoc_diff(handoff, done);
    } else {
        conn_delay = log_adhoc_diff(handoff, &stats->conn_setup_done);
        xfer_delay = log_adhoc_diff(&stats->conn_setup_done, done);
    }

    vstring_sprintf(buf, "%s: to=<%s>", id, rcpt->address);
    if (rcpt->orig_addr && *rcpt->orig_addr && strcasecmp(rcpt->orig_addr, rcpt->address) != 0)
        vstring_sprintf_append(buf, ", orig_to=<%s>", rcpt->orig_addr);
    vstring_sprintf_append(buf, ", relay=%s", relay);
    if (stats->reuse_count > 0)
        vstring_sprintf_append(buf, ", conn_use=%d", stats->reuse_count + 1);
    vstring_strcat(buf, ", delay=");
    log_adhoc_delay(buf, log_adhoc_diff(&stats->incoming_arrival, done));
    vstring_strcat(buf, ", delays=");
    log_adhoc_delay(buf, log_adhoc_diff(&stats->incoming_arrival, active));
    vstring_strcat(buf, "/");
    log_adhoc_delay(buf, log_adhoc_diff(active, handoff));
    vstring_strcat(buf, "/");
    log_adhoc_delay(buf, conn_delay);
    vstring_strcat(buf, "/");
    log_adhoc_delay(buf, xfer_delay);
    vstring_sprintf_append(buf, ", dsn=%s, status=%s (%s)", dsn->status, status, dsn->reason);
    msg_info("%s", vstring_str(buf));
    vstring_free(buf);
}
