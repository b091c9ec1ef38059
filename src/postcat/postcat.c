/*
 * postcat - show queue file contents in human-readable form (postcat(1)).
 *
 *   postcat [-bdefhoqrv] [-c config_dir] [-s offset] [files...]
 *
 * Reads the named files (standard input if none) as queue files, or with
 * -q searches the queue for the named queue IDs (maildrop, incoming,
 * active, deferred, hold, saved; hashed paths included). -e shows the
 * envelope and extracted records with the "*** ... ***" segment markers,
 * -h the message headers, -b the body (from the first non-header line);
 * the default is -beh. -o prefixes each record with its file offset, -d
 * with its decimal record type, -f each output line with the file name.
 * -s starts at the given offset. -r (file order) is accepted: Postern's
 * queue files have no pointer records, so records are always shown in
 * file order. The output layout and record names follow Postfix's postcat.
 *
 * Errors, on stderr as "postcat: ...": a file that cannot be opened or a
 * queue ID not found is fatal ("fatal: open queue file ID: No such file or
 * directory", "fatal: bad mail queue ID: X"); a file that does not start
 * with a size record gets "warning: PATH: input is not a valid queue file"
 * and is skipped; a damaged record (truncation, bad length, unknown type)
 * gets a warning naming it and then "fatal: record read error" (exit 1).
 */
#include "sys_defs.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "mail_conf.h"
#include "mail_params.h"
#include "mail_params_init.h"
#include "mail_queue.h"
#include "msg.h"
#include "msg_stderr.h"
#include "mymalloc.h"
#include "rec_type.h"
#include "record.h"
#include "vstream.h"
#include "vstring.h"

#define PC_FLAG_ENV    (1 << 0) /* -e */
#define PC_FLAG_HEAD   (1 << 1) /* -h */
#define PC_FLAG_BODY   (1 << 2) /* -b */
#define PC_FLAG_OFFSET (1 << 3) /* -o */
#define PC_FLAG_DEC    (1 << 4) /* -d */
#define PC_FLAG_FNAME  (1 << 5) /* -f */
#define PC_FLAG_QUEUE  (1 << 6) /* -q */

#define PC_FLAG_CONTENT (PC_FLAG_ENV | PC_FLAG_HEAD | PC_FLAG_BODY)

/* Queues that -q searches, in order. */
static const char *const pc_queues[] = {
    MAIL_QUEUE_MAILDROP, MAIL_QUEUE_INCOMING, MAIL_QUEUE_ACTIVE,
    MAIL_QUEUE_DEFERRED, MAIL_QUEUE_HOLD,     MAIL_QUEUE_SAVED,
};

/* Where the output is: at the start of a line (for -f). */
static bool pc_line_start = true;

static NORETURN pc_usage(void)
{
    msg_fatal("usage: postcat [-b (body text)] [-c config_dir] [-d (decimal record type)] "
              "[-e (envelope records)] [-f (file name prefix)] [-h (header text)] [-o (record offsets)] "
              "[-q (access queue)] [-r (file order)] [-s offset] [-v] [file(s)...]");
}

/* Begin an output line: the -f file name prefix. */
static void pc_begin(int flags, const char *path)
{
    if (pc_line_start && (flags & PC_FLAG_FNAME))
        vstream_fprintf(vstream_out, "%s: ", path);
    pc_line_start = false;
}

/* Print TEXT (LEN bytes), ending the line when NEWLINE. */
static void pc_write(const char *text, size_t len, bool newline)
{
    vstream_fwrite(vstream_out, text, len);
    if (newline) {
        vstream_putc('\n', vstream_out);
        pc_line_start = true;
    }
}

/* The -o / -d prefix of a record. */
static void pc_record_prefix(int flags, const char *path, off_t offset, int type)
{
    pc_begin(flags, path);
    if (flags & PC_FLAG_OFFSET)
        vstream_fprintf(vstream_out, "%9lld ", (long long)offset);
    if (flags & PC_FLAG_DEC)
        vstream_fprintf(vstream_out, "%3d ", type);
}

/* A "*** WHAT PATH ***" segment marker. */
static void pc_marker(int flags, const char *path, off_t offset, int type, const char *what)
{
    VSTRING *line = vstring_alloc(100);

    if (offset >= 0)
        pc_record_prefix(flags, path, offset, type);
    else
        pc_begin(flags, path);
    vstring_sprintf(line, "*** %s %s ***", what, path);
    pc_write(vstring_str(line), VSTRING_LEN(line), true);
    vstring_free(line);
}

/* True when TEXT starts like a header line: NAME[ \t]*: with NAME printable. */
static bool pc_is_header(const char *text, size_t len)
{
    size_t i = 0;

    while (i < len && text[i] > ' ' && text[i] < 0x7f && text[i] != ':')
        i++;
    if (i == 0)
        return false;
    while (i < len && (text[i] == ' ' || text[i] == '\t'))
        i++;
    return i < len && text[i] == ':';
}

