/*
 * pickup - move locally submitted mail from maildrop/ into the queue
 * through cleanup (pickup(8)).
 *
 * A trigger server (mail_server.h): at start, on every wakeup request
 * (postdrop's "W" after each submission) and on the master's wakeup
 * timer it scans maildrop/. Files without the owner execute bit are still
 * being written and are skipped, as are names that are not queue IDs.
 * For each complete file, pickup connects to public/cleanup, receives the new
 * queue ID, logs "QID: uid=UID from=<SENDER>" (UID = the file's owner;
 * " orig_id=ID" for mail requeued with postsuper -r) and sends
 *
 *   FLGS   CLEANUP_FLAG_BOUNCE | CLEANUP_FLAG_MASK_EXTERNAL, minus what
 *          receive_override_options turns off
 *   TIME   the file's arrival time
 *   ATTR   rewrite_context=local
 *   the file's envelope records, MESG,
 *   "Received: by $myhostname ($mail_name, from userid UID)" and
 *   "<TAB>id QID; DATE" (RFC 5322 local time),
 *   the file's content records, XTRA, its extracted records, END.
 *
 * A file owned by another user than pickup's is untrusted: it may hold
 * only what postdrop writes (TIME FULL FROM ATTR DSN_* RCPT, content,
 * extracted recipients), and only the named attributes a submission may
 * set. Files owned by pickup's own user (postsuper -r, restored queue
 * files) may also carry the records cleanup writes (SIZE, CTIME, ORCP,
 * DONE, DRCP, WARN); recipients already DONE or DRCP are not sent again.
 * No cleanup flag is ever taken from a maildrop file: sendmail -t puts
 * the header recipients in the extracted segment itself.
 *
 * Before the end of each message the file is renamed to ID_QID (QID:
 * the new queue file) so a crash cannot submit it twice; see
 * pickup_claim().
 *
 * Outcome: status 0 from cleanup removes the maildrop file. A temporary
 * cleanup failure (or a lost connection) keeps it for the next scan. A
 * message cleanup refuses for good (size, hop count, content checks) is
 * returned to its sender (pickup_bounce(); Postfix's cleanup does that
 * itself, but Postern's cleanup serves many clients in one process and
 * must not wait for the bounce service, which submits the notice through
 * cleanup); other permanent failures are logged "warning: maildrop/ID:
 * error writing QID: TEXT" and remove the file. A malformed file is
 * moved to corrupt/ with a warning; symbolic links and other non-regular
 * files are moved there too without being opened.
 */
#include "sys_defs.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "argv.h"
#include "attr.h"
#include "bounce.h"
#include "cleanup_user.h"
#include "dsn.h"
#include "mail_date.h"
#include "mail_flow.h"
#include "mail_params.h"
#include "mail_proto.h"
#include "mail_queue.h"
#include "mail_server.h"
#include "msg.h"
#include "msg_stats.h"
#include "mymalloc.h"
#include "rec_type.h"
#include "recipient_list.h"
#include "record.h"
#include "vstream.h"
#include "vstring.h"

#define PICKUP_REC_LIMIT (1 << 20) /* longest record accepted from a maildrop file */

/* Cleanup answers that keep the file for later, and those returned to the sender. */
#define PICKUP_KEEP_STAT   (CLEANUP_STAT_BAD | CLEANUP_STAT_WRITE | CLEANUP_STAT_DEFER | CLEANUP_STAT_PROXY)
#define PICKUP_BOUNCE_STAT (CLEANUP_STAT_SIZE | CLEANUP_STAT_CONT | CLEANUP_STAT_HOPS)

/* What happened to one maildrop file. */
enum pickup_result { PICKUP_DONE, PICKUP_KEEP, PICKUP_CORRUPT, PICKUP_REMOVE, PICKUP_BOUNCE };

