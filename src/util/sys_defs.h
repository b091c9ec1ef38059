/*
 * sys_defs.h - the one place where Postern selects its system interfaces.
 *
 * Every .c file includes this header first. It sets the feature-test
 * macros (POSIX 2008 plus the Linux extensions Postern uses: epoll,
 * accept4, pipe2, O_CLOEXEC everywhere) and defines the small portability
 * and annotation macros used across the tree.
 */
#ifndef SYS_DEFS_H
#define SYS_DEFS_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif

#include <stddef.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#define PRINTFLIKE(fmt, args) __attribute__((format(printf, fmt, args)))
#define NORETURN _Noreturn void
#define UNUSED __attribute__((unused))

/* Number of elements of a true array (not a pointer). */
#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

#endif
