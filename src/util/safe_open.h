/*
 * safe_open - open or create a file for delivery-style writes without
 * being tricked into writing somewhere else.
 *
 * safe_open(path, flags, mode, st, user, group, why) opens path as open(2)
 * would with flags and mode, but:
 *   - refuses a symbolic link (O_NOFOLLOW, and an lstat() that must still
 *     agree with the opened file afterwards);
 *   - refuses an existing file that is not a regular file or that has more
 *     than one hard link;
 *   - refuses an existing file not owned by user or group (pass (uid_t) -1
 *     or (gid_t) -1 to skip either check);
 *   - creates a missing file only with O_EXCL (when flags has O_CREAT),
 *     then gives it to user and group (when set and different);
 *   - applies O_TRUNC only after all checks passed, and never blocks on
 *     opening a FIFO.
 * With O_CREAT | O_EXCL the file must not exist yet. When st is not NULL
 * it receives the opened file's status.
 *
 * Errors: -1 with errno set and a human-readable reason (without the path)
 * in why: "file is a symbolic link", "file has 2 hard links", "file was
 * replaced", "file is not a regular file", "file is owned by uid 1000, not
 * uid 8", "cannot open file: Permission denied", ...
 */
#ifndef SAFE_OPEN_H
#define SAFE_OPEN_H

#include <sys/stat.h>
#include <sys/types.h>

#include "sys_defs.h"
#include "vstring.h"

extern int safe_open(const char *path, int flags, mode_t mode, struct stat *st, uid_t user, gid_t group,
                     VSTRING *why);

#endif
