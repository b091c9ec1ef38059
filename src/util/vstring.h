/*
 * vstring - growable, binary-safe strings.
 *
 * A VSTRING holds len bytes of data followed by a NUL that is not counted,
 * so vstring_str() can always be passed where a C string is expected
 * (embedded NULs are kept but end the C view). Storage grows as needed and
 * allocation never fails (see mymalloc). Functions return their VSTRING
 * argument so calls can be chained; vstring_free() returns NULL.
 */
#ifndef VSTRING_H
#define VSTRING_H

#include <stdarg.h>
#include <stddef.h>

#include "sys_defs.h"

typedef struct VSTRING {
    char *data;                         /* len bytes plus a terminator */
    size_t len;                         /* bytes in use */
    size_t size;                        /* bytes allocated */
} VSTRING;

extern VSTRING *vstring_alloc(size_t size);
extern VSTRING *vstring_free(VSTRING *vp);
extern void vstring_space(VSTRING *vp, size_t more);
extern VSTRING *vstring_strcpy(VSTRING *vp, const char *str);
extern VSTRING *vstring_strncpy(VSTRING *vp, const char *str, size_t len);
extern VSTRING *vstring_strcat(VSTRING *vp, const char *str);
extern VSTRING *vstring_strncat(VSTRING *vp, const char *str, size_t len);
extern VSTRING *vstring_memcpy(VSTRING *vp, const void *ptr, size_t len);
extern VSTRING *vstring_memcat(VSTRING *vp, const void *ptr, size_t len);
extern VSTRING *vstring_truncate(VSTRING *vp, size_t len);
extern VSTRING *vstring_sprintf(VSTRING *vp, const char *fmt, ...) PRINTFLIKE(2, 3);
extern VSTRING *vstring_sprintf_append(VSTRING *vp, const char *fmt, ...) PRINTFLIKE(2, 3);
extern VSTRING *vstring_vsprintf(VSTRING *vp, const char *fmt, va_list ap) PRINTFLIKE(2, 0);
extern VSTRING *vstring_vsprintf_append(VSTRING *vp, const char *fmt, va_list ap) PRINTFLIKE(2, 0);
extern char *vstring_export(VSTRING *vp);

#define vstring_str(vp) ((vp)->data)
#define VSTRING_LEN(vp) ((vp)->len)
#define vstring_end(vp) ((vp)->data + (vp)->len)

/* Empty the string, keeping its storage. */
static inline VSTRING *vstring_reset(VSTRING *vp)
{
    vp->len = 0;
    vp->data[0] = 0;
    return vp;
}

/* Append one byte and keep the string terminated. */
static inline void vstring_addch(VSTRING *vp, int ch)
{
    if (vp->len + 1 >= vp->size)
        vstring_space(vp, 1);
    vp->data[vp->len++] = (char) ch;
    vp->data[vp->len] = 0;
}

#endif
