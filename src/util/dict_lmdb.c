/*
 * dict_lmdb - hash:, btree: and lmdb: tables stored with LMDB. See
 * dict_lmdb.h for the contract.
 *
 * LMDB runs with MDB_NOLOCK: there is no PATH-lock file, and concurrency
 * comes from flock() on the table file instead. That keeps tables readable
 * by daemons that may not write beside them (a lock file made by root
 * would lock them out) and matches Postfix, which also leaves no lock file.
 * Without LMDB's reader table a writer may reuse any page that the last
 * committed transaction no longer needs, so readers hold a shared lock for
 * the life of each read transaction and writers an exclusive lock for the
 * life of each write transaction.
 *
 * Map size: without MDB_WRITEMAP the file grows only with its data, so a
 * writer maps a generous virtual size and doubles it when LMDB reports the
 * map full; the transaction is then started again and its changes, kept in
 * a replay log, applied again. A reader maps the file's size plus some
 * room, and maps again when another process has grown the file
 * (MDB_MAP_RESIZED).
 */
#include "sys_defs.h"

#ifdef HAS_LMDB

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <lmdb.h>

#include "atomic_file.h"
#include "dict.h"
#include "dict_lmdb.h"
#include "msg.h"
#include "myflock.h"
#include "mymalloc.h"
#include "vstring.h"

/* dict_lmdb_test.c compiles this file with small sizes to exercise growth. */
#ifndef DICT_LMDB_WRITE_MAP
#define DICT_LMDB_WRITE_MAP ((size_t)256 << 20) /* writers' first map size */
#endif
#ifndef DICT_LMDB_LOG_MAX
#define DICT_LMDB_LOG_MAX ((size_t)64 << 20) /* temp build: commit a segment */
#endif
#define DICT_LMDB_MAP_ROUND ((size_t)1 << 20) /* map sizes are MiB multiples */
#define DICT_LMDB_RETRIES   8                 /* remaps before giving up */

#define DICT_LMDB_OP_PUT 'P'
#define DICT_LMDB_OP_DEL 'D'

#define DICT_LMDB_NUL_FLAGS (DICT_FLAG_TRY0NULL | DICT_FLAG_TRY1NULL)

typedef struct DICT_LMDB {
    DICT dict;
    char *path;       /* PATH.db or PATH.lmdb */
    char *label;      /* table name in duplicate-entry messages */
    ATOMIC_FILE *tmp; /* hash/btree build: the temporary file, else NULL */
    bool writer;      /* opened for update */
    bool bulk;        /* all changes in one transaction, committed at close */
    bool truncate;    /* lmdb build: empty the table in that transaction */
    bool failed;      /* a change of the bulk transaction failed */
    MDB_env *env;
    bool env_open; /* mdb_env_open() succeeded */
    MDB_dbi dbi;
    int fd;             /* the file under LMDB (flock, fsync), or -1 */
    bool own_fd;        /* fd is ours (temporary file), not LMDB's */
    bool new_file;      /* bulk update of a file it created: removed unless committed */
    int lock;           /* MYFLOCK_OP_* held on fd */
    size_t mapsize;     /* current map size */
    MDB_txn *rtxn;      /* read transaction, reset between uses */
    bool rtxn_live;     /* rtxn renewed */
    MDB_txn *wtxn;      /* write transaction in progress */
    MDB_cursor *cursor; /* sequence() position */
    bool seq_active;    /* between DICT_SEQ_FUN_FIRST and the end */
    bool seq_stale;     /* cursor dropped by a change: find seq_key again */
    VSTRING *seq_key;   /* raw key at the sequence position */
    VSTRING *log;       /* changes of the bulk transaction, for replay */
    VSTRING *key_buf;   /* sequence() result key */
    VSTRING *val_buf;   /* lookup() and sequence() result value */
} DICT_LMDB;

/* Round a map size up to a whole number of MiB. */
static size_t dict_lmdb_round(size_t size)
{
    return (size + DICT_LMDB_MAP_ROUND - 1) / DICT_LMDB_MAP_ROUND * DICT_LMDB_MAP_ROUND;
}

/* Change the map size; LMDB may round it up to what the data needs. */
static int dict_lmdb_set_mapsize(DICT_LMDB *dl, size_t size)
{
    MDB_envinfo info;
    int rc;

    if ((rc = mdb_env_set_mapsize(dl->env, size)) != 0)
        return rc;
    dl->mapsize = size;
    if (dl->env_open && mdb_env_info(dl->env, &info) == 0 && info.me_mapsize > size)
        dl->mapsize = info.me_mapsize;
    return 0;
}

/* Map what the file holds now (another process grew it), with room to grow. */
static int dict_lmdb_refit(DICT_LMDB *dl)
{
    struct stat st;
    size_t want;

    if (fstat(dl->fd, &st) < 0)
        return errno;
    want = dict_lmdb_round((size_t)st.st_size + (size_t)st.st_size / 4 + DICT_LMDB_MAP_ROUND);
    if (dl->writer && want < 2 * dl->mapsize)
        want = 2 * dl->mapsize;
    if (want <= dl->mapsize)
        return MDB_CORRUPTED; /* claims more pages than the file has */
    return dict_lmdb_set_mapsize(dl, want);
}

