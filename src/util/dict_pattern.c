/*
 * dict_pattern - rule files shared by regexp, pcre and cidr tables. See
 * dict_pattern.h.
 *
 * The rules are kept in file order; an IF rule remembers the index of the
 * first rule after its ENDIF, so a false condition skips its block in one
 * step. ENDIF lines leave no rule behind.
 */
#include "sys_defs.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "argv.h"
#include "dict_pattern.h"
#include "msg.h"
#include "mymalloc.h"
#include "readlline.h"
#include "stringops.h"

struct DICT_PATTERN_RULE {
    int op;      /* DICT_PATTERN_OP_MATCH or _IF */
    bool negate; /* "!": the condition is inverted */
    int lineno;  /* for diagnostics */
    size_t skip; /* IF: first rule after the ENDIF */
    void *data;  /* the backend's compiled rule */
};

/* The IF rules still waiting for their ENDIF, innermost last. */
typedef struct DICT_PATTERN_STACK {
    size_t *index;
    size_t depth;
    size_t size;
} DICT_PATTERN_STACK;

/* One piece of a regexp/pcre result: literal text or a group. */
typedef struct DICT_PATTERN_PART {
    int group;     /* 0: literal text */
    size_t offset; /* literal: where in subst->literal */
    size_t len;
} DICT_PATTERN_PART;

struct DICT_PATTERN_SUBST {
    char *literal; /* all literal text; the result when no groups */
    DICT_PATTERN_PART *parts;
    size_t count;
    bool has_groups;
};

/* Warn about the line being parsed or the rule being matched. */
void dict_pattern_warn(DICT_PATTERN *dp, const char *fmt, ...)
{
    VSTRING *text = vstring_alloc(100);
    va_list ap;

    va_start(ap, fmt);
    vstring_vsprintf(text, fmt, ap);
    va_end(ap);
    msg_warn("%s map %s, line %d: %s", dp->dict.type, dp->dict.name, dp->lineno, vstring_str(text));
    vstring_free(text);
}

/* True when cp starts with keyword (any case) as a whole word; *rest follows it. */
static bool dict_pattern_keyword(char *cp, const char *keyword, char **rest)
{
    size_t len = strlen(keyword);

    if (strncasecmp(cp, keyword, len) != 0 || isalnum((unsigned char)cp[len]))
        return false;
    *rest = cp + len + strspn(cp + len, CHARS_SPACE);
    return true;
}

/* Close the innermost IF block: it ends before the next rule. */
static void dict_pattern_pop(DICT_PATTERN *dp, DICT_PATTERN_STACK *ifs)
{
    dp->rules[ifs->index[--ifs->depth]].skip = dp->rule_count;
}

/* Handle an ENDIF line; rest is the text after the keyword. */
static void dict_pattern_endif(DICT_PATTERN *dp, DICT_PATTERN_STACK *ifs, const char *rest)
{
    if (dp->ops->syntax == DICT_PATTERN_SYNTAX_CIDR) {
        if (*rest)
            dict_pattern_warn(dp, "garbage after ENDIF: skipping this rule");
        else if (ifs->depth == 0)
            dict_pattern_warn(dp, "ENDIF without IF: skipping this rule");
        else
            dict_pattern_pop(dp, ifs);
        return;
    }
    if (ifs->depth == 0) {
        dict_pattern_warn(dp, "ignoring ENDIF without matching IF");
        return;
    }
    dict_pattern_pop(dp, ifs);
    if (*rest)
        dict_pattern_warn(dp, "ignoring extra text after ENDIF");
}

