/*
 * delivered_hdr - the Delivered-To: headers of a queued message, for mail
 * forwarding loop detection (spec/delivery.md 2.1, pipe flag D).
 *
 *   info = delivered_hdr_init(src, src_offset)
 *       read the message headers from the queue file (content starting at
 *       src_offset, the MESG record) and remember every Delivered-To:
 *       value, lower-cased (a message without headers gives none).
 *   delivered_hdr_find(info, address)
 *       true when address (compared case-insensitively) was among them.
 *   delivered_hdr_free(info)
 *
 * The file position is restored. Errors: a corrupt queue file reads as
 * "no headers".
 */
#ifndef DELIVERED_HDR_H
#define DELIVERED_HDR_H

#include <stdbool.h>
#include <sys/types.h>

#include "vstream.h"

typedef struct DELIVERED_HDR_INFO DELIVERED_HDR_INFO;

extern DELIVERED_HDR_INFO *delivered_hdr_init(VSTREAM *src, off_t src_offset);
extern bool delivered_hdr_find(DELIVERED_HDR_INFO *info, const char *address);
extern void delivered_hdr_free(DELIVERED_HDR_INFO *info);

#endif
