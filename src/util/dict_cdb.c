/*
 * dict_cdb - cdb: tables with tinycdb. See dict_cdb.h for the contract.
 *
 * Readers map the file (cdb_init) and check its index before trusting it,
 * so a file that is not a cdb is refused at open instead of answering
 * "not found". Builders write with cdb_make_*. tinycdb can only find a
 * duplicate key by walking all earlier records with the same hash bucket,
 * which is quadratic for big tables, so the builder keeps its own hash
 * table of the keys written and asks tinycdb only to replace a record it
 * already knows to be a duplicate (CDB_PUT_REPLACE0, which blanks the old
 * record in place instead of moving all later data).
 */
#include "sys_defs.h"

#ifdef HAS_CDB

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cdb.h>

#include "atomic_file.h"
#include "dict.h"
#include "dict_cdb.h"
#include "htable.h"
#include "msg.h"
#include "myflock.h"
#include "mymalloc.h"
#include "vstring.h"

#define DICT_CDB_NUL_FLAGS (DICT_FLAG_TRY0NULL | DICT_FLAG_TRY1NULL)
#define DICT_CDB_HEADER    2048 /* 256 (position, length) pairs */

typedef struct DICT_CDB {
    DICT dict;
    char *path;       /* PATH.cdb */
    int fd;           /* the table (reader) or temporary file (builder) */
    struct cdb cdb;   /* reader: the mapped table */
    bool cdb_ready;   /* cdb_init() succeeded */
    unsigned seq_pos; /* reader: sequence() position */
    bool seq_active;
    ATOMIC_FILE *tmp;     /* builder: the temporary file */
    struct cdb_make make; /* builder: tinycdb's state */
    HTABLE *keys;         /* builder: keys written so far */
    bool failed;          /* builder: a write failed */
    VSTRING *key_buf;     /* sequence() result key */
    VSTRING *val_buf;     /* lookup() and sequence() result value */
} DICT_CDB;

/* Copy a stored string without the terminating NUL it may have. */
static const char *dict_cdb_copy(VSTRING *buf, const void *data, unsigned len)
{
    if (len > 0 && ((const char *)data)[len - 1] == 0)
        len--;
    vstring_memcpy(buf, data, len);
    return vstring_str(buf);
}

/* Find a key: with the NUL, then without, as the flags allow. */
static int dict_cdb_find(DICT_CDB *dc, const char *key)
{
    unsigned len = (unsigned)strlen(key);
    int rc = 0;

    if (dc->dict.flags & DICT_FLAG_TRY1NULL) {
        if ((rc = cdb_find(&dc->cdb, key, len + 1)) > 0)
            dc->dict.flags &= ~DICT_FLAG_TRY0NULL;
    }
    if (rc == 0 && (dc->dict.flags & DICT_FLAG_TRY0NULL)) {
        if ((rc = cdb_find(&dc->cdb, key, len)) > 0)
            dc->dict.flags &= ~DICT_FLAG_TRY1NULL;
    }
    return rc;
}

/* Look up a key; the value stays valid until the next call. */
static const char *dict_cdb_lookup(DICT *dict, const char *name)
{
    DICT_CDB *dc = (DICT_CDB *)dict;
    const char *key = dict_fold(dict, name);
    const void *data;
    int rc;

    dict->error = DICT_ERR_NONE;
    if ((rc = dict_cdb_find(dc, key)) == 0)
        return NULL;
    if (rc < 0 || (data = cdb_getdata(&dc->cdb)) == NULL) {
        msg_warn("%s: lookup of \"%s\": %m (corrupt file?)", dc->path, key);
        DICT_ERR_VAL_RETURN(dict, DICT_ERR_RETRY, NULL);
    }
    return dict_cdb_copy(dc->val_buf, data, cdb_datalen(&dc->cdb));
}

