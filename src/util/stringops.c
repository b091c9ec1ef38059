/*
 * stringops - small string helpers. See stringops.h.
 */
#include "sys_defs.h"

#include <ctype.h>
#include <string.h>

#include "stringops.h"

/* Return the next non-empty token delimited by delim, or NULL. */
char *mystrtok(char **bufp, const char *delim)
{
    char *start = *bufp + strspn(*bufp, delim);
    char *end;

    if (*start == 0) {
        *bufp = start;
        return NULL;
    }
    end = start + strcspn(start, delim);
    if (*end)
        *end++ = 0;
    *bufp = end;
    return start;
}

/*
 * Like mystrtok(), but delimiters inside a parens[0]..parens[1] group do
 * not split (groups nest). An unbalanced group runs to the end.
 */
char *mystrtokq(char **bufp, const char *delim, const char *parens)
{
    char *start = *bufp + strspn(*bufp, delim);
    char *cp;
    int level = 0;

    if (*start == 0) {
        *bufp = start;
        return NULL;
    }
    for (cp = start; *cp; cp++) {
        if (*cp == parens[0])
            level++;
        else if (*cp == parens[1] && level > 0)
            level--;
        else if (level == 0 && strchr(delim, *cp))
            break;
    }
    if (*cp)
        *cp++ = 0;
    *bufp = cp;
    return start;
}

/*
 * If *bp is "{ text }", strip the braces and surrounding whitespace in
 * place. Returns an error text when the braces do not balance or text
 * follows the closing brace; *bp is unchanged for unbraced input.
 */
const char *extpar(char **bp, const char *parens)
{
    char *cp = *bp;
    int level = 0;
    char *end;

    if (*cp != parens[0])
        return NULL;
    for (end = cp; *end; end++) {
        if (*end == parens[0])
            level++;
        else if (*end == parens[1] && --level == 0)
            break;
    }
    if (*end == 0)
        return "missing closing brace";
    if (end[1 + strspn(end + 1, CHARS_SPACE)] != 0)
        return "text after closing brace";
    *end = 0;
    *bp = trimblanks(cp + 1);
    return NULL;
}

/* Remove leading and trailing whitespace in place; returns the new start. */
char *trimblanks(char *str)
{
    char *end;

    str += strspn(str, CHARS_SPACE);
    end = str + strlen(str);
    while (end > str && strchr(CHARS_SPACE, end[-1]))
        end--;
    *end = 0;
    return str;
}

char *lowercase(char *str)
{
    for (char *cp = str; *cp; cp++)
        *cp = (char) tolower((unsigned char) *cp);
    return str;
}

bool alldig(const char *str)
{
    if (*str == 0)
        return false;
    for (; *str; str++)
        if (!isdigit((unsigned char) *str))
            return false;
    return true;
}

/*
 * Split "name = value": the name ends at whitespace or '='; whitespace
 * around '=' and at both ends of the value is removed.
 */
const char *split_nameval(char *buf, char **name, char **value)
{
    char *np = buf + strspn(buf, CHARS_SPACE);
    char *ep = np + strcspn(np, "=" CHARS_SPACE);
    char *cp;

    if (ep == np)
        return "missing attribute name";
    cp = ep + strspn(ep, CHARS_SPACE);
    if (*cp != '=')
        return "missing '=' after attribute name";
    *ep = 0;
    *name = np;
    *value = trimblanks(cp + 1);
    return NULL;
}
