/*
 * vstream - buffered streams over a file descriptor. See vstream.h.
 */
#include "sys_defs.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "iostuff.h"
#include "msg.h"
#include "mymalloc.h"
#include "vstream.h"
#include "vstring.h"

/* The default bottom layer: one timed read(2) on the descriptor. */
static ssize_t vstream_default_read(int fd, void *buf, size_t len, int timeout_ms, void *context UNUSED)
{
    return timed_read(fd, buf, len, timeout_ms);
}

/* The default bottom layer: one timed write(2) on the descriptor. */
static ssize_t vstream_default_write(int fd, const void *buf, size_t len, int timeout_ms,
                                     void *context UNUSED)
{
    return timed_write(fd, buf, len, timeout_ms);
}

#define VSTREAM_STD_INIT(fd_, flags_)                                                                        \
    {                                                                                                        \
        .fd = (fd_), .flags = (flags_) | VSTREAM_FLAG_STD, .read_fn = vstream_default_read,                  \
        .write_fn = vstream_default_write, .read_timeout = -1, .write_timeout = -1                           \
    }

VSTREAM vstream_std[3] = {
    VSTREAM_STD_INIT(0, VSTREAM_FLAG_READ),
    VSTREAM_STD_INIT(1, VSTREAM_FLAG_WRITE),
    VSTREAM_STD_INIT(2, VSTREAM_FLAG_WRITE | VSTREAM_FLAG_UNBUF),
};

/* Flush the standard output streams when the program exits normally. */
static void vstream_std_exit(void)
{
    vstream_fflush(vstream_out);
    vstream_fflush(vstream_err);
}

/* Start a new request: a deadline, if enabled, is measured from here. */
static void vstream_begin(VSTREAM *s)
{
    s->deadline_set = false;
}

/* The time limit for the next low-level call, given the per-call limit. */
static int vstream_time_left(VSTREAM *s, int timeout)
{
    if (timeout < 0 || (s->flags & VSTREAM_FLAG_DEADLINE) == 0)
        return timeout;
    int64_t now = iostuff_clock_ms();

    if (!s->deadline_set) {
        s->deadline = now + timeout;
        s->deadline_set = true;
    }
    return s->deadline > now ? (int)(s->deadline - now) : 0;
}

/* Remember a failure in one direction; keeps errno. */
static void vstream_fail(VSTREAM *s, int err_flag, int timeout_flag)
{
    s->err = errno;
    s->flags |= err_flag;
    if (errno == ETIMEDOUT)
        s->flags |= timeout_flag;
}

/* Wrap an open descriptor; flags are O_RDONLY, O_WRONLY or O_RDWR. */
VSTREAM *vstream_fdopen(int fd, int flags)
{
    VSTREAM *s = mycalloc(1, sizeof(*s));

    if (fd < 0)
        msg_panic("vstream_fdopen: bad descriptor %d", fd);
    switch (flags & O_ACCMODE) {
    case O_RDONLY:
        s->flags = VSTREAM_FLAG_READ;
        break;
    case O_WRONLY:
        s->flags = VSTREAM_FLAG_WRITE;
        break;
    case O_RDWR:
        s->flags = VSTREAM_FLAG_READ | VSTREAM_FLAG_WRITE;
        break;
    default:
        msg_panic("vstream_fdopen: bad flags 0x%x", (unsigned)flags);
    }
    /*
     * On a file the stream keeps the file offset itself, so vstream_ftell()
     * needs no system call: every read and write goes through this module.
     * Not with O_APPEND, where each write moves the offset to the end.
     */
    if ((s->offset = lseek(fd, 0, SEEK_CUR)) >= 0) {
        s->flags |= VSTREAM_FLAG_SEEKABLE;
        if ((s->flags & VSTREAM_FLAG_WRITE) && (fcntl(fd, F_GETFL) & O_APPEND))
            s->flags |= VSTREAM_FLAG_APPEND;
        else
            s->flags |= VSTREAM_FLAG_OFFSET;
    }
    s->fd = fd;
    s->read_fn = vstream_default_read;
    s->write_fn = vstream_default_write;
    s->read_timeout = -1;
    s->write_timeout = -1;
    return s;
}

