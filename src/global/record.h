/*
 * record - typed, length-prefixed records over a VSTREAM: the encoding of
 * queue files and of the stream a client sends to cleanup.
 *
 * A record is one type byte (rec_type.h), its data length as an unsigned
 * base-128 number (seven bits per byte, least significant group first, the
 * high bit set on every byte but the last; at most 5 bytes), then the data
 * bytes. Data is binary-safe.
 *
 * rec_put() writes one record; rec_fprintf() and rec_fputs() are shorthands.
 * rec_put_at() overwrites the type byte of the record at OFFSET (used to
 * mark a recipient done in place). rec_get() reads the next record into
 * BUF (text is also null-terminated) and returns its type; a record longer
 * than MAXLEN (0 = no limit) is an error. rec_get_raw() is the same
 * without the null termination guarantee for binary data. rec_attr_split()
 * splits "name=value" in place.
 *
 * Errors: rec_put() returns REC_TYPE_ERROR when the stream fails (the
 * stream's error flag tells why). rec_get() returns REC_TYPE_EOF at a clean
 * end of input and REC_TYPE_ERROR for a read error, a truncated record, a
 * length that does not fit, or a record over MAXLEN; it never panics on bad
 * input. rec_decode() parses one record out of a memory buffer, for
 * event-driven readers: it returns the number of bytes used, 0 when BUF
 * does not yet hold a whole record, -1 when the bytes cannot be a record.
 */
#ifndef RECORD_H
#define RECORD_H

#include <sys/types.h>

#include "rec_type.h"
#include "sys_defs.h"
#include "vstream.h"
#include "vstring.h"

#define REC_LEN_MAX_BYTES 5 /* base-128 digits of a length */

extern int rec_put(VSTREAM *stream, int type, const char *data, size_t len);
extern int rec_fputs(VSTREAM *stream, int type, const char *str);
extern int rec_fprintf(VSTREAM *stream, int type, const char *fmt, ...) PRINTFLIKE(3, 4);
extern int rec_put_at(VSTREAM *stream, off_t offset, int type);
extern int rec_get(VSTREAM *stream, VSTRING *buf, size_t maxlen);
extern ssize_t rec_decode(const char *buf, size_t len, int *type, const char **data, size_t *data_len);
extern const char *rec_type_name(int type);
extern int rec_attr_split(char *text, char **name, char **value);

#endif
