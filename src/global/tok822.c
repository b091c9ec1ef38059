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
    return tok822_externalize_fold(out, tokens, count, 0);
}

/*
 * The same, folded for a header: an element that would make its line
 * WIDTH characters or longer starts a new line ",\n\t" instead (width 0:
 * never). The line length counts from the last newline in OUT.
 */
VSTRING *tok822_externalize_fold(VSTRING *out, const TOK822 *tokens, size_t count, size_t width)
{
    VSTRING *elem = vstring_alloc(100);
    size_t start = 0;

    for (size_t i = 0; i <= count; i++) {
        if (i == count || tokens[i].type == ',') {
            vstring_reset(elem);
            tok822_externalize(elem, tokens + start, i - start);
            if (start > 0) {
                const char *nl = strrchr(vstring_str(out), '\n');
                size_t line = VSTRING_LEN(out) - (nl ? (size_t)(nl + 1 - vstring_str(out)) : 0);

                vstring_strcat(out, width && line + 2 + VSTRING_LEN(elem) >= width ? ",\n\t" : ", ");
            }
            vstring_strcat(out, vstring_str(elem));
            start = i + 1;
        }
    }
    vstring_free(elem);
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

/* Append a quoted string's text without its backslash escapes. */
static void tok822_unescape(VSTRING *out, const char *text)
{
    for (const char *cp = text; *cp; cp++) {
        if (*cp == '\\' && cp[1])
            cp++;
        vstring_addch(out, *cp);
    }
}

/* Append count address tokens in internal form (see tok822.h). */
VSTRING *tok822_internalize(VSTRING *out, const TOK822 *tokens, size_t count)
{
    int prev = 0;

    for (size_t i = 0; i < count; i++) {
        const TOK822 *tp = tokens + i;

        if (tp->type == TOK822_COMMENT)
            continue;
        if ((prev == TOK822_ATOM || prev == TOK822_QSTRING) &&
            (tp->type == TOK822_ATOM || tp->type == TOK822_QSTRING))
            vstring_addch(out, ' ');
        switch (tp->type) {
        case TOK822_ATOM:
        case TOK822_DLITERAL:
            vstring_strcat(out, vstring_str(tp->text));
            break;
        case TOK822_QSTRING:
            tok822_unescape(out, vstring_str(tp->text));
            break;
        default:
            vstring_addch(out, tp->type);
            break;
        }
        prev = tp->type;
    }
    return out;
}

/* Add the addr-spec of element [start, end) to addrs, if it has one. */
static void tok822_addr_element(const TOK822 *tokens, size_t start, size_t end, TOK822_ADDR **addrs,
                                size_t *count)
{
    size_t first;
    size_t last;
    int depth = 0;

    /* A group name ends at the last top-level ':'. */
    for (size_t i = start; i < end; i++) {
        if (tokens[i].type == '<')
            depth++;
        else if (tokens[i].type == '>' && depth > 0)
            depth--;
        else if (tokens[i].type == ':' && depth == 0)
            start = i + 1;
    }
    /* A route-addr: only what is between the angle brackets. */
    for (size_t i = start; i < end; i++) {
        if (tokens[i].type == '<') {
            start = i + 1;
            for (size_t j = start; j < end; j++) {
                if (tokens[j].type == '>') {
                    end = j;
                    break;
                }
            }
            break;
        }
    }
    for (first = start; first < end && tokens[first].type == TOK822_COMMENT; first++)
        /* void */;
    for (last = end; last > first && tokens[last - 1].type == TOK822_COMMENT; last--)
        /* void */;
    if (first == last)
        return;
    *addrs = myrealloc(*addrs, (*count + 1) * sizeof(**addrs));
    (*addrs)[*count].start = first;
    (*addrs)[*count].end = last;
    *count += 1;
}

/* Find the addresses of an address list (see tok822.h). */
size_t tok822_addr_list(const TOK822_LIST *list, TOK822_ADDR **addrs)
{
    size_t count = 0;
    size_t start = 0;
    int depth = 0;

    *addrs = mymalloc(sizeof(**addrs));
    for (size_t i = 0; i <= list->count; i++) {
        int type = i < list->count ? list->tokens[i].type : 0;

        if (type == '<') {
            depth++;
        } else if (type == '>') {
            if (depth > 0)
                depth--;
        } else if (i == list->count || (depth == 0 && (type == ',' || type == ';'))) {
            tok822_addr_element(list->tokens, start, i, addrs, &count);
            start = i + 1;
        }
    }
    return count;
}

/* Replace tokens [start, end) by the tokens of an external address. */
size_t tok822_replace(TOK822_LIST *list, size_t start, size_t end, const char *external)
{
    TOK822_LIST *repl = tok822_scan(external);
    size_t kept = 0;
    size_t new_count;
    size_t new_end;
    TOK822 *tokens;
    size_t n = 0;

    for (size_t i = start; i < end; i++)
        if (list->tokens[i].type == TOK822_COMMENT)
            kept++;
    new_count = list->count - (end - start) + repl->count + kept;
    tokens = mymalloc((new_count ? new_count : 1) * sizeof(TOK822));
    for (size_t i = 0; i < start; i++)
        tokens[n++] = list->tokens[i];
    for (size_t i = 0; i < repl->count; i++)
        tokens[n++] = repl->tokens[i];
    for (size_t i = start; i < end; i++) {
        if (list->tokens[i].type == TOK822_COMMENT)
            tokens[n++] = list->tokens[i];
        else if (list->tokens[i].text)
            vstring_free(list->tokens[i].text);
    }
    new_end = n;
    for (size_t i = end; i < list->count; i++)
        tokens[n++] = list->tokens[i];
    myfree(list->tokens);
    list->tokens = tokens;
    list->count = list->size = new_count;
    repl->count = 0;
    tok822_free(repl);
    return new_end;
}

/* Whether an internal local part must be quoted (not a dot-atom). */
static bool tok822_local_needs_quote(const char *local, size_t len)
{
    const unsigned char *cp = (const unsigned char *)local;

    if (len == 0)
        return false;
    if (cp[0] == '.' || cp[len - 1] == '.')
        return true;
    for (size_t i = 0; i < len; i++) {
        if (cp[i] == '.' && i + 1 < len && cp[i + 1] == '.')
            return true;
        if (cp[i] <= ' ' || cp[i] == 127 || strchr("()<>@,;:\\\"[]", cp[i]) != NULL)
            return true;
    }
    return false;
}

/* External form of an internal-form address (see tok822.h). */
VSTRING *tok822_quote_local(VSTRING *out, const char *internal)
{
    const char *at = strrchr(internal, '@');
    size_t len = at ? (size_t)(at - internal) : strlen(internal);

    vstring_reset(out);
    if (tok822_local_needs_quote(internal, len)) {
        vstring_addch(out, '"');
        for (size_t i = 0; i < len; i++) {
            if (internal[i] == '"' || internal[i] == '\\')
                vstring_addch(out, '\\');
            vstring_addch(out, internal[i]);
        }
        vstring_addch(out, '"');
    } else {
        vstring_strncat(out, internal, len);
    }
    if (at)
        vstring_strcat(out, at);
    return out;
}

/* Internal form of an external-form address (see tok822.h). */
VSTRING *tok822_unquote_local(VSTRING *out, const char *external)
{
    const char *at = NULL;
    const char *cp;
    bool quoted = false;

    for (cp = external; *cp; cp++) {
        if (*cp == '\\' && cp[1])
            cp++;
        else if (*cp == '"')
            quoted = !quoted;
        else if (*cp == '@' && !quoted)
            at = cp;
    }
    vstring_reset(out);
    for (cp = external; *cp && cp != at; cp++) {
        if (*cp == '"')
            continue;
        if (*cp == '\\' && cp[1] && cp + 1 != at)
            cp++;
        vstring_addch(out, *cp);
    }
    if (at)
        vstring_strcat(out, at);
    return out;
}
