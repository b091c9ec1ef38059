/*
 * deliver_pass - hand recipients of the current delivery request to
 * another master.cf transport, the way the queue manager would (see
 * deliver_pass.c).
 */
#ifndef DELIVER_PASS_H
#define DELIVER_PASS_H

#include "deliver_request.h"

#define DELIVER_PASS_UNAVAILABLE (-1) /* no such transport, or no answer */

extern int deliver_pass_rcpts(const char *transport, const char *nexthop, DELIVER_REQUEST *request,
                              const RECIPIENT *rcpts, int count);

#endif
