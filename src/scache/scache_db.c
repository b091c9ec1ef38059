/*
 * scache_db - the connection cache store; see scache_db.h.
 *
 * Public functions: scache_db_create(), scache_db_free(),
 * scache_db_save_endp(), scache_db_save_dest(), scache_db_find_endp(),
 * scache_db_find_dest(), scache_db_expire(), scache_db_count(),
 * scache_db_stats().
 *
 * Errors: none.
 */
#include "sys_defs.h"

#include <string.h>
#include <time.h>
#include <unistd.h>

#include "argv.h"
#include "htable.h"
#include "mymalloc.h"
#include "scache_db.h"
#include "vstring.h"

/* One idle connection. */
typedef struct SCACHE_CONN {
    int fd;
    char *prop;
    int64_t expire;
    struct SCACHE_CONN *next; /* newest first */
} SCACHE_CONN;

/* One destination-to-endpoint binding. */
typedef struct SCACHE_BIND {
    char *endp;
    char *prop;
    int64_t expire;
    struct SCACHE_BIND *next; /* newest first */
} SCACHE_BIND;

struct SCACHE_DB {
    HTABLE *endps; /* label -> SCACHE_CONN list head */
    HTABLE *dests; /* label -> SCACHE_BIND list head */
    int conns;
    /* Statistics of the current interval. */
    time_t start;
    int dest_hits, dest_miss, endp_hits, endp_miss, saves;
    int max_dests, max_endps, max_conns;
};

/* Free one connection, closing its descriptor. */
static void scache_db_conn_free(SCACHE_CONN *conn)
{
    (void)close(conn->fd);
    myfree(conn->prop);
    myfree(conn);
}

/* Free one binding. */
static void scache_db_bind_free(SCACHE_BIND *bind)
{
    myfree(bind->endp);
    myfree(bind->prop);
    myfree(bind);
}

/* Remember the peak sizes for the statistics. */
static void scache_db_peaks(SCACHE_DB *db)
{
    if ((int)db->dests->used > db->max_dests)
        db->max_dests = (int)db->dests->used;
    if ((int)db->endps->used > db->max_endps)
        db->max_endps = (int)db->endps->used;
    if (db->conns > db->max_conns)
        db->max_conns = db->conns;
}

/* An empty cache. */
SCACHE_DB *scache_db_create(void)
{
    SCACHE_DB *db = mymalloc(sizeof(*db));

    memset(db, 0, sizeof(*db));
    db->endps = htable_create(13, 0);
    db->dests = htable_create(13, 0);
    db->start = time(NULL);
    return db;
}

/* Free the cache, closing every descriptor. */
void scache_db_free(SCACHE_DB *db)
{
    (void)scache_db_expire(db, INT64_MAX);
    htable_free(db->endps, NULL);
    htable_free(db->dests, NULL);
    myfree(db);
}

/* Store a connection under an endpoint label. */
void scache_db_save_endp(SCACHE_DB *db, int64_t now, int64_t ttl, const char *endp, const char *prop, int fd)
{
    HTABLE_INFO *ht = htable_locate(db->endps, endp);
    SCACHE_CONN *conn = mymalloc(sizeof(*conn));

    conn->fd = fd;
    conn->prop = mystrdup(prop);
    conn->expire = now + ttl;
    if (ht == NULL)
        ht = htable_enter(db->endps, endp, NULL);
    conn->next = ht->value;
    ht->value = conn;
    db->conns++;
    db->saves++;
    scache_db_peaks(db);
}

/* Bind a destination label to an endpoint label. */
void scache_db_save_dest(SCACHE_DB *db, int64_t now, int64_t ttl, const char *dest, const char *prop,
                         const char *endp)
{
    HTABLE_INFO *ht = htable_locate(db->dests, dest);
    SCACHE_BIND **pp;
    SCACHE_BIND *bind;

    if (ht == NULL)
        ht = htable_enter(db->dests, dest, NULL);
    for (pp = (SCACHE_BIND **)&ht->value; *pp != NULL; pp = &(*pp)->next) {
        if (strcmp((*pp)->endp, endp) == 0) {
            bind = *pp;
            *pp = bind->next;
            scache_db_bind_free(bind);
            break;
        }
    }
    bind = mymalloc(sizeof(*bind));
    bind->endp = mystrdup(endp);
    bind->prop = mystrdup(prop);
    bind->expire = now + ttl;
    bind->next = ht->value;
    ht->value = bind;
    db->saves++;
    scache_db_peaks(db);
}

