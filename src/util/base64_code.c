/*
 * base64_code - RFC 4648 base64 encoding and strict decoding
 * (base64_code.h).
 */
#include "sys_defs.h"

#include <string.h>

#include "base64_code.h"

static const char base64_alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* Encode LEN bytes of IN into RESULT. */
VSTRING *base64_encode(VSTRING *result, const char *in, size_t len)
{
    const unsigned char *cp = (const unsigned char *)in;

    vstring_reset(result);
    for (; len >= 3; cp += 3, len -= 3) {
        vstring_addch(result, base64_alphabet[cp[0] >> 2]);
        vstring_addch(result, base64_alphabet[((cp[0] & 0x3) << 4) | (cp[1] >> 4)]);
        vstring_addch(result, base64_alphabet[((cp[1] & 0xf) << 2) | (cp[2] >> 6)]);
        vstring_addch(result, base64_alphabet[cp[2] & 0x3f]);
    }
    if (len > 0) {
        vstring_addch(result, base64_alphabet[cp[0] >> 2]);
        if (len == 1) {
            vstring_addch(result, base64_alphabet[(cp[0] & 0x3) << 4]);
            vstring_addch(result, '=');
        } else {
            vstring_addch(result, base64_alphabet[((cp[0] & 0x3) << 4) | (cp[1] >> 4)]);
            vstring_addch(result, base64_alphabet[(cp[1] & 0xf) << 2]);
        }
        vstring_addch(result, '=');
    }
    return result;
}

/* The 6-bit value of base64 character CH, or -1. */
static int base64_value(int ch)
{
    const char *p = ch ? strchr(base64_alphabet, ch) : NULL;

    return p ? (int)(p - base64_alphabet) : -1;
}

/* Decode LEN characters of IN into RESULT; NULL if IN is not base64. */
VSTRING *base64_decode(VSTRING *result, const char *in, size_t len)
{
    vstring_reset(result);
    if (len % 4 != 0)
        return NULL;
    for (size_t i = 0; i < len; i += 4) {
        int v[4];
        int pad = 0;

        for (int j = 0; j < 4; j++) {
            int ch = (unsigned char)in[i + j];

            if (ch == '=' && j >= 2 && i + 4 == len) {
                v[j] = 0;
                pad++;
            } else if (pad || (v[j] = base64_value(ch)) < 0) {
                return NULL; /* bad character, or data after padding */
            }
        }
        vstring_addch(result, (char)((v[0] << 2) | (v[1] >> 4)));
        if (pad < 2)
            vstring_addch(result, (char)(((v[1] & 0xf) << 4) | (v[2] >> 2)));
        if (pad < 1)
            vstring_addch(result, (char)(((v[2] & 0x3) << 6) | v[3]));
    }
    return result;
}
