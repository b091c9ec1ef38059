/*
 * cleanup_map1n - one-to-many address mapping: virtual alias expansion
 * of envelope recipients (queue.md 4.7).
 *
 * cleanup_map1n_internal(state, addr, maps, propagate) returns the
 * expansion of an internal-form address as an ARGV (the caller frees
 * it); an address that is not aliased expands to itself. Every result
 * address is expanded again, in place: the first result replaces the
 * address, further results are appended and expanded in their turn. An
 * address that is listed in its own expansion is kept and not expanded
 * again. Results are not canonicalised again.
 *
 * Errors: more than virtual_alias_expansion_limit addresses logs "QID:
 * unreasonable TITLE map expansion size for ADDR -- message not
 * accepted, try again later", more than virtual_alias_recursion_limit
 * nested lookups for one address logs "QID: unreasonable TITLE map
 * nesting for ADDR -- ..."; both defer with "4.6.0 Alias expansion
 * error". A lookup failure logs "QID: TITLE map lookup problem for ADDR
 * -- ..." and defers. The addresses expanded so far are returned in
 * every case.
 */
#include "sys_defs.h"

#include <strings.h>

#include "cleanup_addr.h"
#include "htable.h"
#include "mail_params.h"
#include "msg.h"
#include "mymalloc.h"

#define QID(state) ((state)->queue_id ? (state)->queue_id : "NOQUEUE")

#define CLEANUP_MAP1N_REASON "4.6.0 Alias expansion error"

/* Expand addr through maps (see above). */
ARGV *cleanup_map1n_internal(CLEANUP_STATE *state, const char *addr, MAPS *maps, bool propagate)
{
    ARGV *argv = argv_alloc(1);
    HTABLE *self = htable_create(8, HTABLE_FLAG_FOLD);
    ARGV *results;
    bool error;

    argv_add(argv, addr);
    for (size_t arg = 0; arg < argv->argc; arg++) {
        if (argv->argc > (size_t)var_virtual_alias_expansion_limit) {
            msg_warn("%s: unreasonable %s map expansion size for %s -- message not accepted, try again later",
                     QID(state), maps->title, addr);
            cleanup_set_error(state, CLEANUP_STAT_DEFER, "%s", CLEANUP_MAP1N_REASON);
            break;
        }
        for (int count = 0; /* void */; count++) {
            char *lhs;

            /* An address that expanded into itself stays as it is. */
            if (htable_find(self, argv->argv[arg]) != NULL)
                break;
            if (count >= var_virtual_alias_recursion_limit) {
                msg_warn("%s: unreasonable %s map nesting for %s -- message not accepted, try again later",
                         QID(state), maps->title, addr);
                cleanup_set_error(state, CLEANUP_STAT_DEFER, "%s", CLEANUP_MAP1N_REASON);
                break;
            }
            if ((results = cleanup_map_lookup(state, maps, argv->argv[arg], propagate, &error)) == NULL) {
                if (error) {
                    cleanup_addr_error(state, maps->title, argv->argv[arg]);
                    htable_free(self, NULL);
                    return argv;
                }
                break;
            }
            lhs = mystrdup(argv->argv[arg]);
            for (size_t i = 0; i < results->argc; i++) {
                if (i == 0) {
                    myfree(argv->argv[arg]);
                    argv->argv[arg] = mystrdup(results->argv[0]);
                } else {
                    argv_add(argv, results->argv[i]);
                }
                if (strcasecmp(lhs, results->argv[i]) == 0 && htable_find(self, lhs) == NULL)
                    htable_enter(self, lhs, (void *)1);
            }
            myfree(lhs);
            argv_free(results);
        }
        if (state->errs & CLEANUP_STAT_DEFER)
            break;
    }
    htable_free(self, NULL);
    return argv;
}
