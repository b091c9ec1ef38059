/*
 * delivered_hdr - the Delivered-To: headers of a queued message. See
 * delivered_hdr.h.
 *
 * The header section is read line by line (L records joined, each line
 * capped at DELIVERED_HDR_LINE_MAX bytes) until the first line that is
 * neither a header nor a header continuation: the empty line before the
 * body, or the first body line of a message without one. A folded
 * Delivered-To: value is not unfolded; Postfix writes it on one line.
 *
 * Errors: none; a corrupt or unreadable queue file gives fewer addresses.
 */
#include "sys_defs.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "delivered_hdr.h"
#include "htable.h"
#include "is_header.h"
#include "mymalloc.h"
#include "rec_type.h"
#include "record.h"
#include "stringops.h"
#include "vstream.h"
#include "vstring.h"

#define DELIVERED_HDR_NAME     "Delivered-To"
#define DELIVERED_HDR_LINE_MAX 4096

struct DELIVERED_HDR_INFO {
    HTABLE *table; /* lower-cased addresses, case-folded keys */
};

/* Read one content line (L records joined); the record type that ended it, or not N/L. */
static int delivered_hdr_line(VSTREAM *src, VSTRING *line, VSTRING *buf)
{
    int type;

    vstring_truncate(line, 0);
    while ((type = rec_get(src, buf, 0)) == REC_TYPE_CONT || type == REC_TYPE_NORM) {
        size_t room = DELIVERED_HDR_LINE_MAX - VSTRING_LEN(line);

        vstring_memcat(line, vstring_str(buf), VSTRING_LEN(buf) < room ? VSTRING_LEN(buf) : room);
        if (type == REC_TYPE_NORM)
            break;
    }
    return type;
}

/* Remember the Delivered-To: addresses of the message at src_offset; see delivered_hdr.h. */
DELIVERED_HDR_INFO *delivered_hdr_init(VSTREAM *src, off_t src_offset)
{
    DELIVERED_HDR_INFO *info = mymalloc(sizeof(*info));
    VSTRING *line = vstring_alloc(200);
    VSTRING *buf = vstring_alloc(200);
    off_t saved = vstream_ftell(src);
    int type;

    info->table = htable_create(10, HTABLE_FLAG_FOLD);
    if (src_offset < 0 || vstream_fseek(src, src_offset, SEEK_SET) >= 0) {
        bool first = true;

        while ((type = delivered_hdr_line(src, line, buf)) == REC_TYPE_NORM || type == REC_TYPE_CONT ||
               (first && type == REC_TYPE_MESG)) {
            const char *cp = vstring_str(line);

            if (first && type == REC_TYPE_MESG) {
                first = false;
                continue;
            }
            first = false;
            size_t name_len = is_header_buf(cp, VSTRING_LEN(line));

            if (name_len == 0) {
                if (*cp == ' ' || *cp == '\t')
                    continue; /* continuation of an earlier header */
                break;
            }
            if (name_len != strlen(DELIVERED_HDR_NAME) || strncasecmp(cp, DELIVERED_HDR_NAME, name_len) != 0)
                continue;
            char *value = trimblanks(strchr(vstring_str(line), ':') + 1);

            if (*value && htable_find(info->table, value) == NULL)
                htable_enter(info->table, lowercase(value), info);
        }
    }
    if (saved >= 0)
        (void)vstream_fseek(src, saved, SEEK_SET);
    vstring_free(buf);
    vstring_free(line);
    return info;
}

/* Was address among the Delivered-To: values? */
bool delivered_hdr_find(DELIVERED_HDR_INFO *info, const char *address)
{
    return htable_find(info->table, address) != NULL;
}

/* Release what delivered_hdr_init() made. */
void delivered_hdr_free(DELIVERED_HDR_INFO *info)
{
    htable_free(info->table, NULL);
    myfree(info);
}
