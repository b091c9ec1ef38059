/*
 * postsuper - queue maintenance for the administrator (postsuper(1),
 * queue.md 9.4).
 *
 *   postsuper [-psSv] [-c config_dir] [-d id] [-e id] [-f id] [-h id]
 *             [-H id] [-r id] [queue...]
 *
 * -d deletes a message (searched in maildrop, incoming, active, deferred,
 * hold; the first match) with its bounce/defer/trace logs; -h moves it to
 * hold (from incoming, active, deferred); -H releases it from hold into
 * deferred; -r moves it (from incoming, active, deferred, hold) into
 * maildrop for pickup and cleanup to process again under a new ID; -e
 * sets the force-expiry bit (MAIL_QUEUE_STAT_EXPIRE) and -f also releases
 * a held message. -H and -r give the file a fresh time stamp. An ID of
 * "ALL" (upper case) means every message in the queues, "-" reads IDs
 * from standard input, one per line. Named queues restrict the search.
 * Requests run in command-line order, after the -s/-p work.
 *
 * -p purges temporaries: files in the message queues without the owner
 * execute bit (never completed) untouched for 7 days. -s (-S) repairs
 * the structure: names that do not match the inode (ps_name.h; their logs
 * follow), files in the wrong hash subdirectory, subdirectories no longer
 * needed. Without requests postsuper does -s -p.
 *
 * Output goes to standard error as "postsuper: ..." and to the log as
 * "postfix/postsuper[PID]: ...": "ID: removed" (placed on hold, released
 * from hold, requeued, expired) per single ID, then per requested action
 * "Requeued:", "Deleted:", "Force-expired:", "Placed on hold:",
 * "Released from hold: N message(s)" and, after renames, "Renamed to match
 * inode number: N message(s)". Unknown IDs count nothing; malformed ones
 * get "warning: invalid mail queue id: X"; the exit status is 0.
 *
 * Who may run it: in system mode (queue_directory owned by root) only
 * root ("fatal: use of this command is reserved for the superuser"), and
 * the work is done as mail_owner so new subdirectories get the right
 * owner; in a rootless instance the instance owner (the owner of
 * queue_directory), or root acting as that owner.
 */
#include "sys_defs.h"

#include <dirent.h>
#include <errno.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "argv.h"
#include "mail_conf.h"
#include "mail_params.h"
#include "mail_params_init.h"
#include "mail_proto.h"
#include "mail_queue.h"
#include "maillog_client.h"
#include "master_lock.h"
#include "msg.h"
#include "msg_stderr.h"
#include "mymalloc.h"
#include "ps_name.h"
#include "vstream.h"
#include "vstring.h"

#define PS_TEMP_AGE   (7 * 24 * 60 * 60) /* -p: age of an abandoned temporary */
#define PS_WALK_DEPTH 8                  /* deepest subdirectory postsuper visits */

/* Requests, in the order their totals are reported. */
enum ps_op { PS_REQUEUE, PS_DELETE, PS_EXPIRE, PS_HOLD, PS_RELEASE, PS_EXPIRE_RELEASE, PS_OP_COUNT };

/* One request from the command line. */
typedef struct PS_REQUEST {
    enum ps_op op;
    const char *id;
} PS_REQUEST;

/* Totals, as reported at the end. */
enum ps_count { PS_N_REQUEUED, PS_N_DELETED, PS_N_EXPIRED, PS_N_HELD, PS_N_RELEASED, PS_N_COUNT };

static const char *const ps_count_text[PS_N_COUNT] = {
    "Requeued", "Deleted", "Force-expired", "Placed on hold", "Released from hold",
};

static int ps_count[PS_N_COUNT];
static bool ps_count_wanted[PS_N_COUNT];

/* Queues that hold messages, in the order a single ID is searched. */
static const char *const ps_message_queues[] = {
    MAIL_QUEUE_MAILDROP, MAIL_QUEUE_INCOMING, MAIL_QUEUE_ACTIVE, MAIL_QUEUE_DEFERRED, MAIL_QUEUE_HOLD, NULL,
};

/* Per-message logs, named like the message. */
static const char *const ps_log_queues[] = {MAIL_QUEUE_BOUNCE, MAIL_QUEUE_DEFER, MAIL_QUEUE_TRACE, NULL};

