/*
 * tok822 - RFC 822 address-list tokens.
 *
 * tok822_scan(str) cuts a header-style address list into tokens: atoms
 * (with backslash-quoted characters folded in), quoted strings, comments
 * (nested), domain literals, and the specials ( ) < > @ , ; : . [ ].
 * tok822_externalize() prints tokens back in the normalised form Postfix
 * stores in alias tables: one space between adjacent words (atom, quoted
 * string, comment, domain literal) and before '<', none around other
 * specials; an atom that needs quoting is printed as a quoted string.
 * tok822_externalize_list() applies that to each comma-separated element
 * and joins them with ", " ("a,b" -> "a, b"; empty elements stay empty);
 * tok822_externalize_fold() does the same but starts a new header line
 * (",\n\t") before an element that would make its line too long;
 * tok822_split_list() does the same for a string.
 *
 * Addresses in header values (cleanup's header rewriting and sendmail -t):
 *   tok822_addr_list(list, &addrs) finds each address of an address list
 *       ("a, Joe <b@c> (x), group: d, e;") and returns how many; addrs
 *       receives a mymalloc()ed array of token ranges [start, end) that
 *       cover only the addr-spec (the part between < and > when there
 *       is one; phrases, group names and surrounding comments are
 *       outside). Elements without an address ("<>", "name:;") give no
 *       range.
 *   tok822_internalize(out, tokens, count) appends the internal form of
 *       an address: quotes and backslash escapes removed, comments
 *       dropped ("\"a b\"@c" -> "a b@c").
 *   tok822_replace(list, start, end, external) replaces the tokens
 *       [start, end) by the tokens of the external-form address external;
 *       comments inside the old range are kept after it. Returns the new
 *       end. Then tok822_externalize_list() prints the rewritten list.
 * Internal and external form of one address (RFC 5322 local-part quoting):
 *   tok822_quote_local(out, internal) sets out to the external form: the
 *       local part (before the last '@') is quoted when it is not a
 *       dot-atom ("joe smith@x" -> "\"joe smith\"@x"); '"' and '\\'
 *       get a backslash inside the quotes.
 *   tok822_unquote_local(out, external) sets out to the internal form:
 *       quotes and backslash escapes removed from the local part (before
 *       the last '@' outside quotes); the domain is copied as it is.
 *
 * Errors: none; unterminated quoted strings, comments and domain literals
 * end at the end of the input, as mail software must accept them.
 */
#ifndef TOK822_H
#define TOK822_H

#include "vstring.h"

#define TOK822_ATOM     'A'
#define TOK822_QSTRING  'Q' /* text without the quotes */
#define TOK822_COMMENT  'C' /* text with the parentheses */
#define TOK822_DLITERAL 'D' /* text with the brackets */

typedef struct TOK822 {
    int type;      /* TOK822_* or the special character */
    VSTRING *text; /* for words; NULL for specials */
} TOK822;

typedef struct TOK822_LIST {
    TOK822 *tokens;
    size_t count;
    size_t size;
} TOK822_LIST;

extern TOK822_LIST *tok822_scan(const char *str);
extern TOK822_LIST *tok822_free(TOK822_LIST *list);
extern VSTRING *tok822_externalize(VSTRING *out, const TOK822 *tokens, size_t count);
extern VSTRING *tok822_externalize_list(VSTRING *out, const TOK822 *tokens, size_t count);
extern VSTRING *tok822_externalize_fold(VSTRING *out, const TOK822 *tokens, size_t count, size_t width);
extern VSTRING *tok822_split_list(VSTRING *out, const char *str);

/* One address in a token list: tokens [start, end). */
typedef struct TOK822_ADDR {
    size_t start;
    size_t end;
} TOK822_ADDR;

extern size_t tok822_addr_list(const TOK822_LIST *list, TOK822_ADDR **addrs);
extern VSTRING *tok822_internalize(VSTRING *out, const TOK822 *tokens, size_t count);
extern size_t tok822_replace(TOK822_LIST *list, size_t start, size_t end, const char *external);
extern VSTRING *tok822_quote_local(VSTRING *out, const char *internal);
extern VSTRING *tok822_unquote_local(VSTRING *out, const char *external);

#endif
