/*
 * resolve_addr - in-process address resolution: the answer trivial-rewrite's
 * "resolve" service gives (queue.md section 6).
 *
 * Public functions: resolve_addr_init() opens the class lists and tables
 * and logs the "do not list domain D in BOTH X and Y" warnings;
 * resolve_addr(sender, address, reply) fills a RESOLVE_REPLY.
 *
 * Order of work for one recipient (internal form):
 *   1. split at the last '@'; "" is $empty_address_recipient, a missing
 *      domain is $myhostname;
 *   2. while the domain is local and the local part still routes
 *      (user@a, user%a with allow_percent_hack, a!user with swap_bangpath),
 *      strip the local domain and continue with the inner address;
 *   3. the class: local, virtual alias, virtual mailbox, relay, default,
 *      each with its *_transport and next hop (relay and default: the
 *      sender-dependent relay host, $relayhost, the domain);
 *   4. transport_maps (not for the virtual alias class);
 *   5. relocated_maps (every class).
 *
 * Errors: a failed table or list lookup sets RESOLVE_FLAG_FAIL with
 * transport "retry" and next hop "4.3.0 address resolver failure"; a bad
 * domain sets RESOLVE_FLAG_ERROR with transport "error".
 */
#include "sys_defs.h"

#include <ctype.h>
#include <string.h>

#include "dict.h"
#include "domain_list.h"
#include "htable.h"
#include "mail_addr_find.h"
#include "mail_params.h"
#include "maps.h"
#include "msg.h"
#include "mymalloc.h"
#include "resolve_addr.h"
#include "resolve_local.h"
#include "stringops.h"
#include "tok822.h"
#include "valid_hostname.h"
#include "vstring.h"

static bool resolve_addr_ready;
static DOMAIN_LIST *resolve_addr_alias_doms;
static DOMAIN_LIST *resolve_addr_mbox_doms;
static DOMAIN_LIST *resolve_addr_relay_doms;
static MAPS *resolve_addr_transport;
static MAPS *resolve_addr_relocated;
static MAPS *resolve_addr_sd_relayhost;
static MAPS *resolve_addr_sd_transport;
static bool resolve_addr_transport_parent;

/* Literal domains of a list value: no tables, files, patterns or negations. */
static ARGV *resolve_addr_literals(const char *value)
{
    ARGV *out = argv_alloc(4);
    char *copy = mystrdup(value);
    char *bp = copy;
    char *item;

    while ((item = mystrtokq(&bp, ", \t\r\n", "{}")) != NULL) {
        if (strchr(item, ':') || strchr(item, '/') || *item == '!' || *item == '.' || *item == '{')
            continue;
        argv_add(out, lowercase(item));
    }
    myfree(copy);
    return out;
}

/* Does a list (NULL: $mydestination) contain the domain? Failures count as no. */
static int resolve_addr_in_list(DOMAIN_LIST *list, const char *domain)
{
    if (list == NULL)
        return resolve_local(domain) == 1;
    return domain_list_match(list, domain) == 1;
}

/* Warn about literal domains listed in two class lists that exclude each other. */
static void resolve_addr_warn_both(void)
{
    const struct {
        const char *name_a;
        const char *value_a;
        DOMAIN_LIST *list_a;
        const char *name_b;
        const char *value_b;
        DOMAIN_LIST *list_b;
    } pairs[] = {
        {"mydestination", var_mydestination, NULL, "virtual_alias_domains", var_virtual_alias_domains,
         resolve_addr_alias_doms},
        {"mydestination", var_mydestination, NULL, "virtual_mailbox_domains", var_virtual_mailbox_domains,
         resolve_addr_mbox_doms},
        {"virtual_alias_domains", var_virtual_alias_domains, resolve_addr_alias_doms,
         "virtual_mailbox_domains", var_virtual_mailbox_domains, resolve_addr_mbox_doms},
    };
    HTABLE *seen = htable_create(10, 0);
    VSTRING *key = vstring_alloc(100);

    for (size_t i = 0; i < sizeof(pairs) / sizeof(pairs[0]); i++) {
        if (*pairs[i].value_a == 0 || *pairs[i].value_b == 0)
            continue;
        for (int side = 0; side < 2; side++) {
            ARGV *lits = resolve_addr_literals(side == 0 ? pairs[i].value_a : pairs[i].value_b);
            DOMAIN_LIST *other = side == 0 ? pairs[i].list_b : pairs[i].list_a;

            for (size_t n = 0; n < lits->argc; n++) {
                vstring_sprintf(key, "%s %s %s", lits->argv[n], pairs[i].name_a, pairs[i].name_b);
                if (htable_locate(seen, vstring_str(key)) || !resolve_addr_in_list(other, lits->argv[n]))
                    continue;
                htable_enter(seen, vstring_str(key), NULL);
                msg_warn("do not list domain %s in BOTH %s and %s", lits->argv[n], pairs[i].name_a,
                         pairs[i].name_b);
            }
            argv_free(lits);
        }
    }
    htable_free(seen, NULL);
    vstring_free(key);
}

