/*
 * is_header - recognise a message header label (see is_header.h).
 */
#include "sys_defs.h"

#include "is_header.h"

/* Length of the header name at the start of buf, or 0 when buf is no header. */
size_t is_header_buf(const char *buf, size_t len)
{
    size_t name_len = 0;
    size_t i = 0;

    while (i < len) {
        unsigned char ch = (unsigned char)buf[i];

        if (ch == ':')
            return name_len;
        if (ch == ' ' || ch == '\t') {
            if (name_len == 0)
                return 0;
            /* Only blanks may follow until the colon. */
            for (i++; i < len && (buf[i] == ' ' || buf[i] == '\t'); i++)
                ;
            return i < len && buf[i] == ':' ? name_len : 0;
        }
        if (ch < 33 || ch > 126)
            return 0;
        name_len++;
        i++;
    }
    return 0;
}
