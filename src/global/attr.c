/*
 * attr - the attribute protocol between Postern's processes; the wire
 * format and the calling conventions are in attr.h.
 *
 * Public functions: attr_print(), attr_scan().
 *
 * Errors: attr_print() returns -1 when the stream fails. attr_scan()
 * returns -1 after a warning that names the stream and the attribute for
 * a malformed or truncated message, a bad number, an over-long name or
 * value, or a strictness violation; a peer that hangs up before sending
 * anything gets -1 without a warning (that is how conversations end).
 * Programmer errors (an unknown type, a bad attribute name to send) end in
 * msg_panic().
 */
#include "sys_defs.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attr.h"
#include "htable.h"
#include "msg.h"
#include "mymalloc.h"
#include "vstream.h"
#include "vstring.h"

/* At most this many attributes may be requested in one attr_scan() call. */
#define ATTR_SCAN_MAX 64

/* True when NAME is a valid attribute name: [a-z0-9_]+. */
static bool attr_name_ok(const char *name)
{
    if (*name == 0)
        return false;
    for (const char *cp = name; *cp; cp++)
        if (!((*cp >= 'a' && *cp <= 'z') || (*cp >= '0' && *cp <= '9') || *cp == '_'))
            return false;
    return true;
}

/* Write one "name\0value\0" pair. */
static void attr_print_one(VSTREAM *stream, const char *name, const char *value)
{
    if (!attr_name_ok(name))
        msg_panic("attr_print: bad attribute name \"%s\"", name);
    vstream_fwrite(stream, name, strlen(name) + 1);
    vstream_fwrite(stream, value, strlen(value) + 1);
}

/* Send a list of attributes, then (unless ATTR_FLAG_MORE) the end marker. */
int attr_print(VSTREAM *stream, int flags, ...)
{
    char num[32];
    va_list ap;
    int type;

    va_start(ap, flags);
    while ((type = va_arg(ap, int)) != ATTR_TYPE_END) {
        const char *name = va_arg(ap, const char *);

        switch (type) {
        case ATTR_TYPE_INT:
            snprintf(num, sizeof(num), "%d", va_arg(ap, int));
            attr_print_one(stream, name, num);
            break;
        case ATTR_TYPE_LONG:
            snprintf(num, sizeof(num), "%lld", va_arg(ap, long long));
            attr_print_one(stream, name, num);
            break;
        case ATTR_TYPE_STR: {
            const char *value = va_arg(ap, const char *);

            attr_print_one(stream, name, value ? value : "");
            break;
        }
        default:
            msg_panic("attr_print: bad attribute type %d", type);
        }
    }
    va_end(ap);
    if ((flags & ATTR_FLAG_MORE) == 0) {
        vstream_putc(0, stream);
        if ((flags & ATTR_FLAG_NOFLUSH) == 0)
            vstream_fflush(stream);
    }
    return vstream_ferror(stream) ? -1 : 0;
}

/*
 * Read one null-terminated string into BUF. Returns 1, 0 at end of input
 * before the first byte, or -1 (truncated, too long: WHAT names the part
 * for the warning).
 */
static int attr_read_string(VSTREAM *stream, VSTRING *buf, const char *what, const char *name)
{
    int ch;

    vstring_reset(buf);
    while ((ch = vstream_getc(stream)) != 0) {
        if (ch == VSTREAM_EOF) {
            if (VSTRING_LEN(buf) == 0 && !vstream_ferror(stream))
                return 0;
            break;
        }
        if (VSTRING_LEN(buf) >= ATTR_LEN_MAX) {
            msg_warn("%s: attribute %s too long (more than %d bytes) in input from %s", what,
                     name ? name : vstring_str(buf), ATTR_LEN_MAX, vstream_path(stream));
            return -1;
        }
        vstring_addch(buf, ch);
    }
    if (ch == VSTREAM_EOF) {
        if (vstream_ftimeout(stream))
            msg_warn("timeout while reading %s%s%s from %s", what, name ? " of " : "", name ? name : "",
                     vstream_path(stream));
        else
            msg_warn("premature end-of-input while reading %s%s%s from %s", what, name ? " of " : "",
                     name ? name : "", vstream_path(stream));
        return -1;
    }
    return 1;
}

/* One requested attribute. */
typedef struct ATTR_WANT {
    int type;
    const char *name;
    void *ptr;
    bool seen;
} ATTR_WANT;

