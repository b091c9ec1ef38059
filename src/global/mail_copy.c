/*
 * mail_copy - copy a queued message to a mailbox, a file or a command's
 * input. See mail_copy.h.
 *
 * The content records are read one by one; a line may arrive as several
 * L records followed by one N record. Line-start decisions (">From ",
 * dot stuffing) need the first five bytes of a line, so a line start
 * shorter than that is held back until the line has enough bytes or ends.
 *
 * Errors: the MAIL_COPY_STAT_* bits with why set (see mail_copy.h).
 */
#include "sys_defs.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "dsn.h"
#include "mail_copy.h"
#include "msg.h"
#include "rec_type.h"
#include "record.h"
#include "stringops.h"
#include "vstream.h"
#include "vstring.h"

#define MAIL_COPY_NULL_SENDER "MAILER-DAEMON"
#define MAIL_COPY_QUOTE_LEN   5 /* strlen("From ") */

/* Where we are in the current output line. */
typedef struct MAIL_COPY_LINE {
    VSTRING *start; /* held-back bytes at the start of a line */
    bool at_start;  /* no byte of this line written yet */
} MAIL_COPY_LINE;

/* The status for a write error with this errno. */
static const char *mail_copy_write_dsn(int err)
{
    return err == EFBIG || err == EDQUOT ? "5.2.2" : "4.3.0";
}

/* Write the envelope lines that go before the content. */
static void mail_copy_prepend(const char *sender, const char *orig_rcpt, const char *delivered, VSTREAM *dst,
                              int flags, const char *eol)
{
    if (flags & MAIL_COPY_FROM) {
        time_t now = time(NULL);
        struct tm tm;
        char date[64];

        /* asctime_r() gives "Sat Nov 21 10:00:00 2026\n"; the newline becomes eol. */
        if (localtime_r(&now, &tm) == NULL || asctime_r(&tm, date) == NULL)
            date[0] = 0;
        date[strcspn(date, "\n")] = 0;
        vstream_fprintf(dst, "From %s  %s%s", *sender ? sender : MAIL_COPY_NULL_SENDER, date, eol);
    }
    if (flags & MAIL_COPY_RETURN_PATH)
        vstream_fprintf(dst, "Return-Path: <%s>%s", sender, eol);
    if ((flags & MAIL_COPY_ORIG_RCPT) && orig_rcpt && *orig_rcpt)
        vstream_fprintf(dst, "X-Original-To: %s%s", orig_rcpt, eol);
    if ((flags & MAIL_COPY_DELIVERED) && delivered && *delivered) {
        VSTRING *buf = vstring_strcpy(vstring_alloc(100), delivered);

        vstream_fprintf(dst, "Delivered-To: %s%s", lowercase(vstring_str(buf)), eol);
        vstring_free(buf);
    }
}

/* Write the start of a line with its quoting, then forget it. */
static void mail_copy_line_start(MAIL_COPY_LINE *line, VSTREAM *dst, int flags)
{
    const char *data = vstring_str(line->start);
    size_t len = VSTRING_LEN(line->start);

    if ((flags & MAIL_COPY_QUOTE) && len >= MAIL_COPY_QUOTE_LEN && strncmp(data, "From ", 5) == 0)
        vstream_putc('>', dst);
    else if ((flags & MAIL_COPY_DOT) && len > 0 && data[0] == '.')
        vstream_putc('.', dst);
    vstream_fwrite(dst, data, len);
    vstring_truncate(line->start, 0);
    line->at_start = false;
}

/* Copy one content record; N ends the line. */
static void mail_copy_record(MAIL_COPY_LINE *line, VSTREAM *dst, int type, const VSTRING *buf, int flags,
                             const char *eol)
{
    const char *data = vstring_str(buf);
    size_t len = VSTRING_LEN(buf);

    if (line->at_start) {
        size_t need = MAIL_COPY_QUOTE_LEN - VSTRING_LEN(line->start);
        size_t take = len < need ? len : need;

        vstring_memcat(line->start, data, take);
        data += take;
        len -= take;
        if (VSTRING_LEN(line->start) >= MAIL_COPY_QUOTE_LEN || type == REC_TYPE_NORM)
            mail_copy_line_start(line, dst, flags);
    }
    if (len > 0)
        vstream_fwrite(dst, data, len);
    if (type == REC_TYPE_NORM) {
        vstream_fputs(eol, dst);
        line->at_start = true;
    }
}