/* Open a file as for open(2) (close-on-exec added); NULL with errno on failure. */
VSTREAM *vstream_fopen(const char *path, int flags, mode_t mode)
{
    int fd = open(path, flags | O_CLOEXEC, mode);

    if (fd < 0)
        return NULL;
    VSTREAM *s = vstream_fdopen(fd, flags);

    s->path = mystrdup(path);
    return s;
}

/* Write out the whole write buffer; drops it on failure. */
static int vstream_flush_buf(VSTREAM *s)
{
    size_t done = 0;

    if (s->flags & VSTREAM_FLAG_WR_ERR) {
        s->wlen = 0;
        errno = s->err;
        return VSTREAM_EOF;
    }
    while (done < s->wlen) {
        ssize_t n = s->write_fn(s->fd, s->wbuf + done, s->wlen - done, vstream_time_left(s, s->write_timeout),
                                s->context);

        if (n <= 0) {
            if (n == 0)
                errno = EIO;
            vstream_fail(s, VSTREAM_FLAG_WR_ERR, VSTREAM_FLAG_WR_TIMEOUT);
            s->wlen = 0;
            return VSTREAM_EOF;
        }
        done += (size_t)n;
        s->offset += n;
    }
    s->wlen = 0;
    return 0;
}

/* Refill the empty read buffer; returns VSTREAM_EOF at end of file or on error. */
static int vstream_fill(VSTREAM *s)
{
    if ((s->flags & VSTREAM_FLAG_READ) == 0)
        msg_panic("vstream_fill: stream %s is not open for reading", vstream_path(s));
    if (s->flags & (VSTREAM_FLAG_EOF | VSTREAM_FLAG_RD_ERR)) {
        errno = s->err;
        return VSTREAM_EOF;
    }

    /*
     * The peer may be waiting for our pending output before it answers. A
     * failed flush is recorded but does not stop the read: the peer may have
     * explained the failure in what it sent.
     */
    if (s->wlen > 0)
        (void)vstream_flush_buf(s);
    if (s->rbuf == NULL) {
        s->rsize = VSTREAM_BUFSIZE;
        s->rbuf = mymalloc(s->rsize);
    }
    ssize_t n = s->read_fn(s->fd, s->rbuf, s->rsize, vstream_time_left(s, s->read_timeout), s->context);

    if (n > 0) {
        s->rpos = 0;
        s->rend = (size_t)n;
        s->offset += n;
        return 0;
    }
    s->rpos = s->rend = 0;
    if (n == 0) {
        s->flags |= VSTREAM_FLAG_EOF;
        return VSTREAM_EOF;
    }
    vstream_fail(s, VSTREAM_FLAG_RD_ERR, VSTREAM_FLAG_RD_TIMEOUT);
    return VSTREAM_EOF;
}

/* The slow path of vstream_getc(): refill, then return one byte or VSTREAM_EOF. */
int vstream_getc_fill(VSTREAM *s)
{
    vstream_begin(s);
    if (s->rpos >= s->rend && vstream_fill(s) < 0)
        return VSTREAM_EOF;
    return s->rbuf[s->rpos++];
}

/* Push one byte back so the next read returns it; clears end-of-file. */
int vstream_ungetc(int ch, VSTREAM *s)
{
    if (ch == VSTREAM_EOF)
        return VSTREAM_EOF;
    if (s->rbuf == NULL) {
        s->rsize = VSTREAM_BUFSIZE;
        s->rbuf = mymalloc(s->rsize);
    }
    if (s->rpos == 0) {
        if (s->rend >= s->rsize)
            return VSTREAM_EOF;
        memmove(s->rbuf + 1, s->rbuf, s->rend);
        s->rend++;
        s->rpos = 1;
    }
    s->rbuf[--s->rpos] = (unsigned char)ch;
    s->flags &= ~VSTREAM_FLAG_EOF;
    return (unsigned char)ch;
}