/* Open (or reopen, after a parameter change) the lists and tables. */
void resolve_addr_init(void)
{
    if (resolve_addr_ready) {
        resolve_addr_alias_doms = domain_list_free(resolve_addr_alias_doms);
        resolve_addr_mbox_doms = domain_list_free(resolve_addr_mbox_doms);
        resolve_addr_relay_doms = domain_list_free(resolve_addr_relay_doms);
        resolve_addr_transport = maps_free(resolve_addr_transport);
        resolve_addr_relocated = maps_free(resolve_addr_relocated);
        resolve_addr_sd_relayhost = maps_free(resolve_addr_sd_relayhost);
        resolve_addr_sd_transport = maps_free(resolve_addr_sd_transport);
    }
    resolve_local_init();
    resolve_addr_alias_doms = domain_list_init("virtual_alias_domains", var_virtual_alias_domains);
    resolve_addr_mbox_doms = domain_list_init("virtual_mailbox_domains", var_virtual_mailbox_domains);
    resolve_addr_relay_doms = domain_list_init("relay_domains", var_relay_domains);
    resolve_addr_transport =
        maps_create("transport_maps", var_transport_maps, DICT_FLAG_DEFAULT | DICT_FLAG_NO_REGSUB);
    resolve_addr_relocated = maps_create("relocated_maps", var_relocated_maps, DICT_FLAG_DEFAULT);
    resolve_addr_sd_relayhost = maps_create("sender_dependent_relayhost_maps",
                                            var_sender_dependent_relayhost_maps, DICT_FLAG_DEFAULT);
    resolve_addr_sd_transport = maps_create("sender_dependent_default_transport_maps",
                                            var_sender_dependent_default_transport_maps, DICT_FLAG_DEFAULT);
    resolve_addr_transport_parent = domain_list_parent_style("transport_maps");
    resolve_addr_ready = true;
    resolve_addr_warn_both();
}

/* External form (quoted local part) of an internal-form address. */
static const char *resolve_addr_external(VSTRING *out, const char *internal)
{
    return vstring_str(tok822_quote_local(out, internal));
}

/* Split "transport:nexthop" (a missing ':' means no next hop). */
static void resolve_addr_channel(const char *value, VSTRING *transport, VSTRING *nexthop)
{
    const char *colon = strchr(value, ':');

    if (colon == NULL) {
        vstring_strcpy(transport, value);
        vstring_reset(nexthop);
    } else {
        vstring_strncpy(transport, value, (size_t)(colon - value));
        vstring_strcpy(nexthop, colon + 1);
    }
}

/* Sender-dependent table lookup; NULL when not found or failed (*fail set). */
static const char *resolve_addr_sender_lookup(MAPS *maps, const char *sender, const char *null_key,
                                              bool *fail)
{
    static VSTRING *ext;
    const char *result;

    if (maps->argv->argc == 0)
        return NULL;
    if (ext == NULL)
        ext = vstring_alloc(100);
    if (*sender == 0)
        result = maps_find(maps, null_key, 0);
    else
        result = mail_addr_find(maps, resolve_addr_external(ext, sender), NULL);
    if (result == NULL && maps->error != DICT_ERR_NONE)
        *fail = true;
    return result;
}

/* One transport_maps search step; true when done (found or failed). */
static bool resolve_addr_tmap_try(const char *key, int flags, char **found, bool *fail)
{
    const char *value = maps_find(resolve_addr_transport, key, flags);

    if (value != NULL) {
        *found = mystrdup(value);
        return true;
    }
    if (resolve_addr_transport->error != DICT_ERR_NONE) {
        *fail = true;
        return true;
    }
    return false;
}

