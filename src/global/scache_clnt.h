/*
 * scache_clnt - the client of the connection cache service scache(8)
 * (private/$connection_cache_service_name), and the protocol both speak.
 *
 * The cache keeps idle connections (file descriptors) under endpoint
 * labels (SMTP: transport, address and port) and bindings from
 * destination labels (transport, next hop) to endpoint labels. Properties
 * are opaque text the client needs to revive its connection object.
 *
 *   scache_clnt_create() / scache_clnt_free(sc); the connection to the
 *       service is opened on first use, kept, and opened once more when a
 *       request fails on a kept connection (scache restarted).
 *   scache_clnt_save_endp(sc, ttl, endp, prop, fd): hands FD to the cache
 *       for at most TTL seconds (the service caps it at
 *       connection_cache_ttl_limit). FD is closed in this process either
 *       way. 0 or -1.
 *   scache_clnt_save_dest(sc, ttl, dest, prop, endp): binds DEST to ENDP.
 *   scache_clnt_find_endp(sc, endp, prop): a cached connection's fd (its
 *       properties in PROP), or -1.
 *   scache_clnt_find_dest(sc, dest, dest_prop, endp_prop): the same by
 *       destination.
 *
 * Wire protocol (attr.h messages, each preceded by one byte sent with
 * sendmsg() that carries a descriptor when one is passed, so that no
 * descriptor is ever read into a VSTREAM buffer):
 *   client: byte [fd for save_endp] + {request, ttl, label, prop, endpoint}
 *   server: byte [fd for a successful find] + {status, prop, endpoint_prop}
 * status 0 is success (a hit), -1 a miss or a refused request.
 *
 * Errors: -1; a service that cannot be reached is logged once per
 * failure ("warning: problem talking to service scache: ...").
 */
#ifndef SCACHE_CLNT_H
#define SCACHE_CLNT_H

#include "vstring.h"

/* Protocol names. */
#define SCACHE_REQ_SAVE_DEST  "save_dest"
#define SCACHE_REQ_FIND_DEST  "find_dest"
#define SCACHE_REQ_SAVE_ENDP  "save_endp"
#define SCACHE_REQ_FIND_ENDP  "find_endp"
#define SCACHE_ATTR_TTL       "ttl"
#define SCACHE_ATTR_LABEL     "label"
#define SCACHE_ATTR_PROP      "prop"
#define SCACHE_ATTR_ENDP      "endpoint"
#define SCACHE_ATTR_ENDP_PROP "endpoint_prop"

/* The marker byte before each message: with or without a descriptor. */
#define SCACHE_BYTE_FD   'F'
#define SCACHE_BYTE_NONE 'N'

typedef struct SCACHE_CLNT SCACHE_CLNT;

extern SCACHE_CLNT *scache_clnt_create(void);
extern void scache_clnt_free(SCACHE_CLNT *sc);
extern int scache_clnt_save_endp(SCACHE_CLNT *sc, int ttl, const char *endp, const char *prop, int fd);
extern int scache_clnt_save_dest(SCACHE_CLNT *sc, int ttl, const char *dest, const char *prop,
                                 const char *endp);
extern int scache_clnt_find_endp(SCACHE_CLNT *sc, const char *endp, VSTRING *prop);
extern int scache_clnt_find_dest(SCACHE_CLNT *sc, const char *dest, VSTRING *dest_prop, VSTRING *endp_prop);

#endif