/* Move the flock() state of the table file to op (a MYFLOCK_OP_*). */
static int dict_lmdb_lock(DICT_LMDB *dl, int op)
{
    if (dl->lock == op)
        return 0;
    if (myflock(dl->fd, MYFLOCK_METHOD_FLOCK, op) < 0)
        return errno ? errno : EIO;
    dl->lock = op;
    return 0;
}

/* Start a read snapshot: shared lock (DICT_FLAG_LOCK) and a renewed rtxn. */
static int dict_lmdb_read_begin(DICT_LMDB *dl)
{
    int rc;

    if ((dl->dict.flags & DICT_FLAG_LOCK) && dl->lock == MYFLOCK_OP_NONE &&
        (rc = dict_lmdb_lock(dl, MYFLOCK_OP_SHARED)) != 0)
        return rc;
    for (int tries = 0;; tries++) {
        rc = mdb_txn_renew(dl->rtxn);
        if (rc != MDB_MAP_RESIZED || tries >= DICT_LMDB_RETRIES)
            break;
        if ((rc = dict_lmdb_refit(dl)) != 0)
            break;
    }
    if (rc != 0) {
        if (dl->lock == MYFLOCK_OP_SHARED)
            (void)dict_lmdb_lock(dl, MYFLOCK_OP_NONE);
        return rc;
    }
    dl->rtxn_live = true;
    return 0;
}

/* End a read snapshot started with dict_lmdb_read_begin(). */
static void dict_lmdb_read_end(DICT_LMDB *dl)
{
    if (dl->rtxn_live) {
        mdb_txn_reset(dl->rtxn);
        dl->rtxn_live = false;
    }
    if (dl->lock == MYFLOCK_OP_SHARED)
        (void)dict_lmdb_lock(dl, MYFLOCK_OP_NONE);
}

/* Begin the write transaction; the caller holds the exclusive lock. */
static int dict_lmdb_write_begin(DICT_LMDB *dl)
{
    int rc;

    for (int tries = 0;; tries++) {
        rc = mdb_txn_begin(dl->env, NULL, 0, &dl->wtxn);
        if (rc != MDB_MAP_RESIZED || tries >= DICT_LMDB_RETRIES)
            break;
        if ((rc = dict_lmdb_refit(dl)) != 0)
            break;
    }
    if (rc != 0) {
        dl->wtxn = NULL;
        return rc;
    }
    if (dl->truncate && (rc = mdb_drop(dl->wtxn, dl->dbi, 0)) != 0) {
        mdb_txn_abort(dl->wtxn);
        dl->wtxn = NULL;
    }
    return rc;
}

/* Apply one change to the write transaction (copies: LMDB may rewrite them). */
static int dict_lmdb_apply(DICT_LMDB *dl, int op, const MDB_val *key, const MDB_val *val, unsigned flags)
{
    MDB_val k = *key;
    MDB_val v = *val;

    if (op == DICT_LMDB_OP_PUT)
        return mdb_put(dl->wtxn, dl->dbi, &k, &v, flags);
    return mdb_del(dl->wtxn, dl->dbi, &k, NULL);
}

/* Append a change that succeeded to the replay log. */
static void dict_lmdb_log(DICT_LMDB *dl, int op, const MDB_val *key, const MDB_val *val)
{
    vstring_addch(dl->log, op);
    vstring_memcat(dl->log, &key->mv_size, sizeof(key->mv_size));
    vstring_memcat(dl->log, key->mv_data, key->mv_size);
    vstring_memcat(dl->log, &val->mv_size, sizeof(val->mv_size));
    if (val->mv_size)
        vstring_memcat(dl->log, val->mv_data, val->mv_size);
}

/* Apply the replay log to a fresh write transaction. */
static int dict_lmdb_replay(DICT_LMDB *dl)
{
    const char *cp = vstring_str(dl->log);
    const char *end = vstring_end(dl->log);
    MDB_val key, val;
    int op, rc;

    while (cp < end) {
        op = *cp++;
        memcpy(&key.mv_size, cp, sizeof(key.mv_size));
        cp += sizeof(key.mv_size);
        key.mv_data = (void *)cp;
        cp += key.mv_size;
        memcpy(&val.mv_size, cp, sizeof(val.mv_size));
        cp += sizeof(val.mv_size);
        val.mv_data = (void *)cp;
        cp += val.mv_size;
        if ((rc = dict_lmdb_apply(dl, op, &key, &val, 0)) != 0)
            return rc;
    }
    return 0;
}

