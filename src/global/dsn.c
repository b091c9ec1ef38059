/*
 * dsn - delivery status buffers and RFC 3463 status parsing. See dsn.h.
 */
#include "sys_defs.h"

#include <ctype.h>
#include <stdarg.h>
#include <string.h>

#include "dsn.h"
#include "mymalloc.h"

/* A new DSN_BUF with every field empty. */
DSN_BUF *dsb_create(void)
{
    DSN_BUF *dsb = (DSN_BUF *)mymalloc(sizeof(*dsb));

    dsb->status = vstring_alloc(10);
    dsb->action = vstring_alloc(10);
    dsb->reason = vstring_alloc(100);
    dsb->dtype = vstring_alloc(10);
    dsb->dtext = vstring_alloc(100);
    dsb->mtype = vstring_alloc(10);
    dsb->mname = vstring_alloc(100);
    return dsb;
}

/* Free a DSN_BUF. */
void dsb_free(DSN_BUF *dsb)
{
    vstring_free(dsb->status);
    vstring_free(dsb->action);
    vstring_free(dsb->reason);
    vstring_free(dsb->dtype);
    vstring_free(dsb->dtext);
    vstring_free(dsb->mtype);
    vstring_free(dsb->mname);
    myfree(dsb);
}

/* Empty every field. */
DSN_BUF *dsb_reset(DSN_BUF *dsb)
{
    vstring_truncate(dsb->status, 0);
    vstring_truncate(dsb->action, 0);
    vstring_truncate(dsb->reason, 0);
    vstring_truncate(dsb->dtype, 0);
    vstring_truncate(dsb->dtext, 0);
    vstring_truncate(dsb->mtype, 0);
    vstring_truncate(dsb->mname, 0);
    return dsb;
}

/* Status and formatted reason; the other fields emptied. */
static DSN_BUF *dsb_vformat(DSN_BUF *dsb, const char *status, const char *fmt, va_list ap)
{
    dsb_reset(dsb);
    vstring_strcpy(dsb->status, status);
    vstring_vsprintf(dsb->reason, fmt, ap);
    return dsb;
}

/* Status and reason only. */
DSN_BUF *dsb_simple(DSN_BUF *dsb, const char *status, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    dsb_vformat(dsb, status, fmt, ap);
    va_end(ap);
    return dsb;
}

/* Status and reason, diagnostic "x-unix; REASON". */
DSN_BUF *dsb_unix(DSN_BUF *dsb, const char *status, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    dsb_vformat(dsb, status, fmt, ap);
    va_end(ap);
    vstring_strcpy(dsb->dtype, "x-unix");
    vstring_strcpy(dsb->dtext, vstring_str(dsb->reason));
    return dsb;
}

/* Status and reason, diagnostic "smtp; REPLY", remote MTA "dns; MTA". */
DSN_BUF *dsb_smtp(DSN_BUF *dsb, const char *status, const char *reply, const char *mta, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    dsb_vformat(dsb, status, fmt, ap);
    va_end(ap);
    vstring_strcpy(dsb->dtype, "smtp");
    vstring_strcpy(dsb->dtext, reply);
    if (mta && *mta) {
        vstring_strcpy(dsb->mtype, "dns");
        vstring_strcpy(dsb->mname, mta);
    }
    return dsb;
}

/* Set the action. */
DSN_BUF *dsb_action(DSN_BUF *dsb, const char *action)
{
    vstring_strcpy(dsb->action, action);
    return dsb;
}

/* A read-only view of a DSN_BUF. */
DSN *dsn_from_buf(DSN *dsn, const DSN_BUF *dsb)
{
    dsn->status = vstring_str(dsb->status);
    dsn->action = vstring_str(dsb->action);
    dsn->reason = vstring_str(dsb->reason);
    dsn->dtype = vstring_str(dsb->dtype);
    dsn->dtext = vstring_str(dsb->dtext);
    dsn->mtype = vstring_str(dsb->mtype);
    dsn->mname = vstring_str(dsb->mname);
    return dsn;
}

/* Copy a DSN view into a DSN_BUF (NULL fields become empty). */
DSN_BUF *dsb_from_dsn(DSN_BUF *dsb, const DSN *dsn)
{
#define DSB_COPY(f) vstring_strcpy(dsb->f, dsn->f ? dsn->f : "")
    DSB_COPY(status);
    DSB_COPY(action);
    DSB_COPY(reason);
    DSB_COPY(dtype);
    DSB_COPY(dtext);
    DSB_COPY(mtype);
    DSB_COPY(mname);
    return dsb;
}

/* Count 1..max digits at *cp; 0 when there are none or too many. */
static size_t dsn_digits(const char *cp, size_t max)
{
    size_t n = 0;

    while (isdigit((unsigned char)cp[n]))
        n++;
    return n > max ? 0 : n;
}

/* Length of an RFC 3463 status at the start of TEXT, or 0. */
size_t dsn_status_len(const char *text)
{
    const char *cp = text;
    size_t n;

    if (*cp != '2' && *cp != '4' && *cp != '5')
        return 0;
    if (cp[1] != '.')
        return 0;
    cp += 2;
    if ((n = dsn_digits(cp, 3)) == 0 || cp[n] != '.')
        return 0;
    cp += n + 1;
    if ((n = dsn_digits(cp, 3)) == 0)
        return 0;
    cp += n;
    if (*cp != 0 && *cp != ' ')
        return 0;
    return (size_t)(cp - text);
}

/* Split "X.Y.Z text" into status and reason, with a default status. */
void dsn_split(VSTRING *status, VSTRING *reason, const char *text, const char *default_status)
{
    size_t len = dsn_status_len(text);

    if (len == 0) {
        vstring_strcpy(status, default_status);
        vstring_strcpy(reason, text);
        return;
    }
    vstring_strncpy(status, text, len);
    if (*default_status && vstring_str(status)[0] != default_status[0])
        vstring_str(status)[0] = default_status[0];
    text += len;
    while (*text == ' ')
        text++;
    vstring_strcpy(reason, text);
}
