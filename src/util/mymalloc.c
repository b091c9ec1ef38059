/*
 * mymalloc - memory allocation that never returns NULL. See mymalloc.h.
 */
#include "sys_defs.h"

#include <stdlib.h>
#include <string.h>

#include "msg.h"
#include "mymalloc.h"

/* Allocate len bytes (at least one), or die. */
void *mymalloc(size_t len)
{
    void *ptr = malloc(len ? len : 1);

    if (ptr == NULL)
        msg_fatal("mymalloc: insufficient memory for %zu bytes: %m", len);
    return ptr;
}

/* Allocate a zeroed array, or die; the multiplication is overflow-checked. */
void *mycalloc(size_t count, size_t len)
{
    void *ptr = calloc(count ? count : 1, len ? len : 1);

    if (ptr == NULL)
        msg_fatal("mycalloc: insufficient memory for %zu x %zu bytes: %m", count, len);
    return ptr;
}

/* Resize an allocation (ptr may be NULL), or die. */
void *myrealloc(void *ptr, size_t len)
{
    void *p = realloc(ptr, len ? len : 1);

    if (p == NULL)
        msg_fatal("myrealloc: insufficient memory for %zu bytes: %m", len);
    return p;
}

/* Release memory; returns NULL for the p = myfree(p) idiom. */
void *myfree(void *ptr)
{
    free(ptr);
    return NULL;
}

/* Duplicate a string, or die. */
char *mystrdup(const char *str)
{
    return mymemdup(str, strlen(str) + 1);
}

/* Duplicate at most len bytes of a string and terminate the copy. */
char *mystrndup(const char *str, size_t len)
{
    const char *end = memchr(str, 0, len);
    size_t n = end ? (size_t) (end - str) : len;
    char *copy = mymalloc(n + 1);

    memcpy(copy, str, n);
    copy[n] = 0;
    return copy;
}

/* Duplicate len bytes of arbitrary memory, or die. */
void *mymemdup(const void *ptr, size_t len)
{
    void *copy = mymalloc(len);

    memcpy(copy, ptr, len);
    return copy;
}
