/*
 * cleanup_map11 - one-to-one address mapping (canonical_maps and the
 * sender/recipient variants), and the lookup helper that virtual aliasing
 * shares.
 *
 * cleanup_map_lookup(state, maps, addr, propagate, &error) searches an
 * internal-form address with mail_addr_find() (tables.md 7.2) and turns
 * the result into internal-form addresses in standard form: the result is
 * a comma/space list; a first result "@otherdomain" means the same user
 * there; the stripped extension is re-appended when propagate is set; a
 * result without '@' gets "@$myorigin". NULL when nothing was found, or
 * on a lookup failure (error set, nothing logged).
 *
 * cleanup_map11_internal(state, addr, maps, propagate) replaces addr by
 * its mapping, again and again until an address maps to itself or is not
 * found (at most 10 lookups); returns whether addr changed.
 *
 * Errors: a lookup failure logs "QID: TITLE map lookup problem for ADDR
 * -- message not accepted, try again later", more than 10 mappings log
 * "QID: unreasonable TITLE map nesting for ADDR -- message not accepted,
 * try again later"; both defer the message (CLEANUP_STAT_DEFER). A result
 * with several addresses logs "QID: multi-valued TITLE entry for ADDR"
 * and uses the first.
 */
#include "sys_defs.h"

#include <string.h>
#include <strings.h>

#include "cleanup_addr.h"
#include "mail_addr_find.h"
#include "msg.h"
#include "mymalloc.h"
#include "rewrite_addr.h"
#include "tok822.h"

#define CLEANUP_MAP11_MAX_NESTING 10

#define QID(state) ((state)->queue_id ? (state)->queue_id : "NOQUEUE")

/* Whether a token is a word (atom, quoted string, domain literal). */
static bool cleanup_map_is_word(int type)
{
    return type == TOK822_ATOM || type == TOK822_QSTRING || type == TOK822_DLITERAL;
}

/* Split a table result into external-form addresses (commas, blanks). */
static ARGV *cleanup_map_split(const char *result)
{
    TOK822_LIST *list = tok822_scan(result);
    ARGV *addrs = argv_alloc(2);
    VSTRING *buf = vstring_alloc(100);
    size_t start = 0;
    int prev = 0;

    for (size_t i = 0; i <= list->count; i++) {
        int type = i < list->count ? list->tokens[i].type : ',';
        bool boundary = type == ',' || (cleanup_map_is_word(type) && cleanup_map_is_word(prev));

        if (boundary) {
            vstring_reset(buf);
            for (size_t j = start; j < i; j++) {
                int t = list->tokens[j].type;

                if (t != TOK822_COMMENT && t != '<' && t != '>')
                    tok822_externalize(buf, list->tokens + j, 1);
            }
            if (VSTRING_LEN(buf) > 0)
                argv_add(addrs, vstring_str(buf));
            start = type == ',' ? i + 1 : i;
        }
        if (type != TOK822_COMMENT && type != '<' && type != '>')
            prev = type == ',' ? 0 : type;
    }
    vstring_free(buf);
    tok822_free(list);
    return addrs;
}

/* The mapped addresses of addr, or NULL (see above). */
ARGV *cleanup_map_lookup(CLEANUP_STATE *state, MAPS *maps, const char *addr, bool propagate, bool *error)
{
    VSTRING *ext_addr = vstring_alloc(100);
    VSTRING *buf = vstring_alloc(100);
    VSTRING *std = vstring_alloc(100);
    char *extension = NULL;
    const char *found;
    ARGV *results = NULL;
    ARGV *split;

    (void)state;
    *error = false;
    tok822_quote_local(ext_addr, addr);
    found = mail_addr_find(maps, vstring_str(ext_addr), &extension);
    if (found == NULL) {
        *error = maps->error != DICT_ERR_NONE;
    } else {
        split = cleanup_map_split(found);
        results = argv_alloc(split->argc ? split->argc : 1);
        for (size_t i = 0; i < split->argc; i++) {
            const char *one = split->argv[i];

            if (i == 0 || *one != '@')
                mail_addr_find_result(buf, one, vstring_str(ext_addr), extension, propagate);
            else
                vstring_strcpy(buf, one);
            rewrite_addr(std, REWRITE_ADDR_LOCAL, vstring_str(buf));
            tok822_unquote_local(buf, vstring_str(std));
            argv_add(results, vstring_str(buf));
        }
        argv_free(split);
        if (results->argc == 0)
            results = argv_free(results);
    }
    if (extension)
        myfree(extension);
    vstring_free(ext_addr);
    vstring_free(buf);
    vstring_free(std);
    return results;
}

/* Log a lookup problem and defer the message. */
void cleanup_addr_error(CLEANUP_STATE *state, const char *title, const char *addr)
{
    msg_warn("%s: %s map lookup problem for %s -- message not accepted, try again later", QID(state), title,
             addr);
    cleanup_set_error(state, CLEANUP_STAT_DEFER, "%s", CLEANUP_ADDR_DEFER_TEXT);
}

/* Map addr one-to-one until it maps to itself or is not found. */
bool cleanup_map11_internal(CLEANUP_STATE *state, VSTRING *addr, MAPS *maps, bool propagate)
{
    bool changed = false;
    bool error;
    bool to_self;
    ARGV *results;

    for (int count = 0; count < CLEANUP_MAP11_MAX_NESTING; count++) {
        if ((results = cleanup_map_lookup(state, maps, vstring_str(addr), propagate, &error)) == NULL) {
            if (error)
                cleanup_addr_error(state, maps->title, vstring_str(addr));
            return changed;
        }
        if (results->argc > 1)
            msg_warn("%s: multi-valued %s entry for %s", QID(state), maps->title, vstring_str(addr));
        to_self = strcasecmp(results->argv[0], vstring_str(addr)) == 0;
        if (strcmp(results->argv[0], vstring_str(addr)) != 0)
            changed = true;
        vstring_strcpy(addr, results->argv[0]);
        argv_free(results);
        if (to_self)
            return changed;
    }
    msg_warn("%s: unreasonable %s map nesting for %s -- message not accepted, try again later", QID(state),
             maps->title, vstring_str(addr));
    cleanup_set_error(state, CLEANUP_STAT_DEFER, "%s", CLEANUP_ADDR_DEFER_TEXT);
    return changed;
}
