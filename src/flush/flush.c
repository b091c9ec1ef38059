/*
 * flush - the fast-flush service (flush(8), queue.md section 8):
 * per-destination logs of deferred queue IDs in flush/SITE, so that ETRN,
 * sendmail -qR and postqueue -s deliver one site's mail at once.
 *
 * Requests on public/flush (flush_clnt.h): "request" (add, send_site,
 * send_file, refresh, purge), "site", "queue_id"; the answer is "status".
 *
 *   add        append ID to flush/SITE (SITE lower-cased; only for sites
 *              in fast_flush_domains), under an exclusive lock
 *   send_site  for each ID in the site's log whose file is in deferred/:
 *              set MAIL_QUEUE_STAT_FLUSH, move it to incoming/, then
 *              wake the queue manager (QMGR_REQ_SCAN_INCOMING); the log
 *              is emptied (the queue manager re-adds mail it defers again)
 *   send_file  the same for one queue ID
 *   refresh    send non-empty logs not read for fast_flush_refresh_time,
 *              delete empty logs not updated for fast_flush_purge_time
 *   purge      send every non-empty log now, delete old empty ones
 *
 * The master's wakeup timer ("1000?" in master.cf) connects to the same
 * socket and writes the single byte TRIGGER_REQ_WAKEUP; a request never
 * starts with that byte (attribute names are lower case), so the service
 * treats it as a refresh request without an answer.
 *
 * The "read" time of a log is its access time, set explicitly when the
 * log is sent (appends do not change it).
 *
 * Errors: a bad site name or queue ID is FLUSH_STAT_BAD, an ineligible
 * site FLUSH_STAT_DENY, a file system or table problem FLUSH_STAT_FAIL
 * with a warning. Malformed requests drop the client with a warning.
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
#include "attr.h"
#include "flush_clnt.h"
#include "htable.h"
#include "mail_params.h"
#include "mail_proto.h"
#include "mail_queue.h"
#include "mail_server.h"
#include "msg.h"
#include "myflock.h"
#include "mymalloc.h"
#include "stringops.h"
#include "vstream.h"
#include "vstring.h"

/* Longest line (queue ID) in a log that we accept. */
#define FLUSH_LINE_MAX 1000

/* Validate and lower-case SITE into BUF; FLUSH_STAT_OK or why not. */
static int flush_site_check(const char *site, VSTRING *buf)
{
    vstring_strcpy(buf, site);
    lowercase(vstring_str(buf));
    if (!flush_site_valid(vstring_str(buf)))
        return FLUSH_STAT_BAD;
    return flush_site_policy(vstring_str(buf));
}

/* Move ID from deferred/ to incoming/ with the flush mode bit; true if moved. */
static bool flush_one_file(const char *id)
{
    VSTRING *path = vstring_alloc(100);
    struct stat st;
    bool moved = false;

    mail_queue_path(path, MAIL_QUEUE_DEFERRED, id, false);
    if (stat(vstring_str(path), &st) < 0) {
        if (errno != ENOENT)
            msg_warn("stat %s: %m", vstring_str(path));
    } else if (!S_ISREG(st.st_mode)) {
        msg_warn("%s: not a regular file", vstring_str(path));
    } else if (chmod(vstring_str(path), (st.st_mode & 07777) | MAIL_QUEUE_STAT_FLUSH) < 0) {
        if (errno != ENOENT)
            msg_warn("chmod %s: %m", vstring_str(path));
    } else if (mail_queue_rename(id, MAIL_QUEUE_DEFERRED, MAIL_QUEUE_INCOMING) < 0) {
        if (errno != ENOENT)
            msg_warn("move %s to %s: %m", vstring_str(path), MAIL_QUEUE_INCOMING);
    } else {
        if (msg_verbose)
            msg_info("%s: requested delivery now", id);
        moved = true;
    }
    vstring_free(path);
    return moved;
}

/* Wake the queue manager for the files we moved. */
static void flush_kick_qmgr(void)
{
    static const char req[] = {QMGR_REQ_SCAN_INCOMING};

    (void)mail_trigger(MAIL_CLASS_PUBLIC, MAIL_SERVICE_QUEUE, req, sizeof(req));
}

