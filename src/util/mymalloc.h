/*
 * mymalloc - memory allocation that never returns NULL.
 *
 * mymalloc(), myrealloc() and the string duplicators either succeed or end
 * the process with a fatal "out of memory" diagnostic: callers never test
 * for NULL. myfree() returns NULL so that callers can write p = myfree(p).
 */
#ifndef MYMALLOC_H
#define MYMALLOC_H

#include <stddef.h>

extern void *mymalloc(size_t len);
extern void *mycalloc(size_t count, size_t len);
extern void *myrealloc(void *ptr, size_t len);
extern void *myfree(void *ptr);
extern char *mystrdup(const char *str);
extern char *mystrndup(const char *str, size_t len);
extern void *mymemdup(const void *ptr, size_t len);

#endif
