/*
 * record - typed, length-prefixed records over a VSTREAM (queue files and
 * the client -> cleanup stream). The encoding is described in record.h
 * and docs/queue-file.md.
 *
 * Public functions: rec_put(), rec_fputs(), rec_fprintf(), rec_put_at(),
 * rec_get(), rec_decode(), rec_type_name(), rec_attr_split().
 *
 * Errors: writers return REC_TYPE_ERROR when the stream fails. rec_get()
 * returns REC_TYPE_EOF at a clean end of input and REC_TYPE_ERROR for a
 * read error, a truncated record, an impossible length or a record over
 * the caller's limit, after a warning that names the stream. It reads the
 * data in bounded chunks, so a forged length never makes it allocate more
 * than about twice the bytes that really arrived.
 */
#include "sys_defs.h"

#include <errno.h>
#include <stdarg.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

#include "msg.h"
#include "record.h"
#include "vstream.h"
#include "vstring.h"

/* Data is read at most this many bytes at a time. */
#define REC_READ_CHUNK 65536

/* Largest length the 5-byte encoding can carry (35 bits). */
#define REC_LEN_LIMIT ((1ULL << (7 * REC_LEN_MAX_BYTES)) - 1)

/* Encode LEN as base-128 digits into OUT; returns the number of bytes. */
static size_t rec_len_encode(unsigned char *out, unsigned long long len)
{
    size_t n = 0;

    do {
        unsigned char byte = len & 0x7f;

        len >>= 7;
        if (len)
            byte |= 0x80;
        out[n++] = byte;
    } while (len && n < REC_LEN_MAX_BYTES);
    return n;
}

/* Write one record: type, length, data. */
int rec_put(VSTREAM *stream, int type, const char *data, size_t len)
{
    unsigned char head[1 + REC_LEN_MAX_BYTES];
    size_t n;

    if (type < 0 || type > 255)
        msg_panic("rec_put: bad record type %d", type);
    if ((unsigned long long)len > REC_LEN_LIMIT)
        msg_panic("rec_put: record length %zu too large", len);
    head[0] = (unsigned char)type;
    n = 1 + rec_len_encode(head + 1, len);
    if (vstream_fwrite(stream, head, n) == VSTREAM_EOF ||
        (len > 0 && vstream_fwrite(stream, data, len) == VSTREAM_EOF) || vstream_ferror(stream))
        return REC_TYPE_ERROR;
    return type;
}

/* Write a null-terminated string as one record. */
int rec_fputs(VSTREAM *stream, int type, const char *str)
{
    return rec_put(stream, type, str, strlen(str));
}

/* Write a formatted record. */
int rec_fprintf(VSTREAM *stream, int type, const char *fmt, ...)
{
    static VSTRING *buf;
    va_list ap;

    if (buf == NULL)
        buf = vstring_alloc(100);
    va_start(ap, fmt);
    vstring_vsprintf(buf, fmt, ap);
    va_end(ap);
    return rec_put(stream, type, vstring_str(buf), VSTRING_LEN(buf));
}

/*
 * Overwrite the type byte of the record at OFFSET, then return to where
 * the stream was. vstream_fseek() flushes pending output and gives back
 * read-ahead, so the caller's next read or write continues in place.
 */
int rec_put_at(VSTREAM *stream, off_t offset, int type)
{
    off_t saved;

    if (type < 0 || type > 255)
        msg_panic("rec_put_at: bad record type %d", type);
    if ((saved = vstream_ftell(stream)) < 0)
        return REC_TYPE_ERROR;
    if (vstream_fseek(stream, offset, SEEK_SET) < 0)
        return REC_TYPE_ERROR;
    if (vstream_putc(type, stream) == VSTREAM_EOF || vstream_fseek(stream, saved, SEEK_SET) < 0 ||
        vstream_ferror(stream))
        return REC_TYPE_ERROR;
    return type;
}

