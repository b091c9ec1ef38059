/*
 * bounce_notice - compose the notices of the bounce service (see
 * bounce_notice.h): header, part 1 text/plain "Notification" (template
 * text and one "<rcpt>: REASON" paragraph per recipient), part 2
 * message/delivery-status "Delivery report", part 3 the original message
 * or its headers.
 *
 * Public functions: bounce_entries_create(), bounce_entries_add(),
 * bounce_entries_free(), bounce_msg_scan(), bounce_notice_write(),
 * bounce_wrap().
 *
 * Errors: bounce_msg_scan() and bounce_notice_write() return -1 (with a
 * warning for a malformed queue file); nothing exits.
 */
#include "sys_defs.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <strings.h>

#include "bounce_notice.h"
#include "bounce_template.h"
#include "mail_date.h"
#include "mail_params.h"
#include "msg.h"
#include "mymalloc.h"
#include "rec_type.h"
#include "record.h"
#include "vstring.h"

#define BOUNCE_WRAP_WIDTH  76 /* text part lines */
#define BOUNCE_WRAP_INDENT 4

/* An empty list of entries. */
BOUNCE_ENTRIES *bounce_entries_create(void)
{
    BOUNCE_ENTRIES *list = mymalloc(sizeof(*list));

    list->len = 0;
    list->avail = 4;
    list->entry = mymalloc(list->avail * sizeof(*list->entry));
    return list;
}

/* Copy S, NULL counting as "". */
static char *bounce_dup(const char *s)
{
    return mystrdup(s ? s : "");
}

/* Append a copy of one recipient's result. */
void bounce_entries_add(BOUNCE_ENTRIES *list, const RECIPIENT *rcpt, const DSN *dsn, time_t when)
{
    BOUNCE_ENTRY *ep;

    if (list->len == list->avail) {
        list->avail *= 2;
        list->entry = myrealloc(list->entry, list->avail * sizeof(*list->entry));
    }
    ep = list->entry + list->len++;
    ep->rcpt.offset = rcpt->offset;
    ep->rcpt.dsn_notify = rcpt->dsn_notify;
    ep->rcpt.address = bounce_dup(rcpt->address);
    ep->rcpt.orig_addr = bounce_dup(rcpt->orig_addr);
    ep->rcpt.dsn_orcpt = bounce_dup(rcpt->dsn_orcpt);
    ep->dsn.status = bounce_dup(dsn->status);
    ep->dsn.action = bounce_dup(dsn->action);
    ep->dsn.reason = bounce_dup(dsn->reason);
    ep->dsn.dtype = bounce_dup(dsn->dtype);
    ep->dsn.dtext = bounce_dup(dsn->dtext);
    ep->dsn.mtype = bounce_dup(dsn->mtype);
    ep->dsn.mname = bounce_dup(dsn->mname);
    ep->log_time = when;
}

/* Free the list and its strings. */
void bounce_entries_free(BOUNCE_ENTRIES *list)
{
    for (int i = 0; i < list->len; i++) {
        BOUNCE_ENTRY *ep = list->entry + i;
        const char *strs[] = {ep->rcpt.address, ep->rcpt.orig_addr, ep->rcpt.dsn_orcpt, ep->dsn.status,
                              ep->dsn.action,   ep->dsn.reason,     ep->dsn.dtype,      ep->dsn.dtext,
                              ep->dsn.mtype,    ep->dsn.mname};

        for (size_t j = 0; j < ARRAY_LEN(strs); j++)
            myfree((void *)strs[j]);
    }
    myfree(list->entry);
    myfree(list);
}

/* Read the envelope up to the MESG record; 0 or -1 (malformed). */
int bounce_msg_scan(VSTREAM *fp, BOUNCE_MSG *msg)
{
    VSTRING *buf = vstring_alloc(100);
    struct stat st;
    int type;
    int ret = -1;

    msg->arrival = 0;
    msg->size = 0;
    while ((type = rec_get(fp, buf, 0)) >= 0) {
        if (type == REC_TYPE_SIZE) {
            msg->size = strtoll(vstring_str(buf), NULL, 10);
        } else if (type == REC_TYPE_TIME) {
            msg->arrival = (time_t)strtoll(vstring_str(buf), NULL, 10);
        } else if (type == REC_TYPE_MESG) {
            ret = 0;
            break;
        }
    }
    if (ret < 0)
        msg_warn("%s: no message content found", vstream_path(fp));
    if (msg->size == 0 && fstat(vstream_fileno(fp), &st) == 0)
        msg->size = (long long)st.st_size; /* a maildrop file has no SIZE record */
    vstring_free(buf);
    return ret;
}