/* Read up to len bytes; a short count means end of file, error or timeout. */
size_t vstream_fread(VSTREAM *s, void *buf, size_t len)
{
    unsigned char *cp = buf;
    size_t got = 0;

    vstream_begin(s);
    while (got < len) {
        if (s->rpos >= s->rend && vstream_fill(s) < 0)
            break;
        size_t chunk = s->rend - s->rpos;

        if (chunk > len - got)
            chunk = len - got;
        memcpy(cp + got, s->rbuf + s->rpos, chunk);
        s->rpos += chunk;
        got += chunk;
    }
    return got;
}

/* Read one line of at most limit bytes (newline not counted) into vp. */
static int vstream_gets(VSTRING *vp, VSTREAM *s, size_t limit, bool keep_newline)
{
    vstring_reset(vp);
    vstream_begin(s);
    for (;;) {
        if (s->rpos >= s->rend && vstream_fill(s) < 0)
            return VSTRING_LEN(vp) > 0 ? VSTREAM_LINE_PARTIAL : VSTREAM_LINE_EOF;
        unsigned char *start = s->rbuf + s->rpos;
        size_t avail = s->rend - s->rpos;
        size_t room = limit - VSTRING_LEN(vp);
        /* A newline right after the last byte that fits still ends the line. */
        size_t scan = room < avail ? room + 1 : avail;
        unsigned char *nl = memchr(start, '\n', scan);

        if (nl) {
            size_t text = (size_t)(nl - start);

            vstring_memcat(vp, start, keep_newline ? text + 1 : text);
            s->rpos += text + 1;
            return VSTREAM_LINE_OK;
        }
        if (room < avail) {
            vstring_memcat(vp, start, room);
            s->rpos += room;
            return VSTREAM_LINE_LIMIT;
        }
        vstring_memcat(vp, start, avail);
        s->rpos += avail;
    }
}

/*
 * Read one line into vp, keeping the newline. At most limit bytes before
 * the newline are stored (VSTREAM_NO_LIMIT: no limit).
 */
int vstream_fgets_limit(VSTRING *vp, VSTREAM *s, size_t limit)
{
    return vstream_gets(vp, s, limit, true);
}

/* Read one line into vp without its newline; otherwise as vstream_fgets_limit(). */
int vstream_fgets_nonl_limit(VSTRING *vp, VSTREAM *s, size_t limit)
{
    return vstream_gets(vp, s, limit, false);
}

/* Record the file offset an lseek() returned (POS, or -1: unknown); returns POS. */
static off_t vstream_setpos(VSTREAM *s, off_t pos)
{
    s->offset = pos;
    if (pos >= 0 && (s->flags & VSTREAM_FLAG_APPEND) == 0)
        s->flags |= VSTREAM_FLAG_OFFSET;
    else
        s->flags &= ~VSTREAM_FLAG_OFFSET;
    return pos;
}

/* Append bytes to the write buffer, flushing whenever it fills up. */
static int vstream_put(VSTREAM *s, const void *buf, size_t len)
{
    const unsigned char *cp = buf;

    if ((s->flags & VSTREAM_FLAG_WRITE) == 0)
        msg_panic("vstream_put: stream %s is not open for writing", vstream_path(s));
    if (s->flags & VSTREAM_FLAG_WR_ERR) {
        errno = s->err;
        return VSTREAM_EOF;
    }
    /* On a file, unread read-ahead would otherwise shift where the write lands. */
    if ((s->flags & VSTREAM_FLAG_SEEKABLE) && s->rpos < s->rend) {
        if (vstream_setpos(s, lseek(s->fd, -(off_t)(s->rend - s->rpos), SEEK_CUR)) < 0) {
            vstream_fail(s, VSTREAM_FLAG_WR_ERR, VSTREAM_FLAG_WR_TIMEOUT);
            return VSTREAM_EOF;
        }
        s->rpos = s->rend = 0;
    }
    if (s->wbuf == NULL) {
        s->wsize = VSTREAM_BUFSIZE;
        s->wbuf = mymalloc(s->wsize);
        if (s->flags & VSTREAM_FLAG_STD) {
            static bool registered;

            if (!registered && atexit(vstream_std_exit) == 0)
                registered = true;
        }
    }
    while (len > 0) {
        if (s->wlen == s->wsize && vstream_flush_buf(s) < 0)
            return VSTREAM_EOF;
        size_t chunk = s->wsize - s->wlen;

        if (chunk > len)
            chunk = len;
        memcpy(s->wbuf + s->wlen, cp, chunk);
        s->wlen += chunk;
        cp += chunk;
        len -= chunk;
    }
    return 0;
}

