/*
 * trivial-rewrite - the address rewriting and resolving service
 * (private/rewrite; queue.md 4.2 and 6), a multi_server.
 *
 * Requests (resolve_clnt.h): "resolve" with sender and address answers
 * flags, transport, nexthop and recipient (resolve_addr.h); "rewrite"
 * with rule (local or remote) and address answers flags and the
 * standard form (rewrite_addr.h). The skeleton restarts the process when
 * a table file changes, so answers follow postmap at once.
 *
 * Errors: an unknown request, a missing attribute or a malformed message
 * logs a warning and drops the client; a failed table lookup is
 * answered with RESOLVE_FLAG_FAIL (the client defers).
 */
#include "sys_defs.h"

#include <string.h>

#include "attr.h"
#include "dict.h"
#include "htable.h"
#include "mail_server.h"
#include "msg.h"
#include "mymalloc.h"
#include "resolve_addr.h"
#include "resolve_clnt.h"
#include "rewrite_addr.h"
#include "vstream.h"
#include "vstring.h"

/* Answer a resolve request; -1 on a write error. */
static int trivial_rewrite_resolve(VSTREAM *client, const char *sender, const char *address)
{
    static RESOLVE_REPLY reply;

    if (reply.transport == NULL)
        resolve_clnt_init(&reply);
    resolve_addr(sender, address, &reply);
    if (msg_verbose)
        msg_info("resolve: sender=%s address=%s -> flags=0x%x transport=%s nexthop=%s recipient=%s", sender,
                 address, reply.flags, vstring_str(reply.transport), vstring_str(reply.nexthop),
                 vstring_str(reply.recipient));
    return attr_print(client, ATTR_FLAG_NONE, SEND_ATTR_INT(RESOLVE_ATTR_FLAGS, reply.flags),
                      SEND_ATTR_STR(RESOLVE_ATTR_TRANSPORT, vstring_str(reply.transport)),
                      SEND_ATTR_STR(RESOLVE_ATTR_NEXTHOP, vstring_str(reply.nexthop)),
                      SEND_ATTR_STR(RESOLVE_ATTR_RECIP, vstring_str(reply.recipient)), ATTR_TYPE_END);
}

/* Answer a rewrite request; -1 on a write error or a bad rule. */
static int trivial_rewrite_rewrite(VSTREAM *client, const char *rule, const char *address)
{
    static VSTRING *result;

    if (strcmp(rule, REWRITE_ADDR_LOCAL) != 0 && strcmp(rule, REWRITE_ADDR_REMOTE) != 0) {
        msg_warn("unknown rewrite rule \"%.100s\" in request from %s", rule, vstream_path(client));
        return -1;
    }
    if (result == NULL)
        result = vstring_alloc(100);
    rewrite_addr_internal(result, rule, address);
    if (msg_verbose)
        msg_info("rewrite: rule=%s address=%s -> %s", rule, address, vstring_str(result));
    return attr_print(client, ATTR_FLAG_NONE, SEND_ATTR_INT(RESOLVE_ATTR_FLAGS, 0),
                      SEND_ATTR_STR(RESOLVE_ATTR_ADDR, vstring_str(result)), ATTR_TYPE_END);
}

/* Free one attribute value. */
static void trivial_rewrite_free(void *ptr)
{
    myfree(ptr);
}

/* Serve one request from a client that has input ready. */
static void trivial_rewrite_service(VSTREAM *client, char *service UNUSED, char **argv UNUSED)
{
    static VSTRING *request;
    HTABLE *attrs = htable_create(5, 0);
    const char *a1 = NULL;
    const char *addr = NULL;
    int rc = -1;

    if (request == NULL)
        request = vstring_alloc(20);
    if (attr_scan(client, ATTR_FLAG_MISSING, RECV_ATTR_STR(RESOLVE_ATTR_REQ, request), RECV_ATTR_HASH(attrs),
                  ATTR_TYPE_END) == 1 + (int)attrs->used) {
        addr = htable_find(attrs, RESOLVE_ATTR_ADDR);
        if (strcmp(vstring_str(request), RESOLVE_REQ_RESOLVE) == 0) {
            if ((a1 = htable_find(attrs, RESOLVE_ATTR_SENDER)) != NULL && addr != NULL && attrs->used == 2)
                rc = trivial_rewrite_resolve(client, a1, addr);
            else
                msg_warn("malformed %s request from %s", RESOLVE_REQ_RESOLVE, vstream_path(client));
        } else if (strcmp(vstring_str(request), RESOLVE_REQ_REWRITE) == 0) {
            if ((a1 = htable_find(attrs, RESOLVE_ATTR_RULE)) != NULL && addr != NULL && attrs->used == 2)
                rc = trivial_rewrite_rewrite(client, a1, addr);
            else
                msg_warn("malformed %s request from %s", RESOLVE_REQ_REWRITE, vstream_path(client));
        } else {
            msg_warn("unknown request \"%.100s\" from %s", vstring_str(request), vstream_path(client));
        }
    }
    htable_free(attrs, trivial_rewrite_free);
    if (rc != 0)
        multi_server_disconnect(client);
}

/*
 * Open the tables before privileges are dropped. A table that cannot be
 * opened must make lookups fail (the client defers), not stop the
 * service, so surrogates are allowed already here.
 */
static void trivial_rewrite_pre_init(char *service UNUSED, char **argv UNUSED)
{
    dict_allow_surrogate = 1;
    resolve_addr_init();
}

int main(int argc, char **argv)
{
    static const MAIL_SERVER_OPTS opts = {.pre_init = trivial_rewrite_pre_init};

    multi_server_main(argc, argv, trivial_rewrite_service, &opts);
}
