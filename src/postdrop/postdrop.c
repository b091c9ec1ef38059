/*
 * postdrop - put a locally submitted message into the maildrop queue
 * (postdrop(1)); set-gid setgid_group in system mode, run by sendmail.
 *
 * Usage: postdrop [-rv] [-c config_dir]
 *
 * Standard input is a record stream (record.h; sendmail.c describes it).
 * postdrop checks that the invoking user may submit mail
 * (authorized_submit_users), creates maildrop/QUEUEID with mode 0600,
 * writes a TIME record and then every input record after checking its
 * type and place:
 *
 *   envelope   FULL FROM ATTR DSN_ORCPT DSN_NOTIFY RCPT, up to MESG
 *   content    NORM CONT, up to XTRA
 *   extracted  ATTR DSN_ORCPT DSN_NOTIFY RCPT, up to END
 *
 * Named attributes other than those a submission may carry are dropped
 * with a warning. After END the file gets mode 0700 (complete; 0744 in
 * system mode, so that pickup, running as mail_owner, can read it: when
 * set-gid or run by root), is fsynced
 * together with its directory entry (not when set-gid and maildrop/ is
 * not readable), and pickup is woken up (a failure there only delays the
 * message until pickup's next scan).
 *
 * System mode: installed root:setgid_group 2755, postdrop writes into
 * maildrop/ (mail_owner:setgid_group 730) through its group; files are
 * owned by the submitter. -c DIR/MAIL_CONFIG is honoured only for root or
 * when DIR is listed in alternate_config_directories or
 * multi_instance_directories of the default main.cf ("untrusted
 * configuration directory name: DIR" otherwise).
 *
 * Errors: "postdrop: fatal: uid=N: unexpected record type: T" (T as a
 * decimal number), "uid=N: malformed input", "User NAME(N) is not allowed
 * to submit mail", ...; the exit status is non-zero. A premature end of
 * input, a fatal error or a terminating signal removes the file: it is
 * never left behind marked complete. Exit 0 only after the fsync.
 */
#include "sys_defs.h"

#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sysexits.h>
#include <unistd.h>

#include "mail_conf.h"
#include "mail_params.h"
#include "mail_params_init.h"
#include "mail_proto.h"
#include "mail_queue.h"
#include "maillog_client.h"
#include "msg.h"
#include "msg_stderr.h"
#include "mymalloc.h"
#include "rec_type.h"
#include "record.h"
#include "string_list.h"
#include "vstream.h"
#include "vstring.h"

/* The file being written; removed by the cleanup hook and signal handler. */
static char *postdrop_path;
static volatile sig_atomic_t postdrop_keep;

/* Named attributes that a local submission may set. */
static const char *const postdrop_attrs[] = {
    MAIL_ATTR_RWR_CONTEXT, MAIL_ATTR_DSN_ENVID, MAIL_ATTR_DSN_RET, MAIL_ATTR_TRACE_FLAGS,
    MAIL_ATTR_ENCODING,    MAIL_ATTR_SMTPUTF8,  "verp_delimiters",
};

/*
 * The mode of a complete maildrop file. System mode (set-gid, or run by
 * root): rwxr--r-- as in Postfix, so that pickup, running as mail_owner,
 * can read a file owned by the submitter. Rootless: rwx------ (pickup
 * runs as the same user).
 */
static mode_t postdrop_ready_mode(void)
{
    if (getgid() != getegid() || getuid() == 0)
        return MAIL_QUEUE_STAT_READY | S_IRGRP | S_IROTH;
    return MAIL_QUEUE_STAT_READY;
}

/*
 * True when the directory sync failed only because maildrop/ is not
 * readable: set-gid in system mode, postdrop has write and search access
 * to maildrop/ (mail_owner:setgid_group 730) but cannot open it. The file
 * itself was fsynced; Postfix does not sync the directory either.
 */
static bool postdrop_dir_unreadable(void)
{
    return errno == EACCES && getgid() != getegid();
}

