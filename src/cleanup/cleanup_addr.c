/*
 * cleanup_addr - envelope address processing: the tables and lists the
 * envelope stage uses, and the sender, recipient and BCC pipelines
 * (queue.md 4.1).
 *
 * cleanup_addr_init() opens canonical_maps, sender_canonical_maps,
 * recipient_canonical_maps, virtual_alias_maps, sender_bcc_maps and
 * recipient_bcc_maps (tables that cannot be opened become surrogates
 * whose lookups fail, so mail is deferred, never lost), parses the
 * *_classes parameters and the masquerade lists, and reads
 * propagate_unmatched_extensions.
 *
 * Per address, in order: standard form (local context); sender or
 * recipient canonical_maps then canonical_maps, each when its classes
 * list the envelope address; masquerading when masquerade_classes lists
 * it; automatic BCC; virtual aliasing and duplicate elimination
 * (cleanup_out_recipient.c). Canonical, masquerading and virtual need
 * CLEANUP_FLAG_MAP_OK, automatic BCC needs CLEANUP_FLAG_BCC_OK. A sender
 * equal to MAILER-DAEMON@$myorigin becomes the null sender.
 *
 * cleanup_addr_classes(param, value) parses a class list into
 * CLEANUP_ADDR_* bits.
 *
 * Errors: an unknown class name is fatal ("unknown PARAM value "X" in
 * "VALUE""), as a configuration error. Lookup problems defer the message
 * (cleanup_addr_error()).
 */
#include "sys_defs.h"

#include <string.h>
#include <strings.h>

#include "cleanup_addr.h"
#include "dict.h"
#include "mail_addr_find.h"
#include "mail_params.h"
#include "msg.h"
#include "mymalloc.h"
#include "rec_type.h"
#include "rewrite_addr.h"
#include "stringops.h"

#define QID(state) ((state)->queue_id ? (state)->queue_id : "NOQUEUE")

MAPS *cleanup_comm_canon_maps;
MAPS *cleanup_send_canon_maps;
MAPS *cleanup_rcpt_canon_maps;
MAPS *cleanup_virt_alias_maps;
MAPS *cleanup_send_bcc_maps;
MAPS *cleanup_rcpt_bcc_maps;
int cleanup_comm_canon_flags;
int cleanup_send_canon_flags;
int cleanup_rcpt_canon_flags;
int cleanup_masq_flags;
ARGV *cleanup_masq_domains;
STRING_LIST *cleanup_masq_exceptions;
bool cleanup_ext_prop_canon;
bool cleanup_ext_prop_virtual;

static const struct {
    const char *name;
    int flag;
} cleanup_addr_class_names[] = {
    {"envelope_sender", CLEANUP_ADDR_ENV_FROM},
    {"envelope_recipient", CLEANUP_ADDR_ENV_RCPT},
    {"header_sender", CLEANUP_ADDR_HDR_FROM},
    {"header_recipient", CLEANUP_ADDR_HDR_RCPT},
};

/* Parse a list of address class names into CLEANUP_ADDR_* bits. */
int cleanup_addr_classes(const char *param_name, const char *value)
{
    char *copy = mystrdup(value ? value : "");
    char *cp = copy;
    char *item;
    int flags = 0;

    while ((item = mystrtok(&cp, CHARS_COMMA_SP)) != NULL) {
        size_t i;

        for (i = 0; i < ARRAY_LEN(cleanup_addr_class_names); i++)
            if (strcasecmp(item, cleanup_addr_class_names[i].name) == 0)
                break;
        if (i == ARRAY_LEN(cleanup_addr_class_names))
            msg_fatal("unknown %s value \"%s\" in \"%s\"", param_name, item, value);
        flags |= cleanup_addr_class_names[i].flag;
    }
    myfree(copy);
    return flags;
}