/* Named attributes an untrusted (user-written) maildrop file may carry. */
static const char *const pickup_user_attrs[] = {
    MAIL_ATTR_DSN_ENVID, MAIL_ATTR_DSN_RET,  MAIL_ATTR_TRACE_FLAGS,
    MAIL_ATTR_ENCODING,  MAIL_ATTR_SMTPUTF8, "verp_delimiters",
};

/* One envelope record kept in memory until cleanup is connected. */
typedef struct PICKUP_REC {
    int type;
    char *data;
    size_t len;
} PICKUP_REC;

typedef struct PICKUP_INFO {
    const char *id; /* maildrop file name, without a claim suffix */
    VSTRING *name;  /* the file's current name (renamed when claimed) */
    uid_t uid;      /* file owner */
    bool trusted;   /* owned by our own user */
    time_t mtime;
    PICKUP_REC *env; /* envelope records, MESG excluded */
    size_t env_count;
    size_t env_size;
    const char *sender;  /* points into env */
    const char *orig_id; /* postsuper -r */
    bool has_size;
    long long arrival_sec;
    long arrival_usec;
    bool has_time;
    VSTRING *bounce_qid; /* PICKUP_BOUNCE: the queue ID cleanup gave */
    VSTRING *bounce_why; /* PICKUP_BOUNCE: cleanup's reason */
    int bounce_status;   /* PICKUP_BOUNCE: cleanup's status */
} PICKUP_INFO;

/* True when TYPE may appear in the envelope or extracted segment. */
static bool pickup_env_type_ok(int type, bool trusted)
{
    switch (type) {
    case REC_TYPE_TIME:
    case REC_TYPE_FULL:
    case REC_TYPE_FROM:
    case REC_TYPE_ATTR:
    case REC_TYPE_DSN_ORCPT:
    case REC_TYPE_DSN_NOTIFY:
    case REC_TYPE_RCPT:
        return true;
    case REC_TYPE_SIZE:
    case REC_TYPE_CTIME:
    case REC_TYPE_ORCP:
    case REC_TYPE_DONE:
    case REC_TYPE_DRCP:
    case REC_TYPE_WARN:
        return trusted;
    default:
        return false;
    }
}

/* True when an untrusted file may set the named attribute "name=value". */
static bool pickup_user_attr_ok(const char *data)
{
    size_t len = strcspn(data, "=");

    for (size_t i = 0; i < ARRAY_LEN(pickup_user_attrs); i++)
        if (strlen(pickup_user_attrs[i]) == len && strncmp(data, pickup_user_attrs[i], len) == 0)
            return data[len] == '=';
    return false;
}

/* Read and check the envelope segment; false for a malformed file. */
static bool pickup_read_envelope(VSTREAM *src, PICKUP_INFO *info, VSTRING *buf)
{
    int type;

    while ((type = rec_get(src, buf, PICKUP_REC_LIMIT)) != REC_TYPE_MESG) {
        if (type < 0 || !pickup_env_type_ok(type, info->trusted) ||
            (type == REC_TYPE_SIZE && info->env_count > 0)) {
            msg_warn("uid=%ld: unexpected or malformed record type %d", (long)info->uid, type);
            return false;
        }
        if (type == REC_TYPE_SIZE) {
            info->has_size = true;
            continue;
        }
        if (type == REC_TYPE_TIME && !info->has_time) {
            if (sscanf(vstring_str(buf), "%lld %ld", &info->arrival_sec, &info->arrival_usec) < 1) {
                msg_warn("uid=%ld: unexpected or malformed record type %d", (long)info->uid, type);
                return false;
            }
            info->has_time = true;
            continue;
        }
        if (type == REC_TYPE_ATTR && strchr(vstring_str(buf), '=') == NULL) {
            msg_warn("uid=%ld: unexpected or malformed record type %d", (long)info->uid, type);
            return false;
        }
        if (info->env_count == info->env_size) {
            info->env_size = info->env_size ? 2 * info->env_size : 16;
            info->env = myrealloc(info->env, info->env_size * sizeof(*info->env));
        }
        info->env[info->env_count].type = type;
        info->env[info->env_count].len = VSTRING_LEN(buf);
        info->env[info->env_count].data = mymemdup(vstring_str(buf), VSTRING_LEN(buf) + 1);
        if (type == REC_TYPE_FROM && info->sender == NULL)
            info->sender = info->env[info->env_count].data;
        if (type == REC_TYPE_ATTR &&
            strncmp(vstring_str(buf), MAIL_ATTR_ORIG_ID "=", strlen(MAIL_ATTR_ORIG_ID) + 1) == 0)
            info->orig_id = info->env[info->env_count].data + strlen(MAIL_ATTR_ORIG_ID) + 1;
        info->env_count++;
    }
    if (info->sender == NULL) {
        msg_warn("%s: uid=%ld: no envelope sender", info->id, (long)info->uid);
        return false;
    }
    return true;
}