/* The map is full: double it, start the transaction again and replay it. */
static int dict_lmdb_regrow(DICT_LMDB *dl)
{
    int rc;

    for (int tries = 0;; tries++) {
        if (dl->wtxn != NULL) {
            mdb_txn_abort(dl->wtxn);
            dl->wtxn = NULL;
        }
        if (tries >= 2 * DICT_LMDB_RETRIES)
            return MDB_MAP_FULL;
        if ((rc = dict_lmdb_set_mapsize(dl, 2 * dl->mapsize)) != 0)
            return rc;
        if ((rc = dict_lmdb_write_begin(dl)) != 0)
            return rc;
        if ((rc = dict_lmdb_replay(dl)) != MDB_MAP_FULL)
            return rc;
    }
}

/* Commit the bulk transaction, growing the map when the commit needs it. */
static int dict_lmdb_bulk_commit(DICT_LMDB *dl)
{
    MDB_txn *txn;
    int rc;

    for (;;) {
        txn = dl->wtxn;
        dl->wtxn = NULL;
        if ((rc = mdb_txn_commit(txn)) != MDB_MAP_FULL)
            break;
        if ((rc = dict_lmdb_regrow(dl)) != 0)
            break;
    }
    if (rc == 0)
        vstring_reset(dl->log);
    return rc;
}

/* One change in the bulk transaction, replayed after growing the map. */
static int dict_lmdb_bulk_change(DICT_LMDB *dl, int op, const MDB_val *key, const MDB_val *val,
                                 unsigned flags)
{
    int rc;

    if (dl->failed)
        return MDB_BAD_TXN;
    if (dl->wtxn == NULL) {
        if ((rc = dict_lmdb_lock(dl, MYFLOCK_OP_EXCLUSIVE)) != 0)
            return rc;
        if ((rc = dict_lmdb_write_begin(dl)) != 0) {
            (void)dict_lmdb_lock(dl, MYFLOCK_OP_NONE);
            return rc;
        }
    }
    while ((rc = dict_lmdb_apply(dl, op, key, val, flags)) == MDB_MAP_FULL)
        if ((rc = dict_lmdb_regrow(dl)) != 0)
            break;
    if (rc == 0) {
        dict_lmdb_log(dl, op, key, val);
        /* Nobody sees a temporary file yet: commit big builds in pieces. */
        if (dl->tmp != NULL && VSTRING_LEN(dl->log) > DICT_LMDB_LOG_MAX) {
            if ((rc = dict_lmdb_bulk_commit(dl)) == 0)
                rc = dict_lmdb_write_begin(dl);
        }
    }
    if (rc != 0 && rc != MDB_KEYEXIST && rc != MDB_NOTFOUND && rc != MDB_BAD_VALSIZE)
        dl->failed = true;
    return rc;
}

/* One change committed at once, under the exclusive lock. */
static int dict_lmdb_single_change(DICT_LMDB *dl, int op, const MDB_val *key, const MDB_val *val,
                                   unsigned flags)
{
    int rc;

    if ((rc = dict_lmdb_lock(dl, MYFLOCK_OP_EXCLUSIVE)) != 0)
        return rc;
    for (int tries = 0;; tries++) {
        if ((rc = dict_lmdb_write_begin(dl)) != 0)
            break;
        rc = dict_lmdb_apply(dl, op, key, val, flags);
        if (rc == 0) {
            rc = mdb_txn_commit(dl->wtxn);
        } else {
            mdb_txn_abort(dl->wtxn);
        }
        dl->wtxn = NULL;
        if (rc != MDB_MAP_FULL || tries >= 2 * DICT_LMDB_RETRIES)
            break;
        if ((rc = dict_lmdb_set_mapsize(dl, 2 * dl->mapsize)) != 0)
            break;
    }
    (void)dict_lmdb_lock(dl, MYFLOCK_OP_NONE);
    return rc;
}

/* Before a change: drop a sequence's cursor and snapshot; it resumes by key. */
static void dict_lmdb_seq_suspend(DICT_LMDB *dl)
{
    if (!dl->seq_active || dl->seq_stale)
        return;
    if (dl->cursor != NULL) {
        mdb_cursor_close(dl->cursor);
        dl->cursor = NULL;
    }
    if (dl->rtxn_live)
        dict_lmdb_read_end(dl);
    dl->seq_stale = true;
}

/* Apply a change: in the bulk transaction, or committed at once. */
static int dict_lmdb_change(DICT_LMDB *dl, int op, const MDB_val *key, const MDB_val *val, unsigned flags)
{
    static const MDB_val none = {0, NULL};

    dict_lmdb_seq_suspend(dl);
    if (val == NULL)
        val = &none;
    if (dl->bulk)
        return dict_lmdb_bulk_change(dl, op, key, val, flags);
    return dict_lmdb_single_change(dl, op, key, val, flags);
}

/* Copy a stored string without the terminating NUL it may have. */
static const char *dict_lmdb_copy(VSTRING *buf, const MDB_val *val)
{
    size_t len = val->mv_size;

    if (len > 0 && ((const char *)val->mv_data)[len - 1] == 0)
        len--;
    vstring_memcpy(buf, val->mv_data, len);
    return vstring_str(buf);
}

