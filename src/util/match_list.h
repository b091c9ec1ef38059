/*
 * match_list - ordered pattern lists: strings, host names, addresses.
 *
 * A list is built once from a list text (items separated by commas and/or
 * whitespace; {...} groups stay together, so inline:{a=b, c=d} is one
 * item) and then matched many times. Items:
 *   pattern      compared by the list's match functions
 *   !pattern     negation: when it matches, the search ends with "no
 *                match"; "!!x" is x again
 *   type:name    a lookup table (dict_open(), O_RDONLY); a key that is
 *                found means a match, the value is ignored. An item that
 *                starts with '[' is never a table ([2001:db8::1]).
 *   /file/name   replaced by the items on the file's logical lines
 *                (readlline: comment lines skipped, leading whitespace
 *                continues); "!/file" negates each of them; files may
 *                name further files
 *   #...         the rest of the text (or file line) is dropped with a
 *                warning "TITLE: comment at end of line is not supported"
 * Items that are not tables or files are folded to lower case; strings are
 * folded before matching, so matching is case-insensitive.
 *
 * A list applies nfn match functions to nfn strings (one per function),
 * item by item, left to right: the first item that matches any of the
 * strings decides. namadr lists use (host name, address); most lists use
 * one function and one string.
 *
 * Public functions:
 *   match_list_init(title, flags, text, fns, nfn)   build; title (the
 *                                 parameter name) prefixes diagnostics
 *   match_list_match(list, strings)  1 match, 0 no match or error; after
 *                                 an error list->error is DICT_ERR_RETRY or
 *                                 DICT_ERR_CONFIG, else DICT_ERR_NONE
 *   match_list_free(list)         returns NULL
 * Match functions (MATCH_LIST_FN):
 *   match_list_string    case-insensitive equality; tables: exact key
 *   match_list_hostname  host/domain names. Plain "example.com" matches
 *                        itself, and its subdomains when the list has
 *                        MATCH_FLAG_PARENT; ".example.com" matches the
 *                        subdomains only without MATCH_FLAG_PARENT.
 *                        Tables are asked a.b.example.com, then (fixed-key
 *                        tables only) b.example.com, example.com, com with
 *                        MATCH_FLAG_PARENT, else .b.example.com,
 *                        .example.com, .com
 *   match_list_hostaddr  IPv4/IPv6 addresses: "a.b.c.d", "[addr]",
 *                        "net/len", "[net]/len", "[net/len]"; IPv6
 *                        patterns must be bracketed in lists (a bare one
 *                        is a type:name item). Tables are asked the
 *                        address itself (no brackets, no partial keys).
 *                        The pattern's family must be the address's.
 *
 * Errors: a table lookup failure stops the search: the list logs
 * "TITLE: TYPE:NAME: table lookup problem", sets list->error and
 * match_list_match() returns 0; callers MUST treat that as a temporary
 * failure, never as "no match". A malformed net/len pattern does the same
 * after "TITLE: bad network value in ...", "bad mask value", "bad mask
 * length" or "non-null host address bits in "P", perhaps you should use
 * "N/L" instead". An unreadable /file becomes a table "non-existent:PATH"
 * whose lookups fail ("error: open file PATH: REASON" at creation), or is
 * fatal when dict_allow_surrogate is 0, like any table that cannot be
 * opened. An empty pattern after '!' is fatal ("TITLE: no pattern after
 * '!'").
 */
#ifndef MATCH_LIST_H
#define MATCH_LIST_H

#include <stddef.h>

#include "argv.h"
#include "dict.h"
#include "vstring.h"

typedef struct MATCH_LIST MATCH_LIST;

/*
 * One match function: does string match pattern (dict is the open table
 * when the item is type:name, else NULL)? Returns 1 or 0; on a failure it
 * sets list->error (the engine then stops).
 */
typedef int (*MATCH_LIST_FN)(MATCH_LIST *list, const char *string, const char *pattern, DICT *dict);

/* One parsed item. */
typedef struct MATCH_LIST_ITEM {
    char *pattern; /* folded pattern, or "type:name" */
    DICT *dict;    /* the table, or NULL */
    int negate;    /* a match means "no match" */
} MATCH_LIST_ITEM;

struct MATCH_LIST {
    char *title; /* for diagnostics ("mynetworks") */
    int flags;   /* MATCH_FLAG_* */
    int error;   /* DICT_ERR_* of the last match */
    MATCH_LIST_ITEM *items;
    size_t nitems;
    size_t size;
    MATCH_LIST_FN *fns;
    size_t nfn;
    VSTRING **fold; /* folded strings, one per function */
};

#define MATCH_FLAG_NONE   0
#define MATCH_FLAG_PARENT (1 << 0) /* "example.com" covers subdomains */

extern MATCH_LIST *match_list_init(const char *title, int flags, const char *text, const MATCH_LIST_FN *fns,
                                   size_t nfn);
extern int match_list_match(MATCH_LIST *list, const char *const *strings);
extern MATCH_LIST *match_list_free(MATCH_LIST *list);

extern int match_list_string(MATCH_LIST *list, const char *string, const char *pattern, DICT *dict);
extern int match_list_hostname(MATCH_LIST *list, const char *name, const char *pattern, DICT *dict);
extern int match_list_hostaddr(MATCH_LIST *list, const char *addr, const char *pattern, DICT *dict);

#endif
