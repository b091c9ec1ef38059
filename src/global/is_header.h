/*
 * is_header - does a line start a message header ("Name: value")?
 *
 * is_header_buf(buf, len) returns the length of the header name when the
 * first len bytes of buf start with a header label: one or more printable
 * ASCII characters other than ':' (33..126), optional blanks (the obsolete
 * "Name :" form), then ':'. It returns 0 for anything else: an empty
 * line, a continuation line, a name with 8-bit or control characters, or
 * a line without a colon. is_header(str) does the same for a C string.
 *
 * Errors: none.
 */
#ifndef IS_HEADER_H
#define IS_HEADER_H

#include <stddef.h>
#include <string.h>

extern size_t is_header_buf(const char *buf, size_t len);

#define is_header(str) is_header_buf((str), strlen(str))

#endif
