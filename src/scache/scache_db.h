/*
 * scache_db - the in-memory store of the connection cache service
 * scache(8): idle connections (file descriptors) with properties,
 * indexed by endpoint label, and bindings from destination labels to
 * endpoint labels. Everything has its own expiry time; times are
 * milliseconds on any clock that only moves forward (iostuff_clock_ms()).
 *
 *   scache_db_create() / scache_db_free(db) (free closes every descriptor).
 *   scache_db_save_endp(db, now, ttl_ms, endp, prop, fd): the cache owns FD.
 *   scache_db_save_dest(db, now, ttl_ms, dest, prop, endp): (re)binds DEST
 *       to ENDP; a binding to the same endpoint is replaced.
 *   scache_db_find_endp(db, now, endp, prop): removes and returns the newest
 *       unexpired connection of ENDP (its properties in PROP), or -1.
 *   scache_db_find_dest(db, now, dest, dest_prop, endp_prop): the same for
 *       the endpoints DEST is bound to, newest binding first; the binding
 *       stays until it expires. -1 when none.
 *   scache_db_expire(db, now): closes and forgets what expired; returns
 *       the number of connections closed.
 *   scache_db_count(db, &dests, &endps, &conns): current sizes.
 *   scache_db_stats(db, lines): appends the "statistics: ..." report lines
 *       for the interval since the last call (nothing when the cache was
 *       not used) and starts a new interval.
 *
 * Errors: none; a find that fails is a miss.
 */
#ifndef SCACHE_DB_H
#define SCACHE_DB_H

#include <stdint.h>

#include "argv.h"
#include "vstring.h"

typedef struct SCACHE_DB SCACHE_DB;

extern SCACHE_DB *scache_db_create(void);
extern void scache_db_free(SCACHE_DB *db);
extern void scache_db_save_endp(SCACHE_DB *db, int64_t now, int64_t ttl, const char *endp, const char *prop,
                                int fd);
extern void scache_db_save_dest(SCACHE_DB *db, int64_t now, int64_t ttl, const char *dest, const char *prop,
                                const char *endp);
extern int scache_db_find_endp(SCACHE_DB *db, int64_t now, const char *endp, VSTRING *prop);
extern int scache_db_find_dest(SCACHE_DB *db, int64_t now, const char *dest, VSTRING *dest_prop,
                               VSTRING *endp_prop);
extern int scache_db_expire(SCACHE_DB *db, int64_t now);
extern void scache_db_count(const SCACHE_DB *db, int *dests, int *endps, int *conns);
extern void scache_db_stats(SCACHE_DB *db, ARGV *lines);

#endif
