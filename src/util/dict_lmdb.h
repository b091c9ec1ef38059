/*
 * dict_lmdb - the indexed-file table types hash:, btree: and lmdb:, all
 * stored with LMDB (one file each, no Berkeley DB needed).
 *
 * Public functions:
 *   dict_hash_open(path, open_flags, dict_flags)    "hash:PATH", file PATH.db
 *   dict_btree_open(path, open_flags, dict_flags)   "btree:PATH", file PATH.db
 *   dict_lmdb_open(path, open_flags, dict_flags)    "lmdb:PATH", file PATH.lmdb
 *
 * hash and btree are two names for one format. A build (O_TRUNC in
 * open_flags) writes a new temporary file beside PATH.db and renames it
 * over PATH.db at dict_close(), so readers see the old or the new table,
 * never a partial one; open readers keep the old table until they reopen
 * (dict_changed() says when). lmdb tables are rebuilt and updated in
 * place, each build or bulk update in one transaction, and readers see a
 * change as soon as it is committed.
 *
 * Open for update without O_TRUNC: with DICT_FLAG_BULK_UPDATE all changes
 * are one transaction committed at dict_close() (postmap -i, -d); without
 * it every update or delete is committed at once. Writers hold an
 * exclusive flock() on the file; with DICT_FLAG_LOCK readers hold a
 * shared one for each lookup and for a whole sequence.
 *
 * Errors: a table that cannot be opened (missing, unreadable, not in this
 * format, e.g. a Berkeley DB file left by Postfix) is returned as a
 * surrogate (dict.h) whose reason reads "open database PATH.db: ...".
 * Lookup errors warn and fail with DICT_ERR_RETRY. A build or bulk update
 * that cannot be committed at dict_close() ends the program (msg_fatal);
 * the previous table stays as it was and no temporary file is left behind,
 * also when the program dies through msg_fatal() in the middle of a build.
 */
#ifndef DICT_LMDB_H
#define DICT_LMDB_H

#include "dict.h"

#define DICT_TYPE_HASH  "hash"
#define DICT_TYPE_BTREE "btree"
#define DICT_TYPE_LMDB  "lmdb"

extern DICT *dict_hash_open(const char *path, int open_flags, int dict_flags);
extern DICT *dict_btree_open(const char *path, int open_flags, int dict_flags);
extern DICT *dict_lmdb_open(const char *path, int open_flags, int dict_flags);

#endif