/* Finish a write request: unbuffered streams write through now. */
static int vstream_put_done(VSTREAM *s, int status)
{
    if (status == 0 && (s->flags & VSTREAM_FLAG_UNBUF))
        status = vstream_flush_buf(s);
    return status;
}

/* Write len bytes (binary-safe); returns 0 or VSTREAM_EOF. */
int vstream_fwrite(VSTREAM *s, const void *buf, size_t len)
{
    vstream_begin(s);
    return vstream_put_done(s, vstream_put(s, buf, len));
}

/* Write one byte; returns it as an unsigned char, or VSTREAM_EOF. */
int vstream_putc(int ch, VSTREAM *s)
{
    unsigned char byte = (unsigned char)ch;

    vstream_begin(s);
    return vstream_put_done(s, vstream_put(s, &byte, 1)) < 0 ? VSTREAM_EOF : byte;
}

/* Write a C string (no newline added); returns 0 or VSTREAM_EOF. */
int vstream_fputs(const char *str, VSTREAM *s)
{
    return vstream_fwrite(s, str, strlen(str));
}

/* Write printf-style formatted text; returns 0 or VSTREAM_EOF. */
int vstream_vfprintf(VSTREAM *s, const char *fmt, va_list ap)
{
    VSTRING *vp = vstring_alloc(128);

    vstring_vsprintf(vp, fmt, ap);
    int status = vstream_fwrite(s, vstring_str(vp), VSTRING_LEN(vp));

    vstring_free(vp);
    return status;
}

/* Write printf-style formatted text; returns 0 or VSTREAM_EOF. */
int vstream_fprintf(VSTREAM *s, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    int status = vstream_vfprintf(s, fmt, ap);

    va_end(ap);
    return status;
}

/* Write out pending output; VSTREAM_EOF if that or an earlier write failed. */
int vstream_fflush(VSTREAM *s)
{
    vstream_begin(s);
    if ((s->flags & VSTREAM_FLAG_WRITE) == 0)
        return 0;
    return vstream_flush_buf(s);
}

/* Reposition a seekable stream; returns the new offset or -1 with errno. */
off_t vstream_fseek(VSTREAM *s, off_t offset, int whence)
{
    vstream_begin(s);
    if (s->wlen > 0 && vstream_flush_buf(s) < 0)
        return -1;
    if (whence == SEEK_CUR)
        offset -= (off_t)(s->rend - s->rpos);

    /*
     * A target inside the read buffer (the file's bytes just before the
     * known offset) needs no system call: move within the buffer.
     */
    if ((s->flags & VSTREAM_FLAG_OFFSET) && s->rend > 0 && whence != SEEK_END) {
        off_t target = whence == SEEK_CUR ? s->offset + offset : offset;
        off_t start = s->offset - (off_t)s->rend;

        if (target >= start && target <= s->offset) {
            s->rpos = (size_t)(target - start);
            s->flags &= ~VSTREAM_FLAG_EOF;
            return target;
        }
    }
    s->rpos = s->rend = 0;
    s->flags &= ~VSTREAM_FLAG_EOF;
    return vstream_setpos(s, lseek(s->fd, offset, whence));
}

