/*
 * dict - the lookup-table interface shared by every table type.
 *
 * A DICT is one open table ("hash:/etc/postfix/virtual", "regexp:/x",
 * "static:foo"). Each backend (dict_lmdb.c, dict_regexp.c, ...) allocates
 * its own structure with DICT as the first member via dict_alloc() and
 * fills in the methods it supports; the registry in dict_open.c maps a type
 * name to the backend's open function.
 *
 * Public functions:
 *   dict_open(spec, open_flags, dict_flags)     "type:name" -> DICT (dict_open.c)
 *   dict_open3(type, name, open_flags, dict_flags)
 *   dict_get(dict, key)           lookup: value, or NULL with dict->error
 *                                 DICT_ERR_NONE (not found) or
 *                                 DICT_ERR_RETRY / DICT_ERR_CONFIG (failure)
 *   dict_put(dict, key, value)    DICT_STAT_SUCCESS, DICT_STAT_FAIL (a
 *                                 duplicate that was kept), DICT_STAT_ERROR
 *   dict_del(dict, key)           DICT_STAT_SUCCESS, DICT_STAT_FAIL (not
 *                                 found), DICT_STAT_ERROR
 *   dict_seq(dict, func, &key, &value)
 *                                 DICT_SEQ_FUN_FIRST / _NEXT; returns
 *                                 DICT_STAT_SUCCESS, DICT_STAT_FAIL (end),
 *                                 DICT_STAT_ERROR
 *   dict_close(dict)              release (and, for a table being built,
 *                                 commit: see dict_lmdb.c / dict_cdb.c)
 *   dict_changed(dict)            the table's file was modified or replaced
 *                                 since it was opened (a table made of other
 *                                 tables sets dict->changed to ask them)
 *
 * Helpers for backends:
 *   dict_alloc(type, name, size)  zeroed structure, default methods that
 *                                 refuse the operation: "fatal: table
 *                                 TYPE:NAME: OP operation is not supported"
 *   dict_free(dict)               release what dict_alloc() allocated
 *   dict_fold(dict, key)          the key folded to lower case when the
 *                                 table folds (DICT_FLAG_FOLD_FIX), else key
 *   dict_surrogate(type, name, open_flags, dict_flags, fmt, ...)
 *                                 a stand-in for a table that could not be
 *                                 opened: every lookup logs "TYPE:NAME is
 *                                 unavailable. REASON" and fails with
 *                                 DICT_ERR_RETRY; updates fail the same way
 *   dict_require_rdonly(type, name, open_flags, dict_flags)
 *                                 for read-only types: NULL when open_flags
 *                                 ask for reading only, else a surrogate
 *                                 "TYPE:NAME map requires O_RDONLY access mode"
 *   dict_surrogate_reason(dict)   why a surrogate was made; NULL for a real table
 *   dict_file_watch(dict, fd)     remember fd's file for dict_changed()
 *
 * Errors: a backend that cannot open its table returns dict_surrogate()
 * (never NULL). Programs that must not run on a broken table (postmap,
 * postalias, postconf) leave dict_allow_surrogate at 0: dict_open() then
 * ends the program with "fatal: REASON". Daemons set it to 1 and degrade:
 * mail waits instead of being rejected or delivered by mistake.
 */
#ifndef DICT_H
#define DICT_H

#include <fcntl.h>
#include <time.h>

#include "sys_defs.h"
#include "vstring.h"

/* dict->error after an operation. */
#define DICT_ERR_NONE   0    /* success, or "not found" */
#define DICT_ERR_RETRY  (-1) /* temporary failure: try later */
#define DICT_ERR_CONFIG (-2) /* configuration error */

/* Result of dict_put(), dict_del(), dict_seq(). */
#define DICT_STAT_FAIL    1 /* not found / duplicate kept */
#define DICT_STAT_SUCCESS 0
#define DICT_STAT_ERROR   (-1) /* see dict->error */

#define DICT_SEQ_FUN_FIRST 0
#define DICT_SEQ_FUN_NEXT  1

/*
 * dict_flags. The DUP_*, TRY*NULL, FOLD_FIX, LOCK, NO_REGSUB and
 * BULK_UPDATE flags are requests from the caller; FIXED, PATTERN,
 * SURROGATE and MULTI_WRITER describe the table and are set by backends.
 */
