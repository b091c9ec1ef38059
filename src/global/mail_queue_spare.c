/*
 * mail_queue_spare - recycled queue files (see mail_queue.h).
 *
 * Creating and deleting one file per message costs the file system an
 * inode allocation and release each time, and on ext4 without a journal
 * the allocator steps over every inode released in the last 30 seconds:
 * under sustained load each creation gets slower (bench/, docs/
 * performance.md). So the queue manager moves the file of a delivered
 * message into spare/ instead of deleting it, and mail_queue_enter()
 * reuses a spare, when there is one, instead of creating a file.
 *
 * mail_queue_retire(queue, id, size) moves QUEUE/ID into spare/ when the
 *     message is no larger than MAIL_QUEUE_SPARE_SIZE and spare/ holds
 *     fewer than MAIL_QUEUE_SPARE_MAX files (counted again every
 *     MAIL_QUEUE_SPARE_RECOUNT retirements); otherwise, or when the move
 *     fails, it removes the file. 0, or -1 with errno as
 *     mail_queue_remove().
 * mail_queue_spare_take(path) renames a spare to PATH and returns it open
 *     for reading and writing and truncated; -1 when there is none. The
 *     names come from one read of spare/, read again when used up.
 *
 * Safety: a spare holds an old message but is never read as one. Only the
 * queue manager's removal of a finished message puts a file there, no
 * reader looks into spare/, and the taker renames it to its temporary
 * name (never a valid queue ID) before opening and truncating it (not if
 * the file has another name, see mail_queue_spare_open());
 * mail_queue_enter() then sets mode 0600 before the file gets its queue
 * ID name. Takers in several processes race only in the rename: the loser
 * gets ENOENT and tries the next name.
 */
#include "sys_defs.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "argv.h"
#include "mail_params.h"
#include "mail_queue.h"
#include "msg.h"
#include "vstring.h"

/* The names read from spare/ that this process has not tried yet. */
static ARGV *spare_names;

/* Read up to MAIL_QUEUE_SPARE_BATCH names from spare/; false when there are none. */
static bool mail_queue_spare_read(void)
{
    VSTRING *dir = vstring_alloc(100);
    struct dirent *dp;
    DIR *dirp;

    if (spare_names == NULL)
        spare_names = argv_alloc(MAIL_QUEUE_SPARE_BATCH);
    vstring_sprintf(dir, "%s/%s", var_queue_directory, MAIL_QUEUE_SPARE);
    if ((dirp = opendir(vstring_str(dir))) != NULL) {
        /* Processes reading at the same time start at different names. */
        long skip = getpid() % MAIL_QUEUE_SPARE_BATCH;

        while (spare_names->argc < MAIL_QUEUE_SPARE_BATCH && (dp = readdir(dirp)) != NULL) {
            if (dp->d_name[0] == '.' || skip-- > 0)
                continue;
            argv_add(spare_names, dp->d_name);
        }
        if (spare_names->argc == 0) {
            rewinddir(dirp);
            while (spare_names->argc < MAIL_QUEUE_SPARE_BATCH && (dp = readdir(dirp)) != NULL)
                if (dp->d_name[0] != '.')
                    argv_add(spare_names, dp->d_name);
        }
        closedir(dirp);
    }
    vstring_free(dir);
    return spare_names->argc > 0;
}

/*
 * Open the spare just renamed to PATH and empty it; -1 if unusable. A
 * file with a second name is left alone: after a crash and fsck both the
 * old and the new name of a rename may exist, and the other name may be
 * a queued message.
 */
static int mail_queue_spare_open(const char *path)
{
    struct stat st;
    int fd;

    if ((fd = open(path, O_RDWR | O_CLOEXEC)) < 0) {
        msg_warn("open %s: %m", path);
        (void)unlink(path);
        return -1;
    }
    if (fstat(fd, &st) < 0)
        msg_warn("fstat %s: %m", path);
    else if (!S_ISREG(st.st_mode) || st.st_nlink != 1)
        msg_warn("%s: spare file with %lu names; not reused", path, (unsigned long)st.st_nlink);
    else if (ftruncate(fd, 0) < 0)
        msg_warn("truncate %s: %m", path);
    else
        return fd;
    (void)close(fd);
    (void)unlink(path);
    return -1;
}

/* Take a spare as PATH; see above. */
int mail_queue_spare_take(const char *path)
{
    VSTRING *spare = vstring_alloc(100);
    int fd = -1;

    while ((spare_names && spare_names->argc > 0) || mail_queue_spare_read()) {
        size_t last = spare_names->argc - 1;

        vstring_sprintf(spare, "%s/%s/%s", var_queue_directory, MAIL_QUEUE_SPARE, spare_names->argv[last]);
        argv_truncate(spare_names, last);
        if (rename(vstring_str(spare), path) == 0) {
            fd = mail_queue_spare_open(path);
            break;
        }
        if (errno != ENOENT) {
            msg_warn("rename %s to %s: %m", vstring_str(spare), path);
            argv_truncate(spare_names, 0);
            break;
        }
    }
    vstring_free(spare);
    return fd;
}

/* The number of files in spare/ (at most MAIL_QUEUE_SPARE_MAX), or MAIL_QUEUE_SPARE_MAX if unreadable. */
static int mail_queue_spare_count(void)
{
    VSTRING *dir = vstring_alloc(100);
    struct dirent *dp;
    DIR *dirp;
    int count = 0;

    vstring_sprintf(dir, "%s/%s", var_queue_directory, MAIL_QUEUE_SPARE);
    if ((dirp = opendir(vstring_str(dir))) == NULL) {
        count = MAIL_QUEUE_SPARE_MAX;
    } else {
        while (count < MAIL_QUEUE_SPARE_MAX && (dp = readdir(dirp)) != NULL)
            if (dp->d_name[0] != '.')
                count++;
        closedir(dirp);
    }
    vstring_free(dir);
    return count;
}

/* Move a finished message file into spare/ or remove it; see above. */
int mail_queue_retire(const char *queue, const char *id, long size)
{
    static int calls;
    static bool full;

    if (size <= MAIL_QUEUE_SPARE_SIZE) {
        if (calls++ % MAIL_QUEUE_SPARE_RECOUNT == 0)
            full = mail_queue_spare_count() >= MAIL_QUEUE_SPARE_MAX - MAIL_QUEUE_SPARE_RECOUNT;
        if (!full && mail_queue_rename(id, queue, MAIL_QUEUE_SPARE) == 0)
            return 0;
    }
    return mail_queue_remove(queue, id);
}
