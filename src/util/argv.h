/*
 * argv - growable, NULL-terminated string vectors.
 *
 * An ARGV owns copies of its strings. argv_split() breaks a string at any
 * of the given delimiter characters, dropping empty fields. argv_free()
 * returns NULL.
 */
#ifndef ARGV_H
#define ARGV_H

#include <stddef.h>

typedef struct ARGV {
    char **argv;                        /* NULL-terminated */
    size_t argc;                        /* strings in use */
    size_t size;                        /* slots allocated */
} ARGV;

extern ARGV *argv_alloc(size_t size);
extern ARGV *argv_free(ARGV *ap);
extern void argv_add(ARGV *ap, const char *str);
extern void argv_addn(ARGV *ap, const char *str, size_t len);
extern void argv_insert(ARGV *ap, size_t where, const char *str);
extern void argv_delete(ARGV *ap, size_t where, size_t count);
extern void argv_truncate(ARGV *ap, size_t len);
extern void argv_sort(ARGV *ap);
extern void argv_uniq(ARGV *ap);
extern ARGV *argv_split(const char *str, const char *delim);
extern ARGV *argv_copy(const ARGV *ap);

#endif
