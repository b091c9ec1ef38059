/*
 * mail_queue - the queue directory: its subdirectories, queue IDs, and
 * the paths and files of queued messages. See mail_queue.h.
 *
 * Public functions: mail_queue_pid_path(), mail_queue_id_make(),
 * mail_queue_id_ok(), mail_queue_dir(), mail_queue_path(),
 * mail_queue_enter(), mail_queue_name_new(), mail_queue_open(),
 * mail_queue_rename(), mail_queue_remove(), mail_queue_sync_dir().
 *
 * Hashing: the subdirectory names are the first hash_queue_depth
 * characters of the ID for short IDs. For long IDs they are the same
 * characters a short ID would have, "%05X" of the creation microseconds
 * (decoded from the long ID), as Postfix documents for hash_queue_depth.
 *
 * Errors: NULL or -1 with errno set, nothing logged, except that
 * mail_queue_enter() logs and retries a name collision and returns NULL
 * with a warning when it cannot create a file at all.
 */
#include "sys_defs.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include "mail_params.h"
#include "mail_queue.h"
#include "msg.h"
#include "mymalloc.h"
#include "vstream.h"
#include "vstring.h"

/* Modes as Postfix uses them; the owners differ only in system mode. */
const MAIL_QUEUE_DIR mail_queue_dirs[] = {
    {"active", 0700},  {"bounce", 0700}, {"corrupt", 0700},  {"defer", 0700},    {"deferred", 0700},
    {"flush", 0700},   {"hold", 0700},   {"incoming", 0700}, {"maildrop", 0730}, {"pid", 0755},
    {"private", 0700}, {"public", 0710}, {"saved", 0700},    {"spare", 0700},    {"trace", 0700},
    {NULL, 0},
};

/* Long IDs: base 52 for time digits, base 51 (no 'z') for the inode. */
static const char mail_queue_b52[] = "0123456789BCDFGHJKLMNPQRSTVWXYZbcdfghjklmnpqrstvwxyz";

#define MQID_LG_SEC_MIN  6   /* base-52 digits of the seconds, at least */
#define MQID_LG_USEC_LEN 4   /* base-52 digits of the microseconds */
#define MQID_LG_SEP      'z' /* between time and inode */
#define MQID_SH_USEC_LEN 5   /* hex digits of the microseconds */

/* $queue_directory/pid/master.pid, newly allocated. */
char *mail_queue_pid_path(void)
{
    return vstring_export(vstring_sprintf(vstring_alloc(100), "%s/pid/master.pid", var_queue_directory));
}

/* Append VALUE in base BASE (digits from mail_queue_b52), at least WIDTH digits. */
static void mail_queue_encode(VSTRING *buf, unsigned long long value, unsigned base, size_t width)
{
    char digits[72];
    size_t n = 0;

    do {
        digits[n++] = mail_queue_b52[value % base];
        value /= base;
    } while (value > 0);
    while (n < width)
        digits[n++] = '0';
    while (n > 0)
        vstring_addch(buf, digits[--n]);
}

/* The queue ID of a file with INODE created at TV (short or long per enable_long_queue_ids). */
void mail_queue_id_make(VSTRING *buf, ino_t inode, const struct timeval *tv)
{
    vstring_reset(buf);
    if (var_enable_long_queue_ids) {
        mail_queue_encode(buf, (unsigned long long)tv->tv_sec, 52, MQID_LG_SEC_MIN);
        mail_queue_encode(buf, (unsigned long long)tv->tv_usec, 52, MQID_LG_USEC_LEN);
        vstring_addch(buf, MQID_LG_SEP);
        mail_queue_encode(buf, (unsigned long long)inode, 51, 1);
    } else {
        vstring_sprintf(buf, "%05X%llX", (unsigned)tv->tv_usec, (unsigned long long)inode);
    }
}