/* Where each request looks for its messages. */
static const char *const ps_delete_from[] = {MAIL_QUEUE_MAILDROP, MAIL_QUEUE_INCOMING, MAIL_QUEUE_ACTIVE,
                                             MAIL_QUEUE_DEFERRED, MAIL_QUEUE_HOLD,     NULL};
static const char *const ps_hold_from[] = {MAIL_QUEUE_INCOMING, MAIL_QUEUE_ACTIVE, MAIL_QUEUE_DEFERRED, NULL};
static const char *const ps_release_from[] = {MAIL_QUEUE_HOLD, NULL};
static const char *const ps_requeue_from[] = {MAIL_QUEUE_INCOMING, MAIL_QUEUE_ACTIVE, MAIL_QUEUE_DEFERRED,
                                              MAIL_QUEUE_HOLD, NULL};
static const char *const ps_expire_from[] = {MAIL_QUEUE_INCOMING, MAIL_QUEUE_ACTIVE, MAIL_QUEUE_DEFERRED,
                                             MAIL_QUEUE_HOLD, NULL};

/* Queue names accepted on the command line (the -s/-p scope). */
static const char *const ps_known_queues[] = {
    MAIL_QUEUE_MAILDROP, MAIL_QUEUE_INCOMING, MAIL_QUEUE_ACTIVE, MAIL_QUEUE_DEFERRED, MAIL_QUEUE_HOLD,
    MAIL_QUEUE_BOUNCE,   MAIL_QUEUE_DEFER,    MAIL_QUEUE_TRACE,  MAIL_QUEUE_FLUSH,    NULL,
};

/* Queues named on the command line, or NULL for the defaults. */
static ARGV *ps_named;

/* True when postsuper -s renamed a file to match its inode. */
static int ps_renamed;

static NORETURN ps_usage(void)
{
    msg_fatal("usage: postsuper [-c config_dir] [-d queue_id (delete)] [-e queue_id (expire)] [-f queue_id "
              "(expire and/or un-hold)] [-h queue_id (hold)] [-H queue_id (un-hold)] [-p (purge temporary "
              "files)] [-r queue_id (requeue)] [-s (structure fix)] [-S (redundant structure fix)][-v "
              "(verbose)] [queue...]");
}

/* True when NAME is in the NULL-terminated LIST. */
static bool ps_listed(const char *const *list, const char *name)
{
    for (; *list; list++)
        if (strcmp(*list, name) == 0)
            return true;
    return false;
}

/* True when QUEUE is within the scope the command line named. */
static bool ps_in_scope(const char *queue)
{
    if (ps_named == NULL)
        return true;
    for (size_t i = 0; i < ps_named->argc; i++)
        if (strcmp(ps_named->argv[i], queue) == 0)
            return true;
    return false;
}

/* True when QUEUE is listed in hash_queue_names. */
static bool ps_hashed(const char *queue)
{
    VSTRING *dir = vstring_alloc(100);
    bool hashed;

    /* mail_queue_dir() adds subdirectories exactly for hashed queues. */
    hashed = strcmp(mail_queue_dir(dir, queue, "XXXXXXXX", true), queue) != 0;
    vstring_free(dir);
    return hashed;
}

/* Make the missing directories above PATH (absolute), each with MODE. */
static int ps_mkdirs(const char *path, mode_t mode)
{
    char *copy = mystrdup(path);
    size_t top = strlen(var_queue_directory);
    int rc = 0;

    for (char *cp = copy + top + 1; rc == 0 && (cp = strchr(cp, '/')) != NULL; cp++) {
        *cp = 0;
        if (mkdir(copy, mode) < 0 && errno != EEXIST)
            rc = -1;
        else
            (void)chmod(copy, mode);
        *cp = '/';
    }
    myfree(copy);
    return rc;
}

/*
 * Move the file at absolute path FROM to QUEUE/ID (hashed as needed),
 * never replacing an existing file. Returns 0 or -1 with errno.
 */