/* Open one address map list, or NULL when the parameter is empty. */
static MAPS *cleanup_addr_maps(const char *title, const char *value)
{
    if (value == NULL || *value == 0)
        return NULL;
    return maps_create(title, value, DICT_FLAG_DEFAULT);
}

/* Release what an earlier cleanup_addr_init() opened. */
static void cleanup_addr_release(void)
{
    MAPS **maps[] = {&cleanup_comm_canon_maps, &cleanup_send_canon_maps, &cleanup_rcpt_canon_maps,
                     &cleanup_virt_alias_maps, &cleanup_send_bcc_maps,   &cleanup_rcpt_bcc_maps};

    for (size_t i = 0; i < ARRAY_LEN(maps); i++)
        if (*maps[i])
            *maps[i] = maps_free(*maps[i]);
    if (cleanup_masq_domains)
        cleanup_masq_domains = argv_free(cleanup_masq_domains);
    if (cleanup_masq_exceptions)
        cleanup_masq_exceptions = string_list_free(cleanup_masq_exceptions);
}

/* Open the tables and parse the lists (see above); again re-opens them. */
void cleanup_addr_init(void)
{
    cleanup_addr_release();
    dict_allow_surrogate = 1;
    cleanup_comm_canon_maps = cleanup_addr_maps("canonical_maps", var_canonical_maps);
    cleanup_send_canon_maps = cleanup_addr_maps("sender_canonical_maps", var_sender_canonical_maps);
    cleanup_rcpt_canon_maps = cleanup_addr_maps("recipient_canonical_maps", var_recipient_canonical_maps);
    cleanup_virt_alias_maps = cleanup_addr_maps("virtual_alias_maps", var_virtual_alias_maps);
    cleanup_send_bcc_maps = cleanup_addr_maps("sender_bcc_maps", var_sender_bcc_maps);
    cleanup_rcpt_bcc_maps = cleanup_addr_maps("recipient_bcc_maps", var_recipient_bcc_maps);
    cleanup_comm_canon_flags = cleanup_addr_classes("canonical_classes", var_canonical_classes);
    cleanup_send_canon_flags = cleanup_addr_classes("sender_canonical_classes", var_sender_canonical_classes);
    cleanup_rcpt_canon_flags =
        cleanup_addr_classes("recipient_canonical_classes", var_recipient_canonical_classes);
    cleanup_masq_flags = cleanup_addr_classes("masquerade_classes", var_masquerade_classes);
    if (var_masquerade_domains && *var_masquerade_domains)
        cleanup_masq_domains = argv_split(var_masquerade_domains, CHARS_COMMA_SP);
    if (var_masquerade_exceptions && *var_masquerade_exceptions)
        cleanup_masq_exceptions = string_list_init("masquerade_exceptions", var_masquerade_exceptions);
    cleanup_ext_prop_canon = mail_addr_find_propagate("canonical");
    cleanup_ext_prop_virtual = mail_addr_find_propagate("virtual");
}

/* Canonical mapping and masquerading for one address class. */
static void cleanup_addr_map(CLEANUP_STATE *state, VSTRING *addr, MAPS *own_maps, int own_flags, int class_)
{
    if ((state->flags & CLEANUP_FLAG_MAP_OK) == 0)
        return;
    if (own_maps && (own_flags & class_))
        cleanup_map11_internal(state, addr, own_maps, cleanup_ext_prop_canon);
    if (cleanup_comm_canon_maps && (cleanup_comm_canon_flags & class_))
        cleanup_map11_internal(state, addr, cleanup_comm_canon_maps, cleanup_ext_prop_canon);
    if (cleanup_masq_domains && (cleanup_masq_flags & class_))
        cleanup_masquerade_internal(state, addr);
}