/* Find a key in txn: with the NUL, then without, as the flags allow. */
static int dict_lmdb_find(DICT_LMDB *dl, MDB_txn *txn, const char *key, MDB_val *val)
{
    MDB_val k;
    int rc = MDB_NOTFOUND;

    k.mv_data = (void *)key;
    if (dl->dict.flags & DICT_FLAG_TRY1NULL) {
        k.mv_size = strlen(key) + 1;
        if ((rc = mdb_get(txn, dl->dbi, &k, val)) == 0)
            dl->dict.flags &= ~DICT_FLAG_TRY0NULL;
    }
    if (rc == MDB_NOTFOUND && (dl->dict.flags & DICT_FLAG_TRY0NULL)) {
        k.mv_size = strlen(key);
        if (k.mv_size == 0)
            return MDB_NOTFOUND;
        if ((rc = mdb_get(txn, dl->dbi, &k, val)) == 0)
            dl->dict.flags &= ~DICT_FLAG_TRY1NULL;
    }
    return rc == MDB_BAD_VALSIZE ? MDB_NOTFOUND : rc;
}

/* Look up a key; the value stays valid until the next call. */
static const char *dict_lmdb_lookup(DICT *dict, const char *name)
{
    DICT_LMDB *dl = (DICT_LMDB *)dict;
    const char *key = dict_fold(dict, name);
    const char *result = NULL;
    bool own = false;
    MDB_txn *txn;
    MDB_val val;
    int rc;

    dict->error = DICT_ERR_NONE;
    if (dl->wtxn != NULL) {
        txn = dl->wtxn;
    } else if (dl->seq_active && !dl->seq_stale && dl->rtxn_live) {
        txn = dl->rtxn;
    } else {
        if ((rc = dict_lmdb_read_begin(dl)) != 0) {
            msg_warn("%s: cannot read the table: %s", dl->path, mdb_strerror(rc));
            DICT_ERR_VAL_RETURN(dict, DICT_ERR_RETRY, NULL);
        }
        txn = dl->rtxn;
        own = true;
    }
    rc = dict_lmdb_find(dl, txn, key, &val);
    if (rc == 0) {
        result = dict_lmdb_copy(dl->val_buf, &val);
    } else if (rc != MDB_NOTFOUND) {
        msg_warn("%s: lookup of \"%s\": %s", dl->path, key, mdb_strerror(rc));
        dict->error = DICT_ERR_RETRY;
    }
    if (own)
        dict_lmdb_read_end(dl);
    return result;
}

/* Store key -> value, handling duplicates as the DUP flags say. */
static int dict_lmdb_update(DICT *dict, const char *name, const char *value)
{
    DICT_LMDB *dl = (DICT_LMDB *)dict;
    const char *key = dict_fold(dict, name);
    size_t nul;
    MDB_val k, v;
    int rc;

    dict->error = DICT_ERR_NONE;
    if ((dict->flags & DICT_LMDB_NUL_FLAGS) == DICT_LMDB_NUL_FLAGS)
        dict->flags &= ~DICT_FLAG_TRY0NULL; /* undecided: write with NUL */
    nul = (dict->flags & DICT_FLAG_TRY1NULL) ? 1 : 0;
    k.mv_data = (void *)key;
    k.mv_size = strlen(key) + nul;
    v.mv_data = (void *)value;
    v.mv_size = strlen(value) + nul;
    rc = dict_lmdb_change(dl, DICT_LMDB_OP_PUT, &k, &v,
                          (dict->flags & DICT_FLAG_DUP_REPLACE) ? 0 : MDB_NOOVERWRITE);
    switch (rc) {
    case 0:
        return DICT_STAT_SUCCESS;
    case MDB_KEYEXIST:
        if (dict->flags & DICT_FLAG_DUP_IGNORE)
            /* keep the first silently */;
        else if (dict->flags & DICT_FLAG_DUP_WARN)
            msg_warn("%s: duplicate entry: \"%s\"", dl->label, key);
        else
            msg_fatal("%s: duplicate entry: \"%s\"", dl->label, key);
        return DICT_STAT_FAIL;
    case MDB_BAD_VALSIZE:
        msg_warn("%s: key of %zu bytes is longer than the limit of %d: \"%.100s\"", dl->path, k.mv_size,
                 mdb_env_get_maxkeysize(dl->env), key);
        DICT_ERR_VAL_RETURN(dict, DICT_ERR_CONFIG, DICT_STAT_ERROR);
    default:
        msg_warn("%s: cannot store \"%s\": %s", dl->path, key, mdb_strerror(rc));
        DICT_ERR_VAL_RETURN(dict, DICT_ERR_RETRY, DICT_STAT_ERROR);
    }
}