/* Step through the records in file order, skipping replaced ones. */
static int dict_cdb_sequence(DICT *dict, int func, const char **key, const char **value)
{
    DICT_CDB *dc = (DICT_CDB *)dict;
    unsigned klen, vlen, vpos;
    const void *kp, *vp;
    int rc;

    dict->error = DICT_ERR_NONE;
    switch (func) {
    case DICT_SEQ_FUN_FIRST:
        cdb_seqinit(&dc->seq_pos, &dc->cdb);
        dc->seq_active = true;
        break;
    case DICT_SEQ_FUN_NEXT:
        if (!dc->seq_active) {
            cdb_seqinit(&dc->seq_pos, &dc->cdb);
            dc->seq_active = true;
        }
        break;
    default:
        msg_panic("%s: invalid sequence function %d", dc->path, func);
    }
    for (;;) {
        if ((rc = cdb_seqnext(&dc->seq_pos, &dc->cdb)) <= 0)
            break;
        klen = cdb_keylen(&dc->cdb);
        vlen = cdb_datalen(&dc->cdb);
        vpos = cdb_datapos(&dc->cdb);
        if ((kp = cdb_getkey(&dc->cdb)) == NULL || (vp = cdb_getdata(&dc->cdb)) == NULL) {
            rc = -1;
            break;
        }
        /* Only the record a lookup finds is live; others were replaced. */
        vstring_memcpy(dc->key_buf, kp, klen);
        if ((rc = cdb_find(&dc->cdb, vstring_str(dc->key_buf), klen)) < 0)
            break;
        if (rc == 0 || cdb_datapos(&dc->cdb) != vpos)
            continue;
        *key = dict_cdb_copy(dc->key_buf, kp, klen);
        *value = dict_cdb_copy(dc->val_buf, vp, vlen);
        return DICT_STAT_SUCCESS;
    }
    dc->seq_active = false;
    if (rc == 0)
        return DICT_STAT_FAIL;
    msg_warn("%s: cannot read the table: %m (corrupt file?)", dc->path);
    DICT_ERR_VAL_RETURN(dict, DICT_ERR_RETRY, DICT_STAT_ERROR);
}

/* Add key -> value to the table being built, as the DUP flags say. */
static int dict_cdb_update(DICT *dict, const char *name, const char *value)
{
    DICT_CDB *dc = (DICT_CDB *)dict;
    const char *key = dict_fold(dict, name);
    unsigned nul, klen, vlen;
    int rc;

    dict->error = DICT_ERR_NONE;
    if (dc->failed)
        DICT_ERR_VAL_RETURN(dict, DICT_ERR_RETRY, DICT_STAT_ERROR);
    if ((dict->flags & DICT_CDB_NUL_FLAGS) == DICT_CDB_NUL_FLAGS)
        dict->flags &= ~DICT_FLAG_TRY0NULL; /* undecided: write with NUL */
    nul = (dict->flags & DICT_FLAG_TRY1NULL) ? 1 : 0;
    klen = (unsigned)strlen(key) + nul;
    vlen = (unsigned)strlen(value) + nul;
    if (htable_locate(dc->keys, key) == NULL) {
        htable_enter(dc->keys, key, NULL);
        rc = cdb_make_add(&dc->make, key, klen, value, vlen);
    } else if (dict->flags & DICT_FLAG_DUP_REPLACE) {
        rc = cdb_make_put(&dc->make, key, klen, value, vlen, CDB_PUT_REPLACE0);
    } else {
        if (dict->flags & DICT_FLAG_DUP_IGNORE)
            /* keep the first silently */;
        else if (dict->flags & DICT_FLAG_DUP_WARN)
            msg_warn("%s: duplicate entry: \"%s\"", dict->name, key);
        else
            msg_fatal("%s: duplicate entry: \"%s\"", dict->name, key);
        return DICT_STAT_FAIL;
    }
    if (rc < 0) {
        msg_warn("%s: write error: %m", dc->tmp->tmp_path);
        dc->failed = true;
        DICT_ERR_VAL_RETURN(dict, DICT_ERR_RETRY, DICT_STAT_ERROR);
    }
    return DICT_STAT_SUCCESS;
}

/* Release everything; a temporary file still present is removed. */
static void dict_cdb_release(DICT_CDB *dc)
{
    if (dc->cdb_ready)
        cdb_free(&dc->cdb);
    if (dc->fd >= 0)
        (void)close(dc->fd);
    if (dc->tmp != NULL)
        dc->tmp = atomic_file_abandon(dc->tmp);
    if (dc->keys != NULL)
        htable_free(dc->keys, NULL);
    myfree(dc->path);
    vstring_free(dc->key_buf);
    vstring_free(dc->val_buf);
    dict_free(&dc->dict);
}

/* Close a reader. */
static void dict_cdb_close(DICT *dict)
{
    dict_cdb_release((DICT_CDB *)dict);
}

/* Finish a build: write the index, sync, rename over the table; or die. */
static void dict_cdb_close_build(DICT *dict)
{
    DICT_CDB *dc = (DICT_CDB *)dict;
    VSTRING *why;

    /* On failure the old table stays; exit() removes the temporary file. */
    if (dc->failed)
        msg_fatal("%s: a write failed; the table was not changed", dc->path);
    if (cdb_make_finish(&dc->make) < 0)
        msg_fatal("%s: write error: %m", dc->tmp->tmp_path);
    why = vstring_alloc(100);
    if (atomic_file_commit(dc->tmp, why) < 0)
        msg_fatal("%s", vstring_str(why));
    dc->tmp = NULL;
    vstring_free(why);
    dict_cdb_release(dc);
}

