/*
 * mail_queue_spare - recycled queue files (see mail_queue.h).
 *
 * Creating and deleting one file per message costs the file system an
 * inode allocation and release each time, and on ext4 without a journal
 * the allocator steps over every inode released in the last 30 seconds:
 * under sustained load each creation gets slower (bench/, docs/
 * performance.md). So the queue manager moves the file of a delivered
 * message into spare/ instead of deleting it, keeps spare/ stocked with
 * empty files while it is idle, and mail_queue_enter() reuses a spare,
 * when there is one, instead of creating a file. queue_spare_files (a
 * Postern parameter) is the size of that stock; 0 turns recycling off.
 *
 * The queue manager's side keeps an estimate of the files in spare/:
 * counted when it fills spare/ and every MAIL_QUEUE_SPARE_RECOUNT
 * retirements, plus one per retirement into spare/, minus one per new
 * message (mail_queue_spare_used(): each new message took a spare if
 * there was one).
 *
 * mail_queue_retire(queue, id, size) moves QUEUE/ID into spare/ when the
 *     message is no larger than MAIL_QUEUE_SPARE_SIZE and spare/ holds
 *     fewer than queue_spare_files files; otherwise, or when the move
 *     fails, it removes the file. 0, or -1 with errno as
 *     mail_queue_remove().
 * mail_queue_spare_used() tells the estimate that a new message arrived.
 * mail_queue_spare_fill(batch) creates up to BATCH empty files in spare/,
 *     as far as queue_spare_files allows; the number created. Meant to
 *     be called periodically: it creates nothing when a new message
 *     arrived since the previous call (the queue is not idle).
 * mail_queue_spare_take(queue, tv, id) renames a spare straight to its
 *     new queue ID name in QUEUE and returns it open for reading and
 *     writing, emptied, mode 0600; -1 when there is none. TV and ID as
 *     for mail_queue_enter(). The names come from one read of spare/,
 *     read again when used up (after finding spare/ empty, only once it
 *     has changed).
 *
 * Safety: a spare holds an old message (or nothing) but is never read as
 * one. Only the queue manager puts a file there, after delivery, and
 * first takes away the execute bit (mode 0600: not a complete message;
 * readers skip such files, see mail_queue.h). No reader looks into
 * spare/. A taker opens a spare, checks that it has mode 0600 and one
 * name (see mail_queue_spare_open()), renames it to its new queue ID,
 * and only then, the file being its own, empties it; cleanup completes
 * the message and sets the execute bit as for a new file. Takers in
 * several processes race only in the rename: the loser gets ENOENT,
 * closes the file untouched and tries the next name. A crash between
 * the rename and the truncation leaves an incomplete file (mode 0600),
 * as a crash while writing does.
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

/*
 * Read up to MAIL_QUEUE_SPARE_BATCH names from spare/; false when there
 * are none. After finding none, spare/ is read again only when its
 * modification time has changed (one stat instead of a read while a
 * growing queue has used up every spare). With coarse directory time
 * stamps (Linux before 6.13) a spare that arrives within the same clock
 * tick may be overlooked until spare/ changes again; that costs a new
 * file, nothing else.
 */
