/*
 * deliver_pass - hand recipients of the current delivery request to
 * another master.cf transport, the way the queue manager would (see
 * deliver_pass.c).
 */
#ifndef DELIVER_PASS_H
#define DELIVER_PASS_H

#include "deliver_request.h"

#define DELIVER_PASS_UNAVAILABLE (-1) /* the transport cannot be reached */
#define DELIVER_PASS_NOANSWER    (-2) /* it closed without an answer */
#define DELIVER_PASS_BADNAME     (-3) /* not a transport name */

extern int deliver_pass_rcpts(const char *transport, const char *nexthop, DELIVER_REQUEST *request,
                              const RECIPIENT *rcpts, int count);

#endif