/* Remove the unfinished file (also from a fatal error). */
static void postdrop_cleanup(void)
{
    if (postdrop_path != NULL && !postdrop_keep)
        (void)unlink(postdrop_path);
}

/* A terminating signal: remove the unfinished file and go. */
static void postdrop_sig(int sig)
{
    (void)sig;
    if (postdrop_path != NULL && !postdrop_keep)
        (void)unlink(postdrop_path);
    _exit(EX_TEMPFAIL);
}

/* Check authorized_submit_users for the invoking user. */
static void postdrop_check_user(long uid)
{
    struct passwd *pw = getpwuid((uid_t)uid);
    char num[30];
    const char *name;
    STRING_LIST *list = string_list_init("authorized_submit_users", var_authorized_submit_users);

    snprintf(num, sizeof(num), "%ld", uid);
    name = pw ? pw->pw_name : num;
    if (!string_list_match(list, name)) {
        if (list->error)
            msg_fatal_status(EX_TEMPFAIL, "User %s(%ld): authorized_submit_users lookup error", name, uid);
        msg_fatal_status(EX_NOPERM, "User %s(%ld) is not allowed to submit mail", name, uid);
    }
    string_list_free(list);
}

/* True when the ATTR record "name=value" may be kept. */
static bool postdrop_attr_ok(const char *data, long uid)
{
    size_t len = strcspn(data, "=");

    for (size_t i = 0; i < ARRAY_LEN(postdrop_attrs); i++)
        if (strlen(postdrop_attrs[i]) == len && strncmp(data, postdrop_attrs[i], len) == 0 &&
            data[len] == '=')
            return true;
    msg_warn("uid=%ld: ignoring attribute record: %.200s", uid, data);
    return false;
}

/* Copy the input records, checking each type against its segment. */
static void postdrop_copy(VSTREAM *src, VSTREAM *dst, long uid)
{
    enum { ENVELOPE, CONTENT, EXTRACTED } segment = ENVELOPE;
    VSTRING *buf = vstring_alloc(1000);
    size_t limit = var_line_length_limit > 100000 ? (size_t)var_line_length_limit : 100000;
    int type;

    for (;;) {
        type = rec_get(src, buf, limit);
        if (type == REC_TYPE_EOF)
            msg_fatal_status(EX_TEMPFAIL, "uid=%ld: premature end of input", uid);
        if (type == REC_TYPE_ERROR)
            msg_fatal_status(EX_DATAERR, "uid=%ld: malformed input", uid);
        switch (segment) {
        case ENVELOPE:
            if (type == REC_TYPE_MESG) {
                segment = CONTENT;
                break;
            }
            if (type != REC_TYPE_FULL && type != REC_TYPE_FROM && type != REC_TYPE_ATTR &&
                type != REC_TYPE_RCPT && type != REC_TYPE_DSN_ORCPT && type != REC_TYPE_DSN_NOTIFY)
                msg_fatal_status(EX_DATAERR, "uid=%ld: unexpected record type: %d", uid, type);
            break;
        case CONTENT:
            if (type == REC_TYPE_XTRA) {
                segment = EXTRACTED;
                break;
            }
            if (type != REC_TYPE_NORM && type != REC_TYPE_CONT)
                msg_fatal_status(EX_DATAERR, "uid=%ld: unexpected record type: %d", uid, type);
            break;
        case EXTRACTED:
            if (type == REC_TYPE_END)
                break;
            if (type != REC_TYPE_ATTR && type != REC_TYPE_RCPT && type != REC_TYPE_DSN_ORCPT &&
                type != REC_TYPE_DSN_NOTIFY)
                msg_fatal_status(EX_DATAERR, "uid=%ld: unexpected record type: %d", uid, type);
            break;
        }
        if (type == REC_TYPE_ATTR && !postdrop_attr_ok(vstring_str(buf), uid))
            continue;
        if (rec_put(dst, type, vstring_str(buf), VSTRING_LEN(buf)) == REC_TYPE_ERROR)
            msg_fatal_status(EX_TEMPFAIL, "uid=%ld: error writing %s: %s", uid, postdrop_path,
                             strerror(vstream_errno(dst)));
        if (type == REC_TYPE_END)
            break;
    }
    vstring_free(buf);
}

