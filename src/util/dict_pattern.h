/*
 * dict_pattern - the rule-file machinery shared by the pattern tables
 * (regexp, pcre, cidr).
 *
 * A pattern table is a list of rules read once, at open, from a file or
 * from the inline form "{ {rule}, {rule} }" (one braced element per rule
 * line; diagnostics then name the whole text as the file). This module
 * reads the logical lines, recognises "if" / "endif" (any case; nested),
 * negation ("!", repeatable, blanks allowed after it), keeps the IF
 * nesting and walks the rules at lookup time: the first rule whose
 * (possibly negated) condition holds inside satisfied IF blocks wins.
 * A backend supplies DICT_PATTERN_OPS: parse one condition, match it
 * against a key, produce a rule's result. The backend's structure
 * starts with DICT_PATTERN (which starts with DICT); its own fields are
 * zero when parsing starts.
 *
 * Public functions:
 *   dict_pattern_open(type, name, open_flags, dict_flags, size, ops)
 *       read and compile the whole table into a structure of size bytes.
 *   dict_pattern_warn(dp, fmt, ...)
 *       "TYPE map NAME, line N: TEXT" for the line being parsed or the
 *       rule being matched.
 *   dict_pattern_re_parse(dp, op, negate, text, syntax, re)
 *       split "/pattern/flags result" for regexp and pcre (and regexp's
 *       old "/pattern/flags!/pattern2/flags result"), check the flags
 *       and the $n substitutions of the result (none with
 *       DICT_FLAG_NO_REGSUB: the result is then literal).
 *   dict_pattern_re_check(dp, re, groups)
 *       after compiling: reject $n beyond the pattern's groups.
 *   dict_pattern_subst_expand(dp, subst, key, group_fn, context)
 *       a regexp/pcre rule's result for the key just matched.
 *   dict_pattern_subst_free(subst)
 *
 * Errors: a file that cannot be opened or a malformed inline form gives
 * a surrogate (dict.h); a bad rule is skipped with a warning and the
 * table opens without it. A match error (DICT_PATTERN_FAILED) fails the
 * lookup with DICT_ERR_RETRY.
 */
#ifndef DICT_PATTERN_H
#define DICT_PATTERN_H

#include "dict.h"

/* What a rule line is. */
#define DICT_PATTERN_OP_MATCH 1 /* pattern result */
#define DICT_PATTERN_OP_IF    2 /* if pattern */

/* What ops->match() says. */
#define DICT_PATTERN_FAILED  (-1) /* error, already logged: the lookup fails */
#define DICT_PATTERN_NOMATCH 0
#define DICT_PATTERN_MATCHED 1
#define DICT_PATTERN_VETO    2 /* the rule does not hold, negated or not */

/* How if/endif and bad lines are reported (the texts differ per type). */
#define DICT_PATTERN_SYNTAX_REGEX 1 /* regexp and pcre */
#define DICT_PATTERN_SYNTAX_CIDR  2 /* cidr */

typedef struct DICT_PATTERN DICT_PATTERN;

typedef struct DICT_PATTERN_OPS {
    int syntax; /* DICT_PATTERN_SYNTAX_* */
    /* Compile a condition (text after "if" and "!"); NULL skips the line. */
    void *(*parse)(DICT_PATTERN *dp, int op, bool negate, char *text);
    /* Once per lookup, before matching; false means "not found". NULL: none. */
    bool (*prepare)(DICT_PATTERN *dp, const char *key);
    /* Whether key matches the rule's pattern: DICT_PATTERN_MATCHED etc. */
    int (*match)(DICT_PATTERN *dp, void *rule, const char *key);
    /* The result of a MATCH rule whose condition held. */
    const char *(*result)(DICT_PATTERN *dp, void *rule, const char *key);
    void (*free_rule)(void *rule);
    /* Release the backend's own resources. NULL: none. */
    void (*close)(DICT_PATTERN *dp);
} DICT_PATTERN_OPS;

typedef struct DICT_PATTERN_RULE DICT_PATTERN_RULE;

struct DICT_PATTERN {
    DICT dict;
    const DICT_PATTERN_OPS *ops;
    DICT_PATTERN_RULE *rules;
    size_t rule_count;
    size_t rule_size;
    int lineno;      /* line parsed or rule matched, for warnings */
    VSTRING *result; /* lookup result storage for backends */
};

extern DICT *dict_pattern_open(const char *type, const char *name, int open_flags, int dict_flags,
                               size_t size, const DICT_PATTERN_OPS *ops);
extern void dict_pattern_warn(DICT_PATTERN *dp, const char *fmt, ...) PRINTFLIKE(2, 3);

/* regexp and pcre: one flag letter and the compile option it toggles (0: obsolete, ignored). */
typedef struct DICT_PATTERN_RE_FLAG {
    char letter;
    uint32_t option;
} DICT_PATTERN_RE_FLAG;

/* The details in which regexp and pcre rules differ. */
typedef struct DICT_PATTERN_RE_SYNTAX {
    const DICT_PATTERN_RE_FLAG *flags; /* terminated by letter 0 */
    uint32_t default_options;          /* options before the flags toggle them */
    const char *unclosed_verb;         /* "skipping" or "ignoring" (this rule) */
    const char *zero_index;            /* "out-of-range" or "out of range" ($0) */
    bool and_not;                      /* "/pattern/!/pattern2/ result" is allowed */
} DICT_PATTERN_RE_SYNTAX;

typedef struct DICT_PATTERN_SUBST DICT_PATTERN_SUBST;

/* One regexp/pcre rule, split. */
typedef struct DICT_PATTERN_RE {
    char *pattern;    /* between the delimiters, escapes kept */
    uint32_t options; /* default_options toggled by the flags */
    char *pattern2;   /* "/pattern/!/pattern2/": must not match; or NULL */
    uint32_t options2;
    DICT_PATTERN_SUBST *subst; /* MATCH: the compiled result, else NULL */
    int max_group;             /* highest $n used by the result, 0 if none */
} DICT_PATTERN_RE;

/* Where group n of the last match lies; false when it did not take part. */
typedef bool (*DICT_PATTERN_GROUP_FN)(void *context, int n, size_t *start, size_t *end);

extern bool dict_pattern_re_parse(DICT_PATTERN *dp, int op, bool negate, char *text,
                                  const DICT_PATTERN_RE_SYNTAX *syntax, DICT_PATTERN_RE *re);
extern bool dict_pattern_re_check(DICT_PATTERN *dp, const DICT_PATTERN_RE *re, size_t groups);
extern const char *dict_pattern_subst_expand(DICT_PATTERN *dp, const DICT_PATTERN_SUBST *subst,
                                             const char *key, DICT_PATTERN_GROUP_FN group_fn, void *context);
extern DICT_PATTERN_SUBST *dict_pattern_subst_free(DICT_PATTERN_SUBST *subst);

#endif
