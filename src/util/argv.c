/*
 * argv - growable, NULL-terminated string vectors. See argv.h.
 */
#include "sys_defs.h"

#include <stdlib.h>
#include <string.h>

#include "argv.h"
#include "msg.h"
#include "mymalloc.h"

ARGV *argv_alloc(size_t size)
{
    ARGV *ap = mymalloc(sizeof(*ap));

    ap->size = size < 4 ? 4 : size;
    ap->argv = mymalloc((ap->size + 1) * sizeof(char *));
    ap->argc = 0;
    ap->argv[0] = NULL;
    return ap;
}

ARGV *argv_free(ARGV *ap)
{
    if (ap) {
        for (size_t i = 0; i < ap->argc; i++)
            myfree(ap->argv[i]);
        myfree(ap->argv);
        myfree(ap);
    }
    return NULL;
}

/* Make room for one more pointer plus the terminating NULL. */
static void argv_grow(ARGV *ap)
{
    if (ap->argc >= ap->size) {
        ap->size *= 2;
        ap->argv = myrealloc(ap->argv, (ap->size + 1) * sizeof(char *));
    }
}

/* Append a copy of str. */
void argv_add(ARGV *ap, const char *str)
{
    argv_grow(ap);
    ap->argv[ap->argc++] = mystrdup(str);
    ap->argv[ap->argc] = NULL;
}

/* Append a copy of the first len bytes of str. */
void argv_addn(ARGV *ap, const char *str, size_t len)
{
    argv_grow(ap);
    ap->argv[ap->argc++] = mystrndup(str, len);
    ap->argv[ap->argc] = NULL;
}

/* Insert a copy of str before position where (where <= argc). */
void argv_insert(ARGV *ap, size_t where, const char *str)
{
    if (where > ap->argc)
        msg_panic("argv_insert: bad position %zu > %zu", where, ap->argc);
    argv_grow(ap);
    memmove(ap->argv + where + 1, ap->argv + where, (ap->argc - where + 1) * sizeof(char *));
    ap->argv[where] = mystrdup(str);
    ap->argc++;
}

/* Remove count strings starting at position where. */
void argv_delete(ARGV *ap, size_t where, size_t count)
{
    if (where + count > ap->argc || where + count < where)
        msg_panic("argv_delete: bad range %zu+%zu > %zu", where, count, ap->argc);
    for (size_t i = where; i < where + count; i++)
        myfree(ap->argv[i]);
    memmove(ap->argv + where, ap->argv + where + count, (ap->argc - where - count + 1) * sizeof(char *));
    ap->argc -= count;
}

/* Keep only the first len strings. */
void argv_truncate(ARGV *ap, size_t len)
{
    if (len < ap->argc)
        argv_delete(ap, len, ap->argc - len);
}

static int argv_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *) a, *(char *const *) b);
}

/* Sort the strings in byte order. */
void argv_sort(ARGV *ap)
{
    qsort(ap->argv, ap->argc, sizeof(char *), argv_cmp);
}

/* Remove adjacent duplicates (sort first for set semantics). */
void argv_uniq(ARGV *ap)
{
    for (size_t i = 1; i < ap->argc; /* void */) {
        if (strcmp(ap->argv[i - 1], ap->argv[i]) == 0)
            argv_delete(ap, i, 1);
        else
            i++;
    }
}

/* Split str at any character in delim; empty fields are dropped. */
ARGV *argv_split(const char *str, const char *delim)
{
    ARGV *ap = argv_alloc(4);

    while (*str) {
        size_t skip = strspn(str, delim);
        size_t len;

        str += skip;
        if ((len = strcspn(str, delim)) > 0)
            argv_addn(ap, str, len);
        str += len;
    }
    return ap;
}

ARGV *argv_copy(const ARGV *ap)
{
    ARGV *copy = argv_alloc(ap->argc);

    for (size_t i = 0; i < ap->argc; i++)
        argv_add(copy, ap->argv[i]);
    return copy;
}
