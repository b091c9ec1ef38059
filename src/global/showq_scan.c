/*
 * showq_scan - walk the mail queue for queue listings, and the showq
 * record protocol. See showq_scan.h.
 *
 * Public functions: showq_msg_alloc(), showq_msg_reset(),
 * showq_msg_free(), showq_scan(), showq_scan_file(), showq_scan_send(),
 * showq_scan_end(), showq_scan_recv().
 *
 * Errors: unparsable queue files are skipped with a warning naming the
 * file; nothing here is fatal.
 */
#include "sys_defs.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "attr.h"
#include "mail_params.h"
#include "mail_proto.h"
#include "mail_queue.h"
#include "msg.h"
#include "mymalloc.h"
#include "rec_type.h"
#include "record.h"
#include "bounce_log.h"
#include "showq_scan.h"

/* Deepest hash subdirectory level we descend into. */
#define SHOWQ_SCAN_DEPTH_MAX 16

/* Largest record we accept; queue files have nothing longer. */
#define SHOWQ_SCAN_REC_MAX (1 << 20)

const char *const showq_scan_queues[] = {
    MAIL_QUEUE_MAILDROP, MAIL_QUEUE_ACTIVE, MAIL_QUEUE_INCOMING, MAIL_QUEUE_DEFERRED, MAIL_QUEUE_HOLD, NULL,
};

/* A fresh, empty message. */
SHOWQ_MSG *showq_msg_alloc(void)
{
    SHOWQ_MSG *msg = mymalloc(sizeof(*msg));

    msg->queue = vstring_alloc(20);
    msg->id = vstring_alloc(MAIL_QUEUE_ID_LEN_MAX);
    msg->sender = vstring_alloc(100);
    msg->why = vstring_alloc(100);
    msg->rcpts = argv_alloc(10);
    msg->reasons = argv_alloc(10);
    showq_msg_reset(msg);
    return msg;
}

/* Forget the envelope of the previous message (queue and ID stay). */
void showq_msg_reset(SHOWQ_MSG *msg)
{
    vstring_reset(msg->sender);
    vstring_reset(msg->why);
    msg->arrival = 0;
    msg->size = 0;
    msg->forced_expire = false;
    argv_truncate(msg->rcpts, 0);
    argv_truncate(msg->reasons, 0);
}

/* Release a message; returns NULL. */
SHOWQ_MSG *showq_msg_free(SHOWQ_MSG *msg)
{
    vstring_free(msg->queue);
    vstring_free(msg->id);
    vstring_free(msg->sender);
    vstring_free(msg->why);
    argv_free(msg->rcpts);
    argv_free(msg->reasons);
    myfree(msg);
    return NULL;
}

/* Parse the SIZE record: message size and extracted-segment offset. */
static int showq_scan_size(const char *data, long long *size, long long *xtra)
{
    long long msize, doff, xoff;
    int rcnt, qflags;

    if (sscanf(data, "%lld %lld %d %d %lld", &msize, &doff, &rcnt, &qflags, &xoff) != 5 || msize < 0 ||
        xoff < 0)
        return -1;
    *size = msize;
    *xtra = xoff > doff ? xoff : 0;
    return 0;
}

/*
 * Parse one queue file: envelope, then (skipping the content, by seeking
 * to the extracted segment when the SIZE record says where it is) the
 * extracted segment up to END.
 */
int showq_scan_file(VSTREAM *fp, SHOWQ_MSG *msg)
{
    VSTRING *buf = vstring_alloc(100);
    long long xtra = 0;
    bool have_time = false;
    bool in_content = false;
    int type;
    int rc = -1;

    showq_msg_reset(msg);
    msg->size = -1; /* no SIZE record (yet) */
    for (;;) {
        type = rec_get(fp, buf, SHOWQ_SCAN_REC_MAX);
        if (type == REC_TYPE_EOF) {
            vstring_strcpy(msg->why, "premature end of file");
            break;
        }
        if (type == REC_TYPE_ERROR) {
            vstring_strcpy(msg->why, "damaged record");
            break;
        }
        if (type == REC_TYPE_END) {
            rc = 0;
            break;
        }
        if (in_content) {
            if (type == REC_TYPE_XTRA)
                in_content = false;
            continue;
        }
        switch (type) {
        case REC_TYPE_SIZE:
            if (showq_scan_size(vstring_str(buf), &msg->size, &xtra) < 0) {
                vstring_sprintf(msg->why, "bad size record: %.100s", vstring_str(buf));
                goto done;
            }
            break;
        case REC_TYPE_TIME:
            if (!have_time) {
                char *end;
                long long when = strtoll(vstring_str(buf), &end, 10);

                if (end != vstring_str(buf) && when > 0) {
                    msg->arrival = when;
                    have_time = true;
                }
            }
            break;
        case REC_TYPE_FROM:
            vstring_strcpy(msg->sender, vstring_str(buf));
            break;
        case REC_TYPE_RCPT:
            argv_add(msg->rcpts, vstring_str(buf));
            argv_add(msg->reasons, "");
            break;
        case REC_TYPE_MESG:
            if (xtra > 0) {
                if (vstream_fseek(fp, (off_t)xtra, SEEK_SET) < 0) {
                    vstring_sprintf(msg->why, "seek to offset %lld: %m", xtra);
                    goto done;
                }
                if (rec_get(fp, buf, SHOWQ_SCAN_REC_MAX) != REC_TYPE_XTRA) {
                    vstring_sprintf(msg->why, "no extracted segment at offset %lld", xtra);
                    goto done;
                }
            } else {
                in_content = true;
            }
            break;
        default:
            break; /* other envelope records do not show */
        }
    }
done:
    vstring_free(buf);
    return rc;
}

