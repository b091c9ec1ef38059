/*
 * tok822 - RFC 822 address-list tokens (see tok822.h).
 */
#include "sys_defs.h"

#include <ctype.h>
#include <string.h>

#include "mymalloc.h"
#include "tok822.h"

#define TOK822_SPECIALS "()<>@,;:\\\".[]"

/* Append a token of the given type; returns its text buffer or NULL. */
static VSTRING *tok822_add(TOK822_LIST *list, int type)
{
    TOK822 *tp;

    if (list->count == list->size) {
        list->size = list->size ? 2 * list->size : 8;
        list->tokens = myrealloc(list->tokens, list->size * sizeof(TOK822));
    }
    tp = list->tokens + list->count++;
    tp->type = type;
    tp->text = isupper(type) ? vstring_alloc(16) : NULL;
    return tp->text;
}

/* Copy a quoted string's text (escapes kept) and return the end. */
static const char *tok822_quoted(VSTRING *text, const char *cp, int close)
{
    for (; *cp && *cp != close; cp++) {
        if (*cp == '\\' && cp[1])
            vstring_addch(text, *cp++);
        vstring_addch(text, *cp);
    }
    return *cp ? cp + 1 : cp;
}

/* Copy a comment, nesting included, and return the end. */
static const char *tok822_comment(VSTRING *text, const char *cp)
{
    int level = 0;

    for (; *cp; cp++) {
        if (*cp == '\\' && cp[1]) {
            vstring_addch(text, *cp++);
        } else if (*cp == '(') {
            level++;
        } else if (*cp == ')' && --level == 0) {
            vstring_addch(text, *cp);
            return cp + 1;
        }
        vstring_addch(text, *cp);
    }
    vstring_addch(text, ')');
    return cp;
}

/* Cut str into tokens. */
TOK822_LIST *tok822_scan(const char *str)
{
    TOK822_LIST *list = mymalloc(sizeof(*list));
    const char *cp = str;
    VSTRING *text;

    memset(list, 0, sizeof(*list));
    while (*cp) {
        unsigned char ch = (unsigned char)*cp;

        if (isspace(ch)) {
            cp++;
        } else if (ch == '(') {
            cp = tok822_comment(tok822_add(list, TOK822_COMMENT), cp);
        } else if (ch == '"') {
            cp = tok822_quoted(tok822_add(list, TOK822_QSTRING), cp + 1, '"');
        } else if (ch == '[') {
            text = tok822_add(list, TOK822_DLITERAL);
            vstring_addch(text, '[');
            cp = tok822_quoted(text, cp + 1, ']');
            vstring_addch(text, ']');
        } else if (strchr(TOK822_SPECIALS, ch) && ch != '\\') {
            tok822_add(list, ch);
            cp++;
        } else {
            text = tok822_add(list, TOK822_ATOM);
            while (*cp && !isspace((unsigned char)*cp)) {
                if (*cp == '\\') {
                    if (*++cp == 0)
                        break;
                } else if (strchr(TOK822_SPECIALS, *cp)) {
                    break;
                }
                vstring_addch(text, *cp++);
            }
        }
    }
    return list;
}

/* Release a token list; returns NULL. */
TOK822_LIST *tok822_free(TOK822_LIST *list)
{
    for (size_t i = 0; i < list->count; i++)
        if (list->tokens[i].text)
            vstring_free(list->tokens[i].text);
    myfree(list->tokens);
    myfree(list);
    return NULL;
}

/* Whether a token is a word (takes a space before the next word). */
static bool tok822_is_word(int type)
{
    return type == TOK822_ATOM || type == TOK822_QSTRING || type == TOK822_COMMENT || type == TOK822_DLITERAL;
}

/* Append an atom, quoting it when it holds specials or blanks. */
static void tok822_put_atom(VSTRING *out, const char *atom)
{
    const char *cp;

    if (*atom && strpbrk(atom, TOK822_SPECIALS " \t") == NULL) {
        vstring_strcat(out, atom);
        return;
    }
    vstring_addch(out, '"');
    for (cp = atom; *cp; cp++) {
        if (*cp == '"' || *cp == '\\')
            vstring_addch(out, '\\');
        vstring_addch(out, *cp);
    }
    vstring_addch(out, '"');
}

/* Append count tokens to out in normalised external form. */
VSTRING *tok822_externalize(VSTRING *out, const TOK822 *tokens, size_t count)
{
    for (size_t i = 0; i < count; i++) {
        const TOK822 *tp = tokens + i;

        if (i > 0 && tok822_is_word(tokens[i - 1].type) && (tok822_is_word(tp->type) || tp->type == '<'))
            vstring_addch(out, ' ');
        switch (tp->type) {
        case TOK822_ATOM:
            tok822_put_atom(out, vstring_str(tp->text));
            break;
        case TOK822_QSTRING:
            vstring_addch(out, '"');
            vstring_strcat(out, vstring_str(tp->text));
            vstring_addch(out, '"');
            break;
        case TOK822_COMMENT:
        case TOK822_DLITERAL:
            vstring_strcat(out, vstring_str(tp->text));
            break;
        default:
            vstring_addch(out, tp->type);
            break;
        }
    }
    return out;
}

/* Append tokens as an address list: elements joined by ", ". */
VSTRING *tok822_externalize_list(VSTRING *out, const TOK822 *tokens, size_t count)
{
    size_t start = 0;

    for (size_t i = 0; i <= count; i++) {
        if (i == count || tokens[i].type == ',') {
            if (start > 0)
                vstring_strcat(out, ", ");
            tok822_externalize(out, tokens + start, i - start);
            start = i + 1;
        }
    }
    return out;
}

/* Normalise an address list string (see tok822_externalize_list()). */
VSTRING *tok822_split_list(VSTRING *out, const char *str)
{
    TOK822_LIST *list = tok822_scan(str);

    vstring_reset(out);
    tok822_externalize_list(out, list->tokens, list->count);
    tok822_free(list);
    return out;
}