#define DICT_FLAG_NONE         0
#define DICT_FLAG_DUP_WARN     (1 << 0)  /* warn about duplicate keys, keep first */
#define DICT_FLAG_DUP_IGNORE   (1 << 1)  /* keep the first duplicate silently */
#define DICT_FLAG_DUP_REPLACE  (1 << 2)  /* the last duplicate wins silently */
#define DICT_FLAG_TRY0NULL     (1 << 3)  /* keys/values stored without NUL */
#define DICT_FLAG_TRY1NULL     (1 << 4)  /* keys/values stored with NUL */
#define DICT_FLAG_FIXED        (1 << 5)  /* exact-key table */
#define DICT_FLAG_PATTERN      (1 << 6)  /* rule table: whole query only */
#define DICT_FLAG_LOCK         (1 << 7)  /* lock the file around each access */
#define DICT_FLAG_FOLD_FIX     (1 << 8)  /* fold exact keys to lower case */
#define DICT_FLAG_NO_REGSUB    (1 << 9)  /* no $n substitution (alias_maps) */
#define DICT_FLAG_BULK_UPDATE  (1 << 10) /* building: one transaction, commit at close */
#define DICT_FLAG_SURROGATE    (1 << 11) /* stand-in for an unopenable table */
#define DICT_FLAG_NO_PROXY     (1 << 12) /* proxy: opens the table directly */
#define DICT_FLAG_MULTI_WRITER (1 << 13) /* safe for concurrent writers */
#define DICT_FLAG_DUP_MASK     (DICT_FLAG_DUP_WARN | DICT_FLAG_DUP_IGNORE | DICT_FLAG_DUP_REPLACE)

/* Defaults for programs that query (daemons, postmap -q). */
#define DICT_FLAG_DEFAULT                                                                                    \
    (DICT_FLAG_DUP_WARN | DICT_FLAG_TRY0NULL | DICT_FLAG_TRY1NULL | DICT_FLAG_FOLD_FIX | DICT_FLAG_LOCK)

typedef struct DICT {
    char *type;     /* "hash" */
    char *name;     /* "/etc/postfix/virtual" */
    int flags;      /* DICT_FLAG_* */
    int open_flags; /* O_RDONLY, O_RDWR | O_CREAT | O_TRUNC, ... */
    const char *(*lookup)(struct DICT *dict, const char *key);
    int (*update)(struct DICT *dict, const char *key, const char *value);
    int (*delete)(struct DICT *dict, const char *key);
    int (*sequence)(struct DICT *dict, int func, const char **key, const char **value);
    void (*close)(struct DICT *dict);
    bool (*changed)(const struct DICT *dict); /* optional: tables made of tables */
    int error;                                /* DICT_ERR_* of the last operation */
    int stat_fd;                              /* dict_changed(): watched file, or -1 */
    struct timespec mtime;                    /* its modification time at open */
    VSTRING *fold_buf;                        /* dict_fold() result */
} DICT;

/* Set dict->error and return val; for backends' one-line exits. */
#define DICT_ERR_VAL_RETURN(dict, err, val)                                                                  \
    do {                                                                                                     \
        (dict)->error = (err);                                                                               \
        return (val);                                                                                        \
    } while (0)

extern int dict_allow_surrogate;

extern DICT *dict_open(const char *spec, int open_flags, int dict_flags);
extern DICT *dict_open3(const char *type, const char *name, int open_flags, int dict_flags);
extern const char *dict_get(DICT *dict, const char *key);
extern int dict_put(DICT *dict, const char *key, const char *value);
extern int dict_del(DICT *dict, const char *key);
extern int dict_seq(DICT *dict, int func, const char **key, const char **value);
extern void dict_close(DICT *dict);
extern bool dict_changed(const DICT *dict);

extern DICT *dict_alloc(const char *type, const char *name, size_t size);
extern void dict_free(DICT *dict);
extern const char *dict_fold(DICT *dict, const char *key);
extern DICT *dict_surrogate(const char *type, const char *name, int open_flags, int dict_flags,
                            const char *fmt, ...) PRINTFLIKE(5, 6);
extern DICT *dict_require_rdonly(const char *type, const char *name, int open_flags, int dict_flags);
extern const char *dict_surrogate_reason(const DICT *dict);
extern void dict_file_watch(DICT *dict, int fd);

#endif