int main(int argc, char **argv)
{
    static const int sigs[] = {SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGPIPE, SIGXFSZ};
    struct sigaction sa;
    long uid = (long)getuid();
    struct timeval tv;
    VSTRING *id = vstring_alloc(MAIL_QUEUE_ID_LEN_MAX);
    VSTRING *path = vstring_alloc(100);
    VSTREAM *dst;
    int ch;

    mail_process_name = "postdrop";
    msg_stderr_init("postdrop");
    umask(077);
    while ((ch = getopt(argc, argv, "c:rv")) != -1) {
        switch (ch) {
        case 'c':
            mail_conf_select(optarg);
            break;
        case 'r':
            break; /* raw records: the only input format */
        case 'v':
            msg_verbose++;
            break;
        default:
            msg_fatal_status(EX_USAGE, "usage: postdrop [-c config_dir] [-v]");
        }
    }
    if (optind < argc)
        msg_fatal_status(EX_USAGE, "usage: postdrop [-c config_dir] [-v]");
    mail_params_check_setgid_config();
    mail_conf_read();
    mail_params_init();
    maillog_client_init("postdrop", MAILLOG_CLIENT_FLAG_NONE);
    msg_stderr_init("postdrop");
    postdrop_check_user(uid);

    /* From here on, every way out removes the file unless it is complete. */
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = postdrop_sig;
    sigemptyset(&sa.sa_mask);
    for (size_t i = 0; i < ARRAY_LEN(sigs); i++)
        sigaddset(&sa.sa_mask, sigs[i]);
    for (size_t i = 0; i < ARRAY_LEN(sigs); i++)
        sigaction(sigs[i], &sa, NULL);
    msg_cleanup(postdrop_cleanup);

    if ((dst = mail_queue_enter(MAIL_QUEUE_MAILDROP, MAIL_QUEUE_STAT_WRITE, &tv, id)) == NULL)
        msg_fatal_status(EX_TEMPFAIL, "uid=%ld: create file in %s/%s: %m", uid, var_queue_directory,
                         MAIL_QUEUE_MAILDROP);
    postdrop_path = mystrdup(mail_queue_path(path, MAIL_QUEUE_MAILDROP, vstring_str(id), false));
    if (msg_verbose)
        msg_info("uid=%ld: queue file %s", uid, postdrop_path);
    rec_fprintf(dst, REC_TYPE_TIME, "%lld %ld", (long long)tv.tv_sec, (long)tv.tv_usec);
    postdrop_copy(vstream_in, dst, uid);

    /*
     * Complete: the owner execute bit set (postdrop_ready_mode()), data
     * and directory entry on stable storage.
     */
    if (vstream_fflush(dst) != 0 || fsync(vstream_fileno(dst)) < 0 ||
        fchmod(vstream_fileno(dst), postdrop_ready_mode()) < 0 || fsync(vstream_fileno(dst)) < 0)
        msg_fatal_status(EX_TEMPFAIL, "uid=%ld: error writing %s: %m", uid, postdrop_path);
    if (vstream_fclose(dst) != 0)
        msg_fatal_status(EX_TEMPFAIL, "uid=%ld: error writing %s: %m", uid, postdrop_path);
    if (mail_queue_sync_dir(MAIL_QUEUE_MAILDROP, vstring_str(id)) < 0 && !postdrop_dir_unreadable())
        msg_fatal_status(EX_TEMPFAIL, "uid=%ld: fsync %s/%s: %m", uid, var_queue_directory,
                         MAIL_QUEUE_MAILDROP);
    postdrop_keep = 1;

    /* A failed wakeup only delays the message until pickup's next scan. */
    (void)mail_trigger(MAIL_CLASS_PUBLIC, MAIL_SERVICE_PICKUP, "W", 1);
    vstring_free(id);
    vstring_free(path);
    return 0;
}