/*
 * Pass one envelope or extracted record to cleanup. Per-recipient records
 * (ORCP, DSN_*) wait in PENDING for their RCPT; a DONE or DRCP recipient
 * is dropped with them. Returns false after a write error.
 */
static bool pickup_put_env(VSTREAM *cleanup, const PICKUP_INFO *info, int type, const char *data, size_t len,
                           VSTRING *pending)
{
    switch (type) {
    case REC_TYPE_SIZE:
    case REC_TYPE_TIME:
    case REC_TYPE_CTIME:
    case REC_TYPE_WARN:
        return true; /* cleanup writes its own */
    case REC_TYPE_ORCP:
    case REC_TYPE_DSN_ORCPT:
    case REC_TYPE_DSN_NOTIFY:
        vstring_sprintf_append(pending, "%c%zu:", type, len);
        vstring_memcat(pending, data, len);
        return true;
    case REC_TYPE_DONE:
    case REC_TYPE_DRCP:
        vstring_truncate(pending, 0);
        return true;
    case REC_TYPE_ATTR:
        if (strncmp(data, MAIL_ATTR_RWR_CONTEXT "=", strlen(MAIL_ATTR_RWR_CONTEXT) + 1) == 0 ||
            strncmp(data, MAIL_ATTR_ORIG_ID "=", strlen(MAIL_ATTR_ORIG_ID) + 1) == 0)
            return true;
        if (!info->trusted && !pickup_user_attr_ok(data)) {
            msg_warn("uid=%ld: ignoring attribute record: %.200s", (long)info->uid, data);
            return true;
        }
        break;
    case REC_TYPE_RCPT: {
        /* The pending records, each stored as TYPE LEN ':' DATA. */
        const char *cp = vstring_str(pending);
        const char *end = vstring_end(pending);

        while (cp < end) {
            int ptype = *cp++;
            char *colon;
            size_t plen = strtoul(cp, &colon, 10);

            if (rec_put(cleanup, ptype, colon + 1, plen) == REC_TYPE_ERROR)
                return false;
            cp = colon + 1 + plen;
        }
        vstring_truncate(pending, 0);
        break;
    }
    default:
        break;
    }
    return rec_put(cleanup, type, data, len) != REC_TYPE_ERROR;
}

/*
 * Exactly once across crashes. Before pickup sends the end of a message,
 * it renames the maildrop file to BASE_QID, QID being the queue file
 * cleanup is writing for it. If pickup or cleanup dies after cleanup made
 * that file complete but before pickup removed the maildrop file, the next
 * scan sees the claim, finds QID complete in the queue and only removes
 * the maildrop file; an incomplete QID (cleanup died while writing) is
 * removed and the message submitted again. What remains: a crash followed
 * by delivery and removal of QID before the next scan, or the loss of the
 * (unsynced) rename in a power failure, can still submit a message twice;
 * nothing can lose one.
 */