/*
 * Fold TEXT into OUT at spaces so lines stay within WIDTH where possible;
 * continuation lines start with INDENT spaces. Lines are separated by
 * '\n' (the caller splits them). Words longer than a line stay whole.
 */
void bounce_wrap(VSTRING *out, const char *text, size_t width, size_t indent)
{
    size_t col = 0;
    const char *cp = text;

    vstring_truncate(out, 0);
    while (*cp) {
        const char *word = cp;
        size_t wlen;

        while (*cp && *cp != ' ')
            cp++;
        wlen = (size_t)(cp - word);
        if (col > 0 && col + 1 + wlen > width) {
            vstring_strcat(out, "\n");
            for (size_t i = 0; i < indent; i++)
                vstring_strcat(out, " ");
            col = indent;
        } else if (word != text) {
            vstring_strcat(out, " ");
            col++;
        }
        vstring_strncat(out, word, wlen);
        col += wlen;
        while (*cp == ' ')
            cp++;
    }
}

/* Output state of one notice. */
typedef struct BOUNCE_OUT {
    BOUNCE_PUT_FN put;
    void *ctx;
    int error;
    VSTRING *buf;
} BOUNCE_OUT;

/* One line. */
static void bounce_line(BOUNCE_OUT *out, const char *line)
{
    if (!out->error && out->put(out->ctx, line, strlen(line)) != 0)
        out->error = 1;
}

/* One formatted line. */
static void PRINTFLIKE(2, 3) bounce_printf(BOUNCE_OUT *out, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vstring_vsprintf(out->buf, fmt, ap);
    va_end(ap);
    if (!out->error && out->put(out->ctx, vstring_str(out->buf), VSTRING_LEN(out->buf)) != 0)
        out->error = 1;
}

/* Several lines separated by '\n'. */
static void bounce_lines(BOUNCE_OUT *out, const char *text)
{
    const char *nl;

    while ((nl = strchr(text, '\n')) != NULL) {
        if (!out->error && out->put(out->ctx, text, (size_t)(nl - text)) != 0)
            out->error = 1;
        text = nl + 1;
    }
    bounce_line(out, text);
}

/* The Subject: of a notice. */
static const char *bounce_subject(const BOUNCE_NOTICE *notice)
{
    const BOUNCE_TEMPLATE *tp = bounce_template_get(notice->kind);

    return notice->postmaster && tp->pm_subject ? tp->pm_subject : tp->subject;
}

/* The template's From: with @$myorigin added to an address without domain. */
static const char *bounce_from(VSTRING *buf, const BOUNCE_NOTICE *notice)
{
    const char *from = bounce_template_get(notice->kind)->from;
    const char *lt = strchr(from, '<');
    const char *gt = lt ? strchr(lt, '>') : NULL;

    if (lt && gt && memchr(lt, '@', (size_t)(gt - lt)) == NULL)
        vstring_sprintf(buf, "%.*s@%s%s", (int)(gt - from), from, var_myorigin, gt);
    else if (lt == NULL && strchr(from, '@') == NULL && strchr(from, ' ') == NULL)
        vstring_sprintf(buf, "%s@%s", from, var_myorigin);
    else
        vstring_strcpy(buf, from);
    return vstring_str(buf);
}

/* The charset of part 1: us-ascii templates are sent as utf-8 with SMTPUTF8 on, as Postfix does. */
static const char *bounce_charset(const BOUNCE_NOTICE *notice)
{
    const char *charset = bounce_template_get(notice->kind)->charset;

    return strcasecmp(charset, "us-ascii") == 0 && var_smtputf8_enable ? "utf-8" : charset;
}

/* The template text of part 1 (nothing for postmaster copies). */
static void bounce_template(BOUNCE_OUT *out, const BOUNCE_NOTICE *notice)
{
    VSTRING *text;

    if (notice->postmaster)
        return;
    text = vstring_alloc(1000);
    bounce_template_expand(text, bounce_template_get(notice->kind)->text);
    bounce_lines(out, vstring_str(text));
    vstring_free(text);
}