static int ps_move(const char *from, const char *queue, const char *id)
{
    VSTRING *to = vstring_alloc(100);
    VSTRING *top = vstring_alloc(100);
    struct stat st;
    int rc;

    mail_queue_path(to, queue, id, false);
    if (strcmp(from, vstring_str(to)) == 0) {
        vstring_free(to);
        vstring_free(top);
        return 0;
    }
    if (lstat(vstring_str(to), &st) == 0) {
        errno = EEXIST;
        rc = -1;
    } else if ((rc = rename(from, vstring_str(to))) < 0 && errno == ENOENT && access(from, F_OK) == 0) {
        vstring_sprintf(top, "%s/%s", var_queue_directory, queue);
        if (ps_mkdirs(vstring_str(to), stat(vstring_str(top), &st) == 0 ? st.st_mode & 07777 : 0700) == 0)
            rc = rename(from, vstring_str(to));
        else
            errno = ENOENT;
    }
    vstring_free(to);
    vstring_free(top);
    return rc;
}

/* Give PATH the current time as access and modification time. */
static void ps_touch(const char *path, const char *id)
{
    if (utimes(path, NULL) < 0)
        msg_warn("%s: reset time stamps: %m", id);
}

/* Remove the bounce, defer and trace logs of ID. */
static void ps_remove_logs(const char *id)
{
    for (const char *const *log = ps_log_queues; *log; log++)
        if (mail_queue_remove(*log, id) < 0 && errno != ENOENT)
            msg_warn("remove file %s/%s: %m", *log, id);
}

/*
 * Apply request OP to the message file at PATH (absolute) with name ID
 * in QUEUE. SINGLE: the ID was named, so report it.
 */
static void ps_apply(enum ps_op op, const char *queue, const char *path, const char *id, bool single)
{
    VSTRING *buf = vstring_alloc(100);
    struct stat st;

    switch (op) {
    case PS_DELETE:
        if (unlink(path) < 0) {
            if (errno != ENOENT)
                msg_warn("remove file %s/%s: %m", queue, id);
            break;
        }
        if (!ps_listed(ps_message_queues, queue))
            break; /* a log named on the command line: not a message */
        ps_remove_logs(id);
        if (single)
            msg_info("%s: removed", id);
        ps_count[PS_N_DELETED]++;
        break;
    case PS_HOLD:
        if (ps_move(path, MAIL_QUEUE_HOLD, id) < 0) {
            if (errno != ENOENT)
                msg_warn("rename file %s/%s as %s/%s: %m", queue, id, MAIL_QUEUE_HOLD, id);
            break;
        }
        if (single)
            msg_info("%s: placed on hold", id);
        ps_count[PS_N_HELD]++;
        break;
    case PS_REQUEUE:
        if (ps_move(path, MAIL_QUEUE_MAILDROP, id) < 0) {
            if (errno != ENOENT)
                msg_warn("rename file %s/%s as %s/%s: %m", queue, id, MAIL_QUEUE_MAILDROP, id);
            break;
        }
        ps_touch(mail_queue_path(buf, MAIL_QUEUE_MAILDROP, id, false), id);
        if (single)
            msg_info("%s: requeued", id);
        ps_count[PS_N_REQUEUED]++;
        break;
    case PS_RELEASE:
    case PS_EXPIRE:
    case PS_EXPIRE_RELEASE:
        if (op != PS_RELEASE) {
            if (lstat(path, &st) < 0) {
                if (errno != ENOENT)
                    msg_warn("expire file %s/%s: %m", queue, id);
                break;
            }
            if (!(st.st_mode & MAIL_QUEUE_STAT_EXPIRE)) {
                if (chmod(path, (st.st_mode & 07777) | MAIL_QUEUE_STAT_EXPIRE) < 0) {
                    msg_warn("expire file %s/%s: cannot set permission: %m", queue, id);
                    break;
                }
                if (single)
                    msg_info("%s: expired", id);
                ps_count[PS_N_EXPIRED]++;
            }
            if (op == PS_EXPIRE)
                break;
        }
        if (strcmp(queue, MAIL_QUEUE_HOLD) != 0)
            break;
        if (ps_move(path, MAIL_QUEUE_DEFERRED, id) < 0) {
            if (errno != ENOENT)
                msg_warn("rename file %s/%s as %s/%s: %m", queue, id, MAIL_QUEUE_DEFERRED, id);
            break;
        }
        ps_touch(mail_queue_path(buf, MAIL_QUEUE_DEFERRED, id, false), id);
        if (single)
            msg_info("%s: released from hold", id);
        ps_count[PS_N_RELEASED]++;
        break;
    case PS_OP_COUNT:
        msg_panic("ps_apply: bad request");
    }
    vstring_free(buf);
}

