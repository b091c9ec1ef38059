/*
 * vstream - buffered, binary-safe streams over a file descriptor.
 *
 * A VSTREAM has separate read and write buffers, so one stream can carry
 * both directions of a socket conversation. Before it reads, a stream
 * flushes its pending output (the usual request-then-reply pattern cannot
 * deadlock). On a seekable file (opened O_RDWR), read-ahead is given back
 * before a write so that reads and writes see one file position.
 *
 * The bottom layer is pluggable: vstream_set_io() replaces the functions
 * that move bytes between the buffers and the descriptor (the default is
 * timed_read()/timed_write() on the fd), so a TLS layer can slide underneath
 * an existing stream. Those functions receive the time limit to honour and
 * the stream's context pointer, and report errors as -1 with errno
 * (ETIMEDOUT for an expired limit).
 *
 * Time limits: each stream has a read and a write limit (none by default).
 * By default a limit applies to each low-level read or write; with
 * vstream_set_deadline() it applies to a whole request instead (one
 * vstream_fgets_limit(), vstream_fread(), vstream_fflush(), ...), so a peer
 * that trickles one byte at a time cannot hold a stream forever.
 *
 * Public functions:
 *   vstream_fdopen(), vstream_fopen(), vstream_fclose(), vstream_fdclose()
 *   vstream_getc(), vstream_ungetc(), vstream_fread(), vstream_peek()
 *   vstream_fgets_limit() (keeps the newline), vstream_fgets_nonl_limit()
 *   (strips it)
 *   vstream_putc(), vstream_fwrite(), vstream_fputs(), vstream_fprintf(),
 *   vstream_vfprintf(), vstream_fflush()
 *   vstream_fseek(), vstream_ftell()
 *   vstream_ferror(), vstream_feof(), vstream_ftimeout(), vstream_clearerr(),
 *   vstream_errno()
 *   vstream_fileno(), vstream_path(), vstream_context()
 *   vstream_set_timeout(), vstream_set_timeout_ms(), vstream_set_deadline(),
 *   vstream_set_io()
 *   vstream_in, vstream_out, vstream_err: fd 0, 1 and 2 (vstream_err writes
 *   through at the end of every call; vstream_out is flushed at exit).
 *
 * Errors: reads return VSTREAM_EOF (or a short count) and set the end-of-
 * file, error or timeout flag; writes and flushes return VSTREAM_EOF and set
 * the error (and timeout) flag. Flags are sticky: once a direction has
 * failed, further calls in that direction fail at once until
 * vstream_clearerr(). Buffered output that could not be written is dropped.
 * Programmer errors (a bad stream mode) end in msg_panic().
 */
#ifndef VSTREAM_H
#define VSTREAM_H

#include <stdarg.h>
#include <stddef.h>
#include <sys/types.h>

#include "sys_defs.h"
#include "vstring.h"

#define VSTREAM_EOF (-1)

/* Bottom-layer functions; see vstream_set_io(). */
typedef ssize_t (*VSTREAM_READ_FN)(int fd, void *buf, size_t len, int timeout_ms, void *context);
typedef ssize_t (*VSTREAM_WRITE_FN)(int fd, const void *buf, size_t len, int timeout_ms, void *context);

typedef struct VSTREAM {
    int fd;
    int flags;           /* VSTREAM_FLAG_* */
    int err;             /* errno of the last failure */
    unsigned char *rbuf; /* read buffer: rbuf[rpos..rend) unread */
    size_t rsize;
    size_t rpos;
    size_t rend;
    unsigned char *wbuf; /* write buffer: wbuf[0..wlen) pending */
    size_t wsize;
    size_t wlen;
    VSTREAM_READ_FN read_fn;
    VSTREAM_WRITE_FN write_fn;
    void *context;    /* passed to read_fn and write_fn */
    int read_timeout; /* milliseconds, negative: none */
    int write_timeout;
    int64_t deadline; /* end of the current request */
    bool deadline_set;
    char *path; /* for diagnostics, or NULL */
    off_t offset; /* the descriptor's file offset, with VSTREAM_FLAG_OFFSET */
} VSTREAM;

/* Stream state; only the vstream functions change it. */
#define VSTREAM_FLAG_READ       (1 << 0) /* opened for reading */
#define VSTREAM_FLAG_WRITE      (1 << 1) /* opened for writing */
#define VSTREAM_FLAG_EOF        (1 << 2)
#define VSTREAM_FLAG_RD_ERR     (1 << 3)
#define VSTREAM_FLAG_WR_ERR     (1 << 4)
#define VSTREAM_FLAG_RD_TIMEOUT (1 << 5)
#define VSTREAM_FLAG_WR_TIMEOUT (1 << 6)
#define VSTREAM_FLAG_DEADLINE   (1 << 7) /* limits cover whole requests */
#define VSTREAM_FLAG_SEEKABLE   (1 << 8)
#define VSTREAM_FLAG_STD        (1 << 9)  /* one of the three standard streams */
#define VSTREAM_FLAG_UNBUF      (1 << 10) /* write through after each call */
#define VSTREAM_FLAG_OFFSET     (1 << 11) /* .offset is the file offset (no lseek needed) */
#define VSTREAM_FLAG_APPEND     (1 << 12) /* O_APPEND: writes move the offset to the end */