/* Remove a key: with the NUL, then without, as the flags allow. */
static int dict_lmdb_delete(DICT *dict, const char *name)
{
    DICT_LMDB *dl = (DICT_LMDB *)dict;
    const char *key = dict_fold(dict, name);
    int rc = MDB_NOTFOUND;
    MDB_val k;

    dict->error = DICT_ERR_NONE;
    k.mv_data = (void *)key;
    if (dict->flags & DICT_FLAG_TRY1NULL) {
        k.mv_size = strlen(key) + 1;
        if ((rc = dict_lmdb_change(dl, DICT_LMDB_OP_DEL, &k, NULL, 0)) == 0)
            dict->flags &= ~DICT_FLAG_TRY0NULL;
    }
    if (rc == MDB_NOTFOUND && (dict->flags & DICT_FLAG_TRY0NULL) && *key != 0) {
        k.mv_size = strlen(key);
        if ((rc = dict_lmdb_change(dl, DICT_LMDB_OP_DEL, &k, NULL, 0)) == 0)
            dict->flags &= ~DICT_FLAG_TRY1NULL;
    }
    switch (rc) {
    case 0:
        return DICT_STAT_SUCCESS;
    case MDB_NOTFOUND:
    case MDB_BAD_VALSIZE:
        return DICT_STAT_FAIL;
    default:
        msg_warn("%s: cannot delete \"%s\": %s", dl->path, key, mdb_strerror(rc));
        DICT_ERR_VAL_RETURN(dict, DICT_ERR_RETRY, DICT_STAT_ERROR);
    }
}

/* Finish a sequence: release its cursor, snapshot and lock. */
static void dict_lmdb_seq_end(DICT_LMDB *dl)
{
    if (dl->cursor != NULL) {
        mdb_cursor_close(dl->cursor);
        dl->cursor = NULL;
    }
    if (dl->rtxn_live)
        dict_lmdb_read_end(dl);
    dl->seq_active = false;
    dl->seq_stale = false;
}

/* Open the sequence cursor: first entry, or the one after seq_key. */
static int dict_lmdb_seq_start(DICT_LMDB *dl, bool resume, MDB_val *key, MDB_val *val)
{
    MDB_txn *txn;
    int rc;

    if (dl->wtxn != NULL) {
        txn = dl->wtxn;
    } else {
        if ((rc = dict_lmdb_read_begin(dl)) != 0)
            return rc;
        txn = dl->rtxn;
    }
    if ((rc = mdb_cursor_open(txn, dl->dbi, &dl->cursor)) != 0) {
        dl->cursor = NULL;
        return rc;
    }
    dl->seq_active = true;
    dl->seq_stale = false;
    if (!resume)
        return mdb_cursor_get(dl->cursor, key, val, MDB_FIRST);
    key->mv_data = vstring_str(dl->seq_key);
    key->mv_size = VSTRING_LEN(dl->seq_key);
    if ((rc = mdb_cursor_get(dl->cursor, key, val, MDB_SET_RANGE)) == 0 &&
        key->mv_size == VSTRING_LEN(dl->seq_key) &&
        memcmp(key->mv_data, vstring_str(dl->seq_key), key->mv_size) == 0)
        rc = mdb_cursor_get(dl->cursor, key, val, MDB_NEXT);
    return rc;
}

/* Step through the table in key order. */
static int dict_lmdb_sequence(DICT *dict, int func, const char **key, const char **value)
{
    DICT_LMDB *dl = (DICT_LMDB *)dict;
    MDB_val k, v;
    int rc;

    dict->error = DICT_ERR_NONE;
    switch (func) {
    case DICT_SEQ_FUN_FIRST:
        dict_lmdb_seq_end(dl);
        rc = dict_lmdb_seq_start(dl, false, &k, &v);
        break;
    case DICT_SEQ_FUN_NEXT:
        if (!dl->seq_active)
            rc = dict_lmdb_seq_start(dl, false, &k, &v);
        else if (dl->seq_stale)
            rc = dict_lmdb_seq_start(dl, true, &k, &v);
        else
            rc = mdb_cursor_get(dl->cursor, &k, &v, MDB_NEXT);
        break;
    default:
        msg_panic("%s: invalid sequence function %d", dl->path, func);
    }
    if (rc != 0) {
        dict_lmdb_seq_end(dl);
        if (rc == MDB_NOTFOUND)
            return DICT_STAT_FAIL;
        msg_warn("%s: cannot read the table: %s", dl->path, mdb_strerror(rc));
        DICT_ERR_VAL_RETURN(dict, DICT_ERR_RETRY, DICT_STAT_ERROR);
    }
    vstring_memcpy(dl->seq_key, k.mv_data, k.mv_size);
    *key = dict_lmdb_copy(dl->key_buf, &k);
    *value = dict_lmdb_copy(dl->val_buf, &v);
    return DICT_STAT_SUCCESS;
}

/* Release everything; a temporary file still present is removed. */
static void dict_lmdb_release(DICT_LMDB *dl)
{
    if (dl->cursor != NULL)
        mdb_cursor_close(dl->cursor);
    if (dl->wtxn != NULL)
        mdb_txn_abort(dl->wtxn);
    if (dl->rtxn != NULL)
        mdb_txn_abort(dl->rtxn);
    if (dl->fd >= 0 && dl->lock != MYFLOCK_OP_NONE)
        (void)myflock(dl->fd, MYFLOCK_METHOD_FLOCK, MYFLOCK_OP_NONE);
    if (dl->env != NULL)
        mdb_env_close(dl->env);
    if (dl->own_fd)
        (void)close(dl->fd);
    if (dl->tmp != NULL)
        dl->tmp = atomic_file_abandon(dl->tmp);
    if (dl->new_file) {
        (void)unlink(dl->path);
        atomic_file_unguard(dl->path);
    }
    myfree(dl->path);
    myfree(dl->label);
    vstring_free(dl->seq_key);
    vstring_free(dl->log);
    vstring_free(dl->key_buf);
    vstring_free(dl->val_buf);
    dict_free(&dl->dict);
}