/* Print a time record's value as Postfix does: asctime() of its seconds. */
static void pc_print_time(const char *data)
{
    char *end;
    long long secs;
    time_t when;
    struct tm *tm;

    errno = 0;
    secs = strtoll(data, &end, 10);
    when = (time_t)secs;
    if (end == data || errno == ERANGE || (*end != 0 && *end != ' ') || (tm = localtime(&when)) == NULL) {
        vstream_fputs(data, vstream_out);
        return;
    }
    char text[64];
    size_t n = strftime(text, sizeof(text), "%a %b %e %H:%M:%S %Y", tm);

    vstream_fwrite(vstream_out, text, n);
}

/* Header/body state of the content being shown. */
typedef struct PC_CONTENT {
    bool in_body;     /* past the first non-header line */
    bool line_start;  /* the next content record starts a logical line */
    bool line_header; /* the current logical line is a header line */
} PC_CONTENT;

/* Show one NORM or CONT record according to -h / -b. */
static void pc_content(int flags, const char *path, PC_CONTENT *cs, off_t offset, int type,
                       const VSTRING *buf)
{
    bool show;

    if (cs->line_start) {
        const char *text = vstring_str(buf);
        size_t len = VSTRING_LEN(buf);

        if (!cs->in_body && !(len > 0 && (text[0] == ' ' || text[0] == '\t')) && !pc_is_header(text, len))
            cs->in_body = true;
        cs->line_header = !cs->in_body;
    }
    show = (cs->line_header && (flags & PC_FLAG_HEAD)) || (!cs->line_header && (flags & PC_FLAG_BODY));
    if (show) {
        /* As Postfix: -o puts each record on its own line, -d types every record. */
        if ((flags & (PC_FLAG_OFFSET | PC_FLAG_DEC)) || cs->line_start)
            pc_record_prefix(flags, path, offset, type);
        pc_write(vstring_str(buf), VSTRING_LEN(buf), type == REC_TYPE_NORM || (flags & PC_FLAG_OFFSET));
    }
    cs->line_start = (type == REC_TYPE_NORM);
}

/* Finish a partial output line (a CONT record without its NORM). */
static void pc_end_line(void)
{
    if (!pc_line_start) {
        vstream_putc('\n', vstream_out);
        pc_line_start = true;
    }
}

/* Report damage and stop, as Postfix's postcat does. */
static NORETURN pc_corrupt(void)
{
    pc_end_line();
    vstream_fflush(vstream_out);
    msg_fatal("record read error");
}

/* Show one queue file. */
static void pc_show(VSTREAM *fp, const char *path, int flags, off_t skip)
{
    VSTRING *buf = vstring_alloc(100);
    PC_CONTENT cs = {.in_body = false, .line_start = true, .line_header = true};
    off_t offset = 0;
    off_t next;
    int type;
    bool first = true;

    if (skip > 0) {
        if (vstream_fseek(fp, skip, SEEK_SET) < 0)
            msg_fatal("%s: seek error: %m", path);
        offset = skip;
    } else if ((type = vstream_getc(fp)) != VSTREAM_EOF) {
        /* Judge the first type byte before trusting any length. */
        vstream_ungetc(type, fp);
        if (type != REC_TYPE_SIZE) {
            msg_warn("%s: input is not a valid queue file", path);
            vstring_free(buf);
            return;
        }
    }
    for (;;) {
        type = rec_get(fp, buf, 0);
        if (type == REC_TYPE_EOF)
            break;
        if (type == REC_TYPE_ERROR)
            pc_corrupt();
        /* Offsets from the file position when seekable, else counted. */
        if ((next = vstream_ftell(fp)) < 0) {
            size_t len = VSTRING_LEN(buf);

            next = offset + 2 + (off_t)len;
            while (len >>= 7)
                next++;
        }
        if (first) {
            first = false;
            if (skip == 0) {
                if (type != REC_TYPE_SIZE) {
                    msg_warn("%s: input is not a valid queue file", path);
                    break;
                }
                if (flags & PC_FLAG_ENV)
                    pc_marker(flags, path, -1, 0, "ENVELOPE RECORDS");
            }
        }
        switch (type) {
        case REC_TYPE_NORM:
        case REC_TYPE_CONT:
            pc_content(flags, path, &cs, offset, type, buf);
            break;
        case REC_TYPE_MESG:
            pc_end_line();
            cs.in_body = false;
            cs.line_start = true;
            if (flags & PC_FLAG_ENV)
                pc_marker(flags, path, offset, type, "MESSAGE CONTENTS");
            break;
        case REC_TYPE_XTRA:
            pc_end_line();
            if (flags & PC_FLAG_ENV)
                pc_marker(flags, path, offset, type, "HEADER EXTRACTED");
            break;
        case REC_TYPE_END:
            pc_end_line();
            if (flags & PC_FLAG_ENV)
                pc_marker(flags, path, offset, type, "MESSAGE FILE END");
            break;
        case REC_TYPE_SIZE:
        case REC_TYPE_TIME:
        case REC_TYPE_CTIME:
        case REC_TYPE_WARN:
        case REC_TYPE_FULL:
        case REC_TYPE_FROM:
        case REC_TYPE_ATTR:
        case REC_TYPE_ORCP:
        case REC_TYPE_DSN_ORCPT:
        case REC_TYPE_DSN_NOTIFY:
        case REC_TYPE_RCPT:
        case REC_TYPE_DONE:
        case REC_TYPE_DRCP:
        case REC_TYPE_FLGS:
            if (flags & PC_FLAG_ENV) {
                pc_end_line();
                pc_record_prefix(flags, path, offset, type);
                if (type == REC_TYPE_ATTR && strncmp(vstring_str(buf), "create_time=", 12) == 0) {
                    /* Postfix keeps the creation time as an attribute. */
                    vstream_fputs("create_time: ", vstream_out);
                    pc_print_time(vstring_str(buf) + 12);
                    pc_write("", 0, true);
                    break;
                }
                vstream_fprintf(vstream_out, "%s: ", rec_type_name(type));
                if (type == REC_TYPE_TIME || type == REC_TYPE_CTIME || type == REC_TYPE_WARN)
                    pc_print_time(vstring_str(buf));
                else
                    vstream_fwrite(vstream_out, vstring_str(buf), VSTRING_LEN(buf));
                pc_write("", 0, true);
            }
            break;
        default:
            pc_end_line();
            vstream_fflush(vstream_out);
            msg_warn("%s: unknown record type %d at offset %lld", path, type, (long long)offset);
            pc_corrupt();
        }
        offset = next;
        if (type == REC_TYPE_END)
            break;
    }
    pc_end_line();
    vstream_fflush(vstream_out);
    vstring_free(buf);
}