/* Free a table value. */
static void showq_scan_free_value(void *value)
{
    myfree(value);
}

/* The reasons of defer/ID: recipient -> reason, the last entry winning. */
void showq_scan_defer_log(const char *id, HTABLE *table)
{
    BOUNCE_LOG *bp;
    HTABLE_INFO *ht;

    if ((bp = bounce_log_open(MAIL_QUEUE_DEFER, id, O_RDONLY, 0)) == NULL)
        return;
    while (bounce_log_read(bp) != NULL) {
        if ((ht = htable_locate(table, bp->rcpt.address)) != NULL) {
            myfree(ht->value);
            ht->value = mystrdup(bp->dsn.reason);
        } else {
            htable_enter(table, bp->rcpt.address, mystrdup(bp->dsn.reason));
        }
    }
    (void)bounce_log_close(bp);
}

/* Fill in the defer log reasons of MSG's recipients. */
static void showq_scan_reasons(SHOWQ_SCAN_REASONS_FN reasons, SHOWQ_MSG *msg)
{
    HTABLE *table = htable_create(10, 0);

    reasons(vstring_str(msg->id), table);
    for (size_t i = 0; i < msg->rcpts->argc; i++) {
        const char *why = htable_find(table, msg->rcpts->argv[i]);

        if (why != NULL && *why) {
            myfree(msg->reasons->argv[i]);
            msg->reasons->argv[i] = mystrdup(why);
        }
    }
    htable_free(table, showq_scan_free_value);
}

/* Report one queue file; returns FN's verdict (0 for skipped files). */
static int showq_scan_one(const char *queue, const char *path, const char *id, SHOWQ_SCAN_REASONS_FN reasons,
                          SHOWQ_SCAN_FN fn, void *context, SHOWQ_MSG *msg)
{
    VSTREAM *fp;
    struct stat st;
    int rc = 0;

    if ((fp = vstream_fopen(path, O_RDONLY | O_NOFOLLOW, 0)) == NULL) {
        if (errno != ENOENT)
            msg_warn("open %s: %m", path);
        return 0;
    }
    if (fstat(vstream_fileno(fp), &st) < 0 || !S_ISREG(st.st_mode) ||
        (st.st_mode & S_IRWXU) != MAIL_QUEUE_STAT_READY) {
        vstream_fclose(fp);
        return 0; /* not a message, or still being written */
    }
    vstring_strcpy(msg->queue, queue);
    vstring_strcpy(msg->id, id);
    if (showq_scan_file(fp, msg) < 0) {
        msg_warn("skipping queue file %s: %s", path, vstring_str(msg->why));
    } else {
        if (msg->size < 0)
            msg->size = (long long)st.st_size;
        if (msg->arrival == 0)
            msg->arrival = (long long)st.st_mtime;
        msg->forced_expire = (st.st_mode & MAIL_QUEUE_STAT_EXPIRE) != 0;
        if (reasons != NULL && strcmp(queue, MAIL_QUEUE_MAILDROP) != 0 && msg->rcpts->argc > 0)
            showq_scan_reasons(reasons, msg);
        rc = fn(msg, context);
    }
    vstream_fclose(fp);
    return rc;
}

/* Visit directory DIR of QUEUE: queue files, and hash subdirectories. */
static int showq_scan_dir(const char *queue, const char *dir, int depth, SHOWQ_SCAN_REASONS_FN reasons,
                          SHOWQ_SCAN_FN fn, void *context, SHOWQ_MSG *msg)
{
    DIR *dp;
    struct dirent *de;
    ARGV *names = argv_alloc(10);
    VSTRING *path = vstring_alloc(100);
    int rc = 0;

    if ((dp = opendir(dir)) == NULL) {
        if (errno != ENOENT)
            msg_warn("open directory %s: %m", dir);
        argv_free(names);
        vstring_free(path);
        return 0;
    }
    while ((de = readdir(dp)) != NULL)
        if (de->d_name[0] != '.')
            argv_add(names, de->d_name);
    closedir(dp);
    argv_sort(names); /* a stable listing order */
    for (size_t i = 0; rc == 0 && i < names->argc; i++) {
        const char *name = names->argv[i];
        struct stat st;

        vstring_sprintf(path, "%s/%s", dir, name);
        if (lstat(vstring_str(path), &st) < 0)
            continue;
        if (S_ISDIR(st.st_mode)) {
            if (name[1] == 0 && depth < SHOWQ_SCAN_DEPTH_MAX)
                rc = showq_scan_dir(queue, vstring_str(path), depth + 1, reasons, fn, context, msg);
        } else if (S_ISREG(st.st_mode) && mail_queue_id_ok(name)) {
            rc = showq_scan_one(queue, vstring_str(path), name, reasons, fn, context, msg);
        }
    }
    argv_free(names);
    vstring_free(path);
    return rc;
}

