/*
 * dict_cdb - the "cdb" table type: constant databases (tinycdb).
 *
 * Public functions:
 *   dict_cdb_open(path, open_flags, dict_flags)    "cdb:PATH", file PATH.cdb
 *
 * A cdb table is read-only once built. Open with O_RDONLY to look keys up
 * or list them (sequence); open with O_TRUNC (postmap: O_RDWR | O_CREAT |
 * O_TRUNC) to build a new table: the entries go to a temporary file beside
 * PATH.cdb, which dict_close() syncs and renames over PATH.cdb, so readers
 * see the old or the new table. Open readers keep the old table until
 * they reopen (dict_changed() says when).
 *
 * Errors: a table that cannot be opened is returned as a surrogate
 * (dict.h), reason "open database PATH.cdb: ...". Opening for update
 * without O_TRUNC is refused the same way, as incremental updates of a
 * cdb are impossible. Lookup errors (a corrupt file) warn and fail with
 * DICT_ERR_RETRY. A build that cannot be finished at dict_close() ends
 * the program (msg_fatal); the old table stays and no temporary file is
 * left behind, also when the program dies in msg_fatal() during a build.
 */
#ifndef DICT_CDB_H
#define DICT_CDB_H

#include "dict.h"

#define DICT_TYPE_CDB "cdb"

extern DICT *dict_cdb_open(const char *path, int open_flags, int dict_flags);

#endif