/* Parse one logical line (trimmed, not blank, not a comment) into a rule. */
static void dict_pattern_line(DICT_PATTERN *dp, DICT_PATTERN_STACK *ifs, char *line)
{
    DICT_PATTERN_RULE *rule;
    char *cp = line;
    int op = DICT_PATTERN_OP_MATCH;
    bool negate = false;
    void *data;

    if (isalnum((unsigned char)*cp)) {
        if (dict_pattern_keyword(cp, "endif", &cp)) {
            dict_pattern_endif(dp, ifs, cp);
            return;
        }
        if (dict_pattern_keyword(cp, "if", &cp)) {
            op = DICT_PATTERN_OP_IF;
        } else if (dp->ops->syntax == DICT_PATTERN_SYNTAX_REGEX) {
            dict_pattern_warn(dp, "ignoring unrecognized request");
            return;
        }
    }
    while (*cp == '!') {
        negate = !negate;
        cp++;
        cp += strspn(cp, CHARS_SPACE);
    }
    if ((data = dp->ops->parse(dp, op, negate, cp)) == NULL)
        return;
    if (dp->rule_count == dp->rule_size) {
        dp->rule_size = dp->rule_size ? 2 * dp->rule_size : 16;
        dp->rules = myrealloc(dp->rules, dp->rule_size * sizeof(*dp->rules));
    }
    rule = dp->rules + dp->rule_count;
    rule->op = op;
    rule->negate = negate;
    rule->lineno = dp->lineno;
    rule->skip = 0;
    rule->data = data;
    if (op == DICT_PATTERN_OP_IF) {
        if (ifs->depth == ifs->size) {
            ifs->size = ifs->size ? 2 * ifs->size : 8;
            ifs->index = myrealloc(ifs->index, ifs->size * sizeof(*ifs->index));
        }
        ifs->index[ifs->depth++] = dp->rule_count;
    }
    dp->rule_count++;
}

/* Handle one line: comments and blank lines are skipped. */
static void dict_pattern_feed(DICT_PATTERN *dp, DICT_PATTERN_STACK *ifs, char *line, int lineno)
{
    line = trimblanks(line);
    if (*line == 0 || *line == '#')
        return;
    dp->lineno = lineno;
    dict_pattern_line(dp, ifs, line);
}

/*
 * Split the inline form "{ {rule}, {rule} }" into its rule texts. Returns
 * NULL with the reason in why when the braces are wrong.
 */
static ARGV *dict_pattern_inline(const char *type, const char *name, VSTRING *why)
{
    char *copy = mystrdup(name);
    char *cp = copy;
    const char *err;
    char *item;
    ARGV *items = argv_alloc(10);

    /* The text must end with the closing brace (trailing blanks included). */
    if ((err = extpar(&cp, "{}")) != NULL || strchr(CHARS_SPACE, name[strlen(name) - 1]) != NULL) {
        vstring_sprintf(why, "%s map: %s in \"%s\"", type,
                        err && strcmp(err, "missing closing brace") == 0 ? "missing '}'"
                                                                         : "syntax error after '}'",
                        name);
        myfree(copy);
        return argv_free(items);
    }
    while ((item = mystrtokq(&cp, CHARS_COMMA_SP, "{}")) != NULL) {
        if (*item != '{') {
            vstring_sprintf(why, "%s map: no '{' at start of text in \"%s\"", type, item);
            break;
        }
        if ((err = extpar(&item, "{}")) != NULL) {
            vstring_sprintf(
                why, "%s map: %s in \"%s\"", type,
                strcmp(err, "missing closing brace") == 0 ? "missing '}'" : "syntax error after '}'", item);
            break;
        }
        argv_add(items, item);
    }
    myfree(copy);
    if (item != NULL)
        return argv_free(items);
    return items;
}

/* Walk the rules; the first one that holds gives the result. */
static const char *dict_pattern_lookup(DICT *dict, const char *key)
{
    DICT_PATTERN *dp = (DICT_PATTERN *)dict;
    const DICT_PATTERN_OPS *ops = dp->ops;
    DICT_PATTERN_RULE *rule;
    size_t i = 0;
    int status;

    dict->error = DICT_ERR_NONE;
    if (ops->prepare != NULL && !ops->prepare(dp, key))
        return NULL;
    while (i < dp->rule_count) {
        rule = dp->rules + i;
        dp->lineno = rule->lineno;
        if ((status = ops->match(dp, rule->data, key)) == DICT_PATTERN_FAILED)
            DICT_ERR_VAL_RETURN(dict, DICT_ERR_RETRY, NULL);
        if (status != DICT_PATTERN_VETO && (status == DICT_PATTERN_MATCHED) != rule->negate) {
            if (rule->op == DICT_PATTERN_OP_MATCH)
                return ops->result(dp, rule->data, key);
            i++;
        } else {
            i = rule->op == DICT_PATTERN_OP_IF ? rule->skip : i + 1;
        }
    }
    return NULL;
}

