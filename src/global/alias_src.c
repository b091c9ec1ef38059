/*
 * alias_src - one entry of an aliases(5) file (see alias_src.h).
 */
#include "sys_defs.h"

#include <string.h>

#include "alias_src.h"
#include "msg.h"
#include "tok822.h"

/* Whether one of count tokens is the special character type. */
static bool alias_src_has(const TOK822 *tokens, size_t count, int type)
{
    for (size_t i = 0; i < count; i++)
        if (tokens[i].type == type)
            return true;
    return false;
}

/* Whether a name's atoms hold a '%' (the old user%domain form). */
static bool alias_src_has_percent(const TOK822_LIST *list, size_t count)
{
    for (size_t i = 0; i < count; i++)
        if (list->tokens[i].type == TOK822_ATOM && strchr(vstring_str(list->tokens[i].text), '%'))
            return true;
    return false;
}

/* Parse "name: value, ..." into name and normalised value. */
int alias_src_split(const char *line, const char *file, int lineno, VSTRING *name, VSTRING *value)
{
    TOK822_LIST *list = tok822_scan(line);
    size_t colon;
    int ok = 0;

    for (colon = 0; colon < list->count && list->tokens[colon].type != ':'; colon++)
        /* void */;
    if (colon == 0 || colon >= list->count - 1) {
        msg_warn("%s, line %d: need name:value pair", file, lineno);
    } else if (alias_src_has(list->tokens, colon, '@') || alias_src_has_percent(list, colon)) {
        msg_warn("%s, line %d: name must be local", file, lineno);
    } else {
        vstring_reset(name);
        for (size_t i = 0; i < colon; i++) {
            const TOK822 *tp = list->tokens + i;

            if (tp->text)
                vstring_strcat(name, vstring_str(tp->text));
            else
                vstring_addch(name, tp->type);
        }
        vstring_reset(value);
        tok822_externalize_list(value, list->tokens + colon + 1, list->count - colon - 1);
        ok = 1;
    }
    tok822_free(list);
    return ok;
}