/* Put a finished temporary file in place: sync it, rename it, sync the directory. */
static int dict_lmdb_install(DICT_LMDB *dl, VSTRING *why)
{
    if (atomic_file_commit(dl->tmp, why) < 0)
        return -1;
    dl->tmp = NULL;
    return 0;
}

/* Close the table; a build or bulk update is committed now, or the program ends. */
static void dict_lmdb_close(DICT *dict)
{
    DICT_LMDB *dl = (DICT_LMDB *)dict;
    VSTRING *why;
    int rc;

    dict_lmdb_seq_end(dl);
    /* On failure the old table stays; exit() removes a temporary file. */
    if (dl->failed)
        msg_fatal("%s: an update failed; the table was not changed", dl->path);
    if (dl->wtxn != NULL && (rc = dict_lmdb_bulk_commit(dl)) != 0)
        msg_fatal("commit %s: %s", dl->path, mdb_strerror(rc));
    if (dl->new_file) {
        atomic_file_unguard(dl->path);
        dl->new_file = false;
    }
    if (dl->tmp != NULL) {
        why = vstring_alloc(100);
        if (dict_lmdb_install(dl, why) < 0)
            msg_fatal("%s", vstring_str(why));
        vstring_free(why);
    }
    dict_lmdb_release(dl);
}

/* Whether fd's file starts like an LMDB data file (magic and version). */
static bool dict_lmdb_is_lmdb(int fd)
{
    unsigned char buf[24];
    uint32_t magic, version;

    if (pread(fd, buf, sizeof(buf), 0) != (ssize_t)sizeof(buf))
        return false;
    memcpy(&magic, buf + 16, sizeof(magic));
    memcpy(&version, buf + 20, sizeof(version));
    return magic == 0xBEEFC0DEU && version == 1;
}

/* Whether fd's file looks like a Berkeley DB hash or btree file. */
static bool dict_lmdb_is_bdb(int fd)
{
    static const uint32_t magics[] = {0x00061561, 0x00053162};
    unsigned char buf[16];
    uint32_t magic;

    if (pread(fd, buf, sizeof(buf), 0) != (ssize_t)sizeof(buf))
        return false;
    memcpy(&magic, buf + 12, sizeof(magic));
    for (size_t i = 0; i < ARRAY_LEN(magics); i++)
        if (magic == magics[i] || magic == __builtin_bswap32(magics[i]))
            return true;
    return false;
}

/* Say why fd's file is not a table of this type. */
static void dict_lmdb_not_ours(DICT_LMDB *dl, int fd, VSTRING *why)
{
    if (strcmp(dl->dict.type, DICT_TYPE_LMDB) == 0)
        vstring_sprintf(why, "open database %s: %s; rebuild it with postmap", dl->path,
                        mdb_strerror(MDB_INVALID));
    else
        vstring_sprintf(why, "open database %s: not a Postern %s table%s; rebuild it with postmap", dl->path,
                        dl->dict.type, dict_lmdb_is_bdb(fd) ? " (a Berkeley DB file from Postfix?)" : "");
}

/* Create the environment for path and open its main database. */
static int dict_lmdb_env_open(DICT_LMDB *dl, const char *path, unsigned flags, size_t mapsize)
{
    MDB_envinfo info;
    int rc, efd;

    if ((rc = mdb_env_create(&dl->env)) != 0)
        return rc;
    if ((rc = dict_lmdb_set_mapsize(dl, mapsize)) != 0)
        return rc;
    if ((rc = mdb_env_open(dl->env, path, flags | MDB_NOSUBDIR | MDB_NOLOCK | MDB_NOTLS, 0644)) != 0)
        return rc;
    dl->env_open = true;
    /* LMDB does not ask for close-on-exec; spawned commands must not inherit it. */
    if (mdb_env_get_fd(dl->env, &efd) == 0)
        (void)fcntl(efd, F_SETFD, FD_CLOEXEC);
    if (mdb_env_info(dl->env, &info) == 0)
        dl->mapsize = info.me_mapsize; /* LMDB's choice if the data needs more */
    if ((rc = mdb_txn_begin(dl->env, NULL, MDB_RDONLY, &dl->rtxn)) != 0) {
        dl->rtxn = NULL;
        return rc;
    }
    rc = mdb_dbi_open(dl->rtxn, NULL, 0, &dl->dbi);
    mdb_txn_reset(dl->rtxn);
    return rc;
}