/* The transport_maps result for an address (mymalloc'ed), NULL if none. */
static char *resolve_addr_tmap(const char *external, const char *domain, bool *fail)
{
    static VSTRING *local, *user, *ext, *dom, *key;
    char *found = NULL;

    if (resolve_addr_transport->argv->argc == 0)
        return NULL;
    if (key == NULL) {
        local = vstring_alloc(100);
        user = vstring_alloc(100);
        ext = vstring_alloc(100);
        dom = vstring_alloc(100);
        key = vstring_alloc(100);
    }
    /* Full address: pattern tables see it (once). */
    if (resolve_addr_tmap_try(external, 0, &found, fail))
        return found;
    mail_addr_find_split(external, local, user, ext, dom);
    if (VSTRING_LEN(ext) > 0) {
        tok822_quote_local(key, vstring_str(user));
        vstring_sprintf_append(key, "@%s", domain);
        if (resolve_addr_tmap_try(lowercase(vstring_str(key)), DICT_FLAG_FIXED, &found, fail))
            return found;
    }
    vstring_strcpy(key, domain);
    lowercase(vstring_str(key));
    if (resolve_addr_tmap_try(vstring_str(key), DICT_FLAG_FIXED, &found, fail))
        return found;
    if (*domain != '[') {
        for (const char *cp = strchr(vstring_str(key) + 1, '.'); cp != NULL; cp = strchr(cp + 1, '.')) {
            if (resolve_addr_tmap_try(resolve_addr_transport_parent ? cp + 1 : cp, DICT_FLAG_FIXED, &found,
                                      fail))
                return found;
        }
    }
    resolve_addr_tmap_try("*", DICT_FLAG_FIXED, &found, fail);
    return found;
}

/* Does a local part still carry routing? */
static bool resolve_addr_routed(const char *local)
{
    return strpbrk(local, "@%!") != NULL;
}

/* Fill the reply for a lookup failure. */
static void resolve_addr_fail(RESOLVE_REPLY *reply)
{
    reply->flags = (reply->flags & ~RESOLVE_CLASS_MASK) | RESOLVE_FLAG_FAIL;
    vstring_strcpy(reply->transport, "retry");
    vstring_strcpy(reply->nexthop, "4.3.0 address resolver failure");
}

