/*
 * post_mail - submit mail generated inside the mail system (notices,
 * postmaster reports, forwarded mail) to the cleanup service.
 *
 * Public functions: post_mail_open(), post_mail_rcpt(), post_mail_fputs(),
 * post_mail_fprintf(), post_mail_buffer(), post_mail_close(); see
 * post_mail.h for the conversation.
 *
 * Each open stream has a small record here saying whether the content
 * segment has started (the MESG record is written before the first
 * content line, so recipients can be added until then) and whether the
 * conversation already failed.
 *
 * Errors: write functions return REC_TYPE_ERROR (-2) after a stream
 * error, 0 otherwise; post_mail_close() returns cleanup's status bits, or
 * CLEANUP_STAT_WRITE when the conversation failed. Nothing exits.
 */
#include "sys_defs.h"

#include <stdarg.h>
#include <stdbool.h>
#include <string.h>
#include <sys/time.h>

#include "attr.h"
#include "cleanup_user.h"
#include "mail_params.h"
#include "mail_proto.h"
#include "mail_queue.h"
#include "msg.h"
#include "mymalloc.h"
#include "post_mail.h"
#include "rec_type.h"
#include "record.h"

/* What post_mail knows about one open submission. */
typedef struct POST_MAIL_STATE {
    VSTREAM *fp;
    bool content; /* MESG written */
    bool failed;  /* no queue ID or a write error */
    struct POST_MAIL_STATE *next;
} POST_MAIL_STATE;

static POST_MAIL_STATE *post_mail_list;

/* The state of FP; panic for a stream post_mail_open() did not return. */
static POST_MAIL_STATE *post_mail_state(VSTREAM *fp)
{
    for (POST_MAIL_STATE *st = post_mail_list; st; st = st->next)
        if (st->fp == fp)
            return st;
    msg_panic("post_mail: unknown stream");
}

/* Note a failed write; returns the rec_put() style result. */
static int post_mail_check(POST_MAIL_STATE *st, int ret)
{
    if (ret == REC_TYPE_ERROR)
        st->failed = true;
    return st->failed ? REC_TYPE_ERROR : 0;
}

/* Connect to cleanup and send the envelope; see post_mail.h. */
VSTREAM *post_mail_open(const char *sender, const char *recipient, int cleanup_flags, int trace_flags,
                        const char *envid, VSTRING *queue_id)
{
    POST_MAIL_STATE *st = mymalloc(sizeof(*st));
    VSTRING *id = vstring_alloc(MAIL_QUEUE_ID_LEN_MAX);
    struct timeval now;
    bool ok;

    st->fp = mail_connect_wait(MAIL_CLASS_PUBLIC, MAIL_SERVICE_CLEANUP);
    st->content = false;
    st->failed = false;
    st->next = post_mail_list;
    post_mail_list = st;
    if (attr_scan(st->fp, ATTR_FLAG_STRICT, RECV_ATTR_STR(MAIL_ATTR_QUEUEID, id), ATTR_TYPE_END) != 1) {
        msg_warn("no queue ID from the %s service", MAIL_SERVICE_CLEANUP);
        st->failed = true;
        vstring_truncate(id, 0);
    }
    if (queue_id)
        vstring_strcpy(queue_id, vstring_str(id));
    vstring_free(id);
    if (st->failed)
        return st->fp;
    gettimeofday(&now, NULL);
    ok = rec_fprintf(st->fp, REC_TYPE_FLGS, "%d", CLEANUP_FLAG_MASK_INTERNAL | cleanup_flags) !=
             REC_TYPE_ERROR &&
         rec_fprintf(st->fp, REC_TYPE_TIME, "%lld %ld", (long long)now.tv_sec, (long)now.tv_usec) !=
             REC_TYPE_ERROR &&
         rec_fprintf(st->fp, REC_TYPE_ATTR, "%s=%s", MAIL_ATTR_RWR_CONTEXT, "local") != REC_TYPE_ERROR &&
         rec_fprintf(st->fp, REC_TYPE_ATTR, "%s=%s", MAIL_ATTR_LOG_ORIGIN, "local") != REC_TYPE_ERROR &&
         rec_fprintf(st->fp, REC_TYPE_ATTR, "%s=%d", MAIL_ATTR_TRACE_FLAGS, trace_flags) != REC_TYPE_ERROR &&
         rec_fputs(st->fp, REC_TYPE_FROM, sender) != REC_TYPE_ERROR &&
         (envid == NULL || *envid == 0 ||
          rec_fprintf(st->fp, REC_TYPE_ATTR, "%s=%s", MAIL_ATTR_DSN_ENVID, envid) != REC_TYPE_ERROR);
    if (!ok)
        st->failed = true;
    else if (recipient != NULL)
        post_mail_rcpt(st->fp, recipient, recipient, 0);
    return st->fp;
}

