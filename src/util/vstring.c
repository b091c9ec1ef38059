/*
 * vstring - growable, binary-safe strings. See vstring.h.
 */
#include "sys_defs.h"

#include <stdio.h>
#include <string.h>

#include "msg.h"
#include "mymalloc.h"
#include "vstring.h"

/* Create an empty string with room for at least size bytes. */
VSTRING *vstring_alloc(size_t size)
{
    VSTRING *vp = mymalloc(sizeof(*vp));

    vp->size = size < 16 ? 16 : size + 1;
    vp->data = mymalloc(vp->size);
    vp->len = 0;
    vp->data[0] = 0;
    return vp;
}

/* Release a string; returns NULL. */
VSTRING *vstring_free(VSTRING *vp)
{
    if (vp) {
        myfree(vp->data);
        myfree(vp);
    }
    return NULL;
}

/* Make room for more bytes after the current end (plus the terminator). */
void vstring_space(VSTRING *vp, size_t more)
{
    size_t need = vp->len + more + 1;

    if (need < vp->len)
        msg_panic("vstring_space: length overflow");
    if (need <= vp->size)
        return;
    size_t size = vp->size * 2;

    if (size < need)
        size = need;
    vp->data = myrealloc(vp->data, size);
    vp->size = size;
}

/* Replace the contents with len bytes of memory. */
VSTRING *vstring_memcpy(VSTRING *vp, const void *ptr, size_t len)
{
    vp->len = 0;
    return vstring_memcat(vp, ptr, len);
}

/* Append len bytes of memory. */
VSTRING *vstring_memcat(VSTRING *vp, const void *ptr, size_t len)
{
    vstring_space(vp, len);
    if (len)
        memmove(vp->data + vp->len, ptr, len);
    vp->len += len;
    vp->data[vp->len] = 0;
    return vp;
}

/* Replace the contents with a C string. */
VSTRING *vstring_strcpy(VSTRING *vp, const char *str)
{
    return vstring_memcpy(vp, str, strlen(str));
}

/* Replace the contents with at most len bytes of a C string. */
VSTRING *vstring_strncpy(VSTRING *vp, const char *str, size_t len)
{
    vp->len = 0;
    return vstring_strncat(vp, str, len);
}

/* Append a C string. */
VSTRING *vstring_strcat(VSTRING *vp, const char *str)
{
    return vstring_memcat(vp, str, strlen(str));
}

/* Append at most len bytes of a C string. */
VSTRING *vstring_strncat(VSTRING *vp, const char *str, size_t len)
{
    const char *end = memchr(str, 0, len);

    return vstring_memcat(vp, str, end ? (size_t) (end - str) : len);
}

/* Shorten the string to len bytes; a longer len is ignored. */
VSTRING *vstring_truncate(VSTRING *vp, size_t len)
{
    if (len < vp->len) {
        vp->len = len;
        vp->data[len] = 0;
    }
    return vp;
}

/* Append printf-style formatted text. */
VSTRING *vstring_vsprintf_append(VSTRING *vp, const char *fmt, va_list ap)
{
    va_list ap2;
    int n;

    va_copy(ap2, ap);
    n = vsnprintf(vp->data + vp->len, vp->size - vp->len, fmt, ap2);
    va_end(ap2);
    if (n < 0)
        msg_panic("vstring_vsprintf_append: bad format \"%s\"", fmt);
    if ((size_t) n >= vp->size - vp->len) {
        vstring_space(vp, (size_t) n);
        va_copy(ap2, ap);
        (void) vsnprintf(vp->data + vp->len, vp->size - vp->len, fmt, ap2);
        va_end(ap2);
    }
    vp->len += (size_t) n;
    return vp;
}

/* Replace the contents with printf-style formatted text. */
VSTRING *vstring_vsprintf(VSTRING *vp, const char *fmt, va_list ap)
{
    vstring_reset(vp);
    return vstring_vsprintf_append(vp, fmt, ap);
}

/* Replace the contents with printf-style formatted text. */
VSTRING *vstring_sprintf(VSTRING *vp, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vstring_vsprintf(vp, fmt, ap);
    va_end(ap);
    return vp;
}

/* Append printf-style formatted text. */
VSTRING *vstring_sprintf_append(VSTRING *vp, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vstring_vsprintf_append(vp, fmt, ap);
    va_end(ap);
    return vp;
}

/* Take over the buffer as a C string and release the VSTRING shell. */
char *vstring_export(VSTRING *vp)
{
    char *str = vp->data;

    myfree(vp);
    return str;
}
