/*
 * attr - the typed attribute protocol that Postern's processes speak over
 * UNIX-domain sockets (requests and replies between services).
 *
 * A message is a list of attributes followed by an end marker. On the wire
 * each attribute is its name, a null byte, its value as text, a null
 * byte; the end marker is one extra null byte. Integers travel as decimal
 * text. Names are [a-z0-9_]+; values may hold any byte except null.
 *
 *   attr_print(stream, ATTR_FLAG_NONE,
 *              SEND_ATTR_STR("queue_id", id), SEND_ATTR_INT("status", 0),
 *              ATTR_TYPE_END);
 *   n = attr_scan(stream, ATTR_FLAG_STRICT,
 *                 RECV_ATTR_STR("queue_id", buf), RECV_ATTR_INT("status", &st),
 *                 ATTR_TYPE_END);
 *
 * attr_print() writes the attributes and the end marker (none with
 * ATTR_FLAG_MORE) and flushes unless ATTR_FLAG_MORE or ATTR_FLAG_NOFLUSH
 * (several messages in one write); it returns 0 or -1
 * (stream error). attr_scan() reads one message and stores each requested
 * attribute it finds, in any order; it returns the number stored, or -1
 * on a read error, a malformed message, a bad integer, or (with
 * ATTR_FLAG_MISSING / ATTR_FLAG_EXTRA, both in ATTR_FLAG_STRICT) a
 * requested attribute that is absent or an unrequested one that is
 * present. With RECV_ATTR_HASH every attribute not requested otherwise
 * goes into the given HTABLE (values mymalloc'ed strings). Each problem is
 * logged with msg_warn() naming the stream's path and the attribute. Names
 * and values are limited to ATTR_LEN_MAX bytes.
 */
#ifndef ATTR_H
#define ATTR_H

#include "htable.h"
#include "vstream.h"
#include "vstring.h"

#define ATTR_TYPE_END  0
#define ATTR_TYPE_INT  1 /* int */
#define ATTR_TYPE_LONG 2 /* long long */
#define ATTR_TYPE_STR  3 /* const char * when sending, VSTRING * when receiving */
#define ATTR_TYPE_HASH 4 /* receiving only: HTABLE * for everything else */

#define SEND_ATTR_INT(name, val)  ATTR_TYPE_INT, (const char *) (name), (int) (val)
#define SEND_ATTR_LONG(name, val) ATTR_TYPE_LONG, (const char *) (name), (long long) (val)
#define SEND_ATTR_STR(name, val)  ATTR_TYPE_STR, (const char *) (name), (const char *) (val)
#define RECV_ATTR_INT(name, ptr)  ATTR_TYPE_INT, (const char *) (name), (int *) (ptr)
#define RECV_ATTR_LONG(name, ptr) ATTR_TYPE_LONG, (const char *) (name), (long long *) (ptr)
#define RECV_ATTR_STR(name, vp)   ATTR_TYPE_STR, (const char *) (name), (VSTRING *) (vp)
#define RECV_ATTR_HASH(table)     ATTR_TYPE_HASH, (HTABLE *) (table)

#define ATTR_FLAG_NONE    0
#define ATTR_FLAG_MISSING (1 << 0) /* a requested attribute must be present */
#define ATTR_FLAG_EXTRA   (1 << 1) /* no unrequested attributes allowed */
#define ATTR_FLAG_MORE    (1 << 2) /* print: no end marker, no flush */
#define ATTR_FLAG_NOFLUSH (1 << 3) /* print: end marker, but no flush yet */
#define ATTR_FLAG_STRICT  (ATTR_FLAG_MISSING | ATTR_FLAG_EXTRA)

#define ATTR_LEN_MAX (1 << 20)

extern int attr_print(VSTREAM *stream, int flags, ...);
extern int attr_scan(VSTREAM *stream, int flags, ...);

#endif