/* Release the rules, the backend's resources and the DICT. */
static void dict_pattern_close(DICT *dict)
{
    DICT_PATTERN *dp = (DICT_PATTERN *)dict;

    for (size_t i = 0; i < dp->rule_count; i++)
        dp->ops->free_rule(dp->rules[i].data);
    if (dp->rules)
        myfree(dp->rules);
    if (dp->ops->close)
        dp->ops->close(dp);
    vstring_free(dp->result);
    dict_free(dict);
}

/* Open a pattern table: read and compile every rule of name. */
DICT *dict_pattern_open(const char *type, const char *name, int open_flags, int dict_flags, size_t size,
                        const DICT_PATTERN_OPS *ops)
{
    DICT_PATTERN_STACK ifs = {NULL, 0, 0};
    DICT_PATTERN *dp;
    DICT *dict;
    ARGV *items = NULL;
    FILE *fp = NULL;
    VSTRING *why;
    int read_errno = 0;

    if ((dict = dict_require_rdonly(type, name, open_flags, dict_flags)) != NULL)
        return dict;
    if (*name == '{') {
        why = vstring_alloc(100);
        if ((items = dict_pattern_inline(type, name, why)) == NULL) {
            dict = dict_surrogate(type, name, open_flags, dict_flags, "%s", vstring_str(why));
            vstring_free(why);
            return dict;
        }
        vstring_free(why);
    } else if ((fp = fopen(name, "re")) == NULL) {
        return dict_surrogate(type, name, open_flags, dict_flags, "open %s: %m", name);
    }

    dp = (DICT_PATTERN *)dict_alloc(type, name, size);
    dp->dict.flags = (dict_flags & ~DICT_FLAG_FIXED) | DICT_FLAG_PATTERN;
    dp->dict.open_flags = open_flags;
    dp->dict.lookup = dict_pattern_lookup;
    dp->dict.close = dict_pattern_close;
    dp->ops = ops;
    dp->result = vstring_alloc(100);

    if (items != NULL) {
        for (size_t i = 0; i < items->argc; i++)
            dict_pattern_feed(dp, &ifs, items->argv[i], (int)i + 1);
        argv_free(items);
    } else {
        READLLINE rl = {fp, name, 0};
        VSTRING *line = vstring_alloc(100);
        int first;

        while (readlline(line, &rl, &first) != NULL)
            dict_pattern_feed(dp, &ifs, vstring_str(line), first);
        vstring_free(line);
        if (ferror(fp))
            read_errno = errno ? errno : EIO;
        (void)fclose(fp);
    }
    while (ifs.depth > 0) {
        dp->lineno = dp->rules[ifs.index[ifs.depth - 1]].lineno;
        dict_pattern_warn(dp, "IF has no matching ENDIF");
        dict_pattern_pop(dp, &ifs);
    }
    if (ifs.index)
        myfree(ifs.index);
    if (read_errno != 0) {
        dict_close(&dp->dict);
        errno = read_errno;
        return dict_surrogate(type, name, open_flags, dict_flags, "read %s: %m", name);
    }
    return &dp->dict;
}

/* Add a piece to a result being compiled. */
static void dict_pattern_subst_add(DICT_PATTERN_SUBST *subst, size_t *size, int group, size_t offset,
                                   size_t len)
{
    if (group == 0 && len == 0)
        return;
    if (subst->count == *size) {
        *size = *size ? 2 * *size : 4;
        subst->parts = myrealloc(subst->parts, *size * sizeof(*subst->parts));
    }
    subst->parts[subst->count].group = group;
    subst->parts[subst->count].offset = offset;
    subst->parts[subst->count].len = len;
    subst->count++;
    if (group)
        subst->has_groups = true;
}

/*
 * Compile a result with $n, ${n}, $(n) and $$. Returns NULL after
 * warnings on bad syntax; *max_group is the highest n used.
 */