static bool pickup_claim(PICKUP_INFO *info, const char *qid)
{
    VSTRING *old_path = vstring_alloc(100);
    VSTRING *new_path = vstring_alloc(100);
    VSTRING *new_name = vstring_alloc(100);
    bool ok;

    vstring_sprintf(new_name, "%s_%s", info->id, qid);
    mail_queue_path(old_path, MAIL_QUEUE_MAILDROP, vstring_str(info->name), false);
    mail_queue_path(new_path, MAIL_QUEUE_MAILDROP, vstring_str(new_name), false);
    ok = rename(vstring_str(old_path), vstring_str(new_path)) == 0;
    if (ok)
        vstring_strcpy(info->name, vstring_str(new_name));
    else
        msg_warn("rename %s to %s: %m", vstring_str(old_path), vstring_str(new_path));
    vstring_free(old_path);
    vstring_free(new_path);
    vstring_free(new_name);
    return ok;
}

/*
 * A claimed file (BASE_QID) whose queue file QID is complete in some
 * queue was already submitted: true. An incomplete QID left by a cleanup
 * that died is removed; false means "submit again".
 */
static bool pickup_claim_done(const char *name)
{
    static const char *const queues[] = {MAIL_QUEUE_INCOMING, MAIL_QUEUE_ACTIVE, MAIL_QUEUE_DEFERRED,
                                         MAIL_QUEUE_HOLD, NULL};
    const char *qid = strrchr(name, '_');
    VSTRING *path = vstring_alloc(100);
    struct stat st;
    bool done = false;

    if (qid == NULL || !mail_queue_id_ok(++qid))
        goto out;
    for (const char *const *q = queues; *q && !done; q++) {
        mail_queue_path(path, *q, qid, false);
        if (stat(vstring_str(path), &st) < 0)
            continue;
        if ((st.st_mode & MAIL_QUEUE_STAT_READY) == MAIL_QUEUE_STAT_READY) {
            msg_info("%s/%s: already queued as %s", MAIL_QUEUE_MAILDROP, name, qid);
            done = true;
        } else if (strcmp(*q, MAIL_QUEUE_INCOMING) == 0 && unlink(vstring_str(path)) < 0 && errno != ENOENT) {
            msg_warn("remove incomplete %s: %m", vstring_str(path));
        }
    }
out:
    vstring_free(path);
    return done;
}

/* Copy one maildrop file into cleanup; see the file header for the outcome. */
static enum pickup_result pickup_copy(VSTREAM *src, PICKUP_INFO *info, VSTRING *why)
{
    VSTRING *buf = vstring_alloc(1000);
    VSTRING *qid = vstring_alloc(MAIL_QUEUE_ID_LEN_MAX);
    VSTRING *pending = vstring_alloc(100);
    VSTREAM *cleanup = NULL;
    enum pickup_result result = PICKUP_KEEP;
    int flags =
        input_transp_cleanup(CLEANUP_FLAG_BOUNCE | CLEANUP_FLAG_MASK_EXTERNAL, var_receive_override_options);
    bool write_ok = true;
    int status = 0;
    int type;
    enum { CONTENT, EXTRACTED } segment = CONTENT;
    time_t when;

    if (!pickup_read_envelope(src, info, buf)) {
        result = PICKUP_CORRUPT;
        goto out;
    }
    mail_flow_wait(); /* in_flow_delay */
    /* The stock master.cf makes cleanup public (private column "n"), as in Postfix. */
    if ((cleanup = mail_connect_wait(MAIL_CLASS_PUBLIC, MAIL_SERVICE_CLEANUP)) == NULL)
        goto out;
    if (attr_scan(cleanup, ATTR_FLAG_STRICT, RECV_ATTR_STR(MAIL_ATTR_QUEUEID, qid), ATTR_TYPE_END) != 1) {
        vstring_strcpy(why, "no queue ID from the cleanup service");
        goto out;
    }
    if (!pickup_claim(info, vstring_str(qid))) {
        vstring_sprintf(why, "cannot claim the file for %s", vstring_str(qid));
        goto out;
    }
    if (info->orig_id == NULL && info->has_size)
        info->orig_id = info->id; /* a queue file requeued under its old name */
    if (info->orig_id)
        msg_info("%s: uid=%ld from=<%s> orig_id=%s", vstring_str(qid), (long)info->uid, info->sender,
                 info->orig_id);
    else
        msg_info("%s: uid=%ld from=<%s>", vstring_str(qid), (long)info->uid, info->sender);