/* True when ID is a plausible queue ID: [A-Za-z0-9_]+, shorter than MAIL_QUEUE_ID_LEN_MAX. */
bool mail_queue_id_ok(const char *id)
{
    const char *cp;

    if (id == NULL || *id == 0)
        return false;
    for (cp = id; *cp; cp++) {
        if (cp - id >= MAIL_QUEUE_ID_LEN_MAX - 1)
            return false;
        if (!((*cp >= 'A' && *cp <= 'Z') || (*cp >= 'a' && *cp <= 'z') || (*cp >= '0' && *cp <= '9') ||
              *cp == '_'))
            return false;
    }
    return true;
}

/* True when QUEUE is listed in hash_queue_names. */
static bool mail_queue_hashed(const char *queue)
{
    const char *cp = var_hash_queue_names ? var_hash_queue_names : "";
    size_t qlen = strlen(queue);

    while (*cp) {
        size_t len;

        cp += strspn(cp, ", \t\r\n");
        len = strcspn(cp, ", \t\r\n");
        if (len == qlen && strncmp(cp, queue, len) == 0)
            return true;
        cp += len;
    }
    return false;
}

/*
 * The characters that name the hash subdirectories of ID: the ID itself
 * for short IDs, the hex microseconds for long ones. Returns their count.
 */
static size_t mail_queue_hash_chars(const char *id, char *out, size_t size)
{
    const char *sep = strrchr(id, MQID_LG_SEP);

    if (sep != NULL && sep - id >= MQID_LG_SEC_MIN + MQID_LG_USEC_LEN) {
        unsigned long usec = 0;
        const char *cp;

        for (cp = sep - MQID_LG_USEC_LEN; cp < sep; cp++) {
            const char *digit = strchr(mail_queue_b52, *cp);

            if (digit == NULL || *cp == 0)
                break;
            usec = usec * 52 + (unsigned long)(digit - mail_queue_b52);
        }
        if (cp == sep) {
            snprintf(out, size, "%05lX", usec);
            return strlen(out);
        }
    }
    snprintf(out, size, "%s", id);
    return strlen(out);
}

/* The directory of ID in QUEUE: "queue[/h[/h...]]", relative or absolute. */
const char *mail_queue_dir(VSTRING *buf, const char *queue, const char *id, bool relative)
{
    vstring_reset(buf);
    if (!relative)
        vstring_sprintf(buf, "%s/", var_queue_directory);
    vstring_strcat(buf, queue);
    if (id != NULL && mail_queue_hashed(queue)) {
        char hash[MAIL_QUEUE_ID_LEN_MAX + 8];
        size_t n = mail_queue_hash_chars(id, hash, sizeof(hash));
        int depth = var_hash_queue_depth;

        for (int i = 0; i < depth && (size_t)i < n; i++) {
            vstring_addch(buf, '/');
            vstring_addch(buf, hash[i]);
        }
    }
    return vstring_str(buf);
}

/* The path of ID in QUEUE, relative to queue_directory or absolute. */
const char *mail_queue_path(VSTRING *buf, const char *queue, const char *id, bool relative)
{
    mail_queue_dir(buf, queue, id, relative);
    vstring_addch(buf, '/');
    vstring_strcat(buf, id);
    return vstring_str(buf);
}

/*
 * Create the missing hash subdirectories of ID in QUEUE, with the queue
 * directory's own mode. Returns 0 or -1 with errno.
 */
static int mail_queue_mkdirs(const char *queue, const char *id)
{
    VSTRING *top = vstring_alloc(100);
    VSTRING *dir = vstring_alloc(100);
    struct stat st;
    mode_t mode = 0700;
    int rc = 0;

    vstring_sprintf(top, "%s/%s", var_queue_directory, queue);
    if (stat(vstring_str(top), &st) == 0)
        mode = st.st_mode & 07777;
    mail_queue_dir(dir, queue, id, false);
    /* Walk down from the queue directory, one level at a time. */
    for (char *cp = vstring_str(dir) + VSTRING_LEN(top); rc == 0 && *cp;) {
        char *slash = strchr(cp + 1, '/');
        char saved = 0;

        if (slash) {
            saved = *slash;
            *slash = 0;
        }
        if (mkdir(vstring_str(dir), mode) == 0)
            (void)chmod(vstring_str(dir), mode); /* whatever the umask took */
        else if (errno != EEXIST)
            rc = -1;
        if (slash) {
            *slash = saved;
            cp = slash;
        } else {
            break;
        }
    }
    vstring_free(top);
    vstring_free(dir);
    return rc;
}