/* Walk every listed queue in order. */
int showq_scan(SHOWQ_SCAN_REASONS_FN reasons, SHOWQ_SCAN_FN fn, void *context)
{
    SHOWQ_MSG *msg = showq_msg_alloc();
    VSTRING *dir = vstring_alloc(100);
    int rc = 0;

    for (size_t i = 0; rc == 0 && showq_scan_queues[i] != NULL; i++) {
        vstring_sprintf(dir, "%s/%s", var_queue_directory, showq_scan_queues[i]);
        rc = showq_scan_dir(showq_scan_queues[i], vstring_str(dir), 0, reasons, fn, context, msg);
    }
    vstring_free(dir);
    showq_msg_free(msg);
    return rc;
}

/* Send one message: its envelope, then one list per recipient. */
int showq_scan_send(VSTREAM *stream, const SHOWQ_MSG *msg)
{
    if (attr_print(stream, ATTR_FLAG_NONE, SEND_ATTR_STR(MAIL_ATTR_QUEUE, vstring_str(msg->queue)),
                   SEND_ATTR_STR(MAIL_ATTR_QUEUEID, vstring_str(msg->id)),
                   SEND_ATTR_LONG(SHOWQ_ATTR_ARRIVAL, msg->arrival),
                   SEND_ATTR_LONG(SHOWQ_ATTR_SIZE, msg->size),
                   SEND_ATTR_INT(SHOWQ_ATTR_EXPIRE, msg->forced_expire ? 1 : 0),
                   SEND_ATTR_STR(MAIL_ATTR_SENDER, vstring_str(msg->sender)),
                   SEND_ATTR_INT(SHOWQ_ATTR_RCPT_CNT, (int)msg->rcpts->argc), ATTR_TYPE_END) < 0)
        return -1;
    for (size_t i = 0; i < msg->rcpts->argc; i++)
        if (attr_print(stream, ATTR_FLAG_NONE, SEND_ATTR_STR(MAIL_ATTR_RECIP, msg->rcpts->argv[i]),
                       SEND_ATTR_STR(MAIL_ATTR_WHY, msg->reasons->argv[i]), ATTR_TYPE_END) < 0)
            return -1;
    return 0;
}

/* Send the end of the listing. */
int showq_scan_end(VSTREAM *stream)
{
    return attr_print(stream, ATTR_FLAG_NONE, ATTR_TYPE_END);
}

/* Receive one message: 1, 0 at the end of the listing, -1 on errors. */
int showq_scan_recv(VSTREAM *stream, SHOWQ_MSG *msg)
{
    VSTRING *rcpt;
    VSTRING *why;
    long long arrival = 0;
    long long size = 0;
    int expire = 0;
    int count = 0;
    int n;

    showq_msg_reset(msg);
    n = attr_scan(stream, ATTR_FLAG_EXTRA, RECV_ATTR_STR(MAIL_ATTR_QUEUE, msg->queue),
                  RECV_ATTR_STR(MAIL_ATTR_QUEUEID, msg->id), RECV_ATTR_LONG(SHOWQ_ATTR_ARRIVAL, &arrival),
                  RECV_ATTR_LONG(SHOWQ_ATTR_SIZE, &size), RECV_ATTR_INT(SHOWQ_ATTR_EXPIRE, &expire),
                  RECV_ATTR_STR(MAIL_ATTR_SENDER, msg->sender), RECV_ATTR_INT(SHOWQ_ATTR_RCPT_CNT, &count),
                  ATTR_TYPE_END);
    if (n == 0)
        return 0;
    if (n != 7 || count < 0) {
        msg_warn("%s: malformed queue listing record", vstream_path(stream));
        return -1;
    }
    msg->arrival = arrival;
    msg->size = size;
    msg->forced_expire = expire != 0;
    rcpt = vstring_alloc(100);
    why = vstring_alloc(100);
    for (int i = 0; i < count; i++) {
        if (attr_scan(stream, ATTR_FLAG_STRICT, RECV_ATTR_STR(MAIL_ATTR_RECIP, rcpt),
                      RECV_ATTR_STR(MAIL_ATTR_WHY, why), ATTR_TYPE_END) != 2) {
            vstring_free(rcpt);
            vstring_free(why);
            return -1;
        }
        argv_add(msg->rcpts, vstring_str(rcpt));
        argv_add(msg->reasons, vstring_str(why));
    }
    vstring_free(rcpt);
    vstring_free(why);
    return 1;
}