/* Open flush/SITE (already checked) with FLAGS, locked exclusively. */
static VSTREAM *flush_log_open(const char *site, int flags)
{
    VSTRING *path = vstring_alloc(100);
    VSTREAM *fp;

    mail_queue_path(path, MAIL_QUEUE_FLUSH, site, false);
    if ((fp = vstream_fopen(vstring_str(path), flags | O_NOFOLLOW, 0600)) == NULL) {
        if (errno != ENOENT || (flags & O_CREAT))
            msg_warn("open %s: %m", vstring_str(path));
    } else if (myflock(vstream_fileno(fp), MYFLOCK_METHOD_FLOCK, MYFLOCK_OP_EXCLUSIVE) < 0) {
        msg_warn("lock %s: %m", vstring_str(path));
        vstream_fclose(fp);
        fp = NULL;
    }
    vstring_free(path);
    return fp;
}

/* add: append ID to the site's log. */
static int flush_add_service(const char *site, const char *id)
{
    VSTREAM *fp;
    int status = FLUSH_STAT_OK;

    if ((fp = flush_log_open(site, O_WRONLY | O_APPEND | O_CREAT)) == NULL)
        return FLUSH_STAT_FAIL;
    vstream_fprintf(fp, "%s\n", id);
    if (vstream_fflush(fp) != 0) {
        msg_warn("write %s: %m", vstream_path(fp));
        status = FLUSH_STAT_FAIL;
    }
    if (vstream_fclose(fp) != 0)
        status = FLUSH_STAT_FAIL;
    return status;
}

/* send_site: deliver every logged deferred message of SITE, empty the log. */
static int flush_send_path(const char *site)
{
    VSTREAM *fp;
    VSTRING *line = vstring_alloc(100);
    HTABLE *seen = htable_create(10, 0);
    struct timespec times[2];
    int moved = 0;
    int status = FLUSH_STAT_OK;
    int rc;

    if ((fp = flush_log_open(site, O_RDWR)) == NULL) {
        htable_free(seen, NULL);
        vstring_free(line);
        return errno == ENOENT ? FLUSH_STAT_OK : FLUSH_STAT_FAIL;
    }
    while ((rc = vstream_fgets_nonl_limit(line, fp, FLUSH_LINE_MAX)) != VSTREAM_LINE_EOF) {
        const char *id = vstring_str(line);

        if (rc != VSTREAM_LINE_OK || !mail_queue_id_ok(id)) {
            msg_warn("%s: ignoring bad queue ID in flush log: %.100s", site, id);
            continue;
        }
        if (htable_locate(seen, id) != NULL)
            continue;
        htable_enter(seen, id, NULL);
        if (flush_one_file(id))
            moved++;
    }
    if (vstream_ferror(fp)) {
        msg_warn("read %s: %m", vstream_path(fp));
        status = FLUSH_STAT_FAIL;
    } else if (ftruncate(vstream_fileno(fp), 0) < 0) {
        msg_warn("truncate %s: %m", vstream_path(fp));
        status = FLUSH_STAT_FAIL;
    }
    /* Mark the log as read now (the refresh clock). */
    times[0].tv_sec = time(NULL);
    times[0].tv_nsec = 0;
    times[1].tv_sec = 0;
    times[1].tv_nsec = UTIME_OMIT;
    (void)futimens(vstream_fileno(fp), times);
    vstream_fclose(fp);
    if (moved > 0)
        flush_kick_qmgr();
    if (msg_verbose)
        msg_info("%s: %d message(s) requested for delivery", site, moved);
    htable_free(seen, NULL);
    vstring_free(line);
    return status;
}

/* send_file: deliver one deferred message now. */
static int flush_send_file_service(const char *id)
{
    if (!mail_queue_id_ok(id))
        return FLUSH_STAT_BAD;
    if (flush_one_file(id))
        flush_kick_qmgr();
    return FLUSH_STAT_OK;
}