/* Whether the mapped file's index is consistent with its size. */
static bool dict_cdb_valid(DICT_CDB *dc, off_t size)
{
    const unsigned char *hdr = cdb_get(&dc->cdb, DICT_CDB_HEADER, 0);
    unsigned long long pos, len, end = 0;

    if (hdr == NULL || size > (off_t)0xffffffffU)
        return false;
    /* The 256 hash tables follow the records, back to back, up to the end. */
    for (int i = 0; i < 256; i++) {
        pos = cdb_unpack(hdr + 8 * i);
        len = cdb_unpack(hdr + 8 * i + 4);
        if (pos < DICT_CDB_HEADER || (i > 0 && pos != end))
            return false;
        end = pos + 8 * len;
        if (end > (unsigned long long)size)
            return false;
    }
    return end == (unsigned long long)size;
}

/* Open PATH.cdb for lookups. */
static int dict_cdb_open_read(DICT_CDB *dc, VSTRING *why)
{
    struct stat st;

    if ((dc->fd = open(dc->path, O_RDONLY | O_CLOEXEC)) < 0 || fstat(dc->fd, &st) < 0) {
        vstring_sprintf(why, "open database %s: %m", dc->path);
        return -1;
    }
    if (st.st_size < DICT_CDB_HEADER) {
        vstring_sprintf(why, "open database %s: not a cdb file; rebuild it with postmap", dc->path);
        return -1;
    }
    if (cdb_init(&dc->cdb, dc->fd) < 0) {
        vstring_sprintf(why, "open database %s: %m", dc->path);
        return -1;
    }
    dc->cdb_ready = true;
    if (!dict_cdb_valid(dc, st.st_size)) {
        vstring_sprintf(why, "open database %s: not a cdb file; rebuild it with postmap", dc->path);
        return -1;
    }
    dc->dict.lookup = dict_cdb_lookup;
    dc->dict.sequence = dict_cdb_sequence;
    dc->dict.close = dict_cdb_close;
    dict_file_watch(&dc->dict, dc->fd);
    return 0;
}

/* Start a build in a new temporary file beside PATH.cdb. */
static int dict_cdb_open_build(DICT_CDB *dc, VSTRING *why)
{
    if ((dc->tmp = atomic_file_create(dc->path, 0644, NULL)) == NULL) {
        vstring_sprintf(why, "open database %s: %m", dc->path);
        return -1;
    }
    dc->fd = dc->tmp->fd;
    if (myflock(dc->fd, MYFLOCK_METHOD_FLOCK, MYFLOCK_OP_EXCLUSIVE) < 0 ||
        cdb_make_start(&dc->make, dc->fd) < 0) {
        vstring_sprintf(why, "open database %s: %m", dc->tmp->tmp_path);
        return -1;
    }
    dc->keys = htable_create(1024, 0);
    dc->dict.update = dict_cdb_update;
    dc->dict.close = dict_cdb_close_build;
    return 0;
}

/* Open "cdb:PATH": read PATH.cdb, or build a new one (O_TRUNC). */
DICT *dict_cdb_open(const char *path, int open_flags, int dict_flags)
{
    DICT_CDB *dc;
    VSTRING *why;
    int rc;

    if ((dict_flags & DICT_CDB_NUL_FLAGS) == 0)
        dict_flags |= DICT_CDB_NUL_FLAGS;
    if ((open_flags & O_ACCMODE) != O_RDONLY && (open_flags & O_TRUNC) == 0)
        return dict_surrogate(DICT_TYPE_CDB, path, open_flags, dict_flags,
                              "dict_cdb_open: inappropriate open flags for cdb database"
                              " - specify O_RDONLY or O_WRONLY|O_CREAT|O_TRUNC");
    dc = (DICT_CDB *)dict_alloc(DICT_TYPE_CDB, path, sizeof(*dc));
    dc->dict.flags = dict_flags | DICT_FLAG_FIXED;
    dc->dict.open_flags = open_flags;
    dc->path = mymalloc(strlen(path) + 5);
    sprintf(dc->path, "%s.cdb", path);
    dc->fd = -1;
    dc->key_buf = vstring_alloc(64);
    dc->val_buf = vstring_alloc(64);

    why = vstring_alloc(100);
    if ((open_flags & O_ACCMODE) == O_RDONLY)
        rc = dict_cdb_open_read(dc, why);
    else
        rc = dict_cdb_open_build(dc, why);
    if (rc < 0) {
        DICT *dict;

        dict_cdb_release(dc);
        dict = dict_surrogate(DICT_TYPE_CDB, path, open_flags, dict_flags, "%s", vstring_str(why));
        vstring_free(why);
        return dict;
    }
    vstring_free(why);
    return &dc->dict;
}

#endif