static DICT_PATTERN_SUBST *dict_pattern_subst_parse(DICT_PATTERN *dp, const char *text,
                                                    const char *zero_index, int *max_group)
{
    DICT_PATTERN_SUBST *subst = mymalloc(sizeof(*subst));
    VSTRING *literal = vstring_alloc(strlen(text) + 1);
    VSTRING *name = vstring_alloc(10);
    const char *cp = text;
    const char *end;
    size_t start = 0;
    size_t size = 0;
    bool bad = false;
    long n;

    subst->parts = NULL;
    subst->count = 0;
    subst->has_groups = false;
    *max_group = 0;
    while (*cp) {
        if (*cp != '$') {
            vstring_addch(literal, *cp++);
            continue;
        }
        if (cp[1] == '$') {
            vstring_addch(literal, '$');
            cp += 2;
            continue;
        }
        if (cp[1] == '{' || cp[1] == '(') {
            char open = cp[1];
            char close = open == '{' ? '}' : ')';
            int level = 1;

            for (end = cp + 2; *end; end++)
                if (*end == open)
                    level++;
                else if (*end == close && --level == 0)
                    break;
            if (*end == 0) {
                msg_warn("truncated macro reference: \"%s\"", text);
                bad = true;
                break;
            }
            vstring_strncpy(name, cp + 2, (size_t)(end - cp - 2));
            cp = end + 1;
        } else {
            for (end = cp + 1; isalnum((unsigned char)*end) || *end == '_'; end++)
                /* void */;
            vstring_strncpy(name, cp + 1, (size_t)(end - cp - 1));
            cp = end;
        }
        if (VSTRING_LEN(name) == 0) {
            msg_warn("empty macro name: \"%s\"", text);
            bad = true;
            break;
        }
        if (!alldig(vstring_str(name))) {
            dict_pattern_warn(dp, "non-numeric replacement index \"%s\"", vstring_str(name));
            bad = true;
            continue;
        }
        errno = 0;
        n = strtol(vstring_str(name), NULL, 10);
        if (n > INT_MAX || errno == ERANGE)
            n = INT_MAX;
        if (n == 0) {
            dict_pattern_warn(dp, "%s replacement index \"%s\"", zero_index, vstring_str(name));
            bad = true;
            continue;
        }
        dict_pattern_subst_add(subst, &size, 0, start, VSTRING_LEN(literal) - start);
        dict_pattern_subst_add(subst, &size, (int)n, 0, 0);
        start = VSTRING_LEN(literal);
        if (n > *max_group)
            *max_group = (int)n;
    }
    dict_pattern_subst_add(subst, &size, 0, start, VSTRING_LEN(literal) - start);
    subst->literal = vstring_export(literal);
    vstring_free(name);
    if (bad) {
        dict_pattern_warn(dp, "bad replacement syntax: skipping this rule");
        return dict_pattern_subst_free(subst);
    }
    return subst;
}

/* A result without substitution: the text as it is. */
static DICT_PATTERN_SUBST *dict_pattern_subst_literal(const char *text)
{
    DICT_PATTERN_SUBST *subst = mymalloc(sizeof(*subst));

    subst->literal = mystrdup(text);
    subst->parts = NULL;
    subst->count = 0;
    subst->has_groups = false;
    return subst;
}

/* Release a compiled result; returns NULL. */
DICT_PATTERN_SUBST *dict_pattern_subst_free(DICT_PATTERN_SUBST *subst)
{
    if (subst == NULL)
        return NULL;
    myfree(subst->literal);
    if (subst->parts)
        myfree(subst->parts);
    myfree(subst);
    return NULL;
}

/* The result for the key just matched; groups that did not match add nothing. */
const char *dict_pattern_subst_expand(DICT_PATTERN *dp, const DICT_PATTERN_SUBST *subst, const char *key,
                                      DICT_PATTERN_GROUP_FN group_fn, void *context)
{
    const DICT_PATTERN_PART *part;
    size_t start;
    size_t end;

    if (!subst->has_groups)
        return subst->literal;
    vstring_reset(dp->result);
    for (part = subst->parts; part < subst->parts + subst->count; part++) {
        if (part->group == 0)
            vstring_strncat(dp->result, subst->literal + part->offset, part->len);
        else if (group_fn(context, part->group, &start, &end) && end > start)
            vstring_strncat(dp->result, key + start, end - start);
    }
    return vstring_str(dp->result);
}

