/*
 * resolve_clnt - client of trivial-rewrite's "resolve" and "rewrite"
 * requests (private/rewrite), with a per-process cache of resolutions.
 *
 * Public functions: resolve_clnt_init(), resolve_clnt_free(),
 * resolve_clnt_query(), rewrite_clnt_query(); resolve_clnt_cache_ttl.
 *
 * The connection is opened on first use and kept. A request that fails
 * on an open connection (the service restarted after a table change,
 * max_use, ...) is retried once on a new connection; every new
 * connection empties the cache. Connecting is retried once per second
 * for at most $ipc_timeout seconds.
 *
 * Errors: when the service cannot be reached or answers garbage,
 * resolve_clnt_query() sets RESOLVE_FLAG_FAIL (transport "retry", next
 * hop "4.3.0 address resolver failure") after a warning, and
 * rewrite_clnt_query() computes the standard form in process instead
 * (rewrite_addr.h gives the same answer the service would).
 */
#include "sys_defs.h"

#include <time.h>
#include <unistd.h>

#include "attr.h"
#include "htable.h"
#include "iostuff.h"
#include "mail_params.h"
#include "mail_proto.h"
#include "msg.h"
#include "mymalloc.h"
#include "resolve_clnt.h"
#include "rewrite_addr.h"
#include "vstream.h"

int resolve_clnt_cache_ttl = 10;

#define RESOLVE_CLNT_CACHE_MAX 2000 /* entries before the cache is emptied */

typedef struct RESOLVE_CLNT_ENTRY {
    time_t when;
    int flags;
    char *transport;
    char *nexthop;
    char *recipient;
} RESOLVE_CLNT_ENTRY;

static VSTREAM *resolve_clnt_stream;
static HTABLE *resolve_clnt_cache;

/* Release one cache entry. */
static void resolve_clnt_entry_free(void *ptr)
{
    RESOLVE_CLNT_ENTRY *entry = ptr;

    myfree(entry->transport);
    myfree(entry->nexthop);
    myfree(entry->recipient);
    myfree(entry);
}

/* Forget every cached answer. */
static void resolve_clnt_cache_drop(void)
{
    if (resolve_clnt_cache != NULL)
        resolve_clnt_cache = htable_free(resolve_clnt_cache, resolve_clnt_entry_free);
}

/* Allocate the reply buffers. */
void resolve_clnt_init(RESOLVE_REPLY *reply)
{
    reply->transport = vstring_alloc(20);
    reply->nexthop = vstring_alloc(100);
    reply->recipient = vstring_alloc(100);
    reply->flags = 0;
}

/* Release the reply buffers. */
void resolve_clnt_free(RESOLVE_REPLY *reply)
{
    reply->transport = vstring_free(reply->transport);
    reply->nexthop = vstring_free(reply->nexthop);
    reply->recipient = vstring_free(reply->recipient);
}

/* Open a new connection (empties the cache); NULL after $ipc_timeout. */
static VSTREAM *resolve_clnt_connect(void)
{
    time_t start = time(NULL);

    if (resolve_clnt_stream != NULL) {
        vstream_fclose(resolve_clnt_stream);
        resolve_clnt_stream = NULL;
    }
    resolve_clnt_cache_drop();
    for (;;) {
        if ((resolve_clnt_stream = mail_connect(MAIL_CLASS_PRIVATE, MAIL_SERVICE_REWRITE, BLOCKING)) != NULL)
            return resolve_clnt_stream;
        if (time(NULL) - start >= var_ipc_timeout)
            return NULL;
        sleep(1);
    }
}

/* One resolve round trip; 0 or -1 (the connection is then closed). */
static int resolve_clnt_ask(VSTREAM *stream, const char *sender, const char *address, RESOLVE_REPLY *reply)
{
    if (attr_print(stream, ATTR_FLAG_NONE, SEND_ATTR_STR(RESOLVE_ATTR_REQ, RESOLVE_REQ_RESOLVE),
                   SEND_ATTR_STR(RESOLVE_ATTR_SENDER, sender), SEND_ATTR_STR(RESOLVE_ATTR_ADDR, address),
                   ATTR_TYPE_END) == 0 &&
        attr_scan(stream, ATTR_FLAG_STRICT, RECV_ATTR_INT(RESOLVE_ATTR_FLAGS, &reply->flags),
                  RECV_ATTR_STR(RESOLVE_ATTR_TRANSPORT, reply->transport),
                  RECV_ATTR_STR(RESOLVE_ATTR_NEXTHOP, reply->nexthop),
                  RECV_ATTR_STR(RESOLVE_ATTR_RECIP, reply->recipient), ATTR_TYPE_END) == 4)
        return 0;
    vstream_fclose(stream);
    resolve_clnt_stream = NULL;
    return -1;
}

/* A fresh cached answer for KEY, or NULL (a stale one is dropped). */
static RESOLVE_CLNT_ENTRY *resolve_clnt_cache_get(const char *key, time_t now)
{
    RESOLVE_CLNT_ENTRY *entry;

    if (resolve_clnt_cache == NULL || (entry = htable_find(resolve_clnt_cache, key)) == NULL)
        return NULL;
    if (now - entry->when < resolve_clnt_cache_ttl && now >= entry->when)
        return entry;
    htable_delete(resolve_clnt_cache, key, resolve_clnt_entry_free);
    return NULL;
}