/* One more envelope attribute (before the content); 0 or REC_TYPE_ERROR. */
int post_mail_attr(VSTREAM *fp, const char *name, const char *value)
{
    POST_MAIL_STATE *st = post_mail_state(fp);

    if (st->failed)
        return REC_TYPE_ERROR;
    if (st->content)
        msg_panic("post_mail_attr: attribute after the message content started");
    return post_mail_check(st, rec_fprintf(fp, REC_TYPE_ATTR, "%s=%s", name, value));
}

/* One more recipient (before the first content line); 0 or REC_TYPE_ERROR. */
int post_mail_rcpt(VSTREAM *fp, const char *recipient, const char *orig, int notify)
{
    POST_MAIL_STATE *st = post_mail_state(fp);
    bool ok;

    if (st->failed)
        return REC_TYPE_ERROR;
    if (st->content)
        msg_panic("post_mail_rcpt: recipient after the message content started");
    ok = (orig == NULL || *orig == 0 || rec_fputs(fp, REC_TYPE_ORCP, orig) != REC_TYPE_ERROR) &&
         rec_fprintf(fp, REC_TYPE_DSN_ORCPT, "rfc822;%s", orig && *orig ? orig : recipient) !=
             REC_TYPE_ERROR &&
         (notify == 0 || rec_fprintf(fp, REC_TYPE_DSN_NOTIFY, "%d", notify) != REC_TYPE_ERROR) &&
         rec_fputs(fp, REC_TYPE_RCPT, recipient) != REC_TYPE_ERROR;
    return post_mail_check(st, ok ? 0 : REC_TYPE_ERROR);
}

/* Write the MESG record before the first content line. */
static POST_MAIL_STATE *post_mail_content(VSTREAM *fp)
{
    POST_MAIL_STATE *st = post_mail_state(fp);

    if (!st->failed && !st->content) {
        st->content = true;
        post_mail_check(st, rec_put(fp, REC_TYPE_MESG, "", 0));
    }
    return st;
}

/* One content line of LEN bytes (may hold any byte); 0 or REC_TYPE_ERROR. */
int post_mail_buffer(VSTREAM *fp, const char *data, size_t len)
{
    POST_MAIL_STATE *st = post_mail_content(fp);
    size_t limit = var_line_length_limit > 0 ? (size_t)var_line_length_limit : 2048;

    if (st->failed)
        return REC_TYPE_ERROR;
    while (len > limit) {
        if (post_mail_check(st, rec_put(fp, REC_TYPE_CONT, data, limit)) != 0)
            return REC_TYPE_ERROR;
        data += limit;
        len -= limit;
    }
    return post_mail_check(st, rec_put(fp, REC_TYPE_NORM, data, len));
}

/* One content line from a string; 0 or REC_TYPE_ERROR. */
int post_mail_fputs(VSTREAM *fp, const char *line)
{
    return post_mail_buffer(fp, line, strlen(line));
}

/* One formatted content line; 0 or REC_TYPE_ERROR. */
int post_mail_fprintf(VSTREAM *fp, const char *fmt, ...)
{
    VSTRING *buf = vstring_alloc(100);
    va_list ap;
    int ret;

    va_start(ap, fmt);
    vstring_vsprintf(buf, fmt, ap);
    va_end(ap);
    ret = post_mail_buffer(fp, vstring_str(buf), VSTRING_LEN(buf));
    vstring_free(buf);
    return ret;
}

/* End the message and read cleanup's verdict; see post_mail.h. */
int post_mail_close(VSTREAM *fp)
{
    POST_MAIL_STATE *st = post_mail_content(fp);
    VSTRING *why = vstring_alloc(100);
    int status = CLEANUP_STAT_WRITE;

    if (!st->failed && post_mail_check(st, rec_put(fp, REC_TYPE_XTRA, "", 0)) == 0 &&
        post_mail_check(st, rec_put(fp, REC_TYPE_END, "", 0)) == 0 && vstream_fflush(fp) == 0) {
        if (attr_scan(fp, ATTR_FLAG_MISSING, RECV_ATTR_INT(MAIL_ATTR_STATUS, &status),
                      RECV_ATTR_STR(MAIL_ATTR_WHY, why), ATTR_TYPE_END) != 2)
            status = CLEANUP_STAT_WRITE;
    }
    for (POST_MAIL_STATE **pp = &post_mail_list; *pp; pp = &(*pp)->next) {
        if (*pp == st) {
            *pp = st->next;
            break;
        }
    }
    myfree(st);
    vstream_fclose(fp);
    vstring_free(why);
    return status;
}
