/*
 * dict - common code for every table type: the method dispatch, the
 * refusing default methods, key folding, change detection and the
 * surrogate that stands in for a table that could not be opened.
 * See dict.h for the contract.
 */
#include "sys_defs.h"

#include <errno.h>
#include <stdarg.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dict.h"
#include "msg.h"
#include "mymalloc.h"
#include "stringops.h"

int dict_allow_surrogate = 0;

/* Look up key; NULL with dict->error telling "not found" from failure. */
const char *dict_get(DICT *dict, const char *key)
{
    dict->error = DICT_ERR_NONE;
    return dict->lookup(dict, key);
}

/* Store key -> value. */
int dict_put(DICT *dict, const char *key, const char *value)
{
    dict->error = DICT_ERR_NONE;
    return dict->update(dict, key, value);
}

/* Remove key. */
int dict_del(DICT *dict, const char *key)
{
    dict->error = DICT_ERR_NONE;
    return dict->delete (dict, key);
}

/* Step through the table's entries. */
int dict_seq(DICT *dict, int func, const char **key, const char **value)
{
    dict->error = DICT_ERR_NONE;
    return dict->sequence(dict, func, key, value);
}

/* Close the table (committing a build); frees the DICT. */
void dict_close(DICT *dict)
{
    dict->close(dict);
}

/*
 * Refuse an operation the table type cannot do. Asking for one is a
 * configuration error that no retry fixes (postmap -s on a static: table,
 * a cache configured on a read-only type), so the program ends, as Postfix.
 */
static NORETURN dict_refuse(DICT *dict, const char *what)
{
    msg_fatal("table %s:%s: %s operation is not supported", dict->type, dict->name, what);
}

static const char *dict_default_lookup(DICT *dict, const char *key)
{
    (void)key;
    dict_refuse(dict, "lookup");
}

static int dict_default_update(DICT *dict, const char *key, const char *value)
{
    (void)key;
    (void)value;
    dict_refuse(dict, "update");
}

static int dict_default_delete(DICT *dict, const char *key)
{
    (void)key;
    dict_refuse(dict, "delete");
}

static int dict_default_sequence(DICT *dict, int func, const char **key, const char **value)
{
    (void)func;
    (void)key;
    (void)value;
    dict_refuse(dict, "sequence");
}

static void dict_default_close(DICT *dict)
{
    dict_free(dict);
}

/* Allocate a zeroed backend structure of size bytes with DICT first. */
DICT *dict_alloc(const char *type, const char *name, size_t size)
{
    DICT *dict;

    if (size < sizeof(DICT))
        msg_panic("dict_alloc: size %zu is smaller than a DICT", size);
    dict = mymalloc(size);
    memset(dict, 0, size);
    dict->type = mystrdup(type);
    dict->name = mystrdup(name);
    dict->lookup = dict_default_lookup;
    dict->update = dict_default_update;
    dict->delete = dict_default_delete;
    dict->sequence = dict_default_sequence;
    dict->close = dict_default_close;
    dict->stat_fd = -1;
    return dict;
}

/* Release what dict_alloc() allocated (the watched descriptor included). */
void dict_free(DICT *dict)
{
    if (dict->stat_fd >= 0)
        (void)close(dict->stat_fd);
    if (dict->fold_buf)
        vstring_free(dict->fold_buf);
    myfree(dict->type);
    myfree(dict->name);
    myfree(dict);
}

/* The key in lower case if the table folds keys, else the key itself. */
const char *dict_fold(DICT *dict, const char *key)
{
    if ((dict->flags & DICT_FLAG_FOLD_FIX) == 0)
        return key;
    if (dict->fold_buf == NULL)
        dict->fold_buf = vstring_alloc(64);
    vstring_strcpy(dict->fold_buf, key);
    return lowercase(vstring_str(dict->fold_buf));
}