/* Remember an answer for KEY. */
static void resolve_clnt_cache_put(const char *key, time_t now, int flags, const char *transport,
                                   const char *nexthop, const char *recipient)
{
    RESOLVE_CLNT_ENTRY *entry;

    if (resolve_clnt_cache == NULL || resolve_clnt_cache->used >= RESOLVE_CLNT_CACHE_MAX) {
        resolve_clnt_cache_drop();
        resolve_clnt_cache = htable_create(100, 0);
    }
    entry = mymalloc(sizeof(*entry));
    entry->when = now;
    entry->flags = flags;
    entry->transport = mystrdup(transport);
    entry->nexthop = mystrdup(nexthop);
    entry->recipient = mystrdup(recipient);
    htable_enter(resolve_clnt_cache, key, entry);
}

/* Where does address go, for this sender? (cached) */
void resolve_clnt_query(const char *sender, const char *address, RESOLVE_REPLY *reply)
{
    static VSTRING *key;
    RESOLVE_CLNT_ENTRY *entry;
    time_t now = time(NULL);
    int ok = -1;

    if (sender == NULL)
        sender = "";
    if (key == NULL)
        key = vstring_alloc(100);
    /* Keys start with \001 (rewrite keys with \002). */
    vstring_strcpy(key, "\001");
    if (*var_sender_dependent_relayhost_maps || *var_sender_dependent_default_transport_maps)
        vstring_strcat(key, sender);
    vstring_sprintf_append(key, "\001%s", address);

    if ((entry = resolve_clnt_cache_get(vstring_str(key), now)) != NULL) {
        reply->flags = entry->flags;
        vstring_strcpy(reply->transport, entry->transport);
        vstring_strcpy(reply->nexthop, entry->nexthop);
        vstring_strcpy(reply->recipient, entry->recipient);
        return;
    }
    if (resolve_clnt_stream != NULL)
        ok = resolve_clnt_ask(resolve_clnt_stream, sender, address, reply);
    if (ok < 0 && resolve_clnt_connect() != NULL)
        ok = resolve_clnt_ask(resolve_clnt_stream, sender, address, reply);
    if (ok < 0) {
        msg_warn("%s/%s service failure", MAIL_CLASS_PRIVATE, MAIL_SERVICE_REWRITE);
        reply->flags = RESOLVE_FLAG_FAIL;
        vstring_strcpy(reply->transport, "retry");
        vstring_strcpy(reply->nexthop, "4.3.0 address resolver failure");
        vstring_strcpy(reply->recipient, address);
        return;
    }
    if (reply->flags & RESOLVE_FLAG_FAIL)
        return;
    resolve_clnt_cache_put(vstring_str(key), now, reply->flags, vstring_str(reply->transport),
                           vstring_str(reply->nexthop), vstring_str(reply->recipient));
}

/* One rewrite round trip; 0 or -1 (the connection is then closed). */
static int rewrite_clnt_ask(VSTREAM *stream, const char *context, const char *address, VSTRING *result)
{
    int flags;

    if (attr_print(stream, ATTR_FLAG_NONE, SEND_ATTR_STR(RESOLVE_ATTR_REQ, RESOLVE_REQ_REWRITE),
                   SEND_ATTR_STR(RESOLVE_ATTR_RULE, context), SEND_ATTR_STR(RESOLVE_ATTR_ADDR, address),
                   ATTR_TYPE_END) == 0 &&
        attr_scan(stream, ATTR_FLAG_STRICT, RECV_ATTR_INT(RESOLVE_ATTR_FLAGS, &flags),
                  RECV_ATTR_STR(RESOLVE_ATTR_ADDR, result), ATTR_TYPE_END) == 2 &&
        (flags & RESOLVE_FLAG_FAIL) == 0)
        return 0;
    vstream_fclose(stream);
    resolve_clnt_stream = NULL;
    return -1;
}

/* The standard form of an internal-form address (cached under \002CONTEXT\001ADDRESS). */
const char *rewrite_clnt_query(const char *context, const char *address, VSTRING *result)
{
    static VSTRING *key;
    RESOLVE_CLNT_ENTRY *entry;
    time_t now = time(NULL);
    int ok = -1;

    if (key == NULL)
        key = vstring_alloc(100);
    vstring_sprintf(key, "\002%s\001%s", context, address);
    if ((entry = resolve_clnt_cache_get(vstring_str(key), now)) != NULL)
        return vstring_str(vstring_strcpy(result, entry->recipient));
    if (resolve_clnt_stream != NULL)
        ok = rewrite_clnt_ask(resolve_clnt_stream, context, address, result);
    if (ok < 0 && resolve_clnt_connect() != NULL)
        ok = rewrite_clnt_ask(resolve_clnt_stream, context, address, result);
    if (ok < 0) {
        msg_warn("%s/%s service failure; rewriting %s in process", MAIL_CLASS_PRIVATE, MAIL_SERVICE_REWRITE,
                 address);
        return rewrite_addr_internal(result, context, address);
    }
    resolve_clnt_cache_put(vstring_str(key), now, 0, "", "", vstring_str(result));
    return vstring_str(result);
}
