/*
 * cleanup_masq - address masquerading (queue.md 4.5).
 *
 * cleanup_masquerade(addr, domains, exceptions) strips the subdomain
 * part of the domain of an internal-form address in place: the items of
 * masquerade_domains are tried left to right and the first that decides
 * wins. An item "example.com" turns "u@a.b.example.com" into
 * "u@example.com" and leaves "u@example.com" itself alone; "!sub.x"
 * leaves sub.x and its subdomains alone. Local parts listed in
 * masquerade_exceptions (exceptions may be NULL) are never masqueraded.
 * Returns 1 when addr changed, 0 when not, -1 when the exception list
 * could not be searched (a table failed).
 *
 * cleanup_masquerade_internal(state, addr) applies the configured lists.
 *
 * Errors: a failed exception list logs "QID: masquerade_exceptions map
 * lookup problem for ADDR -- message not accepted, try again later" and
 * defers the message.
 */
#include "sys_defs.h"

#include <string.h>
#include <strings.h>

#include "cleanup_addr.h"
#include "msg.h"
#include "mymalloc.h"

/* Masquerade addr in place (see above). */
int cleanup_masquerade(VSTRING *addr, const ARGV *domains, STRING_LIST *exceptions)
{
    char *at = strrchr(vstring_str(addr), '@');
    const char *domain;
    size_t domain_len;

    if (at == NULL || at[1] == 0 || domains == NULL)
        return 0;
    if (exceptions) {
        char *local = mystrndup(vstring_str(addr), (size_t)(at - vstring_str(addr)));
        int match = string_list_match(exceptions, local);

        myfree(local);
        if (match)
            return 0;
        if (exceptions->error != DICT_ERR_NONE)
            return -1;
    }
    domain = at + 1;
    domain_len = strlen(domain);
    for (size_t i = 0; i < domains->argc; i++) {
        const char *masq = domains->argv[i];
        bool excluded = *masq == '!';
        size_t masq_len;
        const char *parent;

        masq += excluded;
        if ((masq_len = strlen(masq)) == 0)
            continue;
        if (masq_len == domain_len) {
            if (strcasecmp(masq, domain) == 0)
                return 0;
        } else if (masq_len < domain_len) {
            parent = domain + domain_len - masq_len;
            if (parent[-1] == '.' && strcasecmp(masq, parent) == 0) {
                if (excluded)
                    return 0;
                vstring_truncate(addr, (size_t)(domain - vstring_str(addr)));
                vstring_strcat(addr, masq);
                return 1;
            }
        }
    }
    return 0;
}

/* Masquerade with masquerade_domains and masquerade_exceptions. */
bool cleanup_masquerade_internal(CLEANUP_STATE *state, VSTRING *addr)
{
    int status = cleanup_masquerade(addr, cleanup_masq_domains, cleanup_masq_exceptions);

    if (status < 0)
        cleanup_addr_error(state, "masquerade_exceptions", vstring_str(addr));
    return status > 0;
}
