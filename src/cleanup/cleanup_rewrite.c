/*
 * cleanup_rewrite - the standard form of envelope and header addresses
 * inside cleanup (queue.md 4.2), on internal-form addresses.
 *
 * cleanup_rewrite_internal(context, out, addr) puts the standard form of
 * addr into out and returns it as a string. context is "local" or
 * "remote" (rewrite_addr.h); envelope addresses always use "local".
 *
 * Errors: none (rewriting is done in-process, it cannot fail).
 */
#include "sys_defs.h"

#include "cleanup_addr.h"
#include "rewrite_addr.h"

/* Standard form of an internal-form address. */
const char *cleanup_rewrite_internal(const char *context, VSTRING *out, const char *addr)
{
    return rewrite_addr_internal(out, context ? context : REWRITE_ADDR_LOCAL, addr);
}