/* refresh / purge: walk flush/; ALL ignores fast_flush_refresh_time. */
static int flush_refresh_service(bool all)
{
    VSTRING *dir = vstring_alloc(100);
    VSTRING *path = vstring_alloc(100);
    DIR *dp;
    struct dirent *de;
    time_t now = time(NULL);
    int status = FLUSH_STAT_OK;

    vstring_sprintf(dir, "%s/%s", var_queue_directory, MAIL_QUEUE_FLUSH);
    if ((dp = opendir(vstring_str(dir))) == NULL) {
        msg_warn("open directory %s: %m", vstring_str(dir));
        status = FLUSH_STAT_FAIL;
    } else {
        ARGV *sites = argv_alloc(10);

        while ((de = readdir(dp)) != NULL)
            if (de->d_name[0] != '.' && flush_site_valid(de->d_name))
                argv_add(sites, de->d_name);
        closedir(dp);
        for (size_t i = 0; i < sites->argc; i++) {
            struct stat st;

            vstring_sprintf(path, "%s/%s", vstring_str(dir), sites->argv[i]);
            if (lstat(vstring_str(path), &st) < 0 || !S_ISREG(st.st_mode))
                continue;
            if (st.st_size > 0) {
                if (all || now - st.st_atime > var_fast_flush_refresh_time)
                    if (flush_send_path(sites->argv[i]) != FLUSH_STAT_OK)
                        status = FLUSH_STAT_FAIL;
            } else if (now - st.st_mtime > var_fast_flush_purge_time) {
                if (unlink(vstring_str(path)) < 0 && errno != ENOENT)
                    msg_warn("remove %s: %m", vstring_str(path));
                else if (msg_verbose)
                    msg_info("%s: removed empty flush log", sites->argv[i]);
            }
        }
        argv_free(sites);
    }
    vstring_free(dir);
    vstring_free(path);
    return status;
}

/* Dispatch one request; the answer status. */
static int flush_request(const char *request, const char *site, const char *id)
{
    VSTRING *name = vstring_alloc(100);
    int status;

    if (strcmp(request, FLUSH_REQ_ADD) == 0) {
        if ((status = flush_site_check(site, name)) == FLUSH_STAT_OK)
            status = mail_queue_id_ok(id) ? flush_add_service(vstring_str(name), id) : FLUSH_STAT_BAD;
    } else if (strcmp(request, FLUSH_REQ_SEND_SITE) == 0) {
        if ((status = flush_site_check(site, name)) == FLUSH_STAT_OK)
            status = flush_send_path(vstring_str(name));
    } else if (strcmp(request, FLUSH_REQ_SEND_FILE) == 0) {
        status = flush_send_file_service(id);
    } else if (strcmp(request, FLUSH_REQ_REFRESH) == 0) {
        status = flush_refresh_service(false);
    } else if (strcmp(request, FLUSH_REQ_PURGE) == 0) {
        status = flush_refresh_service(true);
    } else {
        msg_warn("unknown request: \"%.100s\"", request);
        status = FLUSH_STAT_BAD;
    }
    vstring_free(name);
    return status;
}

/* One request from a client, or the master's wakeup. */
static void flush_service(VSTREAM *client, char *service UNUSED, char **argv UNUSED)
{
    VSTRING *request;
    VSTRING *site;
    VSTRING *id;
    int ch;
    int status;

    if ((ch = vstream_getc(client)) == VSTREAM_EOF) {
        multi_server_disconnect(client);
        return;
    }
    if (ch == TRIGGER_REQ_WAKEUP) {
        /* The master's timer: refresh, no answer. */
        multi_server_disconnect(client);
        (void)flush_refresh_service(false);
        return;
    }
    vstream_ungetc(ch, client);
    request = vstring_alloc(20);
    site = vstring_alloc(100);
    id = vstring_alloc(MAIL_QUEUE_ID_LEN_MAX);
    if (attr_scan(client, ATTR_FLAG_EXTRA, RECV_ATTR_STR(MAIL_ATTR_REQ, request),
                  RECV_ATTR_STR(MAIL_ATTR_SITE, site), RECV_ATTR_STR(MAIL_ATTR_QUEUEID, id),
                  ATTR_TYPE_END) < 1 ||
        VSTRING_LEN(request) == 0) {
        msg_warn("malformed request");
        multi_server_disconnect(client);
    } else {
        status = flush_request(vstring_str(request), vstring_str(site), vstring_str(id));
        if (msg_verbose)
            msg_info("request=%s site=%s queue_id=%s status=%d", vstring_str(request), vstring_str(site),
                     vstring_str(id), status);
        if (attr_print(client, ATTR_FLAG_NONE, SEND_ATTR_INT(MAIL_ATTR_STATUS, status), ATTR_TYPE_END) != 0)
            multi_server_disconnect(client);
    }
    vstring_free(request);
    vstring_free(site);
    vstring_free(id);
}

/* Build fast_flush_domains (tables may need privileges). */
static void flush_pre_init(char *service UNUSED, char **argv UNUSED)
{
    flush_site_init();
}

int main(int argc, char **argv)
{
    static const MAIL_SERVER_OPTS opts = {
        .pre_init = flush_pre_init,
    };

    multi_server_main(argc, argv, flush_service, &opts);
}
