/*
 * ps_name - the queue file name that matches a file's inode (postsuper -s).
 *
 * ps_name_fix(BUF, NAME, INODE, LONG_IDS, STRICT) decides whether queue
 * file NAME must be renamed now that the file has INODE, and stores the
 * new name in BUF. Short names (queue.md 3) keep their first 5 characters
 * (the creation microseconds) and get the inode in upper-case hex. Long
 * names are converted to short names when LONG_IDS is false (their
 * microseconds become the 5 hex digits); with LONG_IDS they are checked
 * only when STRICT (-S): the part after "z" becomes the inode in base 51.
 * Returns true when BUF differs from NAME. ps_name_is_long() tells a long
 * name from a short one. No errors: any name gets an answer.
 */
#ifndef PS_NAME_H
#define PS_NAME_H

#include <stdbool.h>
#include <sys/types.h>

#include "vstring.h"

extern bool ps_name_is_long(const char *name);
extern bool ps_name_fix(VSTRING *buf, const char *name, ino_t inode, bool long_ids, bool strict);

#endif