/* The logical position: what the caller has read or written so far. */
off_t vstream_ftell(VSTREAM *s)
{
    off_t pos = (s->flags & VSTREAM_FLAG_OFFSET) ? s->offset : lseek(s->fd, 0, SEEK_CUR);

    if (pos < 0)
        return -1;
    return pos - (off_t)(s->rend - s->rpos) + (off_t)s->wlen;
}

/* Forget end-of-file, error and timeout state. */
void vstream_clearerr(VSTREAM *s)
{
    s->flags &= ~(VSTREAM_FLAG_EOF | VSTREAM_FLAG_ERR | VSTREAM_FLAG_TIMEOUT);
    s->err = 0;
}

/* A name for diagnostics: the path given to vstream_fopen(), or "fd N". */
const char *vstream_path(VSTREAM *s)
{
    if (s->path == NULL) {
        VSTRING *vp = vstring_alloc(16);

        vstring_sprintf(vp, "fd %d", s->fd);
        s->path = vstring_export(vp);
    }
    return s->path;
}

/* Set both time limits in seconds; zero or less means none. */
void vstream_set_timeout(VSTREAM *s, int seconds)
{
    int ms = seconds <= 0 ? -1 : seconds > INT_MAX / 1000 ? INT_MAX : seconds * 1000;

    s->read_timeout = s->write_timeout = ms;
}

/* Set the read and write time limits in milliseconds; negative means none. */
void vstream_set_timeout_ms(VSTREAM *s, int read_ms, int write_ms)
{
    s->read_timeout = read_ms < 0 ? -1 : read_ms;
    s->write_timeout = write_ms < 0 ? -1 : write_ms;
}

/* Make the time limits apply to whole requests instead of single system calls. */
void vstream_set_deadline(VSTREAM *s, bool on)
{
    if (on)
        s->flags |= VSTREAM_FLAG_DEADLINE;
    else
        s->flags &= ~VSTREAM_FLAG_DEADLINE;
}

/*
 * Replace the bottom layer (NULL selects the default). Pending output goes
 * out through the old layer first. Unread input is discarded: it arrived
 * through the old layer and must not pass for data from the new one (think
 * of plaintext injected ahead of a TLS handshake). Returns the flush status.
 */
int vstream_set_io(VSTREAM *s, VSTREAM_READ_FN read_fn, VSTREAM_WRITE_FN write_fn, void *context)
{
    int status = vstream_fflush(s);

    s->rpos = s->rend = 0;
    s->read_fn = read_fn ? read_fn : vstream_default_read;
    s->write_fn = write_fn ? write_fn : vstream_default_write;
    s->context = context;
    /* A layer may read or write more or less than it passes on. */
    if (read_fn || write_fn)
        s->flags &= ~VSTREAM_FLAG_OFFSET;
    return status;
}

/* Flush and release the stream but leave the descriptor open. */
int vstream_fdclose(VSTREAM *s)
{
    int status = vstream_fflush(s);
    int saved_errno = errno;

    if (s->flags & VSTREAM_FLAG_STD) {
        s->fd = -1;
        s->flags = VSTREAM_FLAG_STD | VSTREAM_FLAG_RD_ERR | VSTREAM_FLAG_WR_ERR;
        s->err = EBADF;
        s->rpos = s->rend = s->wlen = 0;
    } else {
        myfree(s->rbuf);
        myfree(s->wbuf);
        myfree(s->path);
        myfree(s);
    }
    errno = saved_errno;
    return status;
}

/*
 * Flush, close the descriptor and release the stream. Returns VSTREAM_EOF
 * (errno set) when buffered output was lost or close(2) failed.
 */
int vstream_fclose(VSTREAM *s)
{
    int fd = s->fd;
    int status = vstream_fdclose(s);
    int saved_errno = errno;

    if (fd >= 0 && close(fd) < 0 && status == 0)
        return VSTREAM_EOF;
    errno = saved_errno;
    return status;
}