/* Convert VALUE for WANT and store it; false when it is not a valid number. */
static bool attr_store(ATTR_WANT *want, const char *value)
{
    char *end;
    long long num;

    switch (want->type) {
    case ATTR_TYPE_STR:
        vstring_strcpy((VSTRING *)want->ptr, value);
        return true;
    case ATTR_TYPE_INT:
    case ATTR_TYPE_LONG:
        if (*value == 0)
            return false;
        errno = 0;
        num = strtoll(value, &end, 10);
        if (*end != 0 || errno == ERANGE)
            return false;
        if (want->type == ATTR_TYPE_INT) {
            if (num < INT_MIN || num > INT_MAX)
                return false;
            *(int *)want->ptr = (int)num;
        } else {
            *(long long *)want->ptr = num;
        }
        return true;
    default:
        msg_panic("attr_store: bad attribute type %d", want->type);
    }
}

/* Receive one message and store the requested attributes; see attr.h. */
int attr_scan(VSTREAM *stream, int flags, ...)
{
    static VSTRING *name_buf;
    static VSTRING *value_buf;
    ATTR_WANT want[ATTR_SCAN_MAX];
    size_t nwant = 0;
    HTABLE *hash = NULL;
    va_list ap;
    int type;
    int stored = 0;
    bool first = true;

    if (name_buf == NULL) {
        name_buf = vstring_alloc(32);
        value_buf = vstring_alloc(100);
    }
    va_start(ap, flags);
    while ((type = va_arg(ap, int)) != ATTR_TYPE_END) {
        if (type == ATTR_TYPE_HASH) {
            hash = va_arg(ap, HTABLE *);
            continue;
        }
        if (type != ATTR_TYPE_INT && type != ATTR_TYPE_LONG && type != ATTR_TYPE_STR)
            msg_panic("attr_scan: bad attribute type %d", type);
        if (nwant >= ATTR_SCAN_MAX)
            msg_panic("attr_scan: more than %d attributes requested", ATTR_SCAN_MAX);
        want[nwant].type = type;
        want[nwant].name = va_arg(ap, const char *);
        want[nwant].ptr = va_arg(ap, void *);
        want[nwant].seen = false;
        nwant++;
    }
    va_end(ap);

    for (;;) {
        int rc = attr_read_string(stream, name_buf, "attribute name", NULL);

        if (rc == 0) {
            if (!first)
                msg_warn("premature end-of-input while reading attribute name from %s", vstream_path(stream));
            return -1;
        }
        if (rc < 0)
            return -1;
        first = false;
        if (VSTRING_LEN(name_buf) == 0)
            break; /* end marker */
        const char *name = vstring_str(name_buf);

        if (!attr_name_ok(name)) {
            msg_warn("malformed attribute name in input from %s", vstream_path(stream));
            return -1;
        }
        if ((rc = attr_read_string(stream, value_buf, "attribute value", name)) <= 0) {
            if (rc == 0)
                msg_warn("premature end-of-input while reading attribute value of %s from %s", name,
                         vstream_path(stream));
            return -1;
        }
        size_t i;

        for (i = 0; i < nwant && strcmp(want[i].name, name) != 0; i++)
            continue;
        if (i < nwant) {
            if (!attr_store(want + i, vstring_str(value_buf))) {
                msg_warn("malformed numerical data for attribute %s in input from %s: \"%.50s\"", name,
                         vstream_path(stream), vstring_str(value_buf));
                return -1;
            }
            if (!want[i].seen)
                stored++;
            want[i].seen = true;
        } else if (hash != NULL) {
            HTABLE_INFO *ht = htable_locate(hash, name);

            if (ht != NULL) {
                myfree(ht->value);
                ht->value = mystrdup(vstring_str(value_buf));
            } else {
                htable_enter(hash, name, mystrdup(vstring_str(value_buf)));
                stored++;
            }
        } else if (flags & ATTR_FLAG_EXTRA) {
            msg_warn("unexpected attribute %s in input from %s", name, vstream_path(stream));
            return -1;
        }
    }
    if (flags & ATTR_FLAG_MISSING) {
        for (size_t i = 0; i < nwant; i++) {
            if (!want[i].seen) {
                msg_warn("missing attribute %s in input from %s", want[i].name, vstream_path(stream));
                return -1;
            }
        }
    }
    return stored;
}
