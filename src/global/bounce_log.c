/*
 * bounce_log - read and append the per-message logs bounce/ID, defer/ID
 * and trace/ID (format in bounce_log.h: "name=value" lines, one empty
 * line after each entry).
 *
 * Public functions: bounce_log_open(), bounce_log_read(),
 * bounce_log_rewind(), bounce_log_close(), bounce_log_append().
 *
 * Errors: bounce_log_open() returns NULL with errno; bounce_log_read()
 * returns NULL at the end of the file or on a read error; an entry
 * without recipient or status is skipped with a warning naming the file;
 * bounce_log_append() returns -1 when the stream fails.
 */
#include "sys_defs.h"

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>

#include "bounce_log.h"
#include "mail_queue.h"
#include "msg.h"
#include "mymalloc.h"

#define BOUNCE_LOG_LINE_LIMIT 100000 /* longest line a reader accepts */

/* Open QUEUE/ID; NULL with errno when it cannot be opened. */
BOUNCE_LOG *bounce_log_open(const char *queue, const char *id, int flags, mode_t mode)
{
    VSTREAM *fp = mail_queue_open(queue, id, flags, mode);
    BOUNCE_LOG *bp;

    if (fp == NULL)
        return NULL;
    bp = mymalloc(sizeof(*bp));
    memset(bp, 0, sizeof(*bp));
    bp->fp = fp;
    bp->buf = vstring_alloc(100);
    bp->rcpt_buf = vstring_alloc(100);
    bp->orig_buf = vstring_alloc(100);
    bp->orcpt_buf = vstring_alloc(100);
    bp->dsb = dsb_create();
    return bp;
}

/* Forget the fields of the entry being read. */
static void bounce_log_clear(BOUNCE_LOG *bp, bool *have_rcpt)
{
    vstring_truncate(bp->rcpt_buf, 0);
    vstring_truncate(bp->orig_buf, 0);
    vstring_truncate(bp->orcpt_buf, 0);
    dsb_reset(bp->dsb);
    bp->rcpt.offset = 0;
    bp->rcpt.dsn_notify = 0;
    bp->log_time = 0;
    *have_rcpt = false;
}

/* Store one "name=value" line of an entry; unknown names are ignored. */
static void bounce_log_field(BOUNCE_LOG *bp, const char *name, const char *value, bool *have_rcpt)
{
    static const struct {
        const char *name;
        size_t offset;
    } dsn_fields[] = {
        {"status", offsetof(DSN_BUF, status)},   {"action", offsetof(DSN_BUF, action)},
        {"reason", offsetof(DSN_BUF, reason)},   {"diag_type", offsetof(DSN_BUF, dtype)},
        {"diag_text", offsetof(DSN_BUF, dtext)}, {"mta_type", offsetof(DSN_BUF, mtype)},
        {"mta_name", offsetof(DSN_BUF, mname)},
    };

    if (strcmp(name, "recipient") == 0) {
        vstring_strcpy(bp->rcpt_buf, value);
        *have_rcpt = true;
    } else if (strcmp(name, "original_recipient") == 0) {
        vstring_strcpy(bp->orig_buf, value);
    } else if (strcmp(name, "dsn_orig_rcpt") == 0) {
        vstring_strcpy(bp->orcpt_buf, value);
    } else if (strcmp(name, "offset") == 0) {
        bp->rcpt.offset = strtol(value, NULL, 10);
    } else if (strcmp(name, "dsn_notify") == 0) {
        bp->rcpt.dsn_notify = (int)strtol(value, NULL, 10);
    } else if (strcmp(name, "log_time") == 0) {
        bp->log_time = (time_t)strtoll(value, NULL, 10);
    } else {
        for (size_t i = 0; i < ARRAY_LEN(dsn_fields); i++) {
            if (strcmp(name, dsn_fields[i].name) == 0) {
                vstring_strcpy(*(VSTRING **)((char *)bp->dsb + dsn_fields[i].offset), value);
                break;
            }
        }
    }
}