/* Take the newest unexpired connection of ENDP; the fd or -1. */
static int scache_db_take(SCACHE_DB *db, int64_t now, const char *endp, VSTRING *prop)
{
    HTABLE_INFO *ht = htable_locate(db->endps, endp);
    SCACHE_CONN *conn;
    int fd;

    if (ht == NULL)
        return -1;
    while ((conn = ht->value) != NULL && conn->expire <= now) {
        ht->value = conn->next;
        scache_db_conn_free(conn);
        db->conns--;
    }
    if (conn != NULL) {
        ht->value = conn->next;
        fd = conn->fd;
        vstring_strcpy(prop, conn->prop);
        myfree(conn->prop);
        myfree(conn);
        db->conns--;
    } else {
        fd = -1;
    }
    if (ht->value == NULL)
        htable_delete(db->endps, endp, NULL);
    return fd;
}

/* Look up a connection by endpoint; see scache_db.h. */
int scache_db_find_endp(SCACHE_DB *db, int64_t now, const char *endp, VSTRING *prop)
{
    int fd = scache_db_take(db, now, endp, prop);

    if (fd >= 0)
        db->endp_hits++;
    else
        db->endp_miss++;
    return fd;
}

/* Look up a connection by destination; see scache_db.h. */
int scache_db_find_dest(SCACHE_DB *db, int64_t now, const char *dest, VSTRING *dest_prop, VSTRING *endp_prop)
{
    SCACHE_BIND *bind = htable_find(db->dests, dest);
    int fd = -1;

    for (; bind != NULL && fd < 0; bind = bind->next) {
        if (bind->expire <= now)
            continue;
        if ((fd = scache_db_take(db, now, bind->endp, endp_prop)) >= 0)
            vstring_strcpy(dest_prop, bind->prop);
    }
    if (fd >= 0)
        db->dest_hits++;
    else
        db->dest_miss++;
    return fd;
}

/* Close and forget everything that expired; see scache_db.h. */
int scache_db_expire(SCACHE_DB *db, int64_t now)
{
    HTABLE_INFO **list;
    int closed = 0;

    list = htable_list(db->endps);
    for (HTABLE_INFO **ht = list; *ht != NULL; ht++) {
        SCACHE_CONN **pp = (SCACHE_CONN **)&(*ht)->value;

        while (*pp != NULL) {
            SCACHE_CONN *conn = *pp;

            if (conn->expire <= now) {
                *pp = conn->next;
                scache_db_conn_free(conn);
                db->conns--;
                closed++;
            } else {
                pp = &conn->next;
            }
        }
        if ((*ht)->value == NULL)
            htable_delete(db->endps, (*ht)->key, NULL);
    }
    myfree(list);
    list = htable_list(db->dests);
    for (HTABLE_INFO **ht = list; *ht != NULL; ht++) {
        SCACHE_BIND **pp = (SCACHE_BIND **)&(*ht)->value;

        while (*pp != NULL) {
            SCACHE_BIND *bind = *pp;

            if (bind->expire <= now) {
                *pp = bind->next;
                scache_db_bind_free(bind);
            } else {
                pp = &bind->next;
            }
        }
        if ((*ht)->value == NULL)
            htable_delete(db->dests, (*ht)->key, NULL);
    }
    myfree(list);
    return closed;
}

/* Current sizes. */
void scache_db_count(const SCACHE_DB *db, int *dests, int *endps, int *conns)
{
    *dests = (int)db->dests->used;
    *endps = (int)db->endps->used;
    *conns = db->conns;
}

/* Success rate in percent. */
static int scache_db_rate(int hits, int miss)
{
    return hits + miss > 0 ? hits * 100 / (hits + miss) : 0;
}

/* The statistics report; see scache_db.h. */
void scache_db_stats(SCACHE_DB *db, ARGV *lines)
{
    VSTRING *buf = vstring_alloc(100);
    char date[64];
    struct tm tm;

    if (db->dest_hits + db->dest_miss + db->endp_hits + db->endp_miss + db->saves > 0) {
        (void)localtime_r(&db->start, &tm);
        (void)strftime(date, sizeof(date), "%b %d %H:%M:%S", &tm);
        vstring_sprintf(buf, "statistics: start interval %s", date);
        argv_add(lines, vstring_str(buf));
        vstring_sprintf(buf, "statistics: domain lookup hits=%d miss=%d success=%d%%", db->dest_hits,
                        db->dest_miss, scache_db_rate(db->dest_hits, db->dest_miss));
        argv_add(lines, vstring_str(buf));
        vstring_sprintf(buf, "statistics: address lookup hits=%d miss=%d success=%d%%", db->endp_hits,
                        db->endp_miss, scache_db_rate(db->endp_hits, db->endp_miss));
        argv_add(lines, vstring_str(buf));
        vstring_sprintf(buf, "statistics: max simultaneous domains=%d addresses=%d connection=%d",
                        db->max_dests, db->max_endps, db->max_conns);
        argv_add(lines, vstring_str(buf));
    }
    vstring_free(buf);
    db->start = time(NULL);
    db->dest_hits = db->dest_miss = db->endp_hits = db->endp_miss = db->saves = 0;
    db->max_dests = db->max_endps = db->max_conns = 0;
    scache_db_peaks(db);
}