/* The queues request OP searches: its own, limited to the named ones. */
static ARGV *ps_sources(enum ps_op op)
{
    static const char *const *const from[PS_OP_COUNT] = {
        [PS_REQUEUE] = ps_requeue_from, [PS_DELETE] = ps_delete_from,   [PS_EXPIRE] = ps_expire_from,
        [PS_HOLD] = ps_hold_from,       [PS_RELEASE] = ps_release_from, [PS_EXPIRE_RELEASE] = ps_expire_from,
    };
    ARGV *queues = argv_alloc(8);

    for (const char *const *qp = from[op]; *qp; qp++)
        if (ps_in_scope(*qp))
            argv_add(queues, *qp);
    /* -d also removes files from a log directory named explicitly. */
    if (op == PS_DELETE && ps_named != NULL)
        for (const char *const *qp = ps_log_queues; *qp; qp++)
            if (ps_in_scope(*qp))
                argv_add(queues, *qp);
    return queues;
}

/* Apply OP to the single message ID: the first queue that has it. */
static void ps_one(enum ps_op op, const char *id)
{
    ARGV *queues;
    VSTRING *path;
    struct stat st;

    if (!mail_queue_id_ok(id)) {
        msg_warn("invalid mail queue id: %s", id);
        return;
    }
    queues = ps_sources(op);
    path = vstring_alloc(100);
    for (size_t i = 0; i < queues->argc; i++) {
        if (lstat(mail_queue_path(path, queues->argv[i], id, false), &st) == 0 && S_ISREG(st.st_mode)) {
            ps_apply(op, queues->argv[i], vstring_str(path), id, true);
            break;
        }
    }
    vstring_free(path);
    argv_free(queues);
}

/* Collect the regular files below DIR (absolute) as "relative/path" in FILES. */
static void ps_list(const char *dir, const char *rel, int depth, ARGV *files)
{
    VSTRING *path = vstring_alloc(100);
    VSTRING *sub = vstring_alloc(100);
    struct dirent *dp;
    struct stat st;
    DIR *dirp;

    if ((dirp = opendir(dir)) == NULL) {
        if (errno != ENOENT)
            msg_warn("open directory %s: %m", dir);
        vstring_free(path);
        vstring_free(sub);
        return;
    }
    while ((dp = readdir(dirp)) != NULL) {
        if (dp->d_name[0] == '.' && (dp->d_name[1] == 0 || (dp->d_name[1] == '.' && dp->d_name[2] == 0)))
            continue;
        vstring_sprintf(path, "%s/%s", dir, dp->d_name);
        vstring_sprintf(sub, "%s%s%s", rel, *rel ? "/" : "", dp->d_name);
        if (lstat(vstring_str(path), &st) < 0)
            continue;
        if (S_ISDIR(st.st_mode)) {
            if (depth < PS_WALK_DEPTH)
                ps_list(vstring_str(path), vstring_str(sub), depth + 1, files);
        } else {
            argv_add(files, vstring_str(sub));
        }
    }
    closedir(dirp);
    vstring_free(path);
    vstring_free(sub);
}

/* The files of QUEUE, as paths relative to it (sorted, for stable output). */
static ARGV *ps_queue_files(const char *queue)
{
    VSTRING *dir = vstring_alloc(100);
    ARGV *files = argv_alloc(16);

    vstring_sprintf(dir, "%s/%s", var_queue_directory, queue);
    ps_list(vstring_str(dir), "", 0, files);
    argv_sort(files);
    vstring_free(dir);
    return files;
}

/* The last component of relative path REL. */
static const char *ps_base(const char *rel)
{
    const char *slash = strrchr(rel, '/');

    return slash ? slash + 1 : rel;
}

