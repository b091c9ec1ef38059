/*
 * cleanup_out_recipient - the last steps for an envelope recipient:
 * virtual alias expansion, duplicate elimination, and the records.
 *
 * cleanup_out_recipient(state, dsn_orcpt, dsn_notify, orcpt, recip)
 * expands recip through virtual_alias_maps (with CLEANUP_FLAG_MAP_OK;
 * queue.md 4.7) and writes, for each resulting address that is not a
 * duplicate (same address, original recipient and DSN options; queue.md
 * 4.8), an ORCP record (orcpt; only with enable_original_recipient),
 * DSN_ORCPT (when not NULL), DSN_NOTIFY (when not 0) and RCPT. It counts
 * state->rcpt_count and remembers the first recipient in
 * state->first_rcpt. The duplicate filter (state->dups) remembers at most
 * duplicate_filter_limit recipients (0: no limit); later duplicates are
 * written again, as in Postfix.
 *
 * Errors: see cleanup_map1n.c; records are written through the frame's
 * cleanup_out_*(), which drops them once the message has an error.
 */
#include "sys_defs.h"

#include "cleanup_addr.h"
#include "htable.h"
#include "mail_params.h"
#include "mymalloc.h"
#include "rec_type.h"
#include "stringops.h"

/* Whether this recipient was written before; remembers it if not. */
static bool cleanup_out_recipient_dup(CLEANUP_STATE *state, const char *dsn_orcpt, int dsn_notify,
                                      const char *orcpt, const char *recip)
{
    VSTRING *key = vstring_alloc(100);
    bool dup;

    if (state->dups == NULL)
        state->dups = htable_create(100, 0);
    vstring_sprintf(key, "%s\n%s\n%d\n%s", recip, orcpt, dsn_notify, dsn_orcpt ? dsn_orcpt : "");
    lowercase(vstring_str(key));
    dup = htable_find(state->dups, vstring_str(key)) != NULL;
    if (!dup && (var_duplicate_filter_limit <= 0 || state->dups->used < (size_t)var_duplicate_filter_limit))
        htable_enter(state->dups, vstring_str(key), (void *)1);
    vstring_free(key);
    return dup;
}

/* Write one recipient's records unless it is a duplicate. */
static void cleanup_out_recipient_one(CLEANUP_STATE *state, const char *dsn_orcpt, int dsn_notify,
                                      const char *orcpt, const char *recip)
{
    if (!var_enable_original_recipient)
        orcpt = "";
    if (cleanup_out_recipient_dup(state, dsn_orcpt, dsn_notify, orcpt, recip))
        return;
    if (var_enable_original_recipient)
        cleanup_out_string(state, REC_TYPE_ORCP, orcpt);
    if (dsn_orcpt)
        cleanup_out_string(state, REC_TYPE_DSN_ORCPT, dsn_orcpt);
    if (dsn_notify)
        cleanup_out_format(state, REC_TYPE_DSN_NOTIFY, "%d", dsn_notify);
    cleanup_out_string(state, REC_TYPE_RCPT, recip);
    state->rcpt_count++;
    if (state->first_rcpt == NULL)
        state->first_rcpt = mystrdup(recip);
}

/* Expand, deduplicate and write a recipient (see above). */
void cleanup_out_recipient(CLEANUP_STATE *state, const char *dsn_orcpt, int dsn_notify, const char *orcpt,
                           const char *recip)
{
    ARGV *expansion;

    if ((state->flags & CLEANUP_FLAG_MAP_OK) == 0 || cleanup_virt_alias_maps == NULL) {
        cleanup_out_recipient_one(state, dsn_orcpt, dsn_notify, orcpt, recip);
        return;
    }
    expansion = cleanup_map1n_internal(state, recip, cleanup_virt_alias_maps, cleanup_ext_prop_virtual);
    if (state->errs == 0)
        for (size_t i = 0; i < expansion->argc; i++)
            cleanup_out_recipient_one(state, dsn_orcpt, dsn_notify, orcpt, expansion->argv[i]);
    argv_free(expansion);
}