    when = info->has_time ? (time_t)info->arrival_sec : info->mtime;
    write_ok = rec_fprintf(cleanup, REC_TYPE_FLGS, "%d", flags) != REC_TYPE_ERROR &&
               rec_fprintf(cleanup, REC_TYPE_TIME, "%lld %ld",
                           info->has_time ? info->arrival_sec : (long long)info->mtime,
                           info->has_time ? info->arrival_usec : 0L) != REC_TYPE_ERROR &&
               rec_fprintf(cleanup, REC_TYPE_ATTR, "%s=%s", MAIL_ATTR_RWR_CONTEXT, "local") != REC_TYPE_ERROR &&
               (*var_content_filter == 0 ||
                rec_fprintf(cleanup, REC_TYPE_ATTR, "%s=%s", MAIL_ATTR_FILTER, var_content_filter) != REC_TYPE_ERROR);
    for (size_t i = 0; write_ok && i < info->env_count; i++)
        write_ok =
            pickup_put_env(cleanup, info, info->env[i].type, info->env[i].data, info->env[i].len, pending);
    write_ok = write_ok && rec_put(cleanup, REC_TYPE_MESG, "", 0) != REC_TYPE_ERROR &&
               rec_fprintf(cleanup, REC_TYPE_NORM, "Received: by %s (%s, from userid %ld)", var_myhostname,
                           var_mail_name, (long)info->uid) != REC_TYPE_ERROR &&
               rec_fprintf(cleanup, REC_TYPE_NORM, "\tid %s; %s", vstring_str(qid), mail_date(buf, when)) !=
                   REC_TYPE_ERROR;
    vstring_truncate(pending, 0);

    /* Content and extracted segments, checked as they stream through. */
    while (write_ok) {
        type = rec_get(src, buf, PICKUP_REC_LIMIT);
        if (segment == CONTENT && (type == REC_TYPE_NORM || type == REC_TYPE_CONT || type == REC_TYPE_XTRA)) {
            if (type == REC_TYPE_XTRA)
                segment = EXTRACTED;
            write_ok = rec_put(cleanup, type, vstring_str(buf), VSTRING_LEN(buf)) != REC_TYPE_ERROR;
        } else if (segment == EXTRACTED && type == REC_TYPE_END) {
            write_ok = rec_put(cleanup, type, "", 0) != REC_TYPE_ERROR;
            break;
        } else if (segment == EXTRACTED && type >= 0 && type != REC_TYPE_SIZE && type != REC_TYPE_FROM &&
                   type != REC_TYPE_FULL && pickup_env_type_ok(type, info->trusted) &&
                   (type != REC_TYPE_ATTR || strchr(vstring_str(buf), '=') != NULL)) {
            write_ok = pickup_put_env(cleanup, info, type, vstring_str(buf), VSTRING_LEN(buf), pending);
        } else {
            msg_warn("uid=%ld: unexpected or malformed record type %d", (long)info->uid, type);
            result = PICKUP_CORRUPT; /* cleanup drops a stream without END */
            goto out;
        }
    }
    if (!write_ok || vstream_fflush(cleanup) != 0) {
        vstring_sprintf(why, "cleanup service: %s",
                        strerror(vstream_errno(cleanup) ? vstream_errno(cleanup) : EPIPE));
        goto out;
    }
    if (attr_scan(cleanup, ATTR_FLAG_MISSING, RECV_ATTR_INT(MAIL_ATTR_STATUS, &status),
                  RECV_ATTR_STR(MAIL_ATTR_WHY, buf), ATTR_TYPE_END) != 2) {
        vstring_strcpy(why, "no reply from the cleanup service");
        goto out;
    }
    if (status == 0) {
        result = PICKUP_DONE;
    } else if ((status & PICKUP_BOUNCE_STAT) != 0 && (status & PICKUP_KEEP_STAT) == 0) {
        vstring_strcpy(info->bounce_qid, vstring_str(qid));
        vstring_strcpy(info->bounce_why,
                       VSTRING_LEN(buf) ? vstring_str(buf) : cleanup_strerror((unsigned)status));
        info->bounce_status = status;
        result = PICKUP_BOUNCE;
    } else {
        msg_warn("%s/%s: error writing %s: %s", MAIL_QUEUE_MAILDROP, info->id, vstring_str(qid),
                 VSTRING_LEN(buf) ? vstring_str(buf) : cleanup_strerror((unsigned)status));
        vstring_truncate(why, 0);
        result = (status & PICKUP_KEEP_STAT) ? PICKUP_KEEP : PICKUP_REMOVE;
    }

out:
    if (cleanup)
        vstream_fclose(cleanup);
    vstring_free(buf);
    vstring_free(qid);
    vstring_free(pending);
    return result;
}