/* Resolve one internal-form recipient (see the header). */
void resolve_addr(const char *sender, const char *address, RESOLVE_REPLY *reply)
{
    static VSTRING *local, *domain, *tmp, *external;
    const char *at;
    const char *value;
    bool has_at;
    bool fail = false;
    int is_local = 0;
    int class_flags;

    if (!resolve_addr_ready)
        resolve_addr_init();
    if (local == NULL) {
        local = vstring_alloc(100);
        domain = vstring_alloc(100);
        tmp = vstring_alloc(100);
        external = vstring_alloc(100);
    }
    if (sender == NULL)
        sender = "";
    reply->flags = 0;
    vstring_reset(reply->transport);
    vstring_reset(reply->nexthop);
    vstring_strcpy(reply->recipient, address);

    /* Step 1: local part and domain. */
    if (*address == 0)
        address = var_empty_address_recipient;
    if ((at = strrchr(address, '@')) != NULL) {
        vstring_strncpy(local, address, (size_t)(at - address));
        vstring_strcpy(domain, at + 1);
        has_at = true;
    } else {
        vstring_strcpy(local, address);
        vstring_reset(domain);
        has_at = false;
    }

    /* Step 2: strip local domains off routed addresses. */
    for (;;) {
        char *lp = vstring_str(local);
        char *cp;

        if (VSTRING_LEN(domain) > 1 && vstring_str(domain)[VSTRING_LEN(domain) - 1] == '.')
            vstring_truncate(domain, VSTRING_LEN(domain) - 1);
        if (VSTRING_LEN(domain) == 0) {
            if (has_at && !var_resolve_null_domain) {
                reply->flags |= RESOLVE_FLAG_ERROR;
                break;
            }
            vstring_strcpy(domain, var_myhostname);
        }
        if ((is_local = resolve_local(vstring_str(domain))) < 0) {
            resolve_addr_fail(reply);
            return;
        }
        if (is_local == 0 || !resolve_addr_routed(lp))
            break;
        if ((cp = strrchr(lp, '@')) != NULL || (var_allow_percent_hack && (cp = strrchr(lp, '%')) != NULL)) {
            vstring_strcpy(domain, cp + 1);
            vstring_truncate(local, (size_t)(cp - lp));
        } else if (var_swap_bangpath && (cp = strchr(lp, '!')) != NULL) {
            vstring_strncpy(domain, lp, (size_t)(cp - lp));
            vstring_strcpy(tmp, cp + 1);
            vstring_strcpy(local, vstring_str(tmp));
        } else {
            break;
        }
        has_at = true;
    }

    /* A domain must be a host name or an address literal. */
    if (!(reply->flags & RESOLVE_FLAG_ERROR)) {
        const char *dp = vstring_str(domain);

        if (*dp == '[') {
            if (dp[strlen(dp) - 1] != ']')
                reply->flags |= RESOLVE_FLAG_ERROR;
        } else if (!valid_hostname(dp)) {
            if (var_resolve_numeric_domain && strspn(dp, "0123456789.") == strlen(dp)) {
                vstring_sprintf(tmp, "[%s]", dp);
                vstring_strcpy(domain, vstring_str(tmp));
                if ((is_local = resolve_local(vstring_str(domain))) < 0) {
                    resolve_addr_fail(reply);
                    return;
                }
            } else {
                reply->flags |= RESOLVE_FLAG_ERROR;
            }
        }
    }
    if (reply->flags & RESOLVE_FLAG_ERROR) {
        reply->flags |= RESOLVE_CLASS_DEFAULT;
        vstring_strcpy(reply->transport, "error");
        vstring_strcpy(reply->nexthop, "5.1.3 bad address syntax");
        return;
    }
    vstring_sprintf(reply->recipient, "%s@%s", vstring_str(local), vstring_str(domain));
    if (!is_local && resolve_addr_routed(vstring_str(local)))
        reply->flags |= RESOLVE_FLAG_ROUTED;
    lowercase(vstring_str(domain));

    /* Step 3: the class, its transport and next hop. */
    if (is_local) {
        class_flags = RESOLVE_CLASS_LOCAL | RESOLVE_FLAG_FINAL;
        resolve_addr_channel(var_local_transport, reply->transport, reply->nexthop);
    } else if (resolve_addr_in_list(resolve_addr_alias_doms, vstring_str(domain))) {
        class_flags = RESOLVE_CLASS_ALIAS | RESOLVE_FLAG_FINAL;
        vstring_strcpy(reply->transport, "error");
        vstring_strcpy(reply->nexthop, var_show_user_unknown_table_name
                                           ? "5.1.1 User unknown in virtual alias table"
                                           : "5.1.1 User unknown");
    } else if (resolve_addr_alias_doms->error != DICT_ERR_NONE) {
        resolve_addr_fail(reply);
        return;
    } else if (resolve_addr_in_list(resolve_addr_mbox_doms, vstring_str(domain))) {
        class_flags = RESOLVE_CLASS_VIRTUAL | RESOLVE_FLAG_FINAL;
        resolve_addr_channel(var_virtual_transport, reply->transport, reply->nexthop);
    } else if (resolve_addr_mbox_doms->error != DICT_ERR_NONE) {
        resolve_addr_fail(reply);
        return;
    } else if (resolve_addr_in_list(resolve_addr_relay_doms, vstring_str(domain))) {
        class_flags = RESOLVE_CLASS_RELAY;
        resolve_addr_channel(var_relay_transport, reply->transport, reply->nexthop);
    } else if (resolve_addr_relay_doms->error != DICT_ERR_NONE) {
        resolve_addr_fail(reply);
        return;
    } else {
        class_flags = RESOLVE_CLASS_DEFAULT;
        value = resolve_addr_sender_lookup(resolve_addr_sd_transport, sender,
                                           var_empty_address_default_transport_maps_lookup_key, &fail);
        resolve_addr_channel(value ? value : var_default_transport, reply->transport, reply->nexthop);
    }
    if (VSTRING_LEN(reply->nexthop) == 0 && (class_flags & (RESOLVE_CLASS_RELAY | RESOLVE_CLASS_DEFAULT))) {
        value = resolve_addr_sender_lookup(resolve_addr_sd_relayhost, sender,
                                           var_empty_address_relayhost_maps_lookup_key, &fail);
        vstring_strcpy(reply->nexthop, value ? value : var_relayhost);
    }
    if (VSTRING_LEN(reply->nexthop) == 0)
        vstring_strcpy(reply->nexthop, vstring_str(domain));
    if (fail) {
        resolve_addr_fail(reply);
        return;
    }
    reply->flags |= class_flags;

    /* Step 4: transport_maps overrides every class but virtual alias. */
    resolve_addr_external(external, vstring_str(reply->recipient));
    if (!(class_flags & RESOLVE_CLASS_ALIAS)) {
        char *found = resolve_addr_tmap(vstring_str(external), vstring_str(domain), &fail);

        if (fail) {
            resolve_addr_fail(reply);
            return;
        }
        if (found != NULL) {
            const char *colon = strchr(found, ':');
            size_t tlen = colon ? (size_t)(colon - found) : strlen(found);
            const char *hop = colon ? colon + 1 : "";

            if (tlen > 0) {
                vstring_strncpy(reply->transport, found, tlen);
                vstring_strcpy(reply->nexthop, *hop ? hop : vstring_str(domain));
            } else if (*hop) {
                vstring_strcpy(reply->nexthop, hop);
            }
            myfree(found);
        }
    }

    /* Step 5: relocated users, in every class. */
    if (resolve_addr_relocated->argv->argc > 0) {
        value = mail_addr_find(resolve_addr_relocated, vstring_str(external), NULL);
        if (value != NULL) {
            vstring_strcpy(reply->transport, "error");
            vstring_sprintf(reply->nexthop, "5.1.6 %s%s",
                            var_relocated_prefix_enable ? "User has moved to " : "", value);
        } else if (resolve_addr_relocated->error != DICT_ERR_NONE) {
            resolve_addr_fail(reply);
            return;
        }
    }
}