/* Build a hash/btree table in a new temporary file beside the table. */
static int dict_lmdb_open_temp(DICT_LMDB *dl, VSTRING *why)
{
    int rc;

    if ((dl->tmp = atomic_file_create(dl->path, 0644, NULL)) == NULL) {
        vstring_sprintf(why, "open database %s: %m", dl->path);
        return -1;
    }
    dl->fd = dl->tmp->fd;
    dl->own_fd = true;
    if ((rc = dict_lmdb_lock(dl, MYFLOCK_OP_EXCLUSIVE)) != 0) {
        vstring_sprintf(why, "open database %s: %s", dl->tmp->tmp_path, strerror(rc));
        return -1;
    }
    rc = dict_lmdb_env_open(dl, dl->tmp->tmp_path, MDB_NOSYNC, DICT_LMDB_WRITE_MAP);
    if (rc == 0 && dl->bulk)
        rc = dict_lmdb_write_begin(dl);
    if (rc != 0) {
        vstring_sprintf(why, "open database %s: %s", dl->tmp->tmp_path, mdb_strerror(rc));
        return -1;
    }
    if (!dl->bulk) {
        /* Truncated at open: the empty table replaces the old one now. */
        if (dict_lmdb_install(dl, NULL) < 0) {
            vstring_sprintf(why, "open database %s: %m", dl->path);
            return -1;
        }
        (void)dict_lmdb_lock(dl, MYFLOCK_OP_NONE);
    }
    return 0;
}

/* Whether the file is shorter than its data (reading there would be SIGBUS). */
static bool dict_lmdb_truncated(DICT_LMDB *dl, off_t size)
{
    MDB_envinfo info;
    MDB_stat stat;

    if (mdb_env_info(dl->env, &info) != 0 || mdb_env_stat(dl->env, &stat) != 0)
        return true;
    return (off_t)((info.me_last_pgno + 1) * stat.ms_psize) > size;
}

/* Open an existing table file (or create it when O_CREAT allows). */
static int dict_lmdb_open_file(DICT_LMDB *dl, int open_flags, VSTRING *why)
{
    int oflags = (dl->writer ? O_RDWR : O_RDONLY) | O_CLOEXEC;
    struct stat st, est;
    size_t mapsize;
    int fd, rc, efd;

    for (int tries = 0;; tries++) {
        /* Know whether we create the file: a failed bulk update removes it. */
        if ((fd = open(dl->path, oflags, 0644)) < 0 && errno == ENOENT && dl->writer &&
            (open_flags & O_CREAT)) {
            if ((fd = open(dl->path, oflags | O_CREAT | O_EXCL, 0644)) >= 0 && dl->bulk) {
                dl->new_file = true;
                atomic_file_guard(dl->path);
            } else if (fd < 0 && errno == EEXIST && tries < DICT_LMDB_RETRIES) {
                continue;
            }
        }
        if (fd < 0) {
            vstring_sprintf(why, "open database %s: %m", dl->path);
            return -1;
        }
        /* Check the format under a lock: a writer may be committing. */
        if ((dl->writer || (dl->dict.flags & DICT_FLAG_LOCK)) &&
            myflock(fd, MYFLOCK_METHOD_FLOCK, dl->writer ? MYFLOCK_OP_EXCLUSIVE : MYFLOCK_OP_SHARED) < 0) {
            vstring_sprintf(why, "lock database %s: %m", dl->path);
            (void)close(fd);
            return -1;
        }
        if (fstat(fd, &st) < 0) {
            vstring_sprintf(why, "open database %s: %m", dl->path);
            (void)close(fd);
            return -1;
        }
        if (st.st_size == 0 ? !dl->writer : !dict_lmdb_is_lmdb(fd)) {
            if (dl->truncate && ftruncate(fd, 0) == 0) {
                st.st_size = 0; /* lmdb build over junk: start afresh */
            } else {
                dict_lmdb_not_ours(dl, fd, why);
                (void)close(fd);
                return -1;
            }
        }
        if (dl->writer) {
            mapsize = dict_lmdb_round(2 * (size_t)st.st_size);
            if (mapsize < DICT_LMDB_WRITE_MAP)
                mapsize = DICT_LMDB_WRITE_MAP;
        } else {
            mapsize = dict_lmdb_round((size_t)st.st_size + (size_t)st.st_size / 4 + DICT_LMDB_MAP_ROUND);
        }
        rc = dict_lmdb_env_open(dl, dl->path, !dl->writer ? MDB_RDONLY : dl->bulk ? 0 : MDB_NOSYNC, mapsize);
        if (rc == 0 && (rc = mdb_env_get_fd(dl->env, &efd)) == 0 && fstat(efd, &est) < 0)
            rc = errno;
        (void)close(fd); /* also drops its lock */
        if (rc != 0) {
            if (rc == MDB_INVALID || rc == MDB_VERSION_MISMATCH)
                dict_lmdb_not_ours(dl, -1, why);
            else
                vstring_sprintf(why, "open database %s: %s", dl->path, mdb_strerror(rc));
            return -1;
        }
        if (est.st_dev == st.st_dev && est.st_ino == st.st_ino) {
            if (dict_lmdb_truncated(dl, est.st_size)) {
                vstring_sprintf(why, "open database %s: the file is truncated; rebuild it with postmap",
                                dl->path);
                return -1;
            }
            break;
        }
        /* Replaced between our check and LMDB's open: try again. */
        if (dl->rtxn != NULL)
            mdb_txn_abort(dl->rtxn);
        dl->rtxn = NULL;
        mdb_env_close(dl->env);
        dl->env = NULL;
        dl->env_open = false;
        if (tries >= DICT_LMDB_RETRIES) {
            vstring_sprintf(why, "open database %s: the file keeps being replaced", dl->path);
            return -1;
        }
    }
    dl->fd = efd;
    if (dl->truncate) {
        /* A build in place: one transaction that first empties the table. */
        if ((rc = dict_lmdb_lock(dl, MYFLOCK_OP_EXCLUSIVE)) != 0 || (rc = dict_lmdb_write_begin(dl)) != 0) {
            vstring_sprintf(why, "open database %s: %s", dl->path, mdb_strerror(rc));
            return -1;
        }
        if (!dl->bulk) {
            rc = mdb_txn_commit(dl->wtxn);
            dl->wtxn = NULL;
            dl->truncate = false;
            (void)dict_lmdb_lock(dl, MYFLOCK_OP_NONE);
            if (rc != 0) {
                vstring_sprintf(why, "open database %s: %s", dl->path, mdb_strerror(rc));
                return -1;
            }
        }
    }
    return 0;
}