/*
 * Return a local submission that cleanup refused for good (too big, too
 * many hops, content rejected) to its sender, as Postfix's cleanup does
 * for CLEANUP_FLAG_BOUNCE: the maildrop file is renamed to the queue ID
 * cleanup had given it, every recipient is logged as bounced with
 * cleanup's reason into bounce/QID, and the bounce service sends the
 * notice with the maildrop file as the original message; then the file
 * goes. If any step fails the file stays (under its new name) and the
 * next scan submits it again.
 */
static void pickup_bounce(PICKUP_INFO *info)
{
    const char *qid = vstring_str(info->bounce_qid);
    VSTRING *from = vstring_alloc(100);
    VSTRING *to = vstring_alloc(100);
    VSTRING *buf = vstring_alloc(100);
    VSTRING *orig = vstring_alloc(100);
    VSTRING *orcpt = vstring_alloc(100);
    VSTRING *envid = vstring_alloc(10);
    VSTRING *status = vstring_alloc(10);
    VSTRING *reason = vstring_alloc(100);
    RECIPIENT_LIST rcpts;
    DSN_BUF *dsb = dsb_create();
    MSG_STATS stats;
    VSTREAM *fp;
    DSN dsn;
    int notify = 0, ret = 0, type, failed = 0;

    recipient_list_init(&rcpts);
    mail_queue_path(from, MAIL_QUEUE_MAILDROP, vstring_str(info->name), true);
    mail_queue_path(to, MAIL_QUEUE_MAILDROP, qid, true);
    if (rename(vstring_str(from), vstring_str(to)) < 0) {
        msg_warn("rename %s to %s: %m", vstring_str(from), vstring_str(to));
        goto out;
    }
    if ((fp = mail_queue_open(MAIL_QUEUE_MAILDROP, qid, O_RDONLY, 0)) == NULL) {
        msg_warn("open %s: %m", vstring_str(to));
        goto out;
    }
    while ((type = rec_get(fp, buf, PICKUP_REC_LIMIT)) >= 0 && type != REC_TYPE_END) {
        if (type == REC_TYPE_ORCP)
            vstring_strcpy(orig, vstring_str(buf));
        else if (type == REC_TYPE_DSN_ORCPT)
            vstring_strcpy(orcpt, vstring_str(buf));
        else if (type == REC_TYPE_DSN_NOTIFY)
            notify = atoi(vstring_str(buf));
        else if (type == REC_TYPE_ATTR &&
                 strncmp(vstring_str(buf), MAIL_ATTR_DSN_ENVID "=", strlen(MAIL_ATTR_DSN_ENVID) + 1) == 0)
            vstring_strcpy(envid, vstring_str(buf) + strlen(MAIL_ATTR_DSN_ENVID) + 1);
        else if (type == REC_TYPE_ATTR &&
                 strncmp(vstring_str(buf), MAIL_ATTR_DSN_RET "=", strlen(MAIL_ATTR_DSN_RET) + 1) == 0)
            ret = atoi(vstring_str(buf) + strlen(MAIL_ATTR_DSN_RET) + 1);
        if (type == REC_TYPE_RCPT)
            recipient_list_add(&rcpts, 0, vstring_str(orcpt), notify, vstring_str(orig), vstring_str(buf));
        if (type == REC_TYPE_RCPT || type == REC_TYPE_DONE || type == REC_TYPE_DRCP) {
            vstring_truncate(orig, 0);
            vstring_truncate(orcpt, 0);
            notify = 0;
        }
    }
    (void)vstream_fclose(fp);

    if (info->bounce_status & CLEANUP_STAT_SIZE)
        ret = DSN_RET_HDRS; /* the notice must stay under the limit that refused it */
    dsn_split(status, reason, vstring_str(info->bounce_why), "5.0.0");
    dsb_simple(dsb, vstring_str(status), "%s", vstring_str(reason));
    MSG_STATS_INIT(&stats);
    stats.incoming_arrival.tv_sec = info->has_time ? (time_t)info->arrival_sec : info->mtime;
    for (int i = 0; i < rcpts.len; i++)
        failed |= bounce_append(0, qid, &stats, rcpts.info + i, "none", dsn_from_buf(&dsn, dsb));
    if (failed == 0 &&
        bounce_flush(0, MAIL_QUEUE_MAILDROP, qid, "", 0, info->sender, vstring_str(envid), ret) == 0)
        (void)mail_queue_remove(MAIL_QUEUE_MAILDROP, qid);
    else
        msg_warn("%s/%s: cannot return the message to its sender; will try again later", MAIL_QUEUE_MAILDROP,
                 qid);
out:
    recipient_list_free(&rcpts);
    dsb_free(dsb);
    vstring_free(from);
    vstring_free(to);
    vstring_free(buf);
    vstring_free(orig);
    vstring_free(orcpt);
    vstring_free(envid);
    vstring_free(status);
    vstring_free(reason);
}