/* The next complete entry, or NULL at the end; see bounce_log.h. */
BOUNCE_LOG *bounce_log_read(BOUNCE_LOG *bp)
{
    bool have_rcpt = false;
    bool in_entry = false;
    int ret;

    bounce_log_clear(bp, &have_rcpt);
    for (;;) {
        ret = vstream_fgets_nonl_limit(bp->buf, bp->fp, BOUNCE_LOG_LINE_LIMIT);
        if (ret == VSTREAM_LINE_LIMIT) {
            /* Drop the rest of an over-long line; the entry stays usable. */
            while ((ret = vstream_fgets_nonl_limit(bp->buf, bp->fp, BOUNCE_LOG_LINE_LIMIT)) ==
                   VSTREAM_LINE_LIMIT)
                ;
            msg_warn("%s: over-long line ignored", vstream_path(bp->fp));
            continue;
        }
        if (ret == VSTREAM_LINE_EOF || VSTRING_LEN(bp->buf) == 0) {
            if (in_entry) {
                if (have_rcpt && VSTRING_LEN(bp->dsb->status) > 0) {
                    bp->rcpt.address = vstring_str(bp->rcpt_buf);
                    bp->rcpt.orig_addr = vstring_str(bp->orig_buf);
                    bp->rcpt.dsn_orcpt = vstring_str(bp->orcpt_buf);
                    dsn_from_buf(&bp->dsn, bp->dsb);
                    return bp;
                }
                msg_warn("%s: entry without recipient or status skipped", vstream_path(bp->fp));
                bounce_log_clear(bp, &have_rcpt);
                in_entry = false;
            }
            if (ret == VSTREAM_LINE_EOF)
                return NULL;
            continue;
        }
        in_entry = true;
        char *line = vstring_str(bp->buf);
        char *eq = strchr(line, '=');

        if (eq == NULL)
            continue; /* not name=value: ignored like an unknown name */
        *eq = 0;
        bounce_log_field(bp, line, eq + 1, &have_rcpt);
        if (ret == VSTREAM_LINE_PARTIAL) {
            /* A last entry cut short (writer died mid-entry): skipped. */
            msg_warn("%s: incomplete last entry skipped", vstream_path(bp->fp));
            return NULL;
        }
    }
}

/* Start reading from the first entry again. */
void bounce_log_rewind(BOUNCE_LOG *bp)
{
    vstream_clearerr(bp->fp);
    (void)vstream_fseek(bp->fp, 0, SEEK_SET);
}

/* Close the log and free BP; the vstream_fclose() result. */
int bounce_log_close(BOUNCE_LOG *bp)
{
    int ret = vstream_fclose(bp->fp);

    vstring_free(bp->buf);
    vstring_free(bp->rcpt_buf);
    vstring_free(bp->orig_buf);
    vstring_free(bp->orcpt_buf);
    dsb_free(bp->dsb);
    myfree(bp);
    return ret;
}

/* Write "name=value\n" with CR and LF in VALUE replaced by spaces. */
static void bounce_log_put(VSTREAM *fp, const char *name, const char *value)
{
    vstream_fputs(name, fp);
    vstream_putc('=', fp);
    for (const char *cp = value ? value : ""; *cp; cp++)
        vstream_putc(*cp == '\r' || *cp == '\n' ? ' ' : *cp, fp);
    vstream_putc('\n', fp);
}

/* Append one entry to FP (no locking, no flushing); 0 or -1. */
int bounce_log_append(VSTREAM *fp, const RECIPIENT *rcpt, const DSN *dsn, time_t when)
{
    char num[64];

    bounce_log_put(fp, "recipient", rcpt->address);
    bounce_log_put(fp, "original_recipient", rcpt->orig_addr);
    snprintf(num, sizeof(num), "%ld", rcpt->offset);
    bounce_log_put(fp, "offset", num);
    bounce_log_put(fp, "dsn_orig_rcpt", rcpt->dsn_orcpt);
    snprintf(num, sizeof(num), "%d", rcpt->dsn_notify);
    bounce_log_put(fp, "dsn_notify", num);
    bounce_log_put(fp, "status", dsn->status);
    bounce_log_put(fp, "action", dsn->action);
    bounce_log_put(fp, "reason", dsn->reason);
    bounce_log_put(fp, "diag_type", dsn->dtype);
    bounce_log_put(fp, "diag_text", dsn->dtext);
    bounce_log_put(fp, "mta_type", dsn->mtype);
    bounce_log_put(fp, "mta_name", dsn->mname);
    snprintf(num, sizeof(num), "%lld", (long long)when);
    bounce_log_put(fp, "log_time", num);
    vstream_putc('\n', fp);
    return vstream_ferror(fp) ? -1 : 0;
}
