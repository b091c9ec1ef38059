/*
 * showq_log - read the reasons of a defer log for the queue listing. See
 * showq_log.h; the file format is documented in bounce_log.h.
 *
 * Public function: showq_log_reasons().
 *
 * Errors: an unreadable log is a warning and adds nothing.
 */
#include "sys_defs.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>

#include "mail_queue.h"
#include "msg.h"
#include "mymalloc.h"
#include "showq_log.h"
#include "vstream.h"
#include "vstring.h"

/* Longest log line we accept. */
#define SHOWQ_LOG_LINE_MAX 100000

/* Remember one finished entry. */
static void showq_log_entry(const char *path, HTABLE *table, VSTRING *rcpt, VSTRING *why, bool have_status,
                            bool any)
{
    HTABLE_INFO *ht;

    if (!any)
        return;
    if (VSTRING_LEN(rcpt) == 0 || !have_status) {
        msg_warn("%s: skipping entry without recipient or status", path);
        return;
    }
    if ((ht = htable_locate(table, vstring_str(rcpt))) != NULL) {
        myfree(ht->value);
        ht->value = mystrdup(vstring_str(why));
    } else {
        htable_enter(table, vstring_str(rcpt), mystrdup(vstring_str(why)));
    }
}

/* Enter recipient -> reason for each entry of defer/ID. */
void showq_log_reasons(const char *id, HTABLE *table)
{
    VSTRING *path = vstring_alloc(100);
    VSTRING *line = vstring_alloc(100);
    VSTRING *rcpt = vstring_alloc(100);
    VSTRING *why = vstring_alloc(100);
    bool have_status = false;
    bool any = false;
    VSTREAM *fp;

    mail_queue_path(path, MAIL_QUEUE_DEFER, id, false);
    if ((fp = vstream_fopen(vstring_str(path), O_RDONLY, 0)) == NULL) {
        if (errno != ENOENT)
            msg_warn("open %s: %m", vstring_str(path));
    } else {
        VSTRING *rest = vstring_alloc(100);
        int status;

        while ((status = vstream_fgets_nonl_limit(line, fp, SHOWQ_LOG_LINE_MAX)) != VSTREAM_LINE_EOF) {
            const char *text = vstring_str(line);
            const char *eq = strchr(text, '=');

            if (status == VSTREAM_LINE_PARTIAL)
                break; /* a last entry still being appended */
            if (status == VSTREAM_LINE_LIMIT) {
                while (vstream_fgets_nonl_limit(rest, fp, SHOWQ_LOG_LINE_MAX) == VSTREAM_LINE_LIMIT)
                    continue; /* keep the start of an over-long value */
            }

            if (*text == 0) {
                showq_log_entry(vstring_str(path), table, rcpt, why, have_status, any);
                vstring_reset(rcpt);
                vstring_reset(why);
                have_status = any = false;
                continue;
            }
            any = true;
            if (eq == NULL)
                continue; /* not name=value: ignored like unknown names */
            if (eq - text == 9 && strncmp(text, "recipient", 9) == 0)
                vstring_strcpy(rcpt, eq + 1);
            else if (eq - text == 6 && strncmp(text, "reason", 6) == 0)
                vstring_strcpy(why, eq + 1);
            else if (eq - text == 6 && strncmp(text, "status", 6) == 0)
                have_status = eq[1] != 0;
        }
        /* A last entry without its empty line is still being appended. */
        vstring_free(rest);
        if (vstream_ferror(fp))
            msg_warn("read %s: %m", vstring_str(path));
        vstream_fclose(fp);
    }
    vstring_free(path);
    vstring_free(line);
    vstring_free(rcpt);
    vstring_free(why);
}