/* Read the next record into BUF; see record.h. */
int rec_get(VSTREAM *stream, VSTRING *buf, size_t maxlen)
{
    unsigned long long len = 0;
    int type;
    int ch;
    int shift;
    size_t left;

    vstring_reset(buf);
    if ((type = vstream_getc(stream)) == VSTREAM_EOF) {
        if (vstream_ferror(stream)) {
            msg_warn("%s: read error: %s", vstream_path(stream), strerror(vstream_errno(stream)));
            return REC_TYPE_ERROR;
        }
        return REC_TYPE_EOF;
    }
    for (shift = 0;; shift += 7) {
        if (shift >= 7 * REC_LEN_MAX_BYTES) {
            msg_warn("%s: bad length encoding in record type %d", vstream_path(stream), type);
            return REC_TYPE_ERROR;
        }
        if ((ch = vstream_getc(stream)) == VSTREAM_EOF) {
            msg_warn("%s: unexpected EOF in length, record type %d", vstream_path(stream), type);
            return REC_TYPE_ERROR;
        }
        len |= (unsigned long long)(ch & 0x7f) << shift;
        if ((ch & 0x80) == 0)
            break;
    }
    if (len > (unsigned long long)(SIZE_MAX / 4)) {
        msg_warn("%s: impossible length %llu for record type %d", vstream_path(stream), len, type);
        return REC_TYPE_ERROR;
    }
    if (maxlen > 0 && len > maxlen) {
        msg_warn("%s: record type %d length %llu > limit %zu", vstream_path(stream), type, len, maxlen);
        return REC_TYPE_ERROR;
    }
    for (left = (size_t)len; left > 0;) {
        size_t chunk = left < REC_READ_CHUNK ? left : REC_READ_CHUNK;
        size_t got;

        vstring_space(buf, chunk);
        got = vstream_fread(stream, vstring_end(buf), chunk);
        buf->len += got;
        buf->data[buf->len] = 0;
        if (got < chunk) {
            msg_warn("%s: unexpected EOF in data, record type %d length %llu", vstream_path(stream), type,
                     len);
            return REC_TYPE_ERROR;
        }
        left -= chunk;
    }
    buf->data[buf->len] = 0;
    return type;
}

/*
 * Parse one record out of BUF. Once the type and length are complete,
 * *TYPE and *DATA_LEN are set even when the data has not all arrived (the
 * result is 0 then), so an event-driven reader can refuse an oversized
 * record before buffering it.
 */
ssize_t rec_decode(const char *buf, size_t len, int *type, const char **data, size_t *data_len)
{
    const unsigned char *p = (const unsigned char *)buf;
    unsigned long long rlen = 0;
    size_t pos;
    int shift;

    if (len < 1)
        return 0;
    for (pos = 1, shift = 0;; pos++, shift += 7) {
        if (shift >= 7 * REC_LEN_MAX_BYTES)
            return -1;
        if (pos >= len)
            return 0;
        rlen |= (unsigned long long)(p[pos] & 0x7f) << shift;
        if ((p[pos] & 0x80) == 0)
            break;
    }
    pos++;
    if (rlen > (unsigned long long)(SIZE_MAX / 4))
        return -1;
    *type = p[0];
    *data_len = (size_t)rlen;
    if (len - pos < rlen)
        return 0;
    *data = buf + pos;
    return (ssize_t)(pos + rlen);
}

/* Printable names of record types, as postcat shows them. */
static const struct {
    int type;
    const char *name;
} rec_type_names[] = {
    {REC_TYPE_SIZE, "message_size"},
    {REC_TYPE_TIME, "message_arrival_time"},
    {REC_TYPE_CTIME, "create_time"},
    {REC_TYPE_FULL, "sender_fullname"},
    {REC_TYPE_FROM, "sender"},
    {REC_TYPE_ATTR, "named_attribute"},
    {REC_TYPE_ORCP, "original_recipient"},
    {REC_TYPE_DSN_ORCPT, "dsn_original_recipient"},
    {REC_TYPE_DSN_NOTIFY, "dsn_notify_flags"},
    {REC_TYPE_RCPT, "recipient"},
    {REC_TYPE_DONE, "done_recipient"},
    {REC_TYPE_DRCP, "canceled_recipient"},
    {REC_TYPE_WARN, "warning_message_time"},
    {REC_TYPE_MESG, "message_content"},
    {REC_TYPE_NORM, "regular_text"},
    {REC_TYPE_CONT, "unterminated_text"},
    {REC_TYPE_XTRA, "extracted_info"},
    {REC_TYPE_END, "message_end"},
    {REC_TYPE_FLGS, "cleanup_flags"},
    {REC_TYPE_EOF, "end-of-file"},
    {REC_TYPE_ERROR, "error"},
};

/* The name of a record type, or "unknown_record_type". */
const char *rec_type_name(int type)
{
    for (size_t i = 0; i < ARRAY_LEN(rec_type_names); i++)
        if (rec_type_names[i].type == type)
            return rec_type_names[i].name;
    return "unknown_record_type";
}

/*
 * Split "name=value" in place: the '=' becomes a null byte. Returns 0, or
 * -1 (TEXT unchanged) when there is no '=' or the name is empty.
 */
int rec_attr_split(char *text, char **name, char **value)
{
    char *eq = strchr(text, '=');

    if (eq == NULL || eq == text)
        return -1;
    *eq = 0;
    *name = text;
    *value = eq + 1;
    return 0;
}