/* Copy the content records up to XTRA; returns MAIL_COPY_STAT_* bits. */
static int mail_copy_content(VSTREAM *src, VSTREAM *dst, int flags, const char *eol, DSN_BUF *why)
{
    VSTRING *buf = vstring_alloc(1000);
    MAIL_COPY_LINE line = {.start = vstring_alloc(10), .at_start = true};
    int status = MAIL_COPY_STAT_OK;
    bool first = true;
    int type;

    for (;;) {
        type = rec_get(src, buf, 0);
        /* Callers may leave the file at the MESG record or just after it. */
        if (first && type == REC_TYPE_MESG) {
            first = false;
            continue;
        }
        first = false;
        if (type != REC_TYPE_NORM && type != REC_TYPE_CONT)
            break;
        mail_copy_record(&line, dst, type, buf, flags, eol);
        if (vstream_ferror(dst))
            break;
    }
    if (vstream_ferror(dst)) {
        /* Reported below, after the flush. */
    } else if (type == REC_TYPE_ERROR && vstream_ferror(src)) {
        status = MAIL_COPY_STAT_READ;
        errno = vstream_errno(src);
        dsb_simple(why, "4.3.0", "error reading message: %m");
    } else if (type != REC_TYPE_XTRA) {
        status = MAIL_COPY_STAT_CORRUPT;
        dsb_simple(why, "5.3.0", "queue file is corrupt");
    } else if (VSTRING_LEN(line.start) > 0 || !line.at_start) {
        /* A last line that ends in L records only: end it like any other. */
        if (VSTRING_LEN(line.start) > 0)
            mail_copy_line_start(&line, dst, flags);
        vstream_fputs(eol, dst);
    }
    if (status == MAIL_COPY_STAT_OK && (flags & MAIL_COPY_BLANK))
        vstream_fputs(eol, dst);
    vstring_free(line.start);
    vstring_free(buf);
    return status;
}

/* Copy a message to dst; see mail_copy.h. */
int mail_copy(const char *sender, const char *orig_rcpt, const char *delivered, VSTREAM *src,
              off_t src_offset, VSTREAM *dst, int flags, const char *eol, DSN_BUF *why)
{
    struct sigaction ign = {.sa_handler = SIG_IGN};
    struct sigaction saved;
    int status;

    if (eol == NULL)
        eol = "\n";
    if (sender == NULL)
        sender = "";
    dsb_reset(why);
    if (src_offset >= 0 && vstream_fseek(src, src_offset, SEEK_SET) < 0) {
        dsb_simple(why, "4.3.0", "error reading message: seek queue file: %m");
        return MAIL_COPY_STAT_READ;
    }

    /* Over the file size limit, write() must fail with EFBIG instead of killing us. */
    sigemptyset(&ign.sa_mask);
    if (flags & MAIL_COPY_TOFILE)
        (void)sigaction(SIGXFSZ, &ign, &saved);

    mail_copy_prepend(sender, orig_rcpt, delivered, dst, flags, eol);
    status = mail_copy_content(src, dst, flags, eol, why);
    int write_err = 0;

    if (vstream_fflush(dst) != 0 || vstream_ferror(dst))
        write_err = vstream_errno(dst) ? vstream_errno(dst) : EIO;
    else if ((flags & MAIL_COPY_TOFILE) && fsync(vstream_fileno(dst)) < 0)
        write_err = errno;
    if (write_err) {
        errno = write_err;
        dsb_simple(why, mail_copy_write_dsn(write_err), "error writing message: %m");
        status |= MAIL_COPY_STAT_WRITE;
    }

    if (flags & MAIL_COPY_TOFILE)
        (void)sigaction(SIGXFSZ, &saved, NULL);
    /* pipe_command() tells a command that stopped reading (EPIPE) from other errors. */
    if (write_err)
        errno = write_err;
    return status;
}