/* Remember an open descriptor of the table's file for dict_changed(). */
void dict_file_watch(DICT *dict, int fd)
{
    struct stat st;

    if (dict->stat_fd >= 0)
        (void)close(dict->stat_fd);
    dict->stat_fd = -1;
    if (fstat(fd, &st) < 0)
        return;
    if ((dict->stat_fd = dup(fd)) < 0)
        return;
    dict->mtime = st.st_mtim;
    (void)fcntl(dict->stat_fd, F_SETFD, FD_CLOEXEC);
}

/* Whether the watched file was modified or replaced since it was opened. */
bool dict_changed(const DICT *dict)
{
    struct stat st;

    if (dict->changed)
        return dict->changed(dict);
    if (dict->stat_fd < 0)
        return false;
    if (fstat(dict->stat_fd, &st) < 0)
        return false;
    return st.st_nlink == 0 || st.st_mtim.tv_sec != dict->mtime.tv_sec ||
           st.st_mtim.tv_nsec != dict->mtime.tv_nsec;
}

/*
 * The surrogate: a table that could not be opened. Lookups and updates
 * fail temporarily and say why, so mail waits for the administrator.
 */
typedef struct DICT_SURROGATE {
    DICT dict;
    char *reason;
} DICT_SURROGATE;

static const char *dict_surrogate_lookup(DICT *dict, const char *key)
{
    DICT_SURROGATE *dp = (DICT_SURROGATE *)dict;

    (void)key;
    msg_warn("%s:%s is unavailable. %s", dict->type, dict->name, dp->reason);
    DICT_ERR_VAL_RETURN(dict, DICT_ERR_RETRY, NULL);
}

static int dict_surrogate_update(DICT *dict, const char *key, const char *value)
{
    (void)value;
    return dict_surrogate_lookup(dict, key), DICT_STAT_ERROR;
}

static int dict_surrogate_delete(DICT *dict, const char *key)
{
    return dict_surrogate_lookup(dict, key), DICT_STAT_ERROR;
}

static int dict_surrogate_sequence(DICT *dict, int func, const char **key, const char **value)
{
    (void)func;
    (void)key;
    (void)value;
    return dict_surrogate_lookup(dict, ""), DICT_STAT_ERROR;
}

static void dict_surrogate_close(DICT *dict)
{
    DICT_SURROGATE *dp = (DICT_SURROGATE *)dict;

    myfree(dp->reason);
    dict_free(dict);
}

/* A stand-in for type:name that could not be opened, for the reason given. */
DICT *dict_surrogate(const char *type, const char *name, int open_flags, int dict_flags, const char *fmt, ...)
{
    DICT_SURROGATE *dp;
    VSTRING *reason = vstring_alloc(100);
    int saved_errno = errno;
    va_list ap;

    va_start(ap, fmt);
    errno = saved_errno;
    vstring_vsprintf(reason, fmt, ap);
    va_end(ap);

    dp = (DICT_SURROGATE *)dict_alloc(type, name, sizeof(*dp));
    dp->dict.lookup = dict_surrogate_lookup;
    dp->dict.update = dict_surrogate_update;
    dp->dict.delete = dict_surrogate_delete;
    dp->dict.sequence = dict_surrogate_sequence;
    dp->dict.close = dict_surrogate_close;
    dp->dict.flags = (dict_flags & ~(DICT_FLAG_FIXED | DICT_FLAG_PATTERN)) | DICT_FLAG_SURROGATE;
    dp->dict.open_flags = open_flags;
    dp->reason = vstring_export(reason);
    if (dict_allow_surrogate)
        msg_error("%s", dp->reason);
    return &dp->dict;
}

/* The reason a surrogate was made (for dict_open()'s fatal message). */
const char *dict_surrogate_reason(const DICT *dict)
{
    return (dict->flags & DICT_FLAG_SURROGATE) ? ((const DICT_SURROGATE *)dict)->reason : NULL;
}

/* NULL if the open is read-only, else a surrogate refusing the write. */
DICT *dict_require_rdonly(const char *type, const char *name, int open_flags, int dict_flags)
{
    if ((open_flags & O_ACCMODE) == O_RDONLY)
        return NULL;
    return dict_surrogate(type, name, open_flags, dict_flags, "%s:%s map requires O_RDONLY access mode", type,
                          name);
}
