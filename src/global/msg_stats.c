/*
 * msg_stats - the times of one delivery for the delivery log line. See
 * msg_stats.h. Public function: msg_stats_set_now().
 *
 * Errors: none.
 */
#include "sys_defs.h"

#include <stddef.h>
#include <sys/time.h>

#include "msg_stats.h"

/* Set TV to the current time. */
void msg_stats_set_now(struct timeval *tv)
{
    (void)gettimeofday(tv, NULL);
}