/*
 * Rename TEMP to PATH, never replacing an existing PATH: one rename with
 * RENAME_NOREPLACE where the kernel and file system have it, else a link
 * and the removal of TEMP, else (no hard links either) check, then rename.
 * Returns 0, or -1 with errno (EEXIST: the name is taken).
 */
static int mail_queue_rename_new(const char *temp, const char *path)
{
    static bool no_renameat2;
    struct stat st;

    if (!no_renameat2) {
        if (renameat2(AT_FDCWD, temp, AT_FDCWD, path, RENAME_NOREPLACE) == 0)
            return 0;
        if (errno != EINVAL && errno != ENOSYS)
            return -1;
        no_renameat2 = true;
    }
    if (link(temp, path) == 0) {
        if (unlink(temp) < 0)
            msg_warn("remove %s: %m", temp);
        return 0;
    }
    if (errno != EPERM && errno != ENOTSUP && errno != EOPNOTSUPP)
        return -1;
    if (lstat(path, &st) == 0) {
        errno = EEXIST;
        return -1;
    }
    return rename(temp, path);
}

/* Give a new file its queue ID as name; see mail_queue_rename_new(). */
static int mail_queue_claim(const char *temp, const char *queue, const char *id)
{
    VSTRING *path = vstring_alloc(100);
    int rc;

    mail_queue_path(path, queue, id, false);
    rc = mail_queue_rename_new(temp, vstring_str(path));
    if (rc < 0 && errno == ENOENT && mail_queue_mkdirs(queue, id) == 0)
        rc = mail_queue_rename_new(temp, vstring_str(path));
    vstring_free(path);
    return rc;
}

/*
 * Give the file at FROM, whose inode is INO, its queue ID as name in
 * QUEUE: the ID from the inode and the time (TV, ID); if the name is
 * taken (a leftover from another file system, or a clock step), wait for
 * the next microsecond and retry. 0, or -1 with errno from the last
 * rename (ENOENT: FROM is gone).
 */
int mail_queue_name_new(const char *from, const char *queue, ino_t ino, struct timeval *tv, VSTRING *id)
{
    struct timeval now;

    for (int attempt = 0;; attempt++) {
        gettimeofday(tv, NULL);
        mail_queue_id_make(id, ino, tv);
        if (mail_queue_claim(from, queue, vstring_str(id)) == 0)
            return 0;
        if (errno != EEXIST || attempt >= 1000)
            return -1;
        msg_warn("%s: queue file name %s/%s is in use; trying another", from, queue, vstring_str(id));
        do {
            gettimeofday(&now, NULL);
        } while (now.tv_sec == tv->tv_sec && now.tv_usec == tv->tv_usec);
    }
}

