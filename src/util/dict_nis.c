/*
 * dict_nis - the "nis" table (see dict_nis.h).
 */
#include "sys_defs.h"

#include <string.h>
#include <unistd.h>

#include "dict_nis.h"
#include "msg.h"

/* Whether this host has an NIS domain name. */
static bool dict_nis_domain_set(void)
{
    char domain[256];

    if (getdomainname(domain, sizeof(domain)) < 0)
        return false;
    domain[sizeof(domain) - 1] = 0;
    return *domain != 0 && strcmp(domain, "(none)") != 0;
}

static const char *dict_nis_lookup(DICT *dict, const char *key)
{
    static bool warned;

    (void)dict;
    (void)key;
    if (!warned) {
        msg_warn("NIS domain name not set - NIS lookups disabled");
        warned = true;
    }
    return NULL;
}

/* Open nis:MAP. */
DICT *dict_nis_open(const char *map, int open_flags, int dict_flags)
{
    DICT *dict;

    if ((dict = dict_require_rdonly("nis", map, open_flags, dict_flags)) != NULL)
        return dict;
    if (dict_nis_domain_set())
        return dict_surrogate("nis", map, open_flags, dict_flags, "NIS lookups are not supported by Postern");
    dict = dict_alloc("nis", map, sizeof(DICT));
    dict->lookup = dict_nis_lookup;
    dict->flags = dict_flags | DICT_FLAG_FIXED;
    return dict;
}
