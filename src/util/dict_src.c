/*
 * dict_src - one entry of a table source file (see dict_src.h).
 */
#include "sys_defs.h"

#include <string.h>

#include "dict_src.h"
#include "msg.h"
#include "stringops.h"

/* End of a quoted key that starts at cp, or NULL when it is unbalanced. */
static char *dict_src_quote_end(char *cp)
{
    for (cp++; *cp; cp++) {
        if (*cp == '\\' && cp[1] != 0)
            cp++;
        else if (*cp == '"')
            return cp + 1;
    }
    return NULL;
}

/* Split one logical source line into key and value (see dict_src.h). */
int dict_src_split(char *line, const char *file, int lineno, int flags, char **key, char **value)
{
    char *cp = line + strspn(line, CHARS_SPACE);
    char *end;

    if (*cp == '"') {
        if ((end = dict_src_quote_end(cp)) == NULL) {
            msg_warn("%s, line %d: unbalanced '\"' in '%s' -- ignoring this line", file, lineno, cp);
            return 0;
        }
        end += strcspn(end, CHARS_SPACE);
    } else {
        end = cp + strcspn(cp, CHARS_SPACE);
    }
    *key = cp;
    cp = end + strspn(end, CHARS_SPACE);
    if (*cp == 0) {
        msg_warn("%s, line %d: expected format: key whitespace value%s", file, lineno,
                 (flags & DICT_SRC_FLAG_IGNORING) ? " -- ignoring this line" : "");
        return 0;
    }
    *end = 0;
    *value = trimblanks(cp);
    if (end > *key && end[-1] == ':')
        msg_warn("%s, line %d: record is in \"key: value\" format; is this an alias file?", file, lineno);
    return 1;
}
