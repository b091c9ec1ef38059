/*
 * maildir_deliver - deliver one message into a Maildir. See
 * maildir_deliver.h.
 *
 * The message is written under tmp/ with a name made of the time, our
 * process ID and a counter (created exclusively, so two deliveries can
 * never share it), then linked into new/ under the final unique name,
 * which also holds the device and inode of the written file. A name
 * already taken in new/ (which cannot happen unless clocks go back) is
 * retried with a fresh time stamp.
 *
 * Errors: -1 with why set; nothing is left in tmp/ after a failure.
 */
#include "sys_defs.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include "dsn.h"
#include "mail_copy.h"
#include "maildir_deliver.h"
#include "msg.h"
#include "vstream.h"
#include "vstring.h"

#define MAILDIR_MODE 0700

/* The status for a failed file operation: resource problems are temporary. */
static const char *maildir_dsn(int err)
{
    switch (err) {
    case ENOSPC:
        return "4.3.0";
    case EDQUOT:
    case EFBIG:
        return "5.2.2";
    case EAGAIN:
    case ESTALE:
    case EINTR:
    case ENFILE:
    case EMFILE:
        return "4.2.0";
    default:
        return "5.2.0";
    }
}

/* Create dir and its missing parents; -1 with errno. */
static int maildir_mkdirs(const char *dir)
{
    struct stat st;

    if (stat(dir, &st) == 0)
        return S_ISDIR(st.st_mode) ? 0 : (errno = ENOTDIR, -1);
    if (errno != ENOENT)
        return -1;

    VSTRING *parent = vstring_strcpy(vstring_alloc(100), dir);
    char *slash;
    int status = 0;

    while ((slash = strrchr(vstring_str(parent), '/')) != NULL && slash[1] == 0)
        *slash = 0; /* trailing slashes */
    if ((slash = strrchr(vstring_str(parent), '/')) != NULL && slash > vstring_str(parent)) {
        *slash = 0;
        status = maildir_mkdirs(vstring_str(parent));
    }
    vstring_free(parent);
    if (status == 0 && mkdir(dir, MAILDIR_MODE) < 0 && errno != EEXIST)
        status = -1;
    return status;
}

/* The host name as Maildir++ writes it in file names ("/" and ":" escaped). */
static const char *maildir_hostname(void)
{
    static VSTRING *host;
    char name[256];

    if (host == NULL) {
        host = vstring_alloc(100);
        if (gethostname(name, sizeof(name)) < 0)
            strcpy(name, "localhost");
        name[sizeof(name) - 1] = 0;
        for (const char *cp = name; *cp; cp++) {
            if (*cp == '/')
                vstring_strcat(host, "\\057");
            else if (*cp == ':')
                vstring_strcat(host, "\\072");
            else
                vstring_strncat(host, cp, 1);
        }
    }
    return vstring_str(host);
}

/* Deliver one message to a Maildir; see maildir_deliver.h. */
int maildir_deliver(const char *dir, const char *sender, const char *orig_rcpt, const char *delivered,
                    VSTREAM *src, off_t src_offset, int copy_flags, DSN_BUF *why, VSTRING *path)
{
    static unsigned long counter;
    VSTRING *top = vstring_strcpy(vstring_alloc(100), dir);
    VSTRING *tmpfile = vstring_alloc(100);
    VSTRING *newfile = vstring_alloc(100);
    VSTRING *sub = vstring_alloc(100);
    VSTREAM *dst = NULL;
    struct timeval tv;
    struct stat st;
    int status = -1;

    dsb_reset(why);
    while (VSTRING_LEN(top) > 1 && vstring_end(top)[-1] == '/')
        vstring_truncate(top, VSTRING_LEN(top) - 1);

    /* The three subdirectories, and the top one with its parents first. */
    static const char *const subdirs[] = {"tmp", "new", "cur"};

    if (maildir_mkdirs(vstring_str(top)) < 0) {
        dsb_simple(why, maildir_dsn(errno), "create maildir directory %s: %m", vstring_str(top));
        goto done;
    }
    for (size_t i = 0; i < ARRAY_LEN(subdirs); i++) {
        vstring_sprintf(sub, "%s/%s", vstring_str(top), subdirs[i]);
        if (mkdir(vstring_str(sub), MAILDIR_MODE) < 0 && errno != EEXIST) {
            dsb_simple(why, maildir_dsn(errno), "create maildir directory %s: %m", vstring_str(sub));
            goto done;
        }
    }

    /* Write the message under tmp/. */
    gettimeofday(&tv, NULL);
    vstring_sprintf(tmpfile, "%s/tmp/%ld.M%ldP%ld_%lu.%s", vstring_str(top), (long)tv.tv_sec,
                    (long)tv.tv_usec, (long)getpid(), counter++, maildir_hostname());
    if ((dst = vstream_fopen(vstring_str(tmpfile), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0600)) == NULL) {
        dsb_simple(why, maildir_dsn(errno), "create maildir file %s: %m", vstring_str(tmpfile));
        goto done;
    }
    if (fstat(vstream_fileno(dst), &st) < 0) {
        dsb_simple(why, maildir_dsn(errno), "create maildir file %s: %m", vstring_str(tmpfile));
        goto unlink_tmp;
    }
    if (mail_copy(sender, orig_rcpt, delivered, src, src_offset, dst, MAIL_COPY_MAILDIR | copy_flags, "\n",
                  why) != MAIL_COPY_STAT_OK)
        goto unlink_tmp;
    if (vstream_fclose(dst) != 0) {
        dst = NULL;
        dsb_simple(why, maildir_dsn(errno), "error writing message: %m");
        goto unlink_tmp;
    }
    dst = NULL;

    /* Move it to new/ under its unique name. */
    for (int attempt = 0;; attempt++) {
        vstring_sprintf(newfile, "%s/new/%ld.V%lxI%lxM%ldP%ld.%s", vstring_str(top), (long)tv.tv_sec,
                        (unsigned long)st.st_dev, (unsigned long)st.st_ino, (long)tv.tv_usec, (long)getpid(),
                        maildir_hostname());
        if (link(vstring_str(tmpfile), vstring_str(newfile)) == 0)
            break;
        if (errno != EEXIST || attempt >= 5) {
            dsb_simple(why, maildir_dsn(errno), "create maildir file %s: %m", vstring_str(newfile));
            goto unlink_tmp;
        }
        gettimeofday(&tv, NULL);
    }
    if (path)
        vstring_strcpy(path, vstring_str(newfile));
    status = 0;

unlink_tmp:
    if (dst != NULL)
        (void)vstream_fclose(dst);
    if (unlink(vstring_str(tmpfile)) < 0 && errno != ENOENT)
        msg_warn("remove %s: %m", vstring_str(tmpfile));
done:
    vstring_free(sub);
    vstring_free(newfile);
    vstring_free(tmpfile);
    vstring_free(top);
    return status;
}
