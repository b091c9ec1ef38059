/*
 * atomic_file - replace a file all at once through a temporary file. See
 * atomic_file.h for the contract.
 *
 * Every unfinished file is on a list with the process that made it; an
 * atexit() handler, registered on first use, removes the list's files of
 * the exiting process. Temporary names come from mkostemp(), so two
 * writers of the same file never share a temporary file.
 */
#include "sys_defs.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "atomic_file.h"
#include "msg.h"
#include "mymalloc.h"
#include "vstring.h"

typedef struct ATOMIC_FILE_GUARD {
    char *path;
    pid_t pid; /* the process that made it: only that one removes it */
    struct ATOMIC_FILE_GUARD *next;
} ATOMIC_FILE_GUARD;

static ATOMIC_FILE_GUARD *atomic_file_guards;

/* At exit: remove this process's unfinished files. */
static void atomic_file_cleanup(void)
{
    ATOMIC_FILE_GUARD *gp;
    pid_t pid = getpid();

    while ((gp = atomic_file_guards) != NULL) {
        atomic_file_guards = gp->next;
        if (gp->pid == pid)
            (void)unlink(gp->path);
        myfree(gp->path);
        myfree(gp);
    }
}

/* Remember path for removal when this process exits. */
void atomic_file_guard(const char *path)
{
    static bool registered;
    ATOMIC_FILE_GUARD *gp;

    if (!registered) {
        if (atexit(atomic_file_cleanup) != 0)
            msg_fatal("atexit: %m");
        registered = true;
    }
    gp = mymalloc(sizeof(*gp));
    gp->path = mystrdup(path);
    gp->pid = getpid();
    gp->next = atomic_file_guards;
    atomic_file_guards = gp;
}

/* Forget a guarded path; the file itself is left alone. */
void atomic_file_unguard(const char *path)
{
    ATOMIC_FILE_GUARD **gpp, *gp;

    for (gpp = &atomic_file_guards; (gp = *gpp) != NULL; gpp = &gp->next) {
        if (strcmp(gp->path, path) == 0) {
            *gpp = gp->next;
            myfree(gp->path);
            myfree(gp);
            return;
        }
    }
}

/* The process umask (umask() can only be read by setting it). */
static mode_t atomic_file_umask(void)
{
    mode_t mask = umask(022);

    (void)umask(mask);
    return mask;
}

/* fsync() the directory holding path, so that a rename survives a crash. */
static void atomic_file_sync_dir(const char *path)
{
    const char *slash = strrchr(path, '/');
    char *dir = slash == NULL ? mystrdup(".") : mystrndup(path, slash == path ? 1 : (size_t)(slash - path));
    int fd;

    if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >= 0) {
        if (fsync(fd) < 0 && errno != EINVAL)
            msg_warn("fsync directory %s: %m", dir);
        (void)close(fd);
    }
    myfree(dir);
}

/* Free a handle (its descriptor is the caller's). */
static void atomic_file_free(ATOMIC_FILE *af)
{
    myfree(af->path);
    myfree(af->tmp_path);
    myfree(af);
}

/* Create PATH.XXXXXX with the given mode less the umask, removed at exit. */
ATOMIC_FILE *atomic_file_create(const char *path, mode_t mode, VSTRING *why)
{
    ATOMIC_FILE *af = mymalloc(sizeof(*af));
    int saved;

    af->path = mystrdup(path);
    af->tmp_path = mymalloc(strlen(path) + sizeof(".XXXXXX"));
    sprintf(af->tmp_path, "%s.XXXXXX", path);
    if ((af->fd = mkostemp(af->tmp_path, O_CLOEXEC)) < 0) {
        saved = errno;
        if (why != NULL)
            vstring_sprintf(why, "create a temporary file beside %s: %m", path);
        atomic_file_free(af);
        errno = saved;
        return NULL;
    }
    atomic_file_guard(af->tmp_path);
    if (fchmod(af->fd, mode & ~atomic_file_umask()) < 0) {
        saved = errno;
        if (why != NULL)
            vstring_sprintf(why, "set the mode of %s: %m", af->tmp_path);
        (void)close(af->fd);
        (void)atomic_file_abandon(af);
        errno = saved;
        return NULL;
    }
    return af;
}

/* Sync the temporary file, rename it over PATH, sync the directory. */
int atomic_file_commit(ATOMIC_FILE *af, VSTRING *why)
{
    int saved;

    if (fsync(af->fd) < 0) {
        saved = errno;
        if (why != NULL)
            vstring_sprintf(why, "fsync %s: %m", af->tmp_path);
        errno = saved;
        return -1;
    }
    if (rename(af->tmp_path, af->path) < 0) {
        saved = errno;
        if (why != NULL)
            vstring_sprintf(why, "install %s as %s: %m", af->tmp_path, af->path);
        errno = saved;
        return -1;
    }
    atomic_file_unguard(af->tmp_path);
    atomic_file_sync_dir(af->path);
    atomic_file_free(af);
    return 0;
}

/* Remove the temporary file and destroy the handle. */
ATOMIC_FILE *atomic_file_abandon(ATOMIC_FILE *af)
{
    (void)unlink(af->tmp_path);
    atomic_file_unguard(af->tmp_path);
    atomic_file_free(af);
    return NULL;
}
