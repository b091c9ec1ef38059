/*
 * mac_expand - expand $name references. See mac_expand.h.
 */
#include "sys_defs.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "mac_expand.h"
#include "msg.h"
#include "mymalloc.h"
#include "stringops.h"

typedef struct MAC_EXP {
    VSTRING *result;
    const char *top;                    /* the outermost pattern, for messages */
    int flags;
    MAC_EXP_LOOKUP_FN lookup;
    void *context;
    int status;
} MAC_EXP;

static void mac_expand_text(MAC_EXP *mc, const char *pattern, int level);

#define MAC_NAME_CHAR(c) (isalnum((unsigned char) (c)) || (c) == '_')

/* Report a syntax error and mark the expansion failed. */
static void mac_expand_syntax(MAC_EXP *mc, const char *what)
{
    msg_warn("%s: \"%s\"", what, mc->top);
    mc->status |= MAC_EXP_ERROR;
}

/* Insert the value of name (expanding it unless told not to). */
static void mac_expand_name(MAC_EXP *mc, const char *name, int level)
{
    const char *value = mc->lookup(name, mc->context);

    if (value == NULL) {
        mc->status |= MAC_EXP_UNDEF;
        return;
    }
    if (mc->flags & MAC_EXP_FLAG_NORECURSE) {
        vstring_strcat(mc->result, value);
        return;
    }
    if (level >= MAC_EXP_MAX_NESTING) {
        if ((mc->status & MAC_EXP_ERROR) == 0)
            msg_warn("unreasonable macro call nesting: \"%s\"", name);
        mc->status |= MAC_EXP_ERROR;
        return;
    }
    mac_expand_text(mc, value, level + 1);
}

/* True when name is defined with a non-empty value (after expansion). */
static int mac_expand_nonempty(MAC_EXP *mc, const char *name, int level)
{
    size_t mark = VSTRING_LEN(mc->result);
    int nonempty;

    mac_expand_name(mc, name, level);
    nonempty = VSTRING_LEN(mc->result) > mark;
    vstring_truncate(mc->result, mark);
    return nonempty;
}

/* Expand text into a fresh string (for operands of a comparison). */
static char *mac_expand_operand(MAC_EXP *mc, const char *text, int level)
{
    size_t mark = VSTRING_LEN(mc->result);
    char *copy;

    mac_expand_text(mc, text, level);
    copy = mystrdup(vstring_str(mc->result) + mark);
    vstring_truncate(mc->result, mark);
    return copy;
}

/* Compare compatibility levels such as "3.10" and "3.9" field by field. */
int mac_expand_level_cmp(const char *a, const char *b)
{
    while (*a || *b) {
        long x = strtol(a, (char **) &a, 10);
        long y = strtol(b, (char **) &b, 10);

        if (x != y)
            return x < y ? -1 : 1;
        if (*a == '.')
            a++;
        if (*b == '.')
            b++;
        if ((*a && !isdigit((unsigned char) *a)) || (*b && !isdigit((unsigned char) *b)))
            return strcmp(a, b);
    }
    return 0;
}

/* Evaluate "a OP b"; returns -1 for an unknown operator. */
static int mac_expand_relop(const char *a, const char *op, const char *b)
{
    int cmp;

    if (strstr(op, "level")) {
        cmp = mac_expand_level_cmp(a, b);
    } else if (alldig(a) && alldig(b)) {
        unsigned long long x = strtoull(a, NULL, 10);
        unsigned long long y = strtoull(b, NULL, 10);

        cmp = x < y ? -1 : x > y;
    } else {
        cmp = strcmp(a, b);
    }
    if (strcmp(op, "==") == 0)
        return cmp == 0;
    if (strcmp(op, "!=") == 0)
        return cmp != 0;
    if (strcmp(op, "<") == 0 || strcmp(op, "<level") == 0)
        return cmp < 0;
    if (strcmp(op, "<=") == 0 || strcmp(op, "<=level") == 0)
        return cmp <= 0;
    if (strcmp(op, ">") == 0 || strcmp(op, ">level") == 0)
        return cmp > 0;
    if (strcmp(op, ">=") == 0 || strcmp(op, ">=level") == 0)
        return cmp >= 0;
    return -1;
}

/*
 * Cut a "{...}" group at *cp (after optional whitespace) into a new string
 * without the braces; NULL if *cp does not start a balanced group.
 */
static char *mac_expand_group(const char **cp)
{
    const char *start = *cp + strspn(*cp, CHARS_SPACE);
    const char *end;
    int level = 0;

    if (*start != '{')
        return NULL;
    for (end = start; *end; end++) {
        if (*end == '{')
            level++;
        else if (*end == '}' && --level == 0)
            break;
    }
    if (*end == 0)
        return NULL;
    *cp = end + 1;
    char *text = mystrndup(start + 1, (size_t) (end - start - 1));
    char *trimmed = mystrdup(trimblanks(text));

    myfree(text);
    return trimmed;
}

