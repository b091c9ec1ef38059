/*
 * qshape - show the queue by domain and message age (qshape(1), queue.md
 * 9.6).
 *
 *   qshape [-s] [-p] [-m min_subdomains] [-b bucket_count] [-t minutes]
 *          [-l] [-w width] [-N batch_msg_count] [-n batch_top_domains]
 *          [-c config_dir] [queue_name...]
 *
 * Reads the queue files of the named queues (default incoming and active;
 * relative names are below queue_directory, absolute ones are used as
 * they are; hash subdirectories included) and prints qs_table's table of
 * pending recipient domains (-s: sender domains) by age. A message's age
 * counts from its arrival time (the TIME record); maildrop files, which
 * have none, use the file's modification time. Only complete files are
 * read (owner rwx, nothing for group write or others), named like queue
 * IDs (6 or more letters and digits); other files, and files that do not
 * parse as queue files, are skipped silently, as a queue that changes
 * underneath is normal. When standard output is a terminal the table is
 * redrawn every -N (1000) messages and shows the top -n (20) rows.
 *
 * Errors: bad usage and an unreadable configuration are fatal ("qshape:
 * fatal: ..."); a queue directory that cannot be opened is a warning.
 */
#include "sys_defs.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "argv.h"
#include "mail_conf.h"
#include "mail_params.h"
#include "mail_params_init.h"
#include "msg.h"
#include "msg_stderr.h"
#include "mymalloc.h"
#include "qs_table.h"
#include "rec_type.h"
#include "record.h"
#include "vstream.h"
#include "vstring.h"

#define QS_WALK_DEPTH 8         /* deepest hash subdirectory visited */
#define QS_REC_LIMIT  (1 << 21) /* longest record read from a queue file */

/* What the command line asked for. */
typedef struct QS_OPTIONS {
    bool senders;    /* -s */
    bool parents;    /* -p */
    int batch_count; /* -N, when output is a terminal */
    int batch_top;   /* -n, when output is a terminal */
    int width;       /* -w */
    int minsub;      /* -m */
    time_t now;      /* reference time for ages */
    long messages;   /* counted so far */
    QS_TABLE *table;
} QS_OPTIONS;

static NORETURN qs_usage(void)
{
    msg_fatal("usage: qshape [ -s ] [ -p ] [ -m <min_subdomains> ] [ -l ] [ -b <bucket_count> ] "
              "[ -t <bucket_time> ] [ -w <terminal_width> ] [ -N <batch_msg_count> ] "
              "[ -n <batch_top_domains> ] [ -c <config_directory> ] [ <queue_name> ... ]");
}

/* A positive number option, or DEF when the value is not one. */
static int qs_number(const char *text, int def)
{
    char *end;
    long value = strtol(text, &end, 10);

    return (end != text && value > 0 && value < 1000000) ? (int)value : def;
}

/* True when NAME looks like a queue ID: 6 or more letters and digits. */
static bool qs_name_ok(const char *name)
{
    size_t len = 0;

    for (; name[len]; len++)
        if (!((name[len] >= 'A' && name[len] <= 'Z') || (name[len] >= 'a' && name[len] <= 'z') ||
              (name[len] >= '0' && name[len] <= '9')))
            return false;
    return len >= 6;
}

/*
 * Read the queue file FP (modification time MTIME): arrival time in
 * *ARRIVAL, sender in SENDER, pending recipients in RCPTS. Returns false
 * when it is not a complete queue file.
 */
static bool qs_read(VSTREAM *fp, time_t mtime, time_t *arrival, VSTRING *sender, ARGV *rcpts)
{
    VSTRING *buf = vstring_alloc(100);
    bool have_sender = false;
    bool ok = false;
    int type;

    type = rec_get(fp, buf, QS_REC_LIMIT);
    if (type == REC_TYPE_SIZE) {
        /* Written by cleanup: the arrival time comes next. */
        if (rec_get(fp, buf, QS_REC_LIMIT) != REC_TYPE_TIME)
            goto done;
        *arrival = (time_t)strtoll(vstring_str(buf), (char **)0, 10);
    } else if (type == REC_TYPE_FROM || type == REC_TYPE_FULL) {
        /* A maildrop file: no arrival time yet. */
        *arrival = mtime;
        if (type == REC_TYPE_FULL && rec_get(fp, buf, QS_REC_LIMIT) != REC_TYPE_FROM)
            goto done;
        vstring_strcpy(sender, vstring_str(buf));
        have_sender = true;
    } else {
        goto done;
    }
    while ((type = rec_get(fp, buf, QS_REC_LIMIT)) >= 0) {
        if (type == REC_TYPE_RCPT) {
            argv_add(rcpts, vstring_str(buf));
        } else if (type == REC_TYPE_FROM) {
            vstring_strcpy(sender, vstring_str(buf));
            have_sender = true;
        } else if (type == REC_TYPE_MESG) {
            if (!have_sender)
                break;
            /* Skip the content; the extracted segment must follow. */
            while ((type = rec_get(fp, buf, QS_REC_LIMIT)) == REC_TYPE_NORM || type == REC_TYPE_CONT)
                /* void */;
            if (type != REC_TYPE_XTRA)
                break;
        } else if (type == REC_TYPE_END) {
            ok = have_sender && rcpts->argc > 0;
            break;
        }
    }
done:
    vstring_free(buf);
    return ok;
}