/* Apply OP to every message in its queues ("ALL"). */
static void ps_all(enum ps_op op)
{
    ARGV *queues = ps_sources(op);
    VSTRING *path = vstring_alloc(100);

    for (size_t i = 0; i < queues->argc; i++) {
        ARGV *files = ps_queue_files(queues->argv[i]);

        for (size_t j = 0; j < files->argc; j++) {
            const char *id = ps_base(files->argv[j]);

            if (!mail_queue_id_ok(id))
                continue;
            vstring_sprintf(path, "%s/%s/%s", var_queue_directory, queues->argv[i], files->argv[j]);
            ps_apply(op, queues->argv[i], vstring_str(path), id, false);
        }
        argv_free(files);
    }
    vstring_free(path);
    argv_free(queues);
}

/* Apply OP to each ID on standard input, one per line. */
static void ps_stdin(enum ps_op op)
{
    VSTRING *line = vstring_alloc(100);

    int status;

    while ((status = vstream_fgets_nonl_limit(line, vstream_in, MAIL_QUEUE_ID_LEN_MAX * 4)) !=
           VSTREAM_LINE_EOF) {
        ps_one(op, vstring_str(line));
        /* Skip the rest of an over-long line, which was already refused. */
        while (status == VSTREAM_LINE_LIMIT)
            status = vstream_fgets_nonl_limit(line, vstream_in, MAIL_QUEUE_ID_LEN_MAX * 4);
    }
    vstring_free(line);
}

/* True when REL (a relative directory path in QUEUE) is a hash level the configuration wants. */
static bool ps_wanted_dir(const char *queue, const char *rel)
{
    int depth = 1;

    if (!ps_hashed(queue))
        return false;
    for (const char *cp = rel; *cp; cp++)
        if (*cp == '/')
            depth++;
    if (depth > var_hash_queue_depth)
        return false;
    /* Each level is one character. */
    for (const char *cp = rel; *cp; cp++)
        if (cp[0] != '/' && cp[1] != 0 && cp[1] != '/')
            return false;
    return true;
}

/* Remove the empty subdirectories of DIR (REL below QUEUE) that are not wanted. */
static void ps_prune(const char *queue, const char *dir, const char *rel, int depth)
{
    VSTRING *path = vstring_alloc(100);
    VSTRING *sub = vstring_alloc(100);
    ARGV *dirs = argv_alloc(8);
    struct dirent *dp;
    struct stat st;
    DIR *dirp;

    if ((dirp = opendir(dir)) != NULL) {
        while ((dp = readdir(dirp)) != NULL) {
            if (dp->d_name[0] == '.' && (dp->d_name[1] == 0 || (dp->d_name[1] == '.' && dp->d_name[2] == 0)))
                continue;
            vstring_sprintf(path, "%s/%s", dir, dp->d_name);
            if (lstat(vstring_str(path), &st) == 0 && S_ISDIR(st.st_mode))
                argv_add(dirs, dp->d_name);
        }
        closedir(dirp);
    }
    for (size_t i = 0; i < dirs->argc; i++) {
        vstring_sprintf(path, "%s/%s", dir, dirs->argv[i]);
        vstring_sprintf(sub, "%s%s%s", rel, *rel ? "/" : "", dirs->argv[i]);
        if (depth < PS_WALK_DEPTH)
            ps_prune(queue, vstring_str(path), vstring_str(sub), depth + 1);
        if (!ps_wanted_dir(queue, vstring_str(sub))) {
            if (rmdir(vstring_str(path)) == 0) {
                if (msg_verbose)
                    msg_info("remove subdirectory %s/%s", queue, vstring_str(sub));
            } else if (errno != ENOTEMPTY && errno != EEXIST) {
                msg_warn("remove subdirectory %s/%s: %m", queue, vstring_str(sub));
            }
        }
    }
    argv_free(dirs);
    vstring_free(path);
    vstring_free(sub);
}

/* Rename the logs of message OLD_ID to NEW_ID (they follow the message). */
static void ps_rename_logs(const char *old_id, const char *new_id)
{
    VSTRING *path = vstring_alloc(100);

    for (const char *const *log = ps_log_queues; *log; log++) {
        mail_queue_path(path, *log, old_id, false);
        if (access(vstring_str(path), F_OK) == 0 && ps_move(vstring_str(path), *log, new_id) < 0)
            msg_warn("rename file %s/%s as %s/%s: %m", *log, old_id, *log, new_id);
    }
    vstring_free(path);
}

