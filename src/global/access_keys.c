/*
 * access_keys - the ordered lookup keys for access maps and domain
 * searches. See access_keys.h; the orders were checked against the
 * verbose logs of Postfix 3.7's smtpd.
 */
#include "sys_defs.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

#include "access_keys.h"
#include "domain_list.h"
#include "mail_addr_find.h"
#include "mail_params.h"
#include "mymalloc.h"

/* Whether param_name is in $parent_domain_matches_subdomains. */
bool access_keys_parent_mode(const char *param_name)
{
    return domain_list_parent_style(param_name) != 0;
}

/* Append domain and its parents to keys. */
static void access_keys_add_domain(ARGV *keys, const char *domain, bool parent_mode)
{
    const char *name = domain;
    const char *next;

    while (*name != 0) {
        argv_add(keys, name);
        if ((next = strchr(name + 1, '.')) == NULL)
            break;
        name = parent_mode ? next + 1 : next;
    }
}

/* The domain, then its parents. */
ARGV *access_keys_domain(const char *domain, bool parent_mode)
{
    ARGV *keys = argv_alloc(4);

    access_keys_add_domain(keys, domain, parent_mode);
    return keys;
}

/* Whether name is an IPv4 or IPv6 address (no brackets). */
static bool access_keys_numeric(const char *name)
{
    unsigned char addr[sizeof(struct in6_addr)];

    return inet_pton(AF_INET, name, addr) == 1 || inet_pton(AF_INET6, name, addr) == 1;
}

/* A host name and its parents; a numeric name alone. */
ARGV *access_keys_host(const char *name, bool parent_mode)
{
    ARGV *keys = argv_alloc(4);

    if (access_keys_numeric(name))
        argv_add(keys, name);
    else
        access_keys_add_domain(keys, name, parent_mode);
    return keys;
}

/* An address, then shorter and shorter network parts. */
ARGV *access_keys_addr(const char *addr)
{
    unsigned char bin[sizeof(struct in6_addr)];
    char text[INET6_ADDRSTRLEN];
    ARGV *keys = argv_alloc(8);
    char *copy;
    char *cut;
    int delim = '.';

    if (strchr(addr, ':') != NULL) {
        delim = ':';
        if (inet_pton(AF_INET6, addr, bin) == 1 && inet_ntop(AF_INET6, bin, text, sizeof(text)))
            addr = text;
    }
    copy = mystrdup(addr);
    while (*copy != 0) {
        argv_add(keys, copy);
        if ((cut = strrchr(copy, delim)) == NULL)
            break;
        *cut = 0;
    }
    myfree(copy);
    return keys;
}

/* The keys for an e-mail address (see access_keys.h). */
ARGV *access_keys_mail(const char *address, bool parent_mode, size_t *full_keys)
{
    ARGV *keys = argv_alloc(8);
    VSTRING *local;
    VSTRING *user;
    VSTRING *ext;
    VSTRING *domain;
    VSTRING *suffix;
    bool has_domain;

    if (*address == 0) {
        argv_add(keys, var_smtpd_null_access_lookup_key ? var_smtpd_null_access_lookup_key : "<>");
        if (full_keys)
            *full_keys = 1;
        return keys;
    }
    local = vstring_alloc(100);
    user = vstring_alloc(100);
    ext = vstring_alloc(10);
    domain = vstring_alloc(100);
    suffix = vstring_alloc(100);
    has_domain = mail_addr_find_split(address, local, user, ext, domain);
    if (has_domain)
        vstring_sprintf(suffix, "@%s", vstring_str(domain));
    mail_addr_find_forms(keys, vstring_str(local), vstring_str(suffix));
    if (full_keys)
        *full_keys = keys->argc;
    if (VSTRING_LEN(ext))
        mail_addr_find_forms(keys, vstring_str(user), vstring_str(suffix));
    if (has_domain) {
        access_keys_add_domain(keys, vstring_str(domain), parent_mode);
        mail_addr_find_forms(keys, vstring_str(local), "@");
        if (VSTRING_LEN(ext))
            mail_addr_find_forms(keys, vstring_str(user), "@");
    }
    vstring_free(local);
    vstring_free(user);
    vstring_free(ext);
    vstring_free(domain);
    vstring_free(suffix);
    return keys;
}