/* Find queue ID ID; returns the open file and its queue-relative path in PATH. */
static VSTREAM *pc_open_queue_file(const char *id, VSTRING *path)
{
    VSTRING *abs = vstring_alloc(100);
    VSTREAM *fp = NULL;

    if (!mail_queue_id_ok(id))
        msg_fatal("bad mail queue ID: %s", id);
    for (size_t i = 0; fp == NULL && i < ARRAY_LEN(pc_queues); i++) {
        /* The configured (hashed) place first, then the flat one. */
        for (int flat = 0; fp == NULL && flat <= 1; flat++) {
            if (flat)
                vstring_sprintf(path, "%s/%s", pc_queues[i], id);
            else
                mail_queue_path(path, pc_queues[i], id, true);
            vstring_sprintf(abs, "%s/%s", var_queue_directory, vstring_str(path));
            if ((fp = vstream_fopen(vstring_str(abs), O_RDONLY, 0)) == NULL && errno != ENOENT &&
                errno != ENOTDIR)
                msg_fatal("open queue file %s: %m", vstring_str(path));
        }
    }
    vstring_free(abs);
    if (fp == NULL) {
        errno = ENOENT;
        msg_fatal("open queue file %s: %m", id);
    }
    return fp;
}

int main(int argc, char **argv)
{
    int flags = 0;
    off_t skip = 0;
    int ch;

    mail_process_name = "postcat";
    msg_stderr_init("postcat");
    while ((ch = getopt(argc, argv, "bc:defhoqrs:v")) != -1) {
        switch (ch) {
        case 'b':
            flags |= PC_FLAG_BODY;
            break;
        case 'c':
            mail_conf_select(optarg);
            break;
        case 'd':
            flags |= PC_FLAG_DEC;
            break;
        case 'e':
            flags |= PC_FLAG_ENV;
            break;
        case 'f':
            flags |= PC_FLAG_FNAME;
            break;
        case 'h':
            flags |= PC_FLAG_HEAD;
            break;
        case 'o':
            flags |= PC_FLAG_OFFSET;
            break;
        case 'q':
            flags |= PC_FLAG_QUEUE;
            break;
        case 'r':
            break; /* no pointer records to follow: always file order */
        case 's': {
            char *end;

            errno = 0;
            long long value = strtoll(optarg, &end, 10);

            if (*optarg == 0 || *end != 0 || errno == ERANGE || value < 0)
                msg_fatal("invalid offset: %s", optarg);
            skip = (off_t)value;
            break;
        }
        case 'v':
            msg_verbose++;
            break;
        default:
            pc_usage();
        }
    }
    if ((flags & PC_FLAG_CONTENT) == 0)
        flags |= PC_FLAG_CONTENT;
    mail_conf_read();
    mail_params_init();

    if (optind == argc) {
        if (flags & PC_FLAG_QUEUE)
            pc_usage();
        pc_show(vstream_in, "stdin", flags, skip);
    }
    for (int i = optind; i < argc; i++) {
        VSTRING *path = vstring_alloc(100);
        VSTREAM *fp;

        if (flags & PC_FLAG_QUEUE) {
            fp = pc_open_queue_file(argv[i], path);
        } else {
            vstring_strcpy(path, argv[i]);
            if ((fp = vstream_fopen(argv[i], O_RDONLY, 0)) == NULL)
                msg_fatal("open %s: %m", argv[i]);
        }
        pc_show(fp, vstring_str(path), flags, skip);
        vstream_fclose(fp);
        vstring_free(path);
    }
    vstream_fflush(vstream_out);
    return 0;
}