/* A new file in QUEUE named after its ID; -1 after a warning. */
static int mail_queue_create(const char *queue, mode_t mode, struct timeval *tv, VSTRING *id)
{
    static unsigned long counter;
    VSTRING *temp = vstring_alloc(100);
    struct timeval now;
    struct stat st;
    int fd;

    /* A temporary name with a '.', which is never a valid queue ID. */
    do {
        gettimeofday(&now, NULL);
        vstring_sprintf(temp, "%s/%s/%ld.%lu.%ld", var_queue_directory, queue, (long)getpid(), counter++,
                        (long)now.tv_usec);
    } while ((fd = open(vstring_str(temp), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, mode)) < 0 && errno == EEXIST);
    if (fd < 0) {
        msg_warn("create file %s: %m", vstring_str(temp));
    } else if (fchmod(fd, mode) < 0 || fstat(fd, &st) < 0) {
        msg_warn("fstat/fchmod %s: %m", vstring_str(temp));
    } else if (mail_queue_name_new(vstring_str(temp), queue, st.st_ino, tv, id) < 0) {
        msg_warn("rename %s to %s/%s: %m", vstring_str(temp), queue, vstring_str(id));
    } else {
        vstring_free(temp);
        return fd;
    }
    if (fd >= 0) {
        (void)unlink(vstring_str(temp));
        (void)close(fd);
    }
    vstring_free(temp);
    return -1;
}

/* Create a new queue file in QUEUE named after its ID; see mail_queue.h. */
VSTREAM *mail_queue_enter(const char *queue, mode_t mode, struct timeval *tv, VSTRING *id)
{
    VSTRING *path;
    VSTREAM *stream;
    int fd = -1;

    if (strcmp(queue, MAIL_QUEUE_INCOMING) == 0 && mode == MAIL_QUEUE_STAT_WRITE)
        fd = mail_queue_spare_take(queue, tv, id);
    if (fd < 0 && (fd = mail_queue_create(queue, mode, tv, id)) < 0)
        return NULL;
    stream = vstream_fdopen(fd, O_RDWR);
    path = vstring_alloc(100);
    mail_queue_path(path, queue, vstring_str(id), false);
    stream->path = vstring_export(path);
    return stream;
}

/* Open QUEUE/ID; with O_CREAT the hash subdirectories are made as needed. */
VSTREAM *mail_queue_open(const char *queue, const char *id, int flags, mode_t mode)
{
    VSTRING *path = vstring_alloc(100);
    VSTREAM *stream;

    mail_queue_path(path, queue, id, false);
    stream = vstream_fopen(vstring_str(path), flags, mode);
    if (stream == NULL && errno == ENOENT && (flags & O_CREAT) && mail_queue_mkdirs(queue, id) == 0)
        stream = vstream_fopen(vstring_str(path), flags, mode);
    vstring_free(path);
    return stream;
}

/* Move ID from OLD_QUEUE to NEW_QUEUE. */
int mail_queue_rename(const char *id, const char *old_queue, const char *new_queue)
{
    VSTRING *old_path = vstring_alloc(100);
    VSTRING *new_path = vstring_alloc(100);
    int rc;

    mail_queue_path(old_path, old_queue, id, false);
    mail_queue_path(new_path, new_queue, id, false);
    rc = rename(vstring_str(old_path), vstring_str(new_path));
    if (rc < 0 && errno == ENOENT && access(vstring_str(old_path), F_OK) == 0) {
        if (mail_queue_mkdirs(new_queue, id) == 0)
            rc = rename(vstring_str(old_path), vstring_str(new_path));
        else
            errno = ENOENT;
    }
    vstring_free(old_path);
    vstring_free(new_path);
    return rc;
}

/* Remove QUEUE/ID. */
int mail_queue_remove(const char *queue, const char *id)
{
    VSTRING *path = vstring_alloc(100);
    int rc;

    rc = unlink(mail_queue_path(path, queue, id, false));
    vstring_free(path);
    return rc;
}

/* Flush the directory entry of QUEUE/ID to stable storage. */
int mail_queue_sync_dir(const char *queue, const char *id)
{
    VSTRING *dir = vstring_alloc(100);
    int fd;
    int rc = -1;

    if ((fd = open(mail_queue_dir(dir, queue, id, false), O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >= 0) {
        rc = fsync(fd);
        if (rc < 0 && errno == EINVAL)
            rc = 0; /* file systems that cannot sync directories */
        int saved = errno;

        close(fd);
        errno = saved;
    }
    vstring_free(dir);
    return rc;
}