#define VSTREAM_FLAG_ERR     (VSTREAM_FLAG_RD_ERR | VSTREAM_FLAG_WR_ERR)
#define VSTREAM_FLAG_TIMEOUT (VSTREAM_FLAG_RD_TIMEOUT | VSTREAM_FLAG_WR_TIMEOUT)

/* Results of vstream_fgets_limit() and vstream_fgets_nonl_limit(). */
#define VSTREAM_LINE_EOF     (-1) /* nothing read: end of file, error or timeout */
#define VSTREAM_LINE_OK      0    /* a complete line */
#define VSTREAM_LINE_LIMIT   1    /* limit reached; the rest of the line is unread */
#define VSTREAM_LINE_PARTIAL 2    /* a last line without newline, then EOF or error */

/* No line length limit. */
#define VSTREAM_NO_LIMIT SIZE_MAX

#define VSTREAM_BUFSIZE 8192

extern VSTREAM vstream_std[3];

#define vstream_in  (&vstream_std[0])
#define vstream_out (&vstream_std[1])
#define vstream_err (&vstream_std[2])

extern VSTREAM *vstream_fdopen(int fd, int flags);
extern VSTREAM *vstream_fopen(const char *path, int flags, mode_t mode);
extern int vstream_fclose(VSTREAM *stream);
extern int vstream_fdclose(VSTREAM *stream);

extern int vstream_getc_fill(VSTREAM *stream);
extern int vstream_ungetc(int ch, VSTREAM *stream);
extern size_t vstream_fread(VSTREAM *stream, void *buf, size_t len);
extern int vstream_fgets_limit(VSTRING *vp, VSTREAM *stream, size_t limit);
extern int vstream_fgets_nonl_limit(VSTRING *vp, VSTREAM *stream, size_t limit);

extern int vstream_putc(int ch, VSTREAM *stream);
extern int vstream_fwrite(VSTREAM *stream, const void *buf, size_t len);
extern int vstream_fputs(const char *str, VSTREAM *stream);
extern int vstream_fprintf(VSTREAM *stream, const char *fmt, ...) PRINTFLIKE(2, 3);
extern int vstream_vfprintf(VSTREAM *stream, const char *fmt, va_list ap) PRINTFLIKE(2, 0);
extern int vstream_fflush(VSTREAM *stream);

extern off_t vstream_fseek(VSTREAM *stream, off_t offset, int whence);
extern off_t vstream_ftell(VSTREAM *stream);

extern void vstream_clearerr(VSTREAM *stream);
extern const char *vstream_path(VSTREAM *stream);
extern void vstream_set_timeout(VSTREAM *stream, int seconds);
extern void vstream_set_timeout_ms(VSTREAM *stream, int read_ms, int write_ms);
extern void vstream_set_deadline(VSTREAM *stream, bool on);
extern int vstream_set_io(VSTREAM *stream, VSTREAM_READ_FN read_fn, VSTREAM_WRITE_FN write_fn, void *context);

/* Read one byte; returns it as an unsigned char, or VSTREAM_EOF. */
static inline int vstream_getc(VSTREAM *stream)
{
    return stream->rpos < stream->rend ? stream->rbuf[stream->rpos++] : vstream_getc_fill(stream);
}

/* Unread input bytes already in the buffer (a read will not block for them). */
static inline size_t vstream_peek(const VSTREAM *stream)
{
    return stream->rend - stream->rpos;
}

/* True after a read or write error, including a timeout. */
static inline bool vstream_ferror(const VSTREAM *stream)
{
    return (stream->flags & VSTREAM_FLAG_ERR) != 0;
}

/* True after a read returned end of file. */
static inline bool vstream_feof(const VSTREAM *stream)
{
    return (stream->flags & VSTREAM_FLAG_EOF) != 0;
}

/* True after a read or write ran out of time. */
static inline bool vstream_ftimeout(const VSTREAM *stream)
{
    return (stream->flags & VSTREAM_FLAG_TIMEOUT) != 0;
}

/* The errno value of the last failure (0 if none). */
static inline int vstream_errno(const VSTREAM *stream)
{
    return stream->err;
}

/* The underlying descriptor (-1 after vstream_fclose() of a standard stream). */
static inline int vstream_fileno(const VSTREAM *stream)
{
    return stream->fd;
}

/* The context pointer given to vstream_set_io(). */
static inline void *vstream_context(const VSTREAM *stream)
{
    return stream->context;
}

#endif