/*
 * The -s and -p work on one file of QUEUE (REL below it). STRICT: -S.
 * Returns nothing; problems are warnings.
 */
static void ps_fix_file(const char *queue, const char *rel, bool structure, bool strict, bool purge)
{
    const char *name = ps_base(rel);
    bool message = ps_listed(ps_message_queues, queue);
    VSTRING *path = vstring_alloc(100);
    VSTRING *fixed = vstring_alloc(100);
    struct stat st;

    vstring_sprintf(path, "%s/%s/%s", var_queue_directory, queue, rel);
    if (lstat(vstring_str(path), &st) < 0)
        goto done;
    if (purge && message && !(st.st_mode & S_IXUSR) && st.st_mtime < time(NULL) - PS_TEMP_AGE) {
        if (unlink(vstring_str(path)) < 0)
            msg_warn("remove file %s/%s: %m", queue, rel);
        else if (msg_verbose)
            msg_info("removed file %s/%s", queue, rel);
        goto done;
    }
    if (strcmp(queue, MAIL_QUEUE_FLUSH) != 0 && !mail_queue_id_ok(name)) {
        msg_warn("bogus file name: %s/%s", queue, rel);
        goto done;
    }
    if (!structure)
        goto done;
    if (message && S_ISREG(st.st_mode) &&
        ps_name_fix(fixed, name, st.st_ino, var_enable_long_queue_ids, strict)) {
        if (ps_move(vstring_str(path), queue, vstring_str(fixed)) < 0) {
            msg_warn("rename file %s/%s as %s/%s: %m", queue, rel, queue, vstring_str(fixed));
        } else {
            if (msg_verbose)
                msg_info("renamed file %s/%s as %s/%s", queue, rel, queue, vstring_str(fixed));
            ps_rename_logs(name, vstring_str(fixed));
            ps_renamed++;
        }
        goto done;
    }
    /* Misplaced: hash_queue_names or hash_queue_depth changed. */
    if (ps_move(vstring_str(path), queue, name) < 0)
        msg_warn("rename file %s/%s as %s: %m", queue, rel, mail_queue_path(fixed, queue, name, true));
done:
    vstring_free(path);
    vstring_free(fixed);
}

/* -s / -S / -p over every queue in scope. */
static void ps_structure(bool structure, bool strict, bool purge)
{
    VSTRING *dir = vstring_alloc(100);

    for (const char *const *qp = ps_known_queues; *qp; qp++) {
        ARGV *files;

        if (!ps_in_scope(*qp))
            continue;
        files = ps_queue_files(*qp);
        for (size_t i = 0; i < files->argc; i++)
            ps_fix_file(*qp, files->argv[i], structure, strict, purge);
        argv_free(files);
        if (structure) {
            vstring_sprintf(dir, "%s/%s", var_queue_directory, *qp);
            ps_prune(*qp, vstring_str(dir), "", 0);
        }
    }
    vstring_free(dir);
    if (ps_renamed > 0) {
        msg_info("Renamed to match inode number: %d message%s", ps_renamed, ps_renamed == 1 ? "" : "s");
        msg_warn("QUEUE FILE NAMES WERE CHANGED TO MATCH INODE NUMBERS");
    }
}

/*
 * Check who runs us and become the account that owns the queue: mail_owner
 * in system mode, the instance owner in a rootless instance.
 */
static void ps_privileges(void)
{
    struct stat st;
    uid_t uid = getuid();

    if (stat(var_queue_directory, &st) < 0)
        msg_fatal("chdir %s: %m", var_queue_directory);
    if (st.st_uid == 0) {
        /* System mode. */
        if (uid != 0)
            msg_fatal("use of this command is reserved for the superuser");
        mail_params_accounts();
        if (setgroups(1, &mail_owner_gid) < 0 || setgid(mail_owner_gid) < 0 || setuid(mail_owner_uid) < 0)
            msg_fatal("set privileges to %s: %m", var_mail_owner);
    } else if (uid == 0) {
        /* Root on a rootless instance: act as its owner. */
        if (setgroups(1, &st.st_gid) < 0 || setgid(st.st_gid) < 0 || setuid(st.st_uid) < 0)
            msg_fatal("set privileges to uid %ld: %m", (long)st.st_uid);
    } else if (uid != st.st_uid) {
        msg_fatal("use of this command is reserved for the superuser");
    }
}