/* Move a bad maildrop file NAME out of the way as corrupt/ID (its name before a claim). */
static void pickup_corrupt(const char *name, const char *id)
{
    VSTRING *from = vstring_alloc(100);
    VSTRING *to = vstring_alloc(100);

    mail_queue_path(from, MAIL_QUEUE_MAILDROP, name, true); /* the skeleton runs in queue_directory */
    mail_queue_path(to, MAIL_QUEUE_CORRUPT, id, true);
    if (rename(vstring_str(from), vstring_str(to)) < 0)
        msg_warn("saving corrupt file \"%s\" as \"%s\": %m", vstring_str(from), vstring_str(to));
    else
        msg_warn("saving corrupt file \"%s\" as \"%s\"", vstring_str(from), vstring_str(to));
    vstring_free(from);
    vstring_free(to);
}

/* Handle one maildrop entry. */
static void pickup_file(const char *entry)
{
    VSTRING *path = vstring_alloc(100);
    VSTRING *why = vstring_alloc(100);
    VSTRING *base = vstring_alloc(100);
    PICKUP_INFO info = {
        .name = vstring_alloc(100), .bounce_qid = vstring_alloc(20), .bounce_why = vstring_alloc(100)};
    const char *sep;
    struct stat st;
    struct stat lst;
    VSTREAM *src;
    int fd;
    enum pickup_result result;

    /* A claimed file: BASE_QID (see pickup_claim()). */
    if ((sep = strchr(entry, '_')) != NULL) {
        if (pickup_claim_done(entry)) {
            if (mail_queue_remove(MAIL_QUEUE_MAILDROP, entry) < 0 && errno != ENOENT)
                msg_warn("remove %s/%s: %m", MAIL_QUEUE_MAILDROP, entry);
            goto done;
        }
        vstring_strncpy(base, entry, (size_t)(sep - entry));
    }
    info.id = sep ? vstring_str(base) : entry;
    vstring_strcpy(info.name, entry);
    mail_queue_path(path, MAIL_QUEUE_MAILDROP, entry, false);
    if (lstat(vstring_str(path), &lst) < 0) {
        if (errno != ENOENT)
            msg_warn("stat %s: %m", vstring_str(path));
        goto done;
    }
    if (!S_ISREG(lst.st_mode)) {
        msg_warn("%s/%s: not a regular file", MAIL_QUEUE_MAILDROP, entry);
        pickup_corrupt(entry, entry);
        goto done;
    }
    if ((lst.st_mode & S_IXUSR) == 0)
        goto done; /* postdrop is still writing it */
    if ((fd = open(vstring_str(path), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC)) < 0) {
        if (errno != ENOENT)
            msg_warn("open input file %s: %m", vstring_str(path));
        goto done;
    }
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_ino != lst.st_ino || st.st_dev != lst.st_dev) {
        msg_warn("%s/%s: file was replaced while being opened", MAIL_QUEUE_MAILDROP, entry);
        close(fd);
        goto done;
    }
    info.uid = st.st_uid;
    info.trusted = st.st_uid == geteuid();
    info.mtime = st.st_mtime;
    src = vstream_fdopen(fd, O_RDONLY);
    result = pickup_copy(src, &info, why);
    vstream_fclose(src);
    if (result == PICKUP_BOUNCE)
        pickup_bounce(&info); /* needs info.sender, which lives in info.env */
    for (size_t i = 0; i < info.env_count; i++)
        myfree(info.env[i].data);
    myfree(info.env);

    switch (result) {
    case PICKUP_DONE:
    case PICKUP_REMOVE:
        if (mail_queue_remove(MAIL_QUEUE_MAILDROP, vstring_str(info.name)) < 0 && errno != ENOENT)
            msg_warn("remove %s/%s: %m", MAIL_QUEUE_MAILDROP, vstring_str(info.name));
        break;
    case PICKUP_CORRUPT:
        pickup_corrupt(vstring_str(info.name), info.id);
        break;
    case PICKUP_BOUNCE:
        break; /* pickup_bounce() removed or kept the file */
    case PICKUP_KEEP:
        if (VSTRING_LEN(why))
            msg_warn("%s/%s: %s; will try again later", MAIL_QUEUE_MAILDROP, vstring_str(info.name),
                     vstring_str(why));
        break;
    }