/* Part 1: the per-recipient paragraphs. */
static void bounce_text_recipients(BOUNCE_OUT *out, const BOUNCE_ENTRIES *entries)
{
    VSTRING *line = vstring_alloc(100);
    VSTRING *wrapped = vstring_alloc(100);

    for (int i = 0; i < entries->len; i++) {
        const BOUNCE_ENTRY *ep = entries->entry + i;

        bounce_line(out, "");
        if (*ep->rcpt.orig_addr && strcmp(ep->rcpt.orig_addr, ep->rcpt.address) != 0)
            vstring_sprintf(line, "<%s> (expanded from <%s>): %s", ep->rcpt.address, ep->rcpt.orig_addr,
                            ep->dsn.reason);
        else
            vstring_sprintf(line, "<%s>: %s", ep->rcpt.address, ep->dsn.reason);
        bounce_wrap(wrapped, vstring_str(line), BOUNCE_WRAP_WIDTH, BOUNCE_WRAP_INDENT);
        bounce_lines(out, vstring_str(wrapped));
    }
    vstring_free(line);
    vstring_free(wrapped);
}

/* Part 2: the message/delivery-status fields. */
static void bounce_status_part(BOUNCE_OUT *out, const BOUNCE_NOTICE *notice, const BOUNCE_ENTRIES *entries)
{
    VSTRING *date = vstring_alloc(100);

    if (notice->envid && *notice->envid)
        bounce_printf(out, "Original-Envelope-Id: %s", notice->envid);
    bounce_printf(out, "Reporting-MTA: dns; %s", var_myhostname);
    bounce_printf(out, "X-Postfix-Queue-ID: %s", notice->queue_id);
    bounce_printf(out, "X-Postfix-Sender: rfc822; %s", notice->sender);
    bounce_printf(out, "Arrival-Date: %s", mail_date(date, notice->arrival));
    for (int i = 0; i < entries->len; i++) {
        const BOUNCE_ENTRY *ep = entries->entry + i;

        bounce_line(out, "");
        bounce_printf(out, "Final-Recipient: rfc822; %s", ep->rcpt.address);
        if (*ep->rcpt.dsn_orcpt)
            bounce_printf(out, "Original-Recipient: %s", ep->rcpt.dsn_orcpt);
        else if (*ep->rcpt.orig_addr)
            bounce_printf(out, "Original-Recipient: rfc822;%s", ep->rcpt.orig_addr);
        bounce_printf(out, "Action: %s", ep->dsn.action);
        bounce_printf(out, "Status: %s", ep->dsn.status);
        if (*ep->dsn.mname)
            bounce_printf(out, "Remote-MTA: %s; %s", *ep->dsn.mtype ? ep->dsn.mtype : "dns", ep->dsn.mname);
        if (*ep->dsn.dtype && *ep->dsn.dtext)
            bounce_printf(out, "Diagnostic-Code: %s; %s", ep->dsn.dtype, ep->dsn.dtext);
        else if (*ep->dsn.reason)
            bounce_printf(out, "Diagnostic-Code: X-Postfix; %s", ep->dsn.reason);
        if (notice->kind == BOUNCE_KIND_DELAY)
            bounce_printf(out, "Will-Retry-Until: %s",
                          mail_date(date, notice->arrival + (time_t)var_maximal_queue_lifetime));
    }
    vstring_free(date);
}

/*
 * Part 3: the original content from MSG_FP (after bounce_msg_scan()),
 * lines joined from CONT records, up to the first empty line when only
 * the headers are wanted. -1 on a malformed file.
 */
static int bounce_original(BOUNCE_OUT *out, const BOUNCE_NOTICE *notice, VSTREAM *msg_fp)
{
    VSTRING *buf = vstring_alloc(100);
    VSTRING *line = vstring_alloc(100);
    int type;
    int ret = -1;

    bounce_printf(out, "Return-Path: <%s>", notice->sender);
    while ((type = rec_get(msg_fp, buf, 0)) >= 0) {
        if (type == REC_TYPE_CONT) {
            vstring_memcat(line, vstring_str(buf), VSTRING_LEN(buf));
        } else if (type == REC_TYPE_NORM) {
            vstring_memcat(line, vstring_str(buf), VSTRING_LEN(buf));
            if (notice->headers_only && VSTRING_LEN(line) == 0) {
                ret = 0;
                break;
            }
            if (!out->error && out->put(out->ctx, vstring_str(line), VSTRING_LEN(line)) != 0)
                out->error = 1;
            vstring_truncate(line, 0);
        } else if (type == REC_TYPE_XTRA) {
            ret = 0;
            break;
        } else {
            break;
        }
    }
    if (ret < 0)
        msg_warn("%s: malformed message content", vstream_path(msg_fp));
    vstring_free(buf);
    vstring_free(line);
    return ret;
}