int main(int argc, char **argv)
{
    PS_REQUEST *requests = mymalloc(sizeof(*requests) * (size_t)(argc + 1));
    int nrequests = 0;
    bool structure = false;
    bool strict = false;
    bool purge = false;
    int ch;

    mail_process_name = "postsuper";
    msg_stderr_init("postsuper");
    while ((ch = getopt(argc, argv, "c:d:e:f:h:H:pr:sSv")) != -1) {
        enum ps_op op;

        switch (ch) {
        case 'c':
            mail_conf_select(optarg);
            continue;
        case 'p':
            purge = true;
            continue;
        case 's':
            structure = true;
            continue;
        case 'S':
            structure = strict = true;
            continue;
        case 'v':
            msg_verbose++;
            continue;
        case 'd':
            op = PS_DELETE;
            break;
        case 'e':
            op = PS_EXPIRE;
            break;
        case 'f':
            op = PS_EXPIRE_RELEASE;
            break;
        case 'h':
            op = PS_HOLD;
            break;
        case 'H':
            op = PS_RELEASE;
            break;
        case 'r':
            op = PS_REQUEUE;
            break;
        default:
            ps_usage();
        }
        requests[nrequests].op = op;
        requests[nrequests++].id = optarg;
    }
    if (nrequests == 0 && !structure && !purge)
        structure = purge = true;

    mail_conf_read();
    mail_params_init();
    ps_privileges();
    maillog_client_init("postsuper", MAILLOG_CLIENT_FLAG_NONE);
    msg_stderr_init("postsuper");

    if (optind < argc) {
        ps_named = argv_alloc((size_t)(argc - optind));
        for (int i = optind; i < argc; i++) {
            if (!ps_listed(ps_known_queues, argv[i]))
                msg_fatal("invalid directory name: %s", argv[i]);
            argv_add(ps_named, argv[i]);
        }
    }

    if (structure || purge)
        ps_structure(structure, strict, purge);

    for (int i = 0; i < nrequests; i++) {
        switch (requests[i].op) {
        case PS_REQUEUE:
            ps_count_wanted[PS_N_REQUEUED] = true;
            break;
        case PS_DELETE:
            ps_count_wanted[PS_N_DELETED] = true;
            break;
        case PS_EXPIRE:
            ps_count_wanted[PS_N_EXPIRED] = true;
            break;
        case PS_HOLD:
            ps_count_wanted[PS_N_HELD] = true;
            break;
        case PS_RELEASE:
            ps_count_wanted[PS_N_RELEASED] = true;
            break;
        case PS_EXPIRE_RELEASE:
            ps_count_wanted[PS_N_EXPIRED] = ps_count_wanted[PS_N_RELEASED] = true;
            break;
        case PS_OP_COUNT:
            break;
        }
        if (strcmp(requests[i].id, "ALL") == 0)
            ps_all(requests[i].op);
        else if (strcmp(requests[i].id, "-") == 0)
            ps_stdin(requests[i].op);
        else
            ps_one(requests[i].op, requests[i].id);
    }
    for (int n = 0; n < PS_N_COUNT; n++)
        if (ps_count_wanted[n])
            msg_info("%s: %d message%s", ps_count_text[n], ps_count[n], ps_count[n] == 1 ? "" : "s");

    /* Requeued mail waits in maildrop/: tell pickup when the system runs. */
    if (ps_count[PS_N_REQUEUED] > 0 && master_lock_owner() > 0)
        (void)mail_trigger(MAIL_CLASS_PUBLIC, MAIL_SERVICE_PICKUP, (char[]){TRIGGER_REQ_WAKEUP}, 1);

    if (ps_named)
        argv_free(ps_named);
    myfree(requests);
    vstream_fflush(vstream_out);
    return 0;
}
