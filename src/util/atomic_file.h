/*
 * atomic_file - replace a file all at once: write a temporary file beside
 * it, then sync and rename it over the original. Readers see the old file
 * or the new one, never a mix, and a program that dies before the rename
 * leaves the old file and no temporary file behind.
 *
 * Public functions:
 *   atomic_file_create(path, mode, why)
 *                            create PATH.XXXXXX (close-on-exec, read-write,
 *                            mode less the umask, owned by the caller's
 *                            user) and arrange for its removal at exit
 *   atomic_file_commit(af, why)
 *                            fsync the temporary file, rename it to PATH,
 *                            fsync the directory; destroys af on success
 *   atomic_file_abandon(af)  remove the temporary file, destroy af;
 *                            returns NULL
 *   atomic_file_guard(path)  remove path at exit, for a file created in
 *                            place that is not finished yet
 *   atomic_file_unguard(path)
 *                            forget a guarded path (the file is kept)
 *
 * The descriptor af->fd belongs to the caller, who closes it when done:
 * after atomic_file_commit(), which syncs through it, or before or after
 * atomic_file_abandon(). After a commit it refers to the file now at PATH.
 *
 * Removal at exit runs from an atexit() handler, so it covers exit() and
 * msg_fatal() but not signals or _exit(). It removes only files that the
 * exiting process created or guarded itself: a forked child that exits
 * leaves its parent's files alone.
 *
 * Errors: atomic_file_create() returns NULL and atomic_file_commit() -1,
 * with errno set and, when why is not NULL, a message in why ("create a
 * temporary file beside /etc/postfix/main.cf: Permission denied", "fsync
 * FILE: ...", "install TEMP as PATH: ..."). A failed create leaves no file;
 * after a failed commit the temporary file and af remain, for the caller
 * to abandon or to leave to the exit handler. A failure to sync the
 * directory after the rename is only a warning.
 */
#ifndef ATOMIC_FILE_H
#define ATOMIC_FILE_H

#include "sys_defs.h"
#include "vstring.h"

typedef struct ATOMIC_FILE {
    int fd;         /* the temporary file; the caller's to close */
    char *path;     /* the file it replaces at commit */
    char *tmp_path; /* PATH.XXXXXX */
} ATOMIC_FILE;

extern ATOMIC_FILE *atomic_file_create(const char *path, mode_t mode, VSTRING *why);
extern int atomic_file_commit(ATOMIC_FILE *af, VSTRING *why);
extern ATOMIC_FILE *atomic_file_abandon(ATOMIC_FILE *af);
extern void atomic_file_guard(const char *path);
extern void atomic_file_unguard(const char *path);

#endif