/* Write one notice; see bounce_notice.h. */
int bounce_notice_write(const BOUNCE_NOTICE *notice, const BOUNCE_ENTRIES *entries, VSTREAM *msg_fp,
                        BOUNCE_PUT_FN put, void *ctx)
{
    BOUNCE_OUT out = {put, ctx, 0, vstring_alloc(100)};
    VSTRING *date = vstring_alloc(100);
    VSTRING *boundary = vstring_alloc(100);
    VSTRING *from = vstring_alloc(100);
    bool headers_only = notice->headers_only || notice->kind != BOUNCE_KIND_FAILURE;
    int ret = 0;

    vstring_sprintf(boundary, "%s.%lld/%s", notice->queue_id, (long long)notice->now, var_myhostname);
    mail_date(date, notice->now);

    /* The header. */
    bounce_printf(&out, "Received: by %s (%s)", var_myhostname, var_mail_name);
    bounce_printf(&out, "\tid %s; %s", notice->notice_id, vstring_str(date));
    bounce_printf(&out, "Date: %s", vstring_str(date));
    bounce_printf(&out, "From: %s", bounce_from(from, notice));
    bounce_printf(&out, "Subject: %s", bounce_subject(notice));
    bounce_printf(&out, "To: %s", notice->to);
    bounce_printf(&out, "Auto-Submitted: %s", notice->postmaster ? "auto-generated" : "auto-replied");
    bounce_line(&out, "MIME-Version: 1.0");
    bounce_line(&out, "Content-Type: multipart/report; report-type=delivery-status;");
    bounce_printf(&out, "\tboundary=\"%s\"", vstring_str(boundary));
    bounce_line(&out, "Content-Transfer-Encoding: 8bit");
    bounce_line(&out, "");
    bounce_line(&out, "This is a MIME-encapsulated message.");
    bounce_line(&out, "");

    /* Part 1. */
    bounce_printf(&out, "--%s", vstring_str(boundary));
    bounce_line(&out, "Content-Description: Notification");
    bounce_printf(&out, "Content-Type: text/plain; charset=%s", bounce_charset(notice));
    bounce_line(&out, "Content-Transfer-Encoding: 8bit");
    bounce_line(&out, "");
    bounce_template(&out, notice);
    bounce_text_recipients(&out, entries);
    bounce_line(&out, "");

    /* Part 2. */
    bounce_printf(&out, "--%s", vstring_str(boundary));
    bounce_line(&out, "Content-Description: Delivery report");
    bounce_line(&out, "Content-Type: message/delivery-status");
    bounce_line(&out, "");
    bounce_status_part(&out, notice, entries);
    bounce_line(&out, "");

    /* Part 3. */
    if (msg_fp != NULL) {
        const char *descr;

        if (notice->kind == BOUNCE_KIND_SUCCESS || notice->kind == BOUNCE_KIND_VERIFY)
            descr = "Message Headers";
        else
            descr = headers_only ? "Undelivered Message Headers" : "Undelivered Message";
        bounce_printf(&out, "--%s", vstring_str(boundary));
        bounce_printf(&out, "Content-Description: %s", descr);
        bounce_printf(&out, "Content-Type: %s", headers_only ? "text/rfc822-headers" : "message/rfc822");
        bounce_line(&out, "Content-Transfer-Encoding: 8bit");
        bounce_line(&out, "");
        BOUNCE_NOTICE copy = *notice;

        copy.headers_only = headers_only;
        if (bounce_original(&out, &copy, msg_fp) < 0)
            ret = -1;
        bounce_line(&out, "");
    }
    bounce_printf(&out, "--%s--", vstring_str(boundary));
    if (out.error)
        ret = -1;
    vstring_free(out.buf);
    vstring_free(date);
    vstring_free(boundary);
    vstring_free(from);
    return ret;
}