static bool mail_queue_spare_read(void)
{
    static struct timespec empty_mtime;
    static bool empty_seen;
    VSTRING *dir = vstring_alloc(100);
    struct stat st;
    int fd;

    if (spare_names == NULL)
        spare_names = argv_alloc(MAIL_QUEUE_SPARE_BATCH);
    vstring_sprintf(dir, "%s/%s", var_queue_directory, MAIL_QUEUE_SPARE);
    if (empty_seen && stat(vstring_str(dir), &st) == 0 && st.st_mtim.tv_sec == empty_mtime.tv_sec &&
        st.st_mtim.tv_nsec == empty_mtime.tv_nsec) {
        vstring_free(dir);
        return false;
    }
    empty_seen = false;
    /* One small read of the directory (readdir() would read 32 KB of names to use 64). */
    if ((fd = open(vstring_str(dir), O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >= 0) {
        union {
            struct dirent64 align;
            char buf[MAIL_QUEUE_SPARE_DIRBUF];
        } ents;
        /* Taken before reading: a change during the read changes it. */
        bool stamped = fstat(fd, &st) == 0;
        ssize_t len = getdents64(fd, ents.buf, sizeof(ents.buf));
        /* Processes reading at the same time start at different names. */
        long skip = getpid() % MAIL_QUEUE_SPARE_BATCH;

        for (int pass = 0; pass < 2 && spare_names->argc == 0; pass++) {
            for (ssize_t off = 0; off < len && spare_names->argc < MAIL_QUEUE_SPARE_BATCH;) {
                const struct dirent64 *dp = (const struct dirent64 *)(ents.buf + off);

                off += dp->d_reclen;
                if (dp->d_name[0] == '.' || (pass == 0 && skip-- > 0))
                    continue;
                argv_add(spare_names, dp->d_name);
            }
        }
        (void)close(fd);
        if (spare_names->argc == 0 && len >= 0 && stamped) {
            empty_seen = true;
            empty_mtime = st.st_mtim;
        }
    }
    vstring_free(dir);
    return spare_names->argc > 0;
}

/*
 * Open spare PATH for taking; -1 if it is gone (another process took it)
 * or unusable. Only a file with mode 0600 and one name is used: the
 * queue manager makes a spare 0600 before it moves it into spare/, so a
 * taker never changes the mode of a file another taker may own by now
 * (another mode: a spare an older Postern kept as it was; removed). A file with a
 * second name is left alone, and its spare/ name removed: after a crash
 * and fsck both the old and the new name of a rename may exist, and the
 * other name may be a queued message.
 */
static int mail_queue_spare_open(const char *path, struct stat *st)
{
    int fd;

    if ((fd = open(path, O_RDWR | O_CLOEXEC)) < 0) {
        if (errno != ENOENT)
            msg_warn("open %s: %m", path);
        return -1;
    }
    if (fstat(fd, st) < 0) {
        msg_warn("fstat %s: %m", path);
        (void)close(fd);
        return -1;
    }
    if (S_ISREG(st->st_mode) && st->st_nlink == 1 && (st->st_mode & 07777) == MAIL_QUEUE_STAT_WRITE)
        return fd;
    (void)close(fd);
    if (st->st_nlink > 1 || !S_ISREG(st->st_mode))
        msg_warn("%s: spare file with %lu names; not reused", path, (unsigned long)st->st_nlink);
    if (st->st_nlink > 0)
        (void)unlink(path);
    return -1;
}

/* Take a spare as QUEUE/ID; see above. */
int mail_queue_spare_take(const char *queue, struct timeval *tv, VSTRING *id)
{
    VSTRING *spare = vstring_alloc(100);
    struct stat st;
    int fd = -1;

    while ((spare_names && spare_names->argc > 0) || mail_queue_spare_read()) {
        size_t last = spare_names->argc - 1;

        vstring_sprintf(spare, "%s/%s/%s", var_queue_directory, MAIL_QUEUE_SPARE, spare_names->argv[last]);
        argv_truncate(spare_names, last);
        if ((fd = mail_queue_spare_open(vstring_str(spare), &st)) < 0)
            continue;
        /* Ours once renamed: only then emptied (another taker may have won). */
        if (mail_queue_name_new(vstring_str(spare), queue, st.st_ino, tv, id) == 0) {
            if (st.st_size == 0 || ftruncate(fd, 0) == 0)
                break;
            msg_warn("truncate %s/%s: %m", queue, vstring_str(id));
            (void)mail_queue_remove(queue, vstring_str(id));
        } else if (errno != ENOENT) {
            msg_warn("rename %s to %s/%s: %m", vstring_str(spare), queue, vstring_str(id));
            argv_truncate(spare_names, 0);
        }
        (void)close(fd);
        fd = -1;
    }
    vstring_free(spare);
    return fd;
}

/* The number of files in spare/ (at most LIMIT), or LIMIT if unreadable. */
static int mail_queue_spare_count(int limit)
{
    VSTRING *dir = vstring_alloc(100);
    struct dirent *dp;
    DIR *dirp;
    int count = 0;

    vstring_sprintf(dir, "%s/%s", var_queue_directory, MAIL_QUEUE_SPARE);
    if ((dirp = opendir(vstring_str(dir))) == NULL) {
        count = limit;
    } else {
        while (count < limit && (dp = readdir(dirp)) != NULL)
            if (dp->d_name[0] != '.')
                count++;
        closedir(dirp);
    }
    vstring_free(dir);
    return count;
}

/* The queue manager's estimate of the files in spare/; see above. */
static int spare_estimate;

/* A new message arrived since the last mail_queue_spare_fill(). */
static bool spare_used;

void mail_queue_spare_used(void)
{
    if (spare_estimate > 0)
        spare_estimate--;
    spare_used = true;
}

/* Mode 0600: not a complete message, and a spare a taker may use. */
static int mail_queue_spare_hide(const char *queue, const char *id)
{
    VSTRING *path = vstring_alloc(100);
    int rc = chmod(mail_queue_path(path, queue, id, false), MAIL_QUEUE_STAT_WRITE);

    vstring_free(path);
    return rc;
}

/* Move a finished message file into spare/ or remove it; see above. */
int mail_queue_retire(const char *queue, const char *id, long size)
{
    static int calls;

    if (size <= MAIL_QUEUE_SPARE_SIZE && var_queue_spare_files > 0) {
        if (calls++ % MAIL_QUEUE_SPARE_RECOUNT == 0)
            spare_estimate = mail_queue_spare_count(var_queue_spare_files);
        if (spare_estimate < var_queue_spare_files && mail_queue_spare_hide(queue, id) == 0 &&
            mail_queue_rename(id, queue, MAIL_QUEUE_SPARE) == 0) {
            spare_estimate++;
            return 0;
        }
    }
    return mail_queue_remove(queue, id);
}

/* Create up to BATCH empty spares; see above. */
int mail_queue_spare_fill(int batch)
{
    static unsigned long serial;
    VSTRING *path;
    int made = 0;
    int fd;

    if (spare_used || var_queue_spare_files <= 0) {
        spare_used = false;
        return 0;
    }
    spare_estimate = mail_queue_spare_count(var_queue_spare_files);
    if (spare_estimate >= var_queue_spare_files)
        return 0;
    path = vstring_alloc(100);
    while (made < batch && spare_estimate < var_queue_spare_files) {
        /* Not a queue ID (those have no '.'), unique per process lifetime. */
        vstring_sprintf(path, "%s/%s/new.%ld.%lu", var_queue_directory, MAIL_QUEUE_SPARE, (long)getpid(),
                        serial++);
        if ((fd = open(vstring_str(path), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600)) < 0) {
            if (errno == EEXIST)
                continue;
            msg_warn("create file %s: %m", vstring_str(path));
            break;
        }
        /* Exactly the mode takers accept, whatever the umask. */
        if (fchmod(fd, MAIL_QUEUE_STAT_WRITE) < 0)
            msg_warn("chmod %s: %m", vstring_str(path));
        (void)close(fd);
        made++;
        spare_estimate++;
    }
    vstring_free(path);
    return made;
}
