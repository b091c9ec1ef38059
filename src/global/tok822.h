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
 * tok822_split_list() does the same for a string.
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
extern VSTRING *tok822_split_list(VSTRING *out, const char *str);

#endif