/* "{v1}" or "{v1}:{v2}" or plain text after '?'/':'; chooses and expands. */
static void mac_expand_choice(MAC_EXP *mc, const char *rest, int first, int level)
{
    const char *cp = rest;
    char *v1 = NULL;
    char *v2 = NULL;

    if (*(rest + strspn(rest, CHARS_SPACE)) != '{') {
        /* Plain text: used as is (but expanded) when chosen. */
        if (first)
            mac_expand_text(mc, rest, level);
        return;
    }
    if ((v1 = mac_expand_group(&cp)) == NULL) {
        mac_expand_syntax(mc, "syntax error in conditional value");
        return;
    }
    cp += strspn(cp, CHARS_SPACE);
    if (*cp == ':') {
        cp++;
        if ((v2 = mac_expand_group(&cp)) == NULL) {
            myfree(v1);
            mac_expand_syntax(mc, "syntax error in conditional value");
            return;
        }
        cp += strspn(cp, CHARS_SPACE);
    }
    if (*cp != 0) {
        mac_expand_syntax(mc, "text after conditional value");
    } else if (first) {
        mac_expand_text(mc, v1, level);
    } else if (v2) {
        mac_expand_text(mc, v2, level);
    }
    myfree(v1);
    myfree(v2);
}

/* The inside of ${{a} OP {b} ? {v1} : {v2}}. */
static void mac_expand_relational(MAC_EXP *mc, const char *body, int level)
{
    const char *cp = body;
    char *a = mac_expand_group(&cp);
    char *b = NULL;
    char *op = NULL;

    if (a == NULL) {
        mac_expand_syntax(mc, "syntax error in relational expression");
        return;
    }
    cp += strspn(cp, CHARS_SPACE);
    size_t oplen = strcspn(cp, "{" CHARS_SPACE);

    op = mystrndup(cp, oplen);
    cp += oplen;
    if ((b = mac_expand_group(&cp)) == NULL) {
        mac_expand_syntax(mc, "syntax error in relational expression");
    } else {
        cp += strspn(cp, CHARS_SPACE);
        if (*cp != '?') {
            mac_expand_syntax(mc, "\"?\" expected in relational expression");
        } else {
            char *xa = mac_expand_operand(mc, a, level);
            char *xb = mac_expand_operand(mc, b, level);
            int truth = mac_expand_relop(xa, op, xb);

            if (truth < 0) {
                msg_warn("\"==\" or \"!=\" or \"<\" or \"<=\" or \">=\" or \">\" expected at: \"%s\"", op);
                mc->status |= MAC_EXP_ERROR;
            } else {
                mac_expand_choice(mc, cp + 1, truth, level);
            }
            myfree(xa);
            myfree(xb);
        }
    }
    myfree(a);
    myfree(b);
    myfree(op);
}

/* The inside of ${...} or $(...). */
static void mac_expand_braced(MAC_EXP *mc, const char *body, int level)
{
    const char *cp = body;

    if (*body == '{') {
        mac_expand_relational(mc, body, level);
        return;
    }
    while (MAC_NAME_CHAR(*cp))
        cp++;
    if (cp == body) {
        mac_expand_syntax(mc, "empty macro name");
        return;
    }
    char *name = mystrndup(body, (size_t) (cp - body));

    if (*cp == 0)
        mac_expand_name(mc, name, level);
    else if (*cp == '?')
        mac_expand_choice(mc, cp + 1, mac_expand_nonempty(mc, name, level), level);
    else if (*cp == ':')
        mac_expand_choice(mc, cp + 1, !mac_expand_nonempty(mc, name, level), level);
    else {
        msg_warn("attribute name syntax error at: \"...%s>>>%s\"", name, cp);
        mc->status |= MAC_EXP_ERROR;
    }
    myfree(name);
}

/* Expand one pattern at the given nesting level. */
static void mac_expand_text(MAC_EXP *mc, const char *pattern, int level)
{
    const char *cp = pattern;

    while (*cp && (mc->status & MAC_EXP_ERROR) == 0) {
        const char *dollar = strchr(cp, '$');

        if (dollar == NULL) {
            vstring_strcat(mc->result, cp);
            return;
        }
        vstring_memcat(mc->result, cp, (size_t) (dollar - cp));
        cp = dollar + 1;
        if (*cp == '$') {
            vstring_addch(mc->result, '$');
            cp++;
        } else if (*cp == '{' || *cp == '(') {
            char open = *cp, close = open == '{' ? '}' : ')';
            const char *end;
            int depth = 0;

            for (end = cp; *end; end++) {
                if (*end == open)
                    depth++;
                else if (*end == close && --depth == 0)
                    break;
            }
            if (*end == 0) {
                mac_expand_syntax(mc, "truncated macro reference");
                return;
            }
            char *body = mystrndup(cp + 1, (size_t) (end - cp - 1));

            mac_expand_braced(mc, body, level);
            myfree(body);
            cp = end + 1;
        } else {
            const char *end = cp;

            while (MAC_NAME_CHAR(*end))
                end++;
            if (end == cp) {
                mac_expand_syntax(mc, "empty macro name");
                return;
            }
            char *name = mystrndup(cp, (size_t) (end - cp));

            mac_expand_name(mc, name, level);
            myfree(name);
            cp = end;
        }
    }
}

int mac_expand(VSTRING *result, const char *pattern, int flags, MAC_EXP_LOOKUP_FN lookup, void *context)
{
    MAC_EXP mc = {result, pattern, flags, lookup, context, MAC_EXP_OK};

    mac_expand_text(&mc, pattern, 0);
    return mc.status;
}