/* Open PATH+suffix as a table of the given type. */
static DICT *dict_lmdb_open_type(const char *type, const char *name, const char *suffix, int open_flags,
                                 int dict_flags)
{
    DICT_LMDB *dl;
    VSTRING *why;
    bool build;
    int rc;

    if ((dict_flags & DICT_LMDB_NUL_FLAGS) == 0)
        dict_flags |= DICT_LMDB_NUL_FLAGS;
    dl = (DICT_LMDB *)dict_alloc(type, name, sizeof(*dl));
    dl->dict.lookup = dict_lmdb_lookup;
    dl->dict.update = dict_lmdb_update;
    dl->dict.delete = dict_lmdb_delete;
    dl->dict.sequence = dict_lmdb_sequence;
    dl->dict.close = dict_lmdb_close;
    dl->dict.flags = dict_flags | DICT_FLAG_FIXED;
    dl->dict.open_flags = open_flags;
    dl->path = mymalloc(strlen(name) + strlen(suffix) + 1);
    strcpy(dl->path, name);
    strcat(dl->path, suffix);
    dl->fd = -1;
    dl->lock = MYFLOCK_OP_NONE;
    dl->seq_key = vstring_alloc(64);
    dl->log = vstring_alloc(64);
    dl->key_buf = vstring_alloc(64);
    dl->val_buf = vstring_alloc(64);
    dl->writer = (open_flags & O_ACCMODE) != O_RDONLY;
    dl->bulk = dl->writer && (dict_flags & DICT_FLAG_BULK_UPDATE);
    build = dl->writer && (open_flags & O_TRUNC);
    if (strcmp(type, DICT_TYPE_LMDB) == 0) {
        dl->dict.flags |= DICT_FLAG_MULTI_WRITER;
        dl->label = mymalloc(strlen(type) + strlen(name) + 2);
        sprintf(dl->label, "%s:%s", type, name);
        dl->truncate = build;
    } else {
        dl->label = mystrdup(dl->path);
    }

    why = vstring_alloc(100);
    if (build && dl->truncate == false)
        rc = dict_lmdb_open_temp(dl, why);
    else
        rc = dict_lmdb_open_file(dl, open_flags, why);
    if (rc < 0) {
        DICT *dict;

        dict_lmdb_release(dl);
        dict = dict_surrogate(type, name, open_flags, dict_flags, "%s", vstring_str(why));
        vstring_free(why);
        return dict;
    }
    vstring_free(why);
    /* Rebuilt hash/btree tables replace the file: readers must notice. */
    if (dl->tmp == NULL && strcmp(type, DICT_TYPE_LMDB) != 0)
        dict_file_watch(&dl->dict, dl->fd);
    return &dl->dict;
}

/* "hash:PATH": PATH.db. */
DICT *dict_hash_open(const char *path, int open_flags, int dict_flags)
{
    return dict_lmdb_open_type(DICT_TYPE_HASH, path, ".db", open_flags, dict_flags);
}

/* "btree:PATH": PATH.db, the same format as hash. */
DICT *dict_btree_open(const char *path, int open_flags, int dict_flags)
{
    return dict_lmdb_open_type(DICT_TYPE_BTREE, path, ".db", open_flags, dict_flags);
}

/* "lmdb:PATH": PATH.lmdb, changed in place. */
DICT *dict_lmdb_open(const char *path, int open_flags, int dict_flags)
{
    return dict_lmdb_open_type(DICT_TYPE_LMDB, path, ".lmdb", open_flags, dict_flags);
}

#endif