/*
 * Cut "/pattern/flags" from *textp in place: the pattern between the
 * delimiters (a backslash protects the next character, the delimiter
 * included, and stays), then flag letters up to a blank (or a '!' when
 * stop_at_bang). Returns false after a warning when the rule must be
 * skipped.
 */
static bool dict_pattern_re_split(DICT_PATTERN *dp, char **textp, const DICT_PATTERN_RE_SYNTAX *syntax,
                                  bool stop_at_bang, char **pattern, uint32_t *options)
{
    const DICT_PATTERN_RE_FLAG *flag;
    char *cp = *textp;
    char delim;

    if (*cp == 0) {
        dict_pattern_warn(dp, "no regexp: skipping this rule");
        return false;
    }
    delim = *cp++;
    while (*cp) {
        if (*cp == '\\' && cp[1] != 0)
            cp += 2;
        else if (*cp == delim)
            break;
        else
            cp++;
    }
    if (*cp == 0) {
        dict_pattern_warn(dp, "no closing regexp delimiter \"%c\": %s this rule", delim,
                          syntax->unclosed_verb);
        return false;
    }
    *cp++ = 0;
    *pattern = *textp + 1;

    /* Each flag letter toggles its option. */
    *options = syntax->default_options;
    for (; *cp && strchr(CHARS_SPACE, *cp) == NULL && !(stop_at_bang && *cp == '!'); cp++) {
        for (flag = syntax->flags; flag->letter && flag->letter != *cp; flag++)
            /* void */;
        if (flag->letter == 0) {
            dict_pattern_warn(dp, "unknown regexp option \"%c\": skipping this rule", *cp);
            return false;
        }
        if (flag->option == 0)
            dict_pattern_warn(dp, "ignoring obsolete regexp option \"%c\"", *cp);
        *options ^= flag->option;
    }
    *textp = cp;
    return true;
}

/*
 * Split a regexp/pcre rule "/pattern/flags result" (or an IF condition)
 * in place. Returns false after a warning when the rule must be skipped.
 */
bool dict_pattern_re_parse(DICT_PATTERN *dp, int op, bool negate, char *text,
                           const DICT_PATTERN_RE_SYNTAX *syntax, DICT_PATTERN_RE *re)
{
    char *cp = text;

    re->pattern = NULL;
    re->pattern2 = NULL;
    re->subst = NULL;
    re->max_group = 0;
    if (!dict_pattern_re_split(dp, &cp, syntax, syntax->and_not, &re->pattern, &re->options))
        return false;
    if (op == DICT_PATTERN_OP_MATCH && syntax->and_not && *cp == '!') {
        cp++;
        cp += strspn(cp, CHARS_SPACE);
        if (!dict_pattern_re_split(dp, &cp, syntax, true, &re->pattern2, &re->options2))
            return false;
    }
    cp += strspn(cp, CHARS_SPACE);

    if (op == DICT_PATTERN_OP_IF) {
        if (*cp) {
            dict_pattern_warn(dp, "ignoring extra text after IF statement: \"%s\"", cp);
            dict_pattern_warn(dp, "do not prepend whitespace to statements between IF and ENDIF");
        }
        return true;
    }
    if (*cp == 0)
        dict_pattern_warn(dp, "no replacement text: using empty string");
    if (dp->dict.flags & DICT_FLAG_NO_REGSUB) {
        re->subst = dict_pattern_subst_literal(cp);
        return true;
    }
    if ((re->subst = dict_pattern_subst_parse(dp, cp, syntax->zero_index, &re->max_group)) == NULL)
        return false;
    if (negate && re->max_group > 0) {
        dict_pattern_warn(dp, "$number found in negative match replacement text: skipping this rule");
        re->subst = dict_pattern_subst_free(re->subst);
        return false;
    }
    return true;
}

/* After compiling: every $n of the result must name a group of the pattern. */
bool dict_pattern_re_check(DICT_PATTERN *dp, const DICT_PATTERN_RE *re, size_t groups)
{
    if ((size_t)re->max_group > groups) {
        dict_pattern_warn(dp, "out of range replacement index \"%d\": skipping this rule", re->max_group);
        return false;
    }
    return true;
}