done:
    vstring_free(path);
    vstring_free(why);
    vstring_free(base);
    vstring_free(info.name);
    vstring_free(info.bounce_qid);
    vstring_free(info.bounce_why);
}

/* Take every complete file in maildrop/. */
static void pickup_scan(void)
{
    VSTRING *dir = vstring_alloc(100);
    ARGV *names = argv_alloc(10);
    DIR *dp;
    struct dirent *de;

    vstring_sprintf(dir, "%s/%s", var_queue_directory, MAIL_QUEUE_MAILDROP);
    if ((dp = opendir(vstring_str(dir))) == NULL) {
        msg_warn("open directory %s: %m", vstring_str(dir));
    } else {
        while ((de = readdir(dp)) != NULL)
            if (mail_queue_id_ok(de->d_name))
                argv_add(names, de->d_name);
        closedir(dp);
        argv_sort(names);
        for (size_t i = 0; i < names->argc; i++)
            pickup_file(names->argv[i]);
    }
    argv_free(names);
    vstring_free(dir);
}

/* A wakeup request: whatever it says, scan. */
static void pickup_service(char *buf UNUSED, ssize_t len UNUSED, char *service UNUSED, char **argv UNUSED)
{
    pickup_scan();
}

/* Mail dropped while Postern was down is taken at start. */
static void pickup_post_init(char *service UNUSED, char **argv UNUSED)
{
    pickup_scan();
}

int main(int argc, char **argv)
{
    static const MAIL_SERVER_OPTS opts = {
        .post_init = pickup_post_init,
        .long_lived = true,
    };

    trigger_server_main(argc, argv, pickup_service, &opts);
}