/* The one BCC address a *_bcc_maps lookup gives for addr, or NULL. */
static char *cleanup_addr_bcc_lookup(CLEANUP_STATE *state, MAPS *maps, const char *addr)
{
    ARGV *results;
    bool error;
    char *bcc;

    if ((results = cleanup_map_lookup(state, maps, addr, false, &error)) == NULL) {
        if (error)
            cleanup_addr_error(state, maps->title, addr);
        return NULL;
    }
    if (results->argc > 1)
        msg_warn("%s: multi-valued %s entry for %s: using only the first address", QID(state), maps->title,
                 addr);
    bcc = mystrdup(results->argv[0]);
    argv_free(results);
    return bcc;
}

/* Process the envelope sender and write the FROM record. */
void cleanup_addr_sender(CLEANUP_STATE *state, const char *addr)
{
    VSTRING *clean = vstring_alloc(100);
    VSTRING *daemon = vstring_alloc(100);
    char *bcc;

    cleanup_rewrite_internal(REWRITE_ADDR_LOCAL, clean, addr);
    if (strncasecmp(vstring_str(clean), "MAILER-DAEMON@", 14) == 0) {
        cleanup_rewrite_internal(REWRITE_ADDR_LOCAL, daemon, "MAILER-DAEMON");
        if (strcasecmp(vstring_str(clean), vstring_str(daemon)) == 0)
            vstring_reset(clean);
    }
    if (*vstring_str(clean))
        cleanup_addr_map(state, clean, cleanup_send_canon_maps, cleanup_send_canon_flags,
                         CLEANUP_ADDR_ENV_FROM);
    cleanup_out_string(state, REC_TYPE_FROM, vstring_str(clean));
    state->sender = mystrdup(vstring_str(clean));
    if (state->orig_sender == NULL)
        state->orig_sender = mystrdup(addr);
    if ((state->flags & CLEANUP_FLAG_BCC_OK) && *vstring_str(clean) && cleanup_send_bcc_maps &&
        state->errs == 0 &&
        (bcc = cleanup_addr_bcc_lookup(state, cleanup_send_bcc_maps, vstring_str(clean))) != NULL) {
        cleanup_addr_bcc(state, bcc, DSN_NOTIFY_NEVER);
        myfree(bcc);
    }
    vstring_free(clean);
    vstring_free(daemon);
}

/* Process one envelope recipient with the pending ORCP/DSN values. */
void cleanup_addr_recipient(CLEANUP_STATE *state, const char *addr)
{
    VSTRING *clean;
    char *bcc;

    if (state->errs)
        return;
    clean = vstring_alloc(100);
    cleanup_rewrite_internal(REWRITE_ADDR_LOCAL, clean, *addr ? addr : var_empty_address_recipient);
    cleanup_addr_map(state, clean, cleanup_rcpt_canon_maps, cleanup_rcpt_canon_flags, CLEANUP_ADDR_ENV_RCPT);
    cleanup_out_recipient(state, state->dsn_orcpt, state->dsn_notify,
                          state->orig_rcpt ? state->orig_rcpt : addr, vstring_str(clean));
    if ((state->flags & CLEANUP_FLAG_BCC_OK) && cleanup_rcpt_bcc_maps && state->errs == 0 &&
        (bcc = cleanup_addr_bcc_lookup(state, cleanup_rcpt_bcc_maps, vstring_str(clean))) != NULL) {
        cleanup_addr_bcc(state, bcc, DSN_NOTIFY_NEVER);
        myfree(bcc);
    }
    vstring_free(clean);
}

/* Add a BCC recipient: its own original recipient, no DSN ORCPT. */
void cleanup_addr_bcc(CLEANUP_STATE *state, const char *addr, int dsn_notify)
{
    VSTRING *clean;

    if (state->errs)
        return;
    clean = vstring_alloc(100);
    cleanup_rewrite_internal(REWRITE_ADDR_LOCAL, clean, addr);
    cleanup_addr_map(state, clean, cleanup_rcpt_canon_maps, cleanup_rcpt_canon_flags, CLEANUP_ADDR_ENV_RCPT);
    cleanup_out_recipient(state, NULL, dsn_notify, vstring_str(clean), vstring_str(clean));
    vstring_free(clean);
}