/* Count the message in file PATH. */
static void qs_file(QS_OPTIONS *opts, const char *path, const struct stat *st)
{
    VSTRING *sender = vstring_alloc(100);
    ARGV *rcpts = argv_alloc(4);
    time_t arrival;
    VSTREAM *fp;

    if ((st->st_mode & 0733) != 0700 || (fp = vstream_fopen(path, O_RDONLY, 0)) == NULL) {
        vstring_free(sender);
        argv_free(rcpts);
        return;
    }
    if (qs_read(fp, st->st_mtime, &arrival, sender, rcpts)) {
        int bucket = qs_table_bucket(opts->table, difftime(opts->now, arrival));

        if (opts->senders) {
            qs_table_add(opts->table, vstring_str(sender), bucket, opts->parents);
        } else {
            for (size_t i = 0; i < rcpts->argc; i++)
                qs_table_add(opts->table, rcpts->argv[i], bucket, opts->parents);
        }
        if (opts->batch_count > 0 && ++opts->messages % opts->batch_count == 0) {
            vstream_fputs("\033[H\033[2J", vstream_out);
            qs_table_print(opts->table, vstream_out, opts->width, opts->batch_top, opts->minsub);
            vstream_fflush(vstream_out);
        }
    }
    vstream_fclose(fp);
    vstring_free(sender);
    argv_free(rcpts);
}

/* Count every queue file below directory DIR. */
static void qs_walk(QS_OPTIONS *opts, const char *dir, int depth)
{
    VSTRING *path = vstring_alloc(100);
    struct dirent *dp;
    struct stat st;
    DIR *dirp;

    if ((dirp = opendir(dir)) == NULL) {
        if (depth == 0)
            msg_warn("open directory %s: %m", dir);
        vstring_free(path);
        return;
    }
    while ((dp = readdir(dirp)) != NULL) {
        if (strcmp(dp->d_name, ".") == 0 || strcmp(dp->d_name, "..") == 0)
            continue;
        vstring_sprintf(path, "%s/%s", dir, dp->d_name);
        if (lstat(vstring_str(path), &st) < 0)
            continue;
        if (S_ISDIR(st.st_mode)) {
            if (depth < QS_WALK_DEPTH)
                qs_walk(opts, vstring_str(path), depth + 1);
        } else if (S_ISREG(st.st_mode) && qs_name_ok(dp->d_name)) {
            qs_file(opts, vstring_str(path), &st);
        }
    }
    closedir(dirp);
    vstring_free(path);
}

int main(int argc, char **argv)
{
    QS_OPTIONS opts = {.width = 80, .minsub = 5};
    int buckets = 10;
    int minutes = 5;
    bool linear = false;
    const char *batch_count = NULL;
    const char *batch_top = NULL;
    bool relative = false;
    int ch;

    mail_process_name = "qshape";
    msg_stderr_init("qshape");
    while ((ch = getopt(argc, argv, "lhc:psw:b:t:m:n:N:")) != -1) {
        switch (ch) {
        case 'b':
            buckets = qs_number(optarg, buckets);
            break;
        case 'c':
            mail_conf_select(optarg);
            break;
        case 'l':
            linear = true;
            break;
        case 'm':
            opts.minsub = qs_number(optarg, opts.minsub);
            break;
        case 'n':
            batch_top = optarg;
            break;
        case 'N':
            batch_count = optarg;
            break;
        case 'p':
            opts.parents = true;
            break;
        case 's':
            opts.senders = true;
            break;
        case 't':
            minutes = qs_number(optarg, minutes);
            break;
        case 'w':
            if (qs_number(optarg, 0) > 80)
                opts.width = qs_number(optarg, 0);
            break;
        default:
            qs_usage();
        }
    }
    /* Progressive output only for a person watching a terminal. */
    if (isatty(STDOUT_FILENO)) {
        opts.batch_count = batch_count ? atoi(batch_count) : 1000;
        opts.batch_top = batch_top ? atoi(batch_top) : 20;
    }
    for (int i = optind; i < argc; i++)
        if (argv[i][0] != '/')
            relative = true;
    if (optind == argc || relative) {
        mail_conf_read();
        mail_params_init();
    }
    opts.table = qs_table_create(buckets, minutes, linear);
    opts.now = time(NULL);
    if (optind == argc) {
        static const char *const defaults[] = {"incoming", "active"};

        for (size_t i = 0; i < sizeof(defaults) / sizeof(defaults[0]); i++) {
            VSTRING *dir = vstring_sprintf(vstring_alloc(100), "%s/%s", var_queue_directory, defaults[i]);

            qs_walk(&opts, vstring_str(dir), 0);
            vstring_free(dir);
        }
    }
    for (int i = optind; i < argc; i++) {
        VSTRING *dir = vstring_alloc(100);

        if (argv[i][0] == '/')
            vstring_strcpy(dir, argv[i]);
        else
            vstring_sprintf(dir, "%s/%s", var_queue_directory, argv[i]);
        qs_walk(&opts, vstring_str(dir), 0);
        vstring_free(dir);
    }
    if (opts.batch_count > 0)
        vstream_fputs("\033[H\033[2J", vstream_out);
    qs_table_print(opts.table, vstream_out, opts.width, opts.batch_top, opts.minsub);
    vstream_fflush(vstream_out);
    opts.table = qs_table_free(opts.table);
    return 0;
}
