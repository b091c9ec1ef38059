/*
 * cleanup_header_addr - addresses in message headers: rewriting sender
 * and recipient headers (queue.md 4.3), and collecting recipients for
 * sendmail -t.
 *
 * cleanup_rewrite_header(state, header, class_) rewrites each address
 * of a whole unfolded header ("To: a, Joe <b@c>") in place: standard
 * form in state->rewrite_context, then (with CLEANUP_FLAG_MAP_OK)
 * sender_canonical_maps or recipient_canonical_maps and canonical_maps
 * per their classes (header_sender for CLEANUP_CLASS_SENDER,
 * header_recipient for CLEANUP_CLASS_RECIPIENT), and masquerading when
 * masquerade_classes lists the class. Phrases, comments and groups are
 * kept. In the remote context nothing happens unless
 * remote_header_rewrite_domain is set (it is then appended instead of
 * $myorigin). When no address changed the header is left byte for byte;
 * otherwise it becomes "Name: " plus the normalised list (tok822.h),
 * folded at commas into lines shorter than 70 characters as Postfix does.
 *
 * cleanup_extract_header(state, value) appends each address of a
 * To/Cc/Bcc header value to state->extracted in internal form (the
 * envelope pipeline is applied at END by cleanup_extracted()). value may
 * also be a whole header "Resent-To: ..."; addresses of Resent-To/Cc/Bcc
 * headers are marked (CLEANUP_EXTRACT_RESENT as the first byte) so that
 * cleanup_extracted() can apply the Resent- rule.
 *
 * Errors: lookup problems defer the message (cleanup_map11.c); header
 * text that is not an address list is left alone.
 */
#include "sys_defs.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "cleanup_addr.h"
#include "mail_params.h"
#include "mymalloc.h"
#include "rewrite_addr.h"

/* Rewritten address headers are folded to lines shorter than this, as Postfix does. */
#define CLEANUP_FOLD_WIDTH 70
#include "tok822.h"

/*
 * Where the addr-spec of [start, end) begins: after a source route
 * ("@a,@b:user@site"), which the standard form drops (queue.md 4.2 step 1).
 */
static size_t cleanup_skip_route(const TOK822_LIST *list, size_t start, size_t end)
{
    if (start < end && list->tokens[start].type == '@')
        for (size_t i = start; i < end; i++)
            if (list->tokens[i].type == ':')
                return i + 1;
    return start;
}

/* Rewrite each address of a header in place (see above). */
void cleanup_rewrite_header(CLEANUP_STATE *state, VSTRING *header, int class_)
{
    const char *context = state->rewrite_context ? state->rewrite_context : REWRITE_ADDR_LOCAL;
    int addr_class = class_ == CLEANUP_CLASS_SENDER ? CLEANUP_ADDR_HDR_FROM : CLEANUP_ADDR_HDR_RCPT;
    MAPS *own_maps = class_ == CLEANUP_CLASS_SENDER ? cleanup_send_canon_maps : cleanup_rcpt_canon_maps;
    int own_flags = class_ == CLEANUP_CLASS_SENDER ? cleanup_send_canon_flags : cleanup_rcpt_canon_flags;
    char *colon = strchr(vstring_str(header), ':');
    VSTRING *internal;
    VSTRING *clean;
    VSTRING *external;
    TOK822_LIST *list;
    TOK822_ADDR *addrs;
    size_t count;
    bool changed = false;

    if (colon == NULL)
        return;
    if (strcmp(context, REWRITE_ADDR_REMOTE) == 0 &&
        (var_remote_header_rewrite_domain == NULL || *var_remote_header_rewrite_domain == 0))
        return;
    internal = vstring_alloc(100);
    clean = vstring_alloc(100);
    external = vstring_alloc(100);
    list = tok822_scan(colon + 1);
    count = tok822_addr_list(list, &addrs);
    /* Back to front, so the token ranges of earlier addresses stay valid. */
    while (count-- > 0) {
        size_t from = cleanup_skip_route(list, addrs[count].start, addrs[count].end);

        vstring_reset(internal);
        tok822_internalize(internal, list->tokens + from, addrs[count].end - from);
        cleanup_rewrite_internal(context, clean, vstring_str(internal));
        if (state->flags & CLEANUP_FLAG_MAP_OK) {
            if (own_maps && (own_flags & addr_class))
                cleanup_map11_internal(state, clean, own_maps, cleanup_ext_prop_canon);
            if (cleanup_comm_canon_maps && (cleanup_comm_canon_flags & addr_class))
                cleanup_map11_internal(state, clean, cleanup_comm_canon_maps, cleanup_ext_prop_canon);
            if (cleanup_masq_domains && (cleanup_masq_flags & addr_class))
                cleanup_masquerade_internal(state, clean);
        }
        if (from != addrs[count].start || strcmp(vstring_str(clean), vstring_str(internal)) != 0) {
            tok822_quote_local(external, vstring_str(clean));
            tok822_replace(list, addrs[count].start, addrs[count].end, vstring_str(external));
            changed = true;
        }
    }
    if (changed) {
        vstring_truncate(header, (size_t)(colon - vstring_str(header)) + 1);
        vstring_addch(header, ' ');
        tok822_externalize_fold(header, list->tokens, list->count, CLEANUP_FOLD_WIDTH);
    }
    myfree(addrs);
    tok822_free(list);
    vstring_free(internal);
    vstring_free(clean);
    vstring_free(external);
}

/* Skip a leading recipient header name; tell whether it is a Resent- one. */
static const char *cleanup_extract_skip_name(const char *value, bool *resent)
{
    static const char *const names[] = {"to", "cc", "bcc"};
    const char *cp = value;

    *resent = false;
    while (isspace((unsigned char)*cp))
        cp++;
    if (strncasecmp(cp, "resent-", 7) == 0) {
        *resent = true;
        cp += 7;
    }
    for (size_t i = 0; i < ARRAY_LEN(names); i++) {
        size_t len = strlen(names[i]);
        const char *end = cp + len;

        if (strncasecmp(cp, names[i], len) != 0)
            continue;
        while (*end == ' ' || *end == '\t')
            end++;
        if (*end == ':')
            return end + 1;
    }
    *resent = false;
    return value;
}

/* Collect the recipients of a To/Cc/Bcc header value (see above). */
void cleanup_extract_header(CLEANUP_STATE *state, const char *value)
{
    bool resent;
    const char *list_text = cleanup_extract_skip_name(value, &resent);
    TOK822_LIST *list = tok822_scan(list_text);
    VSTRING *addr = vstring_alloc(100);
    TOK822_ADDR *addrs;
    size_t count = tok822_addr_list(list, &addrs);

    if (state->extracted == NULL)
        state->extracted = argv_alloc(count ? count : 1);
    for (size_t i = 0; i < count; i++) {
        vstring_reset(addr);
        if (resent)
            vstring_addch(addr, CLEANUP_EXTRACT_RESENT);
        size_t from = cleanup_skip_route(list, addrs[i].start, addrs[i].end);

        tok822_internalize(addr, list->tokens + from, addrs[i].end - from);
        if (VSTRING_LEN(addr) > (size_t)resent)
            argv_add(state->extracted, vstring_str(addr));
    }
    myfree(addrs);
    tok822_free(list);
    vstring_free(addr);
}
