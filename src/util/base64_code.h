/*
 * base64_code - RFC 4648 base64 (standard alphabet, with padding), as
 * SMTP AUTH (RFC 4954) and the Dovecot auth protocol use it.
 *
 * base64_encode() and base64_decode() replace RESULT's contents and
 * return RESULT; base64_decode() returns NULL for text that is not
 * base64 (wrong characters, bad padding, a length that is not a multiple
 * of four). Empty input encodes and decodes to empty output.
 */
#ifndef BASE64_CODE_H
#define BASE64_CODE_H

#include <stddef.h>

#include "vstring.h"

extern VSTRING *base64_encode(VSTRING *result, const char *in, size_t len);
extern VSTRING *base64_decode(VSTRING *result, const char *in, size_t len);

#endif
