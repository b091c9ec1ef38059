/*
 * resolve_local - is a domain one of this mail system's own destinations?
 * See resolve_local.h.
 *
 * Like Postfix, only address literals are compared with the interface
 * addresses: a host name listed in inet_interfaces is resolved to its
 * addresses at init time, and is local as a domain only when
 * $mydestination lists it.
 */
#include "sys_defs.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "argv.h"
#include "domain_list.h"
#include "mail_params.h"
#include "msg.h"
#include "mymalloc.h"
#include "resolve_local.h"
#include "sockets.h"

/* One address of this host (inet_interfaces or proxy_interfaces). */
typedef struct RESOLVE_LOCAL_ADDR {
    int family; /* AF_INET or AF_INET6 */
    unsigned char addr[sizeof(struct in6_addr)];
} RESOLVE_LOCAL_ADDR;

static DOMAIN_LIST *resolve_local_dest; /* $mydestination */
static RESOLVE_LOCAL_ADDR *resolve_local_addrs;
static size_t resolve_local_count;
static size_t resolve_local_size;

/* Remember one own address unless it is known already. */
static void resolve_local_add(int family, const void *addr)
{
    size_t len = family == AF_INET6 ? sizeof(struct in6_addr) : sizeof(struct in_addr);
    RESOLVE_LOCAL_ADDR *ap;

    for (size_t i = 0; i < resolve_local_count; i++)
        if (resolve_local_addrs[i].family == family && memcmp(resolve_local_addrs[i].addr, addr, len) == 0)
            return;
    if (resolve_local_count == resolve_local_size) {
        resolve_local_size = resolve_local_size ? 2 * resolve_local_size : 8;
        resolve_local_addrs = myrealloc(resolve_local_addrs, resolve_local_size * sizeof(*ap));
    }
    ap = resolve_local_addrs + resolve_local_count++;
    memset(ap, 0, sizeof(*ap));
    ap->family = family;
    memcpy(ap->addr, addr, len);
}

/* Add the address(es) of one sockaddr. */
static void resolve_local_add_sa(const struct sockaddr *sa)
{
    if (sa->sa_family == AF_INET)
        resolve_local_add(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr);
    else if (sa->sa_family == AF_INET6)
        resolve_local_add(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr);
}

/* Every address of every local interface (inet_interfaces = all). */
static void resolve_local_add_all(void)
{
    INET_ADDR_LIST *list = inet_addr_local(INET_ADDR_IPV4 | INET_ADDR_IPV6);

    for (size_t i = 0; i < list->used; i++)
        resolve_local_add_sa((const struct sockaddr *)&list->info[i].addr);
    inet_addr_list_free(list);
}

/* One interfaces item: an address, [address], or a host name to resolve. */
static void resolve_local_add_item(const char *param_name, const char *item)
{
    unsigned char addr[sizeof(struct in6_addr)];
    size_t len = strlen(item);
    char *host =
        (item[0] == '[' && len > 1 && item[len - 1] == ']') ? mystrndup(item + 1, len - 2) : mystrdup(item);
    struct addrinfo hints;
    struct addrinfo *res;

    if (inet_pton(AF_INET, host, addr) == 1) {
        resolve_local_add(AF_INET, addr);
    } else if (inet_pton(AF_INET6, host, addr) == 1) {
        resolve_local_add(AF_INET6, addr);
    } else {
        memset(&hints, 0, sizeof(hints));
        hints.ai_family = AF_UNSPEC;
        hints.ai_socktype = SOCK_STREAM;
        if (getaddrinfo(host, 0, &hints, &res) != 0)
            msg_fatal("config variable %s: host not found: %s", param_name, host);
        for (struct addrinfo *ai = res; ai; ai = ai->ai_next)
            resolve_local_add_sa(ai->ai_addr);
        freeaddrinfo(res);
    }
    myfree(host);
}

/* The addresses named by inet_interfaces or proxy_interfaces. */
static void resolve_local_add_param(const char *param_name, const char *value, int keywords)
{
    static const unsigned char v4_loopback[] = {127, 0, 0, 1};
    ARGV *items = argv_split(value, " ,\t\r\n");

    for (size_t i = 0; i < items->argc; i++) {
        const char *item = items->argv[i];

        if (keywords && strcasecmp(item, "all") == 0) {
            resolve_local_add_all();
        } else if (keywords && strcasecmp(item, "loopback-only") == 0) {
            resolve_local_add(AF_INET, v4_loopback);
            resolve_local_add(AF_INET6, &in6addr_loopback);
        } else {
            resolve_local_add_item(param_name, item);
        }
    }
    argv_free(items);
}

/* (Re)build the destination list and the own-address list from the parameters. */
void resolve_local_init(void)
{
    if (var_mydestination == 0 || var_inet_interfaces == 0 || var_proxy_interfaces == 0)
        msg_panic("resolve_local_init: parameters are not initialized");
    if (resolve_local_dest)
        resolve_local_dest = domain_list_free(resolve_local_dest);
    resolve_local_count = 0;
    resolve_local_dest = domain_list_init("mydestination", var_mydestination);
    resolve_local_add_param("inet_interfaces", var_inet_interfaces, 1);
    resolve_local_add_param("proxy_interfaces", var_proxy_interfaces, 0);
}

/* Is "[a.b.c.d]" or "[IPv6:addr]" one of this host's interface addresses? */
static int resolve_local_literal(const char *domain, size_t len)
{
    unsigned char addr[sizeof(struct in6_addr)];
    char *text;
    const char *host;
    int family = AF_INET;
    int found = 0;

    if (len < 3 || domain[0] != '[' || domain[len - 1] != ']')
        return 0;
    text = mystrndup(domain + 1, len - 2);
    host = text;
    if (strncasecmp(host, "IPv6:", 5) == 0) {
        host += 5;
        family = AF_INET6;
    }
    if (inet_pton(family, host, addr) == 1) {
        size_t alen = family == AF_INET6 ? sizeof(struct in6_addr) : sizeof(struct in_addr);

        for (size_t i = 0; i < resolve_local_count && !found; i++)
            found = resolve_local_addrs[i].family == family &&
                    memcmp(resolve_local_addrs[i].addr, addr, alen) == 0;
    }
    myfree(text);
    return found;
}

/* 1 local, 0 not local, -1 when $mydestination could not be searched. */
int resolve_local(const char *domain)
{
    size_t len = strlen(domain);
    char *name;
    int found;

    if (resolve_local_dest == 0)
        resolve_local_init();
    if (len > 0 && domain[len - 1] == '.')
        len--;
    if (len == 0)
        return 0;
    name = mystrndup(domain, len);
    found = domain_list_match(resolve_local_dest, name);
    if (!found && resolve_local_dest->error != DICT_ERR_NONE)
        found = -1;
    else if (!found)
        found = resolve_local_literal(name, len);
    myfree(name);
    return found;
}
